/*
 * rest.c -- fastback's own REST routes over the same conversations as
 * seeds 002 and 003: /api/conversations, their messages with cursor
 * pages, read and clear, members, favourite and pin.  A conversation the
 * caller is not in answers 404, as one that does not exist.
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
#include "valid.h"

/*
 * The {id} of the path, a conversation the caller may use.  Returns 0
 * with *conv and *a set, or the status of the 404 written.
 */
static int
usable_conv(struct request *req, struct reply *rep, long long *conv,
    struct conv_access *a)
{
	*conv = request_capture_id(req, "id");
	memset(a, 0, sizeof(*a));
	if (*conv > 0 && conv_access(*conv, req->auth.user_id, a) == -1)
		return reply_db_error(rep);
	if (!conv_can_use(a))
		return reply_error(rep, 404, "conversation_not_found",
		    "Conversation not found");
	return 0;
}

/* As usable_conv(), but the caller must be a member (not the public room). */
static int
member_conv(struct request *req, struct reply *rep, long long *conv,
    struct conv_access *a)
{
	int	 rc;

	if ((rc = usable_conv(req, rep, conv, a)) != 0)
		return rc;
	if (!a->member)
		return reply_error(rep, 404, "conversation_not_found",
		    "Conversation not found");
	return 0;
}

/* The caller's conversation conv as {"conversation": {...}}, status. */
static int
reply_conv(struct request *req, struct reply *rep, long long conv,
    int status)
{
	struct json_object	*o, *c;

	if ((c = conv_one(req->auth.user_id, conv)) == NULL)
		return reply_db_error(rep);
	o = json_object_new_object();
	json_object_object_add(o, "conversation", c);
	return reply_json(rep, status, o);
}

/*
 * GET /api/conversations?limit=&before=: the caller's private chats and
 * groups, newest first, with participants, last_message, unread_count and
 * the caller's flags.  200 {"conversations", "next_before"}.
 */
int
rest_conv_list(struct request *req, struct reply *rep)
{
	struct json_object	*o, *list;
	struct page		 pg;
	long long		 next;
	int			 rc;

	if ((rc = request_page(req, rep, conv_page_size(), conv_page_max(),
	    &pg)) != 0)
		return rc;
	if ((list = conv_list(req->auth.user_id, pg.limit, pg.before, 0,
	    &next)) == NULL)
		return reply_db_error(rep);
	o = json_object_new_object();
	json_object_object_add(o, "conversations", list);
	json_object_object_add(o, "next_before",
	    next ? json_object_new_int64(next) : NULL);
	return reply_json(rep, 200, o);
}

/* GET /api/conversations/{id}: 200 {"conversation"}; 404. */
int
rest_conv_get(struct request *req, struct reply *rep)
{
	struct conv_access	 a;
	long long		 conv;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	return reply_conv(req, rep, conv, 200);
}

static enum db_status
private_tx(void *arg)
{
	long long	*a = arg;
	int		 created;
	enum db_status	 rc;

	rc = conv_private_get(a[0], a[1], &a[2], &created);
	a[3] = created;
	return rc;
}

/*
 * The private chat of the caller and user: 0 with *conv and *created, or
 * the status of the 400 (yourself) or 404 (no such user) written.
 */
static int
private_with(struct request *req, struct reply *rep, long long user,
    long long *conv, int *created)
{
	long long	 a[4] = { req->auth.user_id, user, 0, 0 };

	if (user == req->auth.user_id)
		return reply_error(rep, 400, "self",
		    "Cannot start a private chat with yourself");
	switch (user > 0 ? conv_user_exists(user) : 0) {
	case -1:
		return reply_db_error(rep);
	case 0:
		return reply_error(rep, 404, "user_not_found",
		    "User not found");
	}
	if (db_transaction(private_tx, a) != DB_OK)
		return reply_db_error(rep);
	*conv = a[2];
	*created = (int)a[3];
	return 0;
}

/*
 * POST /api/private-chats/{user_id}: get or make the private
 * chat with that user (the notifier's join_private).  200 or 201
 * {"chat_id", "conversation_id", "created", "other_user", "conversation"}.
 */
int
rest_private(struct request *req, struct reply *rep)
{
	struct json_object	*o, *c, *other;
	long long		 conv;
	int			 created, rc;

	if ((rc = private_with(req, rep, request_capture_id(req, "user_id"),
	    &conv, &created)) != 0)
		return rc;
	if ((c = conv_one(req->auth.user_id, conv)) == NULL)
		return reply_db_error(rep);
	o = json_object_new_object();
	json_object_object_add(o, "chat_id", json_object_new_int64(conv));
	json_object_object_add(o, "conversation_id",
	    json_object_new_int64(conv));
	json_object_object_add(o, "created", json_object_new_boolean(created));
	other = json_object_object_get(c, "other_user");
	json_object_object_add(o, "other_user", json_object_get(other));
	json_object_object_add(o, "conversation", c);
	return reply_json(rep, created ? 201 : 200, o);
}

/*
 * POST /api/conversations {"type": "private", "user_id"} or {"type":
 * "group", "name", "member_ids": [...]}: 201 {"conversation"} (200 when
 * the private chat existed); 400; 404 no such user.
 */
int
rest_conv_create(struct request *req, struct reply *rep)
{
	static const struct field f[] = {
		{ "type", FIELD_STRING, FIELD_REQUIRED, 1, 16, NULL },
		{ "user_id", FIELD_INT, 0, 1, 9223372036854775807LL, NULL },
		{ "name", FIELD_STRING, FIELD_TRIM, 1, 255, valid_text },
		{ "member_ids", FIELD_ARRAY, 0, 0, 0, NULL },
	};
	struct field_value	 v[nitems(f)];
	struct json_object	*x;
	long long		*ids = NULL, conv;
	size_t			 i, n = 0;
	int			 created, rc;

	if ((rc = body_fields(req, rep, f, nitems(f), v)) != 0)
		return rc;
	if (strcmp(v[0].s, "private") == 0) {
		if (!v[1].present) {
			rc = reply_invalid(rep, "user_id", "is required");
			goto out;
		}
		if ((rc = private_with(req, rep, v[1].i, &conv,
		    &created)) != 0)
			goto out;
		rc = reply_conv(req, rep, conv, created ? 201 : 200);
		goto out;
	}
	if (strcmp(v[0].s, "group") != 0) {
		rc = reply_invalid(rep, "type", "must be private or group");
		goto out;
	}
	if (!v[2].present) {
		rc = reply_invalid(rep, "name", "is required");
		goto out;
	}
	if (v[3].present) {
		n = json_object_array_length(v[3].o);
		if (n > 1000) {
			rc = reply_invalid(rep, "member_ids",
			    "at most 1000 members");
			goto out;
		}
		ids = xcalloc(n + 1, sizeof(*ids));
		for (i = 0; i < n; i++) {
			x = json_object_array_get_idx(v[3].o, i);
			if (!json_object_is_type(x, json_type_int) ||
			    (ids[i] = json_object_get_int64(x)) <= 0) {
				rc = reply_invalid(rep, "member_ids",
				    "must be a list of user ids");
				goto out;
			}
		}
	}
	if (conv_group_create(req->auth.user_id, v[2].trimmed ? v[2].trimmed :
	    v[2].s, ids, n, &conv) != DB_OK) {
		rc = reply_db_error(rep);
		goto out;
	}
	rc = reply_conv(req, rep, conv, 201);
out:
	free(ids);
	body_values_free(v, nitems(v));
	return rc;
}

/*
 * GET /api/conversations/{id}/messages?limit=&before=: newest page,
 * oldest to newest within it, with each message's status.  Id 1 is the
 * public room.  200 {"messages", "next_before"}; 404.
 */
int
rest_msg_list(struct request *req, struct reply *rep)
{
	struct json_object	*o, *list;
	struct conv_access	 a;
	struct db_result	*r;
	struct page		 pg;
	long long		 conv;
	size_t			 i;
	int			 rc;

	if ((rc = usable_conv(req, rep, &conv, &a)) != 0)
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
		    msg_json(r, i - 1, MSG_REST, req->auth.user_id));
	o = json_object_new_object();
	json_object_object_add(o, "messages", list);
	json_object_object_add(o, "next_before",
	    (long long)db_rows(r) == pg.limit ? json_object_new_int64(
	    db_get_int(r, db_rows(r) - 1, MC_ID)) : NULL);
	db_result_free(r);
	return reply_json(rep, 200, o);
}

/*
 * POST /api/conversations/{id}/messages {"content"|"body"}: 201
 * {"message", "frame"} (frame: 003's acknowledgement); 400; 404.
 */
int
rest_msg_post(struct request *req, struct reply *rep)
{
	struct json_object	*o;
	struct conv_access	 a;
	struct db_result	*row;
	const char		*text;
	long long		 conv;
	int			 rc;

	if ((rc = usable_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if ((rc = msg_content(req, rep, &text)) != 0)
		return rc;
	if (msg_post(conv, a.kind, req->auth.user_id, text, &row) != DB_OK)
		return reply_db_error(rep);
	o = json_object_new_object();
	json_object_object_add(o, "message",
	    msg_json(row, 0, MSG_REST, req->auth.user_id));
	/* 003's acknowledgement, for the notifier's send_message_ws. */
	json_object_object_add(o, "frame", msg_frame(row, "sent"));
	db_result_free(row);
	return reply_json(rep, 201, o);
}

/*
 * DELETE /api/conversations/{id}/messages/{message_id}: the sender only.
 * 200; 403 not yours; 404.
 */
int
rest_msg_delete(struct request *req, struct reply *rep)
{
	struct conv_access	 a;
	struct db_result	*row = NULL;
	long long		 conv, id;
	int			 found;

	if ((found = usable_conv(req, rep, &conv, &a)) != 0)
		return found;
	id = request_capture_id(req, "message_id");
	if ((found = id > 0 ? msg_find(id, req->auth.user_id, &row) : 0) == -1)
		return reply_db_error(rep);
	if (found && db_get_int(row, 0, MC_CONV) != conv)
		found = 0;
	if (!found) {
		db_result_free(row);
		return reply_error(rep, 404, "message_not_found",
		    "Message not found");
	}
	found = db_get_int(row, 0, MC_SENDER) == req->auth.user_id;
	db_result_free(row);
	if (!found)
		return reply_error(rep, 403, "forbidden",
		    "You can only delete your own messages");
	switch (msg_delete(conv, a.kind, id)) {
	case DB_OK:
	case DB_REFUSED:
		return reply_message(rep, 200, "Message deleted");
	default:
		return reply_db_error(rep);
	}
}

/* POST /api/conversations/{id}/read: 200 {"read": n}; 404. */
int
rest_read(struct request *req, struct reply *rep)
{
	struct json_object	*o;
	struct conv_access	 a;
	long long		 conv, n;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if (conv_mark_read(conv, req->auth.user_id, &n) != DB_OK)
		return reply_db_error(rep);
	o = json_object_new_object();
	json_object_object_add(o, "message",
	    json_object_new_string("Messages marked as read"));
	json_object_object_add(o, "read", json_object_new_int64(n));
	return reply_json(rep, 200, o);
}

/* POST /api/conversations/{id}/clear: 200; 404. */
int
rest_clear(struct request *req, struct reply *rep)
{
	struct conv_access	 a;
	long long		 conv;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if (conv_clear(conv, req->auth.user_id) != DB_OK)
		return reply_db_error(rep);
	return reply_message(rep, 200, "Chat cleared");
}

/* GET /api/conversations/{id}/members: 200 {"members"}; 404. */
int
rest_members(struct request *req, struct reply *rep)
{
	struct json_object	*o, *list;
	struct conv_access	 a;
	long long		 conv;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if ((list = conv_members_json(conv)) == NULL)
		return reply_db_error(rep);
	o = json_object_new_object();
	json_object_object_add(o, "members", list);
	return reply_json(rep, 200, o);
}

/*
 * A group the caller administers: 0, or the status of the 404 (not a
 * member), 400 (not a group) or 403 (not an admin) written.
 */
static int
admin_conv(struct request *req, struct reply *rep, long long *conv,
    struct conv_access *a)
{
	int	 rc;

	if ((rc = member_conv(req, rep, conv, a)) != 0)
		return rc;
	if (a->kind != CONV_GROUP)
		return reply_error(rep, 400, "not_a_group",
		    "Only groups have a changeable membership");
	if (!a->admin)
		return reply_error(rep, 403, "forbidden",
		    "Only the group's admins manage its members");
	return 0;
}

/* POST /api/conversations/{id}/members {"user_id"}: admins.  201; 409. */
int
rest_member_add(struct request *req, struct reply *rep)
{
	static const struct field f = { "user_id", FIELD_INT, FIELD_REQUIRED,
	    1, 9223372036854775807LL, NULL };
	struct field_value	 v;
	struct conv_access	 a;
	long long		 conv, user;
	int			 rc;

	if ((rc = body_fields(req, rep, &f, 1, &v)) != 0)
		return rc;
	user = v.i;
	body_values_free(&v, 1);
	if ((rc = admin_conv(req, rep, &conv, &a)) != 0)
		return rc;
	switch (conv_member_add(conv, user, req->auth.user_id)) {
	case DB_OK:
		break;
	case DB_DUPLICATE:
		return reply_error(rep, 409, "already_member",
		    "The user is already a member");
	case DB_REFUSED:
		return reply_error(rep, 404, "user_not_found",
		    "User not found");
	default:
		return reply_db_error(rep);
	}
	return reply_conv(req, rep, conv, 201);
}

/*
 * DELETE /api/conversations/{id}/members/{user_id}: admins remove anyone,
 * members themselves (leave).  200; 403; 404.
 */
int
rest_member_remove(struct request *req, struct reply *rep)
{
	struct conv_access	 a;
	long long		 conv, user;
	int			 rc;

	user = request_capture_id(req, "user_id");
	if (user == req->auth.user_id) {
		if ((rc = member_conv(req, rep, &conv, &a)) != 0)
			return rc;
		if (a.kind != CONV_GROUP)
			return reply_error(rep, 400, "not_a_group",
			    "Only groups have a changeable membership");
	} else if ((rc = admin_conv(req, rep, &conv, &a)) != 0)
		return rc;
	switch (user > 0 ? conv_member_remove(conv, user, req->auth.user_id) :
	    DB_REFUSED) {
	case DB_OK:
		return reply_message(rep, 200, "Member removed");
	case DB_REFUSED:
		return reply_error(rep, 404, "not_member",
		    "The user is not a member");
	default:
		return reply_db_error(rep);
	}
}

/* Set the caller's flag; 200 {"conversation"}; 404. */
static int
flag(struct request *req, struct reply *rep, int which, int on)
{
	struct conv_access	 a;
	long long		 conv;
	int			 rc;

	if ((rc = member_conv(req, rep, &conv, &a)) != 0)
		return rc;
	if (conv_set_flag(conv, req->auth.user_id, which, on) != DB_OK)
		return reply_db_error(rep);
	return reply_conv(req, rep, conv, 200);
}

int
rest_favorite_on(struct request *req, struct reply *rep)
{
	return flag(req, rep, 'f', 1);
}

int
rest_favorite_off(struct request *req, struct reply *rep)
{
	return flag(req, rep, 'f', 0);
}

int
rest_pin_on(struct request *req, struct reply *rep)
{
	return flag(req, rep, 'p', 1);
}

int
rest_pin_off(struct request *req, struct reply *rep)
{
	return flag(req, rep, 'p', 0);
}
