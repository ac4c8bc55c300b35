/*
 * members.c -- who belongs to an account and with which role: the 004
 * document's nested routes (/api/accounts/{id}/members/, nested user and
 * role objects) and the original code's flat ones (/api/account_members/,
 * plain ids).
 *
 * Only the account's Admins add, change or remove members; a member may
 * leave on his own; nobody changes his own role (DECISIONS #16); the
 * last Admin can be neither removed nor demoted.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "db.h"
#include "destinations.h"
#include "reply.h"
#include "request.h"
#include "user.h"
#include "valid.h"

#define MEMBER_COLS \
	"m.id, m.account_id, m.user_id, m.role_id, " \
	SQL_TIME("m.created_at") ", " SQL_TIME("m.updated_at") ", " \
	"m.created_by, m.updated_by, u.email, r.role_name"

#define MEMBER_FROM \
	" FROM account_members m JOIN users u ON u.id = m.user_id" \
	" JOIN roles r ON r.id = m.role_id"

/* Row i of a MEMBER_COLS result: flat ids, or nested user and role. */
static struct json_object *
member_json(const struct db_result *r, size_t i, int nested)
{
	struct json_object	*o = json_object_new_object(), *u, *role;

	json_add_id(o, "id", db_get(r, i, 0));
	json_add_string(o, "account", db_get(r, i, 1));
	if (nested) {
		u = json_object_new_object();
		json_add_id(u, "id", db_get(r, i, 2));
		json_add_string(u, "email", db_get(r, i, 8));
		json_object_object_add(o, "user", u);
		role = json_object_new_object();
		json_add_id(role, "id", db_get(r, i, 3));
		json_add_string(role, "role_name", db_get(r, i, 9));
		json_object_object_add(o, "role", role);
	} else {
		json_add_id(o, "user", db_get(r, i, 2));
		json_add_id(o, "role", db_get(r, i, 3));
		json_add_string(o, "email", db_get(r, i, 8));
		json_add_string(o, "role_name", db_get(r, i, 9));
	}
	json_add_string(o, "created_at", db_get(r, i, 4));
	json_add_string(o, "updated_at", db_get(r, i, 5));
	json_add_id(o, "created_by", db_get(r, i, 6));
	json_add_id(o, "updated_by", db_get(r, i, 7));
	return o;
}

/* Answer status with membership id (flat).  Returns the status. */
static int
member_reply(struct reply *rep, int status, long long id)
{
	struct db_result	*r;
	int			 rc;

	if (db_query(&r, "SELECT " MEMBER_COLS MEMBER_FROM " WHERE m.id = ?",
	    "i", id) != DB_OK)
		return reply_db_error(rep);
	if (db_rows(r) == 0)
		rc = dest_not_found(rep);
	else
		rc = reply_json(rep, status, member_json(r, 0, 0));
	db_result_free(r);
	return rc;
}

/* Write member_<what> for membership id to its account's room. */
static enum db_status
member_event(long long id, const char *account, const char *what)
{
	struct db_result	*r;
	struct json_object	*o;
	int			 rc;

	if (db_query(&r, "SELECT " MEMBER_COLS MEMBER_FROM " WHERE m.id = ?",
	    "i", id) != DB_OK)
		return DB_ERROR;
	if (db_rows(r) > 0)
		o = member_json(r, 0, 1);
	else {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(id));
	}
	db_result_free(r);
	rc = account_event(account, what, o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/*
 * A page of members, newest first: of account (nested) or of every
 * account the caller belongs to (account NULL, flat).  200.
 */
static int
members_page(struct request *req, struct reply *rep, const char *account)
{
	struct db_result	*r;
	struct json_object	*list;
	struct page		 page;
	long long		 before;
	size_t			 i;
	int			 rc;

	if ((rc = request_page(req, rep, 100, 1000, &page)) != 0)
		return rc;
	before = page.before > 0 ? page.before : 9223372036854775807LL;
	if (account != NULL)
		rc = db_query(&r, "SELECT " MEMBER_COLS MEMBER_FROM
		    " WHERE m.account_id = ? AND m.id < ? ORDER BY m.id DESC"
		    " LIMIT ?", "sii", account, before, page.limit);
	else
		rc = db_query(&r, "SELECT " MEMBER_COLS MEMBER_FROM
		    " JOIN account_members me ON me.account_id = m.account_id"
		    " AND me.user_id = ? WHERE m.id < ? ORDER BY m.id DESC"
		    " LIMIT ?", "iii", req->auth.user_id, before, page.limit);
	if (rc != DB_OK)
		return reply_db_error(rep);
	list = json_object_new_array();
	for (i = 0; i < db_rows(r); i++)
		json_object_array_add(list, member_json(r, i, account != NULL));
	db_result_free(r);
	return reply_json(rep, 200, list);
}

/* GET /api/accounts/{account_id}/members/: members only.  200; 404. */
int
dest_members_list(struct request *req, struct reply *rep)
{
	const char	*account = request_capture(req, "account_id");
	int		 rc;

	if ((rc = account_access(req, rep, account, 0, NULL)) != 0)
		return rc;
	return members_page(req, rep, account);
}

/* GET /api/account_members/: members of the caller's accounts.  200. */
int
dest_account_members_list(struct request *req, struct reply *rep)
{
	return members_page(req, rep, NULL);
}

/*
 * A role as sent: 1, 2, "1", "2", "Admin" or "User".  Returns the role,
 * or 0 with a 400 about field written (*status).
 */
static int
parse_role(struct reply *rep, struct json_object *v, int *status)
{
	const char	*s;
	long long	 n = 0;

	if (json_object_is_type(v, json_type_int))
		n = json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (strcasecmp(s, "Admin") == 0)
			n = ROLE_ADMIN;
		else if (strcasecmp(s, "User") == 0)
			n = ROLE_USER;
		else if (valid_int(s, 1, 1000, &n) == -1)
			n = 0;
	}
	if (n == ROLE_ADMIN || n == ROLE_USER)
		return (int)n;
	*status = reply_invalid(rep, "role",
	    "Invalid pk - object does not exist.");
	return 0;
}

/*
 * A user as sent: an id (number or digits) or an e-mail address.
 * Returns the id, or 0 with a 400 written (*status), -1 on a DB error.
 */
static long long
parse_user(struct reply *rep, struct json_object *v, int *status)
{
	struct user	 u;
	const char	*s;
	long long	 n = 0;
	int		 found;

	if (json_object_is_type(v, json_type_int))
		n = json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (strchr(s, '@') != NULL) {
			memset(&u, 0, sizeof(u));
			if ((found = user_find_by_email(s, &u)) == -1) {
				*status = reply_db_error(rep);
				return -1;
			}
			n = found ? u.id : 0;
			if (found)
				user_free(&u);
		} else if (valid_int(s, 1, 9223372036854775807LL, &n) == -1)
			n = 0;
	}
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		if ((found = user_find_by_id(n, &u)) == -1) {
			*status = reply_db_error(rep);
			return -1;
		}
		if (found) {
			user_free(&u);
			return n;
		}
	}
	*status = reply_invalid(rep, "user",
	    "Invalid pk - object does not exist.");
	return 0;
}

struct member_write {
	const char	*account;
	long long	 user, role, by, id;
};

static enum db_status
member_add_tx(void *arg)
{
	struct member_write	*w = arg;
	enum db_status		 st;

	if ((st = db_exec("INSERT INTO account_members (account_id, user_id, "
	    "role_id, created_by, updated_by) VALUES (?, ?, ?, ?, ?)",
	    "siiii", w->account, w->user, w->role, w->by, w->by)) != DB_OK)
		return st;
	w->id = (long long)db_insert_id();
	return member_event(w->id, w->account, "member_added");
}

/* Add a member to account from the body's user and role.  201. */
static int
member_add(struct request *req, struct reply *rep, const char *account)
{
	struct json_object	*v;
	struct member_write	 w;
	enum db_status		 st;
	int			 rc = 0;

	if ((rc = account_access(req, rep, account, 1, NULL)) != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	w.account = account;
	w.by = req->auth.user_id;
	if (!json_object_object_get_ex(req->json, "user", &v) || v == NULL)
		return reply_invalid(rep, "user", "This field is required.");
	if ((w.user = parse_user(rep, v, &rc)) <= 0)
		return rc;
	if (!json_object_object_get_ex(req->json, "role", &v) || v == NULL)
		w.role = ROLE_USER;
	else if ((w.role = parse_role(rep, v, &rc)) == 0)
		return rc;
	st = db_transaction(member_add_tx, &w);
	if (st == DB_DUPLICATE)
		return reply_invalid(rep, "non_field_errors",
		    "The fields account, user must make a unique set.");
	if (st != DB_OK)
		return reply_db_error(rep);
	return member_reply(rep, 201, w.id);
}

/* POST /api/accounts/{account_id}/members/ {user, role}: Admins.  201. */
int
dest_member_add(struct request *req, struct reply *rep)
{
	return member_add(req, rep, request_capture(req, "account_id"));
}

/* POST /api/account_members/ {account, user, role}: Admins.  201. */
int
dest_account_member_add(struct request *req, struct reply *rep)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(req->json, "account", &v) ||
	    !json_object_is_type(v, json_type_string))
		return reply_invalid(rep, "account", "This field is required.");
	return member_add(req, rep, json_object_get_string(v));
}

/*
 * Load membership {id} of the path: its account and user, after checking
 * the caller belongs to that account (404 otherwise, also for an unknown
 * id).  Returns 0 or the status written.
 */
static int
member_load(struct request *req, struct reply *rep, char *account,
    long long *user, long long *role, int *caller_role)
{
	struct db_result	*r;
	long long		 id = request_capture_id(req, "id");
	int			 rc;

	if (id <= 0)
		return dest_not_found(rep);
	if (db_query(&r, "SELECT account_id, user_id, role_id FROM "
	    "account_members WHERE id = ?", "i", id) != DB_OK)
		return reply_db_error(rep);
	if (db_rows(r) == 0) {
		db_result_free(r);
		return dest_not_found(rep);
	}
	snprintf(account, UUID_SIZE, "%s", db_get(r, 0, 0));
	*user = db_get_int(r, 0, 1);
	*role = db_get_int(r, 0, 2);
	db_result_free(r);
	if ((rc = account_access(req, rep, account, 0, caller_role)) != 0)
		return rc;
	return 0;
}

/* GET /api/account_members/{id}/: to members of its account.  200; 404. */
int
dest_account_member_get(struct request *req, struct reply *rep)
{
	char		 account[UUID_SIZE];
	long long	 user, role;
	int		 rc, caller;

	if ((rc = member_load(req, rep, account, &user, &role, &caller)) != 0)
		return rc;
	return member_reply(rep, 200, request_capture_id(req, "id"));
}

static enum db_status
member_update_tx(void *arg)
{
	struct member_write	*w = arg;
	enum db_status		 st;

	if ((st = db_exec("UPDATE account_members SET role_id = ?, "
	    "updated_by = ? WHERE id = ?", "iii", w->role, w->by, w->id)) !=
	    DB_OK)
		return st;
	return member_event(w->id, w->account, "member_updated");
}

/*
 * PUT/PATCH /api/account_members/{id}/ {role}: the account's Admins
 * change another member's role; account and user cannot move.  200; 400;
 * 403; 404.
 */
int
dest_account_member_update(struct request *req, struct reply *rep)
{
	struct json_object	*v;
	struct member_write	 w;
	char			 account[UUID_SIZE];
	long long		 user, role;
	int			 rc = 0, caller;

	if ((rc = member_load(req, rep, account, &user, &role, &caller)) != 0)
		return rc;
	if (caller != ROLE_ADMIN)
		return dest_forbidden(rep);
	if (json_object_object_get_ex(req->json, "account", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), account) != 0))
		return reply_invalid(rep, "account",
		    "A membership cannot move to another account.");
	if (json_object_object_get_ex(req->json, "user", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != user) &&
	    (!json_object_is_type(v, json_type_string) ||
	    strtoll(json_object_get_string(v), NULL, 10) != user))
		return reply_invalid(rep, "user",
		    "A membership cannot move to another user.");
	memset(&w, 0, sizeof(w));
	w.account = account;
	w.by = req->auth.user_id;
	w.id = request_capture_id(req, "id");
	w.role = role;
	if (json_object_object_get_ex(req->json, "role", &v) && v != NULL &&
	    (w.role = parse_role(rep, v, &rc)) == 0)
		return rc;
	if (w.role != role && user == req->auth.user_id)
		return reply_error(rep, 403, "own_role",
		    "You cannot change your own role.");
	if (db_transaction(member_update_tx, &w) != DB_OK)
		return reply_db_error(rep);
	return member_reply(rep, 200, w.id);
}

static enum db_status
member_delete_tx(void *arg)
{
	struct member_write	*w = arg;
	struct db_result	*r;
	struct json_object	*o;
	enum db_status		 st;
	long long		 admins;
	int			 rc;

	/* Lock the account's Admin rows: two removals cannot both pass. */
	if ((st = db_query(&r, "SELECT COUNT(*) FROM account_members "
	    "WHERE account_id = ? AND role_id = 1 FOR UPDATE", "s",
	    w->account)) != DB_OK)
		return st;
	admins = db_get_int(r, 0, 0);
	db_result_free(r);
	if (w->role == ROLE_ADMIN && admins <= 1)
		return DB_REFUSED;
	if ((st = db_exec("DELETE FROM account_members WHERE id = ?", "i",
	    w->id)) != DB_OK)
		return st;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(w->id));
	json_object_object_add(o, "user", json_object_new_int64(w->user));
	rc = account_event(w->account, "member_removed", o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/*
 * DELETE /api/account_members/{id}/: an Admin removes a member, or a
 * member leaves.  The last Admin stays.  204; 400; 403; 404.
 */
int
dest_account_member_delete(struct request *req, struct reply *rep)
{
	struct member_write	 w;
	char			 account[UUID_SIZE];
	long long		 user, role;
	enum db_status		 st;
	int			 rc, caller;

	if ((rc = member_load(req, rep, account, &user, &role, &caller)) != 0)
		return rc;
	if (caller != ROLE_ADMIN && user != req->auth.user_id)
		return dest_forbidden(rep);
	memset(&w, 0, sizeof(w));
	w.account = account;
	w.id = request_capture_id(req, "id");
	w.user = user;
	w.role = role;
	st = db_transaction(member_delete_tx, &w);
	if (st == DB_REFUSED)
		return reply_invalid(rep, "non_field_errors",
		    "The last Admin of an account cannot be removed.");
	if (st != DB_OK)
		return reply_db_error(rep);
	return reply_empty(rep);
}
