/*
 * credentials.c -- sign-up and login, one handler each for the five seeds.
 *
 * The seeds disagree on field names, status codes and bodies, so each
 * handler reads the union of their fields, and the route's dialect picks
 * what is required and how the answer looks.  /register and /login are
 * shared by 000 (e-mail) and 001 (username): a body with a username is
 * answered the 001 way, one with only an e-mail the 000 way.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "auth.h"
#include "body.h"
#include "db.h"
#include "log.h"
#include "password.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "token.h"
#include "user.h"
#include "valid.h"

enum {
	F_EMAIL,
	F_USERNAME,
	F_PASSWORD,
	F_FIRST_NAME,
	F_LAST_NAME,
	F_AGE,
	F_PHONE,
	F_AVATAR,
	F__MAX
};

static const struct field signup_fields[F__MAX] = {
	[F_EMAIL] = { "email", FIELD_STRING, FIELD_TRIM, 0, 254, valid_email },
	[F_USERNAME] = { "username", FIELD_STRING, 0, 1, 150, valid_username },
	[F_PASSWORD] = { "password", FIELD_STRING, 0, 0, 0, NULL },
	[F_FIRST_NAME] = { "first_name", FIELD_STRING, FIELD_TRIM, 0, 150,
	    valid_text },
	[F_LAST_NAME] = { "last_name", FIELD_STRING, FIELD_TRIM, 0, 150,
	    valid_text },
	[F_AGE] = { "age", FIELD_ANY, 0, 0, 0, NULL },
	[F_PHONE] = { "phone_number", FIELD_STRING, FIELD_TRIM, 0, 32,
	    valid_phone },
	[F_AVATAR] = { "avatar_url", FIELD_STRING, FIELD_TRIM, 0, 2048,
	    valid_http_url },
};

/*
 * /register and /login belong to 000 (e-mail) and 001 (username) at once:
 * a body that names a username is 001's, so its errors, field errors
 * included, come in 001's envelope.  Call before reading the fields.
 */
static void
shared_path_dialect(const struct request *req, struct reply *rep)
{
	struct json_object	*o;

	if (rep->dialect != DIALECT_000 || req->json == NULL ||
	    !json_object_object_get_ex(req->json, "username", &o) || o == NULL)
		return;
	if (json_object_is_type(o, json_type_string) &&
	    json_object_get_string_len(o) == 0)
		return;
	rep->dialect = DIALECT_001;
}

/* 001 sent ages as numbers or digits; take both, 0 to 150. */
static int
read_age(struct field_value *v, long long *age)
{
	struct json_object	*o = v->o;

	*age = -1;
	if (!v->present)
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		*age = json_object_get_int64(o);
		return *age >= 0 && *age <= 150 ? 0 : -1;
	}
	if (json_object_is_type(o, json_type_string))
		return valid_int(json_object_get_string(o), 0, 150, age);
	return -1;
}

/* The required fields of each seed's sign-up; 0 when all are there. */
static int
signup_missing(struct reply *rep, const struct field_value *v)
{
	switch (rep->dialect) {
	case DIALECT_002:
		if (!v[F_USERNAME].present || !v[F_EMAIL].present ||
		    !v[F_PASSWORD].present)
			return reply_error(rep, 400, "missing_fields",
			    "Missing required fields: username, email and "
			    "password");
		return 0;
	case DIALECT_004:
		if (!v[F_EMAIL].present)
			return reply_invalid(rep, "email",
			    "This field is required.");
		if (!v[F_PASSWORD].present)
			return reply_invalid(rep, "password",
			    "This field is required.");
		return 0;
	case DIALECT_003:
		if (!v[F_EMAIL].present || !v[F_PASSWORD].present)
			return reply_error(rep, 400, "missing_fields",
			    "Invalid request parameters.");
		return 0;
	default:
		if ((!v[F_EMAIL].present && !v[F_USERNAME].present) ||
		    !v[F_PASSWORD].present)
			return reply_error(rep, 400, "missing_fields",
			    "Missing username or password!");
		return 0;
	}
}

/* Is the e-mail or the username taken?  1 e-mail, 2 username, 0, -1. */
static int
signup_taken(const struct field_value *v)
{
	struct db_result	*r;
	int			 taken = 0;

	if (db_query(&r, "SELECT email_key = LOWER(?) FROM users "
	    "WHERE email_key = LOWER(?) OR username = ? LIMIT 1", "sss",
	    v[F_EMAIL].s, v[F_EMAIL].s, v[F_USERNAME].s) != DB_OK)
		return -1;
	if (db_rows(r) > 0)
		taken = db_get_int(r, 0, 0) ? 1 : 2;
	db_result_free(r);
	return taken;
}

/* The "already exists" answer of each seed.  Returns the status. */
static int
signup_duplicate(struct reply *rep, int taken, const struct field_value *v)
{
	struct json_object	*o;

	switch (rep->dialect) {
	case DIALECT_000:
		/* A body without a username: only the e-mail can be taken. */
		reply_error(rep, 403, "already_exists", "User already exists.");
		o = rep->body;
		json_add_string(o, "email", v[F_EMAIL].s);
		return 403;
	case DIALECT_001:
		return reply_error(rep, 400, "already_exists", taken == 1 ?
		    "Email already exists!" : "Username already exists!");
	case DIALECT_002:
		return reply_error(rep, 400, "already_exists", taken == 1 ?
		    "Email already exists" : "Username already exists");
	case DIALECT_004:
		return reply_error(rep, 400, "already_exists",
		    "User with this email already exists");
	case DIALECT_003:
		return reply_error(rep, 409, "already_exists",
		    "User Already Exists");
	case DIALECT_FASTBACK:
		break;
	}
	return reply_error(rep, 409, "already_exists", taken == 1 ?
	    "This e-mail address is already registered" :
	    "This username is taken");
}

/* The success answer of each seed.  Returns the status. */
static int
signup_created(const struct request *req, struct reply *rep,
    const struct user *u)
{
	struct json_object	*o = json_object_new_object();
	int			 status = 200;
	const char		*msg;

	switch (rep->dialect) {
	case DIALECT_000:
		msg = "Account successfully registered!";
		break;
	case DIALECT_001:
		/* 001's /register and /add_user differ only in these words. */
		msg = req->route->dialect == DIALECT_000 ?
		    "Registration successful!" : "User added successfully!";
		break;
	case DIALECT_002:
		msg = "User registered successfully";
		status = 201;
		break;
	case DIALECT_004:
		msg = "User created successfully";
		status = 201;
		break;
	case DIALECT_003:
		json_object_object_add(o, "status_code",
		    json_object_new_int(200));
		msg = "User Signup successful";
		break;
	default:
		msg = "Account created";
		status = 201;
		break;
	}
	json_object_object_add(o, "message", json_object_new_string(msg));
	if (rep->dialect != DIALECT_003 && rep->dialect != DIALECT_004) {
		json_add_string(o, "email", u->email);
		json_object_object_add(o, "user", user_json(u,
		    USER_JSON_EMAIL | USER_JSON_CREATED));
	}
	return reply_json(rep, status, o);
}

/*
 * POST /register, /add_user (000, 001), /api/auth/register (002),
 * /api/auth/signup/ (004), /api/user/signup (003): create a user.
 * 200/201; 400 missing or invalid fields; 400/403/409 taken (per seed).
 */
int
auth_register(struct request *req, struct reply *rep)
{
	struct field_value	 v[F__MAX];
	char			 hash[PASSWORD_HASH_MAX];
	const char		*why;
	long long		 age, *agep = NULL;
	struct user		 u;
	int			 rc, taken;

	memset(&u, 0, sizeof(u));
	shared_path_dialect(req, rep);
	if (rep->dialect == DIALECT_004 || rep->dialect == DIALECT_003) {
		struct field_value	 e;
		struct field		 f = signup_fields[F_EMAIL];

		/* These seeds sign up by e-mail: say so in their words. */
		if ((rc = body_fields(req, rep, &f, 1, &e)) != 0) {
			if (rep->dialect == DIALECT_004)
				return reply_invalid(rep, "email",
				    "Enter a valid email address.");
			return rc;
		}
		body_values_free(&e, 1);
	}
	if ((rc = body_fields(req, rep, signup_fields, F__MAX, v)) != 0)
		return rc;
	if ((rc = signup_missing(rep, v)) != 0)
		goto out;
	if ((why = password_check_new(v[F_PASSWORD].s, v[F_PASSWORD].len))) {
		rc = reply_invalid(rep, "password", why);
		goto out;
	}
	if (read_age(&v[F_AGE], &age) == -1) {
		rc = reply_invalid(rep, "age", "must be a whole number from "
		    "0 to 150");
		goto out;
	}
	if (age >= 0)
		agep = &age;
	/* Cheap check first, so a duplicate costs no password hash. */
	if ((taken = signup_taken(v)) != 0) {
		rc = taken < 0 ? reply_db_error(rep) :
		    signup_duplicate(rep, taken, v);
		goto out;
	}
	if (password_hash(v[F_PASSWORD].s, v[F_PASSWORD].len, hash) != 0) {
		rc = reply_error(rep, 500, "internal_error", "Internal error");
		goto out;
	}
	switch (db_exec("INSERT INTO users (email, username, password_hash, "
	    "first_name, last_name, age, phone_number, avatar_url) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "sssssnss", v[F_EMAIL].s,
	    v[F_USERNAME].s, hash, v[F_FIRST_NAME].s, v[F_LAST_NAME].s, agep,
	    v[F_PHONE].s, v[F_AVATAR].s)) {
	case DB_OK:
		break;
	case DB_DUPLICATE:
		/* Lost a race with the same name: answer as the check would. */
		rc = signup_duplicate(rep, strstr(db_error(), "username") ?
		    2 : 1, v);
		goto out;
	default:
		rc = reply_db_error(rep);
		goto out;
	}
	if (user_find_by_id((long long)db_insert_id(), &u) != 1) {
		rc = reply_db_error(rep);
		goto out;
	}
	log_info("user %lld signed up", u.id);
	rc = signup_created(req, rep, &u);
out:
	memset(hash, 0, sizeof(hash));
	user_free(&u);
	body_values_free(v, F__MAX);
	return rc;
}

enum {
	L_EMAIL,
	L_USERNAME,
	L_PASSWORD,
	L__MAX
};

static const struct field login_fields[L__MAX] = {
	[L_EMAIL] = { "email", FIELD_STRING, FIELD_TRIM, 0, 254, NULL },
	[L_USERNAME] = { "username", FIELD_STRING, 0, 0, 254, NULL },
	[L_PASSWORD] = { "password", FIELD_STRING, 0, 0, 0, NULL },
};

/*
 * Find the account a login names: a username, else an e-mail address.
 * 004 logs in with the e-mail in "username", and any seed's user may log
 * in through any other, so an '@' in a username is tried as an e-mail.
 */
static int
login_find(const struct field_value *v, struct user *u)
{
	int	 rc;

	if (v[L_USERNAME].present) {
		if ((rc = user_find_by_username(v[L_USERNAME].s, u)) != 0)
			return rc;
		if (strchr(v[L_USERNAME].s, '@') != NULL)
			return user_find_by_email(v[L_USERNAME].s, u);
		return 0;
	}
	if (v[L_EMAIL].present)
		return user_find_by_email(v[L_EMAIL].s, u);
	return 0;
}

/* The failed-login answer of each seed.  Returns the status. */
static int
login_refused(struct reply *rep, const struct field_value *v)
{
	switch (rep->dialect) {
	case DIALECT_000:
		if (v[L_EMAIL].present) {
			reply_error(rep, 403, "invalid_credentials",
			    "User credentials mismatch.");
			json_add_string(rep->body, "email", v[L_EMAIL].s);
			return 403;
		}
		/* FALLTHROUGH */
	case DIALECT_001:
		return reply_error(rep, 401, "invalid_credentials",
		    "Invalid username/password!");
	case DIALECT_002:
		return reply_error(rep, 401, "invalid_credentials",
		    "Invalid credentials");
	case DIALECT_004:
		return reply_error(rep, 400, "invalid_credentials",
		    "Invalid credentials");
	default:
		return reply_error(rep, 401, "invalid_credentials",
		    "Invalid email or password");
	}
}

/* The token answer of each seed.  Returns the status. */
static int
login_granted(struct reply *rep, const struct user *u, const char *token,
    long expires_in)
{
	struct json_object	*o = json_object_new_object();
	char			 name[320];

	switch (rep->dialect) {
	case DIALECT_004:
		break;
	case DIALECT_003:
		json_object_object_add(o, "status_code",
		    json_object_new_int(200));
		json_object_object_add(o, "message",
		    json_object_new_string("User Signin successful"));
		json_object_object_add(o, "username", json_object_new_string(
		    user_display_name(u, name, sizeof(name))));
		json_object_object_add(o, "jwt_token",
		    json_object_new_string(token));
		break;
	case DIALECT_002:
		json_object_object_add(o, "message",
		    json_object_new_string("Login successful"));
		/* FALLTHROUGH */
	default:
		json_object_object_add(o, "token_type",
		    json_object_new_string("bearer"));
		json_object_object_add(o, "expires_in",
		    json_object_new_int64(expires_in));
		json_object_object_add(o, "user",
		    user_json(u, USER_JSON_EMAIL | USER_JSON_CREATED));
		break;
	}
	if (rep->dialect != DIALECT_004)
		json_object_object_add(o, "access_token",
		    json_object_new_string(token));
	json_object_object_add(o, "token", json_object_new_string(token));
	return reply_json(rep, 200, o);
}

/*
 * After a good password: if [password] asks for another cost than the
 * stored hash has, store a new hash.  A failure only delays the upgrade.
 */
static void
login_rehash(const struct user *u, const char *pw, size_t len)
{
	char	 hash[PASSWORD_HASH_MAX];

	if (!password_needs_rehash(u->password_hash) ||
	    password_hash(pw, len, hash) != 0)
		return;
	if (db_exec("UPDATE users SET password_hash = ? WHERE id = ? AND "
	    "password_hash = ?", "sis", hash, u->id, u->password_hash) == DB_OK)
		log_info("password hash of user %lld upgraded", u->id);
}

/*
 * POST /login (000, 001), /api/auth/login (002), /api/auth/login/ (004),
 * /api/user/signin (003): check a password and issue a token.
 * 200; 400 missing fields; 401/403/400 wrong credentials (per seed).
 */
int
auth_login(struct request *req, struct reply *rep)
{
	struct field_value	 v[L__MAX];
	struct user		 u;
	char			*token = NULL, jti[33];
	long			 expires_in = 0;
	int			 rc, found;

	memset(&u, 0, sizeof(u));
	shared_path_dialect(req, rep);
	if ((rc = body_fields(req, rep, login_fields, L__MAX, v)) != 0)
		return rc;
	if ((!v[L_USERNAME].present && !v[L_EMAIL].present) ||
	    !v[L_PASSWORD].present) {
		if (rep->dialect == DIALECT_003)
			rc = reply_error(rep, 400, "missing_fields",
			    "Invalid request parameters.");
		else if (rep->dialect == DIALECT_002)
			rc = reply_error(rep, 400, "missing_fields",
			    "Missing required fields: username and password");
		else
			rc = login_refused(rep, v);
		goto out;
	}
	if ((found = login_find(v, &u)) == -1) {
		rc = reply_db_error(rep);
		goto out;
	}
	if (v[L_PASSWORD].len > PASSWORD_MAX_LENGTH || !found) {
		password_verify_dummy(v[L_PASSWORD].s, v[L_PASSWORD].len);
		rc = login_refused(rep, v);
		goto out;
	}
	if (!password_verify(u.password_hash, v[L_PASSWORD].s,
	    v[L_PASSWORD].len)) {
		log_info("login refused for user %lld", u.id);
		rc = login_refused(rep, v);
		goto out;
	}
	login_rehash(&u, v[L_PASSWORD].s, v[L_PASSWORD].len);
	if ((token = token_issue(u.id, req, jti, &expires_in)) == NULL) {
		rc = reply_db_error(rep);
		goto out;
	}
	rc = login_granted(rep, &u, token, expires_in);
out:
	free(token);
	user_free(&u);
	body_values_free(v, L__MAX);
	return rc;
}
