/*
 * sio.c -- Socket.IO v5 packets on an Engine.IO session.
 *
 * A socket is created with its session; it becomes a user's socket when its
 * CONNECT carries a token the API accepts (the auth payload's token, else
 * the handshake's ?token= or Authorization header).  Its events go to the
 * seeds' handlers, which answer with events and acknowledgements.
 *
 * Every event pushed from the events table carries its seq as a trailing
 * string argument, and the CONNECT answer a pid: Socket.IO's connection
 * state recovery, so that socket.io-client sends {pid, offset} with its
 * next CONNECT and gets what it missed, here from the database.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc.h"
#include "client.h"
#include "config.h"
#include "eio.h"
#include "http.h"
#include "log.h"
#include "notifier.h"
#include "poller.h"
#include "presence.h"
#include "reply.h"
#include "rooms.h"
#include "sio.h"

/* A JWT is a few hundred bytes; longer tokens are refused. */
#define TOKEN_MAX	4096

static const struct sio_handler *const handler_lists[] = {
	seed000_handlers,
	seed002_handlers,
};

/* The token of an "Authorization: Bearer <token>" header, or NULL. */
static char *
bearer(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	if (*h == '\0' || strlen(h) >= TOKEN_MAX)
		return NULL;
	return xstrdup(h);
}

/*
 * Whether events may carry their seq as a trailing argument.  Only
 * socket.io-client reads it (as the recovery offset); python-socketio
 * would pass it to the handler, and a seed client's one-argument handler
 * would fail, so its sockets get events as the seed sent them and resume
 * with an explicit last_event_id.  python-engineio is told by its
 * cache-busting parameter (time.time(): a dot, which engine.io-client's
 * never has) or its User-Agent; ?offsets=0 or 1 decides for any client.
 */
static int
sio_wants_offsets(const struct http_req *r)
{
	char	 v[32];

	if (http_query_get(r->query, "offsets", v, sizeof(v)) == 0)
		return strcmp(v, "0") != 0;
	if (http_query_get(r->query, "t", v, sizeof(v)) == 0 &&
	    strchr(v, '.') != NULL)
		return 0;
	if (r->user_agent != NULL && (strncasecmp(r->user_agent, "python", 6) ==
	    0 || strstr(r->user_agent, "socketio") != NULL))
		return 0;
	return 1;
}

struct client *
sio_open(struct eio *e, const struct http_req *r, const char *addr)
{
	struct client	*c;
	char		 v[TOKEN_MAX];

	c = client_new(CLIENT_SIO, addr);
	c->eio = e;
	if (http_query_get(r->query, "token", v, sizeof(v)) == 0 &&
	    v[0] != '\0')
		c->token = xstrdup(v);
	else
		c->token = bearer(r->authorization);
	if (r->device_id != NULL && strlen(r->device_id) <= 64)
		c->device_id = xstrdup(r->device_id);
	if (http_query_get(r->query, "last_event_id", v, 24) == 0)
		c->resume_after = strtoull(v, NULL, 10);
	c->no_offsets = !sio_wants_offsets(r);
	client_start_timer(c);
	return c;
}

void
sio_closed(struct client *c)
{
	c->eio = NULL;
	client_transport_gone(c);
}

char *
sio_event_packet(const char *event, const char *json, size_t jlen,
    uint64_t seq, size_t *len)
{
	struct buf	 b = { NULL, 0, 0 };

	/* Event names are the notifier's own: no escaping needed. */
	buf_printf(&b, "42[\"%s\"", event);
	if (json != NULL) {
		buf_append(&b, ",", 1);
		buf_append(&b, json, jlen);
	}
	if (seq != 0)
		buf_printf(&b, ",\"%llu\"", (unsigned long long)seq);
	buf_append(&b, "]", 1);
	*len = b.len;
	return b.data;
}

void
sio_emit(struct client *c, const char *event, const char *json)
{
	char	*p;
	size_t	 len;

	p = sio_event_packet(event, json, json != NULL ? strlen(json) : 0, 0,
	    &len);
	client_send(c, p, len);
	free(p);
}

void
sio_error(struct client *c, const char *message)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "message", json_object_new_string(message));
	sio_emit(c, "error", json_text(o));
	json_object_put(o);
}

void
sio_ack(struct client *c, int64_t id, const char *json)
{
	struct buf	 b = { NULL, 0, 0 };

	if (id < 0)
		return;
	buf_printf(&b, "43%lld[%s]", (long long)id, json);
	client_send(c, b.data, b.len);
	buf_free(&b);
}

void
sio_disconnect(struct client *c)
{
	client_send(c, "41", 2);
}

void
sio_replay(void *arg, const struct event_row *row)
{
	struct client	*c = arg;
	char		*p;
	size_t		 len;

	if (c->state == CLIENT_DEAD)
		return;
	p = sio_event_packet(row->event, row->payload, row->payload_len,
	    c->no_offsets ? 0 : row->seq, &len);
	client_send(c, p, len);
	free(p);
}

/* 44{"message", "data": {"error"}}: the client reports connect_error. */
static void
sio_connect_error(struct client *c, const char *message, const char *code)
{
	struct json_object	*o = json_object_new_object(), *d;
	struct buf		 b = { NULL, 0, 0 };

	json_object_object_add(o, "message", json_object_new_string(message));
	if (code != NULL) {
		d = json_object_new_object();
		json_object_object_add(d, "error",
		    json_object_new_string(code));
		json_object_object_add(o, "data", d);
	}
	buf_printf(&b, "44%s", json_text(o));
	client_send(c, b.data, b.len);
	buf_free(&b);
	json_object_put(o);
}

/*
 * Rooms of a previous socket, from its presence row: a JSON array of
 * names, a private chat's written "conversation:<id>@<other user>".
 * Returns how many, or -1 when the row is gone (or never was).
 */
static long
sio_recall(struct client *c, char ***names, int64_t **tags)
{
	struct json_object	*a, *v;
	const char		*s, *at;
	char			*rooms;
	size_t			 i, n, k = 0;

	*names = NULL;
	*tags = NULL;
	if (c->resume_pid == NULL || (rooms = presence_recall(
	    notifier.presence, c->resume_pid, c->user_id)) == NULL)
		return -1;
	a = json_tokener_parse(rooms);
	free(rooms);
	if (a == NULL || !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		return -1;
	}
	n = json_object_array_length(a);
	*names = xcalloc(n + 1, sizeof(**names));
	*tags = xcalloc(n + 1, sizeof(**tags));
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string))
			continue;
		s = json_object_get_string(v);
		if (strncmp(s, "user:", 5) == 0)
			continue;
		if ((at = strchr(s, '@')) != NULL) {
			(*names)[k] = xstrndup(s, (size_t)(at - s));
			(*tags)[k] = strtoll(at + 1, NULL, 10);
		} else
			(*names)[k] = xstrdup(s);
		k++;
	}
	json_object_put(a);
	return (long)k;
}

/* Collects the replayed events, to send them after the CONNECT answer. */
struct replay {
	struct buf	 pkts;		/* packets, each after its length */
	size_t		 n;
	int		 offsets;	/* with the trailing seq */
	int		 overflow;	/* more than a socket may have queued */
};

static void
sio_collect(void *arg, const struct event_row *row)
{
	struct replay	*rp = arg;
	char		*p;
	size_t		 len;

	/* More missed than a socket may have waiting: the client reloads
	 * over REST instead. */
	if (rp->overflow || rp->pkts.len >
	    (size_t)notifier.cf->notifier_max_queued_bytes) {
		rp->overflow = 1;
		return;
	}
	p = sio_event_packet(row->event, row->payload, row->payload_len,
	    rp->offsets ? row->seq : 0, &len);
	buf_append(&rp->pkts, &len, sizeof(len));
	buf_append(&rp->pkts, p, len);
	free(p);
	rp->n++;
}

static void
sio_verified(struct client *c, const char *err, const char *code)
{
	struct replay	 rp;
	char		**names = NULL;
	int64_t		 *tags = NULL;
	const char	**rooms;
	char		  userroom[32], ack[96];
	size_t		  n = 0, i, off, len;
	long		  got = -1, k = -1;
	int		  recovered = 0;

	if (err != NULL) {
		sio_connect_error(c, err, code);
		return;
	}
	memset(&rp, 0, sizeof(rp));
	rp.offsets = !c->no_offsets;
	if (c->resume_after > 0 || c->resume_pid != NULL) {
		k = sio_recall(c, &names, &tags);
		n = k > 0 ? (size_t)k : 0;
		rooms = xcalloc(n + 1, sizeof(*rooms));
		snprintf(userroom, sizeof(userroom), "user:%lld",
		    (long long)c->user_id);
		rooms[0] = userroom;
		for (i = 0; i < n; i++)
			rooms[i + 1] = names[i];
		if (c->resume_after > 0)
			got = poller_replay(notifier.poller, c->resume_after,
			    rooms, n + 1, sio_collect, &rp);
		free(rooms);
		if (rp.overflow) {
			got = -1;
			buf_free(&rp.pkts);
		}
		/* The pid is honoured when its rooms and the missed events
		 * could both be had. */
		recovered = c->resume_pid != NULL && k >= 0 && got >= 0;
	}
	client_ready(c, recovered ? c->resume_pid : NULL);
	if (c->state != CLIENT_READY)
		goto out;
	for (i = 0; recovered && i < n; i++)
		rooms_join(c, names[i], tags[i]);
	if (recovered && n > 0)
		client_save_rooms(c);
	snprintf(ack, sizeof(ack), "40{\"sid\":\"%s\",\"pid\":\"%s\"}",
	    c->sid, c->pid);
	if (client_send(c, ack, strlen(ack)) == -1)
		goto out;
	seed002_connected(c);
	if (c->resume_after > 0 && got < 0)
		sio_error(c, "The events after last_event_id are no longer "
		    "available");
	for (off = 0; off < rp.pkts.len && c->state == CLIENT_READY;
	    off += len) {
		memcpy(&len, rp.pkts.data + off, sizeof(len));
		off += sizeof(len);
		client_send(c, rp.pkts.data + off, len);
	}
	log_debug("sio %s: user %lld connected%s (%ld replayed)", c->sid,
	    (long long)c->user_id, recovered ? ", recovered" : "", got);
 out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tags);
	buf_free(&rp.pkts);
}

/* CONNECT: "0", "0{auth}", or "0/nsp,{auth}" (refused: one namespace). */
static void
sio_connect(struct client *c, const char *p, size_t len)
{
	struct json_object	*auth = NULL, *v;
	const char		*s;
	char			*text;

	if (len > 0 && p[0] == '/' && !(len == 1 || p[1] == ',')) {
		sio_connect_error(c, "Invalid namespace", "invalid_namespace");
		return;
	}
	if (len > 0 && p[0] == '/') {
		p += len > 1 ? 2 : 1;
		len -= len > 1 ? 2 : 1;
	}
	if (c->state != CLIENT_NEW)
		return;		/* one CONNECT per socket */
	if (len > 0) {
		text = xstrndup(p, len);
		auth = json_tokener_parse(text);
		free(text);
		if (auth == NULL || !json_object_is_type(auth,
		    json_type_object)) {
			json_object_put(auth);
			sio_connect_error(c, "Invalid auth payload",
			    "bad_request");
			return;
		}
		if (json_object_object_get_ex(auth, "token", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    (s = json_object_get_string(v))[0] != '\0' &&
		    strlen(s) < TOKEN_MAX) {
			free(c->token);
			c->token = xstrdup(s);
		}
		if (json_object_object_get_ex(auth, "pid", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    strlen(json_object_get_string(v)) < sizeof(c->pid)) {
			free(c->resume_pid);
			c->resume_pid = xstrdup(json_object_get_string(v));
		}
		if (json_object_object_get_ex(auth, "offset", &v) ||
		    json_object_object_get_ex(auth, "last_event_id", &v)) {
			if (json_object_is_type(v, json_type_int) &&
			    json_object_get_int64(v) > 0)
				c->resume_after =
				    (uint64_t)json_object_get_int64(v);
			else if (json_object_is_type(v, json_type_string) &&
			    isdigit((unsigned char)*json_object_get_string(v)))
				c->resume_after = strtoull(
				    json_object_get_string(v), NULL, 10);
		}
		if (json_object_object_get_ex(auth, "device_id", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    strlen(json_object_get_string(v)) <= 64) {
			free(c->device_id);
			c->device_id = xstrdup(json_object_get_string(v));
		}
		json_object_put(auth);
	}
	if (c->token == NULL) {
		sio_connect_error(c, "Missing token", "token_missing");
		return;
	}
	client_verify(c, sio_verified);
}

static const struct sio_handler *
sio_handler_find(const char *name)
{
	const struct sio_handler	*h;
	size_t				 i;

	for (i = 0; i < nitems(handler_lists); i++)
		for (h = handler_lists[i]; h->name != NULL; h++)
			if (strcmp(h->name, name) == 0)
				return h;
	return NULL;
}

/* EVENT: "2[...]" or "2<ack id>[...]". */
static void
sio_event(struct client *c, const char *p, size_t len)
{
	const struct sio_handler	*h;
	struct json_object		*a = NULL, *name;
	struct buf			 b = { NULL, 0, 0 };
	int64_t				 ack = -1;
	char				*text;
	size_t				 i;

	if (len > 0 && p[0] == '/') {
		sio_error(c, "Unknown namespace");
		return;
	}
	for (i = 0; i < len && isdigit((unsigned char)p[i]); i++) {
		if (i >= 15) {
			sio_error(c, "Malformed packet");
			return;
		}
		ack = (ack < 0 ? 0 : ack * 10) + (p[i] - '0');
	}
	if (c->state != CLIENT_READY) {
		sio_error(c, "Not authenticated");
		return;
	}
	switch (client_rate(c)) {
	case -1:
		sio_ack(c, ack, "{\"error\":\"Rate limit exceeded\"}");
		/* FALLTHROUGH */
	case -2:
		return;
	}
	text = xstrndup(p + i, len - i);
	a = json_tokener_parse(text);
	free(text);
	if (a == NULL || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) == 0 ||
	    !json_object_is_type(name = json_object_array_get_idx(a, 0),
	    json_type_string)) {
		sio_error(c, "Malformed packet");
		goto out;
	}
	if ((h = sio_handler_find(json_object_get_string(name))) == NULL) {
		buf_printf(&b, "Unknown event: %.64s",
		    json_object_get_string(name));
		sio_error(c, b.data);
		sio_ack(c, ack, "{\"error\":\"Unknown event\"}");
		goto out;
	}
	h->fn(c, json_object_array_length(a) > 1 ?
	    json_object_array_get_idx(a, 1) : NULL, ack);
 out:
	buf_free(&b);
	json_object_put(a);
}

void
sio_packet(struct client *c, const char *p, size_t len)
{
	if (c == NULL || c->state == CLIENT_DEAD)
		return;
	if (len == 0) {
		client_close(c, END_QUIET);
		return;
	}
	switch (p[0]) {
	case '0':
		sio_connect(c, p + 1, len - 1);
		break;
	case '1':		/* the client leaves */
		client_close(c, END_QUIET);
		break;
	case '2':
		sio_event(c, p + 1, len - 1);
		break;
	case '3':		/* an answer to a server ack: none are asked */
		break;
	case '5':
	case '6':
		sio_error(c, "Binary packets are not accepted");
		client_close(c, END_DISCONNECT);
		break;
	default:
		log_debug("sio: malformed packet, closing");
		client_close(c, END_QUIET);
		break;
	}
}
