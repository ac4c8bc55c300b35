/*
 * destinations.h -- the destinations family (Datasync, seed 004): its
 * handlers and the helpers its files share.
 *
 * Every route answers in DRF's envelope (DIALECT_004).  Access to an
 * account and everything under it goes through account_access(): a user
 * who is not a member gets 404 as if the account did not exist, a member
 * without the Admin role gets 403 for Admin actions (DECISIONS #13).
 */
#ifndef FASTBACK_DESTINATIONS_H
#define FASTBACK_DESTINATIONS_H

#include <stddef.h>

struct request;
struct reply;
struct json_object;

#define ROLE_ADMIN	1
#define ROLE_USER	2

/* A UUID as text: 36 characters and the NUL. */
#define UUID_SIZE	37

/* accounts.c: accounts, roles, and the access check every file uses. */
int	dest_roles_list(struct request *, struct reply *);
int	dest_accounts_list(struct request *, struct reply *);
int	dest_account_create(struct request *, struct reply *);
int	dest_account_get(struct request *, struct reply *);
int	dest_account_update(struct request *, struct reply *);
int	dest_account_delete(struct request *, struct reply *);
int	dest_account_rotate(struct request *, struct reply *);

/*
 * The caller's role in account id: ROLE_ADMIN, ROLE_USER, 0 when not a
 * member (or id is not a UUID), -1 on a database error.
 */
int	account_role(const char *id, long long user_id);

/*
 * Check that the caller may see account id, and with admin set, change
 * it.  Returns 0, or the status of the 404, 403 or 500 written.  *role
 * (may be NULL) receives the caller's role.
 */
int	account_access(struct request *, struct reply *, const char *id,
	    int admin, int *role);

/* Cancel the pending webhook deliveries of an account.  Returns a DB status. */
int	account_cancel_deliveries(const char *id);

/* 404 {"detail": "Not found."}.  Returns 404. */
int	dest_not_found(struct reply *);

/* 403 with DRF's permission message.  Returns 403. */
int	dest_forbidden(struct reply *);

/* A new random (version 4) UUID into out. */
void	uuid_new(char out[UUID_SIZE]);

/* Non-zero when s is a UUID in the canonical 8-4-4-4-12 hex form. */
int	uuid_valid(const char *s);

/* Add key: integer or null (a SQL NULL read as text) to o. */
void	json_add_id(struct json_object *o, const char *key, const char *s);

/* Write an event to room "account:<id>" (in the caller's transaction). */
int	account_event(const char *id, const char *event,
	    struct json_object *payload);

/* members.c: the document's nested routes and the original's flat ones. */
int	dest_members_list(struct request *, struct reply *);
int	dest_member_add(struct request *, struct reply *);
int	dest_account_members_list(struct request *, struct reply *);
int	dest_account_member_add(struct request *, struct reply *);
int	dest_account_member_get(struct request *, struct reply *);
int	dest_account_member_update(struct request *, struct reply *);
int	dest_account_member_delete(struct request *, struct reply *);

/* targets.c: webhook destinations. */
int	dest_destinations_list(struct request *, struct reply *);
int	dest_destination_create(struct request *, struct reply *);
int	dest_destination_get(struct request *, struct reply *);
int	dest_destination_update(struct request *, struct reply *);
int	dest_destination_delete(struct request *, struct reply *);
int	dest_destination_rotate(struct request *, struct reply *);
int	dest_account_destinations(struct request *, struct reply *);

/* incoming.c: data posted with an account's secret token. */
int	dest_incoming(struct request *, struct reply *);

/*
 * Queue one webhook delivery of event row event to destination dest
 * (inside the caller's transaction), logged in webhook_deliveries.
 * replay_of is 0 or the delivery it repeats; *id (may be NULL) gets the
 * new delivery's id.  Returns 0 when queued, 1 for a duplicate, -1 on
 * error.
 */
int	webhook_queue(long long event, const char *account, const char *dest,
	    long long replay_of, long long *id);

/* logs.c: the delivery log, retries and replays. */
int	dest_logs(struct request *, struct reply *);
int	dest_log_retry(struct request *, struct reply *);
int	dest_replay(struct request *, struct reply *);

#endif
