/*
 * http.h -- the HTTP/1.1 side of the notifier: one request per connection
 * from nginx (it sends "Connection: close" to plain requests), parsed into
 * struct http_req, answered with http_reply() or handed over to the
 * WebSocket layer with http_upgrade().
 */
#ifndef FASTBACK_NOTIFIER_HTTP_H
#define FASTBACK_NOTIFIER_HTTP_H

#include <stddef.h>

struct bufferevent;
struct evconnlistener;
struct http_conn;

/* A request head; every pointer is into one allocation, NULL if absent. */
struct http_req {
	char		*head;		/* the head, split in place */
	const char	*method;
	const char	*path;		/* without the query */
	const char	*query;		/* after '?', "" if none */
	const char	*upgrade;	/* Upgrade: */
	const char	*ws_key;	/* Sec-WebSocket-Key: */
	const char	*ws_version;	/* Sec-WebSocket-Version: */
	const char	*authorization;
	const char	*forwarded_for;	/* X-Forwarded-For: set by nginx */
	const char	*device_id;	/* X-Device-Id: */
	const char	*user_agent;
	size_t		 content_length;
	char		*body;		/* NUL-terminated; NULL without one */
	size_t		 body_len;
};

/* Called when the peer goes away while a request waits (a long poll). */
typedef void	(*http_gone_fn)(void *arg);

/* Accept connections on host:port; NULL (logged) on failure. */
struct evconnlistener *http_listen(const char *hostport);

/*
 * Answer and close.  The connection and its request are freed once the
 * answer is written; the caller must not use them after.
 */
void		 http_reply(struct http_conn *, int status, const char *ctype,
		    const char *body, size_t len);
/* An error in fastback's JSON envelope: {"message", "error"}. */
void		 http_error(struct http_conn *, int status, const char *code,
		    const char *message);
/* Keep the connection open without an answer (a long poll); gone runs if
 * the peer closes first, after which the connection is freed. */
void		 http_hold(struct http_conn *, http_gone_fn gone, void *arg);
/* The request of a connection (valid until it is answered or upgraded). */
struct http_req	*http_request(struct http_conn *);
/* The client's address as nginx saw it. */
const char	*http_client_addr(const struct http_conn *);
/* Take the socket for a WebSocket: the request is kept by the caller
 * (freed with http_req_free), the connection shell is freed. */
struct bufferevent *http_upgrade(struct http_conn *, struct http_req *out);
void		 http_req_free(struct http_req *);
/* At exit: free the connections still open. */
void		 http_shutdown(void);

/* The value of name in a query string, decoded, in out (size n); -1 if the
 * parameter is absent or longer than n - 1. */
int		 http_query_get(const char *query, const char *name, char *out,
		    size_t n);

/* Defined by the programs using this file: where requests go. */
void		 http_dispatch(struct http_conn *);

#endif /* FASTBACK_NOTIFIER_HTTP_H */
