/*
 * test_config.c -- config.ini parsing: defaults, values, environment
 * overrides and refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "tap.h"

#define SECRET "0123456789abcdef0123456789abcdef"

static int
defaults(void)
{
	CHECK(config_load_string("[jwt]\nsecret = " SECRET "\n") == 0);
	CHECK(config()->db_port == 3306);
	CHECK(strcmp(config()->db_name, "fastback") == 0);
	CHECK(config()->jwt_ttl == 604800);
	CHECK(config()->http_max_body == 1048576);
	CHECK(config()->otp_max_attempts == 5);
	CHECK(config()->mail_transport == MAIL_OUTBOX);
	CHECK(strcmp(config()->family[FAMILY_AUTH].listen,
	    "unix:/run/fastback/auth.sock") == 0);
	return 1;
}

static int
values(void)
{
	CHECK(config_load_string(
	    "; a comment\n"
	    "[database]\nport = 3307\npassword = pa;ss\n"
	    "[mail]\ntransport = smtp\nstarttls = yes\n"
	    "[log]\nrequests = no\n"
	    "[users]\nlisten = 127.0.0.1:9001\nworkers = 3\n") == 0);
	CHECK(config()->db_port == 3307);
	/* A ';' inside a word is part of the value. */
	CHECK(strcmp(config()->db_password, "pa;ss") == 0);
	CHECK(config()->mail_transport == MAIL_SMTP);
	CHECK(config()->mail_starttls == TLS_YES);
	CHECK(config()->log_requests == 0);
	CHECK(config()->family[FAMILY_USERS].workers == 3);
	CHECK(strcmp(config()->family[FAMILY_USERS].listen,
	    "127.0.0.1:9001") == 0);
	return 1;
}

static int
environment_wins(void)
{
	setenv("FASTBACK_DATABASE_PORT", "3400", 1);
	setenv("FASTBACK_MAIL_URL", "smtp://127.0.0.1:2525", 1);
	CHECK(config_load_string("[database]\nport = 3307\n") == 0);
	CHECK(config()->db_port == 3400);
	CHECK(strcmp(config()->mail_url, "smtp://127.0.0.1:2525") == 0);
	setenv("FASTBACK_DATABASE_PORT", "seventy", 1);
	CHECK(config_load_string("") == -1);
	unsetenv("FASTBACK_DATABASE_PORT");
	unsetenv("FASTBACK_MAIL_URL");
	return 1;
}

static int
refusals(void)
{
	/* Each of these must stop the program. */
	static const char *const bad[] = {
		"[database]\nhots = x\n",
		"[nosuch]\nkey = 1\n",
		"[database]\nport = 0\n",
		"[database]\nport = 70000\n",
		"[database]\nport = 33o6\n",
		"[log]\nlevel = loud\n",
		"[log]\nrequests = maybe\n",
		"[jwt]\nsecret = short\n",
		"not an ini line\n",
		"[dispatcher]\nbackoff_ms = 5000\nbackoff_max_ms = 10\n",
	};
	size_t	 i;

	for (i = 0; i < nitems(bad); i++) {
		if (config_load_string(bad[i]) != -1) {
			printf("# accepted: %s", bad[i]);
			return 0;
		}
	}
	return 1;
}

static int
missing_file(void)
{
	CHECK(config_load("/nonexistent/fastback.ini") == -1);
	return 1;
}

int
main(void)
{
	static const struct tap_case cases[] = {
		{ "every key has a default", defaults },
		{ "values are read and typed", values },
		{ "FASTBACK_<SECTION>_<KEY> overrides the file", environment_wins },
		{ "unknown keys and bad values are refused", refusals },
		{ "a missing file is refused", missing_file },
	};
	int	 rc;

	/* The refusals print their reasons; keep TAP output clean. */
	if (freopen("/dev/null", "w", stderr) == NULL)
		return 1;
	rc = tap_run(cases, nitems(cases));
	config_free();
	return rc;
}
