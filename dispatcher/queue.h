/*
 * queue.h -- claiming due rows of deliveries and recording each try.
 *
 * A claim is a lease: the row is set to 'sending' with locked_until and
 * locked_by (this process, "host:pid").  Once the lease has run out another
 * dispatcher may claim the row again, so every write after a try checks
 * that the lease is still ours.
 */
#ifndef FASTBACK_DISPATCHER_QUEUE_H
#define FASTBACK_DISPATCHER_QUEUE_H

#include <stddef.h>

#include "channel.h"

/*
 * Name this process for locked_by ("host:pid", at most 64 bytes).  Call
 * once before the other functions.
 */
void		 queue_init(void);

/* This process's locked_by value. */
const char	*queue_owner(void);

/*
 * Claim at most max due rows of the given channels (the deliveries.channel
 * values of the nchannels entries), in one transaction: rows whose lease
 * ran out first, then pending rows that are due, oldest due first, each
 * for lease seconds.  Rows another transaction holds are skipped.  Stores
 * a new struct delivery per row in out[], with id, channel, target,
 * payload and attempt set.  Returns the number claimed, or -1 on a
 * database error (logged; nothing is claimed).  Caller frees each delivery
 * with delivery_free().
 */
int		 queue_claim(struct delivery **out, int max, int lease,
		    const struct channel *const *channels, size_t nchannels);

/*
 * Record the try d has just ended with outcome (DELIVERED, RETRY or
 * FAILED): append its delivery_attempts row and move the delivery to
 * 'delivered', back to 'pending' due in delay_ms (RETRY), or to 'failed',
 * in one transaction.  The delivery is changed only if this process still
 * holds its lease.  Returns 1 when the delivery was updated, 0 when the
 * lease had been lost (the try is still recorded), -1 on a database error
 * (logged; the row stays claimed until its lease runs out, then is tried
 * again).
 */
int		 queue_record(const struct delivery *d, enum outcome outcome,
		    long long delay_ms);

/*
 * queue_record() for n tries at once, with two statements in one
 * transaction when every lease is still ours (else one try at a time):
 * updated[i] receives what queue_record() would return for d[i].  Returns
 * 0, or -1 when some try could not be recorded.
 */
int		 queue_record_batch(struct delivery *const *d,
		    const enum outcome *o, const long long *delay_ms,
		    int *updated, size_t n);

/* Name of an outcome as stored: "delivered", "retry", "failed". */
const char	*outcome_name(enum outcome);

/* Free a delivery from queue_claim() (not its priv or easy handle). */
void		 delivery_free(struct delivery *);

#endif
