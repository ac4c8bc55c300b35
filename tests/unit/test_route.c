/*
 * test_route.c -- route matching against a table shaped like the real ones.
 */
#include <string.h>

#include "alloc.h"
#include "request.h"
#include "route.h"
#include "tap.h"

static int h_a(struct request *q, struct reply *r) { (void)q; (void)r; return 0; }
static int h_b(struct request *q, struct reply *r) { (void)q; (void)r; return 1; }

static const struct route table[] = {
	{ "POST", "/api/auth/login", h_a, 0, DIALECT_002 },
	{ "POST", "/api/auth/login/", h_b, 0, DIALECT_004 },
	{ "GET", "/api/users/", h_a, 0, DIALECT_002 },
	{ "GET", "/api/users/{id}", h_b, 0, DIALECT_002 },
	{ "PUT", "/api/users/{id}", h_b, 0, DIALECT_002 },
	{ "DELETE", "/api/messages/private/{other}/{message}", h_a, 0,
	    DIALECT_002 },
	{ "GET", "/", h_a, 0, DIALECT_000 },
};

static enum route_result
match(const char *method, const char *path, struct request *req,
    const struct route **found, char *allow)
{
	memset(req, 0, sizeof(*req));
	return route_match(table, nitems(table), method, path, req, found,
	    allow, 64);
}

static int
exact_slash_decides(void)
{
	struct request		 req;
	const struct route	*r;
	char			 allow[64];

	CHECK(match("POST", "/api/auth/login", &req, &r, allow) == ROUTE_FOUND);
	CHECK(r->dialect == DIALECT_002);
	CHECK(match("POST", "/api/auth/login/", &req, &r, allow) ==
	    ROUTE_FOUND);
	CHECK(r->dialect == DIALECT_004);
	return 1;
}

static int
slash_tolerated_elsewhere(void)
{
	struct request		 req;
	const struct route	*r;
	char			 allow[64];

	CHECK(match("GET", "/api/users", &req, &r, allow) == ROUTE_FOUND);
	CHECK(r == &table[2]);
	CHECK(match("GET", "/api/users/7/", &req, &r, allow) == ROUTE_FOUND);
	CHECK(r == &table[3]);
	request_clear(&req);
	return 1;
}

static int
captures(void)
{
	struct request		 req;
	const struct route	*r;
	char			 allow[64];

	CHECK(match("DELETE", "/api/messages/private/12/345", &req, &r,
	    allow) == ROUTE_FOUND);
	CHECK(req.ncaptures == 2);
	CHECK(strcmp(request_capture(&req, "other"), "12") == 0);
	CHECK(strcmp(request_capture(&req, "message"), "345") == 0);
	CHECK(request_capture_id(&req, "message") == 345);
	CHECK(request_capture(&req, "oth") == NULL);
	request_clear(&req);
	CHECK(match("GET", "/api/users/abc", &req, &r, allow) == ROUTE_FOUND);
	CHECK(request_capture_id(&req, "id") == -1);
	request_clear(&req);
	CHECK(match("GET", "/api/users/007", &req, &r, allow) == ROUTE_FOUND);
	CHECK(request_capture_id(&req, "id") == -1);
	request_clear(&req);
	CHECK(match("GET", "/api/users/99999999999999999999", &req, &r,
	    allow) == ROUTE_FOUND);
	CHECK(request_capture_id(&req, "id") == -1);
	request_clear(&req);
	return 1;
}

static int
not_found_and_bad_method(void)
{
	struct request		 req;
	const struct route	*r;
	char			 allow[64];

	CHECK(match("GET", "/api/nothing", &req, &r, allow) ==
	    ROUTE_NOT_FOUND);
	CHECK(match("GET", "/api/users/1/2", &req, &r, allow) ==
	    ROUTE_NOT_FOUND);
	CHECK(match("PATCH", "/api/users/1", &req, &r, allow) ==
	    ROUTE_BAD_METHOD);
	CHECK(strcmp(allow, "GET, PUT") == 0);
	CHECK(r->dialect == DIALECT_002);
	CHECK(match("GET", "/api/auth/login", &req, &r, allow) ==
	    ROUTE_BAD_METHOD);
	CHECK(strcmp(allow, "POST") == 0);
	CHECK(match("GET", "/", &req, &r, allow) == ROUTE_FOUND);
	return 1;
}

int
main(void)
{
	static const struct tap_case cases[] = {
		{ "an exact trailing slash picks the seed", exact_slash_decides },
		{ "a trailing slash is ignored otherwise", slash_tolerated_elsewhere },
		{ "path captures and id validation", captures },
		{ "404 and 405 with Allow", not_found_and_bad_method },
	};

	return tap_run(cases, nitems(cases));
}
