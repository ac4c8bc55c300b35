/*
 * logs.c -- an account's delivery log: one entry per delivery of an event
 * to a destination, with every attempt; and the Admin's ways to send
 * again, which queue new deliveries rather than rewrite old ones, so the
 * history stays as it happened.
 *
 * The original kept one row per event id and overwrote it with the last
 * destination's result; here nothing is overwritten.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "db.h"
#include "destinations.h"
#include "reply.h"
#include "request.h"

#define LOG_COLS \
	"w.delivery_id, e.event_id, " SQL_TIME("e.received_at") ", " \
	SQL_TIME("d.finished_at") ", d.state, w.destination_id, d.attempts, " \
	"d.last_status, d.last_error, w.replay_of, " \
	SQL_TIME("d.next_attempt_at")

/* Filters shared by the log and the replay, as SQL parameters. */
#define LOG_FILTERS \
	" AND (? IS NULL OR w.destination_id = ?)" \
	" AND (? IS NULL OR d.state IN (?, ?))" \
	" AND (? IS NULL OR e.received_at >= ?)" \
	" AND (? IS NULL OR d.finished_at <= ?)"

#define LOG_FROM \
	" FROM webhook_deliveries w JOIN deliveries d ON d.id = w.delivery_id" \
	" JOIN incoming_events e ON e.id = w.event_row"

#define ATTEMPT_TIME(col) \
	"DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%fZ')"

/* The log's status names and the deliveries states they stand for. */
static const struct {
	const char	*name;
	const char	*state1, *state2;
} statuses[] = {
	{ "success", "delivered", "delivered" },
	{ "failed", "failed", "failed" },
	{ "pending", "pending", "sending" },
	{ "cancelled", "cancelled", "cancelled" },
};

struct log_filter {
	const char	*destination;
	const char	*state1, *state2;
	char		 received[64];	/* "YYYY-MM-DD HH:MM:SS" or "" */
	char		 processed[64];
	char		 dest_buf[UUID_SIZE];
};

static const char *
status_name(const char *state)
{
	size_t	 i;

	for (i = 0; i < nitems(statuses); i++)
		if (strcmp(statuses[i].state1, state) == 0 ||
		    strcmp(statuses[i].state2, state) == 0)
			return statuses[i].name;
	return state;
}

/*
 * A time as a client writes it ("2026-01-02T03:04:05Z", with a space,
 * without the Z, a date alone) into out as a DATETIME literal.  Returns 0
 * or -1.
 */
static int
parse_time(const char *s, char *out, size_t n)
{
	int	 y, mo, d, h = 0, mi = 0, sec = 0, used = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
		return -1;
	s += used;
	if (*s == 'T' || *s == ' ') {
		if (sscanf(s + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &used) != 3)
			return -1;
		s += 1 + used;
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++)
				continue;
		if (*s == 'Z' || strcmp(s, "+00:00") == 0)
			s += *s == 'Z' ? 1 : 6;
	}
	if (*s != '\0' || y < 1970 || y > 9999 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 ||
	    mi < 0 || sec < 0)
		return -1;
	snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi,
	    sec);
	return 0;
}

/* Set a filter's status.  Returns 0, or the 400 written. */
static int
filter_status(struct reply *rep, struct log_filter *f, const char *s)
{
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; i < nitems(statuses); i++)
		if (strcmp(s, statuses[i].name) == 0) {
			f->state1 = statuses[i].state1;
			f->state2 = statuses[i].state2;
			return 0;
		}
	return reply_invalid(rep, "status",
	    "Must be success, failed, pending or cancelled.");
}

/* Set a filter's destination.  Returns 0, or the 400 written. */
static int
filter_destination(struct reply *rep, struct log_filter *f, const char *s)
{
	if (s == NULL)
		return 0;
	if (!uuid_valid(s))
		return reply_invalid(rep, "destination_id", "Must be a UUID.");
	snprintf(f->dest_buf, sizeof(f->dest_buf), "%s", s);
	f->destination = f->dest_buf;
	return 0;
}

/* Set a time bound.  Returns 0, or the 400 about field written. */
static int
filter_time(struct reply *rep, char *out, size_t n, const char *field,
    const char *s)
{
	if (s == NULL)
		return 0;
	if (parse_time(s, out, n) == -1)
		return reply_invalid(rep, field,
		    "Must be a time like 2026-01-02T03:04:05Z.");
	return 0;
}

#define NULLIF_EMPTY(s)	((s)[0] != '\0' ? (s) : NULL)

/* Attempts of delivery id from rows [*k...) of r, which are in order. */
static struct json_object *
attempts_json(const struct db_result *r, size_t *k, long long id)
{
	struct json_object	*list = json_object_new_array(), *a;

	while (*k < db_rows(r) && db_get_int(r, *k, 0) > id)
		(*k)++;
	for (; *k < db_rows(r) && db_get_int(r, *k, 0) == id; (*k)++) {
		a = json_object_new_object();
		json_add_id(a, "attempt", db_get(r, *k, 1));
		json_add_string(a, "started_at", db_get(r, *k, 2));
		json_add_id(a, "duration_ms", db_get(r, *k, 3));
		json_add_id(a, "status_code", db_get(r, *k, 4));
		json_add_string(a, "error", db_get(r, *k, 5));
		json_add_string(a, "outcome", db_get(r, *k, 6));
		json_object_array_add(list, a);
	}
	return list;
}

/* Row i of a LOG_COLS result, with its attempts from at. */
static struct json_object *
log_json(const struct db_result *r, size_t i, const struct db_result *at,
    size_t *k)
{
	struct json_object	*o = json_object_new_object();
	long long		 id = db_get_int(r, i, 0);

	json_add_id(o, "delivery_id", db_get(r, i, 0));
	json_add_string(o, "event_id", db_get(r, i, 1));
	json_add_string(o, "received_timestamp", db_get(r, i, 2));
	json_add_string(o, "processed_timestamp", db_get(r, i, 3));
	json_object_object_add(o, "status",
	    json_object_new_string(status_name(db_get(r, i, 4))));
	json_add_string(o, "state", db_get(r, i, 4));
	json_add_string(o, "destination_id", db_get(r, i, 5));
	json_add_id(o, "attempt_count", db_get(r, i, 6));
	json_add_id(o, "last_status", db_get(r, i, 7));
	json_add_string(o, "last_error", db_get(r, i, 8));
	json_add_id(o, "replay_of", db_get(r, i, 9));
	json_add_string(o, "next_attempt_at",
	    strcmp(db_get(r, i, 4), "pending") == 0 ? db_get(r, i, 10) : NULL);
	json_object_object_add(o, "attempts", attempts_json(at, k, id));
	return o;
}

/*
 * GET /api/accounts/{id}/logs/: members.  Filters destination_id, status
 * (success, failed, pending, cancelled), received_timestamp (at or after)
 * and processed_timestamp (at or before); newest first, ?limit= and
 * ?before=<delivery_id>.  200 {"logs": [...], "next_before"}; 400; 404.
 */
int
dest_logs(struct request *req, struct reply *rep)
{
	struct db_result	*r = NULL, *at = NULL;
	struct json_object	*o, *list;
	struct log_filter	 f;
	struct page		 page;
	const char		*account = request_capture(req, "id");
	char			 buf[64];
	long long		 before, lo, hi;
	size_t			 i, k = 0;
	int			 rc;

	if ((rc = account_access(req, rep, account, 0, NULL)) != 0)
		return rc;
	memset(&f, 0, sizeof(f));
	if ((rc = request_page(req, rep, 100, 1000, &page)) != 0 ||
	    (rc = filter_destination(rep, &f, request_query(req,
	    "destination_id", buf, sizeof(buf)))) != 0 ||
	    (rc = filter_status(rep, &f, request_query(req, "status", buf,
	    sizeof(buf)))) != 0 ||
	    (rc = filter_time(rep, f.received, sizeof(f.received),
	    "received_timestamp", request_query(req, "received_timestamp",
	    buf, sizeof(buf)))) != 0 ||
	    (rc = filter_time(rep, f.processed, sizeof(f.processed),
	    "processed_timestamp", request_query(req, "processed_timestamp",
	    buf, sizeof(buf)))) != 0)
		return rc;
	before = page.before > 0 ? page.before : 9223372036854775807LL;
	if (db_query(&r, "SELECT " LOG_COLS LOG_FROM
	    " WHERE w.account_id = ? AND w.delivery_id < ?" LOG_FILTERS
	    " ORDER BY w.delivery_id DESC LIMIT ?", "sisssssssssi", account,
	    before, f.destination, f.destination, f.state1, f.state1, f.state2,
	    NULLIF_EMPTY(f.received), NULLIF_EMPTY(f.received),
	    NULLIF_EMPTY(f.processed), NULLIF_EMPTY(f.processed),
	    page.limit) != DB_OK)
		return reply_db_error(rep);
	lo = db_rows(r) > 0 ? db_get_int(r, db_rows(r) - 1, 0) : 0;
	hi = db_rows(r) > 0 ? db_get_int(r, 0, 0) : 0;
	if (db_query(&at, "SELECT a.delivery_id, a.attempt, "
	    ATTEMPT_TIME("a.started_at") ", a.duration_ms, a.status_code, "
	    "a.error, a.outcome FROM delivery_attempts a JOIN "
	    "webhook_deliveries w ON w.delivery_id = a.delivery_id "
	    "WHERE w.account_id = ? AND a.delivery_id BETWEEN ? AND ? "
	    "ORDER BY a.delivery_id DESC, a.attempt, a.id", "sii", account, lo,
	    hi) != DB_OK) {
		db_result_free(r);
		return reply_db_error(rep);
	}
	list = json_object_new_array();
	for (i = 0; i < db_rows(r); i++)
		json_object_array_add(list, log_json(r, i, at, &k));
	o = json_object_new_object();
	json_object_object_add(o, "logs", list);
	json_object_object_add(o, "next_before",
	    (long long)db_rows(r) == page.limit ?
	    json_object_new_int64(lo) : NULL);
	db_result_free(r);
	db_result_free(at);
	return reply_json(rep, 200, o);
}

struct resend {
	const char		*account;
	/* Rows of event_row, destination_id, delivery id. */
	struct db_result	*rows;
	long long		 last_id;
	size_t			 queued;
};

static enum db_status
resend_tx(void *arg)
{
	struct resend	*s = arg;
	size_t		 i;

	s->queued = 0;
	for (i = 0; i < db_rows(s->rows); i++) {
		if (webhook_queue(db_get_int(s->rows, i, 0), s->account,
		    db_get(s->rows, i, 1), db_get_int(s->rows, i, 2),
		    &s->last_id) != 0)
			return DB_ERROR;
		s->queued++;
	}
	return DB_OK;
}

/*
 * POST /api/accounts/{id}/logs/{delivery_id}/retry/: send that delivery's
 * event to its destination once more, as a new delivery (the old one and
 * its attempts stay).  Admins.  202 {"delivery_id"}; 400 when the
 * destination is gone; 403; 404.
 */
int
dest_log_retry(struct request *req, struct reply *rep)
{
	struct resend	 s;
	const char	*account = request_capture(req, "id");
	long long	 id = request_capture_id(req, "delivery_id");
	struct json_object *o;
	int		 rc;

	if ((rc = account_access(req, rep, account, 1, NULL)) != 0)
		return rc;
	memset(&s, 0, sizeof(s));
	s.account = account;
	if (db_query(&s.rows, "SELECT w.event_row, w.destination_id, "
	    "w.delivery_id, dst.id FROM webhook_deliveries w LEFT JOIN "
	    "destinations dst ON dst.id = w.destination_id "
	    "WHERE w.delivery_id = ? AND w.account_id = ?", "is", id,
	    account) != DB_OK)
		return reply_db_error(rep);
	if (db_rows(s.rows) == 0)
		rc = dest_not_found(rep);
	else if (db_get(s.rows, 0, 3) == NULL)
		rc = reply_invalid(rep, "destination_id",
		    "The destination was deleted.");
	else if (db_transaction(resend_tx, &s) != DB_OK)
		rc = reply_db_error(rep);
	else {
		o = json_object_new_object();
		json_object_object_add(o, "delivery_id",
		    json_object_new_int64(s.last_id));
		json_object_object_add(o, "replay_of",
		    json_object_new_int64(id));
		rc = reply_json(rep, 202, o);
	}
	db_result_free(s.rows);
	return rc;
}

enum { R_DEST, R_STATUS, R_FROM, R_TO };

static const struct field replay_fields[] = {
	{ "destination_id", FIELD_STRING, FIELD_TRIM, 36, 36, NULL },
	{ "status", FIELD_STRING, FIELD_TRIM, 1, 16, NULL },
	{ "received_from", FIELD_STRING, FIELD_TRIM, 1, 40, NULL },
	{ "received_to", FIELD_STRING, FIELD_TRIM, 1, 40, NULL },
};

/*
 * POST /api/accounts/{id}/replay/ {destination_id, status, received_from,
 * received_to} (all optional): queue again, as new deliveries, the events
 * received in that range to the destinations they went to (that still
 * exist), at most 1000 per call, oldest first.  Admins.  202 {"queued"};
 * 400; 403; 404.
 */
int
dest_replay(struct request *req, struct reply *rep)
{
	struct field_value	 v[nitems(replay_fields)];
	struct log_filter	 f;
	struct resend		 s;
	struct json_object	*o;
	const char		*account = request_capture(req, "id");
	char			 to[64];
	int			 rc;

	if ((rc = account_access(req, rep, account, 1, NULL)) != 0)
		return rc;
	if ((rc = body_fields(req, rep, replay_fields, nitems(replay_fields),
	    v)) != 0)
		return rc;
	memset(&f, 0, sizeof(f));
	to[0] = '\0';
	memset(&s, 0, sizeof(s));
	if ((rc = filter_destination(rep, &f, v[R_DEST].present ?
	    v[R_DEST].s : NULL)) != 0 ||
	    (rc = filter_status(rep, &f, v[R_STATUS].present ?
	    v[R_STATUS].s : NULL)) != 0 ||
	    (rc = filter_time(rep, f.received, sizeof(f.received),
	    "received_from", v[R_FROM].present ? v[R_FROM].s : NULL)) != 0 ||
	    (rc = filter_time(rep, to, sizeof(to), "received_to",
	    v[R_TO].present ? v[R_TO].s : NULL)) != 0)
		goto out;
	s.account = account;
	if (db_query(&s.rows, "SELECT w.event_row, w.destination_id, "
	    "MIN(w.delivery_id)" LOG_FROM " JOIN destinations dst "
	    "ON dst.id = w.destination_id WHERE w.account_id = ?"
	    " AND (? IS NULL OR e.received_at <= ?)" LOG_FILTERS
	    " GROUP BY w.event_row, w.destination_id"
	    " ORDER BY w.event_row LIMIT 1000", "ssssssssssss", account,
	    NULLIF_EMPTY(to), NULLIF_EMPTY(to), f.destination, f.destination,
	    f.state1, f.state1, f.state2, NULLIF_EMPTY(f.received),
	    NULLIF_EMPTY(f.received), NULL, NULL) != DB_OK) {
		rc = reply_db_error(rep);
		goto out;
	}
	if (db_transaction(resend_tx, &s) != DB_OK) {
		rc = reply_db_error(rep);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "queued",
	    json_object_new_int64((long long)s.queued));
	rc = reply_json(rep, 202, o);
out:
	db_result_free(s.rows);
	body_values_free(v, nitems(v));
	return rc;
}
