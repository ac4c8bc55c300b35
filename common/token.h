/*
 * token.h -- access tokens: HS256 JWTs backed by a sessions row.
 *
 * A token carries sub (user id), jti (session id), iat, exp and iss.  It is
 * accepted only when the signature checks with the configured secret, the
 * algorithm is exactly HS256 (libjwt 1.10 would otherwise accept what the
 * header names, "none" included), it has not expired, and its session row
 * exists, belongs to sub and is not revoked.  Revoking the row (logout)
 * kills the token at once.
 */
#ifndef FASTBACK_TOKEN_H
#define FASTBACK_TOKEN_H

#include <stddef.h>
#include <time.h>

struct auth;
struct json_object;
struct request;

enum token_status {
	TOKEN_OK,
	TOKEN_MISSING,		/* no Authorization header */
	TOKEN_MALFORMED,	/* not "Bearer <token>" or "Token <token>" */
	TOKEN_INVALID,		/* bad signature, algorithm, claims or user */
	TOKEN_EXPIRED,		/* past exp */
	TOKEN_REVOKED,		/* session logged out */
	TOKEN_ERROR		/* the database failed */
};

/* Check the configured secret.  Returns 0, or -1 with a message. */
int		 token_init(void);

/*
 * Split an Authorization header value into its token: "Bearer <t>" or
 * "Token <t>" (scheme case-insensitive).  Returns TOKEN_OK with *token
 * pointing into header, TOKEN_MISSING or TOKEN_MALFORMED.
 */
enum token_status token_from_header(const char *header, const char **token,
		    size_t *len);

/*
 * Sign a JWT for the given claims with the configured secret.  Returns a
 * new string (caller frees) or NULL.
 */
char		*token_sign(long long user_id, const char *jti, time_t iat,
		    time_t exp);

/*
 * Check signature, algorithm and claims, without the database.  On
 * TOKEN_OK sets *user_id, jti (33 bytes) and *exp.
 */
enum token_status token_decode(const char *token, size_t len,
		    long long *user_id, char *jti, time_t *exp);

/*
 * Issue a token for user_id: a new sessions row (with the request's
 * address and User-Agent when req is not NULL) and its JWT.  Returns the
 * token (caller frees) and sets jti (33 bytes) and *expires_in, or NULL.
 */
char		*token_issue(long long user_id, const struct request *req,
		    char *jti, long *expires_in);

/*
 * Verify a token fully (token_decode() and the session row) and fill auth
 * (auth_clear() frees its strings).
 */
enum token_status token_verify(const char *token, size_t len, struct auth *);

/*
 * Revoke one session of user_id, and announce it with a "session_revoked"
 * event in the room "user:<id>", in the caller's transaction or in one of
 * its own.  Returns 1 if it was live, 0 if not, -1 on error.
 */
int		 token_revoke(long long user_id, const char *jti,
		    const char *reason);

/*
 * Revoke every live session of a user except keep_jti (may be NULL), with
 * one event as above.  Returns the number revoked or -1.
 */
long long	 token_revoke_user(long long user_id, const char *reason,
		    const char *keep_jti);

/*
 * The live sessions of user_id, newest first, at most limit, as a new JSON
 * array of {"id", "created_at", "expires_at", "client_ip", "user_agent",
 * "current"} where current is jti == current_jti.  NULL on a database
 * error.
 */
struct json_object *token_sessions_json(long long user_id,
		    const char *current_jti, long long limit);

void		 auth_clear(struct auth *);

#endif
