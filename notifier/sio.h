/*
 * sio.h -- Socket.IO v5 on an Engine.IO session: CONNECT with its auth
 * payload, CONNECT_ERROR, EVENT and ACK (with ids), DISCONNECT, in the
 * default namespace.  Events go to the seeds' handlers by name.
 */
#ifndef FASTBACK_NOTIFIER_SIO_H
#define FASTBACK_NOTIFIER_SIO_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct eio;
struct event_row;
struct http_req;
struct json_object;

/* A client event: arg is its first argument (NULL if none), ack its id
 * or -1. */
struct sio_handler {
	const char	*name;
	void		(*fn)(struct client *, struct json_object *arg,
			    int64_t ack);
};

/* The seeds' events, each list ending with a NULL name. */
extern const struct sio_handler seed000_handlers[];
extern const struct sio_handler seed002_handlers[];

/* From eio.c: a new session, one of its messages, its end. */
struct client	*sio_open(struct eio *, const struct http_req *,
		    const char *addr);
void		 sio_packet(struct client *, const char *, size_t);
void		 sio_closed(struct client *);

/* 42["event",json(,"seq")]: json is JSON text, or NULL for no argument;
 * seq 0 for none.  The packet is malloc'ed; *len is its length. */
char		*sio_event_packet(const char *event, const char *json,
		    size_t jlen, uint64_t seq, size_t *len);
void		 sio_emit(struct client *, const char *event, const char *json);
/* An "error" event {"message": message}. */
void		 sio_error(struct client *, const char *message);
/* 43<id>[json]: json is one JSON value. */
void		 sio_ack(struct client *, int64_t id, const char *json);
/* Send DISCONNECT (41): the client does not reconnect by itself. */
void		 sio_disconnect(struct client *);
/* A retained event sent to one socket on resume. */
void		 sio_replay(void *client, const struct event_row *);

#endif /* FASTBACK_NOTIFIER_SIO_H */
