/*
 * profile.c -- reading and editing one's own account, for 001's
 * edit_user and edit_user_info, 002's /api/users/{id}, 003's profile and
 * fetch_profile, and fastback's /api/users/me.
 *
 * Every edit is one struct change applied by users_change(): the checks
 * (current password, uniqueness), one UPDATE that leaves unsent fields
 * alone, the revocation of the other sessions after a new password, and
 * the user_updated event, in one transaction.  A rename touches only the
 * users row, so the password and everything the user owns (keyed by id)
 * stay; a password change touches only the hash.  001's original lost the
 * password on a rename and the username on a password change.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <sodium.h>

#include "body.h"
#include "db.h"
#include "outbox.h"
#include "password.h"
#include "reply.h"
#include "request.h"
#include "token.h"
#include "user.h"
#include "users.h"
#include "valid.h"

/* What users_change() found in the way. */
enum taken {
	TAKEN_NONE,
	TAKEN_EMAIL,
	TAKEN_USERNAME
};

/* The wrong-password answer of each dialect.  Returns the status. */
static int
wrong_current(struct reply *rep)
{
	switch (rep->dialect) {
	case DIALECT_001:
		return reply_error(rep, 401, "invalid_password",
		    "Invalid current password!");
	case DIALECT_002:
		return reply_error(rep, 403, "invalid_password",
		    "Invalid current password");
	default:
		return reply_error(rep, 403, "invalid_password",
		    "current_password is missing or wrong");
	}
}

/* The "already exists" answer of each dialect.  Returns the status. */
static int
taken_answer(struct reply *rep, enum taken t)
{
	int	 email = t == TAKEN_EMAIL;

	switch (rep->dialect) {
	case DIALECT_001:
		return reply_error(rep, 400, "already_exists", email ?
		    "Email already exists!" : "Username already exists!");
	case DIALECT_002:
		return reply_error(rep, 400, "already_exists", email ?
		    "Email already exists" : "Username already exists");
	case DIALECT_003:
		return reply_error(rep, 409, "already_exists",
		    "User Already Exists");
	default:
		return reply_error(rep, 409, "already_exists", email ?
		    "This e-mail address is already registered" :
		    "This username is taken");
	}
}

/* Is a new username or e-mail of c someone else's?  A taken or -1. */
static int
change_taken(const struct change *c, long long id)
{
	struct db_result	*r;
	int			 t = TAKEN_NONE;

	if (c->username == NULL && c->email == NULL)
		return TAKEN_NONE;
	if (db_query(&r, "SELECT email_key = LOWER(?) FROM users "
	    "WHERE id <> ? AND (email_key = LOWER(?) OR username = ?) LIMIT 1",
	    "siss", c->email, id, c->email, c->username) != DB_OK)
		return -1;
	if (db_rows(r) > 0)
		t = db_get_int(r, 0, 0) ? TAKEN_EMAIL : TAKEN_USERNAME;
	db_result_free(r);
	return t;
}

/* Does c need the current password from this user? */
static int
change_needs_current(const struct change *c, const struct user *u)
{
	if (c->need_current || c->password != NULL)
		return 1;
	return c->current_for_email && c->email != NULL &&
	    (u->email == NULL || strcasecmp(c->email, u->email) != 0);
}

struct change_tx {
	const struct request	*req;
	const struct change	*c;
	const char		*hash;	/* new hash or NULL */
	struct user		*u;	/* the result */
};

/* The transaction of an edit; see users_change(). */
static enum db_status
change_tx(void *arg)
{
	struct change_tx	*t = arg;
	const struct change	*c = t->c;
	struct json_object	*o;
	enum db_status		 st;
	long long		 id = t->req->auth.user_id;
	const long long		*agep = c->age >= 0 ? &c->age : NULL;
	char			 room[32];
	int			 rc;

	st = db_exec("UPDATE users SET username = COALESCE(?, username), "
	    "email = COALESCE(?, email), first_name = COALESCE(?, first_name), "
	    "last_name = COALESCE(?, last_name), age = COALESCE(?, age), "
	    "phone_number = COALESCE(?, phone_number), "
	    "avatar_url = COALESCE(?, avatar_url), "
	    "password_hash = COALESCE(?, password_hash), "
	    "password_changed_at = IF(? IS NULL, password_changed_at, "
	    "UTC_TIMESTAMP(6)) WHERE id = ?", "ssssnssssi", c->username,
	    c->email, c->first_name, c->last_name, agep, c->phone_number,
	    c->avatar_url, t->hash, t->hash, id);
	if (st != DB_OK)
		return st;
	/* The token that asked stays; every other one dies. */
	if (t->hash != NULL && token_revoke_user(id, "password_change",
	    t->req->auth.jti) == -1)
		return DB_ERROR;
	user_free(t->u);
	if ((rc = user_find_by_id(id, t->u)) != 1)
		return rc == 0 ? DB_REFUSED : DB_ERROR;
	o = user_json(t->u, USER_JSON_EMAIL | USER_JSON_PROFILE |
	    USER_JSON_CREATED);
	snprintf(room, sizeof(room), "user:%lld", id);
	rc = outbox_event(room, "user_updated", o);
	json_object_put(o);
	return rc == 0 ? DB_OK : DB_ERROR;
}

int
users_change(struct request *req, struct reply *rep, const struct change *c,
    struct user *u)
{
	struct change_tx	 t = { req, c, NULL, u };
	struct user		 cur;
	char			 hash[PASSWORD_HASH_MAX];
	int			 rc = 0, found, taken;

	memset(u, 0, sizeof(*u));
	if ((found = user_find_by_id(req->auth.user_id, &cur)) != 1)
		return found == 0 ? reply_error(rep, 401, "invalid_token",
		    "Token is invalid") : reply_db_error(rep);
	if (change_needs_current(c, &cur) && (c->current == NULL ||
	    c->current_len > PASSWORD_MAX_LENGTH ||
	    !password_verify(cur.password_hash, c->current, c->current_len))) {
		rc = wrong_current(rep);
		goto out;
	}
	if ((taken = change_taken(c, cur.id)) != TAKEN_NONE) {
		rc = taken < 0 ? reply_db_error(rep) : taken_answer(rep, taken);
		goto out;
	}
	if (c->password != NULL) {
		if (password_hash(c->password, c->password_len, hash) != 0) {
			rc = reply_error(rep, 500, "internal_error",
			    "Internal error");
			goto out;
		}
		t.hash = hash;
	}
	switch (db_transaction(change_tx, &t)) {
	case DB_OK:
		break;
	case DB_DUPLICATE:
		/* Lost a race for the name: answer as the check would. */
		rc = taken_answer(rep, strstr(db_error(), "username") ?
		    TAKEN_USERNAME : TAKEN_EMAIL);
		break;
	case DB_REFUSED:
		rc = reply_error(rep, 401, "invalid_token", "Token is invalid");
		break;
	default:
		rc = reply_db_error(rep);
		break;
	}
	if (rc != 0)
		user_free(u);
out:
	sodium_memzero(hash, sizeof(hash));
	user_free(&cur);
	return rc;
}

int
users_path_self(struct request *req, struct reply *rep, const char *verb,
    struct user *u)
{
	long long	 id = request_capture_id(req, "id");
	int		 found;

	memset(u, 0, sizeof(*u));
	if (id < 0)
		return reply_error(rep, 404, "not_found", "User not found");
	if ((found = user_find_by_id(id, u)) == -1)
		return reply_db_error(rep);
	if (found == 0)
		return reply_error(rep, 404, "not_found", "User not found");
	if (id != req->auth.user_id) {
		user_free(u);
		return reply_error(rep, 403, "forbidden",
		    "You can only %s your own account", verb);
	}
	return 0;
}

/*
 * The fields of an edit, in one order for every route, so that one reader
 * serves them all; a route reads the first n of its table.
 */
enum {
	C_USERNAME,
	C_PASSWORD,
	C_CURRENT,
	C_FIRST_NAME,
	C_LAST_NAME,
	C_AGE,
	C_PHONE,
	C_EMAIL,
	C_AVATAR,
	C__MAX
};

/* 001's names: edit_user reads three, edit_user_info seven. */
static const struct field fields_001[C_EMAIL] = {
	[C_USERNAME] = { "new_username", FIELD_STRING, 0, 1, 150,
	    valid_username },
	[C_PASSWORD] = { "new_password", FIELD_STRING, 0, 0, 0, NULL },
	[C_CURRENT] = { "current_password", FIELD_STRING, 0, 0, 0, NULL },
	[C_FIRST_NAME] = { "new_first_name", FIELD_STRING, FIELD_TRIM, 0, 150,
	    valid_text },
	[C_LAST_NAME] = { "new_last_name", FIELD_STRING, FIELD_TRIM, 0, 150,
	    valid_text },
	[C_AGE] = { "new_age", FIELD_ANY, 0, 0, 0, NULL },
	[C_PHONE] = { "new_phone_number", FIELD_STRING, FIELD_TRIM, 0, 32,
	    valid_phone },
};

/* 002's PUT and fastback's PATCH: the plain names, all of them. */
static const struct field fields_plain[C__MAX] = {
	[C_USERNAME] = { "username", FIELD_STRING, 0, 1, 150, valid_username },
	[C_PASSWORD] = { "password", FIELD_STRING, 0, 0, 0, NULL },
	[C_CURRENT] = { "current_password", FIELD_STRING, 0, 0, 0, NULL },
	[C_FIRST_NAME] = { "first_name", FIELD_STRING, FIELD_TRIM, 0, 150,
	    valid_text },
	[C_LAST_NAME] = { "last_name", FIELD_STRING, FIELD_TRIM, 0, 150,
	    valid_text },
	[C_AGE] = { "age", FIELD_ANY, 0, 0, 0, NULL },
	[C_PHONE] = { "phone_number", FIELD_STRING, FIELD_TRIM, 0, 32,
	    valid_phone },
	[C_EMAIL] = { "email", FIELD_STRING, FIELD_TRIM, 0, 254, valid_email },
	[C_AVATAR] = { "avatar_url", FIELD_STRING, FIELD_TRIM, 0, 2048,
	    valid_http_url },
};

#define S(v)	((v).present ? (v).s : NULL)

/*
 * 001 sent ages as numbers or digits: take both, 0 to 150, into *age (-1
 * when absent).  Returns 0, or the status of the 400 written.
 */
static int
read_age(struct reply *rep, const char *field, const struct field_value *v,
    long long *age)
{
	struct json_object	*o = v->o;
	int			 ok = 0;

	*age = -1;
	if (!v->present)
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		*age = json_object_get_int64(o);
		ok = *age >= 0 && *age <= 150;
	} else if (json_object_is_type(o, json_type_string))
		ok = valid_int(json_object_get_string(o), 0, 150, age) == 0;
	return ok ? 0 : reply_invalid(rep, field,
	    "must be a whole number from 0 to 150");
}

/*
 * Read the first n fields of table into v (C__MAX of them) and c, the new
 * password checked.  Returns 0, or the status of the 400 written; the
 * caller frees v either way.
 */
static int
read_change(struct request *req, struct reply *rep,
    const struct field *table, size_t n, struct field_value *v,
    struct change *c)
{
	const char	*why;
	int		 rc;

	memset(v, 0, C__MAX * sizeof(*v));
	if ((rc = body_fields(req, rep, table, n, v)) != 0)
		return rc;
	c->username = S(v[C_USERNAME]);
	c->email = S(v[C_EMAIL]);
	c->first_name = S(v[C_FIRST_NAME]);
	c->last_name = S(v[C_LAST_NAME]);
	c->phone_number = S(v[C_PHONE]);
	c->avatar_url = S(v[C_AVATAR]);
	if (v[C_CURRENT].present) {
		c->current = v[C_CURRENT].s;
		c->current_len = v[C_CURRENT].len;
	}
	if (v[C_PASSWORD].present) {
		why = password_check_new(v[C_PASSWORD].s, v[C_PASSWORD].len);
		if (why != NULL)
			return reply_invalid(rep, table[C_PASSWORD].name, why);
		c->password = v[C_PASSWORD].s;
		c->password_len = v[C_PASSWORD].len;
	}
	return n > C_AGE ? read_age(rep, table[C_AGE].name, &v[C_AGE],
	    &c->age) : 0;
}

/*
 * POST /edit_user (001, n = 3 fields) and /edit_user_info (n = 7): the
 * current password, then any new username, password or profile field.
 * 200 with the account; 400 nothing new, bad field or username taken; 401
 * wrong current password.
 */
static int
edit_001(struct request *req, struct reply *rep, size_t n)
{
	struct field_value	 v[C__MAX];
	struct change		 c = { .age = -1, .need_current = 1 };
	struct json_object	*o;
	struct user		 u;
	size_t			 i;
	int			 rc, any = 0;

	if ((rc = read_change(req, rep, fields_001, n, v, &c)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		any |= i != C_CURRENT && v[i].present;
	if (!any) {
		rc = reply_error(rep, 400, "no_changes",
		    "No new information provided!");
		goto out;
	}
	if ((rc = users_change(req, rep, &c, &u)) != 0)
		goto out;
	o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string(
	    "User information updated successfully!"));
	json_object_object_add(o, "user", user_json(&u, USER_JSON_EMAIL |
	    USER_JSON_PROFILE | USER_JSON_CREATED));
	user_free(&u);
	rc = reply_json(rep, 200, o);
out:
	body_values_free(v, C__MAX);
	return rc;
}

/* POST /edit_user (001): new_username, new_password, current_password. */
int
users_edit_user(struct request *req, struct reply *rep)
{
	return edit_001(req, rep, C_FIRST_NAME);
}

/* POST /edit_user_info (001): edit_user plus the profile fields. */
int
users_edit_user_info(struct request *req, struct reply *rep)
{
	return edit_001(req, rep, C_EMAIL);
}

/*
 * GET /api/users/{id} (002): one user; the e-mail only for callers with a
 * token.  200; 404.
 */
int
users_get(struct request *req, struct reply *rep)
{
	struct json_object	*o;
	struct user		 u;
	long long		 id = request_capture_id(req, "id");
	int			 found;

	if (id < 0)
		return reply_error(rep, 404, "not_found", "User not found");
	if ((found = user_find_by_id(id, &u)) == -1)
		return reply_db_error(rep);
	if (found == 0)
		return reply_error(rep, 404, "not_found", "User not found");
	o = json_object_new_object();
	json_object_object_add(o, "user", user_json(&u, USER_JSON_CREATED |
	    (req->auth.user_id != 0 ? USER_JSON_EMAIL : 0)));
	user_free(&u);
	return reply_json(rep, 200, o);
}

/*
 * PUT /api/users/{id} (002): the caller edits their own username, e-mail
 * or avatar (and the profile fields PATCH /api/users/me takes); a
 * password (the original code took one) needs current_password.  200;
 * 400 bad field or taken; 401; 403 someone else, or a wrong current
 * password; 404.
 */
int
users_put(struct request *req, struct reply *rep)
{
	struct field_value	 v[C__MAX];
	struct change		 c = { .age = -1 };
	struct json_object	*o;
	struct user		 u;
	int			 rc;

	memset(v, 0, sizeof(v));
	if ((rc = users_path_self(req, rep, "update", &u)) != 0)
		return rc;
	user_free(&u);
	if ((rc = read_change(req, rep, fields_plain, C__MAX, v, &c)) != 0 ||
	    (rc = users_change(req, rep, &c, &u)) != 0)
		goto out;
	o = json_object_new_object();
	json_object_object_add(o, "message",
	    json_object_new_string("User updated successfully"));
	json_object_object_add(o, "user", user_json(&u, USER_JSON_EMAIL |
	    USER_JSON_CREATED));
	user_free(&u);
	rc = reply_json(rep, 200, o);
out:
	body_values_free(v, C__MAX);
	return rc;
}

/* The profile of 003, also in GET /api/users/me's answer. */
static struct json_object *
profile_003(const struct user *u)
{
	struct json_object	*o = json_object_new_object();

	json_add_string(o, "email", u->email);
	json_add_string(o, "first_name", u->first_name);
	json_add_string(o, "last_name", u->last_name);
	json_add_string(o, "profile_image", u->avatar_url);
	json_add_string(o, "created_on", u->created_at);
	return o;
}

enum {
	F3_FIRST_NAME,
	F3_LAST_NAME,
	F3_IMAGE,
	F3__MAX
};

static const struct field profile_fields[F3__MAX] = {
	[F3_FIRST_NAME] = { "first_name", FIELD_STRING, FIELD_TRIM, 0, 150,
	    valid_text },
	[F3_LAST_NAME] = { "last_name", FIELD_STRING, FIELD_TRIM, 0, 150,
	    valid_text },
	[F3_IMAGE] = { "profile_image", FIELD_STRING, FIELD_TRIM, 0, 2048,
	    valid_http_url },
};

/*
 * POST /api/user/profile (003): first_name, last_name, profile_image of
 * the caller; fields not sent stay.  The message is the original's (it
 * reused its sign-up text).  200; 400; 401; 403 another user's e-mail.
 */
int
users_profile(struct request *req, struct reply *rep)
{
	struct field_value	 v[F3__MAX];
	struct change		 c = { .age = -1 };
	struct json_object	*o;
	struct user		 u;
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "email")) != 0)
		return rc;
	if ((rc = body_fields(req, rep, profile_fields, F3__MAX, v)) != 0)
		return rc;
	c.first_name = S(v[F3_FIRST_NAME]);
	c.last_name = S(v[F3_LAST_NAME]);
	c.avatar_url = S(v[F3_IMAGE]);
	if ((rc = users_change(req, rep, &c, &u)) == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "status_code",
		    json_object_new_int(200));
		json_object_object_add(o, "message",
		    json_object_new_string("User Signup successful"));
		json_object_object_add(o, "users", profile_003(&u));
		user_free(&u);
		rc = reply_json(rep, 200, o);
	}
	body_values_free(v, F3__MAX);
	return rc;
}

/* Load the caller into u.  Returns 0, or the status of the error written. */
static int
load_caller(struct request *req, struct reply *rep, struct user *u)
{
	switch (user_find_by_id(req->auth.user_id, u)) {
	case 1:
		return 0;
	case 0:
		return reply_error(rep, 401, "invalid_token",
		    "Token is invalid");
	default:
		return reply_db_error(rep);
	}
}

/*
 * POST /api/user/fetch_profile (003, not in its document, in its code):
 * the caller's profile under "users".  200; 401; 403 another's e-mail.
 */
int
users_fetch_profile(struct request *req, struct reply *rep)
{
	struct json_object	*o;
	struct user		 u;
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "email")) != 0 ||
	    (rc = load_caller(req, rep, &u)) != 0)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "status_code", json_object_new_int(200));
	json_object_object_add(o, "message",
	    json_object_new_string("Profile fetched successfully"));
	json_object_object_add(o, "users", profile_003(&u));
	user_free(&u);
	return reply_json(rep, 200, o);
}

/* {"user": the whole account} for fastback's /api/users/me. */
static int
me_answer(struct reply *rep, const struct user *u)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "user", user_json(u, USER_JSON_EMAIL |
	    USER_JSON_PROFILE | USER_JSON_CREATED));
	return reply_json(rep, 200, o);
}

/* GET /api/users/me (fastback): the caller's account.  200; 401. */
int
users_me(struct request *req, struct reply *rep)
{
	struct user	 u;
	int		 rc;

	if ((rc = load_caller(req, rep, &u)) != 0)
		return rc;
	rc = me_answer(rep, &u);
	user_free(&u);
	return rc;
}

/*
 * PATCH /api/users/me (fastback): any account field; a new password or
 * e-mail needs current_password.  200; 400; 401; 403 wrong current
 * password; 409 username or e-mail taken.
 */
int
users_me_patch(struct request *req, struct reply *rep)
{
	struct field_value	 v[C__MAX];
	struct change		 c = { .age = -1, .current_for_email = 1 };
	struct user		 u;
	int			 rc;

	if ((rc = read_change(req, rep, fields_plain, C__MAX, v, &c)) == 0 &&
	    (rc = users_change(req, rep, &c, &u)) == 0) {
		rc = me_answer(rep, &u);
		user_free(&u);
	}
	body_values_free(v, C__MAX);
	return rc;
}
