/*
 * eio.h -- Engine.IO v4 sessions: the handshake, HTTP long-polling, the
 * WebSocket transport and the upgrade from one to the other, heartbeats
 * and the message size limit.  One session carries one Socket.IO socket
 * (sio.c) and knows nothing of what the messages mean.
 */
#ifndef FASTBACK_NOTIFIER_EIO_H
#define FASTBACK_NOTIFIER_EIO_H

#include <stddef.h>

struct eio;
struct http_conn;

/* A request to /socket.io/: a poll, a post, a handshake or an upgrade. */
void		 eio_http(struct http_conn *);
/* Send one Engine.IO packet ("4..." for a message).  -1 when the peer is
 * too far behind (the caller closes the session). */
int		 eio_send(struct eio *, const char *pkt, size_t len);
/* End the session; nothing is called back. */
void		 eio_close(struct eio *);
/* The session id, for logs. */
const char	*eio_sid(const struct eio *);
/* Sessions open on this notifier. */
size_t		 eio_count(void);
/* At exit, once every session is closed. */
void		 eio_shutdown(void);

#endif /* FASTBACK_NOTIFIER_EIO_H */
