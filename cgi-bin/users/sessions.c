/*
 * sessions.c -- the caller's sessions (one per token): list them, end one,
 * or log out everywhere (fastback's own routes).
 *
 * Revocations go through token_revoke() and token_revoke_user(), which
 * write the session_revoked event the notifier closes sockets on.  Only
 * the caller's own sessions are visible or revocable: a session id of
 * someone else is answered like an unknown one.
 */
#include <string.h>

#include <json-c/json.h>

#include "reply.h"
#include "request.h"
#include "token.h"
#include "users.h"

/*
 * GET /api/users/me/sessions: live sessions, newest first (?limit=, up
 * to 1000, default 100).  200; 400; 401.
 */
int
users_sessions(struct request *req, struct reply *rep)
{
	struct json_object	*o, *list;
	struct page		 page;
	int			 rc;

	if ((rc = request_page(req, rep, USERS_PAGE_DEFAULT, USERS_PAGE_MAX,
	    &page)) != 0)
		return rc;
	if ((list = token_sessions_json(req->auth.user_id, req->auth.jti,
	    page.limit)) == NULL)
		return reply_db_error(rep);
	o = json_object_new_object();
	json_object_object_add(o, "sessions", list);
	return reply_json(rep, 200, o);
}

/* {"message", "revoked": n}.  Returns 200. */
static int
revoked_answer(struct reply *rep, const char *message, long long n)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "revoked", json_object_new_int64(n));
	return reply_json(rep, 200, o);
}

/*
 * DELETE /api/users/me/sessions/{jti}: end one live session of the
 * caller (the current one too: that is a logout).  200; 401; 404 not the
 * caller's, unknown or already ended.
 */
int
users_session_revoke(struct request *req, struct reply *rep)
{
	const char	*jti = request_capture(req, "jti");
	size_t		 len = jti != NULL ? strlen(jti) : 0;

	if (len != 32 || strspn(jti, "0123456789abcdef") != len)
		return reply_error(rep, 404, "not_found", "No such session");
	switch (token_revoke(req->auth.user_id, jti, "logout")) {
	case 1:
		return revoked_answer(rep, "Session revoked", 1);
	case 0:
		return reply_error(rep, 404, "not_found", "No such session");
	default:
		return reply_db_error(rep);
	}
}

/*
 * DELETE /api/users/me/sessions: log out everywhere else; the session of
 * this request stays unless ?current=true.  200 with the number ended;
 * 400; 401.
 */
int
users_sessions_revoke(struct request *req, struct reply *rep)
{
	char		 buf[64];
	const char	*cur;
	long long	 n;
	int		 all;

	cur = request_query(req, "current", buf, sizeof(buf));
	if (cur != NULL && strcmp(cur, "true") != 0 &&
	    strcmp(cur, "false") != 0)
		return reply_invalid(rep, "current", "must be true or false");
	all = cur != NULL && strcmp(cur, "true") == 0;
	n = token_revoke_user(req->auth.user_id, "logout_all",
	    all ? NULL : req->auth.jti);
	if (n < 0)
		return reply_db_error(rep);
	return revoked_answer(rep, all ? "Logged out everywhere" :
	    "Logged out everywhere else", n);
}
