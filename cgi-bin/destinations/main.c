/*
 * main.c -- fastback-destinations: Datasync (seed 004) accounts, members,
 * roles, webhook destinations, incoming data and the delivery log.  This
 * file is the route table; every route answers in DRF's envelope.
 */
#include "alloc.h"
#include "destinations.h"
#include "responder.h"
#include "route.h"

#define BODY	ROUTE_BODY

static const struct route routes[] = {
	{ "GET", "/api/roles/", dest_roles_list, 0, DIALECT_004 },

	{ "GET", "/api/accounts/", dest_accounts_list, 0, DIALECT_004 },
	{ "POST", "/api/accounts/", dest_account_create, BODY, DIALECT_004 },
	{ "GET", "/api/accounts/{id}/", dest_account_get, 0, DIALECT_004 },
	{ "PUT", "/api/accounts/{id}/", dest_account_update,
	    BODY, DIALECT_004 },
	{ "PATCH", "/api/accounts/{id}/", dest_account_update,
	    BODY, DIALECT_004 },
	{ "DELETE", "/api/accounts/{id}/", dest_account_delete,
	    0, DIALECT_004 },
	{ "POST", "/api/accounts/{id}/rotate_token/", dest_account_rotate, 0,
	    DIALECT_004 },
	{ "GET", "/api/accounts/{id}/destinations/",
	    dest_account_destinations, 0, DIALECT_004 },
	{ "GET", "/api/accounts/{id}/logs/", dest_logs, 0, DIALECT_004 },
	{ "POST", "/api/accounts/{id}/logs/{delivery_id}/retry/",
	    dest_log_retry, 0, DIALECT_004 },
	{ "POST", "/api/accounts/{id}/replay/", dest_replay,
	    BODY, DIALECT_004 },

	/* The 004 document's member routes ... */
	{ "GET", "/api/accounts/{account_id}/members/", dest_members_list, 0,
	    DIALECT_004 },
	{ "POST", "/api/accounts/{account_id}/members/", dest_member_add,
	    BODY, DIALECT_004 },
	/* ... and the original code's flat ones. */
	{ "GET", "/api/account_members/", dest_account_members_list,
	    0, DIALECT_004 },
	{ "POST", "/api/account_members/", dest_account_member_add, BODY,
	    DIALECT_004 },
	{ "GET", "/api/account_members/{id}/", dest_account_member_get, 0,
	    DIALECT_004 },
	{ "PUT", "/api/account_members/{id}/", dest_account_member_update,
	    BODY, DIALECT_004 },
	{ "PATCH", "/api/account_members/{id}/", dest_account_member_update,
	    BODY, DIALECT_004 },
	{ "DELETE", "/api/account_members/{id}/", dest_account_member_delete,
	    0, DIALECT_004 },

	{ "GET", "/api/destinations/", dest_destinations_list, 0, DIALECT_004 },
	{ "POST", "/api/destinations/", dest_destination_create,
	    BODY, DIALECT_004 },
	{ "GET", "/api/destinations/{id}/", dest_destination_get,
	    0, DIALECT_004 },
	{ "PUT", "/api/destinations/{id}/", dest_destination_update, BODY,
	    DIALECT_004 },
	{ "PATCH", "/api/destinations/{id}/", dest_destination_update, BODY,
	    DIALECT_004 },
	{ "DELETE", "/api/destinations/{id}/", dest_destination_delete, 0,
	    DIALECT_004 },
	{ "POST", "/api/destinations/{id}/rotate_secret/",
	    dest_destination_rotate, 0, DIALECT_004 },

	/* Senders: authenticated by the CL-X-TOKEN header, not a user. */
	{ "POST", "/server/incoming_data/", dest_incoming,
	    ROUTE_PUBLIC, DIALECT_004 },
	{ "POST", "/api/server/incoming_data/", dest_incoming, ROUTE_PUBLIC,
	    DIALECT_004 },
};

int
main(int argc, char *argv[])
{
	return responder_main(FAMILY_DESTINATIONS, routes, nitems(routes),
	    argc, argv);
}
