/*
 * client.h -- one socket of an authenticated user, whatever its protocol
 * (a Socket.IO socket over Engine.IO, or 003's plain WebSocket): who it
 * is, the token it calls the API with, the rooms it is in, its calls under
 * way, its rate limit, and how it ends.
 */
#ifndef FASTBACK_NOTIFIER_CLIENT_H
#define FASTBACK_NOTIFIER_CLIENT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct bridge_call;
struct bridge_reply;
struct eio;
struct event;
struct event_row;
struct http_conn;
struct json_object;
struct member;
struct ws;

enum client_kind {
	CLIENT_SIO,		/* Socket.IO: seeds 000 and 002 */
	CLIENT_WS003		/* 003's send_message_ws */
};

enum client_state {
	CLIENT_NEW,		/* no CONNECT yet (Socket.IO) */
	CLIENT_VERIFYING,	/* the token is being checked */
	CLIENT_READY,		/* authenticated */
	CLIENT_DEAD
};

/* Why a socket is ended by the notifier. */
enum client_end {
	END_QUIET,		/* the transport is gone, or drop it as is */
	END_DISCONNECT,		/* for good: Socket.IO 41, close frame 1008 */
	END_GOING_AWAY		/* the notifier stops: clients reconnect */
};

struct call;
struct client;

/* The token check's outcome: err NULL when the API accepted it. */
typedef void	(*client_verified_fn)(struct client *, const char *err,
		    const char *code);

struct client {
	LIST_ENTRY(client)	 entry;		/* every live client */
	enum client_kind	 kind;
	enum client_state	 state;
	struct eio		*eio;		/* CLIENT_SIO */
	struct ws		*ws;		/* CLIENT_WS003 */
	struct http_conn	*hc;	/* 003: the upgrade being checked */
	LIST_HEAD(, member)	 rooms;		/* rooms.c's memberships */
	struct call		*calls;		/* API calls under way */
	struct event		*timer;		/* connect timeout */
	client_verified_fn	 verified;
	int64_t			 user_id;
	char			*username;
	char			*email;
	char			*path_email;	/* 003: until checked */
	char			*token;
	char			*device_id;
	/* Resume: the events after this seq (0: none) and the socket whose
	 * rooms to recall. */
	uint64_t		 resume_after;
	char			*resume_pid;
	int64_t			 conv;		/* 003: the conversation */
	int64_t			 acked;		/* 003: last message acked */
	int64_t			 early;	/* 003: delivered before acked */
	double			 tokens;	/* rate limit bucket */
	long long		 tokens_ms;
	unsigned		 warned:1;
	unsigned		 no_offsets:1;	/* no trailing seq argument */
	char			 jti[40];
	char			 sid[21];	/* Socket.IO socket id */
	char			 pid[21]; /* presence id, Socket.IO's pid */
	char			 addr[46];
};

typedef void	(*client_reply_fn)(struct client *, const struct bridge_reply *,
		    int64_t ack, int64_t arg);

struct client	*client_new(enum client_kind, const char *addr);
/* At exit: end every socket, so that the clients reconnect and resume
 * (from another notifier, or this one restarted). */
void		 client_close_all(void);
/* Record every open socket's presence row and rooms again. */
void		 client_presence_restore(void);
/* End the socket; the struct is freed once the loop is back at the top. */
void		 client_close(struct client *, enum client_end);
/* The transport ended by itself. */
void		 client_transport_gone(struct client *);
/* One packet or frame to the client; on overflow the client is dropped
 * and -1 returned. */
int		 client_send(struct client *, const char *, size_t);
/*
 * The REST call a REST client would make, with the socket's token,
 * address and device.  fn runs later, unless the client ends first.
 * ack and arg are handed back as they are.
 */
void		 client_call(struct client *, const char *method,
		    const char *path, const char *body, size_t len,
		    client_reply_fn, int64_t ack, int64_t arg);
/* Check the token with the API (and the user's socket count), then call
 * done; on failure the state is back to NEW. */
void		 client_verify(struct client *, client_verified_fn done);
/* Authenticated: join the user's room, write the presence row under pid
 * (NULL: a new one).  The client may be dropped here (state DEAD). */
void		 client_ready(struct client *, const char *pid);
/* An error to the client: Socket.IO "error" event, 003 error frame. */
void		 client_error(struct client *, int status, const char *message);
/* Count one client event: 0 to go on, -1 to drop it (an error was sent),
 * -2 when the client was disconnected for abuse. */
int		 client_rate(struct client *);
/* The connect timeout: end the socket if it is not READY in time. */
void		 client_start_timer(struct client *);
/* Store the client's rooms in its presence row. */
void		 client_save_rooms(struct client *);
/* A session_revoked or user_deleted event in the user's room. */
void		 client_revoked(struct client *, const char *event,
		    struct json_object *payload);
/* The message of an API error reply ({"message"}), or fallback. */
const char	*client_reply_message(const struct bridge_reply *,
		    struct json_object **holder, const char *fallback);

/* 002: on connect, "connected". */
void		 seed002_connected(struct client *);
/* 003: a request to send_message_ws, a room event for 003 sockets. */
void		 seed003_http(struct http_conn *);
struct room;
void		 seed003_event(struct room *, const struct event_row *,
		    struct json_object *payload);
void		 seed003_replay(void *client, const struct event_row *);

#endif /* FASTBACK_NOTIFIER_CLIENT_H */
