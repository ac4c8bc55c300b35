/*
 * seed003.c -- seed 003's plain WebSocket,
 * /api/user/send_message_ws/{conversation_id}/{email}: JSON text frames.
 *
 * The upgrade waits for two API answers: the token (?token= or the
 * Authorization header; its user must own the path's email) and the
 * membership (GET /api/conversations/{id}); a refusal is an HTTP error in
 * 003's envelope instead of the 101.  A frame {"body"} becomes POST
 * /api/conversations/{id}/messages; its reply's `frame` is the sender's ack
 * (status "sent").  The event the responder writes comes back through the
 * poller: the other members' sockets get it (status "delivered") and, when
 * one did, the sender's sockets get it too, after their "sent" ack.
 * messages_read events become one {"message_id", "conversation_id",
 * "status": "read"} frame per message for every socket but the reader's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc.h"
#include "bridge.h"
#include "client.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "notifier.h"
#include "poller.h"
#include "presence.h"
#include "reply.h"
#include "rooms.h"
#include "ws.h"

#define WS_PREFIX	"/api/user/send_message_ws/"
#define TOKEN_MAX	4096
#define MISSING_BODY	\
	"Missing required fields: conversation_id, email or body"

static void	s3_text(void *, const char *, size_t);
static void	s3_closed(void *);

static const struct ws_ops s3_ops = { s3_text, s3_closed };

/* 003's envelope as the HTTP answer to a refused upgrade. */
static void
s3_refuse(struct http_conn *hc, int status, const char *message)
{
	struct json_object	*o = json_object_new_object();
	const char		*s;

	json_object_object_add(o, "status_code", json_object_new_int(status));
	json_object_object_add(o, "message", json_object_new_string(message));
	s = json_text(o);
	http_reply(hc, status, "application/json", s, strlen(s));
	json_object_put(o);
}

static void
s3_gone(void *arg)
{
	struct client	*c = arg;

	c->hc = NULL;
	client_close(c, END_QUIET);
}

static int64_t
frame_id(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o != NULL && json_object_object_get_ex(o, key, &v))
		return json_object_get_int64(v);
	return 0;
}

/* Send a new_message frame to one socket; its event_id is the seq. */
static void
s3_send_message(struct client *c, const struct event_row *row,
    struct json_object *payload)
{
	const char	*s;

	json_object_object_add(payload, "event_id",
	    json_object_new_int64((int64_t)row->seq));
	s = json_text(payload);
	client_send(c, s, strlen(s));
}

static void
s3_send_read(struct client *c, struct json_object *payload)
{
	struct json_object	*ids;
	char			 b[128];
	size_t			 i, n;
	int			 len;

	if (!json_object_object_get_ex(payload, "message_ids", &ids) ||
	    !json_object_is_type(ids, json_type_array))
		return;
	n = json_object_array_length(ids);
	for (i = 0; i < n && c->state == CLIENT_READY; i++) {
		len = snprintf(b, sizeof(b), "{\"message_id\":%lld,"
		    "\"conversation_id\":%lld,\"status\":\"read\"}",
		    (long long)json_object_get_int64(
		    json_object_array_get_idx(ids, i)),
		    (long long)frame_id(payload, "conversation_id"));
		client_send(c, b, (size_t)len);
	}
}

/* Whether the sender has a 003 socket in the room on this notifier. */
static int
s3_sender_here(const struct room *r, int64_t sender)
{
	const struct member	*m;

	LIST_FOREACH(m, &r->members, rentry)
		if (m->c->kind == CLIENT_WS003 && m->c->user_id == sender)
			return 1;
	return 0;
}

/*
 * Whether another member has a 003 socket in the room on another
 * notifier (its presence row lists the room, untagged: 002 sockets of a
 * private chat write it with the other user's id), which delivers it.
 */
static int
s3_member_elsewhere(const struct room *r, int64_t sender)
{
	return presence_elsewhere(notifier.presence, r->name, sender) == 1;
}

void
seed003_event(struct room *r, const struct event_row *row,
    struct json_object *payload)
{
	struct member	*m, *next;
	struct client	*c;
	int64_t		 sender, id;
	size_t		 reached = 0;

	if (strcmp(row->event, "messages_read") == 0) {
		sender = frame_id(payload, "reader_id");
		for (m = LIST_FIRST(&r->members); m != NULL; m = next) {
			next = LIST_NEXT(m, rentry);
			c = m->c;
			if (c->kind == CLIENT_WS003 &&
			    c->state == CLIENT_READY && c->user_id != sender &&
			    row->seq > c->resume_after)
				s3_send_read(c, payload);
		}
		return;
	}
	if (strcmp(row->event, "new_message") != 0)
		return;
	sender = frame_id(payload, "sender_id");
	id = frame_id(payload, "message_id");
	for (m = LIST_FIRST(&r->members); m != NULL; m = next) {
		next = LIST_NEXT(m, rentry);
		c = m->c;
		if (c->kind != CLIENT_WS003 || c->state != CLIENT_READY ||
		    c->user_id == sender || row->seq <= c->resume_after)
			continue;
		s3_send_message(c, row, payload);
		reached++;
	}
	if (reached == 0 && !s3_sender_here(r, sender))
		return;
	if (reached == 0 && !s3_member_elsewhere(r, sender))
		return;
	/* The seed's second ack: delivered to someone. */
	for (m = LIST_FIRST(&r->members); m != NULL; m = next) {
		next = LIST_NEXT(m, rentry);
		c = m->c;
		if (c->kind != CLIENT_WS003 || c->state != CLIENT_READY ||
		    c->user_id != sender || row->seq <= c->resume_after)
			continue;
		if (c->acked < id && c->calls != NULL)
			c->early = id;	/* after its "sent" ack */
		else
			s3_send_message(c, row, payload);
	}
}

/* Resume (?last_event_id=): a retained row of the conversation's room. */
void
seed003_replay(void *arg, const struct event_row *row)
{
	struct client		*c = arg;
	struct json_object	*payload;

	if (c->state != CLIENT_READY ||
	    (payload = json_tokener_parse(row->payload)) == NULL)
		return;
	if (strcmp(row->event, "messages_read") == 0 &&
	    frame_id(payload, "reader_id") != c->user_id)
		s3_send_read(c, payload);
	else if (strcmp(row->event, "new_message") == 0 &&
	    frame_id(payload, "sender_id") != c->user_id)
		s3_send_message(c, row, payload);
	json_object_put(payload);
}

static void
s3_posted(struct client *c, const struct bridge_reply *r, int64_t ack,
    int64_t arg)
{
	struct json_object	*o = NULL, *h, *f, *d;
	const char		*s, *msg;

	if (r->status != 201 && r->status != 200) {
		msg = client_reply_message(r, &h, "Error sending message");
		client_error(c, r->status > 0 ? (int)r->status : 500, msg);
		json_object_put(h);
		return;
	}
	if ((o = json_tokener_parse(r->body)) == NULL ||
	    !json_object_object_get_ex(o, "frame", &f)) {
		client_error(c, 500, "Error sending message");
		goto out;
	}
	s = json_text(f);
	if (client_send(c, s, strlen(s)) == -1)
		goto out;
	c->acked = frame_id(f, "message_id");
	if (c->early != 0 && c->early == c->acked) {
		d = json_object_get(f);
		json_object_object_add(d, "status",
		    json_object_new_string("delivered"));
		s = json_text(d);
		client_send(c, s, strlen(s));
		json_object_put(d);
	}
	c->early = 0;
 out:
	json_object_put(o);
}

static void
s3_text(void *arg, const char *msg, size_t len)
{
	struct client		*c = arg;
	struct json_object	*o, *v, *b;
	char			*text, path[80];
	const char		*s;

	if (c->state != CLIENT_READY || client_rate(c) != 0)
		return;
	text = xstrndup(msg, len);
	o = json_tokener_parse(text);
	free(text);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		client_error(c, 400, "Invalid JSON");
		json_object_put(o);
		return;
	}
	if (!json_object_object_get_ex(o, "body", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0) {
		client_error(c, 400, MISSING_BODY);
		json_object_put(o);
		return;
	}
	b = json_object_new_object();
	json_object_object_add(b, "content", json_object_get(v));
	s = json_text(b);
	snprintf(path, sizeof(path), "/api/conversations/%lld/messages",
	    (long long)c->conv);
	client_call(c, "POST", path, s, strlen(s), s3_posted, -1, 0);
	json_object_put(b);
	json_object_put(o);
}

static void
s3_closed(void *arg)
{
	struct client	*c = arg;

	c->ws = NULL;
	client_transport_gone(c);
}

/* The membership answer: upgrade, or refuse. */
static void
s3_member(struct client *c, const struct bridge_reply *r, int64_t ack,
    int64_t arg)
{
	struct bufferevent	*bev;
	struct http_req		 req;
	const char		*rooms[1];
	char			 room[48];

	if (r->status != 200) {
		s3_refuse(c->hc, r->status == 404 ? 400 : 500,
		    r->status == 404 ? "User not part of this conversation." :
		    "Error checking the conversation");
		c->hc = NULL;
		client_close(c, END_QUIET);
		return;
	}
	snprintf(room, sizeof(room), "conversation:%lld", (long long)c->conv);
	bev = http_upgrade(c->hc, &req);
	c->hc = NULL;
	c->ws = ws_accept(bev, &req, &s3_ops, c);
	http_req_free(&req);
	rooms_join(c, room, 0);
	client_save_rooms(c);
	if (c->resume_after > 0) {
		rooms[0] = room;
		if (poller_replay(notifier.poller, c->resume_after, rooms, 1,
		    seed003_replay, c) == -1)
			client_error(c, 410, "The events after last_event_id "
			    "are no longer available");
	}
}

static void
s3_verified(struct client *c, const char *err, const char *code)
{
	char	 path[64];

	if (err != NULL) {
		s3_refuse(c->hc, strcmp(code, "unavailable") == 0 ? 503 :
		    strcmp(code, "too_many_sockets") == 0 ? 429 : 401, err);
		c->hc = NULL;
		client_close(c, END_QUIET);
		return;
	}
	/* The path's email must be the token's (the seed trusted it). */
	if (c->email == NULL || strcasecmp(c->email, c->path_email) != 0) {
		s3_refuse(c->hc, 403, "The email is not the token's user");
		c->hc = NULL;
		client_close(c, END_QUIET);
		return;
	}
	free(c->path_email);
	c->path_email = NULL;
	client_ready(c, NULL);
	snprintf(path, sizeof(path), "/api/conversations/%lld",
	    (long long)c->conv);
	client_call(c, "GET", path, NULL, 0, s3_member, -1, 0);
}

void
seed003_http(struct http_conn *hc)
{
	struct http_req	*r = http_request(hc);
	struct client	*c;
	const char	*p = r->path + strlen(WS_PREFIX), *slash;
	char		*end, v[TOKEN_MAX], email[256];
	long long	 conv;
	int		 rc;

	conv = strtoll(p, &end, 10);
	if (conv <= 0 || *end != '/' || end[1] == '\0' ||
	    strchr(end + 1, '/') != NULL || strlen(end + 1) >= sizeof(email)) {
		s3_refuse(hc, 404, "Not found");
		return;
	}
	slash = end;
	/* The path part is percent-encoded like a query value. */
	snprintf(v, sizeof(v), "e=%s", slash + 1);
	if (http_query_get(v, "e", email, sizeof(email)) == -1) {
		s3_refuse(hc, 404, "Not found");
		return;
	}
	if ((rc = ws_check_upgrade(r)) != 0) {
		s3_refuse(hc, rc, "A WebSocket upgrade is required");
		return;
	}
	c = client_new(CLIENT_WS003, http_client_addr(hc));
	c->conv = conv;
	if (http_query_get(r->query, "token", v, sizeof(v)) == 0 &&
	    v[0] != '\0')
		c->token = xstrdup(v);
	else if (r->authorization != NULL &&
	    strncasecmp(r->authorization, "Bearer ", 7) == 0 &&
	    strlen(r->authorization) < TOKEN_MAX)
		c->token = xstrdup(r->authorization + 7);
	if (c->token == NULL) {
		s3_refuse(hc, 401, "Missing token");
		client_close(c, END_QUIET);
		return;
	}
	if (http_query_get(r->query, "last_event_id", v, 24) == 0)
		c->resume_after = strtoull(v, NULL, 10);
	if (r->device_id != NULL && strlen(r->device_id) <= 64)
		c->device_id = xstrdup(r->device_id);
	c->path_email = xstrdup(email);
	c->hc = hc;
	http_hold(hc, s3_gone, c);
	client_start_timer(c);
	client_verify(c, s3_verified);
}
