/*
 * push.c -- the dispatcher's push channel: a push notification for the
 * devices of one user, POSTed as JSON to the configured gateway.
 *
 * outbox_push() queues a row with target "user:<id>" and the payload
 * {"device_ids", "title", "body", "data"}.  At send time the device list
 * is narrowed to the devices still registered to that user (a device
 * moved to someone else, or an account deleted since, must not get the
 * old owner's notification), and the gateway receives the same four
 * fields.  A 2xx is delivered; a 5xx, 408, 429, a timeout or a refused
 * connection is retried with the dispatcher's backoff; any other answer
 * is final.  Without [push] gateway_url, or with no device left, the try
 * is recorded as delivered without sending, with the reason put in the
 * payload's "skipped" member, so nothing waits for a gateway forever.
 *
 * The gateway URL comes from the operator's configuration, not from
 * users, so it is not held to the private-address rule of webhooks.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "alloc.h"
#include "channel.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "queue.h"
#include "valid.h"

/* A payload larger than this is refused (titles and bodies are short). */
#define PUSH_PAYLOAD_MAX	(256 * 1024)

/* One try: the body posted and the request's headers. */
struct push_try {
	char			*body;
	struct curl_slist	*headers;
};

static char	*push_auth_header;	/* "Authorization: ..." or NULL */

/* The user id of a target "user:<id>", or -1. */
static long long
push_user(const char *target)
{
	long long	 id;

	if (strncmp(target, "user:", 5) != 0 ||
	    valid_int(target + 5, 1, 9223372036854775807LL, &id) == -1)
		return -1;
	return id;
}

/* Member key of obj if it has type t, else NULL. */
static struct json_object *
push_member(struct json_object *obj, const char *key, enum json_type t)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

/*
 * Parse d's payload into a new object whose members have the types the
 * gateway expects.  Returns it, or NULL with d->error set.
 */
static struct json_object *
push_parse(struct delivery *d)
{
	struct json_tokener	*tok;
	struct json_object	*o, *ids;
	size_t			 len = strlen(d->payload), i;

	if (len > PUSH_PAYLOAD_MAX) {
		delivery_error(d, "payload: larger than %d bytes",
		    PUSH_PAYLOAD_MAX);
		return NULL;
	}
	if ((tok = json_tokener_new_ex(16)) == NULL) {
		delivery_error(d, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, d->payload, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		json_tokener_free(tok);
		json_object_put(o);
		delivery_error(d, "payload: not a JSON object");
		return NULL;
	}
	json_tokener_free(tok);
	ids = push_member(o, "device_ids", json_type_array);
	for (i = 0; ids != NULL && i < json_object_array_length(ids); i++)
		if (!json_object_is_type(json_object_array_get_idx(ids, i),
		    json_type_string))
			ids = NULL;
	if (ids == NULL || push_member(o, "title", json_type_string) == NULL ||
	    push_member(o, "body", json_type_string) == NULL) {
		json_object_put(o);
		delivery_error(d, "payload: device_ids (strings), title and "
		    "body are required");
		return NULL;
	}
	if (push_member(o, "data", json_type_object) == NULL)
		json_object_object_add(o, "data", json_object_new_object());
	return o;
}

/*
 * Replace the payload's device_ids by those still registered to the
 * target user.  Returns how many are left, or -1 with d->error set.
 */
static int
push_devices(struct delivery *d, struct json_object *o)
{
	struct json_object	*ids, *left;
	struct db_result	*r;
	long long		 user;
	size_t			 i, n;

	if ((user = push_user(d->target)) == -1) {
		delivery_error(d, "target: not user:<id>");
		return -1;
	}
	ids = push_member(o, "device_ids", json_type_array);
	if (db_query(&r, "SELECT device_id FROM devices WHERE user_id = ? "
	    "AND JSON_CONTAINS(?, JSON_QUOTE(device_id)) ORDER BY id", "is",
	    user, json_object_to_json_string_ext(ids,
	    JSON_C_TO_STRING_PLAIN)) != DB_OK) {
		delivery_error(d, "devices: %s", db_error());
		return -1;
	}
	n = db_rows(r);
	left = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++)
		json_object_array_add(left,
		    json_object_new_string(db_get(r, i, 0)));
	db_result_free(r);
	json_object_object_add(o, "device_ids", left);
	return (int)n;
}

/*
 * Record why a push was not sent, in the payload's "skipped" member (the
 * delivered state keeps no error text).  Best effort: the try is recorded
 * either way.
 */
static void
push_skip(struct delivery *d, const char *why)
{
	log_info("delivery id=%llu: push not sent: %s", d->id, why);
	if (db_exec("UPDATE deliveries SET payload = JSON_SET(payload, "
	    "'$.skipped', ?) WHERE id = ? AND locked_by = ?", "sis", why,
	    (long long)d->id, queue_owner()) != DB_OK)
		log_warn("delivery id=%llu: cannot note the skip: %s", d->id,
		    db_error());
}

/* libcurl's CURLOPT_WRITEFUNCTION: the gateway's answer is not kept. */
static size_t
push_discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* Set up easy to post t.  Returns 0 or -1 with d->error set. */
static int
push_request(struct delivery *d, CURL *easy, struct push_try *t)
{
	const struct config	*cf = config();
	int			 bad = 0;

	t->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (t->headers != NULL && push_auth_header != NULL)
		t->headers = curl_slist_append(t->headers, push_auth_header);
	if (t->headers == NULL) {
		delivery_error(d, "out of memory");
		return -1;
	}
	bad |= curl_easy_setopt(easy, CURLOPT_URL,
	    cf->push_gateway_url) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR,
	    "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER,
	    t->headers) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->body) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(t->body)) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_USERAGENT,
	    "fastback-dispatcher") != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
	    push_discard) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_TIMEOUT,
	    (long)cf->push_timeout) != CURLE_OK;
	if (bad) {
		delivery_error(d, "libcurl refused an HTTP option");
		return -1;
	}
	return 0;
}

static enum outcome
push_prepare(struct delivery *d, CURL *easy)
{
	struct json_object	*o;
	struct push_try		*t;
	enum outcome		 out = OUTCOME_FAILED;
	int			 n;

	t = xcalloc(1, sizeof(*t));
	d->priv = t;
	if ((o = push_parse(d)) == NULL)
		return OUTCOME_FAILED;
	if ((n = push_devices(d, o)) == -1) {
		/* A bad target is final; a database error is not. */
		out = strncmp(d->error, "devices:", 8) == 0 ? OUTCOME_RETRY :
		    OUTCOME_FAILED;
		goto out;
	}
	if (n == 0) {
		push_skip(d, "no device of the user is registered now");
		out = OUTCOME_DELIVERED;
		goto out;
	}
	if (config()->push_gateway_url[0] == '\0') {
		push_skip(d, "no [push] gateway_url is configured");
		out = OUTCOME_DELIVERED;
		goto out;
	}
	t->body = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	out = push_request(d, easy, t) == -1 ? OUTCOME_RETRY :
	    OUTCOME_TRANSFER;
out:
	json_object_put(o);
	return out;
}

/*
 * 2xx: delivered.  A server error, 408, 429 or no answer at all may pass:
 * retry.  Any other answer says the request itself is refused: final.
 */
static enum outcome
push_classify(struct delivery *d, CURL *easy, CURLcode rc)
{
	(void)easy;
	if (rc != CURLE_OK)
		return OUTCOME_RETRY;
	if (d->status >= 200 && d->status <= 299)
		return OUTCOME_DELIVERED;
	delivery_error(d, "the gateway answered %ld", d->status);
	if (d->status >= 500 || d->status == 408 || d->status == 429)
		return OUTCOME_RETRY;
	return OUTCOME_FAILED;
}

static void
push_release(struct delivery *d)
{
	struct push_try	*t = d->priv;

	if (t == NULL)
		return;
	curl_slist_free_all(t->headers);
	free(t->body);
	free(t);
	d->priv = NULL;
}

/* Check [push]: an http(s) URL or nothing, a header value on one line. */
static int
push_init(void)
{
	const struct config	*cf = config();
	const char		*url = cf->push_gateway_url;
	const char		*auth = cf->push_authorization;

	if (auth != NULL && strpbrk(auth, "\r\n") != NULL) {
		log_error("config: [push] authorization: contains a line "
		    "break");
		return -1;
	}
	if (url[0] == '\0') {
		log_info("push: no [push] gateway_url: pushes are recorded "
		    "as delivered without being sent");
		return 0;
	}
	if ((strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0) ||
	    valid_http_url(url, strlen(url)) != NULL) {
		log_error("config: [push] gateway_url: not an http:// or "
		    "https:// URL");
		return -1;
	}
	if (auth != NULL && auth[0] != '\0')
		push_auth_header = xasprintf("Authorization: %s", auth);
	if (cf->push_timeout >= cf->dispatcher_lease)
		log_warn("push: [push] timeout (%d s) is not shorter than "
		    "[dispatcher] lease (%d s): a slow push may be sent twice",
		    cf->push_timeout, cf->dispatcher_lease);
	log_info("push: sending to the configured gateway");
	return 0;
}

static void
push_cleanup(void)
{
	free(push_auth_header);
	push_auth_header = NULL;
}

const struct channel push_channel = {
	.name = "push",
	.init = push_init,
	.cleanup = push_cleanup,
	.prepare = push_prepare,
	.classify = push_classify,
	.release = push_release
};
