/*
 * poller.c -- the notifier's cursor over the `events` table.
 *
 * Every poll_ms the rows after the cursor are read in seq order and passed
 * on.  seq is taken from a commit-ordered counter (schema/040_events.sql),
 * so rows normally appear without holes; a hole still means a transaction
 * that holds that number may commit later, so the rows after it are held
 * back for gap_ms and only then is the number skipped, with a log line.
 * The same timer prunes rows older than the retention in bounded batches
 * under a named lock, so that one notifier at a time does it.
 *
 * The MariaDB connection is db.c's: the notifier has one thread and no
 * other user of it, and db.c already reconnects after losing the server.
 * Every statement is short; while the database is unreachable the poller
 * backs off instead of blocking the loop on each tick.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alloc.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "poller.h"

#define POLLER_BATCH		500	/* rows per read */
#define POLLER_ROUNDS		8	/* reads per tick, at most */
#define POLLER_BACKOFF_MS	500	/* first wait after a failure */
#define POLLER_BACKOFF_MAX_MS	8000
#define PRUNE_EVERY_MS		10000	/* between pruning rounds */
#define PRUNE_AGAIN_MS		1000	/* ...when the last one was cut short */
#define PRUNE_BUDGET_MS		50	/* time one round may take */
#define PRUNE_ROUNDS		10	/* statements in one round, at most */

/*
 * The end: the counter's committed value (a consistent read does not wait
 * for a writer's lock) covers a table pruned empty, MAX(seq) rows written
 * without the counter.
 */
static const char *const poller_sql_end =
    "SELECT GREATEST(COALESCE((SELECT MAX(seq) FROM events), 0),"
    " COALESCE((SELECT n FROM outbox_seq WHERE id = 1), 0))";
static const char *const poller_sql_read =
    "SELECT seq, room, event, payload FROM events WHERE seq > ?"
    " ORDER BY seq LIMIT ?";
static const char *const poller_sql_oldest =
    "SELECT MIN(seq) FROM events";
static const char *const poller_sql_replay =
    "SELECT seq, room, event, payload FROM events"
    " WHERE room = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?";
static const char *const poller_sql_lock =
    "SELECT GET_LOCK('fastback_notifier_prune', 0)";
static const char *const poller_sql_unlock =
    "SELECT RELEASE_LOCK('fastback_notifier_prune')";
static const char *const poller_sql_prune =
    "DELETE FROM events"
    " WHERE created_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
    " ORDER BY created_at LIMIT ?";

struct poller {
	struct event	*tick;
	poller_fn	 fn;
	void		*arg;
	long		 gap_ms;
	long		 retention;	/* seconds */
	long		 prune_batch;

	int		 started;	/* cursor holds the end of events */
	uint64_t	 cursor;	/* last seq passed on (or skipped) */

	/* The hole after cursor being waited for, if any. */
	int		 holding;
	long long	 hold_since;	/* clock_ms() when it was seen */
	uint64_t	 hold_upto;	/* holes up to here were seen then */

	long long	 retry_at;	/* after a failure: quiet until */
	long		 backoff_ms;
	int		 down;		/* the last statement failed */
	long long	 prune_at;	/* next pruning round */
};

static void
poller_failed(struct poller *p, const char *what)
{
	long long	 now = clock_ms();

	if (!p->down)
		log_error("poller: %s: %s; retrying", what, db_error());
	p->down = 1;
	p->backoff_ms = p->backoff_ms == 0 ? POLLER_BACKOFF_MS :
	    p->backoff_ms * 2;
	if (p->backoff_ms > POLLER_BACKOFF_MAX_MS)
		p->backoff_ms = POLLER_BACKOFF_MAX_MS;
	p->retry_at = now + p->backoff_ms;
}

static void
poller_ok(struct poller *p)
{
	if (p->down)
		log_info("poller: the database answers again");
	p->down = 0;
	p->backoff_ms = 0;
}

static void
poller_row(const struct db_result *res, size_t i, struct event_row *row)
{
	row->seq = (uint64_t)db_get_int(res, i, 0);
	row->room = db_get(res, i, 1);
	row->event = db_get(res, i, 2);
	row->payload = db_get(res, i, 3);
	row->payload_len = db_len(res, i, 3);
}

/* The cursor starts at the end: older rows are for poller_replay(). */
static int
poller_start(struct poller *p)
{
	struct db_result	*res;

	if (db_query(&res, poller_sql_end, "") != DB_OK) {
		poller_failed(p, "reading the end of events");
		return -1;
	}
	p->cursor = (uint64_t)db_get_int(res, 0, 0);
	p->started = 1;
	db_result_free(res);
	log_info("poller: starting after event %" PRIu64, p->cursor);
	return 0;
}

/*
 * Passes on the rows of one read that may go: those right after the cursor,
 * and past a hole once it has been waited for long enough.  Every hole that
 * one read shows existed when the read ran, so one wait covers all the holes
 * up to the highest seq that read returned.  Returns the rows passed on, or
 * -1 when a hole holds the rest back.
 */
static long
poller_deliver(struct poller *p, const struct db_result *res)
{
	struct event_row	 row;
	size_t			 i, n = db_rows(res);
	long long		 now;
	long			 done = 0;

	for (i = 0; i < n; i++) {
		poller_row(res, i, &row);
		if (row.seq <= p->cursor)
			continue;	/* cannot happen: seq > cursor */
		if (row.seq != p->cursor + 1) {
			now = clock_ms();
			if (!p->holding || row.seq - 1 > p->hold_upto) {
				/* A hole not seen before: wait from now. */
				p->holding = 1;
				p->hold_since = now;
				poller_row(res, n - 1, &row);
				p->hold_upto = row.seq;
				return -1;
			}
			if (now - p->hold_since < p->gap_ms)
				return -1;
			if (row.seq - p->cursor == 2)
				log_warn("poller: skipped event %" PRIu64
				    " after waiting %lld ms for it",
				    p->cursor + 1, now - p->hold_since);
			else
				log_warn("poller: skipped events %" PRIu64
				    " to %" PRIu64 " after waiting %lld ms for"
				    " them", p->cursor + 1, row.seq - 1,
				    now - p->hold_since);
			p->cursor = row.seq - 1;
		}
		if (p->holding && row.seq >= p->hold_upto)
			p->holding = 0;
		p->cursor = row.seq;
		p->fn(p->arg, &row);
		done++;
	}
	return done;
}

static void
poller_read(struct poller *p)
{
	struct db_result	*res;
	size_t			 n;
	long			 got;
	int			 round;

	for (round = 0; round < POLLER_ROUNDS; round++) {
		if (db_query(&res, poller_sql_read, "ii",
		    (long long)p->cursor, (long long)POLLER_BATCH) != DB_OK) {
			poller_failed(p, "reading events");
			return;
		}
		poller_ok(p);
		n = db_rows(res);
		got = poller_deliver(p, res);
		db_result_free(res);
		if (got < 0 || n < POLLER_BATCH)
			return;
	}
}

/*
 * One bounded pruning round: a few DELETEs of prune_batch rows, for at most
 * PRUNE_BUDGET_MS, by whichever notifier holds the lock.  Rows left over are
 * taken at the next round, which comes sooner when this one was cut short.
 */
static void
poller_prune(struct poller *p)
{
	struct db_result	*res;
	long long		 start = clock_ms(), deleted = 0;
	int			 round, more = 0;

	if (db_query(&res, poller_sql_lock, "") != DB_OK) {
		poller_failed(p, "taking the pruning lock");
		return;
	}
	if (db_get_int(res, 0, 0) != 1) {
		db_result_free(res);
		return;		/* another notifier is pruning */
	}
	db_result_free(res);
	for (round = 0; round < PRUNE_ROUNDS; round++) {
		if (db_exec(poller_sql_prune, "ii", (long long)p->retention,
		    (long long)p->prune_batch) != DB_OK) {
			log_error("poller: pruning events: %s", db_error());
			break;
		}
		deleted += (long long)db_affected();
		if (db_affected() < (unsigned long long)p->prune_batch)
			break;
		if (clock_ms() - start >= PRUNE_BUDGET_MS) {
			more = 1;
			break;
		}
		more = round + 1 == PRUNE_ROUNDS;
	}
	if (db_query(&res, poller_sql_unlock, "") == DB_OK)
		db_result_free(res);
	if (deleted > 0)
		log_info("poller: pruned %lld events older than %ld s in "
		    "%lld ms", deleted, p->retention, clock_ms() - start);
	if (more)
		p->prune_at = clock_ms() + PRUNE_AGAIN_MS;
}

static void
poller_tick(evutil_socket_t fd, short what, void *arg)
{
	struct poller	*p = arg;
	long long	 now = clock_ms();

	if (p->retry_at > now)
		return;
	if (!p->started && poller_start(p) == -1)
		return;
	poller_read(p);
	if (!p->down && now >= p->prune_at) {
		p->prune_at = now + PRUNE_EVERY_MS;
		poller_prune(p);
	}
}

struct poller *
poller_new(struct event_base *base, const struct config *c, poller_fn fn,
    void *arg)
{
	struct poller	*p;
	struct timeval	 tv;

	p = xcalloc(1, sizeof(*p));
	p->fn = fn;
	p->arg = arg;
	p->gap_ms = c->notifier_gap_ms;
	p->retention = c->notifier_retention;
	p->prune_batch = c->notifier_prune_batch;
	/* The first round waits a little: the stack may still be starting. */
	p->prune_at = clock_ms() + PRUNE_EVERY_MS / 10;
	tv.tv_sec = c->notifier_poll_ms / 1000;
	tv.tv_usec = (c->notifier_poll_ms % 1000) * 1000;
	if ((p->tick = event_new(base, -1, EV_PERSIST, poller_tick, p)) ==
	    NULL || event_add(p->tick, &tv) == -1) {
		log_error("poller: cannot set its timer");
		poller_free(p);
		return NULL;
	}
	/* Where the end is now, so that rows written from here on all count. */
	poller_start(p);
	return p;
}

void
poller_free(struct poller *p)
{
	if (p == NULL)
		return;
	if (p->tick != NULL)
		event_free(p->tick);
	free(p);
}

uint64_t
poller_cursor(const struct poller *p)
{
	return p->cursor;
}

/* One row of a replay page: which result, which line. */
struct replay_ref {
	uint64_t		 seq;
	const struct db_result	*res;
	size_t			 i;
};

static int
replay_cmp(const void *a, const void *b)
{
	const struct replay_ref	*x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * One page of a replay: each room's next rows after *from (an index range
 * each), merged in seq order up to the point every room is complete to.
 * Returns the rows passed on, 0 at the end, -1 on a database error.
 */
static long
poller_replay_page(struct poller *p, uint64_t *from,
    const char *const *rooms, size_t n, poller_fn fn, void *arg)
{
	struct db_result	**res;
	struct replay_ref	 *refs = NULL;
	struct event_row	  row;
	uint64_t		  bound = p->cursor, last;
	size_t			  i, j, k, nrefs = 0, total = 0;
	long			  count = -1;

	res = xcalloc(n, sizeof(*res));
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(rooms[i], rooms[j]) == 0)
				break;
		if (j < i)
			continue;	/* a room named twice */
		if (db_query(&res[i], poller_sql_replay, "siii", rooms[i],
		    (long long)*from, (long long)p->cursor,
		    (long long)POLLER_BATCH) != DB_OK) {
			log_error("poller: replay: %s", db_error());
			goto out;
		}
		k = db_rows(res[i]);
		total += k;
		/* A full page: that room is known only up to its last row. */
		if (k == POLLER_BATCH) {
			last = (uint64_t)db_get_int(res[i], k - 1, 0);
			if (last < bound)
				bound = last;
		}
	}
	refs = xcalloc(total + 1, sizeof(*refs));
	for (i = 0; i < n; i++)
		for (k = 0; res[i] != NULL && k < db_rows(res[i]); k++) {
			refs[nrefs].seq = (uint64_t)db_get_int(res[i], k, 0);
			if (refs[nrefs].seq > bound)
				break;
			refs[nrefs].res = res[i];
			refs[nrefs].i = k;
			nrefs++;
		}
	qsort(refs, nrefs, sizeof(*refs), replay_cmp);
	for (i = 0; i < nrefs; i++) {
		poller_row(refs[i].res, refs[i].i, &row);
		fn(arg, &row);
	}
	count = (long)nrefs;
	*from = bound;
 out:
	for (i = 0; i < n; i++)
		db_result_free(res[i]);
	free(res);
	free(refs);
	return count;
}

long
poller_replay(struct poller *p, uint64_t after, const char *const *rooms,
    size_t n, poller_fn fn, void *arg)
{
	struct db_result	*res;
	uint64_t		 from = after;
	long			 count = 0, got;

	if (!p->started && poller_start(p) == -1)
		return -1;
	if (after >= p->cursor)
		return 0;
	/*
	 * The oldest retained row must follow `after` directly, or rows the
	 * client has not seen were pruned: it has to start afresh.
	 */
	if (db_query(&res, poller_sql_oldest, "") != DB_OK) {
		log_error("poller: replay: %s", db_error());
		return -1;
	}
	if (db_is_null(res, 0, 0) ||
	    (uint64_t)db_get_int(res, 0, 0) > after + 1) {
		db_result_free(res);
		return -1;
	}
	db_result_free(res);
	while (n > 0 && from < p->cursor) {
		if ((got = poller_replay_page(p, &from, rooms, n, fn, arg)) ==
		    -1)
			return -1;
		count += got;
	}
	return count;
}
