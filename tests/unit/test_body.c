/*
 * test_body.c -- strict JSON parsing and declared fields.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "reply.h"
#include "request.h"
#include "tap.h"
#include "valid.h"

static int
parse_ok(const char *s)
{
	const char		*why;
	struct json_object	*o = body_parse(s, strlen(s), &why);

	if (o == NULL)
		return 0;
	json_object_put(o);
	return 1;
}

static int
strict_parsing(void)
{
	static const char deep[] = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]";

	CHECK(parse_ok("{\"a\": 1}"));
	CHECK(parse_ok("  {\"a\": [1, 2, {\"b\": null}]}  \n"));
	CHECK(!parse_ok(""));
	CHECK(!parse_ok("{"));
	CHECK(!parse_ok("{\"a\": 1} trailing"));
	CHECK(!parse_ok("{\"a\": 1}{}"));
	CHECK(!parse_ok("{'a': 1}"));
	CHECK(!parse_ok("{\"a\": 1,}"));
	CHECK(!parse_ok("{\"a\": \"\xff\xfe\"}"));
	CHECK(!parse_ok(deep));
	CHECK(!parse_ok("nul"));
	return 1;
}

enum { F_NAME, F_AGE, F_OK, F_EMAIL, F__MAX };

static const struct field fields[F__MAX] = {
	[F_NAME] = { "name", FIELD_STRING, FIELD_REQUIRED | FIELD_TRIM, 2, 5,
	    NULL },
	[F_AGE] = { "age", FIELD_INT, 0, 0, 150, NULL },
	[F_OK] = { "ok", FIELD_BOOL, 0, 0, 0, NULL },
	[F_EMAIL] = { "email", FIELD_STRING, 0, 0, 254, valid_email },
};

/* Read fields from JSON text; returns the status (0 when accepted). */
static int
read_json(const char *text, struct field_value *v, struct reply *rep)
{
	struct request	 req;
	const char	*why;
	int		 rc;

	memset(&req, 0, sizeof(req));
	memset(rep, 0, sizeof(*rep));
	req.json = body_parse(text, strlen(text), &why);
	rc = body_fields(&req, rep, fields, F__MAX, v);
	json_object_put(req.json);
	return rc;
}

static int
declared_fields(void)
{
	struct field_value	 v[F__MAX];
	struct reply		 rep;

	CHECK(read_json("{\"name\": \" ab \", \"age\": 7, \"ok\": true, "
	    "\"extra\": [1]}", v, &rep) == 0);
	CHECK(v[F_NAME].present && strcmp(v[F_NAME].s, "ab") == 0);
	CHECK(v[F_AGE].present && v[F_AGE].i == 7);
	CHECK(v[F_OK].present && v[F_OK].b == 1);
	CHECK(!v[F_EMAIL].present);
	body_values_free(v, F__MAX);
	reply_clear(&rep);
	/* Multi-byte characters count once. */
	CHECK(read_json("{\"name\": \"\xc3\xa9\xc3\xa9\xc3\xa9\"}", v, &rep)
	    == 0);
	body_values_free(v, F__MAX);
	reply_clear(&rep);
	return 1;
}

static int
refused_fields(void)
{
	static const char *const bad[] = {
		"{}",
		"{\"name\": null}",
		"{\"name\": \"\"}",
		"{\"name\": \"a\"}",
		"{\"name\": \"abcdef\"}",
		"{\"name\": 12}",
		"{\"name\": \"ab\\u0000c\"}",
		"{\"name\": \"ab\", \"age\": \"7\"}",
		"{\"name\": \"ab\", \"age\": 7.5}",
		"{\"name\": \"ab\", \"age\": 151}",
		"{\"name\": \"ab\", \"age\": 99999999999999999999}",
		"{\"name\": \"ab\", \"ok\": 1}",
		"{\"name\": \"ab\", \"email\": \"not-an-email\"}",
	};
	struct field_value	 v[F__MAX];
	struct reply		 rep;
	size_t			 i;

	for (i = 0; i < nitems(bad); i++) {
		if (read_json(bad[i], v, &rep) != 400) {
			printf("# accepted: %s\n", bad[i]);
			return 0;
		}
		CHECK(rep.body != NULL);
		reply_clear(&rep);
	}
	return 1;
}

static int
error_dialects(void)
{
	struct reply		 rep;
	struct json_object	*o;

	memset(&rep, 0, sizeof(rep));
	rep.dialect = DIALECT_004;
	CHECK(reply_invalid(&rep, "email", "Enter a valid email address.") ==
	    400);
	CHECK(json_object_object_get_ex(rep.body, "email", &o));
	CHECK(json_object_is_type(o, json_type_array));
	reply_clear(&rep);
	rep.dialect = DIALECT_003;
	CHECK(reply_error(&rep, 410, "otp_mismatch", "OTP does not match.") ==
	    410);
	CHECK(json_object_object_get_ex(rep.body, "status_code", &o));
	CHECK(json_object_get_int(o) == 410);
	reply_clear(&rep);
	rep.dialect = DIALECT_000;
	reply_error(&rep, 403, "invalid_token", "Token is invalid.");
	CHECK(json_object_object_get_ex(rep.body, "error", &o));
	CHECK(strcmp(json_object_get_string(o), "Token is invalid.") == 0);
	reply_clear(&rep);
	return 1;
}

static int
validators(void)
{
	CHECK(valid_email("a@b.co", 6) == NULL);
	CHECK(valid_email("user.name+tag@example.com", 25) == NULL);
	CHECK(valid_email("invalid-email", 13) != NULL);
	CHECK(valid_email("a@b", 3) != NULL);
	CHECK(valid_email("a@@b.co", 7) != NULL);
	CHECK(valid_email("a b@c.co", 8) != NULL);
	CHECK(valid_email("a@b..co", 7) != NULL);
	CHECK(valid_http_url("https://example.com/x", 21) == NULL);
	CHECK(valid_http_url("invalid-url", 11) != NULL);
	CHECK(valid_http_url("ftp://x.y", 9) != NULL);
	CHECK(valid_http_url("http://", 7) != NULL);
	CHECK(valid_http_url("http://a b", 10) != NULL);
	CHECK(valid_username("bob", 3) == NULL);
	CHECK(valid_username(" bob", 4) != NULL);
	CHECK(valid_username("b@b", 3) != NULL);
	CHECK(valid_phone("+1 (555) 123-4567", 17) == NULL);
	CHECK(valid_phone("12ab", 4) != NULL);
	return 1;
}

static int
query_and_pages(void)
{
	struct request	 req;
	struct reply	 rep;
	struct page	 pg;
	char		 buf[32];

	memset(&req, 0, sizeof(req));
	memset(&rep, 0, sizeof(rep));
	req.query = "a=x%20y+z&limit=50&before=12&e=&bad=%zz";
	CHECK(strcmp(request_query(&req, "a", buf, sizeof(buf)), "x y z") == 0);
	CHECK(strcmp(request_query(&req, "e", buf, sizeof(buf)), "") == 0);
	CHECK(request_query(&req, "bad", buf, sizeof(buf)) == NULL);
	CHECK(request_query(&req, "missing", buf, sizeof(buf)) == NULL);
	CHECK(request_query(&req, "a", buf, 3) == NULL);
	CHECK(request_page(&req, &rep, 100, 1000, &pg) == 0);
	CHECK(pg.limit == 50 && pg.before == 12);
	req.query = "";
	CHECK(request_page(&req, &rep, 100, 1000, &pg) == 0);
	CHECK(pg.limit == 100 && pg.before == 0);
	req.query = "limit=1001";
	CHECK(request_page(&req, &rep, 100, 1000, &pg) == 400);
	reply_clear(&rep);
	req.query = "limit=0";
	CHECK(request_page(&req, &rep, 100, 1000, &pg) == 400);
	reply_clear(&rep);
	req.query = "before=-3";
	CHECK(request_page(&req, &rep, 100, 1000, &pg) == 400);
	reply_clear(&rep);
	req.query = "limit=1e3";
	CHECK(request_page(&req, &rep, 100, 1000, &pg) == 400);
	reply_clear(&rep);
	return 1;
}

int
main(void)
{
	static const struct tap_case cases[] = {
		{ "bodies are parsed strictly", strict_parsing },
		{ "declared fields are typed and trimmed", declared_fields },
		{ "wrong, missing and oversized fields get 400", refused_fields },
		{ "errors follow the route's dialect", error_dialects },
		{ "e-mail, URL, username and phone validators", validators },
		{ "query parameters and cursor pages", query_and_pages },
	};

	return tap_run(cases, nitems(cases));
}
