/*
 * sync.c -- the offline-first change log of seed 000, as fastback REST.
 *
 * A client uploads the changes its local database recorded (log_id,
 * table_name, operation I/U/D, data with an id, timestamp); the server
 * applies them to the user's copy of that table (sync_rows) and appends
 * them to the user's log (sync_changes) in one transaction, and any
 * device downloads the log from an offset.
 *
 * Ordering: an upload applies its rows, then locks the user's
 * sync_counters row and numbers its new changes from it; the lock is held
 * until COMMIT, so a user's seqs become visible in order and "seq >
 * offset" never skips a change that commits late.  Idempotency: (user, device, log_id) is unique; the
 * same change sent again is answered as a duplicate, the same log_id with
 * other content is a 409 and nothing of that upload is kept.
 *
 * Speed: every change is checked here first, then a batch is applied with
 * a handful of statements over JSON_TABLE of one bound JSON array, never a
 * statement per change.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "alloc.h"
#include "body.h"
#include "config.h"
#include "db.h"
#include "outbox.h"
#include "reply.h"
#include "request.h"
#include "valid.h"
#include "wallets.h"

#define SYNC_NAME_MAX	64	/* table names, row ids, device ids */
#define SYNC_TIME_MAX	40	/* the client's timestamp */
#define SYNC_DEFAULT_DEVICE "default"

/*
 * The batch as SQL sees it: one JSON array of the new changes, built by
 * sync_batch_json().  k numbers them from 1, so a statement can take a
 * run of them.  The character sets match the columns, so joins use keys.
 */
#define SYNC_BATCH	"JSON_TABLE(?, '$[*]' COLUMNS (" \
	"k FOR ORDINALITY, " \
	"l BIGINT UNSIGNED PATH '$.l', " \
	"t VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin PATH '$.t', " \
	"r VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$.r', " \
	"o CHAR(1) CHARACTER SET ascii PATH '$.o', " \
	"d JSON PATH '$.d', " \
	"b INT UNSIGNED PATH '$.b', " \
	"c VARCHAR(40) CHARACTER SET ascii PATH '$.c', " \
	"h CHAR(32) CHARACTER SET ascii PATH '$.h')) j"

enum sync_state {
	CHANGE_NEW,
	CHANGE_DUPLICATE	/* same device, log_id and content as before */
};

/* One change of an upload, checked. */
struct change {
	long long		 log_id;
	const char		*table;		/* borrowed from the body */
	char			 row_id[4 * SYNC_NAME_MAX + 1];
	char			 op;
	struct json_object	*data;		/* borrowed */
	const char		*data_text;	/* owned by data */
	size_t			 data_len;
	const char		*time;		/* borrowed; NULL if not sent */
	char			 hash[33];
	enum sync_state		 state;
	long long		 seq;
};

struct upload {
	long long	 user_id;
	char		 device[SYNC_NAME_MAX + 1];
	struct change	*c;
	size_t		 n;
	size_t		*by_log;	/* indexes of c sorted by log_id */
	long long	 last_seq;
	size_t		 applied;
	long long	 conflict;	/* log_id refused: other content */
	int		 over_quota;
};

/* ---------------------------------------------------------------- checks */

/*
 * 1-64 characters, each a letter, a digit or one of extra.  Returns NULL,
 * or why not (bad: for a character outside the set).
 */
static const char *
sync_valid_name(const char *s, size_t len, const char *extra, const char *bad)
{
	size_t	 i;

	if (len == 0 || len > SYNC_NAME_MAX)
		return "must be 1 to 64 characters";
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    (s[i] == '\0' || strchr(extra, s[i]) == NULL))
			return bad;
	return NULL;
}

/* A table name: a letter or '_', then letters, digits, '_'; <= 64. */
static const char *
sync_valid_identifier(const char *s, size_t len)
{
	if (len > 0 && isdigit((unsigned char)s[0]))
		return "must not start with a digit";
	return sync_valid_name(s, len, "_",
	    "may hold only letters, digits and _");
}

/* A device id: 1-64 of letters, digits and . _ : - */
static const char *
sync_valid_device(const char *s, size_t len)
{
	return sync_valid_name(s, len, "._:-",
	    "may hold only letters, digits and . _ : -");
}

/* Non-zero when [sync] tables is empty or lists name. */
static int
sync_table_allowed(const char *name)
{
	const char	*p = config()->sync_tables;
	size_t		 len, n = strlen(name);

	if (p == NULL || *p == '\0')
		return 1;
	while (*p != '\0') {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		len = strcspn(p, ", \t");
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

/* BLAKE2b-128 of what makes a change itself, as hex into c->hash. */
static void
change_hash(struct change *c)
{
	crypto_generichash_state	 st;
	unsigned char			 out[16];
	const char			 zero = '\0';

	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	crypto_generichash_update(&st, (const unsigned char *)c->table,
	    strlen(c->table) + 1);
	crypto_generichash_update(&st, (const unsigned char *)&c->op, 1);
	crypto_generichash_update(&st, (const unsigned char *)c->data_text,
	    c->data_len);
	crypto_generichash_update(&st, (const unsigned char *)&zero, 1);
	if (c->time != NULL)
		crypto_generichash_update(&st, (const unsigned char *)c->time,
		    strlen(c->time));
	crypto_generichash_final(&st, out, sizeof(out));
	sodium_bin2hex(c->hash, sizeof(c->hash), out, sizeof(out));
}

/*
 * Check change o (the i-th of the upload; single: the body itself) into
 * c.  Returns 0, or the status of the error written.
 */
static int
change_read(struct reply *rep, struct json_object *o, size_t i, int single,
    struct change *c)
{
	struct json_object	*v, *id;
	const char		*s, *why, *field = "";
	char			 name[64];
	int			 status = 400;
	int64_t			 n;

	memset(c, 0, sizeof(*c));
	if (!json_object_is_type(o, json_type_object)) {
		why = "must be an object";
		goto bad;
	}
	field = "log_id";
	if (!json_object_object_get_ex(o, "log_id", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < 1 || (n == INT64_MAX &&
	    json_object_get_uint64(v) > (uint64_t)INT64_MAX)) {
		why = "must be a positive integer";
		goto bad;
	}
	c->log_id = n;

	field = "table_name";
	if (!json_object_object_get_ex(o, "table_name", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		why = "must be a string";
		goto bad;
	}
	c->table = json_object_get_string(v);
	if ((why = sync_valid_identifier(c->table,
	    (size_t)json_object_get_string_len(v))) != NULL)
		goto bad;
	if (!sync_table_allowed(c->table)) {
		why = "is not a table this server syncs";
		goto bad;
	}

	field = "operation";
	if (!json_object_object_get_ex(o, "operation", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != 1 ||
	    (s = json_object_get_string(v))[0] == '\0' ||
	    strchr("IUD", s[0]) == NULL) {
		why = "must be I, U or D";
		goto bad;
	}
	c->op = s[0];

	field = "data";
	if (!json_object_object_get_ex(o, "data", &c->data) ||
	    !json_object_is_type(c->data, json_type_object)) {
		why = "must be an object with an id";
		goto bad;
	}
	field = "data.id";
	if (!json_object_object_get_ex(c->data, "id", &id)) {
		why = "is required";
		goto bad;
	}
	if (json_object_is_type(id, json_type_int)) {
		n = json_object_get_int64(id);
		if (n == INT64_MAX &&
		    json_object_get_uint64(id) > (uint64_t)INT64_MAX)
			snprintf(c->row_id, sizeof(c->row_id), "%" PRIu64,
			    json_object_get_uint64(id));
		else
			snprintf(c->row_id, sizeof(c->row_id), "%" PRId64, n);
	} else if (json_object_is_type(id, json_type_string) &&
	    json_object_get_string_len(id) > 0 &&
	    utf8_length(json_object_get_string(id),
	    (size_t)json_object_get_string_len(id)) <= SYNC_NAME_MAX &&
	    (size_t)json_object_get_string_len(id) < sizeof(c->row_id) &&
	    valid_text(json_object_get_string(id),
	    (size_t)json_object_get_string_len(id)) == NULL)
		memcpy(c->row_id, json_object_get_string(id),
		    (size_t)json_object_get_string_len(id) + 1);
	else {
		why = "must be an integer or a string of 1 to 64 characters";
		goto bad;
	}
	c->data_text = json_object_to_json_string_ext(c->data,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	c->data_len = strlen(c->data_text);
	if ((long)c->data_len > config()->sync_max_row_bytes) {
		field = "data";
		why = "is larger than [sync] max_row_bytes";
		status = 413;
		goto bad;
	}

	field = "timestamp";
	if (json_object_object_get_ex(o, "timestamp", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		size_t	 k, len;

		if (!json_object_is_type(v, json_type_string)) {
			why = "must be a string";
			goto bad;
		}
		c->time = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		for (k = 0; k < len; k++)
			if (!isalnum((unsigned char)c->time[k]) &&
			    strchr(":.-+ ", c->time[k]) == NULL)
				break;
		if (len == 0 || len > SYNC_TIME_MAX || k != len) {
			why = "must be an ISO-8601 time of at most 40 characters";
			goto bad;
		}
	}
	change_hash(c);
	return 0;
bad:
	if (single)
		snprintf(name, sizeof(name), "%s", *field ? field : "change");
	else if (*field)
		snprintf(name, sizeof(name), "changes[%zu].%s", i, field);
	else
		snprintf(name, sizeof(name), "changes[%zu]", i);
	if (status == 413) {
		reply_error(rep, 413, "change_too_large", "%s: %s (%ld bytes)",
		    name, why, config()->sync_max_row_bytes);
		return 413;
	}
	return reply_invalid(rep, name, why);
}

/* ---------------------------------------------------------------- upload */

static struct change	*sort_base;

static int
by_log_cmp(const void *a, const void *b)
{
	long long	 x = sort_base[*(const size_t *)a].log_id;
	long long	 y = sort_base[*(const size_t *)b].log_id;

	if (x != y)
		return x < y ? -1 : 1;
	/* Equal log_ids keep upload order: the first one counts. */
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* The index of the first change with log_id, or -1 (u->by_log sorted). */
static long
upload_find(const struct upload *u, long long log_id)
{
	size_t	 lo = 0, hi = u->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (u->c[u->by_log[mid]].log_id < log_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < u->n && u->c[u->by_log[lo]].log_id == log_id)
		return (long)u->by_log[lo];
	return -1;
}

/*
 * Sort the changes by log_id and check repeats inside the upload: the
 * same content again is a duplicate of the first (upload_mark_repeats()),
 * other content a conflict.  Returns 0, or the conflicting log_id.
 */
static long long
upload_dedupe_batch(struct upload *u)
{
	size_t	 i;

	u->by_log = xcalloc(u->n, sizeof(*u->by_log));
	for (i = 0; i < u->n; i++)
		u->by_log[i] = i;
	sort_base = u->c;
	qsort(u->by_log, u->n, sizeof(*u->by_log), by_log_cmp);
	sort_base = NULL;
	for (i = 1; i < u->n; i++) {
		struct change	*a = &u->c[u->by_log[i - 1]];
		struct change	*b = &u->c[u->by_log[i]];

		if (a->log_id == b->log_id && strcmp(a->hash, b->hash) != 0)
			return b->log_id;
	}
	return 0;
}

/* Mark every repeat of a log_id inside the upload as a duplicate. */
static void
upload_mark_repeats(struct upload *u)
{
	size_t	 i;

	for (i = 1; i < u->n; i++)
		if (u->c[u->by_log[i - 1]].log_id == u->c[u->by_log[i]].log_id)
			u->c[u->by_log[i]].state = CHANGE_DUPLICATE;
}

/* The log_ids of the upload as a JSON array text (caller frees). */
static char *
upload_log_ids(const struct upload *u)
{
	struct json_object	*a = json_object_new_array_ext((int)u->n);
	char			*s;
	size_t			 i;

	for (i = 0; i < u->n; i++)
		json_object_array_add(a, json_object_new_int64(u->c[i].log_id));
	s = xstrdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
	return s;
}

/*
 * Mark the changes this device already uploaded as duplicates, with their
 * seq; a log_id already used for other content sets u->conflict.
 */
static enum db_status
upload_dedupe_stored(struct upload *u)
{
	struct db_result	*r;
	enum db_status		 st;
	char			*ids = upload_log_ids(u);
	size_t			 i;
	long			 k;

	st = db_query(&r, "SELECT c.log_id, c.content_hash, c.seq FROM "
	    "JSON_TABLE(?, '$[*]' COLUMNS (l BIGINT UNSIGNED PATH '$')) j "
	    "STRAIGHT_JOIN sync_changes c ON c.user_id = ? AND "
	    "c.device_id = ? AND c.log_id = j.l", "sis", ids, u->user_id,
	    u->device);
	free(ids);
	if (st != DB_OK)
		return st;
	for (i = 0; i < db_rows(r) && u->conflict == 0; i++) {
		if ((k = upload_find(u, db_get_int(r, i, 0))) == -1)
			continue;
		if (strcmp(u->c[k].hash, db_get(r, i, 1)) != 0) {
			u->conflict = u->c[k].log_id;
			break;
		}
		/* Every copy in this upload is that same change. */
		for (; (size_t)k < u->n; k++)
			if (u->c[k].log_id == db_get_int(r, i, 0)) {
				u->c[k].state = CHANGE_DUPLICATE;
				u->c[k].seq = db_get_int(r, i, 2);
			}
	}
	db_result_free(r);
	return u->conflict != 0 ? DB_REFUSED : DB_OK;
}

/* The new changes as the JSON array SYNC_BATCH reads (caller frees). */
static char *
upload_batch_json(const struct upload *u)
{
	struct json_object	*a = json_object_new_array_ext((int)u->applied);
	struct json_object	*o;
	char			*s;
	size_t			 i;

	for (i = 0; i < u->n; i++) {
		const struct change	*c = &u->c[i];
		char			 op[2] = { c->op, '\0' };

		if (c->state != CHANGE_NEW)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "l",
		    json_object_new_int64(c->log_id));
		json_object_object_add(o, "t", json_object_new_string(c->table));
		json_object_object_add(o, "r",
		    json_object_new_string(c->row_id));
		json_object_object_add(o, "o", json_object_new_string(op));
		json_object_object_add(o, "d", json_object_get(c->data));
		json_object_object_add(o, "b",
		    json_object_new_int64((int64_t)c->data_len));
		json_add_string(o, "c", c->time);
		json_object_object_add(o, "h", json_object_new_string(c->hash));
		json_object_array_add(a, o);
	}
	s = xstrdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	return s;
}

/*
 * Apply changes from..to (1-based positions in the batch) that all have
 * operation op to sync_rows: I replaces the row, U merges data into it
 * (creating it when missing), D deletes it.
 */
static enum db_status
upload_apply_run(const struct upload *u, const char *batch, char op,
    long long from, long long to)
{
	switch (op) {
	case 'I':
		return db_exec("INSERT INTO sync_rows (user_id, table_name, "
		    "row_id, data) SELECT ?, j.t, j.r, j.d FROM "
		    SYNC_BATCH " WHERE j.k BETWEEN ? AND ? ORDER BY j.k "
		    "ON DUPLICATE KEY UPDATE data = VALUES(data), "
		    "updated_at = UTC_TIMESTAMP(6)",
		    "isii", u->user_id, batch, from, to);
	case 'U':
		return db_exec("INSERT INTO sync_rows (user_id, table_name, "
		    "row_id, data) SELECT ?, j.t, j.r, j.d FROM "
		    SYNC_BATCH " WHERE j.k BETWEEN ? AND ? ORDER BY j.k "
		    "ON DUPLICATE KEY UPDATE "
		    "data = JSON_MERGE_PATCH(data, VALUES(data)), "
		    "updated_at = UTC_TIMESTAMP(6)",
		    "isii", u->user_id, batch, from, to);
	default:
		return db_exec("DELETE sync_rows FROM " SYNC_BATCH
		    " STRAIGHT_JOIN sync_rows ON sync_rows.user_id = ? AND "
		    "sync_rows.table_name = j.t AND sync_rows.row_id = j.r "
		    "WHERE j.k BETWEEN ? AND ?", "siii", batch, u->user_id,
		    from, to);
	}
}

/* The sync_changed event: which part of the log the upload added. */
static enum db_status
upload_event(const struct upload *u)
{
	struct json_object	*p = json_object_new_object(), *tables;
	char			 room[32];
	size_t			 i, k;
	int			 rc;

	tables = json_object_new_array();
	for (i = 0; i < u->n; i++) {
		if (u->c[i].state != CHANGE_NEW)
			continue;
		for (k = 0; k < json_object_array_length(tables); k++)
			if (strcmp(json_object_get_string(
			    json_object_array_get_idx(tables, k)),
			    u->c[i].table) == 0)
				break;
		if (k == json_object_array_length(tables))
			json_object_array_add(tables,
			    json_object_new_string(u->c[i].table));
	}
	json_object_object_add(p, "user_id", json_object_new_int64(u->user_id));
	json_object_object_add(p, "device_id",
	    json_object_new_string(u->device));
	json_object_object_add(p, "from_seq",
	    json_object_new_int64(u->last_seq - (long long)u->applied + 1));
	json_object_object_add(p, "to_seq", json_object_new_int64(u->last_seq));
	json_object_object_add(p, "count",
	    json_object_new_int64((int64_t)u->applied));
	json_object_object_add(p, "tables", tables);
	snprintf(room, sizeof(room), "user:%lld", u->user_id);
	rc = outbox_event(room, "sync_changed", p);
	json_object_put(p);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/*
 * Take add_n seqs and add_bytes to the user's log in one statement, which
 * locks the user's counter row until COMMIT: uploads of one user queue
 * here, so their seqs become visible in commit order.  *last gets the
 * newest seq (the counter as it stands, unlocked, when add_n is 0).
 * Returns DB_OK, DB_REFUSED with *full set when the log would pass
 * [sync] max_user_bytes, or the failure.
 */
static enum db_status
upload_take_seqs(long long user_id, long long add_n, long long add_bytes,
    long long *last, int *full)
{
	struct db_result	*r;
	enum db_status		 st;
	int			 try;

	*full = 0;
	if (add_n == 0) {
		/* Nothing to number (every change was a re-send). */
		if ((st = db_query(&r, "SELECT seq FROM sync_counters WHERE "
		    "user_id = ?", "i", user_id)) != DB_OK)
			return st;
		*last = db_get_int(r, 0, 0);
		db_result_free(r);
		return DB_OK;
	}
	for (try = 0; try < 2; try++) {
		if ((st = db_exec("UPDATE sync_counters SET "
		    "seq = LAST_INSERT_ID(seq + ?), bytes = bytes + ? "
		    "WHERE user_id = ? AND bytes + ? <= ?", "iiiii", add_n,
		    add_bytes, user_id, add_bytes,
		    (long long)config()->sync_max_user_bytes)) != DB_OK)
			return st;
		if (db_affected() == 1) {
			*last = (long long)db_insert_id();
			return DB_OK;
		}
		/* No row yet (the user's first upload), or a full log. */
		if ((st = db_query(&r, "SELECT seq FROM sync_counters WHERE "
		    "user_id = ? FOR UPDATE", "i", user_id)) != DB_OK)
			return st;
		*full = db_rows(r) == 1;
		*last = db_get_int(r, 0, 0);
		db_result_free(r);
		if (*full)
			return DB_REFUSED;
		st = db_exec("INSERT INTO sync_counters (user_id) VALUES (?)",
		    "i", user_id);
		/* A concurrent first upload made the row: start over behind. */
		if (st != DB_OK)
			return st == DB_DUPLICATE ? DB_CONFLICT : st;
	}
	return DB_ERROR;
}

/*
 * The transaction of an upload.  The counter is locked as late as
 * possible, after the rows are applied: a concurrent upload of the same
 * rows waits on their row locks, and so takes its seq after this one.
 */
static enum db_status
upload_tx(void *arg)
{
	struct upload		*u = arg;
	enum db_status		 st;
	long long		 seq, add = 0, from;
	char			*batch;
	size_t			 i, k;

	u->applied = 0;
	u->conflict = 0;
	u->over_quota = 0;
	/* A retry starts over: what was stored may have changed. */
	for (i = 0; i < u->n; i++) {
		u->c[i].state = CHANGE_NEW;
		u->c[i].seq = 0;
	}
	upload_mark_repeats(u);
	if ((st = upload_dedupe_stored(u)) != DB_OK)
		return st;
	for (i = 0; i < u->n; i++)
		if (u->c[i].state == CHANGE_NEW) {
			add += (long long)u->c[i].data_len;
			u->applied++;
		}

	batch = u->applied > 0 ? upload_batch_json(u) : NULL;
	/* Runs of one operation, in upload order. */
	from = 1;
	for (i = 0, k = 0; batch != NULL && i < u->n; i++) {
		size_t	 next;

		if (u->c[i].state != CHANGE_NEW)
			continue;
		k++;
		for (next = i + 1; next < u->n &&
		    u->c[next].state != CHANGE_NEW; next++)
			;
		if (next < u->n && u->c[next].op == u->c[i].op)
			continue;
		if ((st = upload_apply_run(u, batch, u->c[i].op, from,
		    (long long)k)) != DB_OK)
			goto out;
		from = (long long)k + 1;
	}

	if ((st = upload_take_seqs(u->user_id, (long long)u->applied, add,
	    &seq, &u->over_quota)) != DB_OK)
		goto out;
	u->last_seq = seq;
	/* The new changes take the seqs just after the counter before. */
	seq -= (long long)u->applied;
	for (i = 0; i < u->n; i++)
		if (u->c[i].state == CHANGE_NEW)
			u->c[i].seq = ++seq;
	/* A repeat inside the upload answers with the seq of its first. */
	for (i = 0; i < u->n; i++)
		if (u->c[i].state == CHANGE_DUPLICATE && u->c[i].seq == 0)
			u->c[i].seq = u->c[upload_find(u, u->c[i].log_id)].seq;
	if (batch == NULL)
		goto out;
	st = db_exec("INSERT INTO sync_changes (user_id, seq, device_id, "
	    "log_id, table_name, row_id, operation, data, data_bytes, "
	    "client_time, content_hash) SELECT ?, ? + j.k, ?, j.l, j.t, j.r, "
	    "j.o, j.d, j.b, j.c, j.h FROM " SYNC_BATCH, "iiss", u->user_id,
	    u->last_seq - (long long)u->applied, u->device, batch);
	/* The same change, uploaded at once by a second request: again. */
	if (st == DB_DUPLICATE)
		st = DB_CONFLICT;
	if (st != DB_OK)
		goto out;
	st = upload_event(u);
out:
	free(batch);
	return st;
}

/* The answer to an upload: per change its seq and whether it was new. */
static int
upload_reply(struct reply *rep, const struct upload *u, int single)
{
	struct json_object	*o = json_object_new_object(), *list, *x;
	size_t			 i;

	list = json_object_new_array_ext((int)u->n);
	for (i = 0; i < u->n; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "log_id",
		    json_object_new_int64(u->c[i].log_id));
		json_object_object_add(x, "seq",
		    json_object_new_int64(u->c[i].seq));
		json_object_object_add(x, "status", json_object_new_string(
		    u->c[i].state == CHANGE_NEW ? "applied" : "duplicate"));
		if (single) {
			json_object_object_add(o, "log_id",
			    json_object_new_int64(u->c[i].log_id));
			json_object_object_add(o, "seq",
			    json_object_new_int64(u->c[i].seq));
			json_object_object_add(o, "status",
			    json_object_get(json_object_object_get(x,
			    "status")));
		}
		json_object_array_add(list, x);
	}
	json_object_object_add(o, "message", json_object_new_string("OK"));
	json_object_object_add(o, "device_id",
	    json_object_new_string(u->device));
	json_object_object_add(o, "applied",
	    json_object_new_int64((int64_t)u->applied));
	json_object_object_add(o, "duplicates",
	    json_object_new_int64((int64_t)(u->n - u->applied)));
	json_object_object_add(o, "last_seq", json_object_new_int64(u->last_seq));
	json_object_object_add(o, "results", list);
	return reply_json(rep, 200, o);
}

/*
 * The device of an upload: the X-Device-Id header, else the body's
 * device_id, else "default".  Returns 0 or the status of the 400.
 */
static int
upload_device(struct request *req, struct reply *rep, struct json_object *body,
    struct upload *u)
{
	struct json_object	*v;
	const char		*s = request_header(req, "X-Device-Id");
	const char		*field = "X-Device-Id", *why;
	size_t			 len;

	if (s == NULL && json_object_is_type(body, json_type_object) &&
	    json_object_object_get_ex(body, "device_id", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		field = "device_id";
		if (!json_object_is_type(v, json_type_string))
			return reply_invalid(rep, field, "must be a string");
		s = json_object_get_string(v);
	}
	if (s == NULL)
		s = SYNC_DEFAULT_DEVICE;
	len = strlen(s);
	if ((why = sync_valid_device(s, len)) != NULL)
		return reply_invalid(rep, field, why);
	memcpy(u->device, s, len + 1);
	return 0;
}

/*
 * POST /api/sync/changes: one change object (000's save_data payload as
 * is), {"changes": [...]} or a bare array.  200 with each change's seq
 * and status (applied or duplicate); 400 bad change (named by index);
 * 409 a log_id already used for other content (nothing kept); 413 too
 * many changes, a change too large, or the user's log full.
 */
int
sync_upload(struct request *req, struct reply *rep)
{
	struct json_object	*body, *list = NULL, *v;
	struct upload		 u;
	enum db_status		 st;
	const char		*why = NULL;
	size_t			 i;
	int			 rc, single = 0;

	memset(&u, 0, sizeof(u));
	u.user_id = req->auth.user_id;
	if (req->body_len == 0)
		return reply_error(rep, 400, "invalid_json", "Invalid payload");
	if ((body = body_parse(req->body, req->body_len, &why)) == NULL)
		return reply_error(rep, 400, "invalid_json",
		    "Invalid payload: %s", why);
	if (json_object_is_type(body, json_type_array))
		list = body;
	else if (json_object_is_type(body, json_type_object) &&
	    json_object_object_get_ex(body, "changes", &v)) {
		if (!json_object_is_type(v, json_type_array)) {
			rc = reply_invalid(rep, "changes", "must be an array");
			goto out;
		}
		list = v;
	} else if (json_object_is_type(body, json_type_object))
		single = 1;
	else {
		rc = reply_error(rep, 400, "invalid_json", "Invalid payload");
		goto out;
	}
	if ((rc = upload_device(req, rep, body, &u)) != 0)
		goto out;
	u.n = single ? 1 : json_object_array_length(list);
	if (u.n == 0) {
		rc = reply_invalid(rep, "changes", "must not be empty");
		goto out;
	}
	if (u.n > (size_t)config()->sync_max_batch) {
		rc = reply_error(rep, 413, "too_many_changes",
		    "At most %d changes per upload ([sync] max_batch)",
		    config()->sync_max_batch);
		goto out;
	}
	u.c = xcalloc(u.n, sizeof(*u.c));
	for (i = 0; i < u.n; i++)
		if ((rc = change_read(rep, single ? body :
		    json_object_array_get_idx(list, i), i, single,
		    &u.c[i])) != 0)
			goto out;
	if ((u.conflict = upload_dedupe_batch(&u)) == 0) {
		st = db_transaction(upload_tx, &u);
		if (st == DB_OK) {
			rc = upload_reply(rep, &u, single);
			goto out;
		}
		if (st != DB_REFUSED || (u.conflict == 0 && !u.over_quota)) {
			rc = reply_db_error(rep);
			goto out;
		}
	}
	if (u.over_quota)
		rc = reply_error(rep, 413, "sync_quota_exceeded",
		    "The change log is full ([sync] max_user_bytes)");
	else {
		rc = reply_error(rep, 409, "log_id_conflict", "log_id %lld of "
		    "device %s was already uploaded with other content",
		    u.conflict, u.device);
		json_object_object_add(rep->body, "log_id",
		    json_object_new_int64(u.conflict));
	}
out:
	free(u.c);
	free(u.by_log);
	json_object_put(body);
	return rc;
}

/* -------------------------------------------------------------- download */

/* A row id as JSON: an integer when it reads as one, else the text. */
static struct json_object *
row_id_json(const char *s)
{
	long long	 n;

	if (s[0] != '0' && valid_int(s, 1, INT64_MAX, &n) == 0)
		return json_object_new_int64(n);
	if (strcmp(s, "0") == 0)
		return json_object_new_int64(0);
	return json_object_new_string(s);
}

#define CHANGE_COLS	"seq, device_id, log_id, table_name, row_id, " \
	"operation, data, client_time, " SQL_TIME("synced_at")

/* Row i of a CHANGE_COLS result as the change object clients read. */
static struct json_object *
change_json(const struct db_result *r, size_t i)
{
	struct json_object	*o = json_object_new_object(), *data;

	json_object_object_add(o, "seq",
	    json_object_new_int64(db_get_int(r, i, 0)));
	json_object_object_add(o, "log_id",
	    json_object_new_int64(db_get_int(r, i, 2)));
	json_add_string(o, "device_id", db_get(r, i, 1));
	json_add_string(o, "table_name", db_get(r, i, 3));
	json_add_string(o, "operation", db_get(r, i, 5));
	json_object_object_add(o, "row_id", row_id_json(db_get(r, i, 4)));
	if ((data = json_tokener_parse(db_get(r, i, 6))) == NULL)
		data = json_object_new_object();
	json_object_object_add(o, "data", data);
	json_add_string(o, "timestamp", db_get(r, i, 7));
	/* 000's names for the client's and the server's times. */
	json_add_string(o, "change_time", db_get(r, i, 7));
	json_add_string(o, "sync_time", db_get(r, i, 8));
	return o;
}

/* ?offset_id= (0 when absent).  Returns it, or -1 after a 400. */
static long long
download_offset(struct request *req, struct reply *rep, int required)
{
	char		 buf[32];
	long long	 off;
	int		 bad = 0;

	if (required && request_query(req, "offset_id", buf,
	    sizeof(buf)) == NULL) {
		reply_error(rep, 400, "invalid_offset", "Invalid offset_id");
		return -1;
	}
	off = request_query_int(req, "offset_id", 0, 0, INT64_MAX, &bad);
	if (bad) {
		reply_error(rep, 400, "invalid_offset", "Invalid offset_id");
		return -1;
	}
	return off;
}

/*
 * GET /api/sync/changes?offset_id=N&limit=M: the caller's changes with seq
 * above N, oldest first, at most M (100, up to 1000).  200 {"changes",
 * "next_offset", "last_seq", "has_more"}; 400 bad offset or limit.
 */
int
sync_download(struct request *req, struct reply *rep)
{
	struct db_result	*r, *last;
	struct json_object	*o, *list;
	long long		 off, limit, next, top;
	size_t			 i, n;
	int			 bad = 0;

	if ((off = download_offset(req, rep, 0)) == -1)
		return rep->status;
	limit = request_query_int(req, "limit", 100, 1, 1000, &bad);
	if (bad)
		return reply_invalid(rep, "limit",
		    "must be a whole number from 1 to 1000");
	if (db_query(&r, "SELECT " CHANGE_COLS " FROM sync_changes "
	    "WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?", "iii",
	    req->auth.user_id, off, limit) != DB_OK)
		return reply_db_error(rep);
	if (db_query(&last, "SELECT seq FROM sync_counters WHERE user_id = ?",
	    "i", req->auth.user_id) != DB_OK) {
		db_result_free(r);
		return reply_db_error(rep);
	}
	top = db_get_int(last, 0, 0);
	db_result_free(last);
	n = db_rows(r);
	list = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++)
		json_object_array_add(list, change_json(r, i));
	next = n > 0 ? db_get_int(r, n - 1, 0) : off;
	db_result_free(r);
	if (top < next)
		top = next;
	o = json_object_new_object();
	json_object_object_add(o, "changes", list);
	json_object_object_add(o, "next_offset", json_object_new_int64(next));
	json_object_object_add(o, "last_seq", json_object_new_int64(top));
	json_object_object_add(o, "has_more", json_object_new_boolean(
	    next < top));
	return reply_json(rep, 200, o);
}

/*
 * GET /api/sync/changes/next?offset_id=N: the one change after N, as 000's
 * load_data payload.  200 the change; 400 "Invalid offset_id"; 404 "No
 * more changes found." past the end.
 */
int
sync_next(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	struct json_object	*o;
	long long		 off;

	if ((off = download_offset(req, rep, 1)) == -1)
		return rep->status;
	if (db_query(&r, "SELECT " CHANGE_COLS " FROM sync_changes "
	    "WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT 1", "ii",
	    req->auth.user_id, off) != DB_OK)
		return reply_db_error(rep);
	if (db_rows(r) == 0) {
		db_result_free(r);
		return reply_error(rep, 404, "no_more_changes",
		    "No more changes found.");
	}
	o = change_json(r, 0);
	db_result_free(r);
	return reply_json(rep, 200, o);
}

/*
 * GET /api/sync/tables/{table}/rows?after=<row id>&limit=M: the caller's
 * server copy of a table, by row id.  200 {"rows", "next_after"}; 400.
 */
int
sync_rows_list(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	struct json_object	*o, *list, *x, *data;
	const char		*table = request_capture(req, "table"), *why = NULL;
	const char		*after;
	char			 buf[4 * SYNC_NAME_MAX + 1];
	long long		 limit;
	size_t			 i, n;
	int			 bad = 0;

	if (table == NULL ||
	    (why = sync_valid_identifier(table, strlen(table))) != NULL)
		return reply_invalid(rep, "table", why != NULL ? why :
		    "is required");
	if (!sync_table_allowed(table))
		return reply_invalid(rep, "table",
		    "is not a table this server syncs");
	limit = request_query_int(req, "limit", 100, 1, 1000, &bad);
	if (bad)
		return reply_invalid(rep, "limit",
		    "must be a whole number from 1 to 1000");
	after = request_query(req, "after", buf, sizeof(buf));
	if (db_query(&r, "SELECT row_id, data, " SQL_TIME("updated_at")
	    " FROM sync_rows WHERE user_id = ? AND table_name = ? AND "
	    "(? IS NULL OR row_id > ?) ORDER BY row_id LIMIT ?", "isssi",
	    req->auth.user_id, table, after, after, limit) != DB_OK)
		return reply_db_error(rep);
	n = db_rows(r);
	list = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "id", row_id_json(db_get(r, i, 0)));
		if ((data = json_tokener_parse(db_get(r, i, 1))) == NULL)
			data = json_object_new_object();
		json_object_object_add(x, "data", data);
		json_add_string(x, "updated_at", db_get(r, i, 2));
		json_object_array_add(list, x);
	}
	o = json_object_new_object();
	json_object_object_add(o, "rows", list);
	if ((long long)n == limit)
		json_add_string(o, "next_after", db_get(r, n - 1, 0));
	else
		json_add_string(o, "next_after", NULL);
	db_result_free(r);
	return reply_json(rep, 200, o);
}
