/*
 * delete.c -- deleting one's account: 001's /delete_account (with the
 * password) and 002's DELETE /api/users/{id} (the caller's own id).
 *
 * One transaction: every session is revoked (session_revoked, so the
 * notifier closes the user's sockets), user_delete() removes the user and
 * what is only theirs (README, "Deleting a user"), and a user_deleted
 * event goes to the room user:<id>.  A token of a deleted user is no
 * longer live, so deleting twice is a 401, never a 5xx.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "body.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "password.h"
#include "reply.h"
#include "request.h"
#include "token.h"
#include "user.h"
#include "users.h"

struct deletion {
	long long	 id;
	int		 gone;	/* someone else deleted it first */
};

/* The transaction of a deletion. */
static enum db_status
delete_tx(void *arg)
{
	struct deletion		*d = arg;
	long long		 id = d->id;
	struct json_object	*o;
	enum db_status		 st;
	char			 room[32];
	int			 rc;

	if (token_revoke_user(id, "account_deleted", NULL) == -1)
		return DB_ERROR;
	if ((st = user_delete(id)) != DB_OK)
		return st;
	/* Someone deleted it first: nothing to announce. */
	if ((d->gone = db_affected() == 0))
		return DB_REFUSED;
	o = json_object_new_object();
	json_object_object_add(o, "user_id", json_object_new_int64(id));
	snprintf(room, sizeof(room), "user:%lld", id);
	rc = outbox_event(room, "user_deleted", o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/*
 * Delete user id (the caller).  Returns 0, or the status of the error
 * written: 401 when the user was already gone.
 */
static int
delete_user(struct reply *rep, long long id)
{
	struct deletion	 d = { id, 0 };

	if (db_transaction(delete_tx, &d) == DB_OK) {
		log_info("user %lld deleted their account", id);
		return 0;
	}
	if (d.gone)
		return reply_error(rep, 401, "invalid_token",
		    "Token is invalid");
	return reply_db_error(rep);
}

/*
 * POST /delete_account (001): the password, then the account goes.  200;
 * 400 bad field; 401 wrong password or no live token.
 */
int
users_delete_account(struct request *req, struct reply *rep)
{
	static const struct field f = { "password", FIELD_STRING, 0, 0, 0,
	    NULL };
	struct field_value	 v;
	struct user		 u;
	int			 rc, found;

	if ((rc = body_fields(req, rep, &f, 1, &v)) != 0)
		return rc;
	if ((found = user_find_by_id(req->auth.user_id, &u)) == -1) {
		rc = reply_db_error(rep);
		goto out;
	}
	if (!found || !v.present || v.len > PASSWORD_MAX_LENGTH ||
	    !password_verify(u.password_hash, v.s, v.len)) {
		rc = reply_error(rep, 401, "invalid_password",
		    "Invalid password!");
		goto out;
	}
	if ((rc = delete_user(rep, u.id)) == 0)
		rc = reply_message(rep, 200, "Account deleted successfully!");
out:
	user_free(&u);
	body_values_free(&v, 1);
	return rc;
}

/*
 * DELETE /api/users/{id} (002): the caller's own account (the original
 * let anyone delete anyone).  200; 401; 403 someone else; 404.
 */
int
users_delete(struct request *req, struct reply *rep)
{
	struct user	 u;
	int		 rc;

	if ((rc = users_path_self(req, rep, "delete", &u)) != 0)
		return rc;
	if ((rc = delete_user(rep, u.id)) == 0)
		rc = reply_message(rep, 200, "User deleted successfully");
	user_free(&u);
	return rc;
}
