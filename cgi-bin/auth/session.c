/*
 * session.c -- what a token holder can do with it: prove it, list its
 * sessions, refresh it, and log out.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "auth.h"
#include "body.h"
#include "db.h"
#include "reply.h"
#include "request.h"
#include "token.h"
#include "user.h"

/*
 * GET /protected (000 and 001): "Authorized" for 000 users (no username),
 * 001's greeting for users with a username.  200; 401 without a token.
 */
int
auth_protected(struct request *req, struct reply *rep)
{
	struct json_object	*o = json_object_new_object();
	char			*msg;

	if (req->auth.username != NULL)
		msg = xasprintf("Hello, %s! This is a protected endpoint.",
		    req->auth.username);
	else
		msg = xstrdup("Authorized");
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "user_id",
	    json_object_new_int64(req->auth.user_id));
	json_add_string(o, "username", req->auth.username);
	json_add_string(o, "email", req->auth.email);
	free(msg);
	return reply_json(rep, 200, o);
}

/*
 * 000's DELETE /logout names the token in the body ("access_token"); an
 * Authorization header is taken too.  Fills req->auth when the token is
 * live.  Returns 0, or the status of the error written.
 */
static int
logout_body_token(struct request *req, struct reply *rep)
{
	static const struct field f = { "access_token", FIELD_STRING, 0, 0,
	    4096, NULL };
	struct field_value	 v;
	const char		*token = NULL;
	size_t			 len = 0;
	enum token_status	 st;
	int			 rc;

	if ((rc = body_fields(req, rep, &f, 1, &v)) != 0)
		return rc;
	if (v.present) {
		token = v.s;
		len = v.len;
	} else if (token_from_header(request_header(req, "Authorization"),
	    &token, &len) != TOKEN_OK) {
		body_values_free(&v, 1);
		return reply_invalid(rep, "access_token", "is required");
	}
	st = token_verify(token, len, &req->auth);
	body_values_free(&v, 1);
	if (st == TOKEN_ERROR)
		return reply_db_error(rep);
	if (st != TOKEN_OK)
		return reply_error(rep, 403, "invalid_token",
		    "Token is invalid.");
	return 0;
}

/*
 * DELETE /logout (000), POST /api/auth/logout (002), POST
 * /api/auth/logout/ (004): revoke the token now.  200; 401/403 when the
 * token is not live.
 */
int
auth_logout(struct request *req, struct reply *rep)
{
	const char	*msg;
	int		 rc;

	if (rep->dialect == DIALECT_000 &&
	    (rc = logout_body_token(req, rep)) != 0)
		return rc;
	if (token_revoke(req->auth.user_id, req->auth.jti, "logout") == -1)
		return reply_db_error(rep);
	switch (rep->dialect) {
	case DIALECT_000:
		msg = "User successfully logged out (token revoked)!";
		break;
	case DIALECT_004:
		msg = "Logged out successfully";
		break;
	default:
		msg = "Logout successful";
		break;
	}
	return reply_message(rep, 200, msg);
}

/*
 * GET /user_tokens (001): the caller's own live sessions.  The original
 * listed every user's raw token; fastback never stores raw tokens and
 * shows only the caller's sessions, as [name, session id] pairs plus
 * details.  200.
 */
int
auth_user_tokens(struct request *req, struct reply *rep)
{
	struct json_object	*o, *pairs, *list, *pair, *id;
	const char		*name;
	size_t			 i;

	if ((list = token_sessions_json(req->auth.user_id, req->auth.jti,
	    100)) == NULL)
		return reply_db_error(rep);
	name = req->auth.username != NULL ? req->auth.username :
	    req->auth.email;
	pairs = json_object_new_array();
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object_object_get_ex(json_object_array_get_idx(list, i),
		    "id", &id);
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_string(name));
		json_object_array_add(pair, json_object_get(id));
		json_object_array_add(pairs, pair);
	}
	o = json_object_new_object();
	json_object_object_add(o, "user_tokens", pairs);
	json_object_object_add(o, "sessions", list);
	return reply_json(rep, 200, o);
}

struct refresh {
	const struct request	*req;
	char			*token;
	char			 jti[33];
	long			 expires_in;
};

/* The transaction of a refresh: a new session, the old one revoked. */
static enum db_status
refresh_tx(void *arg)
{
	struct refresh	*r = arg;

	free(r->token);
	r->token = token_issue(r->req->auth.user_id, r->req, r->jti,
	    &r->expires_in);
	if (r->token == NULL)
		return DB_ERROR;
	switch (token_revoke(r->req->auth.user_id, r->req->auth.jti,
	    "refresh")) {
	case 1:
		return DB_OK;
	case 0:
		/* A concurrent refresh or logout revoked it first. */
		return DB_REFUSED;
	default:
		return DB_ERROR;
	}
}

/*
 * POST /api/user/generate_jwt (003): trade a live token for a new one;
 * the old one is revoked.  The original minted a token for any e-mail
 * without a password; here the caller must hold a token, and a body email
 * must be the caller's.  200; 401; 403 another user's e-mail.
 */
int
auth_refresh(struct request *req, struct reply *rep)
{
	struct json_object	*o;
	struct refresh		 r = { req, NULL, "", 0 };
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "email")) != 0)
		return rc;
	switch (db_transaction(refresh_tx, &r)) {
	case DB_OK:
		break;
	case DB_REFUSED:
		free(r.token);
		return reply_error(rep, 401, "token_revoked",
		    "Token has been revoked");
	default:
		free(r.token);
		return reply_db_error(rep);
	}
	o = json_object_new_object();
	json_object_object_add(o, "status_code", json_object_new_int(200));
	json_object_object_add(o, "message",
	    json_object_new_string("JWT Token Created Successfully."));
	json_object_object_add(o, "jwt_token", json_object_new_string(r.token));
	json_object_object_add(o, "access_token",
	    json_object_new_string(r.token));
	json_object_object_add(o, "expires_in",
	    json_object_new_int64(r.expires_in));
	free(r.token);
	return reply_json(rep, 200, o);
}
