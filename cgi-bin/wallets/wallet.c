/*
 * wallet.c -- wallets: 001's add_wallet, edit_wallet and delete_wallet and
 * fastback's owner-only /api/wallets, one handler per operation.
 *
 * A wallet belongs to the token's user and nobody else: every statement
 * names user_id, and another user's wallet is "not found".  Balances are
 * whole minor units (see schema/200_wallets.sql); a delta is added in SQL,
 * under the row lock, so concurrent deposits never lose one another, and
 * the CHECK constraint refuses an overdraft.  Every change writes a
 * wallet_created, wallet_updated or wallet_deleted event to user:<id>.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "config.h"
#include "db.h"
#include "outbox.h"
#include "password.h"
#include "reply.h"
#include "request.h"
#include "user.h"
#include "valid.h"
#include "wallets.h"

#define WALLET_COLS	"id, user_id, balance, currency, wallet_type, " \
	"description, status, version, " SQL_TIME("created_at") ", " \
	SQL_TIME("updated_at")

/* The fields a wallet is made or changed with; index names below. */
enum {
	F_BALANCE, F_CURRENCY, F_TYPE, F_DESCRIPTION, F_STATUS, F_DELTA,
	F_VERSION, F_WALLET_ID, F__MAX
};

static const struct field wallet_fields[F__MAX] = {
	[F_BALANCE] = { "balance", FIELD_ANY, 0, 0, 0, NULL },
	[F_CURRENCY] = { "currency", FIELD_STRING, FIELD_TRIM, 0, 0, NULL },
	[F_TYPE] = { "wallet_type", FIELD_STRING, FIELD_TRIM, 0, 64,
	    valid_text },
	[F_DESCRIPTION] = { "description", FIELD_STRING, FIELD_EMPTY_OK, 0,
	    500, valid_text },
	[F_STATUS] = { "status", FIELD_STRING, FIELD_TRIM, 0, 32, valid_text },
	[F_DELTA] = { "balance_delta", FIELD_ANY, 0, 0, 0, NULL },
	[F_VERSION] = { "version", FIELD_INT, 0, 1, INT64_MAX, NULL },
	[F_WALLET_ID] = { "wallet_id", FIELD_ANY, 0, 0, 0, NULL },
};

/* What a create or an update carries, read and checked. */
struct wallet_input {
	long long	 user_id;
	long long	 id;
	const long long	*balance;	/* NULL: not sent */
	long long	 balance_v;
	long long	 delta;
	const long long	*version;	/* NULL: no precondition */
	long long	 version_v;
	const char	*currency;	/* static, upper case; NULL: not sent */
	const char	*type, *description, *status;
	int		 limit_hit;
	int		 not_found;
	int		 version_mismatch;
	struct json_object *wallet;	/* the result, owned */
};

/* The value of a JSON integer in [min, max] into *out.  Returns 0 or -1. */
static int
json_int_in(struct json_object *o, long long min, long long max,
    long long *out)
{
	int64_t	 v;

	if (o == NULL || !json_object_is_type(o, json_type_int))
		return -1;
	v = json_object_get_int64(o);
	/* json-c saturates past int64: such a value is out of range. */
	if ((v == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX)
	    || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A wallet id sent as a JSON integer or a string of digits; -1 if not. */
static long long
json_id(struct json_object *o)
{
	long long	 id;

	if (o == NULL)
		return -1;
	if (json_object_is_type(o, json_type_string)) {
		if (valid_int(json_object_get_string(o), 1, INT64_MAX,
		    &id) == -1)
			return -1;
		return id;
	}
	return json_int_in(o, 1, INT64_MAX, &id) == 0 ? id : -1;
}

/*
 * The minor units of a balance as a decimal string ("1000" in USD is
 * "10.00") into buf.  Exact: integer arithmetic only.
 */
static const char *
balance_decimal(long long minor_units, int digits, char *buf, size_t n)
{
	long long	 scale = 1;
	int		 i;

	for (i = 0; i < digits; i++)
		scale *= 10;
	if (digits == 0)
		snprintf(buf, n, "%lld", minor_units);
	else
		snprintf(buf, n, "%lld.%0*lld", minor_units / scale, digits,
		    minor_units % scale);
	return buf;
}

/* Row i of a WALLET_COLS result as a new JSON object. */
static struct json_object *
wallet_json(const struct db_result *r, size_t i)
{
	struct json_object	*o = json_object_new_object();
	const char		*cur = db_get(r, i, 3);
	char			 dec[48];
	int			 minor;

	json_object_object_add(o, "id",
	    json_object_new_int64(db_get_int(r, i, 0)));
	json_object_object_add(o, "user_id",
	    json_object_new_int64(db_get_int(r, i, 1)));
	json_object_object_add(o, "balance",
	    json_object_new_int64(db_get_int(r, i, 2)));
	if (cur != NULL && currency_find(cur, strlen(cur), &minor) != NULL)
		json_add_string(o, "balance_decimal", balance_decimal(
		    db_get_int(r, i, 2), minor, dec, sizeof(dec)));
	else
		json_add_string(o, "balance_decimal", NULL);
	json_add_string(o, "currency", cur);
	json_add_string(o, "wallet_type", db_get(r, i, 4));
	json_add_string(o, "description", db_get(r, i, 5));
	json_add_string(o, "status", db_get(r, i, 6));
	json_object_object_add(o, "version",
	    json_object_new_int64(db_get_int(r, i, 7)));
	json_add_string(o, "created_at", db_get(r, i, 8));
	json_add_string(o, "updated_at", db_get(r, i, 9));
	/* 001's column name for the same time. */
	json_add_string(o, "last_updated_at", db_get(r, i, 9));
	return o;
}

/*
 * Load wallet id of user_id into *out (a new object).  Returns DB_OK,
 * DB_REFUSED when there is no such wallet of that user, or the failure.
 */
static enum db_status
wallet_load(long long user_id, long long id, struct json_object **out)
{
	struct db_result	*r;
	enum db_status		 st;

	*out = NULL;
	if ((st = db_query(&r, "SELECT " WALLET_COLS " FROM wallets "
	    "WHERE id = ? AND user_id = ?", "ii", id, user_id)) != DB_OK)
		return st;
	if (db_rows(r) == 1)
		*out = wallet_json(r, 0);
	db_result_free(r);
	return *out != NULL ? DB_OK : DB_REFUSED;
}

/* ETag: "<version>" of a wallet object. */
static void
wallet_etag(struct reply *rep, struct json_object *w)
{
	struct json_object	*v;
	char			 tag[32];

	if (!json_object_object_get_ex(w, "version", &v))
		return;
	snprintf(tag, sizeof(tag), "\"%" PRId64 "\"", json_object_get_int64(v));
	reply_header(rep, "ETag", tag);
}

/* Announce a change of the wallet w to its owner's devices. */
static enum db_status
wallet_event(long long user_id, const char *event, struct json_object *w)
{
	struct json_object	*p = json_object_new_object();
	char			 room[32];
	int			 rc;

	json_object_object_add(p, "wallet", json_object_get(w));
	snprintf(room, sizeof(room), "user:%lld", user_id);
	rc = outbox_event(room, event, p);
	json_object_put(p);
	return rc == 0 ? DB_OK : DB_ERROR;
}

/*
 * Read the balance, currency and text fields into in.  Returns 0, or the
 * status of the 400 written (001 has its own words for the first two).
 */
static int
wallet_read(struct reply *rep, struct field_value *v, struct wallet_input *in)
{
	int	 minor;

	if (v[F_BALANCE].present) {
		if (json_int_in(v[F_BALANCE].o, 0, WALLET_BALANCE_MAX,
		    &in->balance_v) == -1)
			return rep->dialect == DIALECT_001 ?
			    reply_error(rep, 400, "invalid_balance",
			    "Invalid balance provided!") :
			    reply_invalid(rep, "balance", "must be a whole "
			    "number of minor units from 0 to 10^15");
		in->balance = &in->balance_v;
	}
	if (v[F_DELTA].present) {
		if (json_int_in(v[F_DELTA].o, -WALLET_BALANCE_MAX,
		    WALLET_BALANCE_MAX, &in->delta) == -1)
			return reply_invalid(rep, "balance_delta", "must be a "
			    "whole number of minor units from -10^15 to 10^15");
		if (in->balance != NULL)
			return reply_invalid(rep, "balance_delta",
			    "cannot be sent with balance");
	}
	if (v[F_CURRENCY].present &&
	    (in->currency = currency_find(v[F_CURRENCY].s, v[F_CURRENCY].len,
	    &minor)) == NULL)
		return rep->dialect == DIALECT_001 ?
		    reply_error(rep, 400, "invalid_currency",
		    "Invalid currency provided!") :
		    reply_invalid(rep, "currency",
		    "is not an ISO 4217 currency code");
	if (v[F_TYPE].present)
		in->type = v[F_TYPE].s;
	if (v[F_DESCRIPTION].present)
		in->description = v[F_DESCRIPTION].s;
	if (v[F_STATUS].present)
		in->status = v[F_STATUS].s;
	if (v[F_VERSION].present) {
		in->version_v = v[F_VERSION].i;
		in->version = &in->version_v;
	}
	return 0;
}

/* The transaction of a create: the per-user limit, the row, the event. */
static enum db_status
create_tx(void *arg)
{
	struct wallet_input	*in = arg;
	enum db_status		 st;

	json_object_put(in->wallet);
	in->wallet = NULL;
	/* Lock the owner, so two creates cannot both pass the limit. */
	if ((st = db_exec("SELECT id FROM users WHERE id = ? FOR UPDATE",
	    "i", in->user_id)) != DB_OK)
		return st;
	{
		struct db_result	*r;

		if ((st = db_query(&r, "SELECT COUNT(*) FROM wallets "
		    "WHERE user_id = ?", "i", in->user_id)) != DB_OK)
			return st;
		in->limit_hit = db_get_int(r, 0, 0) >=
		    config()->wallets_max_per_user;
		db_result_free(r);
		if (in->limit_hit)
			return DB_REFUSED;
	}
	{
		struct db_result	*r;

		if ((st = db_query(&r, "INSERT INTO wallets (user_id, balance, "
		    "currency, wallet_type, description, status) VALUES "
		    "(?, ?, ?, ?, ?, ?) RETURNING " WALLET_COLS, "iissss",
		    in->user_id, in->balance != NULL ? *in->balance : 0,
		    in->currency, in->type, in->description,
		    in->status)) != DB_OK)
			return st;
		if (db_rows(r) == 1)
			in->wallet = wallet_json(r, 0);
		db_result_free(r);
		if (in->wallet == NULL)
			return DB_ERROR;
	}
	return wallet_event(in->user_id, "wallet_created", in->wallet);
}

/*
 * POST /add_wallet (001), POST /api/wallets: a new wallet of the caller.
 * 001: balance required; 200 {"message", "wallet"} (DECISIONS #9).
 * fastback: currency required, balance 0 by default; 201 {"wallet"}.
 * 400 bad fields, 409 wallet limit.
 */
int
wallets_create(struct request *req, struct reply *rep)
{
	struct field_value	 v[F__MAX];
	struct wallet_input	 in;
	struct json_object	*o;
	enum db_status		 st;
	int			 rc;

	memset(&in, 0, sizeof(in));
	in.user_id = req->auth.user_id;
	if ((rc = body_fields(req, rep, wallet_fields, F__MAX, v)) != 0)
		return rc;
	if (rep->dialect == DIALECT_001 && !v[F_BALANCE].present) {
		rc = reply_error(rep, 400, "invalid_balance",
		    "Invalid balance provided!");
		goto out;
	}
	if (rep->dialect != DIALECT_001 && !v[F_CURRENCY].present) {
		rc = reply_invalid(rep, "currency", "is required");
		goto out;
	}
	if ((rc = wallet_read(rep, v, &in)) != 0)
		goto out;
	if (v[F_DELTA].present) {
		rc = reply_invalid(rep, "balance_delta",
		    "only changes an existing wallet");
		goto out;
	}
	st = db_transaction(create_tx, &in);
	if (st == DB_REFUSED && in.limit_hit)
		rc = reply_error(rep, 409, "wallet_limit", rep->dialect ==
		    DIALECT_001 ? "Wallet limit reached!" :
		    "A user may have at most %d wallets",
		    config()->wallets_max_per_user);
	else if (st != DB_OK)
		rc = reply_db_error(rep);
	else {
		wallet_etag(rep, in.wallet);
		o = json_object_new_object();
		if (rep->dialect == DIALECT_001)
			json_object_object_add(o, "message",
			    json_object_new_string(
			    "Wallet added successfully!"));
		json_object_object_add(o, "wallet", in.wallet);
		in.wallet = NULL;
		rc = reply_json(rep, rep->dialect == DIALECT_001 ? 200 : 201,
		    o);
	}
out:
	json_object_put(in.wallet);
	body_values_free(v, F__MAX);
	return rc;
}

/*
 * GET /api/wallets: the caller's wallets, newest first, ?limit= (100, at
 * most 1000) and ?before=<id>.  200 {"wallets", "next_before"}.
 */
int
wallets_list(struct request *req, struct reply *rep)
{
	struct db_result	*r;
	struct json_object	*o, *list;
	struct page		 page;
	size_t			 i, n;
	int			 rc;

	if ((rc = request_page(req, rep, 100, 1000, &page)) != 0)
		return rc;
	if (db_query(&r, "SELECT " WALLET_COLS " FROM wallets WHERE "
	    "user_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?",
	    "iiii", req->auth.user_id, page.before, page.before,
	    page.limit) != DB_OK)
		return reply_db_error(rep);
	n = db_rows(r);
	list = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++)
		json_object_array_add(list, wallet_json(r, i));
	o = json_object_new_object();
	json_object_object_add(o, "wallets", list);
	json_object_object_add(o, "next_before", (long long)n == page.limit ?
	    json_object_new_int64(db_get_int(r, n - 1, 0)) : NULL);
	db_result_free(r);
	return reply_json(rep, 200, o);
}

/* 404 in the route's words. */
static int
wallet_not_found(struct reply *rep)
{
	return reply_error(rep, 404, "wallet_not_found",
	    rep->dialect == DIALECT_001 ? "Wallet not found!" :
	    "Wallet not found");
}

/* GET /api/wallets/{id}: 200 {"wallet"} with an ETag; 404. */
int
wallets_get(struct request *req, struct reply *rep)
{
	struct json_object	*w, *o;
	long long		 id;

	if ((id = request_capture_id(req, "id")) == -1)
		return wallet_not_found(rep);
	switch (wallet_load(req->auth.user_id, id, &w)) {
	case DB_OK:
		break;
	case DB_REFUSED:
		return wallet_not_found(rep);
	default:
		return reply_db_error(rep);
	}
	wallet_etag(rep, w);
	o = json_object_new_object();
	json_object_object_add(o, "wallet", w);
	return reply_json(rep, 200, o);
}

/*
 * The wallet a 001 call acts on: the body's wallet_id, else the caller's
 * only wallet.  Returns 0 with *id set, or the status of the error.
 */
static int
wallet_pick(struct request *req, struct reply *rep, struct json_object *sent,
    long long *id)
{
	struct db_result	*r;
	size_t			 n;

	if (sent != NULL) {
		if ((*id = json_id(sent)) == -1)
			return reply_invalid(rep, "wallet_id",
			    "must be a positive integer");
		return 0;
	}
	if (db_query(&r, "SELECT id FROM wallets WHERE user_id = ? "
	    "ORDER BY id LIMIT 2", "i", req->auth.user_id) != DB_OK)
		return reply_db_error(rep);
	n = db_rows(r);
	*id = db_get_int(r, 0, 0);
	db_result_free(r);
	if (n == 0)
		return wallet_not_found(rep);
	if (n > 1)
		return reply_error(rep, 400, "wallet_id_required",
		    "You have several wallets: send wallet_id to choose one!");
	return 0;
}

/*
 * The expected version from If-Match ("3", W/"3"; "*" means any) into
 * in.  Returns 0 or the status of the 400 written.
 */
static int
wallet_if_match(struct request *req, struct reply *rep,
    struct wallet_input *in)
{
	const char	*h = request_header(req, "If-Match");
	char		 buf[32];
	size_t		 len;

	if (h == NULL || strcmp(h, "*") == 0)
		return 0;
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	len = strlen(h);
	if (len >= 2 && h[0] == '"' && h[len - 1] == '"') {
		h++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, h, len);
	buf[len] = '\0';
	if (valid_int(buf, 1, INT64_MAX, &in->version_v) == -1)
		goto bad;
	in->version = &in->version_v;
	return 0;
bad:
	return reply_error(rep, 400, "invalid_if_match",
	    "If-Match must be a wallet version, e.g. \"3\"");
}

/* The transaction of an update: one UPDATE, then the row and its event. */
static enum db_status
update_tx(void *arg)
{
	struct wallet_input	*in = arg;
	struct db_result	*r;
	enum db_status		 st;

	json_object_put(in->wallet);
	in->wallet = NULL;
	in->not_found = in->version_mismatch = 0;
	/* The delta is added here, under the row lock: no lost update. */
	if ((st = db_exec("UPDATE wallets SET "
	    "balance = COALESCE(?, balance + ?), "
	    "currency = COALESCE(?, currency), "
	    "wallet_type = COALESCE(?, wallet_type), "
	    "description = COALESCE(?, description), "
	    "status = COALESCE(?, status), "
	    "version = version + 1, updated_at = UTC_TIMESTAMP(6) "
	    "WHERE id = ? AND user_id = ? AND (? IS NULL OR version = ?)",
	    "nissssiinn", in->balance, in->delta, in->currency, in->type,
	    in->description, in->status, in->id, in->user_id, in->version,
	    in->version)) != DB_OK)
		return st;
	if (db_affected() == 0) {
		if ((st = db_query(&r, "SELECT version FROM wallets "
		    "WHERE id = ? AND user_id = ?", "ii", in->id,
		    in->user_id)) != DB_OK)
			return st;
		if (db_rows(r) == 0)
			in->not_found = 1;
		else
			in->version_mismatch = 1;
		db_result_free(r);
		return DB_REFUSED;
	}
	if ((st = wallet_load(in->user_id, in->id, &in->wallet)) != DB_OK)
		return st == DB_REFUSED ? DB_ERROR : st;
	return wallet_event(in->user_id, "wallet_updated", in->wallet);
}

/*
 * POST /edit_wallet (001), PATCH /api/wallets/{id}: change only the fields
 * sent.  balance sets, balance_delta adds (in SQL), version or If-Match
 * makes it conditional.  200 {"wallet"} (001 adds "message"); 400; 404;
 * 409 when the balance would leave 0..10^15; 412 on a version mismatch.
 */
int
wallets_update(struct request *req, struct reply *rep)
{
	struct field_value	 v[F__MAX];
	struct wallet_input	 in;
	struct json_object	*o;
	enum db_status		 st;
	int			 rc, legacy = rep->dialect == DIALECT_001;

	memset(&in, 0, sizeof(in));
	in.user_id = req->auth.user_id;
	if ((rc = body_fields(req, rep, wallet_fields, F__MAX, v)) != 0)
		return rc;
	if ((rc = wallet_read(rep, v, &in)) != 0)
		goto out;
	if (in.balance == NULL && !v[F_DELTA].present && in.currency == NULL &&
	    in.type == NULL && in.description == NULL && in.status == NULL) {
		rc = reply_error(rep, 400, "no_changes", legacy ?
		    "No new information provided!" :
		    "Send at least one field to change");
		goto out;
	}
	if (in.version == NULL && (rc = wallet_if_match(req, rep, &in)) != 0)
		goto out;
	if (legacy) {
		if ((rc = wallet_pick(req, rep, v[F_WALLET_ID].present ?
		    v[F_WALLET_ID].o : NULL, &in.id)) != 0)
			goto out;
	} else if ((in.id = request_capture_id(req, "id")) == -1) {
		rc = wallet_not_found(rep);
		goto out;
	}
	st = db_transaction(update_tx, &in);
	if (st == DB_REFUSED && in.not_found)
		rc = legacy ? reply_error(rep, 404, "wallet_not_found",
		    "Wallet not found or you do not have permission to edit "
		    "it!") : wallet_not_found(rep);
	else if (st == DB_REFUSED && in.version_mismatch)
		rc = reply_error(rep, 412, "version_mismatch",
		    "The wallet changed since that version; read it again");
	else if (st == DB_REFUSED)
		rc = reply_error(rep, 409, "insufficient_funds",
		    "The balance would leave the range 0 to 10^15");
	else if (st != DB_OK)
		rc = reply_db_error(rep);
	else {
		wallet_etag(rep, in.wallet);
		o = json_object_new_object();
		if (legacy)
			json_object_object_add(o, "message",
			    json_object_new_string(
			    "Wallet updated successfully!"));
		json_object_object_add(o, "wallet", in.wallet);
		in.wallet = NULL;
		rc = reply_json(rep, 200, o);
	}
out:
	json_object_put(in.wallet);
	body_values_free(v, F__MAX);
	return rc;
}

/* The transaction of a delete: the row, then its event. */
static enum db_status
delete_tx(void *arg)
{
	struct wallet_input	*in = arg;
	struct db_result	*r;
	enum db_status		 st;

	json_object_put(in->wallet);
	in->wallet = NULL;
	if ((st = db_query(&r, "DELETE FROM wallets WHERE id = ? AND "
	    "user_id = ? RETURNING " WALLET_COLS, "ii", in->id,
	    in->user_id)) != DB_OK)
		return st;
	if (db_rows(r) == 1)
		in->wallet = wallet_json(r, 0);
	db_result_free(r);
	if ((in->not_found = in->wallet == NULL))
		return DB_REFUSED;
	return wallet_event(in->user_id, "wallet_deleted", in->wallet);
}

/*
 * 001's delete_wallet proves the caller with a password (and the original
 * took the user from a body "username"): the password must be the
 * caller's, and a username may only name the caller.  Returns 0 or the
 * status of the 401/403 written.
 */
static int
delete_check_password(struct request *req, struct reply *rep)
{
	static const struct field f[] = {
		{ "password", FIELD_STRING, FIELD_EMPTY_OK, 0, 0, NULL },
		{ "username", FIELD_STRING, FIELD_TRIM, 0, 0, NULL },
	};
	struct field_value	 v[nitems(f)];
	struct user		 u;
	const char		*name;
	int			 rc, ok;

	if ((rc = body_fields(req, rep, f, nitems(f), v)) != 0)
		return rc;
	name = v[1].present ? v[1].s : NULL;
	if (name != NULL && (req->auth.username == NULL ||
	    strcmp(name, req->auth.username) != 0) &&
	    (req->auth.email == NULL || strcasecmp(name, req->auth.email) != 0)) {
		rc = reply_error(rep, 403, "not_your_wallet",
		    "You can only delete your own wallets!");
		goto out;
	}
	if (!v[0].present || v[0].len > PASSWORD_MAX_LENGTH) {
		rc = reply_error(rep, 401, "authentication_failed",
		    "Authentication failed!");
		goto out;
	}
	switch (user_find_by_id(req->auth.user_id, &u)) {
	case 1:
		break;
	case 0:
		rc = reply_error(rep, 401, "authentication_failed",
		    "Authentication failed!");
		goto out;
	default:
		rc = reply_db_error(rep);
		goto out;
	}
	ok = u.password_hash != NULL &&
	    password_verify(u.password_hash, v[0].s, v[0].len);
	user_free(&u);
	rc = ok ? 0 : reply_error(rep, 401, "authentication_failed",
	    "Authentication failed!");
out:
	body_values_free(v, nitems(f));
	return rc;
}

/*
 * POST /delete_wallet (001): the caller's password, then the chosen (or
 * only) wallet.  200 {"message"}; 400 several wallets and no wallet_id;
 * 401 wrong password; 403 another username; 404.
 * DELETE /api/wallets/{id}: 200 {"message", "wallet"} (as it was); 404.
 */
int
wallets_delete(struct request *req, struct reply *rep)
{
	struct wallet_input	 in;
	struct json_object	*sent = NULL, *o;
	enum db_status		 st;
	int			 rc;

	memset(&in, 0, sizeof(in));
	in.user_id = req->auth.user_id;
	if (rep->dialect == DIALECT_001) {
		if ((rc = delete_check_password(req, rep)) != 0)
			return rc;
		(void)json_object_object_get_ex(req->json, "wallet_id", &sent);
		if (json_object_is_type(sent, json_type_null))
			sent = NULL;
		if ((rc = wallet_pick(req, rep, sent, &in.id)) != 0)
			return rc;
	} else if ((in.id = request_capture_id(req, "id")) == -1)
		return wallet_not_found(rep);
	st = db_transaction(delete_tx, &in);
	if (st == DB_REFUSED && in.not_found)
		rc = wallet_not_found(rep);
	else if (st != DB_OK)
		rc = reply_db_error(rep);
	else {
		o = json_object_new_object();
		json_object_object_add(o, "message", json_object_new_string(
		    rep->dialect == DIALECT_001 ?
		    "Wallet deleted successfully!" : "Wallet deleted"));
		json_object_object_add(o, "wallet", in.wallet);
		in.wallet = NULL;
		rc = reply_json(rep, 200, o);
	}
	json_object_put(in.wallet);
	return rc;
}
