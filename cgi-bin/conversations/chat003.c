/*
 * chat003.c -- seed 003's conversation routes (POST /api/user/...): start a
 * conversation, list them, read messages, mark read, clear, favourites,
 * pinned and participants.  Identity is the token's; a body "email" may
 * only repeat it (403).  Every answer is {"status_code", "message", ...}
 * with the HTTP status equal to status_code.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "conversations.h"
#include "db.h"
#include "reply.h"
#include "request.h"
#include "user.h"
#include "valid.h"

#define NOT_MEMBER	"User not part of this conversation."

/* {"status_code": 200, "message": msg} plus what the caller adds. */
static struct json_object *
ok_body(const char *msg)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "status_code", json_object_new_int(200));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

/*
 * The body's conversation_id, checked to be a conversation the caller is
 * a member of (the public room is not one of 003's).  Returns 0 with *conv
 * and *a set, or the status of the error written.
 */
static int
member_conv(struct request *req, struct reply *rep, long long *conv,
    struct conv_access *a)
{
	static const struct field f = { "conversation_id", FIELD_INT,
	    FIELD_REQUIRED, 1, 9223372036854775807LL, NULL };
	struct field_value	 v;
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "email")) != 0)
		return rc;
	if ((rc = body_fields(req, rep, &f, 1, &v)) != 0)
		return rc;
	*conv = v.i;
	body_values_free(&v, 1);
	if (conv_access(*conv, req->auth.user_id, a) == -1)
		return reply_db_error(rep);
	if (!a->member)
		return reply_error(rep, 400, "not_member", NOT_MEMBER);
	return 0;
}

/* participants: an array of e-mail strings; their user ids into ids. */
static int
participant_ids(struct request *req, struct reply *rep,
    struct json_object *arr, long long *ids, size_t *n)
{
	struct json_object	*x;
	struct user		 u;
	size_t			 i, len = json_object_array_length(arr);

	*n = 0;
	if (len == 0 || len > 1000)
		return reply_error(rep, 400, "missing_fields", "Missing "
		    "required fields: created_by_email or participants");
	for (i = 0; i < len; i++) {
		x = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(x, json_type_string))
			return reply_invalid(rep, "participants",
			    "must be a list of e-mail addresses");
		switch (user_find_by_email(json_object_get_string(x), &u)) {
		case -1:
			return reply_db_error(rep);
		case 1:
			/* Unknown addresses are dropped, as 003 did. */
			if (u.id != req->auth.user_id)
				ids[(*n)++] = u.id;
			user_free(&u);
		}
	}
	if (*n == 0)
		return reply_error(rep, 407, "not_found",
		    "No valid participants found.");
	return 0;
}

struct start {
	long long	 me;
	long long	*ids;
	size_t		 n;
};

static enum db_status
direct_tx(void *arg)
{
	struct start	*s = arg;
	enum db_status	 rc;
	size_t		 i;
	int		 created;

	/* One private chat per participant, reused when it exists. */
	for (i = 0; i < s->n; i++)
		if ((rc = conv_private_get(s->me, s->ids[i], &s->ids[i],
		    &created)) != DB_OK)
			return rc;
	return DB_OK;
}

/*
 * conversation_start {created_by_email, participants: [emails],
 * conversation_name, conversation_type}: "group" makes one group with the
 * caller as admin; "direct" or "private" gets or makes the private chat
 * with each participant.  200 {"conversation_id": [ids]}.
 */
int
tb_conversation_start(struct request *req, struct reply *rep)
{
	static const struct field f[] = {
		{ "participants", FIELD_ARRAY, 0, 0, 0, NULL },
		{ "conversation_name", FIELD_STRING, FIELD_EMPTY_OK, 0, 255,
		    valid_text },
		{ "conversation_type", FIELD_STRING, 0, 0, 16, NULL },
	};
	struct field_value	 v[nitems(f)];
	struct json_object	*o, *ids;
	struct start		 s = { req->auth.user_id, NULL, 0 };
	const char		*type;
	long long		 id;
	size_t			 i;
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "created_by_email")) != 0)
		return rc;
	if ((rc = body_fields(req, rep, f, nitems(f), v)) != 0)
		return rc;
	type = v[2].present ? v[2].s : "direct";
	if (!v[0].present) {
		rc = reply_error(rep, 400, "missing_fields", "Missing required "
		    "fields: created_by_email or participants");
		goto out;
	}
	if (strcmp(type, "group") != 0 && strcmp(type, "direct") != 0 &&
	    strcmp(type, "private") != 0) {
		rc = reply_invalid(rep, "conversation_type",
		    "must be direct, private or group");
		goto out;
	}
	s.ids = xcalloc(json_object_array_length(v[0].o) + 1,
	    sizeof(*s.ids));
	if ((rc = participant_ids(req, rep, v[0].o, s.ids, &s.n)) != 0)
		goto out;
	ids = json_object_new_array();
	if (strcmp(type, "group") == 0) {
		if (conv_group_create(s.me, v[1].present ? v[1].s : "",
		    s.ids, s.n, &id) != DB_OK) {
			json_object_put(ids);
			rc = reply_db_error(rep);
			goto out;
		}
		json_object_array_add(ids, json_object_new_int64(id));
	} else {
		if (db_transaction(direct_tx, &s) != DB_OK) {
			json_object_put(ids);
			rc = reply_db_error(rep);
			goto out;
		}
		for (i = 0; i < s.n; i++)
			json_object_array_add(ids,
			    json_object_new_int64(s.ids[i]));
	}
	o = ok_body("Conversation created successfully");
	json_object_object_add(o, "conversation_id", ids);
	rc = reply_json(rep, 200, o);
out:
	free(s.ids);
	body_values_free(v, nitems(v));
	return rc;
}

/* A page of the caller's conversations under key (003 names). */
static int
reply_list(struct request *req, struct reply *rep, const char *msg,
    const char *key, int only)
{
	struct json_object	*o, *list;
	struct page		 pg;
	long long		 next;
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "email")) != 0)
		return rc;
	if ((rc = request_page(req, rep, conv_page_size(), conv_page_max(),
	    &pg)) != 0)
		return rc;
	if ((list = conv_list(req->auth.user_id, pg.limit, pg.before, only,
	    &next)) == NULL)
		return reply_db_error(rep);
	o = ok_body(msg);
	json_object_object_add(o, key, list);
	json_object_object_add(o, "next_before",
	    next ? json_object_new_int64(next) : NULL);
	return reply_json(rep, 200, o);
}

/* conversations {email}: 200 {"conversations": [...]}. */
int
tb_conversations(struct request *req, struct reply *rep)
{
	return reply_list(req, rep, "Conversations fetched successfully",
	    "conversations", 0);
}

int
tb_list_favorites(struct request *req, struct reply *rep)
{
	return reply_list(req, rep,
	    "Favorite conversations fetched successfully", "favorites", 'f');
}

int
tb_list_pinned(struct request *req, struct reply *rep)
{
	return reply_list(req, rep,
	    "Pinned conversations fetched successfully", "pinned", 'p');
}

/*
 * get_messages {email, conversation_id}: 200 with the list under
 * "message" (as 003 answered) and under "messages"; 400 not a member.
 */
int
tb_get_messages(struct request *req, struct reply *rep)
{
	struct json_object	*o, *list;
	struct conv_access	 a;
	struct db_result	*r;
	struct page		 pg;
	long long		 conv;
	size_t			 i;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if ((rc = request_page(req, rep, conv_page_size(), conv_page_max(),
	    &pg)) != 0)
		return rc;
	if ((r = msg_page(conv, req->auth.user_id, a.cleared_before, pg.limit,
	    pg.before)) == NULL)
		return reply_db_error(rep);
	list = json_object_new_array();
	for (i = db_rows(r); i > 0; i--)
		json_object_array_add(list,
		    msg_json(r, i - 1, MSG_003, req->auth.user_id));
	db_result_free(r);
	o = json_object_new_object();
	json_object_object_add(o, "status_code", json_object_new_int(200));
	json_object_object_add(o, "message", list);
	json_object_object_add(o, "messages", json_object_get(list));
	return reply_json(rep, 200, o);
}

/* message_read {email, conversation_id}: the caller's receipts only. */
int
tb_message_read(struct request *req, struct reply *rep)
{
	struct json_object	*o;
	struct conv_access	 a;
	long long		 conv, n;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if (conv_mark_read(conv, req->auth.user_id, &n) != DB_OK)
		return reply_db_error(rep);
	o = ok_body("Messages marked as read");
	json_object_object_add(o, "read", json_object_new_int64(n));
	return reply_json(rep, 200, o);
}

/* clear_chat {email, conversation_id}: hides older messages for the caller. */
int
tb_clear_chat(struct request *req, struct reply *rep)
{
	struct conv_access	 a;
	long long		 conv;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if (conv_clear(conv, req->auth.user_id) != DB_OK)
		return reply_db_error(rep);
	return reply_message(rep, 200, "Chat cleared successfully.");
}

/* Set the caller's flag which on conversation_id; 200 msg. */
static int
set_flag(struct request *req, struct reply *rep, int which, int on,
    const char *msg)
{
	struct conv_access	 a;
	long long		 conv;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if (conv_set_flag(conv, req->auth.user_id, which, on) != DB_OK)
		return reply_db_error(rep);
	return reply_message(rep, 200, msg);
}

int
tb_add_favorite(struct request *req, struct reply *rep)
{
	return set_flag(req, rep, 'f', 1,
	    "Conversation added to favorites successfully");
}

int
tb_remove_favorite(struct request *req, struct reply *rep)
{
	return set_flag(req, rep, 'f', 0,
	    "Conversation removed from favorites successfully");
}

int
tb_add_pinned(struct request *req, struct reply *rep)
{
	return set_flag(req, rep, 'p', 1, "Conversation pinned successfully");
}

int
tb_remove_pinned(struct request *req, struct reply *rep)
{
	return set_flag(req, rep, 'p', 0, "Removed from pinned successfully");
}

/* is_favorite {email, conversation_id}: 200 {"is_favorite": bool}. */
int
tb_is_favorite(struct request *req, struct reply *rep)
{
	struct json_object	*o, *c;
	struct conv_access	 a;
	long long		 conv;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if ((c = conv_one(req->auth.user_id, conv)) == NULL)
		return reply_db_error(rep);
	o = ok_body("Favorite status fetched successfully");
	json_object_object_add(o, "is_favorite",
	    json_object_get(json_object_object_get(c, "is_favorite")));
	json_object_put(c);
	return reply_json(rep, 200, o);
}

/* get_group_participants {conversation_id}: members only. */
int
tb_group_participants(struct request *req, struct reply *rep)
{
	struct json_object	*o, *list;
	struct conv_access	 a;
	long long		 conv;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if ((list = conv_members_json(conv)) == NULL)
		return reply_db_error(rep);
	o = ok_body("Group participants fetched successfully");
	json_object_object_add(o, "participants", list);
	return reply_json(rep, 200, o);
}

/*
 * get_direct_users {email}: the users the caller has a private chat with,
 * newest chat first.  200 {"message": 200, "users": [...]} as 003 wrote.
 */
int
tb_direct_users(struct request *req, struct reply *rep)
{
	struct json_object	*o, *list, *u;
	struct db_result	*r;
	struct page		 pg;
	size_t			 i;
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "email")) != 0)
		return rc;
	if ((rc = request_page(req, rep, conv_page_size(), conv_page_max(),
	    &pg)) != 0)
		return rc;
	if (db_query(&r, "SELECT u.id, u.email, u.first_name, u.last_name, "
	    "u.username, u.avatar_url, c.id FROM conversation_members me "
	    "JOIN conversations c ON c.id = me.conversation_id AND "
	    "c.kind = 'private' JOIN conversation_members o ON "
	    "o.conversation_id = c.id AND o.user_id <> me.user_id "
	    "JOIN users u ON u.id = o.user_id WHERE me.user_id = ? AND "
	    "me.conversation_id < ? ORDER BY me.conversation_id DESC LIMIT ?",
	    "iii", req->auth.user_id, pg.before > 0 ? pg.before :
	    9223372036854775807LL, pg.limit) != DB_OK)
		return reply_db_error(rep);
	list = json_object_new_array();
	for (i = 0; i < db_rows(r); i++) {
		u = json_object_new_object();
		json_object_object_add(u, "id",
		    json_object_new_int64(db_get_int(r, i, 0)));
		json_add_string(u, "email", db_get(r, i, 1));
		json_add_string(u, "first_name", db_get(r, i, 2));
		json_add_string(u, "last_name", db_get(r, i, 3));
		json_add_string(u, "username", db_get(r, i, 4));
		json_add_string(u, "profile_image", db_get(r, i, 5));
		json_object_object_add(u, "conversation_id",
		    json_object_new_int64(db_get_int(r, i, 6)));
		json_object_array_add(list, u);
	}
	db_result_free(r);
	o = json_object_new_object();
	json_object_object_add(o, "status_code", json_object_new_int(200));
	json_object_object_add(o, "message", json_object_new_int(200));
	json_object_object_add(o, "users", list);
	return reply_json(rep, 200, o);
}
