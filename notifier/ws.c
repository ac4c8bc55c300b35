/*
 * ws.c -- WebSocket connections: the opening handshake (RFC 6455 §4.2,
 * which wslay leaves to its user), wslay's event API driven from a
 * bufferevent, and the send cap.
 *
 * wslay reads from and writes to the bufferevent's buffers through the two
 * callbacks below; it reassembles fragmented messages, answers pings and
 * the closing handshake, and refuses messages above the size it is given.
 * Since the send callback always takes every byte, a frame is never left
 * half-written inside wslay: what waits is in the output evbuffer, which is
 * what the cap measures.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#include "alloc.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "notifier.h"
#include "ws.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* Seconds to get a close frame out before the connection is cut. */
#define CLOSE_TIMEOUT	5

struct ws {
	LIST_ENTRY(ws)		 entry;		/* every open one */
	struct bufferevent	*bev;
	wslay_event_context_ptr	 ctx;
	const struct ws_ops	*ops;
	void			*arg;		/* NULL once let go */
	const char		*close_reason;	/* a constant */
	uint16_t		 close_code;
	unsigned		 in_recv:1;	/* in wslay_event_recv */
	unsigned		 dead:1;	/* free when it returns */
	unsigned		 closing:1;	/* ws_close() was called */
	unsigned		 close_queued:1; /* its frame is in wslay */
	unsigned		 shut:1;	/* our side shut down */
};

static LIST_HEAD(, ws)	 all = LIST_HEAD_INITIALIZER(all);

static void
ws_free(struct ws *w)
{
	LIST_REMOVE(w, entry);
	wslay_event_context_free(w->ctx);
	bufferevent_free(w->bev);
	free(w);
}

/* Free now, or when the read callback that is under way returns. */
static void
ws_destroy(struct ws *w)
{
	w->arg = NULL;
	if (w->in_recv)
		w->dead = 1;
	else
		ws_free(w);
}

/* The connection ended on its own: tell the owner, then free. */
static void
ws_end(struct ws *w)
{
	void	*arg = w->arg;

	w->arg = NULL;
	if (arg != NULL)
		w->ops->closed(arg);
	ws_destroy(w);
}

static ssize_t
ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *user)
{
	struct ws	*w = user;
	int		 n;

	n = evbuffer_remove(bufferevent_get_input(w->bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *user)
{
	struct ws	*w = user;

	if (evbuffer_add(bufferevent_get_output(w->bev), data, len) == -1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static void
ws_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *user)
{
	struct ws	*w = user;
	void		*arg = w->arg;

	if (arg == NULL)
		return;
	switch (m->opcode) {
	case WSLAY_TEXT_FRAME:
		w->ops->text(arg, (const char *)m->msg, m->msg_length);
		break;
	case WSLAY_BINARY_FRAME:
		/* Every protocol here is JSON text. */
		w->arg = NULL;
		w->ops->closed(arg);
		ws_close(w, WSLAY_CODE_UNSUPPORTED_DATA,
		    "binary frames are not accepted");
		break;
	case WSLAY_CONNECTION_CLOSE:
		/* wslay answers it; the owner hears of it now. */
		w->arg = NULL;
		w->ops->closed(arg);
		break;
	default:
		break;		/* ping and pong: wslay's business */
	}
}

static const struct wslay_event_callbacks ws_callbacks = {
	ws_recv_cb,
	ws_send_cb,
	NULL,			/* genmask: a server does not mask */
	NULL,
	NULL,
	NULL,
	ws_msg_cb
};

static void	ws_writecb(struct bufferevent *, void *);

/* After reading or queueing: write what wslay has and see if it is over. */
static void
ws_pump(struct ws *w)
{
	const char	*r = w->close_reason;

	if (wslay_event_send(w->ctx) != 0) {
		ws_end(w);
		return;
	}
	/*
	 * wslay sends control frames before queued messages: the close
	 * frame goes in only once the messages before it are out, or the
	 * last ones (the error that explains the close) would be lost.
	 */
	if (w->closing && !w->close_queued) {
		w->close_queued = 1;
		wslay_event_queue_close(w->ctx, w->close_code,
		    (const uint8_t *)r, r != NULL ? strlen(r) : 0);
		if (wslay_event_send(w->ctx) != 0) {
			ws_end(w);
			return;
		}
	}
	if (!wslay_event_want_write(w->ctx) &&
	    evbuffer_get_length(bufferevent_get_output(w->bev)) == 0)
		ws_writecb(w->bev, w);
}

static void
ws_readcb(struct bufferevent *bev, void *arg)
{
	struct ws	*w = arg;
	int		 rc;

	if (w->shut) {
		/* Closing: what still comes is read and ignored. */
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	w->in_recv = 1;
	rc = wslay_event_recv(w->ctx);
	w->in_recv = 0;
	if (w->dead) {
		ws_free(w);
		return;
	}
	if (rc != 0 && !w->closing) {
		ws_end(w);
		return;
	}
	ws_pump(w);
}

static void
ws_writecb(struct bufferevent *bev, void *arg)
{
	struct ws	*w = arg;
	struct timeval	 tv = { CLOSE_TIMEOUT, 0 };

	/*
	 * Both close frames went by (ours is out, the peer's is in, in
	 * either order).  Shut our side and wait for the peer's end:
	 * closing the socket with frames still unread would reset the
	 * connection, and nginx or the client would lose what we sent last
	 * (the error that explains the close).
	 */
	if (w->shut || wslay_event_want_read(w->ctx) ||
	    wslay_event_want_write(w->ctx) ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	w->shut = 1;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_set_timeouts(bev, &tv, NULL);
	bufferevent_enable(bev, EV_READ);
}

static void
ws_eventcb(struct bufferevent *bev, short what, void *arg)
{
	ws_end(arg);
}

int
ws_check_upgrade(const struct http_req *r)
{
	if (r->upgrade == NULL || strcasecmp(r->upgrade, "websocket") != 0)
		return 426;
	if (strcmp(r->method, "GET") != 0 || r->ws_key == NULL ||
	    strlen(r->ws_key) != 24 || r->ws_version == NULL ||
	    strcmp(r->ws_version, "13") != 0)
		return 400;
	return 0;
}

struct ws *
ws_accept(struct bufferevent *bev, const struct http_req *r,
    const struct ws_ops *ops, void *arg)
{
	struct ws	*w;
	unsigned char	 md[SHA_DIGEST_LENGTH];
	unsigned char	 accept[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
	char		 keyguid[24 + sizeof(WS_GUID)];

	memcpy(keyguid, r->ws_key, 24);
	memcpy(keyguid + 24, WS_GUID, sizeof(WS_GUID));
	SHA1((const unsigned char *)keyguid, strlen(keyguid), md);
	EVP_EncodeBlock(accept, md, sizeof(md));

	w = xcalloc(1, sizeof(*w));
	LIST_INSERT_HEAD(&all, w, entry);
	w->bev = bev;
	w->ops = ops;
	w->arg = arg;
	if (wslay_event_context_server_init(&w->ctx, &ws_callbacks, w) != 0) {
		log_error("wslay_event_context_server_init failed");
		abort();
	}
	wslay_event_config_set_max_recv_msg_length(w->ctx,
	    (uint64_t)notifier.cf->notifier_max_payload);
	evbuffer_add_printf(bufferevent_get_output(bev),
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
	bufferevent_setcb(bev, ws_readcb, ws_writecb, ws_eventcb, w);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	/* Frames the client sent right after its request are already here. */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
	return w;
}

void
ws_set_ops(struct ws *w, const struct ws_ops *ops, void *arg)
{
	w->ops = ops;
	w->arg = arg;
}

int
ws_send(struct ws *w, const char *msg, size_t len)
{
	struct wslay_event_msg	 m;
	size_t			 queued;

	if (w->closing)
		return 0;
	queued = evbuffer_get_length(bufferevent_get_output(w->bev)) +
	    wslay_event_get_queued_msg_length(w->ctx);
	/* What the kernel has not taken yet, including this turn of the
	 * loop's own burst: the cap must stay above the largest burst of a
	 * poll (its default, 1 MiB, is thousands of chat messages). */
	if (queued + len > (size_t)notifier.cf->notifier_max_queued_bytes)
		return -1;
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = (const uint8_t *)msg;
	m.msg_length = len;
	if (wslay_event_queue_msg(w->ctx, &m) != 0)
		return -1;
	if (!w->in_recv && wslay_event_send(w->ctx) != 0)
		return -1;
	return 0;
}

void
ws_close(struct ws *w, uint16_t code, const char *reason)
{
	struct timeval	 tv = { CLOSE_TIMEOUT, 0 };

	w->arg = NULL;
	if (w->closing)
		return;
	w->closing = 1;
	w->close_code = code;
	w->close_reason = reason;
	/* A peer that never answers the close is cut after this. */
	bufferevent_set_timeouts(w->bev, &tv, &tv);
	if (w->in_recv)
		return;		/* the read callback sends it */
	ws_pump(w);
}

void
ws_drop(struct ws *w)
{
	ws_destroy(w);
}

void
ws_shutdown(void)
{
	while (!LIST_EMPTY(&all))
		ws_end(LIST_FIRST(&all));
}
