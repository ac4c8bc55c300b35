/*
 * outbox.h -- writers of the two outbox tables.
 *
 * Call these inside the transaction that makes the change they announce
 * (db_begin() ... db_commit()), so the announcement exists exactly when the
 * change does.  events feed the notifier; deliveries feed the dispatcher.
 */
#ifndef FASTBACK_OUTBOX_H
#define FASTBACK_OUTBOX_H

struct json_object;

/*
 * Append an event for the sockets in room ("public", "user:<id>",
 * "conversation:<id>", ...).  payload is borrowed.  Takes the next seq from
 * outbox_seq; call it as late as possible in the transaction, since the
 * counter row stays locked until COMMIT.  Returns 0 or -1.
 */
int	outbox_event(const char *room, const char *event,
	    struct json_object *payload);

/*
 * Queue a delivery on channel ("mail", "webhook", "push") for target.
 * payload is borrowed.  dedupe_key may be NULL; with one, a second delivery
 * with the same key is not queued and 1 is returned.  Returns 0 when
 * queued, 1 when it was a duplicate, -1 on error.
 */
int	outbox_delivery(const char *channel, const char *target,
	    struct json_object *payload, const char *dedupe_key);

/* Queue a plain-text mail: payload {"to","subject","text"}.  As above. */
int	outbox_mail(const char *to, const char *subject, const char *text);

/*
 * Queue one push to every registered device of user_id (the devices table):
 * payload {"device_ids", "title", "body", "data"}, which the dispatcher's
 * push channel posts to the configured gateway.  data is borrowed and may
 * be NULL.  Returns 0 when queued, 1 when the user has no device, -1 on
 * error.
 */
int	outbox_push(long long user_id, const char *title, const char *body,
	    struct json_object *data);

#endif
