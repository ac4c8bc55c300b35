/*
 * files.c -- seed 002's file metadata (/api/files/...): a name, a URL and
 * a size attached to a public-room message or to a chat.  The file itself
 * lives elsewhere; only its description is stored.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "conversations.h"
#include "db.h"
#include "outbox.h"
#include "reply.h"
#include "request.h"
#include "valid.h"

#define FILE_MAX_SIZE	5242880LL	/* 5 MB, allowed */

#define FILE_COLS	"f.id, f.filename, f.file_url, f.file_size, " \
	SQL_TIME("f.uploaded_at") ", f.uploader_id, u.username, " \
	"f.public_message_id, f.private_chat_id"

/* 002's allow-list, matched on the name's suffix without regard to case. */
static const char *const file_types[] = {
	"pdf", "doc", "docx", "jpg", "jpeg", "png", "gif", "bmp", "tiff",
	"webp"
};

static int
file_type_ok(const char *name)
{
	const char	*dot = strrchr(name, '.');
	size_t		 i;

	if (dot == NULL)
		return 0;
	for (i = 0; i < nitems(file_types); i++)
		if (strcasecmp(dot + 1, file_types[i]) == 0)
			return 1;
	return 0;
}

/* An id column as a number or null. */
static struct json_object *
id_or_null(const struct db_result *r, size_t i, size_t col)
{
	return db_is_null(r, i, col) ? NULL :
	    json_object_new_int64(db_get_int(r, i, col));
}

/* Row i (FILE_COLS) as 002's file object, flat and nested uploader. */
static struct json_object *
file_json(const struct db_result *r, size_t i)
{
	struct json_object	*o = json_object_new_object(), *u;

	json_object_object_add(o, "id",
	    json_object_new_int64(db_get_int(r, i, 0)));
	json_add_string(o, "filename", db_get(r, i, 1));
	json_add_string(o, "file_url", db_get(r, i, 2));
	json_object_object_add(o, "file_size",
	    json_object_new_int64(db_get_int(r, i, 3)));
	json_add_string(o, "uploaded_at", db_get(r, i, 4));
	json_object_object_add(o, "uploader_id",
	    json_object_new_int64(db_get_int(r, i, 5)));
	u = json_object_new_object();
	json_object_object_add(u, "id",
	    json_object_new_int64(db_get_int(r, i, 5)));
	json_add_string(u, "username", db_get(r, i, 6));
	json_object_object_add(o, "uploader", u);
	json_object_object_add(o, "public_message_id", id_or_null(r, i, 7));
	json_object_object_add(o, "private_chat_id", id_or_null(r, i, 8));
	return o;
}

/* The event of a file added or removed, to the room that shows it. */
static enum db_status
file_event(const char *event, const struct db_result *r)
{
	struct json_object	*o = file_json(r, 0);
	char			 room[40];
	int			 rc;

	if (db_is_null(r, 0, 8))
		rc = outbox_event("public", event, o);
	else
		rc = outbox_event(conv_room(room, sizeof(room),
		    db_get_int(r, 0, 8)), event, o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/* Read file id into *r: 1 found, 0 not, -1 error. */
static int
file_find(long long id, struct db_result **r)
{
	if (db_query(r, "SELECT " FILE_COLS " FROM files f JOIN users u ON "
	    "u.id = f.uploader_id WHERE f.id = ?", "i", id) != DB_OK)
		return -1;
	if (db_rows(*r) == 0) {
		db_result_free(*r);
		return 0;
	}
	return 1;
}

struct upload {
	long long		 user;
	const char		*name, *url;
	long long		 size;
	const long long		*message, *chat;
	struct db_result	*row;
};

static enum db_status
upload_tx(void *arg)
{
	struct upload	*u = arg;
	enum db_status	 rc;

	db_result_free(u->row);
	u->row = NULL;
	if ((rc = db_exec("INSERT INTO files (uploader_id, filename, file_url, "
	    "file_size, public_message_id, private_chat_id) VALUES "
	    "(?, ?, ?, ?, ?, ?)", "issinn", u->user, u->name, u->url, u->size,
	    u->message, u->chat)) != DB_OK)
		return rc;
	if (file_find((long long)db_insert_id(), &u->row) != 1)
		return DB_ERROR;
	return file_event("new_file", u->row);
}

/*
 * May the caller attach to public message id (his own, live, in the public
 * room) or chat id (a member)?  1 yes, 0 no, -1 error.
 */
static int
association_ok(long long user, const long long *message,
    const long long *chat)
{
	struct db_result	*r;
	struct conv_access	 a;
	int			 ok;

	if (chat != NULL) {
		if (conv_access(*chat, user, &a) == -1)
			return -1;
		return a.kind != CONV_PUBLIC && a.member;
	}
	if (db_query(&r, "SELECT 1 FROM messages WHERE id = ? AND "
	    "conversation_id = ? AND sender_id = ? AND deleted_at IS NULL",
	    "iii", *message, (long long)CONV_PUBLIC_ID, user) != DB_OK)
		return -1;
	ok = db_rows(r) > 0;
	db_result_free(r);
	return ok;
}

/*
 * POST /api/files/ {filename, file_url, file_size, public_message_id |
 * private_chat_id}: 201 the file.  400 in 002's order: missing fields,
 * over 5 MB, type, not exactly one association, an association the
 * caller may not use.
 */
int
file_create(struct request *req, struct reply *rep)
{
	static const struct field f[] = {
		{ "filename", FIELD_STRING, 0, 1, 255, valid_text },
		{ "file_url", FIELD_STRING, 0, 1, 2048, valid_http_url },
		{ "file_size", FIELD_INT, 0, 0, 9223372036854775807LL, NULL },
		{ "public_message_id", FIELD_INT, 0, 1,
		    9223372036854775807LL, NULL },
		{ "private_chat_id", FIELD_INT, 0, 1,
		    9223372036854775807LL, NULL },
	};
	struct field_value	 v[nitems(f)];
	struct upload		 u = { req->auth.user_id, NULL, NULL, 0,
	    NULL, NULL, NULL };
	int			 rc;

	if ((rc = body_fields(req, rep, f, nitems(f), v)) != 0)
		return rc;
	if (!v[0].present || !v[1].present || !v[2].present)
		rc = reply_error(rep, 400, "missing_fields", "Missing required "
		    "fields: filename, file_url, file_size");
	else if (v[2].i > FILE_MAX_SIZE)
		rc = reply_error(rep, 400, "too_large",
		    "File size exceeds 5MB limit");
	else if (!file_type_ok(v[0].s))
		rc = reply_error(rep, 400, "invalid_type", "Invalid file type. "
		    "Allowed: PDF, DOC, DOCX, and image files");
	else if (v[3].present == v[4].present)
		rc = reply_error(rep, 400, "association", "Exactly one "
		    "association required: public_message_id, or "
		    "private_chat_id");
	if (rc != 0)
		goto out;
	u.name = v[0].s;
	u.url = v[1].s;
	u.size = v[2].i;
	u.message = v[3].present ? &v[3].i : NULL;
	u.chat = v[4].present ? &v[4].i : NULL;
	switch (association_ok(u.user, u.message, u.chat)) {
	case -1:
		rc = reply_db_error(rep);
		goto out;
	case 0:
		rc = reply_error(rep, 400, "invalid_association", u.chat ?
		    "Invalid private chat" : "Invalid public message");
		goto out;
	}
	if (db_transaction(upload_tx, &u) != DB_OK) {
		rc = reply_db_error(rep);
		goto out;
	}
	rc = reply_json(rep, 201, file_json(u.row, 0));
	db_result_free(u.row);
out:
	body_values_free(v, nitems(v));
	return rc;
}

/* A list of file rows as a JSON array. */
static struct json_object *
file_list(struct db_result *r)
{
	struct json_object	*list = json_object_new_array();
	size_t			 i;

	for (i = 0; i < db_rows(r); i++)
		json_object_array_add(list, file_json(r, i));
	db_result_free(r);
	return list;
}

/* GET /api/files/: the caller's files, newest first, a bare array.  200. */
int
file_list_mine(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	struct page		 pg;
	int			 rc;

	if ((rc = request_page(req, rep, conv_page_size(), conv_page_max(),
	    &pg)) != 0)
		return rc;
	if (db_query(&r, "SELECT " FILE_COLS " FROM files f JOIN users u ON "
	    "u.id = f.uploader_id WHERE f.uploader_id = ? AND f.id < ? "
	    "ORDER BY f.id DESC LIMIT ?", "iii", req->auth.user_id,
	    pg.before > 0 ? pg.before : 9223372036854775807LL, pg.limit) !=
	    DB_OK)
		return reply_db_error(rep);
	return reply_json(rep, 200, file_list(r));
}

/* The caller's file {file_id}: 0 with *r, or the 404/403 written. */
static int
own_file(struct request *req, struct reply *rep, struct db_result **r)
{
	long long	 id = request_capture_id(req, "file_id");

	switch (id > 0 ? file_find(id, r) : 0) {
	case -1:
		return reply_db_error(rep);
	case 0:
		return reply_error(rep, 404, "not_found", "File not found");
	}
	if (db_get_int(*r, 0, 5) != req->auth.user_id) {
		db_result_free(*r);
		return reply_error(rep, 403, "forbidden", "Access denied");
	}
	return 0;
}

/* GET /api/files/{file_id}: 200 {"file"}; 403 not the uploader; 404. */
int
file_get(struct request *req, struct reply *rep)
{
	struct json_object	*o;
	struct db_result	*r;
	int			 rc;

	if ((rc = own_file(req, rep, &r)) != 0)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "file", file_json(r, 0));
	db_result_free(r);
	return reply_json(rep, 200, o);
}

static enum db_status
remove_tx(void *arg)
{
	struct db_result	*r = arg;
	enum db_status		 rc;

	if ((rc = db_exec("DELETE FROM files WHERE id = ?", "i",
	    db_get_int(r, 0, 0))) != DB_OK)
		return rc;
	return file_event("file_deleted", r);
}

/* DELETE /api/files/{file_id}: 200; 403 not the uploader; 404. */
int
file_delete(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	enum db_status		 st;
	int			 rc;

	if ((rc = own_file(req, rep, &r)) != 0)
		return rc;
	st = db_transaction(remove_tx, r);
	db_result_free(r);
	if (st != DB_OK)
		return reply_db_error(rep);
	return reply_message(rep, 200, "File deleted");
}

/* {"files": [...]} of a query's rows.  200. */
static int
reply_files(struct reply *rep, struct db_result *r)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "files", file_list(r));
	return reply_json(rep, 200, o);
}

/*
 * GET /api/files/public/{message_id}: files of a live public message,
 * newest first.  200; 404 no such message.
 */
int
file_list_public(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	long long		 id = request_capture_id(req, "message_id");
	int			 found;

	if ((found = id > 0 ? msg_find(id, req->auth.user_id, &r) : 0) == -1)
		return reply_db_error(rep);
	if (found) {
		found = db_get_int(r, 0, MC_CONV) == CONV_PUBLIC_ID;
		db_result_free(r);
	}
	if (!found)
		return reply_error(rep, 404, "not_found", "Message not found");
	if (db_query(&r, "SELECT " FILE_COLS " FROM files f JOIN users u ON "
	    "u.id = f.uploader_id WHERE f.public_message_id = ? "
	    "ORDER BY f.id DESC LIMIT 1000", "i", id) != DB_OK)
		return reply_db_error(rep);
	return reply_files(rep, r);
}

/*
 * GET /api/files/private/{chat_id}: files of a chat the caller is in,
 * newest first.  200; 404 no such chat or not a member.
 */
int
file_list_chat(struct request *req, struct reply *rep)
{
	struct conv_access	 a;
	struct db_result	*r;
	long long		 id = request_capture_id(req, "chat_id");

	memset(&a, 0, sizeof(a));
	if (id > 0 && conv_access(id, req->auth.user_id, &a) == -1)
		return reply_db_error(rep);
	if (a.kind == CONV_PUBLIC || !a.member)
		return reply_error(rep, 404, "not_found", "Chat not found");
	if (db_query(&r, "SELECT " FILE_COLS " FROM files f JOIN users u ON "
	    "u.id = f.uploader_id WHERE f.private_chat_id = ? "
	    "ORDER BY f.id DESC LIMIT 1000", "i", id) != DB_OK)
		return reply_db_error(rep);
	return reply_files(rep, r);
}
