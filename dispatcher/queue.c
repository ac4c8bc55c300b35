/*
 * queue.c -- claims due deliveries under a lease and records every try.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc.h"
#include "db.h"
#include "log.h"
#include "queue.h"

/* deliveries.locked_by is VARCHAR(64). */
#define OWNER_MAX	64

/* A record transaction that deadlocked or lost its connection is rerun. */
#define RECORD_TRIES	3

/*
 * Two statements, not one with an OR: each walks the (state,
 * next_attempt_at) index in order and stops at LIMIT, so it locks only
 * the rows it returns.  With an OR the server reads and locks every due
 * row, then sorts them (a filesort): one dispatcher holds the whole
 * backlog until it commits and the others find nothing to claim.
 */
/*
 * Claims run at READ COMMITTED: at REPEATABLE READ the locking reads also
 * take gap locks on the (state, next_attempt_at) index, and two claims
 * that then move their rows to 'sending' wait on each other's gaps and
 * deadlock.  SET TRANSACTION applies to the next transaction only.
 */
static const char sql_read_committed[] =
	"SET TRANSACTION ISOLATION LEVEL READ COMMITTED";

/*
 * A 'sending' row without a lease end was not written by a dispatcher,
 * which always sets one; nothing else would ever take it, so it counts as
 * expired, as the operator_failed_deliveries view promises.
 */
static const char sql_claim_expired[] =
	"SELECT id, channel, target, payload, attempts FROM deliveries"
	" WHERE state = 'sending'"
	" AND (locked_until IS NULL OR locked_until < UTC_TIMESTAMP(6))"
	" AND FIND_IN_SET(channel, ?)"
	" ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED";

static const char sql_claim_due[] =
	"SELECT id, channel, target, payload, attempts FROM deliveries"
	" WHERE state = 'pending' AND next_attempt_at <= UTC_TIMESTAMP(6)"
	" AND FIND_IN_SET(channel, ?)"
	" ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED";

/*
 * The whole claim in one statement, not one per row: the ids come as one
 * JSON array (delivery_ids()), and the join reads each row by its key.
 */
static const char sql_lease[] =
	"UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j"
	" STRAIGHT_JOIN deliveries d ON d.id = j.id"
	" SET d.state = 'sending',"
	" d.locked_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND,"
	" d.locked_by = ?";

/*
 * A delivered mail's text goes: it may hold a one-time code, which must
 * not stay readable at rest once it has been sent.
 */
static const char sql_delivered[] =
	"UPDATE deliveries SET state = 'delivered', attempts = ?,"
	" payload = IF(channel = 'mail',"
	" JSON_REPLACE(payload, '$.text', '(removed after delivery)'), payload),"
	" last_status = ?, last_error = NULL,"
	" finished_at = UTC_TIMESTAMP(6), locked_until = NULL, locked_by = NULL"
	" WHERE id = ? AND state = 'sending' AND locked_by = ?";

static const char sql_retry[] =
	"UPDATE deliveries SET state = 'pending', attempts = ?,"
	" last_status = ?, last_error = ?,"
	" next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND,"
	" locked_until = NULL, locked_by = NULL"
	" WHERE id = ? AND state = 'sending' AND locked_by = ?";

static const char sql_failed[] =
	"UPDATE deliveries SET state = 'failed', attempts = ?,"
	" last_status = ?, last_error = ?,"
	" finished_at = UTC_TIMESTAMP(6), locked_until = NULL, locked_by = NULL"
	" WHERE id = ? AND state = 'sending' AND locked_by = ?";

static const char sql_attempt[] =
	"INSERT INTO delivery_attempts (delivery_id, attempt, started_at,"
	" duration_ms, status_code, error, outcome)"
	" VALUES (?, ?, ?, ?, ?, ?, ?)";

/*
 * A batch of tries recorded with two statements rather than two per try:
 * queue_record_batch() binds them as one JSON array of objects (see
 * batch_json()), keys left out for NULL.  The UPDATE joins on the lease,
 * as the statements above do: a row whose lease was lost is not matched,
 * and the batch is then recorded one try at a time.
 */
#define RECORD_BATCH	"JSON_TABLE(?, '$[*]' COLUMNS (" \
	"id BIGINT UNSIGNED PATH '$.id', " \
	"a SMALLINT UNSIGNED PATH '$.a', " \
	"t VARCHAR(32) CHARACTER SET ascii PATH '$.t', " \
	"ms INT UNSIGNED PATH '$.ms', " \
	"s INT PATH '$.s', " \
	"e VARCHAR(1024) CHARACTER SET utf8mb4 PATH '$.e', " \
	"o VARCHAR(16) CHARACTER SET ascii PATH '$.o', " \
	"us BIGINT PATH '$.us')) j"

static const char sql_batch_done[] =
	"UPDATE " RECORD_BATCH
	" STRAIGHT_JOIN deliveries d ON d.id = j.id"
	" AND d.state = 'sending' AND d.locked_by = ?"
	" SET d.state = IF(j.o = 'retry', 'pending', j.o), d.attempts = j.a,"
	" d.payload = IF(j.o = 'delivered' AND d.channel = 'mail',"
	" JSON_REPLACE(d.payload, '$.text', '(removed after delivery)'),"
	" d.payload),"
	" d.last_status = j.s, d.last_error = j.e,"
	" d.next_attempt_at = IF(j.o = 'retry',"
	" UTC_TIMESTAMP(6) + INTERVAL j.us MICROSECOND, d.next_attempt_at),"
	" d.finished_at = IF(j.o = 'retry', d.finished_at, UTC_TIMESTAMP(6)),"
	" d.locked_until = NULL, d.locked_by = NULL";

static const char sql_batch_attempts[] =
	"INSERT INTO delivery_attempts (delivery_id, attempt, started_at,"
	" duration_ms, status_code, error, outcome)"
	" SELECT j.id, j.a, j.t, j.ms, j.s, j.e, j.o FROM " RECORD_BATCH;

static const char *const outcome_names[] = {
	[OUTCOME_TRANSFER] = "transfer",
	[OUTCOME_DELIVERED] = "delivered",
	[OUTCOME_RETRY] = "retry",
	[OUTCOME_FAILED] = "failed"
};

static char owner[OWNER_MAX + 1];

void
queue_init(void)
{
	char	 host[256];
	char	 pid[24];
	size_t	 room;

	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(pid, sizeof(pid), ":%ld", (long)getpid());

	/* Keep the pid whole; a long host name is what gets cut. */
	room = OWNER_MAX - strlen(pid);
	snprintf(owner, sizeof(owner), "%.*s%s", (int)room, host, pid);
}

const char *
queue_owner(void)
{
	return owner;
}

const char *
outcome_name(enum outcome o)
{
	if ((size_t)o >= nitems(outcome_names))
		return "?";
	return outcome_names[o];
}

void
delivery_error(struct delivery *d, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
}

char *
delivery_ids(struct delivery *const *d, size_t n)
{
	struct json_object	*a = json_object_new_array_ext((int)n);
	char			*s;
	size_t			 i;

	if (a == NULL) {
		log_error("out of memory");
		exit(1);
	}
	for (i = 0; i < n; i++)
		json_object_array_add(a,
		    json_object_new_int64((int64_t)d[i]->id));
	s = xstrdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
	return s;
}

void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	free(d->target);
	free(d->payload);
	free(d);
}

static const struct channel *
channel_by_name(const char *name, const struct channel *const *channels,
    size_t nchannels)
{
	size_t	 i;

	for (i = 0; i < nchannels; i++)
		if (strcmp(channels[i]->name, name) == 0)
			return channels[i];
	return NULL;
}

/*
 * Turn the rows of res into deliveries at out[*n...].  A row whose channel
 * is not ours cannot come (the query filters on it); should one come, it
 * is left alone and its lease runs out.
 */
static void
claim_rows(struct db_result *res, struct delivery **out, int *n,
    const struct channel *const *channels, size_t nchannels)
{
	const struct channel	*ch;
	struct delivery		*d;
	const char		*s;
	size_t			 r;

	for (r = 0; r < db_rows(res); r++) {
		s = db_get(res, r, 1);
		ch = channel_by_name(s != NULL ? s : "", channels, nchannels);
		if (ch == NULL)
			continue;
		d = xcalloc(1, sizeof(*d));
		d->id = strtoull(db_get(res, r, 0), NULL, 10);
		d->channel = ch;
		s = db_get(res, r, 2);
		d->target = xstrdup(s != NULL ? s : "");
		s = db_get(res, r, 3);
		d->payload = xstrdup(s != NULL ? s : "");
		d->attempt = (int)db_get_int(res, r, 4) + 1;
		out[(*n)++] = d;
	}
}

int
queue_claim(struct delivery **out, int max, int lease,
    const struct channel *const *channels, size_t nchannels)
{
	static const char	*const sqls[] = {
		sql_claim_expired, sql_claim_due
	};
	struct buf		 names = { NULL, 0, 0 };
	struct db_result	*res = NULL;
	enum db_status		 st;
	char			*ids = NULL;
	size_t			 i;
	int			 n = 0, k;

	if (max <= 0 || nchannels == 0)
		return 0;
	for (i = 0; i < nchannels; i++) {
		if (i > 0)
			buf_puts(&names, ",");
		buf_puts(&names, channels[i]->name);
	}

	if (db_exec(sql_read_committed, "") != DB_OK || db_begin() == -1)
		goto fail;
	for (i = 0; i < nitems(sqls) && n < max; i++) {
		st = db_query(&res, sqls[i], "si", names.data,
		    (long long)(max - n));
		if (st != DB_OK)
			goto fail;
		claim_rows(res, out, &n, channels, nchannels);
		db_result_free(res);
		res = NULL;
	}
	if (n > 0) {
		ids = delivery_ids(out, (size_t)n);
		if (db_exec(sql_lease, "sis", ids, (long long)lease, owner) !=
		    DB_OK)
			goto fail;
	}
	if (db_commit() == -1)
		goto fail;
	free(ids);
	buf_free(&names);
	return n;

fail:
	log_warn("claim failed: %s", db_error());
	db_result_free(res);
	db_rollback();
	for (k = 0; k < n; k++) {
		delivery_free(out[k]);
		out[k] = NULL;
	}
	free(ids);
	buf_free(&names);
	return -1;
}

/* Format d's start as a DATETIME(6) literal in UTC. */
static void
format_started(const struct delivery *d, char *out, size_t sz)
{
	struct tm	 tm;

	gmtime_r(&d->started.tv_sec, &tm);
	snprintf(out, sz, "%04d-%02d-%02d %02d:%02d:%02d.%06ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, d->started.tv_nsec / 1000);
}

/*
 * The statements that record one try (see queue_record()), inside the
 * caller's transaction.  *updated is set when the delivery row changed.
 * Returns DB_OK, or the failure; DB_REFUSED with !*updated means the
 * delivery was deleted meanwhile and there is nothing to record.
 */
static enum db_status
record_row(const struct delivery *d, enum outcome outcome,
    long long delay_ms, int *updated)
{
	char		 started[40];
	const char	*error;
	long long	 status, duration, attempt, id;
	enum db_status	 st;

	format_started(d, started, sizeof(started));
	status = d->status;
	duration = d->end_ms - d->start_ms;
	if (duration < 0)
		duration = 0;
	attempt = d->attempt;
	id = (long long)d->id;
	error = outcome != OUTCOME_DELIVERED && d->error[0] != '\0' ?
	    d->error : NULL;

	switch (outcome) {
	case OUTCOME_DELIVERED:
		st = db_exec(sql_delivered, "inis", attempt,
		    status != 0 ? &status : NULL, id, owner);
		break;
	case OUTCOME_RETRY:
		st = db_exec(sql_retry, "insiis", attempt,
		    status != 0 ? &status : NULL, error, delay_ms * 1000,
		    id, owner);
		break;
	default:
		st = db_exec(sql_failed, "insis", attempt,
		    status != 0 ? &status : NULL, error, id, owner);
		break;
	}
	if (st != DB_OK)
		return st;
	*updated = db_affected() > 0;

	/*
	 * The try happened even when the lease was lost, so it is logged;
	 * only a delivery deleted meanwhile (the foreign key) stops that.
	 */
	return db_exec(sql_attempt, "iisinss", id, attempt, started, duration,
	    status != 0 ? &status : NULL, error, outcome_name(outcome));
}

/* One try at the record transaction; see queue_record(). */
static enum db_status
record_once(const struct delivery *d, enum outcome outcome,
    long long delay_ms, int *updated)
{
	enum db_status	 st;

	if (db_begin() == -1)
		return DB_ERROR;
	st = record_row(d, outcome, delay_ms, updated);
	if (st == DB_REFUSED && !*updated) {
		db_rollback();
		return DB_OK;
	}
	if (st != DB_OK)
		goto fail;
	if (db_commit() == -1) {
		st = DB_ERROR;
		goto fail;
	}
	return DB_OK;

fail:
	db_rollback();
	return st;
}

int
queue_record(const struct delivery *d, enum outcome outcome,
    long long delay_ms)
{
	enum db_status	 st = DB_ERROR;
	int		 i, updated = 0;

	for (i = 0; i < RECORD_TRIES; i++) {
		st = record_once(d, outcome, delay_ms, &updated);
		if (st == DB_OK)
			return updated;
		if (st == DB_REFUSED)
			break;
	}
	log_error("delivery id=%llu: cannot record the try: %s",
	    d->id, db_error());
	return -1;
}

/* The tries d[0..n-1] as RECORD_BATCH reads them.  Caller frees it. */
static char *
batch_json(struct delivery *const *d, const enum outcome *o,
    const long long *delay_ms, size_t n)
{
	struct json_object	*a, *e;
	char			 started[40];
	char			*s;
	long long		 duration;
	size_t			 i;

	if ((a = json_object_new_array_ext((int)n)) == NULL) {
		log_error("out of memory");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		e = json_object_new_object();
		format_started(d[i], started, sizeof(started));
		duration = d[i]->end_ms - d[i]->start_ms;
		if (duration < 0)
			duration = 0;
		json_object_object_add(e, "id",
		    json_object_new_int64((int64_t)d[i]->id));
		json_object_object_add(e, "a",
		    json_object_new_int(d[i]->attempt));
		json_object_object_add(e, "t", json_object_new_string(started));
		json_object_object_add(e, "ms",
		    json_object_new_int64(duration));
		if (d[i]->status != 0)
			json_object_object_add(e, "s",
			    json_object_new_int64(d[i]->status));
		if (o[i] != OUTCOME_DELIVERED && d[i]->error[0] != '\0')
			json_object_object_add(e, "e",
			    json_object_new_string(d[i]->error));
		json_object_object_add(e, "o",
		    json_object_new_string(outcome_name(o[i])));
		json_object_object_add(e, "us",
		    json_object_new_int64(o[i] == OUTCOME_RETRY ?
		    delay_ms[i] * 1000 : 0));
		json_object_array_add(a, e);
	}
	s = xstrdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
	return s;
}

int
queue_record_batch(struct delivery *const *d, const enum outcome *o,
    const long long *delay_ms, int *updated, size_t n)
{
	enum db_status	 st;
	char		*batch;
	size_t		 i;
	int		 rc = 0;

	if (n == 0)
		return 0;
	/*
	 * Two statements and one commit for all: the common case, where
	 * every row is ours.  Any row that is not makes the UPDATE change
	 * fewer rows than there are tries.
	 */
	if (n > 1 && db_begin() == 0) {
		batch = batch_json(d, o, delay_ms, n);
		st = db_exec(sql_batch_done, "ss", batch, owner);
		if (st == DB_OK && db_affected() != n)
			st = DB_CONFLICT;
		if (st == DB_OK)
			st = db_exec(sql_batch_attempts, "s", batch);
		free(batch);
		if (st == DB_OK && db_commit() == 0) {
			for (i = 0; i < n; i++)
				updated[i] = 1;
			return 0;
		}
		db_rollback();
	}
	/* A deleted row, a deadlock, a lost connection: one at a time. */
	for (i = 0; i < n; i++)
		if ((updated[i] = queue_record(d[i], o[i], delay_ms[i])) == -1)
			rc = -1;
	return rc;
}
