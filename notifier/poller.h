/*
 * poller.h -- the notifier's cursor over the `events` table.
 *
 * The responders write one row per event (common/events.md); the poller
 * reads them by seq on its own MariaDB connection every poll_ms and passes
 * them on in seq order.  A seq that is missing is held for a grace period
 * (its transaction may still commit) before it is skipped and logged.  It
 * also replays retained rows for resumed sockets and prunes rows older than
 * the retention, one notifier at a time.
 *
 * The database connection is db.c's (config() must be loaded; the program
 * calls db_library_end() at exit); the poller and presence share it, on
 * the one thread.  A struct event_row and its strings live only while fn
 * runs.  fn may call poller_replay() and poller_cursor(), never
 * poller_free().
 */
#ifndef FASTBACK_NOTIFIER_POLLER_H
#define FASTBACK_NOTIFIER_POLLER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct config;
struct poller;

struct event_row {
	uint64_t	 seq;
	const char	*room;
	const char	*event;
	const char	*payload;	/* JSON text */
	size_t		 payload_len;
};

typedef void	(*poller_fn)(void *arg, const struct event_row *);

/* Opens its own MariaDB connection, starts at the current end of `events`
 * and calls fn for every new row in seq order, every poll_ms. */
struct poller	*poller_new(struct event_base *, const struct config *,
		    poller_fn, void *arg);
void		 poller_free(struct poller *);
uint64_t	 poller_cursor(const struct poller *);	/* last seq passed on */
/* Resume: calls fn, synchronously and in order, for each row with
 * after < seq <= poller_cursor() whose room is one of rooms[0..n).
 * Returns the number of rows, or -1 when `after` is older than what is
 * retained (the oldest kept seq > after + 1) or on a database error. */
long		 poller_replay(struct poller *, uint64_t after,
		    const char *const *rooms, size_t n, poller_fn, void *arg);

#endif /* FASTBACK_NOTIFIER_POLLER_H */
