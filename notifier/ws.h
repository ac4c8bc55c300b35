/*
 * ws.h -- RFC 6455 WebSockets on a connection nginx upgraded: the opening
 * handshake here, the framing by wslay, and a cap on what may wait to be
 * sent so that a slow reader cannot make the notifier's memory grow.
 */
#ifndef FASTBACK_NOTIFIER_WS_H
#define FASTBACK_NOTIFIER_WS_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct http_req;
struct ws;

struct ws_ops {
	/* A complete text message (not NUL-terminated). */
	void	(*text)(void *arg, const char *msg, size_t len);
	/* The connection ended by itself (peer close, error, protocol
	 * violation, binary frame); the ws is gone after this returns. */
	void	(*closed)(void *arg);
};

/* Is this request a valid WebSocket upgrade?  0, or an HTTP status. */
int		 ws_check_upgrade(const struct http_req *);
/* Answer 101 and start framing on bev.  Never NULL. */
struct ws	*ws_accept(struct bufferevent *, const struct http_req *,
		    const struct ws_ops *, void *arg);
/* Hand the connection to other callbacks (an upgrade completed). */
void		 ws_set_ops(struct ws *, const struct ws_ops *, void *arg);
/* Queue a text message.  -1 when the peer does not read fast enough (more
 * than [notifier] max_queued_bytes waiting): the caller drops it. */
int		 ws_send(struct ws *, const char *, size_t);
/* Send a close frame and let go: no callback runs after this, and the
 * connection is freed once the frame is out (or after a few seconds). */
void		 ws_close(struct ws *, uint16_t code, const char *reason);
/* Let go at once, without a close frame (a slow consumer). */
void		 ws_drop(struct ws *);
/* At exit: free every connection still open. */
void		 ws_shutdown(void);

#endif /* FASTBACK_NOTIFIER_WS_H */
