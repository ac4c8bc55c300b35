/*
 * bridge.c -- the notifier's HTTP calls to the API, libcurl multi driven by
 * libevent.
 *
 * libcurl says which sockets it wants watched (CURLMOPT_SOCKETFUNCTION) and
 * when it next needs the clock (CURLMOPT_TIMERFUNCTION); one libevent event
 * per socket and one timer feed curl_multi_socket_action(), and finished
 * transfers are collected after it returns.  Callers' functions run only
 * from there (or from a deferred event for calls that could not start), so
 * never from inside bridge_call() nor from inside libcurl.  The multi handle
 * keeps the connections to nginx's loopback listener open between calls.
 *
 * A callback may start calls, cancel any call and even free the bridge:
 * the collecting loop re-reads the state after each callback.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "alloc.h"
#include "bridge.h"
#include "log.h"

#define BRIDGE_MAX_CONNS	64	/* to nginx at once; more wait */
#define BRIDGE_KEEP_CONNS	64	/* idle ones kept for reuse */
#define BRIDGE_CONNECT_MS	2000	/* loopback: slower is a failure */

struct bridge_call {
	struct bridge		*bridge;
	struct bridge_call	*prev, *next;
	CURL			*easy;
	struct curl_slist	*headers;
	struct event		*failed;	/* did not start */
	struct buf		 reply;
	int			 too_long;	/* the reply passed max_reply */
	bridge_fn		 fn;
	void			*arg;
};

struct bridge {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	char			*api_url;	/* without a trailing '/' */
	long			 timeout_ms;
	size_t			 max_reply;
	struct bridge_call	*calls;		/* calls not yet reported */
	struct bridge_sock	*socks;		/* every socket watched */
	size_t			 ncalls;
	int			 busy;		/* collecting finished calls */
	int			 dead;		/* freed while busy */
};

/* One socket libcurl asked us to watch. */
struct bridge_sock {
	struct bridge_sock	*prev, *next;
	struct event		*ev;
	short			 what;
};

static void	bridge_collect(struct bridge *);

static void
bridge_unlink(struct bridge_call *c)
{
	struct bridge	*b = c->bridge;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		b->calls = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	b->ncalls--;
}

/* Forget a call: libcurl's side and ours.  fn is not called. */
static void
bridge_call_free(struct bridge_call *c)
{
	bridge_unlink(c);
	if (c->easy != NULL) {
		curl_multi_remove_handle(c->bridge->multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	curl_slist_free_all(c->headers);
	if (c->failed != NULL)
		event_free(c->failed);
	buf_free(&c->reply);
	free(c);
}

/* Report a call's outcome once, then forget it. */
static void
bridge_finish(struct bridge_call *c, long status)
{
	struct bridge_reply	 r;
	bridge_fn		 fn = c->fn;
	void			*arg = c->arg;
	struct buf		 body = c->reply;

	/* The body outlives the call for the length of the callback. */
	memset(&c->reply, 0, sizeof(c->reply));
	bridge_call_free(c);
	r.status = status;
	r.body = body.data != NULL ? body.data : "";
	r.len = body.len;
	fn(arg, &r);
	buf_free(&body);
}

static size_t
bridge_write(char *data, size_t size, size_t n, void *arg)
{
	struct bridge_call	*c = arg;
	size_t			 len = size * n;

	if (c->reply.len + len > c->bridge->max_reply) {
		c->too_long = 1;
		return 0;	/* stops the transfer: CURLE_WRITE_ERROR */
	}
	buf_append(&c->reply, data, len);
	return len;
}

static void
bridge_collect(struct bridge *b)
{
	struct bridge_call	*c;
	CURLMsg			*m;
	const char		*url;
	long			 status;
	int			 left;

	b->busy++;
	while (!b->dead && (m = curl_multi_info_read(b->multi, &left)) !=
	    NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &c);
		status = 0;
		if (m->data.result == CURLE_OK)
			curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE,
			    &status);
		else {
			url = NULL;
			curl_easy_getinfo(c->easy, CURLINFO_EFFECTIVE_URL,
			    &url);
			if (url == NULL)
				url = "?";
			/* The query may hold what a client sent. */
			log_warn("bridge: %.*s: %s", (int)strcspn(url, "?"),
			    url, c->too_long ? "reply too long" :
			    curl_easy_strerror(m->data.result));
			buf_free(&c->reply);
		}
		bridge_finish(c, status);
	}
	if (--b->busy == 0 && b->dead)
		bridge_free(b);
}

static void
bridge_on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct bridge	*b = arg;
	int		 flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(b->multi, fd, flags, &running);
	bridge_collect(b);
}

static void
bridge_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct bridge	*b = arg;
	int		 running;

	curl_multi_socket_action(b->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	bridge_collect(b);
}

static void
bridge_sock_free(struct bridge *b, struct bridge_sock *bs)
{
	if (bs->prev != NULL)
		bs->prev->next = bs->next;
	else
		b->socks = bs->next;
	if (bs->next != NULL)
		bs->next->prev = bs->prev;
	if (bs->ev != NULL)
		event_free(bs->ev);
	free(bs);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what libcurl asks, or stop. */
static int
bridge_socket_cb(CURL *easy, curl_socket_t s, int action, void *arg,
    void *sockp)
{
	struct bridge		*b = arg;
	struct bridge_sock	*bs = sockp;
	short			 what;

	if (action == CURL_POLL_REMOVE) {
		if (bs != NULL) {
			bridge_sock_free(b, bs);
			curl_multi_assign(b->multi, s, NULL);
		}
		return 0;
	}
	what = EV_PERSIST;
	if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
		what |= EV_READ;
	if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
		what |= EV_WRITE;
	if (bs == NULL) {
		bs = xcalloc(1, sizeof(*bs));
		if ((bs->next = b->socks) != NULL)
			bs->next->prev = bs;
		b->socks = bs;
		curl_multi_assign(b->multi, s, bs);
	} else if (bs->what == what)
		return 0;
	else {
		event_free(bs->ev);
		bs->ev = NULL;
	}
	bs->what = what;
	if ((bs->ev = event_new(b->base, s, what, bridge_on_socket, b)) ==
	    NULL || event_add(bs->ev, NULL) == -1) {
		log_error("bridge: cannot watch a socket");
		return -1;
	}
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl's next deadline; -1: none. */
static int
bridge_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct bridge	*b = arg;
	struct timeval	 tv;

	if (timeout_ms < 0)
		return evtimer_del(b->timer);
	/* 0 too goes through the loop: never act from inside libcurl. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(b->timer, &tv);
}

struct bridge *
bridge_new(struct event_base *base, const char *api_url, long timeout_ms,
    size_t max_reply)
{
	struct bridge	*b;
	size_t		 len;

	b = xcalloc(1, sizeof(*b));
	b->base = base;
	b->api_url = xstrdup(api_url);
	len = strlen(b->api_url);
	while (len > 0 && b->api_url[len - 1] == '/')
		b->api_url[--len] = '\0';
	b->timeout_ms = timeout_ms;
	b->max_reply = max_reply;
	if ((b->multi = curl_multi_init()) == NULL ||
	    (b->timer = evtimer_new(base, bridge_on_timer, b)) == NULL) {
		log_error("bridge: cannot set up libcurl");
		bridge_free(b);
		return NULL;
	}
	curl_multi_setopt(b->multi, CURLMOPT_SOCKETFUNCTION, bridge_socket_cb);
	curl_multi_setopt(b->multi, CURLMOPT_SOCKETDATA, b);
	curl_multi_setopt(b->multi, CURLMOPT_TIMERFUNCTION, bridge_timer_cb);
	curl_multi_setopt(b->multi, CURLMOPT_TIMERDATA, b);
	curl_multi_setopt(b->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)BRIDGE_MAX_CONNS);
	curl_multi_setopt(b->multi, CURLMOPT_MAXCONNECTS,
	    (long)BRIDGE_KEEP_CONNS);
	return b;
}

void
bridge_free(struct bridge *b)
{
	if (b == NULL)
		return;
	while (b->calls != NULL)
		bridge_call_free(b->calls);
	if (b->busy > 0) {
		/* Inside a callback: bridge_collect() finishes the job. */
		b->dead = 1;
		return;
	}
	if (b->multi != NULL)
		curl_multi_cleanup(b->multi);	/* closes the sockets */
	/* Kept connections may close without a CURL_POLL_REMOVE. */
	while (b->socks != NULL)
		bridge_sock_free(b, b->socks);
	if (b->timer != NULL)
		event_free(b->timer);
	free(b->api_url);
	free(b);
}

/* A header line, or -1 when the value would break out of it. */
static int
bridge_header(struct bridge_call *c, const char *name, const char *value)
{
	struct curl_slist	*l;
	char			*line;

	if (value == NULL)
		return 0;
	if (strpbrk(value, "\r\n") != NULL)
		return -1;
	line = xasprintf("%s: %s", name, value);
	l = curl_slist_append(c->headers, line);
	free(line);
	if (l == NULL)
		return -1;
	c->headers = l;
	return 0;
}

static void
bridge_on_failed(evutil_socket_t fd, short what, void *arg)
{
	struct bridge_call	*c = arg;

	bridge_finish(c, 0);
}

/* Report a call that cannot run as failed, from the loop. */
static struct bridge_call *
bridge_fail_later(struct bridge_call *c, const struct bridge_req *req,
    const char *why)
{
	const char	*method = req->method, *path = req->path;
	size_t		 len;

	/* Neither the query nor a line break reaches the log. */
	if (method == NULL || strpbrk(method, "\r\n") != NULL)
		method = "?";
	if (path == NULL)
		path = "?";
	if ((len = strcspn(path, "?\r\n")) > 200)
		len = 200;
	log_warn("bridge: %.16s %.*s: %s", method, (int)len, path, why);
	if (c->easy != NULL) {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
	}
	if ((c->failed = event_new(c->bridge->base, -1, 0, bridge_on_failed,
	    c)) == NULL) {
		bridge_call_free(c);
		return NULL;
	}
	event_active(c->failed, EV_TIMEOUT, 0);
	return c;
}

struct bridge_call *
bridge_call(struct bridge *b, const struct bridge_req *req, bridge_fn fn,
    void *arg)
{
	struct bridge_call	*c;
	char			*url, *auth = NULL;
	int			 bad;

	c = xcalloc(1, sizeof(*c));
	c->bridge = b;
	c->fn = fn;
	c->arg = arg;
	if ((c->next = b->calls) != NULL)
		c->next->prev = c;
	b->calls = c;
	b->ncalls++;

	if (req->path == NULL || req->path[0] != '/' ||
	    strpbrk(req->path, " \r\n") != NULL || req->method == NULL ||
	    strpbrk(req->method, " \r\n") != NULL)
		return bridge_fail_later(c, req, "bad method or path");
	if (req->token != NULL)
		auth = xasprintf("Bearer %s", req->token);
	bad = bridge_header(c, "Authorization", auth) == -1 ||
	    bridge_header(c, "X-Forwarded-For", req->client_addr) == -1 ||
	    bridge_header(c, "X-Device-Id", req->device_id) == -1 ||
	    bridge_header(c, "Accept", "application/json") == -1 ||
	    (req->body != NULL && bridge_header(c, "Content-Type",
	    "application/json") == -1) ||
	    bridge_header(c, "Expect", "") == -1;
	free(auth);
	if (bad)
		return bridge_fail_later(c, req, "bad header value");
	if ((c->easy = curl_easy_init()) == NULL)
		return bridge_fail_later(c, req, "curl_easy_init failed");

	url = xasprintf("%s%s", b->api_url, req->path);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, b->timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    b->timeout_ms < BRIDGE_CONNECT_MS ? b->timeout_ms :
	    (long)BRIDGE_CONNECT_MS);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, bridge_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "fastback-notifier");
	if (req->body != NULL) {
		/* Copied: the caller's buffer may go as soon as we return. */
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		curl_easy_setopt(c->easy, CURLOPT_COPYPOSTFIELDS, req->body);
	} else if (strcmp(req->method, "POST") == 0 ||
	    strcmp(req->method, "PUT") == 0 ||
	    strcmp(req->method, "PATCH") == 0) {
		/* An empty body, said so: Content-Length: 0. */
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)0);
		curl_easy_setopt(c->easy, CURLOPT_COPYPOSTFIELDS, "");
	}
	curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(c->easy, CURLOPT_NOBODY, 1L);
	if (curl_multi_add_handle(b->multi, c->easy) != CURLM_OK)
		return bridge_fail_later(c, req,
		    "curl_multi_add_handle failed");
	return c;
}

void
bridge_cancel(struct bridge_call *c)
{
	if (c != NULL)
		bridge_call_free(c);
}

size_t
bridge_pending(const struct bridge *b)
{
	return b->ncalls;
}
