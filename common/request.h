/*
 * request.h -- one HTTP request as a handler sees it.
 *
 * Handlers never touch FastCGI: responder.c fills this structure from the
 * FastCGI parameters and body, checks the token when the route wants one,
 * and parses the JSON body when the route takes one.  Every pointer in it
 * lives until the request is finished.
 */
#ifndef FASTBACK_REQUEST_H
#define FASTBACK_REQUEST_H

#include <stddef.h>

#define REQUEST_MAX_CAPTURES	4

struct json_object;
struct route;

/* Who sent the request, once a token was verified. */
struct auth {
	long long	 user_id;	/* 0: anonymous */
	char		 jti[33];	/* the session of the token */
	char		*username;	/* NULL when the user has none */
	char		*email;		/* NULL when the user has none */
};

struct request {
	const char	*method;	/* "GET", "POST", ... */
	const char	*path;		/* decoded path, no query */
	const char	*query;		/* raw query string, "" if none */
	const char	*remote_addr;
	const char	*user_agent;	/* "" if none */
	char		 id[40];	/* request id: nginx's or our own */

	char		*body;		/* raw body, NUL-terminated; NULL if none */
	size_t		 body_len;
	struct json_object *json;	/* parsed body (ROUTE_BODY): an object */

	const struct route *route;
	const char	*capture_names[REQUEST_MAX_CAPTURES];
	char		*captures[REQUEST_MAX_CAPTURES];
	size_t		 ncaptures;

	struct auth	 auth;
	void		*fcgi;		/* FCGX_Request *, for request.c only */
};

/*
 * A request header by its HTTP name ("Authorization", "CL-X-TOKEN"), or
 * NULL.  The name is matched the CGI way (upper case, '-' as '_').
 */
const char	*request_header(const struct request *, const char *name);

/* A path capture by its name in the route pattern ("id"), or NULL. */
const char	*request_capture(const struct request *, const char *name);

/*
 * A path capture that must be a positive decimal id (1 .. 2^63-1).
 * Returns the id, or -1 when absent or not such a number.
 */
long long	 request_capture_id(const struct request *, const char *name);

/*
 * The decoded value of query parameter name into buf (size n), or NULL
 * when absent, undecodable or too long.
 */
const char	*request_query(const struct request *, const char *name,
		    char *buf, size_t n);

/*
 * Query parameter name as an integer in [min, max]; def when absent.
 * Returns -1 and sets *bad when present but not such a number.
 */
long long	 request_query_int(const struct request *, const char *name,
		    long long def, long long min, long long max, int *bad);

/* A page of a list: at most limit items, with ids below before (0: none). */
struct page {
	long long	 limit;
	long long	 before;
};

struct reply;

/*
 * Read ?limit= (1..max, default def) and ?before=<id> (a positive id) for
 * cursor pagination: a list answers its newest items first and the next
 * page is asked for with before = the smallest id seen.  Returns 0, or
 * the status of the 400 written when either is not a valid number.
 */
int		 request_page(const struct request *, struct reply *,
		    long long def, long long max, struct page *);

/* Release what the request owns (body, JSON, captures, auth strings). */
void		 request_clear(struct request *);

#endif
