/*
 * seed000.c -- seed 000's Socket.IO events: save_data and load_data, the
 * sync upload and the walk of the change log, answered by acknowledgement
 * as the seed's server did.
 *
 * save_data: a change (a JSON string, or the object itself) -> POST
 * /api/sync/changes; ack {"message": "OK"} or {"error": "..."}.
 * load_data {"offset_id": N} -> GET /api/sync/changes/next; the change is
 * emitted as `payload` and the ack is "OK"; past the end the ack is
 * {"error": "No more changes found."}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "bridge.h"
#include "client.h"
#include "reply.h"
#include "sio.h"

/* Ack {"error": message}. */
static void
ack_error(struct client *c, int64_t ack, const char *message)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(message));
	sio_ack(c, ack, json_text(o));
	json_object_put(o);
}

/*
 * The seed's clients send the payload as a JSON string; fastback also
 * takes the object.  Returns a new reference, or NULL.
 */
static struct json_object *
payload_object(struct json_object *arg)
{
	struct json_object	*o;

	if (arg == NULL)
		return NULL;
	if (json_object_is_type(arg, json_type_string)) {
		o = json_tokener_parse(json_object_get_string(arg));
		if (o != NULL && !json_object_is_type(o, json_type_object) &&
		    !json_object_is_type(o, json_type_array)) {
			json_object_put(o);
			return NULL;
		}
		return o;
	}
	if (json_object_is_type(arg, json_type_object) ||
	    json_object_is_type(arg, json_type_array))
		return json_object_get(arg);
	return NULL;
}

static void
save_done(struct client *c, const struct bridge_reply *r, int64_t ack,
    int64_t arg)
{
	struct json_object	*h;
	const char		*msg;

	if (r->status == 200) {
		sio_ack(c, ack, "{\"message\":\"OK\"}");
		return;
	}
	msg = client_reply_message(r, &h, "Internal Server Error");
	ack_error(c, ack, msg);
	json_object_put(h);
}

static void
on_save_data(struct client *c, struct json_object *arg, int64_t ack)
{
	struct json_object	*o;
	const char		*body;

	if ((o = payload_object(arg)) == NULL) {
		ack_error(c, ack, "Invalid payload");
		return;
	}
	body = json_text(o);
	client_call(c, "POST", "/api/sync/changes", body, strlen(body),
	    save_done, ack, 0);
	json_object_put(o);
}

static void
load_done(struct client *c, const struct bridge_reply *r, int64_t ack,
    int64_t arg)
{
	struct json_object	*h;
	const char		*msg;

	if (r->status == 200) {
		sio_emit(c, "payload", r->body);
		sio_ack(c, ack, "\"OK\"");
		return;
	}
	msg = client_reply_message(r, &h, "Internal Server Error");
	ack_error(c, ack, msg);
	json_object_put(h);
}

static void
on_load_data(struct client *c, struct json_object *arg, int64_t ack)
{
	struct json_object	*o, *v;
	char			 path[80];
	int64_t			 off;

	if ((o = payload_object(arg)) == NULL) {
		ack_error(c, ack, "Invalid payload");
		return;
	}
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "offset_id", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (off = json_object_get_int64(v)) < 0) {
		json_object_put(o);
		ack_error(c, ack, "Invalid offset_id");
		return;
	}
	json_object_put(o);
	snprintf(path, sizeof(path), "/api/sync/changes/next?offset_id=%lld",
	    (long long)off);
	client_call(c, "GET", path, NULL, 0, load_done, ack, 0);
}

const struct sio_handler seed000_handlers[] = {
	{ "save_data", on_save_data },
	{ "load_data", on_load_data },
	{ NULL, NULL }
};
