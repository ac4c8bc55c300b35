/*
 * webhook.c -- the webhook channel: an account's incoming event sent to
 * one of its destinations (seed 004), signed the Standard Webhooks way.
 *
 * The payload is {"event": <incoming_events.id>}; the destination and the
 * event's data are read from the database when the try is claimed (for
 * the whole claim in one query), so a changed URL or rotated secret
 * applies to the next try, and a deleted destination or account ends the
 * delivery.  GET sends the data's top-level fields as query parameters,
 * POST and PUT the data as it was received, as the JSON body.  Headers:
 * the destination's own, then CL-X-EVENT-ID, webhook-id (msg_<delivery
 * id>, the same on every try), webhook-timestamp and webhook-signature:
 * "v1," and the base64 HMAC-SHA256 of
 * "<webhook-id>.<webhook-timestamp>.<body>" keyed with the decoded
 * whsec_ secret.  A GET has no body: its query string is what is signed.
 *
 * The SSRF guard sits in CURLOPT_OPENSOCKETFUNCTION: libcurl resolves the
 * name and hands over each address before connecting to it, so the
 * address checked is the address connected to, with no second lookup.
 * No redirects, http and https only, no proxy, a capped answer.
 *
 * A 2xx within [webhook] timeout_ms is delivered.  A 410 disables the
 * destination and fails the delivery.  Anything else is tried again after
 * the next delay of [webhook] schedule (+-20%), or after Retry-After when
 * that is longer, until the schedule ends or [webhook] give_up seconds
 * have passed since the delivery was queued.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <sodium.h>

#include "alloc.h"
#include "channel.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "netcheck.h"

#define SCHEDULE_MAX	64
#define CONNECT_MAX_MS	10000L

/*
 * Reuse a kept-alive connection only when it has been idle this long at
 * most.  Many receivers close idle connections after a few seconds (Node's
 * and Apache's default is 5 s); a request sent just as they do fails with
 * a reset and costs the delivery a try.  Under load connections are never
 * idle that long, so reuse is kept where it pays.
 */
#define REUSE_MAX_IDLE_S	2L

/*
 * What a try reads: the destination and the event, for one delivery (in
 * prepare(), when webhook_load() did not find it) or for a claim's batch.
 */
#define HOOK_SELECT	"SELECT dst.url, dst.http_method, dst.headers," \
	" dst.signing_secret, dst.disabled_at IS NOT NULL, e.event_id," \
	" e.data, TIMESTAMPDIFF(SECOND, w.created_at, UTC_TIMESTAMP(6))," \
	" w.destination_id, w.delivery_id"
#define HOOK_JOINS	" JOIN incoming_events e ON e.id = w.event_row" \
	" JOIN destinations dst ON dst.id = w.destination_id"

static const char sql_hook_one[] =
	HOOK_SELECT " FROM webhook_deliveries w" HOOK_JOINS
	" WHERE w.delivery_id = ?";

static const char sql_hook_batch[] =
	HOOK_SELECT " FROM JSON_TABLE(?, '$[*]' COLUMNS"
	" (id BIGINT UNSIGNED PATH '$')) j"
	" STRAIGHT_JOIN webhook_deliveries w ON w.delivery_id = j.id"
	HOOK_JOINS;

/* Their columns. */
enum {
	C_URL, C_METHOD, C_HEADERS, C_SECRET, C_DISABLED, C_EVENT_ID, C_DATA,
	C_AGE, C_DEST, C_DELIVERY, C_NCOLS
};

/* One try: what libcurl sends and what came back. */
struct hook {
	char			 dest[40];
	char			*url;		/* with the query, for GET */
	struct buf		 body;		/* POST, PUT */
	struct curl_slist	*headers;
	size_t			 got;		/* answer bytes read */
	int			 capped;	/* the answer hit the cap */
	const char		*refused;	/* why netcheck refused */
	long long		 age_s;		/* since it was queued */
	char			*row[C_NCOLS];	/* webhook_load()'s */
	int			 loaded;	/* row is set */
};

static long long	 schedule[SCHEDULE_MAX];	/* ms */
static size_t		 nschedule;

/* "250ms", "5s", "2m", "6h", "1d" in ms.  Returns -1 when malformed. */
static long long
parse_delay(const char *s, size_t len)
{
	long long	 n = 0, unit;
	size_t		 i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		if ((n = n * 10 + (s[i] - '0')) > 100000000)
			return -1;
	if (i == 0)
		return -1;
	s += i;
	len -= i;
	if (len == 2 && strncmp(s, "ms", 2) == 0)
		unit = 1;
	else if (len == 1 && *s == 's')
		unit = 1000;
	else if (len == 1 && *s == 'm')
		unit = 60000;
	else if (len == 1 && *s == 'h')
		unit = 3600000;
	else if (len == 1 && *s == 'd')
		unit = 86400000;
	else
		return -1;
	return n * unit;
}

static int
webhook_init(void)
{
	const struct config	*cf = config();
	const char		*s = cf->webhook_schedule, *end;
	long long		 ms;

	for (nschedule = 0; *s != '\0'; s = *end == ',' ? end + 1 : end) {
		s += strspn(s, " ");
		end = s + strcspn(s, ",");
		ms = parse_delay(s, strcspn(s, ", "));
		if (ms <= 0 || nschedule == SCHEDULE_MAX) {
			log_error("config: [webhook] schedule: a comma-"
			    "separated list of at most %d delays like 500ms, "
			    "5s, 2m, 6h",
			    SCHEDULE_MAX);
			return -1;
		}
		schedule[nschedule++] = ms;
	}
	if (cf->webhook_timeout_ms / 1000 >= cf->dispatcher_lease)
		log_warn("webhook: [webhook] timeout_ms is not shorter than "
		    "[dispatcher] lease: a slow receiver may get a delivery "
		    "twice");
	log_info("webhook: %zu retries, timeout %ld ms, give up after %ld s%s",
	    nschedule, cf->webhook_timeout_ms, cf->webhook_give_up,
	    cf->webhook_allow_private ? ", private addresses allowed" : "");
	return 0;
}

/* libcurl's CURLOPT_OPENSOCKETFUNCTION: the SSRF guard. */
static curl_socket_t
hook_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct hook	*h = arg;
	const char	*why;

	if (purpose == CURLSOCKTYPE_IPCXN &&
	    (why = netcheck_sockaddr(&a->addr,
	    config()->webhook_allow_private)) != NULL) {
		h->refused = why;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* libcurl's CURLOPT_WRITEFUNCTION: count the answer, stop at the cap. */
static size_t
hook_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct hook	*h = arg;
	size_t		 n = size * nmemb;

	(void)ptr;
	if (h->got + n > (size_t)config()->webhook_max_response) {
		h->capped = 1;
		return 0;
	}
	h->got += n;
	return n;
}

/*
 * The URL with data's top-level fields appended as query parameters
 * (strings as they are, other values as JSON).  Returns a new string, or
 * NULL with d->error set.
 */
static char *
query_url(struct delivery *d, const char *url, const char *data)
{
	struct json_object_iterator	 it, end;
	struct json_object		*o, *v;
	const char			*val;
	CURLU				*u;
	char				*kv, *out = NULL;
	int				 bad = 0;

	if ((o = json_tokener_parse(data)) == NULL ||
	    (u = curl_url()) == NULL) {
		json_object_put(o);
		delivery_error(d, "event data is not a JSON object");
		return NULL;
	}
	bad |= curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK;
	bad |= curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !bad && !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		v = json_object_iter_peek_value(&it);
		if (v == NULL)
			val = "";
		else if (json_object_is_type(v, json_type_string))
			val = json_object_get_string(v);
		else
			val = json_object_to_json_string_ext(v,
			    JSON_C_TO_STRING_PLAIN);
		kv = xasprintf("%s=%s", json_object_iter_peek_name(&it), val);
		bad |= curl_url_set(u, CURLUPART_QUERY, kv,
		    CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK;
		free(kv);
	}
	if (bad || curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK) {
		delivery_error(d, "cannot build the query URL");
		out = NULL;
	}
	curl_url_cleanup(u);
	json_object_put(o);
	if (out != NULL) {
		kv = xstrdup(out);
		curl_free(out);
		return kv;
	}
	return NULL;
}

/* The query string of url (after '?', before '#'), into b. */
static void
url_query(struct buf *b, const char *url)
{
	const char	*q = strchr(url, '?');

	if (q != NULL)
		buf_append(b, q + 1, strcspn(q + 1, "#"));
	else
		buf_puts(b, "");
}

/*
 * "v1,<base64 HMAC-SHA256 of id.timestamp.content>" with the key of a
 * whsec_ secret, into out.  Returns 0, or -1 for a secret that does not
 * decode.
 */
static int
sign(const char *secret, const char *id, const char *ts,
    const struct buf *content, char *out, size_t n)
{
	crypto_auth_hmacsha256_state	 st;
	unsigned char			 key[128];
	unsigned char			 mac[crypto_auth_hmacsha256_BYTES];
	char				 b64[sodium_base64_ENCODED_LEN(
					    crypto_auth_hmacsha256_BYTES,
					    sodium_base64_VARIANT_ORIGINAL)];
	size_t				 klen;

	if (strncmp(secret, "whsec_", 6) == 0)
		secret += 6;
	if (sodium_base642bin(key, sizeof(key), secret, strlen(secret), NULL,
	    &klen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id,
	    strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts,
	    strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)
	    (content->data != NULL ? content->data : ""), content->len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
	sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, n, "v1,%s", b64);
	return 0;
}

/* Append "Name: value" to list; an empty value needs "Name;". */
static struct curl_slist *
header_add(struct curl_slist *list, const char *name, const char *value)
{
	struct curl_slist	*l;
	char			*line;

	if (value[0] == '\0')
		line = xasprintf("%s;", name);
	else
		line = xasprintf("%s: %s", name, value);
	l = curl_slist_append(list, line);
	free(line);
	if (l == NULL) {
		log_error("out of memory");
		exit(1);
	}
	return l;
}

/*
 * The stored headers, then ours.  Returns the list; *typed is set when
 * the destination sets its own Content-Type.
 */
static struct curl_slist *
hook_headers(const char *stored, int *typed)
{
	struct json_object_iterator	 it, end;
	struct json_object		*o, *v;
	struct curl_slist		*list = NULL;
	const char			*name;

	*typed = 0;
	if ((o = json_tokener_parse(stored)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		if (!json_object_is_type(v, json_type_string))
			continue;
		if (strcasecmp(name, "Content-Type") == 0)
			*typed = 1;
		list = header_add(list, name, json_object_get_string(v));
	}
	json_object_put(o);
	return list;
}

/* Set up the transfer from row, the columns above.  Returns an outcome. */
static enum outcome
hook_setup(struct delivery *d, CURL *easy, struct hook *h,
    const char *const *row)
{
	const struct config	*cf = config();
	const char		*method = row[C_METHOD];
	const char		*data = row[C_DATA];
	struct buf		 signed_part = { NULL, 0, 0 };
	char			 id[32], ts[24], sig[128];
	int			 get, typed, bad = 0;

	get = strcmp(method, "GET") == 0;
	if (get) {
		if ((h->url = query_url(d, row[C_URL], data)) == NULL)
			return OUTCOME_FAILED;
		url_query(&signed_part, h->url);
	} else {
		h->url = xstrdup(row[C_URL]);
		buf_puts(&h->body, data);
	}

	snprintf(id, sizeof(id), "msg_%llu", d->id);
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	bad = sign(row[C_SECRET], id, ts,
	    get ? &signed_part : &h->body, sig, sizeof(sig));
	buf_free(&signed_part);
	if (bad) {
		delivery_error(d, "the destination's signing secret is "
		    "malformed");
		return OUTCOME_FAILED;
	}
	h->headers = hook_headers(row[C_HEADERS], &typed);
	if (!get && !typed)
		h->headers = header_add(h->headers, "Content-Type",
		    "application/json");
	h->headers = header_add(h->headers, "CL-X-EVENT-ID",
	    row[C_EVENT_ID]);
	h->headers = header_add(h->headers, "webhook-id", id);
	h->headers = header_add(h->headers, "webhook-timestamp", ts);
	h->headers = header_add(h->headers, "webhook-signature", sig);
	h->headers = header_add(h->headers, "User-Agent", "fastback-webhook");
	/* No "Expect: 100-continue" round trip before a large body. */
	if ((h->headers = curl_slist_append(h->headers, "Expect:")) == NULL) {
		log_error("out of memory");
		exit(1);
	}

	bad |= curl_easy_setopt(easy, CURLOPT_URL, h->url) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR,
	    "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h->headers) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
	    cf->webhook_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
	    cf->webhook_timeout_ms < CONNECT_MAX_MS ? cf->webhook_timeout_ms :
	    CONNECT_MAX_MS) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_MAXAGE_CONN,
	    REUSE_MAX_IDLE_S) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION,
	    hook_opensocket) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, h) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, hook_write) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, h) != CURLE_OK;
	if (get)
		bad |= curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	else {
		bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
		    h->body.data) != CURLE_OK;
		bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)h->body.len) != CURLE_OK;
		if (strcmp(method, "PUT") == 0)
			bad |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST,
			    "PUT") != CURLE_OK;
	}
	if (bad) {
		delivery_error(d, "libcurl refused an option (is the URL "
		    "valid?)");
		return OUTCOME_FAILED;
	}
	return OUTCOME_TRANSFER;
}

/* Start the try from row: a deleted or disabled destination ends it. */
static enum outcome
hook_start(struct delivery *d, CURL *easy, struct hook *h,
    const char *const *row)
{
	if (row[C_DISABLED] != NULL && strcmp(row[C_DISABLED], "0") != 0) {
		delivery_error(d, "the destination is disabled (410 Gone)");
		return OUTCOME_FAILED;
	}
	h->age_s = row[C_AGE] != NULL ? strtoll(row[C_AGE], NULL, 10) : 0;
	snprintf(h->dest, sizeof(h->dest), "%s", row[C_DEST]);
	return hook_setup(d, easy, h, row);
}

/*
 * The rows of a claim's deliveries in one query.  A delivery missing from
 * the answer (deleted meanwhile), or all of them when the query fails, is
 * read again on its own by webhook_prepare(), which says why it cannot go.
 */
static void
webhook_load(struct delivery *const *d, size_t n)
{
	struct db_result	*r = NULL;
	struct hook		*h;
	unsigned long long	 id;
	char			*ids;
	size_t			 i, k, c;

	ids = delivery_ids(d, n);
	if (db_query(&r, sql_hook_batch, "s", ids) != DB_OK) {
		log_warn("webhook: cannot read a batch: %s", db_error());
		free(ids);
		return;
	}
	free(ids);
	for (i = 0; i < db_rows(r); i++) {
		id = strtoull(db_get(r, i, C_DELIVERY), NULL, 10);
		for (k = 0; k < n && d[k]->id != id; k++)
			continue;
		if (k == n || d[k]->priv != NULL)
			continue;
		h = xcalloc(1, sizeof(*h));
		for (c = 0; c < C_NCOLS; c++)
			if (db_get(r, i, c) != NULL)
				h->row[c] = xstrdup(db_get(r, i, c));
		h->loaded = 1;
		d[k]->priv = h;
	}
	db_result_free(r);
}

static enum outcome
webhook_prepare(struct delivery *d, CURL *easy)
{
	struct db_result	*r = NULL;
	struct hook		*h = d->priv;
	const char		*row[C_NCOLS];
	enum outcome		 o;
	size_t			 c;

	d->max_attempts = (int)nschedule + 1;
	if (h != NULL && h->loaded)
		return hook_start(d, easy, h, (const char *const *)h->row);

	h = xcalloc(1, sizeof(*h));
	d->priv = h;
	if (db_query(&r, sql_hook_one, "i", (long long)d->id) != DB_OK) {
		delivery_error(d, "database: %s", db_error());
		return OUTCOME_RETRY;
	}
	if (db_rows(r) == 0) {
		delivery_error(d, "the destination or the event was deleted");
		o = OUTCOME_FAILED;
	} else {
		for (c = 0; c < C_NCOLS; c++)
			row[c] = db_get(r, 0, c);
		o = hook_start(d, easy, h, row);
	}
	db_result_free(r);
	return o;
}

/* The receiver said 410 Gone: no more deliveries to this destination. */
static void
hook_disable(struct delivery *d, const struct hook *h)
{
	if (db_exec("UPDATE destinations SET disabled_at = UTC_TIMESTAMP(6), "
	    "disabled_reason = '410 Gone from the receiver' WHERE id = ? "
	    "AND disabled_at IS NULL", "s", h->dest) != DB_OK)
		log_warn("delivery id=%llu: cannot disable its destination: "
		    "%s", d->id, db_error());
	else
		log_info("delivery id=%llu: destination %s disabled after a "
		    "410", d->id, h->dest);
}

/*
 * The delay before try attempt + 1: the schedule's, +-20%.  An empty
 * schedule means no retries (max_attempts is 1): 0.
 */
static long long
hook_delay(int attempt)
{
	long long	 base;
	size_t		 i;

	if (nschedule == 0)
		return 0;
	i = attempt >= 1 ? (size_t)attempt - 1 : 0;
	if (i >= nschedule)
		i = nschedule - 1;
	base = schedule[i];
	return base + base * ((long long)randombytes_uniform(401) - 200) /
	    1000;
}

static enum outcome
webhook_classify(struct delivery *d, CURL *easy, CURLcode rc)
{
	struct hook	*h = d->priv;
	curl_off_t	 after = 0;
	long long	 delay, left;

	if (h->refused != NULL && d->status == 0) {
		delivery_error(d, "refused to connect: %s", h->refused);
		return OUTCOME_FAILED;
	}
	if ((rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && h->capped)) &&
	    d->status >= 200 && d->status <= 299)
		return OUTCOME_DELIVERED;
	if (d->status == 410) {
		hook_disable(d, h);
		delivery_error(d, "410 Gone: destination disabled");
		return OUTCOME_FAILED;
	}

	delay = hook_delay(d->attempt);
	if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &after) ==
	    CURLE_OK && after > 0 && after * 1000 > delay)
		delay = (long long)after * 1000;
	left = (config()->webhook_give_up - h->age_s) * 1000;
	if (d->attempt < d->max_attempts && delay > left) {
		if (rc != CURLE_OK)
			delivery_error(d, "%s; gave up after %ld s",
			    curl_easy_strerror(rc), config()->webhook_give_up);
		else
			delivery_error(d, "status %ld; gave up after %ld s",
			    d->status, config()->webhook_give_up);
		return OUTCOME_FAILED;
	}
	d->retry_ms = delay;
	return OUTCOME_RETRY;
}

static void
webhook_release(struct delivery *d)
{
	struct hook	*h = d->priv;
	size_t		 c;

	if (h == NULL)
		return;
	free(h->url);
	buf_free(&h->body);
	for (c = 0; c < C_NCOLS; c++)
		free(h->row[c]);
	curl_slist_free_all(h->headers);
	free(h);
	d->priv = NULL;
}

const struct channel webhook_channel = {
	.name = "webhook",
	.init = webhook_init,
	.load = webhook_load,
	.prepare = webhook_prepare,
	.classify = webhook_classify,
	.release = webhook_release
};
