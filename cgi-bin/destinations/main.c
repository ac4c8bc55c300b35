/*
 * main.c -- fastback-destinations: Datasync (seed 004) accounts, members,
 * roles, webhook destinations, incoming data and the delivery log.  This
 * file is the route table; every route answers in DRF's envelope.
 */
#include "alloc.h"
#include "destinations.h"
#include "responder.h"
#include "route.h"

#define D4	DIALECT_004
#define BODY	ROUTE_BODY

static const struct route routes[] = {
	{ "GET", "/api/roles/", dest_roles_list, 0, D4 },

	{ "GET", "/api/accounts/", dest_accounts_list, 0, D4 },
	{ "POST", "/api/accounts/", dest_account_create, BODY, D4 },
	{ "GET", "/api/accounts/{id}/", dest_account_get, 0, D4 },
	{ "PUT", "/api/accounts/{id}/", dest_account_update, BODY, D4 },
	{ "PATCH", "/api/accounts/{id}/", dest_account_update, BODY, D4 },
	{ "DELETE", "/api/accounts/{id}/", dest_account_delete, 0, D4 },
	{ "POST", "/api/accounts/{id}/rotate_token/", dest_account_rotate, 0,
	    D4 },
	{ "GET", "/api/accounts/{id}/destinations/",
	    dest_account_destinations, 0, D4 },
	{ "GET", "/api/accounts/{id}/logs/", dest_logs, 0, D4 },
	{ "POST", "/api/accounts/{id}/logs/{delivery_id}/retry/",
	    dest_log_retry, 0, D4 },
	{ "POST", "/api/accounts/{id}/replay/", dest_replay, BODY, D4 },

	/* The 004 document's member routes ... */
	{ "GET", "/api/accounts/{account_id}/members/", dest_members_list, 0,
	    D4 },
	{ "POST", "/api/accounts/{account_id}/members/", dest_member_add,
	    BODY, D4 },
	/* ... and the original code's flat ones. */
	{ "GET", "/api/account_members/", dest_account_members_list, 0, D4 },
	{ "POST", "/api/account_members/", dest_account_member_add, BODY,
	    D4 },
	{ "GET", "/api/account_members/{id}/", dest_account_member_get, 0,
	    D4 },
	{ "PUT", "/api/account_members/{id}/", dest_account_member_update,
	    BODY, D4 },
	{ "PATCH", "/api/account_members/{id}/", dest_account_member_update,
	    BODY, D4 },
	{ "DELETE", "/api/account_members/{id}/", dest_account_member_delete,
	    0, D4 },

	{ "GET", "/api/destinations/", dest_destinations_list, 0, D4 },
	{ "POST", "/api/destinations/", dest_destination_create, BODY, D4 },
	{ "GET", "/api/destinations/{id}/", dest_destination_get, 0, D4 },
	{ "PUT", "/api/destinations/{id}/", dest_destination_update, BODY,
	    D4 },
	{ "PATCH", "/api/destinations/{id}/", dest_destination_update, BODY,
	    D4 },
	{ "DELETE", "/api/destinations/{id}/", dest_destination_delete, 0,
	    D4 },
	{ "POST", "/api/destinations/{id}/rotate_secret/",
	    dest_destination_rotate, 0, D4 },

	/* Senders: authenticated by the CL-X-TOKEN header, not a user. */
	{ "POST", "/server/incoming_data/", dest_incoming, ROUTE_PUBLIC, D4 },
	{ "POST", "/api/server/incoming_data/", dest_incoming, ROUTE_PUBLIC,
	    D4 },
};

int
main(int argc, char *argv[])
{
	return responder_main(FAMILY_DESTINATIONS, routes, nitems(routes),
	    argc, argv);
}
