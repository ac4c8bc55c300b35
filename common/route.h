/*
 * route.h -- the route table: method + path pattern -> handler.
 *
 * A responder's routes are one static table; route_match() is the only
 * dispatcher.  Patterns are literal segments and {name} captures of one
 * segment each.  A trailing slash matters only when two routes differ by
 * it alone (002's /api/auth/login vs 004's /api/auth/login/): an exact
 * match wins, otherwise the slash is ignored.
 */
#ifndef FASTBACK_ROUTE_H
#define FASTBACK_ROUTE_H

#include <stddef.h>

#include "reply.h"

struct request;
struct reply;

/* Returns the HTTP status written into the reply. */
typedef int (*route_handler)(struct request *, struct reply *);

#define ROUTE_PUBLIC		0x01	/* no token needed */
#define ROUTE_AUTH_OPTIONAL	0x02	/* a token is checked if sent */
#define ROUTE_BODY		0x04	/* the body must be a JSON object */
#define ROUTE_NO_DB		0x08	/* never touches the database */

struct route {
	const char	*method;
	const char	*pattern;
	route_handler	 handler;
	unsigned int	 flags;
	enum dialect	 dialect;
};

enum route_result {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD
};

/*
 * Find the route for method and path.  On ROUTE_FOUND sets *found and fills
 * the request's captures (request_clear() frees them).  On
 * ROUTE_BAD_METHOD writes the allowed methods ("GET, POST") into allow
 * (size n) and points *found at one route of that path, for its dialect.
 */
enum route_result route_match(const struct route *, size_t nroutes,
		    const char *method, const char *path, struct request *,
		    const struct route **found, char *allow, size_t n);

#endif
