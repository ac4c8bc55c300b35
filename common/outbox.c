/*
 * outbox.c -- appending to the events and deliveries tables.
 */
#include <stdio.h>

#include <json-c/json.h>

#include "db.h"
#include "log.h"
#include "outbox.h"
#include "reply.h"

int
outbox_event(const char *room, const char *event,
    struct json_object *payload)
{
	if (!db_in_transaction())
		log_warn("outbox: event %s written outside a transaction",
		    event);
	/*
	 * The counter row serialises the tails of writing transactions, so
	 * seq values become visible in order and the notifier, polling
	 * "seq > last", never skips one.
	 */
	if (db_exec("UPDATE outbox_seq SET n = LAST_INSERT_ID(n + 1) "
	    "WHERE id = 1", "") != DB_OK)
		return -1;
	if (db_exec("INSERT INTO events (seq, room, event, payload) "
	    "VALUES (LAST_INSERT_ID(), ?, ?, ?)", "sss", room, event,
	    json_text(payload)) != DB_OK)
		return -1;
	return 0;
}

int
outbox_delivery(const char *channel, const char *target,
    struct json_object *payload, const char *dedupe_key)
{
	switch (db_exec("INSERT INTO deliveries (channel, target, payload, "
	    "dedupe_key, next_attempt_at) VALUES (?, ?, ?, ?, "
	    "UTC_TIMESTAMP(6))", "ssss", channel, target, json_text(payload),
	    dedupe_key)) {
	case DB_OK:
		return 0;
	case DB_DUPLICATE:
		return 1;
	default:
		return -1;
	}
}

int
outbox_mail(const char *to, const char *subject, const char *text)
{
	struct json_object	*o = json_object_new_object();
	int			 rc;

	json_object_object_add(o, "to", json_object_new_string(to));
	json_object_object_add(o, "subject", json_object_new_string(subject));
	json_object_object_add(o, "text", json_object_new_string(text));
	rc = outbox_delivery("mail", to, o, NULL);
	json_object_put(o);
	return rc;
}

int
outbox_push(long long user_id, const char *title, const char *body,
    struct json_object *data)
{
	struct db_result	*res;
	struct json_object	*o, *ids;
	char			 target[32];
	size_t			 i, n;
	int			 rc;

	if (db_query(&res, "SELECT device_id FROM devices WHERE user_id = ? "
	    "ORDER BY id", "i", user_id) != DB_OK)
		return -1;
	if ((n = db_rows(res)) == 0) {
		db_result_free(res);
		return 1;
	}
	ids = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++)
		json_object_array_add(ids,
		    json_object_new_string(db_get(res, i, 0)));
	db_result_free(res);

	o = json_object_new_object();
	json_object_object_add(o, "device_ids", ids);
	json_object_object_add(o, "title", json_object_new_string(title));
	json_object_object_add(o, "body", json_object_new_string(body));
	json_object_object_add(o, "data", data != NULL ?
	    json_object_get(data) : json_object_new_object());
	snprintf(target, sizeof(target), "user:%lld", user_id);
	rc = outbox_delivery("push", target, o, NULL);
	json_object_put(o);
	return rc == 0 ? 0 : -1;
}
