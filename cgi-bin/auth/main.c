/*
 * main.c -- fastback-auth: sign-up, login, logout, tokens and password
 * reset for all five seed APIs.  This file is the route table.
 */
#include "alloc.h"
#include "auth.h"
#include "responder.h"
#include "route.h"

#define PUB	ROUTE_PUBLIC
#define BODY	ROUTE_BODY

static const struct route routes[] = {
	/* Monitoring and the 000 index. */
	{ "GET", "/", auth_root, PUB | ROUTE_NO_DB, DIALECT_000 },
	{ "GET", "/api/ping", auth_ping, PUB | ROUTE_NO_DB, DIALECT_FASTBACK },
	{ "GET", "/api/health", auth_health, PUB, DIALECT_FASTBACK },

	/* 000 and 001 share these paths; the body tells them apart. */
	{ "POST", "/register", auth_register, PUB | BODY, DIALECT_000 },
	{ "POST", "/login", auth_login, PUB | BODY, DIALECT_000 },
	{ "GET", "/protected", auth_protected, 0, DIALECT_000 },
	/* 000: the token to revoke travels in the body. */
	{ "DELETE", "/logout", auth_logout, PUB | BODY, DIALECT_000 },

	/* 001 */
	{ "POST", "/add_user", auth_register, PUB | BODY, DIALECT_001 },
	{ "GET", "/user_tokens", auth_user_tokens, 0, DIALECT_001 },

	/* 002 (no trailing slash) */
	{ "POST", "/api/auth/register", auth_register, PUB | BODY,
	    DIALECT_002 },
	{ "POST", "/api/auth/login", auth_login, PUB | BODY, DIALECT_002 },
	{ "POST", "/api/auth/logout", auth_logout, 0, DIALECT_002 },

	/* 004 (trailing slash; Authorization: Token) */
	{ "POST", "/api/auth/signup/", auth_register, PUB | BODY,
	    DIALECT_004 },
	{ "POST", "/api/auth/login/", auth_login, PUB | BODY, DIALECT_004 },
	{ "POST", "/api/auth/logout/", auth_logout, 0, DIALECT_004 },

	/* 003 */
	{ "POST", "/api/user/signup", auth_register, PUB | BODY, DIALECT_003 },
	{ "POST", "/api/user/signin", auth_login, PUB | BODY, DIALECT_003 },
	{ "POST", "/api/user/generate_jwt", auth_refresh, BODY, DIALECT_003 },
	{ "POST", "/api/user/forgot-password", auth_forgot_password,
	    PUB | BODY, DIALECT_003 },
	{ "POST", "/api/user/otp_validate", auth_otp_validate, PUB | BODY,
	    DIALECT_003 },
	{ "POST", "/api/user/reset-password", auth_reset_password,
	    PUB | BODY, DIALECT_003 },
};

int
main(int argc, char *argv[])
{
	return responder_main(FAMILY_AUTH, routes, nitems(routes), argc, argv);
}
