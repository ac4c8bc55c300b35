/*
 * conv.c -- conversations as a member sees them: the list with last
 * message and unread count, members, the member's own flags, clear and
 * read, and group membership.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "conversations.h"
#include "db.h"
#include "outbox.h"
#include "reply.h"

/*
 * One page of a user's conversations in one statement of primary-key
 * lookups after an index range: the member's rows along members_user
 * (forced: with few rows the optimizer would rather walk the primary key),
 * the conversation, and its last message by the kept last_message_id
 * (hidden when the member cleared the chat after it).  The unread count is
 * the member's kept counter.  Parameters: user, before, favourites only,
 * pinned only, limit.
 */
#define CONV_LIST_SQL \
	"SELECT c.id, c.kind, c.name, me.role, me.favorite, me.pinned, " \
	"lm.id, lm.body, " SQL_TIME("lm.created_at") ", " \
	"lm.sender_id, me.unread, " SQL_TIME("c.created_at") \
	" FROM conversation_members me FORCE INDEX (members_user) " \
	"JOIN conversations c ON c.id = me.conversation_id " \
	"LEFT JOIN messages lm ON lm.id = c.last_message_id AND " \
	"lm.id > me.cleared_before " \
	"WHERE me.user_id = ? AND me.conversation_id < ? AND " \
	"(? = 0 OR me.favorite) AND (? = 0 OR me.pinned) " \
	"ORDER BY me.conversation_id DESC LIMIT ?"

enum { CL_ID, CL_KIND, CL_NAME, CL_ROLE, CL_FAV, CL_PIN, CL_LM_ID, CL_LM_BODY,
	CL_LM_TIME, CL_LM_SENDER, CL_UNREAD, CL_CREATED };

/*
 * Every member of the conversations of a page (ids lo..hi, with the same
 * filters), one statement.  Parameters: user, lo, hi, favourites only,
 * pinned only.
 */
#define CONV_PEOPLE_SQL	"SELECT mm.conversation_id, u.id, u.username, " \
	"u.email, u.first_name, u.last_name, u.avatar_url, mm.role " \
	"FROM conversation_members me FORCE INDEX (members_user) " \
	"JOIN conversation_members mm ON mm.conversation_id = " \
	"me.conversation_id JOIN users u ON u.id = mm.user_id " \
	"WHERE me.user_id = ? AND me.conversation_id BETWEEN ? AND ? AND " \
	"(? = 0 OR me.favorite) AND (? = 0 OR me.pinned) " \
	"ORDER BY mm.conversation_id DESC, mm.joined_at, mm.user_id"

/*
 * A member as JSON from columns col.. (id, username, email, first, last,
 * avatar, role).
 */
static struct json_object *
person_json(const struct db_result *r, size_t i, size_t col)
{
	struct json_object	*o = json_object_new_object();
	char			 name[256];

	json_object_object_add(o, "id",
	    json_object_new_int64(db_get_int(r, i, col)));
	json_object_object_add(o, "uid",
	    json_object_new_int64(db_get_int(r, i, col)));
	json_add_string(o, "username", db_get(r, i, col + 1));
	json_add_string(o, "email", db_get(r, i, col + 2));
	json_add_string(o, "first_name", db_get(r, i, col + 3));
	json_add_string(o, "last_name", db_get(r, i, col + 4));
	json_add_string(o, "avatar_url", db_get(r, i, col + 5));
	json_add_string(o, "role", db_get(r, i, col + 6));
	json_add_string(o, "name", conv_name_of(db_get(r, i, col + 1),
	    db_get(r, i, col + 2), db_get(r, i, col + 3), db_get(r, i, col + 4),
	    name, sizeof(name)));
	return o;
}

/* The last visible message of list row i, or NULL (JSON null). */
static struct json_object *
last_message_json(const struct db_result *r, size_t i, long long user_id)
{
	struct json_object	*o;

	if (db_is_null(r, i, CL_LM_ID))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "id",
	    json_object_new_int64(db_get_int(r, i, CL_LM_ID)));
	json_object_object_add(o, "message_id",
	    json_object_new_int64(db_get_int(r, i, CL_LM_ID)));
	json_add_string(o, "text", db_get(r, i, CL_LM_BODY));
	json_add_string(o, "created_at", db_get(r, i, CL_LM_TIME));
	json_object_object_add(o, "sender_id",
	    json_object_new_int64(db_get_int(r, i, CL_LM_SENDER)));
	json_object_object_add(o, "sent_by_me", json_object_new_boolean(
	    db_get_int(r, i, CL_LM_SENDER) == user_id));
	return o;
}

/*
 * Fill the participants of conversation o from people rows *p.. (sorted
 * like the list), and the names 003 derives from them.
 */
static void
add_people(struct json_object *o, const struct db_result *ppl, size_t *p,
    long long conv, long long user_id, int private)
{
	struct json_object	*list = json_object_new_array();
	struct json_object	*other = NULL, *x;
	const char		*names[2] = { NULL, NULL };
	size_t			 n = 0;
	char			*pair;

	for (; *p < db_rows(ppl) && db_get_int(ppl, *p, 0) == conv; (*p)++) {
		x = person_json(ppl, *p, 1);
		json_object_array_add(list, x);
		if (n < 2)
			names[n] = json_object_get_string(
			    json_object_object_get(x, "name"));
		n++;
		if (db_get_int(ppl, *p, 1) != user_id && other == NULL)
			other = x;
	}
	json_object_object_add(o, "participants", list);
	if (!private)
		return;
	if (other != NULL) {
		json_object_object_add(o, "other_user", json_object_get(other));
		json_object_object_add(o, "participant_name", json_object_get(
		    json_object_object_get(other, "name")));
	} else {
		json_object_object_add(o, "other_user", NULL);
		json_object_object_add(o, "participant_name", NULL);
	}
	/* 003 named a private chat "A & B", the names sorted. */
	if (n == 2 && !json_object_get_string_len(
	    json_object_object_get(o, "conversation_name"))) {
		if (strcmp(names[0], names[1]) > 0)
			pair = xasprintf("%s & %s", names[1], names[0]);
		else
			pair = xasprintf("%s & %s", names[0], names[1]);
		json_object_object_add(o, "conversation_name",
		    json_object_new_string(pair));
		free(pair);
	}
}

/* Row i of a conversation list as JSON (003 and REST names). */
static struct json_object *
conv_row_json(const struct db_result *r, size_t i, long long user_id)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "id",
	    json_object_new_int64(db_get_int(r, i, CL_ID)));
	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(db_get_int(r, i, CL_ID)));
	json_add_string(o, "type", db_get(r, i, CL_KIND));
	json_add_string(o, "conversation_type", db_get(r, i, CL_KIND));
	json_add_string(o, "name", db_get(r, i, CL_NAME));
	json_object_object_add(o, "conversation_name", json_object_new_string(
	    db_is_null(r, i, CL_NAME) ? "" : db_get(r, i, CL_NAME)));
	json_add_string(o, "role", db_get(r, i, CL_ROLE));
	json_object_object_add(o, "is_favorite",
	    json_object_new_boolean(db_get_int(r, i, CL_FAV)));
	json_object_object_add(o, "is_pinned",
	    json_object_new_boolean(db_get_int(r, i, CL_PIN)));
	json_object_object_add(o, "last_message",
	    last_message_json(r, i, user_id));
	json_object_object_add(o, "unread_count",
	    json_object_new_int64(db_get_int(r, i, CL_UNREAD)));
	json_add_string(o, "created_at", db_get(r, i, CL_CREATED));
	return o;
}

struct json_object *
conv_list(long long user_id, long long limit, long long before, int only,
    long long *next)
{
	struct json_object	*list, *o;
	struct db_result	*r, *ppl = NULL;
	size_t			 i, p = 0, n;

	*next = 0;
	if (before <= 0)
		before = 9223372036854775807LL;
	if (db_query(&r, CONV_LIST_SQL, "iiiii", user_id, before,
	    (long long)(only == 'f'), (long long)(only == 'p'), limit) != DB_OK)
		return NULL;
	n = db_rows(r);
	if (n > 0 && db_query(&ppl, CONV_PEOPLE_SQL, "iiiii", user_id,
	    db_get_int(r, n - 1, CL_ID), db_get_int(r, 0, CL_ID),
	    (long long)(only == 'f'), (long long)(only == 'p')) != DB_OK) {
		db_result_free(r);
		return NULL;
	}
	list = json_object_new_array();
	for (i = 0; i < n; i++) {
		o = conv_row_json(r, i, user_id);
		/* Made between the two statements: not on this page. */
		while (p < db_rows(ppl) &&
		    db_get_int(ppl, p, 0) > db_get_int(r, i, CL_ID))
			p++;
		add_people(o, ppl, &p, db_get_int(r, i, CL_ID), user_id,
		    strcmp(db_get(r, i, CL_KIND), "private") == 0);
		json_object_array_add(list, o);
	}
	if (n > 0 && (long long)n == limit)
		*next = db_get_int(r, n - 1, CL_ID);
	db_result_free(ppl);
	db_result_free(r);
	return list;
}

struct json_object *
conv_one(long long user_id, long long conv)
{
	struct json_object	*list, *o = NULL;
	long long		 next;

	if ((list = conv_list(user_id, 1, conv + 1, 0, &next)) == NULL)
		return NULL;
	if (json_object_array_length(list) == 1) {
		o = json_object_get(json_object_array_get_idx(list, 0));
		if (json_object_get_int64(json_object_object_get(o, "id")) !=
		    conv) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_object_put(list);
	return o;
}

struct json_object *
conv_members_json(long long conv)
{
	struct json_object	*list;
	struct db_result	*r;
	size_t			 i;

	if (db_query(&r, "SELECT u.id, u.username, u.email, u.first_name, "
	    "u.last_name, u.avatar_url, mm.role FROM conversation_members mm "
	    "JOIN users u ON u.id = mm.user_id WHERE mm.conversation_id = ? "
	    "ORDER BY mm.joined_at, mm.user_id LIMIT 10000", "i", conv) !=
	    DB_OK)
		return NULL;
	list = json_object_new_array();
	for (i = 0; i < db_rows(r); i++)
		json_object_array_add(list, person_json(r, i, 0));
	db_result_free(r);
	return list;
}

/* An event to user:<id>; payload borrowed.  DB_OK or DB_ERROR. */
static enum db_status
user_event(long long user_id, const char *event, struct json_object *o)
{
	char	 room[40];

	snprintf(room, sizeof(room), "user:%lld", user_id);
	return outbox_event(room, event, o) == 0 ? DB_OK : DB_ERROR;
}

struct flag {
	long long	 conv, user;
	int		 which, on;
};

static enum db_status
flag_tx(void *arg)
{
	struct flag		*f = arg;
	struct json_object	*o;
	enum db_status		 rc;

	if (f->which == 'f')
		rc = db_exec("UPDATE conversation_members SET favorite = ? "
		    "WHERE conversation_id = ? AND user_id = ?", "iii",
		    (long long)f->on, f->conv, f->user);
	else
		rc = db_exec("UPDATE conversation_members SET pinned = ? "
		    "WHERE conversation_id = ? AND user_id = ?", "iii",
		    (long long)f->on, f->conv, f->user);
	if (rc != DB_OK || db_affected() == 0)
		return rc;
	/* The member's other devices show the flag: a user-level event. */
	o = json_object_new_object();
	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(f->conv));
	json_object_object_add(o, f->which == 'f' ? "is_favorite" :
	    "is_pinned", json_object_new_boolean(f->on));
	rc = user_event(f->user, "conversation_updated", o);
	json_object_put(o);
	return rc;
}

enum db_status
conv_set_flag(long long conv, long long user_id, int which, int on)
{
	struct flag	 f = { conv, user_id, which, on };

	return db_transaction(flag_tx, &f);
}

static enum db_status
clear_tx(void *arg)
{
	long long		*a = arg;
	struct json_object	*o;
	enum db_status		 rc;

	if ((rc = db_exec("UPDATE conversation_members SET cleared_before = "
	    "(SELECT COALESCE(MAX(id), 0) FROM messages WHERE "
	    "conversation_id = ?), cleared_at = UTC_TIMESTAMP(6), unread = 0 "
	    "WHERE "
	    "conversation_id = ? AND user_id = ?", "iii", a[0], a[0], a[1])) !=
	    DB_OK)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(a[0]));
	json_object_object_add(o, "cleared", json_object_new_boolean(1));
	rc = user_event(a[1], "conversation_updated", o);
	json_object_put(o);
	return rc;
}

enum db_status
conv_clear(long long conv, long long user_id)
{
	long long	 a[2] = { conv, user_id };

	return db_transaction(clear_tx, a);
}

struct mark {
	long long	 conv, user, n;
};

static enum db_status
read_tx(void *arg)
{
	struct mark		*m = arg;
	struct json_object	*o, *ids;
	struct db_result	*r;
	enum db_status		 rc;
	char			 room[40];
	size_t			 i;

	m->n = 0;
	if ((rc = db_query(&r, "SELECT message_id FROM receipts WHERE "
	    "user_id = ? AND conversation_id = ? AND status IN ('sent', "
	    "'delivered') ORDER BY message_id FOR UPDATE", "ii", m->user,
	    m->conv)) != DB_OK)
		return rc;
	if (db_rows(r) == 0) {
		db_result_free(r);
		return DB_OK;
	}
	/* The reader's receipts only, never the other recipients'. */
	if ((rc = db_exec("UPDATE receipts SET status = 'read', updated_at = "
	    "UTC_TIMESTAMP(6) WHERE user_id = ? AND conversation_id = ? AND "
	    "status IN ('sent', 'delivered')", "ii", m->user, m->conv)) !=
	    DB_OK) {
		db_result_free(r);
		return rc;
	}
	m->n = (long long)db_rows(r);
	if ((rc = db_exec("UPDATE conversation_members SET unread = "
	    "IF(unread > ?, unread - ?, 0) WHERE conversation_id = ? AND "
	    "user_id = ?", "iiii", m->n, m->n, m->conv, m->user)) != DB_OK) {
		db_result_free(r);
		return rc;
	}
	ids = json_object_new_array();
	for (i = 0; i < db_rows(r); i++)
		json_object_array_add(ids,
		    json_object_new_int64(db_get_int(r, i, 0)));
	db_result_free(r);
	o = json_object_new_object();
	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(m->conv));
	json_object_object_add(o, "reader_id", json_object_new_int64(m->user));
	json_object_object_add(o, "message_ids", ids);
	json_add_string(o, "status", "read");
	rc = outbox_event(conv_room(room, sizeof(room), m->conv),
	    "messages_read", o) == 0 ? DB_OK : DB_ERROR;
	json_object_put(o);
	return rc;
}

enum db_status
conv_mark_read(long long conv, long long user_id, long long *n)
{
	struct mark	 m = { conv, user_id, 0 };
	enum db_status	 rc;

	rc = db_transaction(read_tx, &m);
	*n = m.n;
	return rc;
}

/* A membership event to the conversation's room and the member's own. */
static enum db_status
member_event(const char *event, long long conv, long long user,
    const char *role, long long by)
{
	struct json_object	*o = json_object_new_object();
	char			 room[40];
	enum db_status		 rc = DB_OK;

	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(conv));
	json_object_object_add(o, "user_id", json_object_new_int64(user));
	json_add_string(o, "role", role);
	json_object_object_add(o, "by", json_object_new_int64(by));
	if (outbox_event(conv_room(room, sizeof(room), conv), event, o) != 0 ||
	    user_event(user, event, o) != DB_OK)
		rc = DB_ERROR;
	json_object_put(o);
	return rc;
}

struct group {
	long long		 creator;
	const char		*name;
	const long long		*members;
	size_t			 n;
	long long		 id;
};

static enum db_status
group_tx(void *arg)
{
	struct group	*g = arg;
	enum db_status	 rc;
	size_t		 i;

	if ((rc = db_exec("INSERT INTO conversations (kind, name, created_by) "
	    "VALUES ('group', ?, ?)", "si", g->name, g->creator)) != DB_OK)
		return rc;
	g->id = (long long)db_insert_id();
	if ((rc = db_exec("INSERT INTO conversation_members (conversation_id, "
	    "user_id, role) VALUES (?, ?, 'admin')", "ii", g->id,
	    g->creator)) != DB_OK)
		return rc;
	for (i = 0; i < g->n; i++) {
		/* Unknown users and repeats are skipped, as 003 did. */
		if ((rc = db_exec("INSERT IGNORE INTO conversation_members "
		    "(conversation_id, user_id) SELECT ?, id FROM users WHERE "
		    "id = ?", "ii", g->id, g->members[i])) != DB_OK)
			return rc;
		if (db_affected() == 1 && (rc = member_event("member_added",
		    g->id, g->members[i], "member", g->creator)) != DB_OK)
			return rc;
	}
	return DB_OK;
}

enum db_status
conv_group_create(long long creator, const char *name,
    const long long *members, size_t n, long long *id)
{
	struct group	 g = { creator, name, members, n, 0 };
	enum db_status	 rc;

	rc = db_transaction(group_tx, &g);
	*id = g.id;
	return rc;
}

struct change {
	long long	 conv, user, by;
};

static enum db_status
add_tx(void *arg)
{
	struct change	*c = arg;
	enum db_status	 rc;

	if ((rc = db_exec("INSERT INTO conversation_members (conversation_id, "
	    "user_id) VALUES (?, ?)", "ii", c->conv, c->user)) != DB_OK)
		return rc;
	return member_event("member_added", c->conv, c->user, "member", c->by);
}

enum db_status
conv_member_add(long long conv, long long user, long long by)
{
	struct change	 c = { conv, user, by };

	return db_transaction(add_tx, &c);
}

static enum db_status
remove_tx(void *arg)
{
	struct change		*c = arg;
	struct db_result	*r;
	enum db_status		 rc;
	long long		 members, admins, heir;

	if ((rc = db_exec("DELETE FROM conversation_members WHERE "
	    "conversation_id = ? AND user_id = ?", "ii", c->conv, c->user)) !=
	    DB_OK)
		return rc;
	if (db_affected() == 0)
		return DB_REFUSED;
	if ((rc = member_event("member_removed", c->conv, c->user, "member",
	    c->by)) != DB_OK)
		return rc;
	if ((rc = db_query(&r, "SELECT COUNT(*), SUM(role = 'admin') FROM "
	    "conversation_members WHERE conversation_id = ? FOR UPDATE", "i",
	    c->conv)) != DB_OK)
		return rc;
	members = db_get_int(r, 0, 0);
	admins = db_get_int(r, 0, 1);
	db_result_free(r);
	if (members == 0)
		return db_exec("DELETE FROM conversations WHERE id = ?", "i",
		    c->conv);
	if (admins > 0)
		return DB_OK;
	/* The last admin left: the longest-standing member takes over. */
	if ((rc = db_query(&r, "SELECT user_id FROM conversation_members WHERE "
	    "conversation_id = ? ORDER BY joined_at, user_id LIMIT 1", "i",
	    c->conv)) != DB_OK)
		return rc;
	heir = db_get_int(r, 0, 0);
	db_result_free(r);
	if ((rc = db_exec("UPDATE conversation_members SET role = 'admin' "
	    "WHERE conversation_id = ? AND user_id = ?", "ii", c->conv,
	    heir)) != DB_OK)
		return rc;
	return member_event("member_role", c->conv, heir, "admin", c->by);
}

enum db_status
conv_member_remove(long long conv, long long user, long long by)
{
	struct change	 c = { conv, user, by };

	return db_transaction(remove_tx, &c);
}
