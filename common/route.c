/*
 * route.c -- matching a method and path against a route table.
 */
#include <string.h>

#include "alloc.h"
#include "request.h"
#include "route.h"

/* Length of the segment at p (up to '/' or the end). */
static size_t
seg_len(const char *p)
{
	return strcspn(p, "/");
}

/*
 * Match path against pattern.  strict: a trailing slash must agree.
 * Fills the request's captures on success.  Returns 1 on a match.
 */
static int
pattern_match(const char *pattern, const char *path, int strict,
    struct request *req)
{
	const char	*pp = pattern, *sp = path;
	const char	*names[REQUEST_MAX_CAPTURES];
	const char	*vals[REQUEST_MAX_CAPTURES];
	size_t		 lens[REQUEST_MAX_CAPTURES], n = 0, i;

	for (;;) {
		size_t	 pl, sl;

		/* Both at '/' or both at the end. */
		if (*pp == '\0' || *sp == '\0')
			break;
		if (*pp != '/' || *sp != '/')
			return 0;
		pp++, sp++;
		pl = seg_len(pp);
		sl = seg_len(sp);
		if (pl == 0 || sl == 0) {
			/* A trailing slash on one side or both. */
			if (pl != 0 || sl != 0)
				return 0;
			break;
		}
		if (pp[0] == '{' && pp[pl - 1] == '}') {
			if (n == REQUEST_MAX_CAPTURES)
				return 0;
			names[n] = pp + 1;
			vals[n] = sp;
			lens[n] = sl;
			n++;
		} else if (pl != sl || strncmp(pp, sp, pl) != 0)
			return 0;
		pp += pl;
		sp += sl;
	}
	/* What is left may only be one trailing slash, when not strict. */
	if (strict) {
		if (strcmp(pp, sp) != 0)
			return 0;
	} else if (!((*pp == '\0' || strcmp(pp, "/") == 0) &&
	    (*sp == '\0' || strcmp(sp, "/") == 0)))
		return 0;
	if (req != NULL) {
		for (i = 0; i < n; i++) {
			/* Names point into the static pattern, "id}...". */
			req->capture_names[i] = names[i];
			req->captures[i] = xstrndup(vals[i], lens[i]);
		}
		req->ncaptures = n;
	}
	return 1;
}

enum route_result
route_match(const struct route *routes, size_t nroutes, const char *method,
    const char *path, struct request *req, const struct route **found,
    char *allow, size_t n)
{
	size_t	 i, used = 0;
	int	 strict, path_seen = 0;

	if (allow != NULL && n > 0)
		allow[0] = '\0';
	*found = NULL;
	for (strict = 1; strict >= 0; strict--) {
		for (i = 0; i < nroutes; i++) {
			if (!pattern_match(routes[i].pattern, path, strict,
			    NULL))
				continue;
			if (strcmp(routes[i].method, method) == 0) {
				if (req != NULL)
					(void)pattern_match(routes[i].pattern,
					    path, strict, req);
				*found = &routes[i];
				return ROUTE_FOUND;
			}
			if (!path_seen)
				*found = &routes[i];
			path_seen = 1;
			if (allow != NULL && strstr(allow, routes[i].method)
			    == NULL && used + strlen(routes[i].method) + 3 < n) {
				if (used > 0) {
					memcpy(allow + used, ", ", 2);
					used += 2;
				}
				memcpy(allow + used, routes[i].method,
				    strlen(routes[i].method) + 1);
				used += strlen(routes[i].method);
			}
		}
		/* A path known with exact slashes is not re-tried loosely. */
		if (path_seen)
			break;
	}
	return path_seen ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
