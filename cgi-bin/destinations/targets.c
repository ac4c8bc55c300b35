/*
 * targets.c -- webhook destinations: the URLs an account's incoming data
 * is forwarded to, with their method, extra headers and signing secret.
 *
 * A destination belongs to one account; its members read it, its Admins
 * change it.  The URL is checked here against private and link-local
 * addresses (common/netcheck.c) and again by the dispatcher when it sends
 * (DECISIONS #14).  The signing secret is shown when the destination is
 * created and when it is rotated, never in a read.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <sodium.h>

#include "alloc.h"
#include "body.h"
#include "config.h"
#include "db.h"
#include "destinations.h"
#include "netcheck.h"
#include "reply.h"
#include "request.h"
#include "valid.h"

#define DEST_COLS \
	"d.id, d.account_id, d.url, d.http_method, d.headers, " \
	SQL_TIME("d.created_at") ", " SQL_TIME("d.updated_at") ", " \
	"d.created_by, d.updated_by, " SQL_TIME("d.disabled_at") ", " \
	"d.disabled_reason"

#define HEADERS_MAX		32
#define HEADER_NAME_MAX		128
#define HEADER_VALUE_MAX	4096

/* whsec_ and the base64 of 32 random bytes (Standard Webhooks). */
#define SECRET_BYTES	32
#define SECRET_SIZE	(6 + sodium_base64_ENCODED_LEN(SECRET_BYTES, \
			    sodium_base64_VARIANT_ORIGINAL))

/*
 * Headers the sender sets itself or that would change how the request is
 * framed or routed: a stored one could smuggle a second request or defeat
 * the signature.
 */
static const char *const refused_headers[] = {
	"host", "content-length", "transfer-encoding", "connection",
	"keep-alive", "proxy-authorization", "proxy-authenticate",
	"proxy-connection", "te", "trailer", "upgrade", "expect",
	"cl-x-event-id", "webhook-id", "webhook-timestamp",
	"webhook-signature",
};

static void
secret_new(char *out)
{
	unsigned char	 b[SECRET_BYTES];

	randombytes_buf(b, sizeof(b));
	memcpy(out, "whsec_", 6);
	sodium_bin2base64(out + 6, SECRET_SIZE - 6, b, sizeof(b),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(b, sizeof(b));
}

/* Row i of a DEST_COLS result (new reference). */
static struct json_object *
dest_json(const struct db_result *r, size_t i)
{
	struct json_object	*o = json_object_new_object(), *h;
	const char		*s;

	json_add_string(o, "id", db_get(r, i, 0));
	json_add_string(o, "account", db_get(r, i, 1));
	json_add_string(o, "url", db_get(r, i, 2));
	json_add_string(o, "http_method", db_get(r, i, 3));
	s = db_get(r, i, 4);
	h = s != NULL ? json_tokener_parse(s) : NULL;
	json_object_object_add(o, "headers", h != NULL ? h :
	    json_object_new_object());
	json_add_string(o, "created_at", db_get(r, i, 5));
	json_add_string(o, "updated_at", db_get(r, i, 6));
	json_add_id(o, "created_by", db_get(r, i, 7));
	json_add_id(o, "updated_by", db_get(r, i, 8));
	json_add_string(o, "disabled_at", db_get(r, i, 9));
	json_add_string(o, "disabled_reason", db_get(r, i, 10));
	return o;
}

/*
 * Answer status with destination id; secret (may be NULL) is added as
 * signing_secret.  Returns the status.
 */
static int
dest_reply(struct reply *rep, int status, const char *id, const char *secret)
{
	struct db_result	*r;
	struct json_object	*o;

	if (db_query(&r, "SELECT " DEST_COLS " FROM destinations d "
	    "WHERE d.id = ?", "s", id) != DB_OK)
		return reply_db_error(rep);
	if (db_rows(r) == 0) {
		db_result_free(r);
		return dest_not_found(rep);
	}
	o = dest_json(r, 0);
	db_result_free(r);
	if (secret != NULL)
		json_object_object_add(o, "signing_secret",
		    json_object_new_string(secret));
	return reply_json(rep, status, o);
}

/* Write destination_<what> with the destination to its account's room. */
static enum db_status
dest_event(const char *id, const char *account, const char *what)
{
	struct db_result	*r;
	struct json_object	*o;
	int			 rc;

	if (db_query(&r, "SELECT " DEST_COLS " FROM destinations d "
	    "WHERE d.id = ?", "s", id) != DB_OK)
		return DB_ERROR;
	if (db_rows(r) > 0)
		o = dest_json(r, 0);
	else {
		o = json_object_new_object();
		json_add_string(o, "id", id);
	}
	db_result_free(r);
	rc = account_event(account, what, o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/* A token character of RFC 9110, 5.6.2. */
static int
tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Why the headers object cannot be stored, or NULL. */
static const char *
check_headers(struct json_object *h)
{
	struct json_object_iterator	 it, end;
	struct json_object		*v;
	const char			*name, *s;
	size_t				 i, n = 0, len;

	if (!json_object_is_type(h, json_type_object))
		return "Must be a JSON object of strings.";
	it = json_object_iter_begin(h);
	end = json_object_iter_end(h);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		if (++n > HEADERS_MAX)
			return "Too many headers (at most 32).";
		name = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		len = strlen(name);
		if (len == 0 || len > HEADER_NAME_MAX)
			return "A header name must have 1 to 128 characters.";
		for (i = 0; i < len; i++)
			if (!tchar((unsigned char)name[i]))
				return "A header name holds a character "
				    "that is not allowed.";
		for (i = 0; i < nitems(refused_headers); i++)
			if (strcasecmp(name, refused_headers[i]) == 0)
				return "Host, Content-Length, hop-by-hop and "
				    "signature headers cannot be set.";
		if (!json_object_is_type(v, json_type_string))
			return "Header values must be strings.";
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (len > HEADER_VALUE_MAX || strlen(s) != len)
			return "A header value is too long or holds a NUL.";
		for (i = 0; i < len; i++)
			if (s[i] == '\r' || s[i] == '\n')
				return "A header value cannot hold a line "
				    "break.";
	}
	return NULL;
}

/* Why url cannot be a destination ("Enter a valid URL." ...), or NULL. */
static const char *
check_url(const char *url, size_t len)
{
	if (valid_http_url(url, len) != NULL)
		return "Enter a valid URL.";
	if (netcheck_url(url, config()->webhook_allow_private) != NULL)
		return "This URL points to an address that is not allowed "
		    "(private, loopback, link-local or reserved).";
	return NULL;
}

static const char *
check_method(const char *s, size_t len)
{
	(void)len;
	if (strcmp(s, "GET") != 0 && strcmp(s, "POST") != 0 &&
	    strcmp(s, "PUT") != 0)
		return "Not a valid choice (GET, POST or PUT).";
	return NULL;
}

enum { F_ACCOUNT, F_URL, F_METHOD, F_HEADERS };

static const struct field dest_fields_create[] = {
	{ "account", FIELD_STRING, FIELD_REQUIRED | FIELD_TRIM, 36, 36, NULL },
	{ "url", FIELD_STRING, FIELD_REQUIRED | FIELD_TRIM, 1, 2048,
	    check_url },
	{ "http_method", FIELD_STRING, FIELD_TRIM, 1, 8, check_method },
	{ "headers", FIELD_OBJECT, 0, 0, 0, NULL },
};

static const struct field dest_fields_update[] = {
	{ "account", FIELD_STRING, FIELD_TRIM, 36, 36, NULL },
	{ "url", FIELD_STRING, FIELD_TRIM, 1, 2048, check_url },
	{ "http_method", FIELD_STRING, FIELD_TRIM, 1, 8, check_method },
	{ "headers", FIELD_OBJECT, 0, 0, 0, NULL },
};

struct dest_write {
	char			 id[UUID_SIZE];
	const char		*account;
	long long		 user;
	struct field_value	*v;
	const char		*headers;	/* JSON text, or NULL */
	char			 secret[SECRET_SIZE];
	int			 full;		/* no room for another */
};

static enum db_status
dest_create_tx(void *arg)
{
	struct dest_write	*w = arg;
	struct db_result	*r;
	enum db_status		 st;
	long long		 n;

	/* The account row serialises concurrent creations: a sound count. */
	if ((st = db_query(&r, "SELECT COUNT(*) FROM accounts a JOIN "
	    "destinations d ON d.account_id = a.id WHERE a.id = ? "
	    "FOR UPDATE", "s", w->account)) != DB_OK)
		return st;
	n = db_get_int(r, 0, 0);
	db_result_free(r);
	if (n >= config()->webhook_max_destinations) {
		w->full = 1;
		return DB_REFUSED;
	}
	if ((st = db_exec("INSERT INTO destinations (id, account_id, url, "
	    "http_method, headers, signing_secret, created_by, updated_by) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "ssssssii", w->id, w->account,
	    w->v[F_URL].s, w->v[F_METHOD].present ? w->v[F_METHOD].s : "POST",
	    w->headers != NULL ? w->headers : "{}", w->secret, w->user,
	    w->user)) != DB_OK)
		return st;
	return dest_event(w->id, w->account, "destination_created");
}

/* The headers field as JSON text into *text, or a 400.  Returns 0 or it. */
static int
headers_text(struct reply *rep, const struct field_value *v,
    const char **text)
{
	const char	*why;

	*text = NULL;
	if (!v->present)
		return 0;
	if ((why = check_headers(v->o)) != NULL)
		return reply_invalid(rep, "headers", why);
	*text = json_object_to_json_string_ext(v->o, JSON_C_TO_STRING_PLAIN);
	return 0;
}

/*
 * POST /api/destinations/ {account, url, http_method, headers}: Admins
 * of the account.  201 with the signing secret; 400; 403.  An account
 * the caller is not in is a field error, as DRF says of an unknown one.
 */
int
dest_destination_create(struct request *req, struct reply *rep)
{
	struct field_value	 v[nitems(dest_fields_create)];
	struct dest_write	 w;
	enum db_status		 st;
	int			 rc, role;

	if ((rc = body_fields(req, rep, dest_fields_create,
	    nitems(dest_fields_create), v)) != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	w.account = v[F_ACCOUNT].s;
	if ((role = account_role(w.account, req->auth.user_id)) == -1) {
		rc = reply_db_error(rep);
		goto out;
	}
	if (role == 0) {
		rc = reply_invalid(rep, "account",
		    "Invalid pk - object does not exist.");
		goto out;
	}
	if (role != ROLE_ADMIN) {
		rc = dest_forbidden(rep);
		goto out;
	}
	if ((rc = headers_text(rep, &v[F_HEADERS], &w.headers)) != 0)
		goto out;
	uuid_new(w.id);
	w.user = req->auth.user_id;
	w.v = v;
	secret_new(w.secret);
	st = db_transaction(dest_create_tx, &w);
	if (st == DB_REFUSED && w.full)
		rc = reply_invalid(rep, "non_field_errors",
		    "This account has as many destinations as it may have.");
	else if (st != DB_OK)
		rc = reply_db_error(rep);
	else
		rc = dest_reply(rep, 201, w.id, w.secret);
	sodium_memzero(w.secret, sizeof(w.secret));
out:
	body_values_free(v, nitems(v));
	return rc;
}

/*
 * Load destination {id} of the path: its account into account, after the
 * access check (admin: Admins only).  Returns 0 or the status written.
 */
static int
dest_load(struct request *req, struct reply *rep, int admin, char *account)
{
	struct db_result	*r;
	const char		*id = request_capture(req, "id");

	if (!uuid_valid(id))
		return dest_not_found(rep);
	if (db_query(&r, "SELECT account_id FROM destinations WHERE id = ?",
	    "s", id) != DB_OK)
		return reply_db_error(rep);
	if (db_rows(r) == 0) {
		db_result_free(r);
		return dest_not_found(rep);
	}
	snprintf(account, UUID_SIZE, "%s", db_get(r, 0, 0));
	db_result_free(r);
	return account_access(req, rep, account, admin, NULL);
}

/*
 * GET /api/destinations/: the destinations of the caller's accounts,
 * newest first, a bare array; ?account= keeps one account's, ?limit=
 * caps it (default 100, at most 1000).  200; 400.
 */
int
dest_destinations_list(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	struct json_object	*list;
	struct page		 page;
	char			 account[UUID_SIZE];
	const char		*only;
	size_t			 i;
	int			 rc;

	if ((rc = request_page(req, rep, 100, 1000, &page)) != 0)
		return rc;
	only = request_query(req, "account", account, sizeof(account));
	if (only != NULL && !uuid_valid(only))
		return reply_invalid(rep, "account", "Must be a UUID.");
	if (db_query(&r, "SELECT " DEST_COLS " FROM destinations d "
	    "JOIN account_members m ON m.account_id = d.account_id "
	    "AND m.user_id = ? WHERE (? IS NULL OR d.account_id = ?) "
	    "ORDER BY d.created_at DESC, d.id LIMIT ?", "issi",
	    req->auth.user_id, only, only, page.limit) != DB_OK)
		return reply_db_error(rep);
	list = json_object_new_array();
	for (i = 0; i < db_rows(r); i++)
		json_object_array_add(list, dest_json(r, i));
	db_result_free(r);
	return reply_json(rep, 200, list);
}

/*
 * GET /api/accounts/{id}/destinations/ (the original code's route):
 * {"destinations": [{id, url, http_method, ...}]} for members.  200; 404.
 */
int
dest_account_destinations(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	struct json_object	*o, *list;
	const char		*id = request_capture(req, "id");
	size_t			 i;
	int			 rc;

	if ((rc = account_access(req, rep, id, 0, NULL)) != 0)
		return rc;
	if (db_query(&r, "SELECT " DEST_COLS " FROM destinations d "
	    "WHERE d.account_id = ? ORDER BY d.created_at DESC, d.id "
	    "LIMIT 1000", "s", id) != DB_OK)
		return reply_db_error(rep);
	list = json_object_new_array();
	for (i = 0; i < db_rows(r); i++)
		json_object_array_add(list, dest_json(r, i));
	db_result_free(r);
	o = json_object_new_object();
	json_object_object_add(o, "destinations", list);
	return reply_json(rep, 200, o);
}

/* GET /api/destinations/{id}/: members of its account.  200; 404. */
int
dest_destination_get(struct request *req, struct reply *rep)
{
	char	 account[UUID_SIZE];
	int	 rc;

	if ((rc = dest_load(req, rep, 0, account)) != 0)
		return rc;
	return dest_reply(rep, 200, request_capture(req, "id"), NULL);
}

static enum db_status
dest_update_tx(void *arg)
{
	struct dest_write	*w = arg;
	enum db_status		 st;

	if (w->v[F_URL].present && (st = db_exec("UPDATE destinations SET "
	    "url = ? WHERE id = ?", "ss", w->v[F_URL].s, w->id)) != DB_OK)
		return st;
	if (w->v[F_METHOD].present && (st = db_exec("UPDATE destinations SET "
	    "http_method = ? WHERE id = ?", "ss", w->v[F_METHOD].s, w->id)) !=
	    DB_OK)
		return st;
	if (w->headers != NULL && (st = db_exec("UPDATE destinations SET "
	    "headers = ? WHERE id = ?", "ss", w->headers, w->id)) != DB_OK)
		return st;
	/* A change is the Admin's answer to a 410: send again. */
	if ((st = db_exec("UPDATE destinations SET updated_by = ?, "
	    "updated_at = UTC_TIMESTAMP(6), disabled_at = NULL, "
	    "disabled_reason = NULL WHERE id = ?", "is", w->user, w->id)) !=
	    DB_OK)
		return st;
	return dest_event(w->id, w->account, "destination_updated");
}

/*
 * PUT/PATCH /api/destinations/{id}/: change the fields sent (DECISIONS
 * #16) and enable it again if a 410 had disabled it.  Admins.  200; 400;
 * 403; 404.
 */
int
dest_destination_update(struct request *req, struct reply *rep)
{
	struct field_value	 v[nitems(dest_fields_update)];
	struct dest_write	 w;
	char			 account[UUID_SIZE];
	int			 rc;

	if ((rc = dest_load(req, rep, 1, account)) != 0)
		return rc;
	if ((rc = body_fields(req, rep, dest_fields_update,
	    nitems(dest_fields_update), v)) != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	if (v[F_ACCOUNT].present && strcmp(v[F_ACCOUNT].s, account) != 0) {
		rc = reply_invalid(rep, "account",
		    "A destination cannot move to another account.");
		goto out;
	}
	if ((rc = headers_text(rep, &v[F_HEADERS], &w.headers)) != 0)
		goto out;
	snprintf(w.id, sizeof(w.id), "%s", request_capture(req, "id"));
	w.account = account;
	w.user = req->auth.user_id;
	w.v = v;
	if (db_transaction(dest_update_tx, &w) != DB_OK)
		rc = reply_db_error(rep);
	else
		rc = dest_reply(rep, 200, w.id, NULL);
out:
	body_values_free(v, nitems(v));
	return rc;
}

static enum db_status
dest_rotate_tx(void *arg)
{
	struct dest_write	*w = arg;
	enum db_status		 st;

	if ((st = db_exec("UPDATE destinations SET signing_secret = ?, "
	    "updated_by = ? WHERE id = ?", "sis", w->secret, w->user,
	    w->id)) != DB_OK)
		return st;
	return dest_event(w->id, w->account, "destination_updated");
}

/*
 * POST /api/destinations/{id}/rotate_secret/: a new signing secret, shown
 * once; deliveries from now on are signed with it.  Admins.  200; 403;
 * 404.
 */
int
dest_destination_rotate(struct request *req, struct reply *rep)
{
	struct dest_write	 w;
	char			 account[UUID_SIZE];
	int			 rc;

	if ((rc = dest_load(req, rep, 1, account)) != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	snprintf(w.id, sizeof(w.id), "%s", request_capture(req, "id"));
	w.account = account;
	w.user = req->auth.user_id;
	secret_new(w.secret);
	if (db_transaction(dest_rotate_tx, &w) != DB_OK)
		rc = reply_db_error(rep);
	else
		rc = dest_reply(rep, 200, w.id, w.secret);
	sodium_memzero(w.secret, sizeof(w.secret));
	return rc;
}

static enum db_status
dest_delete_tx(void *arg)
{
	struct dest_write	*w = arg;
	struct json_object	*o;
	enum db_status		 st;
	int			 rc;

	if ((st = db_exec("UPDATE deliveries d JOIN webhook_deliveries wd "
	    "ON wd.delivery_id = d.id SET d.state = 'cancelled', "
	    "d.finished_at = UTC_TIMESTAMP(6), "
	    "d.last_error = 'account or destination deleted' "
	    "WHERE wd.destination_id = ? AND d.state = 'pending'", "s",
	    w->id)) != DB_OK)
		return st;
	if ((st = db_exec("DELETE FROM destinations WHERE id = ?", "s",
	    w->id)) != DB_OK)
		return st;
	o = json_object_new_object();
	json_add_string(o, "id", w->id);
	rc = account_event(w->account, "destination_deleted", o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/*
 * DELETE /api/destinations/{id}/: Admins.  Its pending deliveries are
 * cancelled; its delivery log stays.  204; 403; 404.
 */
int
dest_destination_delete(struct request *req, struct reply *rep)
{
	struct dest_write	 w;
	char			 account[UUID_SIZE];
	int			 rc;

	if ((rc = dest_load(req, rep, 1, account)) != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	snprintf(w.id, sizeof(w.id), "%s", request_capture(req, "id"));
	w.account = account;
	if (db_transaction(dest_delete_tx, &w) != DB_OK)
		return reply_db_error(rep);
	return reply_empty(rep);
}
