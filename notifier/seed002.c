/*
 * seed002.c -- seed 002's Socket.IO events (chat): the welcome, the public
 * room, private chats and the online list.
 *
 * Messages are sent the way a REST client sends them (POST /api/messages,
 * POST /api/messages/private/{id}); the responder writes the event and the
 * poller brings it back to the room, the sender included, so a REST post
 * and a socket send reach sockets alike.  Only what has no REST side is
 * answered here: connected, user_joined / user_left (to the sockets of
 * this notifier), joined_private (from the reply of POST
 * /api/private-chats/{id}), online_users (from the presence rows of every
 * notifier).  Failures are `error` events with the seed's messages.
 *
 * Rooms: 002's public_chat is the room `public`; private_chat_<id> is
 * `conversation:<id>`, remembered with the other user's id so that
 * leave_private and send_private_message find it by that id.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "bridge.h"
#include "client.h"
#include "config.h"
#include "notifier.h"
#include "presence.h"
#include "reply.h"
#include "rooms.h"
#include "sio.h"

#define PUBLIC_ROOM	"public"

/* {"username", "message": "<username> <what>"} */
static char *
user_note(const struct client *c, const char *what)
{
	struct json_object	*o = json_object_new_object();
	char			*s, *m;

	m = xasprintf("%s %s", c->username, what);
	json_object_object_add(o, "username",
	    json_object_new_string(c->username));
	json_object_object_add(o, "message", json_object_new_string(m));
	s = xstrdup(json_text(o));
	json_object_put(o);
	free(m);
	return s;
}

void
seed002_connected(struct client *c)
{
	struct json_object	*o = json_object_new_object();
	char			*m;

	m = xasprintf("Welcome %s!", c->username);
	json_object_object_add(o, "message", json_object_new_string(m));
	sio_emit(c, "connected", json_text(o));
	json_object_put(o);
	free(m);
}

/* Report a failure as the seed did, and to an ack if one was asked. */
static void
fail(struct client *c, int64_t ack, const char *message)
{
	struct json_object	*o = json_object_new_object();

	sio_error(c, message);
	json_object_object_add(o, "error", json_object_new_string(message));
	sio_ack(c, ack, json_text(o));
	json_object_put(o);
}

/*
 * A user id as 002 took it: any value int() accepts.  1 with *id set, 0
 * when missing or falsy, -1 when not a number.
 */
static int
user_id_arg(struct json_object *arg, const char *key, int64_t *id)
{
	struct json_object	*v;
	const char		*s;
	char			*end;
	long long		 n;

	if (arg == NULL || !json_object_is_type(arg, json_type_object) ||
	    !json_object_object_get_ex(arg, key, &v) || v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		if ((*id = json_object_get_int64(v)) == 0)
			return 0;
		return *id > 0 ? 1 : -1;
	case json_type_boolean:
		return json_object_get_boolean(v) ? -1 : 0;
	case json_type_string:
		s = json_object_get_string(v);
		if (*s == '\0')
			return 0;
		while (isspace((unsigned char)*s))
			s++;
		errno = 0;
		n = strtoll(s, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (errno != 0 || end == s || *end != '\0' || n <= 0)
			return -1;
		*id = n;
		return 1;
	default:
		return -1;
	}
}

/* The content string, or NULL. */
static const char *
content_arg(struct json_object *arg)
{
	struct json_object	*v;

	if (arg == NULL || !json_object_is_type(arg, json_type_object) ||
	    !json_object_object_get_ex(arg, "content", &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

static void
on_join_public(struct client *c, struct json_object *arg, int64_t ack)
{
	char	*note;

	if (rooms_member(c, PUBLIC_ROOM) == NULL) {
		rooms_join(c, PUBLIC_ROOM, 0);
		client_save_rooms(c);
		note = user_note(c, "joined the chat");
		rooms_emit(PUBLIC_ROOM, c, "user_joined", note);
		free(note);
	}
	sio_ack(c, ack, "{\"message\":\"OK\"}");
}

static void
on_leave_public(struct client *c, struct json_object *arg, int64_t ack)
{
	struct member	*m;
	char		*note;

	if ((m = rooms_member(c, PUBLIC_ROOM)) != NULL) {
		rooms_leave(c, m);
		client_save_rooms(c);
		note = user_note(c, "left the chat");
		rooms_emit(PUBLIC_ROOM, c, "user_left", note);
		free(note);
	}
	sio_ack(c, ack, "{\"message\":\"OK\"}");
}

/* A message was posted: the event comes back through the poller. */
static void
sent(struct client *c, const struct bridge_reply *r, int64_t ack,
    int64_t arg)
{
	struct json_object	*h;
	const char		*msg;

	if (r->status == 201 || r->status == 200) {
		sio_ack(c, ack, r->body);
		return;
	}
	msg = client_reply_message(r, &h, "Failed to send message");
	fail(c, ack, msg);
	json_object_put(h);
}

/* {"content": text} as a request body. */
static char *
content_body(const char *content)
{
	struct json_object	*o = json_object_new_object();
	char			*s;

	json_object_object_add(o, "content", json_object_new_string(content));
	s = xstrdup(json_text(o));
	json_object_put(o);
	return s;
}

static void
on_send_public_message(struct client *c, struct json_object *arg,
    int64_t ack)
{
	const char	*content = content_arg(arg);
	char		*body;

	if (rooms_member(c, PUBLIC_ROOM) == NULL) {
		fail(c, ack, "Not in public chat");
		return;
	}
	if (content == NULL || blank(content)) {
		fail(c, ack, "Message content cannot be empty");
		return;
	}
	body = content_body(content);
	client_call(c, "POST", "/api/messages", body, strlen(body), sent, ack,
	    0);
	free(body);
}

static void
joined(struct client *c, const struct bridge_reply *r, int64_t ack,
    int64_t other)
{
	struct json_object	*o = NULL, *h = NULL, *v, *u, *out, *ou;
	const char		*msg;
	char			 room[48];
	int64_t			 chat;

	if (r->status != 200 && r->status != 201) {
		msg = r->status == 404 ? "User not found" :
		    client_reply_message(r, &h, "Failed to join private chat");
		fail(c, ack, msg);
		json_object_put(h);
		return;
	}
	if ((o = json_tokener_parse(r->body)) == NULL ||
	    !json_object_object_get_ex(o, "chat_id", &v) ||
	    (chat = json_object_get_int64(v)) <= 0) {
		fail(c, ack, "Failed to join private chat");
		goto out;
	}
	snprintf(room, sizeof(room), "conversation:%lld", (long long)chat);
	rooms_join(c, room, other);
	client_save_rooms(c);
	out = json_object_new_object();
	json_object_object_add(out, "chat_id", json_object_new_int64(chat));
	ou = json_object_new_object();
	json_object_object_add(ou, "id", json_object_new_int64(other));
	if (json_object_object_get_ex(o, "other_user", &u) &&
	    json_object_object_get_ex(u, "username", &v))
		json_object_object_add(ou, "username", json_object_get(v));
	else
		json_object_object_add(ou, "username", NULL);
	json_object_object_add(out, "other_user", ou);
	sio_emit(c, "joined_private", json_text(out));
	sio_ack(c, ack, json_text(out));
	json_object_put(out);
 out:
	json_object_put(o);
}

static void
on_join_private(struct client *c, struct json_object *arg, int64_t ack)
{
	char	 path[64];
	int64_t	 other;

	switch (user_id_arg(arg, "other_user_id", &other)) {
	case 0:
		fail(c, ack, "Other user ID required");
		return;
	case -1:
		fail(c, ack, "Invalid user ID");
		return;
	}
	snprintf(path, sizeof(path), "/api/private-chats/%lld",
	    (long long)other);
	client_call(c, "POST", path, NULL, 0, joined, ack, other);
}

static void
on_leave_private(struct client *c, struct json_object *arg, int64_t ack)
{
	struct member	*m;
	int64_t		 other;

	if (user_id_arg(arg, "other_user_id", &other) == 1 &&
	    (m = rooms_member_tag(c, other)) != NULL) {
		rooms_leave(c, m);
		client_save_rooms(c);
	}
	sio_ack(c, ack, "{\"message\":\"OK\"}");
}

static void
not_joined(struct client *c, const struct bridge_reply *r, int64_t ack,
    int64_t arg)
{
	struct json_object	*o, *v;
	int			 exists = 0;

	if (r->status == 200 && (o = json_tokener_parse(r->body)) != NULL) {
		exists = json_object_object_get_ex(o, "messages", &v) &&
		    json_object_is_type(v, json_type_array) &&
		    json_object_array_length(v) > 0;
		json_object_put(o);
	}
	fail(c, ack, exists ? "Not in this private chat" : "Chat not found");
}

static void
on_send_private_message(struct client *c, struct json_object *arg,
    int64_t ack)
{
	const char	*content = content_arg(arg);
	char		 path[64], *body;
	int64_t		 other;
	int		 rc;

	rc = user_id_arg(arg, "other_user_id", &other);
	if (rc == 0 || content == NULL || *content == '\0') {
		fail(c, ack, "Other user ID and content required");
		return;
	}
	if (rc == -1) {
		fail(c, ack, "Invalid user ID");
		return;
	}
	if (rooms_member_tag(c, other) == NULL) {
		/* 002 tells a chat that does not exist yet from one not
		 * joined: ask for its latest message. */
		snprintf(path, sizeof(path),
		    "/api/messages/private/%lld?limit=1", (long long)other);
		client_call(c, "GET", path, NULL, 0, not_joined, ack, 0);
		return;
	}
	snprintf(path, sizeof(path), "/api/messages/private/%lld",
	    (long long)other);
	body = content_body(content);
	client_call(c, "POST", path, body, strlen(body), sent, ack, 0);
	free(body);
}

/*
 * 002 lists the sockets in the public room.  Presence rows carry each
 * socket's rooms, so the list spans every notifier: one entry per user
 * with an open socket in the room, on a notifier that is alive.
 */
static void
on_get_online_users(struct client *c, struct json_object *arg, int64_t ack)
{
	struct json_object	*o, *a;

	if ((a = presence_online(notifier.presence, "public")) == NULL) {
		fail(c, ack, "Failed to get online users");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "users", a);
	sio_emit(c, "online_users", json_text(o));
	sio_ack(c, ack, json_text(o));
	json_object_put(o);
}

const struct sio_handler seed002_handlers[] = {
	{ "join_public", on_join_public },
	{ "leave_public", on_leave_public },
	{ "send_public_message", on_send_public_message },
	{ "join_private", on_join_private },
	{ "leave_private", on_leave_private },
	{ "send_private_message", on_send_private_message },
	{ "get_online_users", on_get_online_users },
	{ NULL, NULL }
};
