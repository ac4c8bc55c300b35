/*
 * test_fuzz.c -- mutation fuzzing of the parsers that face the network:
 * JSON bodies into declared fields, paths into the router, query strings,
 * Authorization headers and tokens.  Deterministic (fixed seed), so a
 * failure reproduces; under AddressSanitizer a memory error fails the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "config.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "tap.h"
#include "token.h"
#include "valid.h"

#define ROUNDS	100000

static uint64_t	 rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Copy seed into buf (size n) with a few random edits; returns the length. */
static size_t
mutate(const char *seed, char *buf, size_t n)
{
	size_t	 len = strlen(seed), edits = 1 + next() % 4, i;

	if (len > n)
		len = n;
	memcpy(buf, seed, len);
	for (i = 0; i < edits; i++) {
		size_t	 at = len == 0 ? 0 : next() % len;

		switch (next() % 4) {
		case 0:		/* flip a byte */
			if (len > 0)
				buf[at] = (char)next();
			break;
		case 1:		/* cut */
			len = at;
			break;
		case 2:		/* duplicate a span */
			if (len > 0 && len * 2 <= n) {
				memcpy(buf + len, buf, len);
				len *= 2;
			}
			break;
		default:	/* insert a JSON-ish character */
			if (len + 1 < n) {
				static const char pool[] =
				    "{}[]\",:\\0-eE.nul \x80\xff";

				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = pool[next() % (sizeof(pool) - 1)];
				len++;
			}
			break;
		}
	}
	return len;
}

enum { F_S, F_I, F_B, F_O, F_A, F_E, F__MAX };

static const struct field fields[F__MAX] = {
	[F_S] = { "s", FIELD_STRING, FIELD_TRIM, 1, 10, NULL },
	[F_I] = { "i", FIELD_INT, 0, -5, 5, NULL },
	[F_B] = { "b", FIELD_BOOL, 0, 0, 0, NULL },
	[F_O] = { "o", FIELD_OBJECT, 0, 0, 0, NULL },
	[F_A] = { "a", FIELD_ARRAY, 0, 0, 0, NULL },
	[F_E] = { "e", FIELD_STRING, 0, 0, 254, valid_email },
};

static int
fuzz_bodies(void)
{
	static const char *const seeds[] = {
		"{\"s\": \"hello\", \"i\": 3, \"b\": true, \"o\": {}, \"a\": []}",
		"{\"e\": \"a@b.co\", \"s\": \"\\u00e9\\ud83d\\ude00\"}",
		"[1, 2.5e10, -0, null, \"x\"]",
		"{\"i\": 99999999999999999999999, \"s\": \"  x  \"}",
	};
	char		 buf[512];
	size_t		 i, len;

	for (i = 0; i < ROUNDS; i++) {
		struct request		 req;
		struct reply		 rep;
		struct field_value	 v[F__MAX];
		const char		*why;

		len = mutate(seeds[i % nitems(seeds)], buf, sizeof(buf));
		memset(&req, 0, sizeof(req));
		memset(&rep, 0, sizeof(rep));
		rep.dialect = (enum dialect)(i % 6);
		req.json = body_parse(buf, len, &why);
		if (req.json != NULL &&
		    json_object_is_type(req.json, json_type_object) &&
		    body_fields(&req, &rep, fields, F__MAX, v) == 0)
			body_values_free(v, F__MAX);
		if (req.json != NULL)
			json_object_put(req.json);
		reply_clear(&rep);
	}
	return 1;
}

static int h(struct request *q, struct reply *r) { (void)q; (void)r; return 0; }

static const struct route routes[] = {
	{ "GET", "/", h, 0, DIALECT_000 },
	{ "GET", "/api/users/{id}", h, 0, DIALECT_002 },
	{ "POST", "/api/auth/login/", h, 0, DIALECT_004 },
	{ "DELETE", "/api/messages/private/{a}/{b}", h, 0, DIALECT_002 },
};

static int
fuzz_paths_and_queries(void)
{
	static const char *const seeds[] = {
		"/api/users/12", "/api/auth/login/", "/api/messages/private/1/2",
		"/", "//a//b/", "a=1&b=%41%zz&c", "limit=10&before=99",
	};
	char		 buf[256], allow[64], out[64];
	size_t		 i, len;
	int		 bad;

	for (i = 0; i < ROUNDS; i++) {
		struct request		 req;
		const struct route	*found;

		len = mutate(seeds[i % nitems(seeds)], buf, sizeof(buf) - 1);
		buf[len] = '\0';
		memset(&req, 0, sizeof(req));
		(void)route_match(routes, nitems(routes), "GET", buf, &req,
		    &found, allow, sizeof(allow));
		(void)request_capture_id(&req, "id");
		req.query = buf;
		(void)request_query(&req, "a", out, sizeof(out));
		bad = 0;
		(void)request_query_int(&req, "limit", 1, 1, 100, &bad);
		request_clear(&req);
	}
	return 1;
}

static int
fuzz_tokens(void)
{
	char		*t, buf[1024], jti[33];
	const char	*tok;
	size_t		 i, len, tlen;
	long long	 uid;
	time_t		 exp, now = time(NULL);

	CHECK((t = token_sign(7, "00112233445566778899aabbccddeeff", now,
	    now + 60)) != NULL);
	for (i = 0; i < ROUNDS / 4; i++) {
		len = mutate(t, buf, sizeof(buf) - 1);
		buf[len] = '\0';
		(void)token_decode(buf, len, &uid, jti, &exp);
		(void)token_from_header(buf, &tok, &tlen);
	}
	free(t);
	return 1;
}

int
main(void)
{
	static const struct tap_case cases[] = {
		{ "mutated JSON bodies never crash the field reader", fuzz_bodies },
		{ "mutated paths and query strings never crash the router",
		    fuzz_paths_and_queries },
		{ "mutated tokens never crash the verifier", fuzz_tokens },
	};

	if (config_load_string("[jwt]\nsecret = "
	    "0123456789abcdef0123456789abcdef\n") != 0)
		return 1;
	return tap_run(cases, nitems(cases));
}
