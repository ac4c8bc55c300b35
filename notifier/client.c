/*
 * client.c -- the life of one user's socket, for every protocol: the token
 * check through the API, the user's room and presence row, the calls it
 * makes to the API, its rate limit, its send cap, revocation and the end.
 *
 * A client that ends is taken off every room and list at once, and freed
 * once the loop is back at the top, so a callback that ends it (a
 * broadcast, an event handler) never touches freed memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <sodium.h>

#include "alloc.h"
#include "bridge.h"
#include "client.h"
#include "config.h"
#include "eio.h"
#include "http.h"
#include "log.h"
#include "notifier.h"
#include "presence.h"
#include "reply.h"
#include "rooms.h"
#include "sio.h"
#include "ws.h"

/* An API call under way for a client. */
struct call {
	struct call		*next;
	struct client		*c;
	struct bridge_call	*bc;
	client_reply_fn		 fn;
	int64_t			 ack;
	int64_t			 arg;
};

static LIST_HEAD(, client)	 clients = LIST_HEAD_INITIALIZER(clients);

struct client *
client_new(enum client_kind kind, const char *addr)
{
	struct client	*c;

	c = xcalloc(1, sizeof(*c));
	LIST_INSERT_HEAD(&clients, c, entry);
	LIST_INIT(&c->rooms);
	c->kind = kind;
	c->state = CLIENT_NEW;
	snprintf(c->addr, sizeof(c->addr), "%s", addr != NULL ? addr : "");
	random_hex(c->sid, 10);
	c->tokens = notifier.cf->notifier_rate_burst;
	c->tokens_ms = clock_ms();
	return c;
}

static void
client_free(void *arg)
{
	struct client	*c = arg;

	free(c->username);
	free(c->email);
	free(c->path_email);
	if (c->token != NULL) {
		sodium_memzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->device_id);
	free(c->resume_pid);
	free(c);
}

void
client_close(struct client *c, enum client_end how)
{
	struct call	*k;
	int		 ready = c->state == CLIENT_READY;

	if (c->state == CLIENT_DEAD)
		return;
	c->state = CLIENT_DEAD;
	LIST_REMOVE(c, entry);
	while ((k = c->calls) != NULL) {
		c->calls = k->next;
		bridge_cancel(k->bc);
		free(k);
	}
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
	rooms_leave_all(c);
	if (ready) {
		notifier.nclients--;
		if (presence_remove(notifier.presence, c->pid) == -1)
			log_warn("presence: socket %s not removed", c->pid);
	}
	if (c->eio != NULL) {
		if (how == END_DISCONNECT)
			eio_send(c->eio, "41", 2);
		eio_close(c->eio);
		c->eio = NULL;
	}
	if (c->ws != NULL) {
		if (how == END_DISCONNECT)
			ws_close(c->ws, 1008, "policy violation");
		else if (how == END_GOING_AWAY)
			ws_close(c->ws, 1001, "going away");
		else
			ws_drop(c->ws);
		c->ws = NULL;
	}
	if (c->hc != NULL) {
		http_reply(c->hc, 408, "application/json",
		    "{\"status_code\":408,\"message\":\"Timed out\"}", 41);
		c->hc = NULL;
	}
	reap_later(client_free, c);
}

void
client_transport_gone(struct client *c)
{
	c->eio = NULL;
	c->ws = NULL;
	client_close(c, END_QUIET);
}

int
client_send(struct client *c, const char *data, size_t len)
{
	int	 rc = -1;

	if (c->state == CLIENT_DEAD)
		return -1;
	if (c->kind == CLIENT_SIO && c->eio != NULL)
		rc = eio_send(c->eio, data, len);
	else if (c->kind == CLIENT_WS003 && c->ws != NULL)
		rc = ws_send(c->ws, data, len);
	if (rc == -1) {
		log_info("socket %s of user %lld: more than %ld bytes waiting, "
		    "dropped", c->sid, (long long)c->user_id,
		    notifier.cf->notifier_max_queued_bytes);
		if (c->kind == CLIENT_WS003 && c->ws != NULL) {
			ws_drop(c->ws);
			c->ws = NULL;
		}
		client_close(c, END_QUIET);
	}
	return rc;
}

void
client_error(struct client *c, int status, const char *message)
{
	struct json_object	*o;
	const char		*s;

	if (c->kind == CLIENT_SIO) {
		sio_error(c, message);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status_code", json_object_new_int(status));
	json_object_object_add(o, "message", json_object_new_string(message));
	s = json_text(o);
	client_send(c, s, strlen(s));
	json_object_put(o);
}

static void
client_call_done(void *arg, const struct bridge_reply *r)
{
	struct call	*k = arg, **p;
	struct client	*c = k->c;

	for (p = &c->calls; *p != NULL; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	k->fn(c, r, k->ack, k->arg);
	free(k);
}

void
client_call(struct client *c, const char *method, const char *path,
    const char *body, size_t len, client_reply_fn fn, int64_t ack,
    int64_t arg)
{
	struct bridge_req	 req;
	struct call		*k;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.token = c->token;
	req.client_addr = c->addr[0] != '\0' ? c->addr : NULL;
	req.device_id = c->device_id;
	req.body = body;
	req.body_len = len;
	k = xcalloc(1, sizeof(*k));
	k->c = c;
	k->fn = fn;
	k->ack = ack;
	k->arg = arg;
	if ((k->bc = bridge_call(notifier.bridge, &req, client_call_done,
	    k)) == NULL) {
		log_error("bridge_call: out of memory");
		abort();
	}
	k->next = c->calls;
	c->calls = k;
}

const char *
client_reply_message(const struct bridge_reply *r, struct json_object **h,
    const char *fallback)
{
	struct json_object	*m;

	*h = NULL;
	if (r->status == 0 || r->status >= 500)
		return fallback;
	if ((*h = json_tokener_parse(r->body)) != NULL &&
	    json_object_is_type(*h, json_type_object) &&
	    json_object_object_get_ex(*h, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		return json_object_get_string(m);
	return fallback;
}

/* The jti claim of a token the API has just accepted. */
static void
client_jti(struct client *c)
{
	struct json_object	*o, *v;
	const char		*p, *q;
	unsigned char		 bin[2048];
	size_t			 len;

	c->jti[0] = '\0';
	if ((p = strchr(c->token, '.')) == NULL ||
	    (q = strchr(p + 1, '.')) == NULL)
		return;
	if (sodium_base642bin(bin, sizeof(bin) - 1, p + 1, (size_t)(q - p - 1),
	    NULL, &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return;
	bin[len] = '\0';
	if ((o = json_tokener_parse((char *)bin)) == NULL)
		return;
	if (json_object_object_get_ex(o, "jti", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(c->jti, sizeof(c->jti), "%s",
		    json_object_get_string(v));
	json_object_put(o);
}

static void
client_verify_done(struct client *c, const struct bridge_reply *r,
    int64_t ack, int64_t arg)
{
	struct json_object	*o = NULL, *u, *v, *h = NULL;
	const char		*msg, *code = "unauthorized";
	char			 room[32];

	if (r->status != 200) {
		c->state = CLIENT_NEW;
		if (r->status == 0 || r->status >= 500) {
			msg = "Authentication service unavailable";
			code = "unavailable";
		} else
			msg = client_reply_message(r, &h, "Token is invalid.");
		c->verified(c, msg, code);
		json_object_put(h);
		return;
	}
	/* {"user": {"id", "username", "email", ...}} */
	if ((o = json_tokener_parse(r->body)) == NULL ||
	    !json_object_object_get_ex(o, "user", &u) ||
	    !json_object_object_get_ex(u, "id", &v) ||
	    (c->user_id = json_object_get_int64(v)) <= 0) {
		c->state = CLIENT_NEW;
		c->verified(c, "Authentication service unavailable",
		    "unavailable");
		goto out;
	}
	if (json_object_object_get_ex(u, "username", &v) &&
	    json_object_is_type(v, json_type_string))
		c->username = xstrdup(json_object_get_string(v));
	if (json_object_object_get_ex(u, "email", &v) &&
	    json_object_is_type(v, json_type_string))
		c->email = xstrdup(json_object_get_string(v));
	if (c->username == NULL)
		c->username = xstrdup(c->email != NULL ? c->email : "");
	client_jti(c);
	snprintf(room, sizeof(room), "user:%lld", (long long)c->user_id);
	if (rooms_size(room) >=
	    (size_t)notifier.cf->notifier_max_sockets_per_user) {
		c->state = CLIENT_NEW;
		c->verified(c, "Too many open sockets for this user",
		    "too_many_sockets");
		goto out;
	}
	c->verified(c, NULL, NULL);
 out:
	json_object_put(o);
}

void
client_verify(struct client *c, client_verified_fn done)
{
	c->state = CLIENT_VERIFYING;
	c->verified = done;
	client_call(c, "GET", "/api/users/me", NULL, 0, client_verify_done,
	    -1, 0);
}

void
client_ready(struct client *c, const char *pid)
{
	char	 room[32];

	if (pid != NULL)
		snprintf(c->pid, sizeof(c->pid), "%s", pid);
	else
		random_hex(c->pid, 10);
	c->state = CLIENT_READY;
	notifier.nclients++;
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
	snprintf(room, sizeof(room), "user:%lld", (long long)c->user_id);
	rooms_join(c, room, 0);
	if (presence_add(notifier.presence, c->pid, c->user_id,
	    c->username) == -1)
		log_warn("presence: socket %s of user %lld not recorded",
		    c->pid, (long long)c->user_id);
}

int
client_rate(struct client *c)
{
	const struct config	*cf = notifier.cf;
	long long		 now = clock_ms();

	c->tokens += (double)(now - c->tokens_ms) * cf->notifier_rate_limit /
	    1000.0;
	if (c->tokens > cf->notifier_rate_burst)
		c->tokens = cf->notifier_rate_burst;
	c->tokens_ms = now;
	if (c->tokens >= 1) {
		c->tokens -= 1;
		c->warned = 0;
		return 0;
	}
	c->tokens -= 1;
	if (c->tokens < -cf->notifier_rate_burst) {
		log_info("socket %s of user %lld: rate limit abused, "
		    "disconnected", c->sid, (long long)c->user_id);
		client_error(c, 429, "Rate limit exceeded: disconnected");
		client_close(c, END_DISCONNECT);
		return -2;
	}
	if (!c->warned) {
		c->warned = 1;
		client_error(c, 429, "Rate limit exceeded");
	}
	return -1;
}

static void
client_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;

	if (c->state != CLIENT_READY) {
		log_debug("socket %s: not authenticated in time", c->sid);
		client_close(c, END_QUIET);
	}
}

void
client_start_timer(struct client *c)
{
	struct timeval	 tv;

	tv.tv_sec = notifier.cf->notifier_connect_timeout_ms / 1000;
	tv.tv_usec = (notifier.cf->notifier_connect_timeout_ms % 1000) * 1000;
	if ((c->timer = evtimer_new(notifier.base, client_timeout, c)) == NULL)
		abort();
	evtimer_add(c->timer, &tv);
}

void
client_save_rooms(struct client *c)
{
	struct json_object	*a = json_object_new_array();
	struct member		*m;
	char			 b[160];

	if (c->state != CLIENT_READY)
		return;
	LIST_FOREACH(m, &c->rooms, centry) {
		if (strncmp(m->room->name, "user:", 5) == 0)
			continue;
		if (m->tag != 0)
			snprintf(b, sizeof(b), "%s@%lld", m->room->name,
			    (long long)m->tag);
		else
			snprintf(b, sizeof(b), "%s", m->room->name);
		json_object_array_add(a, json_object_new_string(b));
	}
	if (presence_rooms(notifier.presence, c->pid,
	    json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN)) == -1)
		log_warn("presence: rooms of socket %s not saved", c->pid);
	json_object_put(a);
}

void
client_revoked(struct client *c, const char *event,
    struct json_object *payload)
{
	struct json_object	*v;
	int			 end = 0;

	if (c->state != CLIENT_READY)
		return;
	if (strcmp(event, "user_deleted") == 0)
		end = 1;
	else if (payload != NULL) {
		if (json_object_object_get_ex(payload, "all", &v) &&
		    json_object_get_boolean(v)) {
			end = 1;
			if (json_object_object_get_ex(payload, "except", &v) &&
			    json_object_is_type(v, json_type_string) &&
			    strcmp(json_object_get_string(v), c->jti) == 0)
				end = 0;
		} else if (json_object_object_get_ex(payload, "jti", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), c->jti) == 0)
			end = 1;
	}
	if (!end)
		return;
	log_info("socket %s of user %lld: session revoked, closing", c->sid,
	    (long long)c->user_id);
	client_error(c, 401, "Token has been revoked");
	client_close(c, END_DISCONNECT);
}

/*
 * After a stall long enough for other notifiers to take this one for dead
 * (presence_beat() found its rows deleted), write every open socket's
 * presence row and rooms again, so get_online_users and recovery see them.
 */
void
client_presence_restore(void)
{
	struct client	*c;
	size_t		 n = 0;

	LIST_FOREACH(c, &clients, entry) {
		if (c->state != CLIENT_READY)
			continue;
		if (presence_add(notifier.presence, c->pid, c->user_id,
		    c->username) == -1)
			break;
		client_save_rooms(c);
		n++;
	}
	log_warn("presence: this notifier was taken for dead; %zu sockets "
	    "recorded again", n);
}

void
client_close_all(void)
{
	/* No DISCONNECT: socket.io-client would not come back by itself. */
	while (!LIST_EMPTY(&clients))
		client_close(LIST_FIRST(&clients), END_GOING_AWAY);
}
