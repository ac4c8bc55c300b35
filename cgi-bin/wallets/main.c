/*
 * main.c -- fastback-wallets: 001's wallets, fastback's /api/wallets and
 * the offline-first sync change log of 000.  This file is the route table.
 */
#include "alloc.h"
#include "responder.h"
#include "route.h"
#include "wallets.h"

#define BODY	ROUTE_BODY

static const struct route routes[] = {
	/* 001: the token names the user; wallet_id picks one of several. */
	{ "POST", "/add_wallet", wallets_create, BODY, DIALECT_001 },
	{ "POST", "/edit_wallet", wallets_update, BODY, DIALECT_001 },
	{ "POST", "/delete_wallet", wallets_delete, BODY, DIALECT_001 },

	/* fastback: owner-only REST. */
	{ "GET", "/api/wallets", wallets_list, 0, DIALECT_FASTBACK },
	{ "POST", "/api/wallets", wallets_create, BODY, DIALECT_FASTBACK },
	{ "GET", "/api/wallets/{id}", wallets_get, 0, DIALECT_FASTBACK },
	{ "PATCH", "/api/wallets/{id}", wallets_update, BODY, DIALECT_FASTBACK },
	{ "DELETE", "/api/wallets/{id}", wallets_delete, 0, DIALECT_FASTBACK },

	/* Sync: the body may be an array, so it is parsed by the handler. */
	{ "POST", "/api/sync/changes", sync_upload, 0, DIALECT_FASTBACK },
	{ "GET", "/api/sync/changes", sync_download, 0, DIALECT_FASTBACK },
	{ "GET", "/api/sync/changes/next", sync_next, 0, DIALECT_FASTBACK },
	{ "GET", "/api/sync/tables/{table}/rows", sync_rows_list, 0, DIALECT_FASTBACK },
};

int
main(int argc, char *argv[])
{
	return responder_main(FAMILY_WALLETS, routes, nitems(routes), argc,
	    argv);
}
