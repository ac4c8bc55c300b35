/*
 * token.c -- HS256 JWTs (libjwt 1.10) tied to rows of the sessions table.
 *
 * libjwt 1.10 has no claim validation and decodes whatever algorithm the
 * header names, so every check is written out here: the key is always
 * passed (a NULL key would skip the signature), the algorithm is pinned to
 * HS256 after decoding, and exp, iss, sub and jti are read by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <jwt.h>

#include "alloc.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "reply.h"
#include "request.h"
#include "token.h"
#include "valid.h"

#define TOKEN_MAX_LENGTH	4096

int
token_init(void)
{
	size_t	 n = strlen(config()->jwt_secret);

	if (n < 32) {
		fprintf(stderr, "config: [jwt] secret: %s (at least 32 bytes; "
		    "e.g. 64 random hex digits)\n", n == 0 ? "not set" :
		    "too short");
		return -1;
	}
	return 0;
}

enum token_status
token_from_header(const char *h, const char **token, size_t *len)
{
	size_t	 skip;

	if (h == NULL || *h == '\0')
		return TOKEN_MISSING;
	if (strncasecmp(h, "Bearer ", 7) == 0)
		skip = 7;
	else if (strncasecmp(h, "Token ", 6) == 0)
		skip = 6;
	else
		return TOKEN_MALFORMED;
	h += skip;
	*len = strlen(h);
	/* Exactly two parts: no more spaces, nothing empty. */
	if (*len == 0 || strchr(h, ' ') != NULL)
		return TOKEN_MALFORMED;
	*token = h;
	return TOKEN_OK;
}

char *
token_sign(long long user_id, const char *jti, time_t iat, time_t exp)
{
	const struct config	*c = config();
	jwt_t			*jwt = NULL;
	char			 sub[24];
	char			*out = NULL;

	snprintf(sub, sizeof(sub), "%lld", user_id);
	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_add_grant(jwt, "sub", sub) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0 ||
	    jwt_add_grant(jwt, "iss", c->jwt_issuer) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)exp) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256,
	    (const unsigned char *)c->jwt_secret,
	    (int)strlen(c->jwt_secret)) != 0)
		goto out;
	out = jwt_encode_str(jwt);
out:
	jwt_free(jwt);
	return out;
}

static int
is_hex32(const char *s)
{
	size_t	 i;

	if (s == NULL || strlen(s) != 32)
		return 0;
	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

enum token_status
token_decode(const char *token, size_t len, long long *user_id, char *jti,
    time_t *exp)
{
	const struct config	*c = config();
	enum token_status	 st = TOKEN_INVALID;
	jwt_t			*jwt = NULL;
	char			*copy;
	const char		*sub, *id, *iss;
	long			 e;

	if (len == 0 || len > TOKEN_MAX_LENGTH)
		return TOKEN_INVALID;
	copy = xstrndup(token, len);
	/* Always with the key: without one libjwt skips the signature. */
	if (jwt_decode(&jwt, copy, (const unsigned char *)c->jwt_secret,
	    (int)strlen(c->jwt_secret)) != 0 || jwt == NULL)
		goto out;
	/* Pin the algorithm: the header must not choose it. */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	errno = 0;
	e = jwt_get_grant_int(jwt, "exp");
	if (errno == ENOENT || e <= 0)
		goto out;
	iss = jwt_get_grant(jwt, "iss");
	if (iss == NULL || strcmp(iss, c->jwt_issuer) != 0)
		goto out;
	sub = jwt_get_grant(jwt, "sub");
	if (sub == NULL || valid_int(sub, 1, 9223372036854775807LL,
	    user_id) == -1)
		goto out;
	id = jwt_get_grant(jwt, "jti");
	if (!is_hex32(id))
		goto out;
	memcpy(jti, id, 33);
	*exp = (time_t)e;
	st = (time_t)e <= time(NULL) ? TOKEN_EXPIRED : TOKEN_OK;
out:
	if (jwt != NULL)
		jwt_free(jwt);
	free(copy);
	return st;
}

/* Copy at most max bytes of s, cut at a UTF-8 character boundary. */
static char *
clip_utf8(const char *s, size_t max)
{
	size_t	 n = strlen(s);

	if (n <= max)
		return xstrdup(s);
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return xstrndup(s, max);
}

char *
token_issue(long long user_id, const struct request *req, char *jti,
    long *expires_in)
{
	const struct config	*c = config();
	time_t			 now = time(NULL), exp;
	char			*ua = NULL, *tok = NULL;

	random_hex(jti, 16);
	exp = now + c->jwt_ttl;
	if (req != NULL && req->user_agent != NULL)
		ua = clip_utf8(req->user_agent, 255);
	if (db_exec("INSERT INTO sessions (jti, user_id, created_at, "
	    "expires_at, client_ip, user_agent) VALUES (?, ?, "
	    "FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?, ?)", "siiiss", jti,
	    user_id, (long long)now, (long long)exp,
	    req != NULL ? req->remote_addr : NULL, ua) != DB_OK)
		goto out;
	if ((tok = token_sign(user_id, jti, now, exp)) == NULL)
		log_error("token: signing failed");
	*expires_in = c->jwt_ttl;
out:
	free(ua);
	return tok;
}

enum token_status
token_verify(const char *token, size_t len, struct auth *auth)
{
	struct db_result	*r = NULL;
	enum token_status	 st;
	long long		 user_id;
	char			 jti[33];
	time_t			 exp;

	if ((st = token_decode(token, len, &user_id, jti, &exp)) != TOKEN_OK)
		return st;
	if (db_query(&r, "SELECT s.user_id, s.revoked_at IS NOT NULL, "
	    "u.username, u.email FROM sessions s JOIN users u "
	    "ON u.id = s.user_id WHERE s.jti = ?", "s", jti) != DB_OK)
		return TOKEN_ERROR;
	if (db_rows(r) == 0 || db_get_int(r, 0, 0) != user_id)
		st = TOKEN_INVALID;
	else if (db_get_int(r, 0, 1) != 0)
		st = TOKEN_REVOKED;
	else {
		auth_clear(auth);
		auth->user_id = user_id;
		memcpy(auth->jti, jti, sizeof(jti));
		if (!db_is_null(r, 0, 2))
			auth->username = xstrdup(db_get(r, 0, 2));
		if (!db_is_null(r, 0, 3))
			auth->email = xstrdup(db_get(r, 0, 3));
	}
	db_result_free(r);
	return st;
}

/*
 * Tell the user's sockets that sessions ended (room "user:<id>", event
 * "session_revoked"), so the notifier can close the sockets of a token
 * that no longer works.  jti NULL: every session but keep.  Returns 0/-1.
 */
static int
revoked_event(long long user_id, const char *jti, const char *keep,
    const char *reason)
{
	struct json_object	*o = json_object_new_object();
	char			 room[32];
	int			 rc;

	json_object_object_add(o, "user_id", json_object_new_int64(user_id));
	if (jti != NULL)
		json_object_object_add(o, "jti", json_object_new_string(jti));
	else {
		json_object_object_add(o, "all", json_object_new_boolean(1));
		json_object_object_add(o, "except", keep == NULL ? NULL :
		    json_object_new_string(keep));
	}
	json_object_object_add(o, "reason", json_object_new_string(reason));
	snprintf(room, sizeof(room), "user:%lld", user_id);
	rc = outbox_event(room, "session_revoked", o);
	json_object_put(o);
	return rc;
}

/*
 * Revoke the session jti of user_id, or when jti is NULL every one but
 * keep, with its event, in the caller's transaction or in one of its own.
 * The user_id index finds the rows either way.  Returns the count or -1.
 */
static long long
revoke(long long user_id, const char *jti, const char *keep,
    const char *reason)
{
	long long	 n = -1;
	int		 own = !db_in_transaction();

	if (own && db_begin() == -1)
		return -1;
	if (db_exec("UPDATE sessions SET revoked_at = UTC_TIMESTAMP(6), "
	    "revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL "
	    "AND (? IS NULL OR jti = ?) AND jti <> ?", "sisss", reason,
	    user_id, jti, jti, keep != NULL ? keep : "") == DB_OK)
		n = (long long)db_affected();
	if (n > 0 && revoked_event(user_id, jti, keep, reason) == -1)
		n = -1;
	if (own) {
		if (n == -1)
			db_rollback();
		else if (db_commit() == -1)
			n = -1;
	}
	return n;
}

int
token_revoke(long long user_id, const char *jti, const char *reason)
{
	long long	 n = revoke(user_id, jti, NULL, reason);

	return n < 0 ? -1 : n > 0;
}

long long
token_revoke_user(long long user_id, const char *reason, const char *keep)
{
	return revoke(user_id, NULL, keep, reason);
}

struct json_object *
token_sessions_json(long long user_id, const char *current_jti,
    long long limit)
{
	struct json_object	*list, *s;
	struct db_result	*r;
	size_t			 i;

	if (db_query(&r, "SELECT jti, " SQL_TIME("created_at") ", "
	    SQL_TIME("expires_at") ", client_ip, user_agent FROM sessions "
	    "WHERE user_id = ? AND revoked_at IS NULL AND "
	    "expires_at > UTC_TIMESTAMP(6) ORDER BY created_at DESC, jti "
	    "LIMIT ?", "ii", user_id, limit) != DB_OK)
		return NULL;
	list = json_object_new_array_ext((int)db_rows(r));
	for (i = 0; i < db_rows(r); i++) {
		s = json_object_new_object();
		json_add_string(s, "id", db_get(r, i, 0));
		json_add_string(s, "created_at", db_get(r, i, 1));
		json_add_string(s, "expires_at", db_get(r, i, 2));
		json_add_string(s, "client_ip", db_get(r, i, 3));
		json_add_string(s, "user_agent", db_get(r, i, 4));
		json_object_object_add(s, "current", json_object_new_boolean(
		    strcmp(db_get(r, i, 0), current_jti) == 0));
		json_object_array_add(list, s);
	}
	db_result_free(r);
	return list;
}

void
auth_clear(struct auth *auth)
{
	free(auth->username);
	free(auth->email);
	memset(auth, 0, sizeof(*auth));
}
