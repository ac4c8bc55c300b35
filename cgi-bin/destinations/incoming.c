/*
 * incoming.c -- POST /server/incoming_data/: data a sender posts with an
 * account's secret token, queued for every destination of the account.
 *
 * One transaction records the event and one deliveries row per enabled
 * destination (the dispatcher's webhook channel sends them), so the data
 * is either accepted and will be delivered, or refused and nothing was
 * written.  An event id the account has sent before is answered as
 * received and not queued again.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "db.h"
#include "destinations.h"
#include "log.h"
#include "outbox.h"
#include "reply.h"
#include "request.h"

/* incoming_events.event_id is VARCHAR(191) of printable ASCII. */
#define EVENT_ID_MAX	191

/* {"success": ok, "message": message} with status.  Returns status. */
static int
incoming_reply(struct reply *rep, int status, int ok, const char *message)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "success", json_object_new_boolean(ok));
	json_object_object_add(o, "message", json_object_new_string(message));
	return reply_json(rep, status, o);
}

int
webhook_queue(long long event, const char *account, const char *dest,
    long long replay_of, long long *id)
{
	struct json_object	*payload;
	char			 key[128], nonce[17];
	long long		 delivery;
	int			 rc;

	/* A replay is a new delivery by intent: its key never repeats. */
	if (replay_of > 0) {
		random_hex(nonce, 8);
		snprintf(key, sizeof(key), "wh:%lld:%s:%s", event, dest, nonce);
	} else
		snprintf(key, sizeof(key), "wh:%lld:%s", event, dest);
	payload = json_object_new_object();
	json_object_object_add(payload, "event", json_object_new_int64(event));
	rc = outbox_delivery("webhook", dest, payload, key);
	json_object_put(payload);
	if (rc != 0)
		return rc;
	delivery = (long long)db_insert_id();
	if (db_exec("INSERT INTO webhook_deliveries (delivery_id, event_row, "
	    "account_id, destination_id, replay_of) VALUES (?, ?, ?, ?, ?)",
	    "iissn", delivery, event, account, dest,
	    replay_of > 0 ? &replay_of : NULL) != DB_OK)
		return -1;
	if (id != NULL)
		*id = delivery;
	return 0;
}

struct incoming {
	const char	*account;
	const char	*event_id;
	const char	*data;
	int		 duplicate;
	size_t		 queued;
};

static enum db_status
incoming_tx(void *arg)
{
	struct incoming		*in = arg;
	struct db_result	*r;
	enum db_status		 st;
	long long		 event;
	size_t			 i;

	in->duplicate = 0;
	in->queued = 0;
	st = db_exec("INSERT INTO incoming_events (account_id, event_id, "
	    "data) VALUES (?, ?, ?)", "sss", in->account, in->event_id,
	    in->data);
	if (st == DB_DUPLICATE) {
		in->duplicate = 1;
		return DB_REFUSED;
	}
	if (st != DB_OK)
		return st;
	event = (long long)db_insert_id();
	if ((st = db_query(&r, "SELECT id FROM destinations WHERE "
	    "account_id = ? AND disabled_at IS NULL", "s", in->account)) !=
	    DB_OK)
		return st;
	for (i = 0; i < db_rows(r); i++) {
		if (webhook_queue(event, in->account, db_get(r, i, 0), 0,
		    NULL) == -1) {
			db_result_free(r);
			return DB_ERROR;
		}
		in->queued++;
	}
	db_result_free(r);
	return DB_OK;
}

/* Printable ASCII without spaces, 1 to EVENT_ID_MAX long. */
static int
event_id_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return i > 0 && i <= EVENT_ID_MAX;
}

/*
 * POST /server/incoming_data/ and /api/server/incoming_data/ with
 * CL-X-TOKEN and CL-X-EVENT-ID: 200 {"success": true, "message": "Data
 * Received"}; 401 without a header; 404 for an unknown token; 400 when
 * the body is not a JSON object or the event id is unusable.
 */
int
dest_incoming(struct request *req, struct reply *rep)
{
	struct db_result	*r = NULL;
	struct json_object	*data;
	struct incoming		 in;
	const char		*token, *event_id, *why;
	char			 account[UUID_SIZE];
	enum db_status		 st;

	token = request_header(req, "CL-X-TOKEN");
	event_id = request_header(req, "CL-X-EVENT-ID");
	if (token == NULL || *token == '\0' || event_id == NULL ||
	    *event_id == '\0')
		return incoming_reply(rep, 401, 0, "Unauthenticated");
	if (strlen(token) > 64)
		return dest_not_found(rep);
	if (db_query(&r, "SELECT id FROM accounts WHERE app_secret_token = ?",
	    "s", token) != DB_OK)
		return reply_db_error(rep);
	if (db_rows(r) == 0) {
		db_result_free(r);
		return dest_not_found(rep);
	}
	snprintf(account, sizeof(account), "%s", db_get(r, 0, 0));
	db_result_free(r);

	if (!event_id_ok(event_id))
		return incoming_reply(rep, 400, 0, "Invalid Data");
	data = req->body_len > 0 ? body_parse(req->body, req->body_len, &why) :
	    NULL;
	if (data == NULL || !json_object_is_type(data, json_type_object)) {
		json_object_put(data);
		return incoming_reply(rep, 400, 0, "Invalid Data");
	}
	json_object_put(data);

	memset(&in, 0, sizeof(in));
	in.account = account;
	in.event_id = event_id;
	in.data = req->body;
	st = db_transaction(incoming_tx, &in);
	if (st != DB_OK && !in.duplicate)
		return reply_db_error(rep);
	if (in.duplicate)
		log_info("incoming: event already received; not queued again");
	return incoming_reply(rep, 200, 1, "Data Received");
}
