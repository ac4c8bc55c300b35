/*
 * model.c -- the rules of the chat model that every dialect shares: who
 * may use a conversation, finding or making a private chat, posting and
 * deleting messages with their receipts, pushes and events, and reading
 * messages back.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "config.h"
#include "conversations.h"
#include "db.h"
#include "outbox.h"
#include "reply.h"
#include "request.h"

/* The columns of a message row, in the order of the MC_* names. */
#define MSG_COLS	"m.id, m.conversation_id, m.sender_id, m.body, " \
	SQL_TIME("m.created_at") ", u.username, u.avatar_url, u.email, " \
	"u.first_name, u.last_name"

/*
 * A message's status as a viewer sees it (003): his own message has the
 * lowest status among its recipients' receipts (sent when it has none);
 * someone else's has the viewer's own receipt (delivered when none).  Two
 * parameters: the viewer, twice.  Primary-key lookups only.
 */
#define MSG_STATUS	"CASE WHEN m.sender_id = ? THEN COALESCE(ELT(" \
	"(SELECT MIN(r.status + 0) FROM receipts r WHERE " \
	"r.message_id = m.id), 'sent', 'delivered', 'read'), 'sent') " \
	"ELSE COALESCE((SELECT r.status FROM receipts r WHERE " \
	"r.message_id = m.id AND r.user_id = ?), 'delivered') END"

/* Longest push body, in bytes. */
#define PUSH_BODY_MAX	240

long long
conv_page_size(void)
{
	const struct config	*c = config();

	return c->chat_page_size < c->chat_max_page_size ?
	    c->chat_page_size : c->chat_max_page_size;
}

long long
conv_page_max(void)
{
	return config()->chat_max_page_size;
}

const char *
conv_room(char *buf, size_t n, long long id)
{
	snprintf(buf, n, "conversation:%lld", id);
	return buf;
}

const char *
conv_name_of(const char *username, const char *email, const char *first,
    const char *last, char *buf, size_t n)
{
	size_t	 len;

	if (first != NULL && *first != '\0' && last != NULL && *last != '\0')
		snprintf(buf, n, "%s %s", first, last);
	else if (first != NULL && *first != '\0')
		snprintf(buf, n, "%s", first);
	else if (username != NULL && *username != '\0')
		snprintf(buf, n, "%s", username);
	else if (email != NULL) {
		/* 003: the address's local part, capitalised. */
		len = strcspn(email, "@");
		snprintf(buf, n, "%.*s", (int)len, email);
		buf[0] = toupper((unsigned char)buf[0]);
	} else
		snprintf(buf, n, "%s", "");
	return buf;
}

int
conv_access(long long id, long long user_id, struct conv_access *a)
{
	struct db_result	*r;
	const char		*kind;

	memset(a, 0, sizeof(*a));
	if (db_query(&r, "SELECT c.kind, m.role, m.cleared_before "
	    "FROM conversations c LEFT JOIN conversation_members m "
	    "ON m.conversation_id = c.id AND m.user_id = ? WHERE c.id = ?",
	    "ii", user_id, id) != DB_OK)
		return -1;
	if (db_rows(r) == 1) {
		kind = db_get(r, 0, 0);
		a->kind = strcmp(kind, "public") == 0 ? CONV_PUBLIC :
		    strcmp(kind, "private") == 0 ? CONV_PRIVATE : CONV_GROUP;
		a->member = !db_is_null(r, 0, 1);
		a->admin = a->member && strcmp(db_get(r, 0, 1), "admin") == 0;
		a->cleared_before = db_get_int(r, 0, 2);
	}
	db_result_free(r);
	return 0;
}

int
conv_can_use(const struct conv_access *a)
{
	return a->kind == CONV_PUBLIC || (a->kind != CONV_NONE && a->member);
}

int
conv_user_exists(long long id)
{
	struct db_result	*r;
	int			 n;

	if (db_query(&r, "SELECT 1 FROM users WHERE id = ?", "i", id) != DB_OK)
		return -1;
	n = db_rows(r) > 0;
	db_result_free(r);
	return n;
}

/* Tell user_id (his own room) that he is now in conversation conv. */
static int
announce_added(long long conv, long long user_id, long long by)
{
	struct json_object	*o = json_object_new_object();
	char			 room[40];
	int			 rc;

	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(conv));
	json_object_object_add(o, "user_id", json_object_new_int64(user_id));
	json_object_object_add(o, "added_by", json_object_new_int64(by));
	snprintf(room, sizeof(room), "user:%lld", user_id);
	rc = outbox_event(room, "conversation_added", o);
	json_object_put(o);
	return rc;
}

int
conv_private_find(long long a, long long b, long long *id)
{
	struct db_result	*r;
	int			 found;

	if (db_query(&r, "SELECT id FROM conversations WHERE pair_low = ? AND "
	    "pair_high = ?", "ii", a < b ? a : b, a < b ? b : a) != DB_OK)
		return -1;
	found = db_rows(r) > 0;
	if (found)
		*id = db_get_int(r, 0, 0);
	db_result_free(r);
	return found;
}

enum db_status
conv_private_get(long long a, long long b, long long *id, int *created)
{
	enum db_status	 rc;

	/* The pair key makes a second chat of the same pair impossible. */
	rc = db_exec("INSERT INTO conversations (kind, created_by, pair_low, "
	    "pair_high) VALUES ('private', ?, ?, ?) ON DUPLICATE KEY UPDATE "
	    "id = LAST_INSERT_ID(id)", "iii", a, a < b ? a : b, a < b ? b : a);
	if (rc != DB_OK)
		return rc;
	*created = db_affected() == 1;
	*id = (long long)db_insert_id();
	if (!*created)
		return DB_OK;
	rc = db_exec("INSERT IGNORE INTO conversation_members "
	    "(conversation_id, user_id) VALUES (?, ?), (?, ?)", "iiii", *id, a,
	    *id, b);
	if (rc != DB_OK)
		return rc;
	return announce_added(*id, b, a) == 0 ? DB_OK : DB_ERROR;
}

int
msg_find(long long id, long long viewer, struct db_result **row)
{
	enum db_status	 rc;

	/* Without a viewer, no status: one statement less to plan. */
	if (viewer == 0)
		rc = db_query(row, "SELECT " MSG_COLS " FROM messages m JOIN "
		    "users u ON u.id = m.sender_id WHERE m.id = ? AND "
		    "m.deleted_at IS NULL", "i", id);
	else
		rc = db_query(row, "SELECT " MSG_COLS ", " MSG_STATUS " FROM "
		    "messages m JOIN users u ON u.id = m.sender_id WHERE "
		    "m.id = ? AND m.deleted_at IS NULL", "iii", viewer, viewer,
		    id);
	if (rc != DB_OK)
		return -1;
	if (db_rows(*row) == 0) {
		db_result_free(*row);
		*row = NULL;
		return 0;
	}
	return 1;
}

struct db_result *
msg_page(long long conv, long long viewer, long long cleared_before,
    long long limit, long long before)
{
	struct db_result	*r;
	enum db_status		 rc;

	if (before <= 0)
		before = 9223372036854775807LL;
	/*
	 * Newest first along messages_conversation: limit rows of a range.
	 * STRAIGHT_JOIN and FORCE INDEX pin the plan: with few users the
	 * optimizer would rather start from users, or scan them into a join
	 * buffer, and either way sort the whole room (seconds at 1M rows).
	 */
	if (conv == CONV_PUBLIC_ID)
		rc = db_query(&r, "SELECT " MSG_COLS " FROM messages m "
		    "STRAIGHT_JOIN users u FORCE INDEX (PRIMARY) ON "
		    "u.id = m.sender_id WHERE "
		    "m.conversation_id = ? AND m.id < ? AND "
		    "m.deleted_at IS NULL ORDER BY m.id DESC LIMIT ?", "iii",
		    conv, before, limit);
	else
		rc = db_query(&r, "SELECT " MSG_COLS ", " MSG_STATUS
		    " FROM messages m STRAIGHT_JOIN users u FORCE INDEX "
		    "(PRIMARY) ON u.id = m.sender_id WHERE "
		    "m.conversation_id = ? AND m.id > ? AND m.id < ? AND "
		    "m.deleted_at IS NULL ORDER BY m.id DESC LIMIT ?", "iiiiii",
		    viewer, viewer, conv, cleared_before, before, limit);
	return rc == DB_OK ? r : NULL;
}

/* {"id", "username"} of a message row's sender. */
static struct json_object *
sender_brief(const struct db_result *r, size_t i)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "id",
	    json_object_new_int64(db_get_int(r, i, MC_SENDER)));
	json_add_string(o, "username", db_get(r, i, MC_USERNAME));
	return o;
}

struct json_object *
msg_json(const struct db_result *r, size_t i, enum msg_shape shape,
    long long viewer)
{
	struct json_object	*o = json_object_new_object();
	long long		 sender = db_get_int(r, i, MC_SENDER);
	const char		*status;
	char			 name[256];

	status = db_cols(r) > MC_STATUS ? db_get(r, i, MC_STATUS) : "sent";
	switch (shape) {
	case MSG_003:
		json_object_object_add(o, "message_id",
		    json_object_new_int64(db_get_int(r, i, MC_ID)));
		json_object_object_add(o, "conversation_id",
		    json_object_new_int64(db_get_int(r, i, MC_CONV)));
		json_add_string(o, "text", db_get(r, i, MC_BODY));
		json_add_string(o, "sender", db_get(r, i, MC_EMAIL));
		json_object_object_add(o, "sender_id",
		    json_object_new_int64(sender));
		json_add_string(o, "status", status);
		json_add_string(o, "sent_at", db_get(r, i, MC_TIME));
		json_object_object_add(o, "sent_by_me",
		    json_object_new_boolean(sender == viewer));
		json_add_string(o, "sender_name", sender == viewer ? "" :
		    conv_name_of(db_get(r, i, MC_USERNAME), db_get(r, i,
		    MC_EMAIL), db_get(r, i, MC_FIRST), db_get(r, i, MC_LAST),
		    name, sizeof(name)));
		return o;
	default:
		break;
	}
	json_object_object_add(o, "id",
	    json_object_new_int64(db_get_int(r, i, MC_ID)));
	json_add_string(o, "content", db_get(r, i, MC_BODY));
	json_add_string(o, "timestamp", db_get(r, i, MC_TIME));
	switch (shape) {
	case MSG_002_PUBLIC:
		json_object_object_add(o, "user_id",
		    json_object_new_int64(sender));
		json_object_object_add(o, "user", sender_brief(r, i));
		break;
	case MSG_002_PRIVATE:
		json_object_object_add(o, "sender_id",
		    json_object_new_int64(sender));
		json_object_object_add(o, "chat_id",
		    json_object_new_int64(db_get_int(r, i, MC_CONV)));
		json_object_object_add(o, "sender", sender_brief(r, i));
		break;
	default:
		json_object_object_add(o, "conversation_id",
		    json_object_new_int64(db_get_int(r, i, MC_CONV)));
		json_object_object_add(o, "sender_id",
		    json_object_new_int64(sender));
		json_object_object_add(o, "sender", sender_brief(r, i));
		json_add_string(o, "created_at", db_get(r, i, MC_TIME));
		json_add_string(o, "status", status);
		json_object_object_add(o, "sent_by_me",
		    json_object_new_boolean(sender == viewer));
		break;
	}
	json_add_string(o, "username", db_get(r, i, MC_USERNAME));
	json_add_string(o, "avatar_url", db_get(r, i, MC_AVATAR));
	return o;
}

int
msg_content(struct request *req, struct reply *rep, const char **out)
{
	struct field		 f[2] = {
		{ "content", FIELD_STRING, FIELD_EMPTY_OK, 0, 0, NULL },
		{ "body", FIELD_STRING, FIELD_EMPTY_OK, 0, 0, NULL },
	};
	struct field_value	 v[2];
	const struct field_value *c;
	const char		*s;
	int			 rc;

	f[0].max = f[1].max = config()->chat_max_message_length;
	if ((rc = body_fields(req, rep, f, nitems(f), v)) != 0)
		return rc;
	c = v[0].present ? &v[0] : &v[1];
	for (s = c->present ? c->s : ""; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			break;
	if (*s == '\0') {
		body_values_free(v, nitems(v));
		return reply_error(rep, 400, "empty_content",
		    "Message content cannot be empty");
	}
	/* Borrowed from the request's JSON, which outlives the handler. */
	*out = c->s;
	body_values_free(v, nitems(v));
	return 0;
}

struct json_object *
msg_frame(const struct db_result *r, const char *status)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "message_id",
	    json_object_new_int64(db_get_int(r, 0, MC_ID)));
	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(db_get_int(r, 0, MC_CONV)));
	json_add_string(o, "text", db_get(r, 0, MC_BODY));
	json_add_string(o, "sender", db_get(r, 0, MC_EMAIL));
	json_object_object_add(o, "sender_id",
	    json_object_new_int64(db_get_int(r, 0, MC_SENDER)));
	json_add_string(o, "status", status);
	json_add_string(o, "sent_at", db_get(r, 0, MC_TIME));
	return o;
}

/*
 * Queue a push to every other member of conv for message row r (003 sent
 * one per device; outbox_push() reaches all of a user's devices).
 */
static enum db_status
msg_push(long long conv, const struct db_result *r)
{
	struct json_object	*data;
	struct db_result	*m;
	char			 name[256], title[300];
	char			 text[PUSH_BODY_MAX + 1];
	const char		*body = db_get(r, 0, MC_BODY);
	size_t			 i, n;
	enum db_status		 rc = DB_OK;

	if (db_query(&m, "SELECT user_id FROM conversation_members WHERE "
	    "conversation_id = ? AND user_id <> ?", "ii", conv,
	    db_get_int(r, 0, MC_SENDER)) != DB_OK)
		return DB_ERROR;
	snprintf(title, sizeof(title), "New Message from %s",
	    conv_name_of(db_get(r, 0, MC_USERNAME), db_get(r, 0, MC_EMAIL),
	    db_get(r, 0, MC_FIRST), db_get(r, 0, MC_LAST), name,
	    sizeof(name)));
	/* Cut long texts at a character boundary. */
	n = strlen(body);
	if (n > PUSH_BODY_MAX) {
		n = PUSH_BODY_MAX;
		while (n > 0 && ((unsigned char)body[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(text, body, n);
	text[n] = '\0';
	data = json_object_new_object();
	json_object_object_add(data, "conversation_id",
	    json_object_new_int64(conv));
	json_object_object_add(data, "message_id",
	    json_object_new_int64(db_get_int(r, 0, MC_ID)));
	for (i = 0; i < db_rows(m) && rc == DB_OK; i++)
		if (outbox_push(db_get_int(m, i, 0), title, text, data) == -1)
			rc = DB_ERROR;
	json_object_put(data);
	db_result_free(m);
	return rc;
}

/* The events of a new message: one per shape its room's clients read. */
static enum db_status
msg_events(long long conv, enum conv_kind kind, const struct db_result *r)
{
	struct json_object	*o;
	char			 room[40];
	int			 rc;

	if (kind == CONV_PUBLIC) {
		o = msg_json(r, 0, MSG_002_PUBLIC, 0);
		rc = outbox_event("public", "new_public_message", o);
		json_object_put(o);
		return rc == 0 ? DB_OK : DB_ERROR;
	}
	conv_room(room, sizeof(room), conv);
	if (kind == CONV_PRIVATE) {
		o = msg_json(r, 0, MSG_002_PRIVATE, 0);
		rc = outbox_event(room, "new_private_message", o);
		json_object_put(o);
		if (rc != 0)
			return DB_ERROR;
	}
	o = msg_frame(r, "delivered");
	rc = outbox_event(room, "new_message", o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

struct post {
	long long		 conv;
	enum conv_kind		 kind;
	long long		 sender;
	const char		*body;
	struct db_result	*row;
};

static enum db_status
post_tx(void *arg)
{
	struct post	*p = arg;
	long long	 id;
	enum db_status	 rc;

	db_result_free(p->row);
	p->row = NULL;
	if ((rc = db_exec("INSERT INTO messages (conversation_id, sender_id, "
	    "body) VALUES (?, ?, ?)", "iis", p->conv, p->sender, p->body)) !=
	    DB_OK)
		return rc;
	id = (long long)db_insert_id();
	/* 003 wrote a delivered receipt for every other member at once. */
	if (p->kind != CONV_PUBLIC && (rc = db_exec("INSERT INTO receipts "
	    "(message_id, user_id, conversation_id, status) SELECT ?, user_id, "
	    "conversation_id, 'delivered' FROM conversation_members WHERE "
	    "conversation_id = ? AND user_id <> ?", "iii", id, p->conv,
	    p->sender)) != DB_OK)
		return rc;
	/* The counters the conversation list reads instead of counting. */
	if (p->kind != CONV_PUBLIC && ((rc = db_exec("UPDATE "
	    "conversation_members SET unread = unread + 1 WHERE "
	    "conversation_id = ? AND user_id <> ?", "ii", p->conv,
	    p->sender)) != DB_OK || (rc = db_exec("UPDATE conversations SET "
	    "last_message_id = ? WHERE id = ?", "ii", id, p->conv)) != DB_OK))
		return rc;
	if (msg_find(id, p->kind == CONV_PUBLIC ? 0 : p->sender,
	    &p->row) != 1)
		return DB_ERROR;
	/* No push for the public room: it would reach every user. */
	if (p->kind != CONV_PUBLIC && (rc = msg_push(p->conv, p->row)) != DB_OK)
		return rc;
	return msg_events(p->conv, p->kind, p->row);
}

enum db_status
msg_post(long long conv, enum conv_kind kind, long long sender,
    const char *body, struct db_result **row)
{
	struct post	 p = { conv, kind, sender, body, NULL };
	enum db_status	 rc;

	if ((rc = db_transaction(post_tx, &p)) != DB_OK) {
		db_result_free(p.row);
		return rc;
	}
	*row = p.row;
	return DB_OK;
}

struct del {
	long long	 conv;
	enum conv_kind	 kind;
	long long	 id;
};

static enum db_status
delete_tx(void *arg)
{
	struct del		*d = arg;
	struct json_object	*o;
	char			 room[40];
	enum db_status		 rc;
	int			 ok;

	if ((rc = db_exec("UPDATE messages SET deleted_at = UTC_TIMESTAMP(6) "
	    "WHERE id = ? AND deleted_at IS NULL", "i", d->id)) != DB_OK)
		return rc;
	if (db_affected() == 0)
		return DB_REFUSED;	/* deleted meanwhile */
	/*
	 * A hidden message counts as unread for nobody, and the newest live
	 * one becomes the conversation's last.
	 */
	if (d->kind != CONV_PUBLIC && ((rc = db_exec("UPDATE "
	    "conversation_members m JOIN receipts r ON r.user_id = m.user_id "
	    "AND r.conversation_id = m.conversation_id SET m.unread = "
	    "m.unread - 1 WHERE r.message_id = ? AND r.status <> 'read' AND "
	    "r.message_id > m.cleared_before AND m.unread > 0", "i",
	    d->id)) != DB_OK || (rc = db_exec("UPDATE conversations SET "
	    "last_message_id = (SELECT m.id FROM messages m WHERE "
	    "m.conversation_id = ? AND m.deleted_at IS NULL ORDER BY m.id DESC "
	    "LIMIT 1) WHERE id = ? AND last_message_id = ?", "iii", d->conv,
	    d->conv, d->id)) != DB_OK))
		return rc;
	if ((rc = db_exec("DELETE FROM receipts WHERE message_id = ?", "i",
	    d->id)) != DB_OK)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(d->id));
	json_object_object_add(o, "message_id", json_object_new_int64(d->id));
	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(d->conv));
	if (d->kind == CONV_PUBLIC)
		ok = outbox_event("public", "public_message_deleted", o);
	else
		ok = outbox_event(conv_room(room, sizeof(room), d->conv),
		    "message_deleted", o);
	json_object_put(o);
	return ok == 0 ? DB_OK : DB_ERROR;
}

enum db_status
msg_delete(long long conv, enum conv_kind kind, long long id)
{
	struct del	 d = { conv, kind, id };

	return db_transaction(delete_tx, &d);
}
