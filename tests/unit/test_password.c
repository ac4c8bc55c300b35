/*
 * test_password.c -- argon2id hashing and verification.
 */
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "password.h"
#include "tap.h"

static int
hash_and_verify(void)
{
	char	 a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];

	CHECK(password_hash("correct horse", 13, a) == 0);
	CHECK(strncmp(a, "$argon2id$", 10) == 0);
	CHECK(password_verify(a, "correct horse", 13) == 1);
	CHECK(password_verify(a, "correct horsf", 13) == 0);
	CHECK(password_verify(a, "correct hors", 12) == 0);
	CHECK(password_verify(a, "", 0) == 0);
	/* A fresh salt every time. */
	CHECK(password_hash("correct horse", 13, b) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(password_verify(b, "correct horse", 13) == 1);
	return 1;
}

static int
broken_hashes(void)
{
	CHECK(password_verify(NULL, "x", 1) == 0);
	CHECK(password_verify("", "x", 1) == 0);
	CHECK(password_verify("plaintext", "plaintext", 9) == 0);
	CHECK(password_verify("$argon2id$v=19$m=8192,t=2,p=1$bad", "x", 1)
	    == 0);
	return 1;
}

static int
unicode_and_nul(void)
{
	char	 h[PASSWORD_HASH_MAX];

	CHECK(password_hash("p\xc3\xa4ss\0word", 10, h) == 0);
	CHECK(password_verify(h, "p\xc3\xa4ss\0word", 10) == 1);
	CHECK(password_verify(h, "p\xc3\xa4ss", 5) == 0);
	return 1;
}

static int
new_password_rules(void)
{
	char	 big[PASSWORD_MAX_LENGTH + 2];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(password_check_new("1234567", 7) != NULL);
	CHECK(password_check_new("12345678", 8) == NULL);
	/* Eight characters, not eight bytes. */
	CHECK(password_check_new("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4", 8) !=
	    NULL);
	CHECK(password_check_new(big, strlen(big)) != NULL);
	return 1;
}

int
main(void)
{
	static const struct tap_case cases[] = {
		{ "argon2id hashes verify, salted", hash_and_verify },
		{ "broken or foreign hashes never verify", broken_hashes },
		{ "passwords are bytes: UTF-8 and NUL survive", unicode_and_nul },
		{ "new passwords: length rules", new_password_rules },
	};

	/* The cheapest cost keeps the test fast; the code path is the same. */
	if (config_load_string("[password]\nmemlimit_kib = 8192\n"
	    "opslimit = 1\n") != 0 || password_init() != 0)
		return 1;
	return tap_run(cases, nitems(cases));
}
