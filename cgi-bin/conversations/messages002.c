/*
 * messages002.c -- seed 002's messages: the public room (GET/POST
 * /api/messages, DELETE /api/messages/{id}) and private chats
 * (/api/messages/private/{other_user_id}[/{message_id}]).  A private chat
 * here is the private conversation of the same two users in seed 003's
 * routes and the REST ones.
 */
#include <json-c/json.h>

#include "alloc.h"
#include "conversations.h"
#include "db.h"
#include "reply.h"
#include "request.h"

/* {"messages": [...]} of a page of conv, oldest to newest. */
static int
reply_messages(struct request *req, struct reply *rep, long long conv,
    long long cleared, enum msg_shape shape)
{
	struct json_object	*o, *list;
	struct db_result	*r;
	struct page		 pg;
	size_t			 i;
	int			 rc;

	if ((rc = request_page(req, rep, conv_page_size(), conv_page_max(),
	    &pg)) != 0)
		return rc;
	if ((r = msg_page(conv, req->auth.user_id, cleared, pg.limit,
	    pg.before)) == NULL)
		return reply_db_error(rep);
	list = json_object_new_array();
	for (i = db_rows(r); i > 0; i--)
		json_object_array_add(list,
		    msg_json(r, i - 1, shape, req->auth.user_id));
	o = json_object_new_object();
	json_object_object_add(o, "messages", list);
	if ((long long)db_rows(r) == pg.limit)
		json_object_object_add(o, "next_before", json_object_new_int64(
		    db_get_int(r, db_rows(r) - 1, MC_ID)));
	else
		json_object_object_add(o, "next_before", NULL);
	db_result_free(r);
	return reply_json(rep, 200, o);
}

/* A new message answered as 201 with its object, or the error. */
static int
post_and_reply(struct request *req, struct reply *rep, long long conv,
    enum conv_kind kind, enum msg_shape shape)
{
	struct db_result	*row;
	const char		*text;
	int			 rc;

	if ((rc = msg_content(req, rep, &text)) != 0)
		return rc;
	if (msg_post(conv, kind, req->auth.user_id, text, &row) != DB_OK)
		return reply_db_error(rep);
	rc = reply_json(rep, 201, msg_json(row, 0, shape, req->auth.user_id));
	db_result_free(row);
	return rc;
}

/* GET /api/messages: the public room, oldest to newest.  200. */
int
chat_public_list(struct request *req, struct reply *rep)
{
	return reply_messages(req, rep, CONV_PUBLIC_ID, 0, MSG_002_PUBLIC);
}

/* POST /api/messages {"content"}: 201 the message; 400 empty or too long. */
int
chat_public_post(struct request *req, struct reply *rep)
{
	return post_and_reply(req, rep, CONV_PUBLIC_ID, CONV_PUBLIC,
	    MSG_002_PUBLIC);
}

/*
 * The message named by capture name, live, in conversation conv (0: any):
 * 1 found (*row set), or the status of the 404/403 written.  002 checks
 * the sender before the chat.
 */
static int
own_message(struct request *req, struct reply *rep, const char *name,
    struct db_result **row)
{
	long long	 id = request_capture_id(req, name);

	switch (id < 0 ? 0 : msg_find(id, req->auth.user_id, row)) {
	case -1:
		return reply_db_error(rep);
	case 0:
		return reply_error(rep, 404, "not_found", "Message not found");
	}
	if (db_get_int(*row, 0, MC_SENDER) != req->auth.user_id) {
		db_result_free(*row);
		return reply_error(rep, 403, "forbidden",
		    "You can only delete your own messages");
	}
	return 0;
}

/* DELETE /api/messages/{message_id}: 200; 403 not yours; 404. */
int
chat_public_delete(struct request *req, struct reply *rep)
{
	struct db_result	*row;
	long long		 id, conv;
	int			 rc;

	if ((rc = own_message(req, rep, "message_id", &row)) != 0)
		return rc;
	id = db_get_int(row, 0, MC_ID);
	conv = db_get_int(row, 0, MC_CONV);
	db_result_free(row);
	if (conv != CONV_PUBLIC_ID)
		return reply_error(rep, 404, "not_found", "Message not found");
	switch (msg_delete(conv, CONV_PUBLIC, id)) {
	case DB_OK:
	case DB_REFUSED:
		return reply_message(rep, 200, "Message deleted");
	default:
		return reply_db_error(rep);
	}
}

/*
 * The other user of a private route: 0 with *other set, or the status of
 * the 400 (yourself) or 404 (no such user) written.
 */
static int
other_user(struct request *req, struct reply *rep, long long *other)
{
	*other = request_capture_id(req, "other_user_id");
	if (*other == req->auth.user_id)
		return reply_error(rep, 400, "self",
		    "Cannot send message to yourself");
	switch (*other < 0 ? 0 : conv_user_exists(*other)) {
	case -1:
		return reply_db_error(rep);
	case 0:
		return reply_error(rep, 404, "not_found", "User not found");
	}
	return 0;
}

/*
 * GET /api/messages/private/{other_user_id}: the chat with that user,
 * oldest to newest; no chat yet: []. 200; 400 yourself; 404 no such user.
 */
int
chat_private_list(struct request *req, struct reply *rep)
{
	struct conv_access	 a;
	struct json_object	*o;
	long long		 other, conv;
	int			 rc;

	if ((rc = other_user(req, rep, &other)) != 0)
		return rc;
	switch (conv_private_find(req->auth.user_id, other, &conv)) {
	case -1:
		return reply_db_error(rep);
	case 0:
		o = json_object_new_object();
		json_object_object_add(o, "messages", json_object_new_array());
		json_object_object_add(o, "next_before", NULL);
		return reply_json(rep, 200, o);
	}
	if (conv_access(conv, req->auth.user_id, &a) == -1)
		return reply_db_error(rep);
	return reply_messages(req, rep, conv, a.cleared_before,
	    MSG_002_PRIVATE);
}

static enum db_status
private_tx(void *arg)
{
	long long	*a = arg;
	int		 created;

	return conv_private_get(a[0], a[1], &a[2], &created);
}

/*
 * POST /api/messages/private/{other_user_id} {"content"}: 201 the
 * message; the chat is made on the first one.  400 yourself, empty or too
 * long; 404 no such user.
 */
int
chat_private_post(struct request *req, struct reply *rep)
{
	long long	 a[3];
	const char	*text;
	int		 rc;

	if ((rc = other_user(req, rep, &a[1])) != 0)
		return rc;
	if ((rc = msg_content(req, rep, &text)) != 0)
		return rc;
	a[0] = req->auth.user_id;
	if (db_transaction(private_tx, a) != DB_OK)
		return reply_db_error(rep);
	return post_and_reply(req, rep, a[2], CONV_PRIVATE, MSG_002_PRIVATE);
}

/*
 * DELETE /api/messages/private/{other_user_id}/{message_id}: 200; 404
 * "Message not found"; 403 not yours; 404 "Invalid chat or message" when
 * it is not in your chat with that user.
 */
int
chat_private_delete(struct request *req, struct reply *rep)
{
	struct db_result	*row;
	long long		 other, conv, id, chat = 0;
	int			 rc;

	if ((rc = own_message(req, rep, "message_id", &row)) != 0)
		return rc;
	id = db_get_int(row, 0, MC_ID);
	conv = db_get_int(row, 0, MC_CONV);
	db_result_free(row);
	other = request_capture_id(req, "other_user_id");
	if (other > 0 && other != req->auth.user_id &&
	    conv_private_find(req->auth.user_id, other, &chat) == -1)
		return reply_db_error(rep);
	if (chat == 0 || chat != conv)
		return reply_error(rep, 404, "not_found",
		    "Invalid chat or message");
	switch (msg_delete(conv, CONV_PRIVATE, id)) {
	case DB_OK:
	case DB_REFUSED:
		return reply_message(rep, 200, "Message deleted");
	default:
		return reply_db_error(rep);
	}
}
