/*
 * accounts.c -- Datasync accounts: create, list, read, change, delete,
 * rotate the secret token; the roles; and the access check that guards
 * every route under an account.
 *
 * Unlike the original, an account is visible only to its members (the
 * secret token with it), only its own Admins change or delete it, and its
 * creator becomes its first Admin, so a new user can start from nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "alloc.h"
#include "body.h"
#include "db.h"
#include "destinations.h"
#include "outbox.h"
#include "reply.h"
#include "request.h"
#include "valid.h"

#define ACCOUNT_COLS \
	"a.id, a.account_name, a.app_secret_token, a.website, " \
	SQL_TIME("a.created_at") ", " SQL_TIME("a.updated_at") ", " \
	"a.created_by, a.updated_by"

/* 32 random bytes in base64url without padding: 43 characters. */
#define TOKEN_BYTES	32
#define TOKEN_SIZE	sodium_base64_ENCODED_LEN(TOKEN_BYTES, \
			    sodium_base64_VARIANT_URLSAFE_NO_PADDING)

int
dest_not_found(struct reply *rep)
{
	return reply_error(rep, 404, "not_found", "Not found.");
}

int
dest_forbidden(struct reply *rep)
{
	return reply_error(rep, 403, "permission_denied",
	    "You do not have permission to perform this action.");
}

void
uuid_new(char out[UUID_SIZE])
{
	unsigned char	 b[16];
	char		 hex[33];

	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
	snprintf(out, UUID_SIZE, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
	    hex + 12, hex + 16, hex + 20);
}

int
uuid_valid(const char *s)
{
	size_t	 i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	}
	return 1;
}

void
json_add_id(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s == NULL ? NULL :
	    json_object_new_int64(strtoll(s, NULL, 10)));
}

int
account_event(const char *id, const char *event, struct json_object *payload)
{
	char	 room[UUID_SIZE + 8];

	snprintf(room, sizeof(room), "account:%s", id);
	return outbox_event(room, event, payload);
}

int
account_role(const char *id, long long user_id)
{
	struct db_result	*r;
	int			 role;

	if (!uuid_valid(id))
		return 0;
	if (db_query(&r, "SELECT role_id FROM account_members "
	    "WHERE account_id = ? AND user_id = ?", "si", id, user_id) !=
	    DB_OK)
		return -1;
	role = db_rows(r) > 0 ? (int)db_get_int(r, 0, 0) : 0;
	db_result_free(r);
	return role;
}

int
account_access(struct request *req, struct reply *rep, const char *id,
    int admin, int *role)
{
	int	 r;

	if ((r = account_role(id, req->auth.user_id)) == -1)
		return reply_db_error(rep);
	if (role != NULL)
		*role = r;
	if (r == 0)
		return dest_not_found(rep);
	if (admin && r != ROLE_ADMIN)
		return dest_forbidden(rep);
	return 0;
}

int
account_cancel_deliveries(const char *id)
{
	return db_exec("UPDATE deliveries d JOIN webhook_deliveries w "
	    "ON w.delivery_id = d.id SET d.state = 'cancelled', "
	    "d.finished_at = UTC_TIMESTAMP(6), "
	    "d.last_error = 'account or destination deleted' "
	    "WHERE w.account_id = ? AND d.state = 'pending'", "s", id);
}

/* A new secret token into out (TOKEN_SIZE bytes). */
static void
token_new(char *out)
{
	unsigned char	 b[TOKEN_BYTES];

	randombytes_buf(b, sizeof(b));
	sodium_bin2base64(out, TOKEN_SIZE, b, sizeof(b),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof(b));
}

/* Row i of an ACCOUNT_COLS result as the document's object (new ref). */
static struct json_object *
account_json(const struct db_result *r, size_t i)
{
	struct json_object	*o = json_object_new_object();

	json_add_string(o, "id", db_get(r, i, 0));
	json_add_string(o, "account_name", db_get(r, i, 1));
	json_add_string(o, "app_secret_token", db_get(r, i, 2));
	json_add_string(o, "website", db_get(r, i, 3));
	json_add_string(o, "created_at", db_get(r, i, 4));
	json_add_string(o, "updated_at", db_get(r, i, 5));
	json_add_id(o, "created_by", db_get(r, i, 6));
	json_add_id(o, "updated_by", db_get(r, i, 7));
	return o;
}

/* The same object without the secret, for events. */
static struct json_object *
account_public_json(const struct db_result *r, size_t i)
{
	struct json_object	*o = account_json(r, i);

	json_object_object_del(o, "app_secret_token");
	return o;
}

/*
 * Answer status with account id as the body, with the caller's role in
 * it.  Returns the status.
 */
static int
account_reply(struct reply *rep, int status, const char *id,
    long long user_id)
{
	struct db_result	*r;
	struct json_object	*o;
	int			 role;

	if (db_query(&r, "SELECT " ACCOUNT_COLS ", m.role_id "
	    "FROM accounts a LEFT JOIN account_members m "
	    "ON m.account_id = a.id AND m.user_id = ? WHERE a.id = ?", "is",
	    user_id, id) != DB_OK)
		return reply_db_error(rep);
	if (db_rows(r) == 0) {
		db_result_free(r);
		return dest_not_found(rep);
	}
	o = account_json(r, 0);
	role = (int)db_get_int(r, 0, 8);
	json_object_object_add(o, "role", json_object_new_string(
	    role == ROLE_ADMIN ? "Admin" : "User"));
	db_result_free(r);
	return reply_json(rep, status, o);
}

/* Write the account_<what> event with the account's public fields. */
static enum db_status
account_event_row(const char *id, const char *what)
{
	struct db_result	*r;
	struct json_object	*o;
	int			 rc;

	if (db_query(&r, "SELECT " ACCOUNT_COLS " FROM accounts a "
	    "WHERE a.id = ?", "s", id) != DB_OK)
		return DB_ERROR;
	if (db_rows(r) == 0) {
		db_result_free(r);
		return DB_ERROR;
	}
	o = account_public_json(r, 0);
	db_result_free(r);
	rc = account_event(id, what, o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/* GET /api/roles/: the two fixed roles.  200. */
int
dest_roles_list(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	struct json_object	*list, *o;
	size_t			 i;

	if (db_query(&r, "SELECT id, role_name FROM roles ORDER BY id", "") !=
	    DB_OK)
		return reply_db_error(rep);
	list = json_object_new_array();
	for (i = 0; i < db_rows(r); i++) {
		o = json_object_new_object();
		json_add_id(o, "id", db_get(r, i, 0));
		json_add_string(o, "role_name", db_get(r, i, 1));
		json_object_array_add(list, o);
	}
	db_result_free(r);
	return reply_json(rep, 200, list);
}

/*
 * GET /api/accounts/: the accounts the caller is a member of, newest
 * membership first, as a bare array (DRF, no pagination); ?limit= caps
 * it (default 100, at most 1000).  200.
 */
int
dest_accounts_list(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	struct json_object	*list, *o;
	struct page		 page;
	size_t			 i;
	int			 rc;

	if ((rc = request_page(req, rep, 100, 1000, &page)) != 0)
		return rc;
	if (db_query(&r, "SELECT " ACCOUNT_COLS ", m.role_id "
	    "FROM account_members m JOIN accounts a ON a.id = m.account_id "
	    "WHERE m.user_id = ? ORDER BY m.id DESC LIMIT ?", "ii",
	    req->auth.user_id, page.limit) != DB_OK)
		return reply_db_error(rep);
	list = json_object_new_array();
	for (i = 0; i < db_rows(r); i++) {
		o = account_json(r, i);
		json_object_object_add(o, "role", json_object_new_string(
		    db_get_int(r, i, 8) == ROLE_ADMIN ? "Admin" : "User"));
		json_object_array_add(list, o);
	}
	db_result_free(r);
	return reply_json(rep, 200, list);
}

static const char *
check_website(const char *s, size_t len)
{
	return valid_http_url(s, len) != NULL ? "Enter a valid URL." : NULL;
}

static const char *
check_name(const char *s, size_t len)
{
	return valid_text(s, len) != NULL ?
	    "Must not contain control characters." : NULL;
}

enum { F_NAME, F_WEBSITE };

static const struct field account_fields_create[] = {
	{ "account_name", FIELD_STRING, FIELD_REQUIRED | FIELD_TRIM, 1, 255,
	    check_name },
	{ "website", FIELD_STRING, FIELD_TRIM, 0, 2048, check_website },
};

static const struct field account_fields_update[] = {
	{ "account_name", FIELD_STRING, FIELD_TRIM, 1, 255, check_name },
	{ "website", FIELD_STRING, FIELD_TRIM | FIELD_EMPTY_OK, 0, 2048,
	    NULL },
};

struct account_write {
	const char		*id;
	long long		 user;
	struct field_value	*v;
	char			 token[TOKEN_SIZE];
};

static enum db_status
account_create_tx(void *arg)
{
	struct account_write	*w = arg;
	enum db_status		 st;

	st = db_exec("INSERT INTO accounts (id, account_name, "
	    "app_secret_token, website, created_by, updated_by) "
	    "VALUES (?, ?, ?, ?, ?, ?)", "ssssii", w->id, w->v[F_NAME].s,
	    w->token, w->v[F_WEBSITE].present ? w->v[F_WEBSITE].s : NULL,
	    w->user, w->user);
	if (st != DB_OK)
		return st;
	if ((st = db_exec("INSERT INTO account_members (account_id, user_id, "
	    "role_id, created_by, updated_by) VALUES (?, ?, 1, ?, ?)", "siii",
	    w->id, w->user, w->user, w->user)) != DB_OK)
		return st;
	return account_event_row(w->id, "account_created");
}

static int
name_taken(struct reply *rep)
{
	return reply_invalid(rep, "account_name",
	    "account with this account name already exists.");
}

/*
 * POST /api/accounts/: a new account with a fresh secret token; the
 * caller becomes its Admin.  created_by/updated_by come from the token,
 * whatever the body says.  201; 400 for a field.
 */
int
dest_account_create(struct request *req, struct reply *rep)
{
	struct field_value	 v[nitems(account_fields_create)];
	struct account_write	 w;
	char			 id[UUID_SIZE];
	enum db_status		 st;
	int			 rc;

	if ((rc = body_fields(req, rep, account_fields_create,
	    nitems(account_fields_create), v)) != 0)
		return rc;
	uuid_new(id);
	memset(&w, 0, sizeof(w));
	w.id = id;
	w.user = req->auth.user_id;
	w.v = v;
	token_new(w.token);
	st = db_transaction(account_create_tx, &w);
	sodium_memzero(w.token, sizeof(w.token));
	body_values_free(v, nitems(v));
	if (st == DB_DUPLICATE)
		return name_taken(rep);
	if (st != DB_OK)
		return reply_db_error(rep);
	return account_reply(rep, 201, id, req->auth.user_id);
}

/* GET /api/accounts/{id}/: one account, to its members.  200; 404. */
int
dest_account_get(struct request *req, struct reply *rep)
{
	const char	*id = request_capture(req, "id");
	int		 rc;

	if ((rc = account_access(req, rep, id, 0, NULL)) != 0)
		return rc;
	return account_reply(rep, 200, id, req->auth.user_id);
}

static enum db_status
account_update_tx(void *arg)
{
	struct account_write	*w = arg;
	const struct field_value *name = w->v != NULL ? &w->v[F_NAME] : NULL;
	const struct field_value *site = w->v != NULL ? &w->v[F_WEBSITE] : NULL;
	enum db_status		 st;

	if (name != NULL && name->present && (st = db_exec("UPDATE accounts "
	    "SET account_name = ?, updated_by = ? WHERE id = ?", "sis",
	    name->s, w->user, w->id)) != DB_OK)
		return st;
	if (site != NULL && site->present && (st = db_exec("UPDATE accounts "
	    "SET website = ?, updated_by = ? WHERE id = ?", "sis",
	    site->len > 0 ? site->s : NULL, w->user, w->id)) != DB_OK)
		return st;
	if (w->token[0] != '\0' && (st = db_exec("UPDATE accounts SET "
	    "app_secret_token = ?, updated_by = ? WHERE id = ?", "sis",
	    w->token, w->user, w->id)) != DB_OK)
		return st;
	return account_event_row(w->id, "account_updated");
}

/*
 * PUT/PATCH /api/accounts/{id}/: change the fields sent (DECISIONS #16);
 * a website of "" removes it.  Admins only.  200; 400; 403; 404.
 */
int
dest_account_update(struct request *req, struct reply *rep)
{
	struct field_value	 v[nitems(account_fields_update)];
	struct account_write	 w;
	const char		*id = request_capture(req, "id");
	enum db_status		 st;
	int			 rc;

	if ((rc = account_access(req, rep, id, 1, NULL)) != 0)
		return rc;
	if ((rc = body_fields(req, rep, account_fields_update,
	    nitems(account_fields_update), v)) != 0)
		return rc;
	if (v[F_WEBSITE].present && v[F_WEBSITE].len > 0 &&
	    check_website(v[F_WEBSITE].s, v[F_WEBSITE].len) != NULL) {
		body_values_free(v, nitems(v));
		return reply_invalid(rep, "website", "Enter a valid URL.");
	}
	memset(&w, 0, sizeof(w));
	w.id = id;
	w.user = req->auth.user_id;
	w.v = v;
	st = db_transaction(account_update_tx, &w);
	body_values_free(v, nitems(v));
	if (st == DB_DUPLICATE)
		return name_taken(rep);
	if (st != DB_OK)
		return reply_db_error(rep);
	return account_reply(rep, 200, id, req->auth.user_id);
}

/*
 * POST /api/accounts/{id}/rotate_token/: a new secret token; the old one
 * stops working at once.  Admins only.  200 with the account; 403; 404.
 */
int
dest_account_rotate(struct request *req, struct reply *rep)
{
	struct account_write	 w;
	const char		*id = request_capture(req, "id");
	enum db_status		 st;
	int			 rc;

	if ((rc = account_access(req, rep, id, 1, NULL)) != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	w.id = id;
	w.user = req->auth.user_id;
	token_new(w.token);
	st = db_transaction(account_update_tx, &w);
	sodium_memzero(w.token, sizeof(w.token));
	if (st != DB_OK)
		return reply_db_error(rep);
	return account_reply(rep, 200, id, req->auth.user_id);
}

static enum db_status
account_delete_tx(void *arg)
{
	const char		*id = ((struct account_write *)arg)->id;
	struct json_object	*o;
	enum db_status		 st;
	int			 rc;

	if ((st = account_cancel_deliveries(id)) != DB_OK)
		return st;
	if ((st = db_exec("DELETE FROM accounts WHERE id = ?", "s", id)) !=
	    DB_OK)
		return st;
	o = json_object_new_object();
	json_add_string(o, "id", id);
	rc = account_event(id, "account_deleted", o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/*
 * DELETE /api/accounts/{id}/: the account with its members, destinations,
 * events and delivery log; its pending deliveries are cancelled.  Admins
 * of this account only.  204; 403; 404.
 */
int
dest_account_delete(struct request *req, struct reply *rep)
{
	struct account_write	 w;
	const char		*id = request_capture(req, "id");
	int			 rc;

	if ((rc = account_access(req, rep, id, 1, NULL)) != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	w.id = id;
	if (db_transaction(account_delete_tx, &w) != DB_OK)
		return reply_db_error(rep);
	return reply_empty(rep);
}
