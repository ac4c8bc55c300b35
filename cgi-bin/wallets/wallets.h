/*
 * wallets.h -- the wallets family's handlers and helpers: 001's wallets,
 * fastback's /api/wallets, and 000's offline-first sync change log.
 *
 * Each operation has one handler; 001's legacy paths and the REST paths
 * route to the same one, and the route's dialect picks the request fields
 * and the response shape.
 */
#ifndef FASTBACK_WALLETS_H
#define FASTBACK_WALLETS_H

#include <stddef.h>

struct request;
struct reply;

/* Largest balance, in minor units: 10^15 (ten trillion dollars in cents). */
#define WALLET_BALANCE_MAX	1000000000000000LL

/* wallet.c: create, read, update, delete. */
int	wallets_create(struct request *, struct reply *);
int	wallets_list(struct request *, struct reply *);
int	wallets_get(struct request *, struct reply *);
int	wallets_update(struct request *, struct reply *);
int	wallets_delete(struct request *, struct reply *);

/* sync.c: the change log. */
int	sync_upload(struct request *, struct reply *);
int	sync_download(struct request *, struct reply *);
int	sync_next(struct request *, struct reply *);
int	sync_rows_list(struct request *, struct reply *);

/*
 * currency.c: the ISO 4217 code equal to s (len bytes, any case) as a
 * static upper-case string, or NULL when s is no such code.  *minor gets
 * the number of its minor-unit digits (2 for USD, 0 for JPY).
 */
const char	*currency_find(const char *s, size_t len, int *minor);

#endif
