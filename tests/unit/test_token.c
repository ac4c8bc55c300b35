/*
 * test_token.c -- JWT checks that need no database: signature, pinned
 * algorithm, claims, expiry and the Authorization header forms.  Revoked
 * tokens need the sessions table and are tested through the API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <sodium.h>

#include "alloc.h"
#include "config.h"
#include "tap.h"
#include "token.h"

#define SECRET	"0123456789abcdef0123456789abcdef"
#define OTHER	"fedcba9876543210fedcba9876543210"
#define JTI	"00112233445566778899aabbccddeeff"

static int
load(const char *secret)
{
	char	 ini[256];

	snprintf(ini, sizeof(ini), "[jwt]\nsecret = %s\n", secret);
	return config_load_string(ini);
}

static enum token_status
decode(const char *t)
{
	long long	 uid;
	char		 jti[33];
	time_t		 exp;

	return token_decode(t, strlen(t), &uid, jti, &exp);
}

/* base64url of s, without padding, appended to b. */
static void
b64(struct buf *b, const void *s, size_t n)
{
	char	 out[1024];

	sodium_bin2base64(out, sizeof(out), s, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_puts(b, out);
}

/* A token with any header and payload, and an HS256 or empty signature. */
static char *
forge(const char *header, const char *payload, int sign)
{
	struct buf		 b = { NULL, 0, 0 };
	unsigned char		 mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	b64(&b, header, strlen(header));
	buf_puts(&b, ".");
	b64(&b, payload, strlen(payload));
	if (sign) {
		crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET,
		    strlen(SECRET));
		crypto_auth_hmacsha256_update(&st, (unsigned char *)b.data,
		    b.len);
		crypto_auth_hmacsha256_final(&st, mac);
		buf_puts(&b, ".");
		b64(&b, mac, sizeof(mac));
	} else
		buf_puts(&b, ".");
	return b.data;
}

static int
round_trip(void)
{
	long long	 uid;
	char		 jti[33], *t;
	time_t		 exp, now = time(NULL);

	CHECK(load(SECRET) == 0);
	CHECK((t = token_sign(42, JTI, now, now + 60)) != NULL);
	CHECK(token_decode(t, strlen(t), &uid, jti, &exp) == TOKEN_OK);
	CHECK(uid == 42 && strcmp(jti, JTI) == 0 && exp == now + 60);
	free(t);
	return 1;
}

static int
wrong_key(void)
{
	char	*t;
	time_t	 now = time(NULL);

	CHECK(load(OTHER) == 0);
	CHECK((t = token_sign(42, JTI, now, now + 60)) != NULL);
	CHECK(load(SECRET) == 0);
	CHECK(decode(t) == TOKEN_INVALID);
	free(t);
	return 1;
}

static int
tampered(void)
{
	char	*t, *dot;
	time_t	 now = time(NULL);

	CHECK(load(SECRET) == 0);
	CHECK((t = token_sign(42, JTI, now, now + 60)) != NULL);
	/* Change one character of the signature. */
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	CHECK(decode(t) == TOKEN_INVALID);
	free(t);
	/* Change the payload (another sub) and keep the signature. */
	t = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    "{\"sub\":\"42\",\"jti\":\"" JTI "\",\"iss\":\"fastback\","
	    "\"exp\":4102444800}", 1);
	dot = strchr(t, '.');
	CHECK(decode(t) == TOKEN_OK);
	dot[3] = dot[3] == 'x' ? 'y' : 'x';
	CHECK(decode(t) == TOKEN_INVALID);
	free(t);
	return 1;
}

static int
alg_none_and_others(void)
{
	char		*t;
	jwt_t		*j;
	const char	*payload = "{\"sub\":\"42\",\"jti\":\"" JTI "\","
	    "\"iss\":\"fastback\",\"exp\":4102444800}";

	CHECK(load(SECRET) == 0);
	t = forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, 0);
	CHECK(decode(t) == TOKEN_INVALID);
	free(t);
	t = forge("{\"alg\":\"NONE\"}", payload, 0);
	CHECK(decode(t) == TOKEN_INVALID);
	free(t);
	/* HS512 with the right secret: valid signature, wrong algorithm. */
	CHECK(jwt_new(&j) == 0);
	jwt_add_grant(j, "sub", "42");
	jwt_add_grant(j, "jti", JTI);
	jwt_add_grant(j, "iss", "fastback");
	jwt_add_grant_int(j, "exp", 4102444800L);
	jwt_set_alg(j, JWT_ALG_HS512, (const unsigned char *)SECRET,
	    strlen(SECRET));
	t = jwt_encode_str(j);
	jwt_free(j);
	CHECK(t != NULL);
	CHECK(decode(t) == TOKEN_INVALID);
	free(t);
	return 1;
}

static int
claims(void)
{
	char	*t;

	CHECK(load(SECRET) == 0);
	t = forge("{\"alg\":\"HS256\"}", "{\"sub\":\"42\",\"jti\":\"" JTI
	    "\",\"iss\":\"fastback\",\"exp\":1000}", 1);
	CHECK(decode(t) == TOKEN_EXPIRED);
	free(t);
	t = forge("{\"alg\":\"HS256\"}", "{\"sub\":\"42\",\"jti\":\"" JTI
	    "\",\"iss\":\"fastback\"}", 1);
	CHECK(decode(t) == TOKEN_INVALID);	/* no exp */
	free(t);
	t = forge("{\"alg\":\"HS256\"}", "{\"sub\":\"42\",\"jti\":\"" JTI
	    "\",\"iss\":\"elsewhere\",\"exp\":4102444800}", 1);
	CHECK(decode(t) == TOKEN_INVALID);	/* other issuer */
	free(t);
	t = forge("{\"alg\":\"HS256\"}", "{\"sub\":\"x\",\"jti\":\"" JTI
	    "\",\"iss\":\"fastback\",\"exp\":4102444800}", 1);
	CHECK(decode(t) == TOKEN_INVALID);	/* sub not an id */
	free(t);
	t = forge("{\"alg\":\"HS256\"}", "{\"sub\":\"42\",\"jti\":\"x\","
	    "\"iss\":\"fastback\",\"exp\":4102444800}", 1);
	CHECK(decode(t) == TOKEN_INVALID);	/* jti not ours */
	free(t);
	t = forge("{\"alg\":\"HS256\"}", "{\"sub\":\"42\",\"jti\":\"" JTI
	    "\",\"iss\":\"fastback\",\"exp\":\"4102444800\"}", 1);
	CHECK(decode(t) == TOKEN_INVALID);	/* exp not a number */
	free(t);
	return 1;
}

static int
garbage(void)
{
	CHECK(load(SECRET) == 0);
	CHECK(decode("") == TOKEN_INVALID);
	CHECK(decode("abc") == TOKEN_INVALID);
	CHECK(decode("a.b.c") == TOKEN_INVALID);
	CHECK(decode("....") == TOKEN_INVALID);
	CHECK(decode("eyJhbGciOiJIUzI1NiJ9..") == TOKEN_INVALID);
	return 1;
}

static int
headers(void)
{
	const char	*t;
	size_t		 n;

	CHECK(token_from_header(NULL, &t, &n) == TOKEN_MISSING);
	CHECK(token_from_header("", &t, &n) == TOKEN_MISSING);
	CHECK(token_from_header("Bearer abc", &t, &n) == TOKEN_OK);
	CHECK(n == 3 && strncmp(t, "abc", 3) == 0);
	CHECK(token_from_header("bearer abc", &t, &n) == TOKEN_OK);
	CHECK(token_from_header("Token abc", &t, &n) == TOKEN_OK);
	CHECK(token_from_header("Basic abc", &t, &n) == TOKEN_MALFORMED);
	CHECK(token_from_header("Bearer", &t, &n) == TOKEN_MALFORMED);
	CHECK(token_from_header("Bearer ", &t, &n) == TOKEN_MALFORMED);
	CHECK(token_from_header("Bearer a b", &t, &n) == TOKEN_MALFORMED);
	CHECK(token_from_header("abc", &t, &n) == TOKEN_MALFORMED);
	return 1;
}

static int
short_secret_refused(void)
{
	CHECK(config_load_string("") == 0);
	CHECK(token_init() == -1);
	CHECK(load(SECRET) == 0);
	CHECK(token_init() == 0);
	return 1;
}

int
main(void)
{
	static const struct tap_case cases[] = {
		{ "a signed token decodes to its claims", round_trip },
		{ "a token signed with another key is refused", wrong_key },
		{ "a tampered signature or payload is refused", tampered },
		{ "alg none and HS512 are refused (algorithm pinned)",
		    alg_none_and_others },
		{ "expired, no exp, wrong issuer, bad sub/jti are refused",
		    claims },
		{ "garbage tokens are refused", garbage },
		{ "Authorization: Bearer and Token forms", headers },
		{ "an empty or short secret stops the program",
		    short_secret_refused },
	};
	int	 rc;

	if (sodium_init() == -1 || freopen("/dev/null", "w", stderr) == NULL)
		return 1;
	rc = tap_run(cases, nitems(cases));
	config_free();
	return rc;
}
