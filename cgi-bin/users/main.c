/*
 * main.c -- fastback-users: profiles, account edits and deletion, user
 * lists, sessions and push devices for seeds 001, 002 and 003, plus
 * fastback's own /api/users/me.  This file is the route table.
 */
#include "alloc.h"
#include "responder.h"
#include "route.h"
#include "users.h"

#define OPT	ROUTE_AUTH_OPTIONAL
#define BODY	ROUTE_BODY

static const struct route routes[] = {
	/* 001 */
	{ "POST", "/edit_user", users_edit_user, BODY, DIALECT_001 },
	{ "POST", "/edit_user_info", users_edit_user_info, BODY, DIALECT_001 },
	{ "POST", "/delete_account", users_delete_account, BODY, DIALECT_001 },

	/* fastback's own; before 002's /api/users/{id}, which would match. */
	{ "GET", "/api/users/me", users_me, 0, DIALECT_FASTBACK },
	{ "PATCH", "/api/users/me", users_me_patch, BODY, DIALECT_FASTBACK },
	{ "GET", "/api/users/me/sessions", users_sessions, 0,
	    DIALECT_FASTBACK },
	{ "DELETE", "/api/users/me/sessions", users_sessions_revoke, 0,
	    DIALECT_FASTBACK },
	{ "DELETE", "/api/users/me/sessions/{jti}", users_session_revoke, 0,
	    DIALECT_FASTBACK },

	/* 002: reading is public (no e-mails without a token). */
	{ "GET", "/api/users/", users_list, OPT, DIALECT_002 },
	{ "GET", "/api/users/{id}", users_get, OPT, DIALECT_002 },
	{ "PUT", "/api/users/{id}", users_put, BODY, DIALECT_002 },
	{ "DELETE", "/api/users/{id}", users_delete, 0, DIALECT_002 },

	/* 003 */
	{ "POST", "/api/user/profile", users_profile, BODY, DIALECT_003 },
	{ "POST", "/api/user/fetch_profile", users_fetch_profile, BODY,
	    DIALECT_003 },
	{ "POST", "/api/user/get_all_users", users_list, BODY, DIALECT_003 },
	{ "POST", "/api/user/register_device", users_register_device, BODY,
	    DIALECT_003 },
	{ "POST", "/api/user/unregister_device", users_unregister_device,
	    BODY, DIALECT_003 },
};

int
main(int argc, char *argv[])
{
	return responder_main(FAMILY_USERS, routes, nitems(routes), argc,
	    argv);
}
