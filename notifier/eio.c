/*
 * eio.c -- Engine.IO v4, server side, both transports.
 *
 * A session starts with a handshake on either transport.  On HTTP
 * long-polling the client GETs to receive (one GET held open at a time;
 * packets queued meanwhile go out together, separated by 0x1e) and POSTs
 * to send.  It may then open a WebSocket with the same sid: the probe
 * ("2probe" -> "3probe"), a noop ("6") to release the held GET, and "5"
 * to switch; what was queued for polling goes out on the WebSocket.  The
 * server pings every ping_interval_ms and ends a session whose pong does
 * not come within ping_timeout_ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "alloc.h"
#include "config.h"
#include "eio.h"
#include "http.h"
#include "log.h"
#include "notifier.h"
#include "sio.h"
#include "ws.h"

#define SID_BYTES	10		/* 20 hex characters */
#define EIO_SEP		'\x1e'		/* between packets of a poll */

enum eio_transport {
	EIO_POLLING,
	EIO_WEBSOCKET
};

struct eio {
	struct hnode		 h;		/* in sessions, by sid */
	struct client		*client;	/* the Socket.IO socket */
	struct ws		*ws;		/* the WebSocket transport */
	struct ws		*probe;	/* a WebSocket being upgraded to */
	struct http_conn	*poll;		/* the held GET */
	struct evbuffer		*queue;		/* for the next GET (polling) */
	struct event		*timer;		/* heartbeat */
	enum eio_transport	 transport;
	unsigned		 awaiting_pong:1;
	unsigned		 probed:1;	/* "3probe" sent */
	unsigned		 dead:1;
	char			 sid[2 * SID_BYTES + 1];
};

static struct htable	 sessions;
static const struct timeval *tv_interval, *tv_timeout;

static void	eio_end(struct eio *);

size_t
eio_count(void)
{
	return sessions.count;
}

const char *
eio_sid(const struct eio *e)
{
	return e->sid;
}

/* Engine.IO's own errors: 400 with {"code", "message"}. */
static void
eio_http_error(struct http_conn *hc, int code, const char *message)
{
	char	 b[128];
	int	 n;

	n = snprintf(b, sizeof(b), "{\"code\":%d,\"message\":\"%s\"}", code,
	    message);
	http_reply(hc, 400, "application/json", b, (size_t)n);
}

static void
eio_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct eio	*e = arg;

	if (e->awaiting_pong) {
		log_debug("eio %s: ping timeout", e->sid);
		eio_end(e);
		return;
	}
	e->awaiting_pong = 1;
	if (eio_send(e, "2", 1) == -1) {
		eio_end(e);
		return;
	}
	evtimer_add(e->timer, tv_timeout);
}

/* Answer the held GET with what is queued. */
static void
eio_flush_poll(struct eio *e)
{
	size_t	 len = evbuffer_get_length(e->queue);

	if (e->poll == NULL || len == 0)
		return;
	http_reply(e->poll, 200, "text/plain; charset=UTF-8",
	    (const char *)evbuffer_pullup(e->queue, -1), len);
	evbuffer_drain(e->queue, len);
	e->poll = NULL;
}

int
eio_send(struct eio *e, const char *pkt, size_t len)
{
	if (e->dead)
		return 0;
	if (e->transport == EIO_WEBSOCKET)
		return ws_send(e->ws, pkt, len);
	if (evbuffer_get_length(e->queue) + len + 1 >
	    (size_t)notifier.cf->notifier_max_queued_bytes)
		return -1;
	if (evbuffer_get_length(e->queue) > 0)
		evbuffer_add(e->queue, "\x1e", 1);
	evbuffer_add(e->queue, pkt, len);
	eio_flush_poll(e);
	return 0;
}

/* Tear the session down; free it once the loop is back at the top. */
static void
eio_teardown(struct eio *e)
{
	if (e->dead)
		return;
	e->dead = 1;
	htable_remove(&sessions, &e->h);
	evtimer_del(e->timer);
	if (e->ws != NULL) {
		ws_close(e->ws, 1000, NULL);
		e->ws = NULL;
	}
	if (e->probe != NULL) {
		ws_close(e->probe, 1000, NULL);
		e->probe = NULL;
	}
	if (e->poll != NULL) {
		/* What was queued (the error that explains the end), then
		 * the close packet that tells a polling client it is over. */
		if (evbuffer_get_length(e->queue) > 0)
			evbuffer_add(e->queue, "\x1e", 1);
		evbuffer_add(e->queue, "1", 1);
		eio_flush_poll(e);
	}
	e->client = NULL;
}

static void
eio_free(void *arg)
{
	struct eio	*e = arg;

	event_free(e->timer);
	if (e->queue != NULL)
		evbuffer_free(e->queue);
	free(e);
}

void
eio_close(struct eio *e)
{
	if (e->dead)
		return;
	eio_teardown(e);
	reap_later(eio_free, e);
}

/* The session ended on its own: tell the socket. */
static void
eio_end(struct eio *e)
{
	struct client	*c = e->client;

	if (e->dead)
		return;
	eio_teardown(e);
	reap_later(eio_free, e);
	if (c != NULL)
		sio_closed(c);
}

/* One Engine.IO packet from the client, on the session's transport. */
static void
eio_packet(struct eio *e, const char *p, size_t len)
{
	if (len == 0) {
		eio_end(e);
		return;
	}
	switch (p[0]) {
	case '1':		/* close */
		eio_end(e);
		break;
	case '2':		/* a client ping: answer it */
		if (len == 1)
			eio_send(e, "3", 1);
		break;
	case '3':		/* pong */
		if (e->awaiting_pong) {
			e->awaiting_pong = 0;
			evtimer_add(e->timer, tv_interval);
		}
		break;
	case '4':
		sio_packet(e->client, p + 1, len - 1);
		break;
	case '5':
	case '6':
		break;
	default:
		/* Binary ("b...") or not Engine.IO at all. */
		log_debug("eio %s: malformed packet", e->sid);
		eio_end(e);
		break;
	}
}

static void
eio_ws_text(void *arg, const char *msg, size_t len)
{
	eio_packet(arg, msg, len);
}

static void
eio_ws_closed(void *arg)
{
	struct eio	*e = arg;

	e->ws = NULL;
	eio_end(e);
}

static const struct ws_ops eio_ws_ops = { eio_ws_text, eio_ws_closed };

/* On the probing WebSocket: "2probe", then "5" to switch to it. */
static void
eio_probe_text(void *arg, const char *msg, size_t len)
{
	struct eio	*e = arg;
	const char	*p, *end, *sep;

	if (len == 6 && memcmp(msg, "2probe", 6) == 0) {
		ws_send(e->probe, "3probe", 6);
		e->probed = 1;
		/* Release the held GET so the client can pause polling. */
		if (e->poll != NULL) {
			http_reply(e->poll, 200, "text/plain; charset=UTF-8",
			    "6", 1);
			e->poll = NULL;
		}
		return;
	}
	if (len == 1 && msg[0] == '5') {
		e->ws = e->probe;
		e->probe = NULL;
		e->probed = 0;
		ws_set_ops(e->ws, &eio_ws_ops, e);
		e->transport = EIO_WEBSOCKET;
		if (e->poll != NULL) {
			http_reply(e->poll, 200, "text/plain; charset=UTF-8",
			    "6", 1);
			e->poll = NULL;
		}
		/* What waited for a GET goes out on the WebSocket. */
		p = (const char *)evbuffer_pullup(e->queue, -1);
		end = p + evbuffer_get_length(e->queue);
		while (p != NULL && p < end) {
			if ((sep = memchr(p, EIO_SEP, (size_t)(end - p))) ==
			    NULL)
				sep = end;
			if (ws_send(e->ws, p, (size_t)(sep - p)) == -1) {
				eio_end(e);
				return;
			}
			p = sep + 1;
		}
		evbuffer_free(e->queue);
		e->queue = NULL;
		return;
	}
	/* Anything else before the switch is a broken client. */
	ws_close(e->probe, 1002, NULL);
	e->probe = NULL;
}

static void
eio_probe_closed(void *arg)
{
	struct eio	*e = arg;

	e->probe = NULL;
	e->probed = 0;
}

static const struct ws_ops eio_probe_ops = { eio_probe_text,
    eio_probe_closed };

static struct eio *
eio_new(enum eio_transport t)
{
	struct eio	*e;

	e = xcalloc(1, sizeof(*e));
	do
		random_hex(e->sid, SID_BYTES);
	while (htable_find(&sessions, e->sid) != NULL);
	e->h.key = e->sid;
	e->transport = t;
	if (t == EIO_POLLING && (e->queue = evbuffer_new()) == NULL)
		abort();
	e->timer = evtimer_new(notifier.base, eio_timer_cb, e);
	if (e->timer == NULL)
		abort();
	evtimer_add(e->timer, tv_interval);
	htable_add(&sessions, &e->h);
	return e;
}

static int
eio_open_packet(const struct eio *e, char *b, size_t n)
{
	const struct config	*cf = notifier.cf;

	return snprintf(b, n, "0{\"sid\":\"%s\",\"upgrades\":[%s],"
	    "\"pingInterval\":%d,\"pingTimeout\":%d,\"maxPayload\":%ld}",
	    e->sid, e->transport == EIO_POLLING ? "\"websocket\"" : "",
	    cf->notifier_ping_interval_ms, cf->notifier_ping_timeout_ms,
	    cf->notifier_max_payload);
}

static void
eio_poll_gone(void *arg)
{
	struct eio	*e = arg;

	/* nginx gave up on the GET (the client left); the heartbeat will
	 * tell whether the client comes back. */
	e->poll = NULL;
}

/* A POST of a polling session: packets separated by 0x1e. */
static void
eio_post(struct eio *e, struct http_conn *hc)
{
	struct http_req	*r = http_request(hc);
	const char	*p = r->body, *end, *sep;

	if (p == NULL || r->body_len == 0) {
		eio_http_error(hc, 3, "Bad request");
		return;
	}
	end = p + r->body_len;
	while (p < end && !e->dead) {
		if ((sep = memchr(p, EIO_SEP, (size_t)(end - p))) == NULL)
			sep = end;
		eio_packet(e, p, (size_t)(sep - p));
		p = sep + 1;
	}
	http_reply(hc, 200, "text/html", "ok", 2);
}

static void
eio_init(void)
{
	static struct timeval	 iv, to;

	if (tv_interval != NULL)
		return;
	iv.tv_sec = notifier.cf->notifier_ping_interval_ms / 1000;
	iv.tv_usec = (notifier.cf->notifier_ping_interval_ms % 1000) * 1000;
	to.tv_sec = notifier.cf->notifier_ping_timeout_ms / 1000;
	to.tv_usec = (notifier.cf->notifier_ping_timeout_ms % 1000) * 1000;
	/* Thousands of timers with one duration: libevent keeps them in a
	 * queue instead of its heap. */
	tv_interval = event_base_init_common_timeout(notifier.base, &iv);
	tv_timeout = event_base_init_common_timeout(notifier.base, &to);
}

void
eio_http(struct http_conn *hc)
{
	struct http_req		*r = http_request(hc);
	struct http_req		 up;
	struct bufferevent	*bev;
	struct eio		*e;
	char			 v[8], t[16], sid[2 * SID_BYTES + 1], b[256];
	int			 n, rc;

	eio_init();
	if (http_query_get(r->query, "EIO", v, sizeof(v)) == -1 ||
	    strcmp(v, "4") != 0) {
		eio_http_error(hc, 5, "Unsupported protocol version");
		return;
	}
	if (http_query_get(r->query, "transport", t, sizeof(t)) == -1 ||
	    (strcmp(t, "polling") != 0 && strcmp(t, "websocket") != 0)) {
		eio_http_error(hc, 0, "Transport unknown");
		return;
	}
	if (http_query_get(r->query, "sid", sid, sizeof(sid)) == -1) {
		/* A new session. */
		if (strcmp(t, "polling") == 0) {
			if (strcmp(r->method, "GET") != 0) {
				eio_http_error(hc, 2, "Bad handshake method");
				return;
			}
			e = eio_new(EIO_POLLING);
			e->client = sio_open(e, r, http_client_addr(hc));
			n = eio_open_packet(e, b, sizeof(b));
			http_reply(hc, 200, "text/plain; charset=UTF-8", b,
			    (size_t)n);
			return;
		}
		if ((rc = ws_check_upgrade(r)) != 0) {
			eio_http_error(hc, 3, "Bad request");
			return;
		}
		e = eio_new(EIO_WEBSOCKET);
		snprintf(b, sizeof(b), "%s", http_client_addr(hc));
		bev = http_upgrade(hc, &up);
		e->ws = ws_accept(bev, &up, &eio_ws_ops, e);
		e->client = sio_open(e, &up, b);
		http_req_free(&up);
		n = eio_open_packet(e, b, sizeof(b));
		if (ws_send(e->ws, b, (size_t)n) == -1)
			eio_end(e);
		return;
	}

	if ((e = (struct eio *)htable_find(&sessions, sid)) == NULL) {
		eio_http_error(hc, 1, "Session ID unknown");
		return;
	}
	if (strcmp(t, "websocket") == 0) {
		if (e->transport != EIO_POLLING || e->probe != NULL ||
		    ws_check_upgrade(r) != 0) {
			eio_http_error(hc, 3, "Bad request");
			return;
		}
		bev = http_upgrade(hc, &up);
		e->probe = ws_accept(bev, &up, &eio_probe_ops, e);
		http_req_free(&up);
		return;
	}
	if (e->transport != EIO_POLLING) {
		eio_http_error(hc, 3, "Bad request");
		return;
	}
	if (strcmp(r->method, "POST") == 0) {
		eio_post(e, hc);
		return;
	}
	if (strcmp(r->method, "GET") != 0) {
		eio_http_error(hc, 2, "Bad request method");
		return;
	}
	if (e->poll != NULL) {
		/* Two GETs at once: the client is broken; end it. */
		eio_http_error(hc, 3, "Bad request");
		eio_end(e);
		return;
	}
	e->poll = hc;
	if (evbuffer_get_length(e->queue) > 0)
		eio_flush_poll(e);
	else if (e->probe != NULL && e->probed) {
		/* Upgrading: the client waits for this GET to end. */
		e->poll = NULL;
		http_reply(hc, 200, "text/plain; charset=UTF-8", "6", 1);
	} else
		http_hold(hc, eio_poll_gone, e);
}

void
eio_shutdown(void)
{
	htable_free(&sessions);
}
