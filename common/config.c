/*
 * config.c -- config.ini, read once through one table of keys.
 *
 * The table below is the reference for every key: its section, name, type,
 * default and bounds.  Precedence: built-in default, then config.ini, then
 * the environment (FASTBACK_<SECTION>_<KEY>).  Unknown keys, values of the
 * wrong type and out-of-range numbers stop the program with a message that
 * names the key.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "alloc.h"
#include "config.h"
#include "log.h"

#ifndef FASTBACK_SYSCONFDIR
#define FASTBACK_SYSCONFDIR "/etc/fastback"
#endif

enum conf_type {
	CONF_STRING,
	CONF_INT,		/* int, within [min, max] */
	CONF_LONG,		/* long, within [min, max] */
	CONF_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	CONF_ENUM		/* one of names[], stored as int */
};

struct conf_key {
	const char	*section;
	const char	*name;
	enum conf_type	 type;
	size_t		 offset;
	const char	*def;		/* default, as it would be written */
	long		 min, max;	/* CONF_INT, CONF_LONG */
	const char *const *names;	/* CONF_ENUM, NULL-terminated */
	int		 secret;	/* masked by config_dump() */
};

static const char *const transports[] = { "outbox", "smtp", NULL };
static const char *const tls_modes[] = { "no", "try", "yes", NULL };
static const char *const levels[] = { "error", "warn", "info", "debug", NULL };

#define OFF(f)		offsetof(struct config, f)
#define STR(s, k, f, d)	{ s, k, CONF_STRING, OFF(f), d, 0, 0, NULL, 0 }
#define SECRET(s, k, f)	{ s, k, CONF_STRING, OFF(f), "", 0, 0, NULL, 1 }
#define INT(s, k, f, d, lo, hi) { s, k, CONF_INT, OFF(f), d, lo, hi, NULL, 0 }
#define LONG(s, k, f, d, lo, hi) { s, k, CONF_LONG, OFF(f), d, lo, hi, NULL, 0 }
#define BOOL(s, k, f, d) { s, k, CONF_BOOL, OFF(f), d, 0, 1, NULL, 0 }
#define ENUM(s, k, f, d, n) { s, k, CONF_ENUM, OFF(f), d, 0, 0, n, 0 }
#define FAMILY(s, fam)							\
	STR(s, "listen", family[fam].listen, "unix:/run/fastback/" s ".sock"), \
	INT(s, "workers", family[fam].workers, "0", 0, 256)

static const struct conf_key conf_keys[] = {
	STR("database", "host", db_host, "localhost"),
	INT("database", "port", db_port, "3306", 1, 65535),
	STR("database", "socket", db_socket, ""),
	STR("database", "user", db_user, "fastback"),
	SECRET("database", "password", db_password),
	STR("database", "name", db_name, "fastback"),
	INT("database", "connect_timeout", db_connect_timeout, "5", 1, 300),
	INT("database", "rw_timeout", db_rw_timeout, "30", 0, 86400),

	SECRET("jwt", "secret", jwt_secret),
	LONG("jwt", "ttl", jwt_ttl, "604800", 60, 31536000),
	STR("jwt", "issuer", jwt_issuer, "fastback"),

	LONG("http", "max_body", http_max_body, "1048576", 1024, 67108864),
	BOOL("http", "trust_forwarded", http_trust_forwarded, "no"),

	INT("responder", "workers", responder_workers, "0", 0, 256),
	INT("responder", "max_requests", responder_max_requests, "0", 0, INT_MAX),

	FAMILY("auth", FAMILY_AUTH),
	FAMILY("users", FAMILY_USERS),
	FAMILY("wallets", FAMILY_WALLETS),
	INT("wallets", "max_per_user", wallets_max_per_user, "100", 1, 100000),
	FAMILY("conversations", FAMILY_CONVERSATIONS),
	FAMILY("destinations", FAMILY_DESTINATIONS),

	LONG("password", "opslimit", password_opslimit, "2", 1, 16),
	LONG("password", "memlimit_kib", password_memlimit_kib, "65536",
	    8192, 1048576),
	INT("password", "min_length", password_min_length, "8", 1, 128),

	LONG("otp", "ttl", otp_ttl, "600", 60, 86400),
	INT("otp", "max_attempts", otp_max_attempts, "5", 1, 20),
	STR("otp", "subject", otp_subject, "Your password reset code"),

	ENUM("mail", "transport", mail_transport, "outbox", transports),
	STR("mail", "outbox_dir", mail_outbox_dir, "/var/spool/fastback/mail"),
	STR("mail", "url", mail_url, "smtp://127.0.0.1:25"),
	STR("mail", "from", mail_from, "fastback@localhost"),
	STR("mail", "username", mail_username, ""),
	SECRET("mail", "password", mail_password),
	ENUM("mail", "starttls", mail_starttls, "try", tls_modes),
	INT("mail", "timeout", mail_timeout, "30", 1, 600),

	INT("dispatcher", "poll_ms", dispatcher_poll_ms, "500", 10, 60000),
	INT("dispatcher", "batch", dispatcher_batch, "32", 1, 1000),
	INT("dispatcher", "concurrency", dispatcher_concurrency, "8", 1, 256),
	INT("dispatcher", "max_attempts", dispatcher_max_attempts, "8", 1, 100),
	LONG("dispatcher", "backoff_ms", dispatcher_backoff_ms, "5000",
	    10, 86400000),
	LONG("dispatcher", "backoff_max_ms", dispatcher_backoff_max_ms,
	    "3600000", 10, 604800000),
	INT("dispatcher", "lease", dispatcher_lease, "300", 5, 86400),

	/* [sync]: wallets family (keys go here) */
	STR("sync", "tables", sync_tables, ""),
	LONG("sync", "max_row_bytes", sync_max_row_bytes, "65536", 64, 16777216),
	INT("sync", "max_batch", sync_max_batch, "1000", 1, 100000),
	LONG("sync", "max_user_bytes", sync_max_user_bytes, "268435456",
	    1024, LONG_MAX),

	/* [chat]: conversations family (keys go here) */
	INT("chat", "max_message_length", chat_max_message_length, "4000",
	    1, 65535),
	INT("chat", "page_size", chat_page_size, "100", 1, 1000),
	INT("chat", "max_page_size", chat_max_page_size, "1000", 1, 10000),

	/* [push]: users family, the dispatcher push channel (keys go here) */
	STR("push", "gateway_url", push_gateway_url, ""),
	SECRET("push", "authorization", push_authorization),
	INT("push", "timeout", push_timeout, "10", 1, 600),

	/* [webhook]: destinations family and the dispatcher (keys go here) */
	LONG("webhook", "timeout_ms", webhook_timeout_ms, "15000", 100, 600000),
	BOOL("webhook", "allow_private", webhook_allow_private, "no"),
	STR("webhook", "schedule", webhook_schedule,
	    "5s,30s,2m,10m,30m,2h,6h,12h,24h"),
	LONG("webhook", "give_up", webhook_give_up, "172800", 1, 31536000),
	LONG("webhook", "max_response_bytes", webhook_max_response, "65536",
	    0, 16777216),
	INT("webhook", "max_destinations", webhook_max_destinations, "100",
	    1, 100000),

	STR("notifier", "listen", notifier_listen, "127.0.0.1:8090"),
	STR("notifier", "api_url", notifier_api_url, "http://127.0.0.1:8081"),
	INT("notifier", "poll_ms", notifier_poll_ms, "100", 5, 60000),
	INT("notifier", "gap_ms", notifier_gap_ms, "2000", 0, 600000),
	LONG("notifier", "retention", notifier_retention, "86400",
	    60, 31536000),
	INT("notifier", "prune_batch", notifier_prune_batch, "1000",
	    1, 100000),
	LONG("notifier", "api_timeout_ms", notifier_api_timeout_ms, "10000",
	    100, 600000),
	LONG("notifier", "api_max_reply", notifier_api_max_reply, "1048576",
	    1024, 67108864),
	INT("notifier", "presence_timeout", notifier_presence_timeout, "15",
	    2, 3600),
	LONG("notifier", "presence_keep", notifier_presence_keep, "600",
	    0, 604800),
	LONG("notifier", "max_payload", notifier_max_payload, "1000000",
	    1024, 104857600),
	INT("notifier", "ping_interval_ms", notifier_ping_interval_ms, "25000",
	    100, 3600000),
	INT("notifier", "ping_timeout_ms", notifier_ping_timeout_ms, "20000",
	    100, 3600000),
	INT("notifier", "connect_timeout_ms", notifier_connect_timeout_ms,
	    "45000", 100, 3600000),
	INT("notifier", "max_sockets_per_user", notifier_max_sockets_per_user,
	    "16", 1, 100000),
	INT("notifier", "rate_limit", notifier_rate_limit, "20", 1, 100000),
	INT("notifier", "rate_burst", notifier_rate_burst, "40", 1, 100000),
	LONG("notifier", "max_queued_bytes", notifier_max_queued_bytes,
	    "1048576", 4096, 1073741824),

	ENUM("log", "level", log_level, "info", levels),
	BOOL("log", "requests", log_requests, "yes"),
};

static const char *const family_names[FAMILY__MAX] = {
	[FAMILY_AUTH] = "auth",
	[FAMILY_USERS] = "users",
	[FAMILY_WALLETS] = "wallets",
	[FAMILY_CONVERSATIONS] = "conversations",
	[FAMILY_DESTINATIONS] = "destinations",
};

static struct config	 conf;
static int		 conf_loaded;

/* Parse context: where we are, for messages. */
struct conf_parse {
	const char	*file;
	int		 failed;
};

const struct config *
config(void)
{
	return &conf;
}

const char *
family_name(enum family f)
{
	return f < FAMILY__MAX ? family_names[f] : NULL;
}

static const struct conf_key *
conf_find(const char *section, const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(conf_keys); i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

static int
conf_parse_bool(const char *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	 i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/*
 * Store value into the field of key k.  Returns NULL on success or a
 * static text saying why the value is refused.
 */
static const char *
conf_set(const struct conf_key *k, const char *value)
{
	char	*field = (char *)&conf + k->offset;
	char	*end;
	long	 n;
	int	 b;
	size_t	 i;

	switch (k->type) {
	case CONF_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return NULL;
	case CONF_INT:
	case CONF_LONG:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0')
			return "not a whole number";
		if (n < k->min || n > k->max)
			return "out of range";
		if (k->type == CONF_INT)
			*(int *)field = (int)n;
		else
			*(long *)field = n;
		return NULL;
	case CONF_BOOL:
		if ((b = conf_parse_bool(value)) == -1)
			return "not yes or no";
		*(int *)field = b;
		return NULL;
	case CONF_ENUM:
		for (i = 0; k->names[i] != NULL; i++)
			if (strcmp(value, k->names[i]) == 0) {
				*(int *)field = (int)i;
				return NULL;
			}
		return "not one of the allowed values";
	}
	return "unknown type";
}

static void
conf_complain(const char *where, const struct conf_key *k, const char *value,
    const char *why)
{
	fprintf(stderr, "config: %s[%s] %s = \"%s\": %s", where, k->section,
	    k->name, k->secret ? "..." : value, why);
	if (k->type == CONF_INT || k->type == CONF_LONG)
		fprintf(stderr, " (%ld to %ld)", k->min, k->max);
	if (k->type == CONF_ENUM) {
		size_t	 i;

		fprintf(stderr, " (one of:");
		for (i = 0; k->names[i] != NULL; i++)
			fprintf(stderr, " %s", k->names[i]);
		fprintf(stderr, ")");
	}
	fprintf(stderr, "\n");
}

/* inih callback: one key = value line. */
static int
conf_ini_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct conf_parse	*p = arg;
	const struct conf_key	*k;
	const char		*why;
	char			 where[512];

	snprintf(where, sizeof(where), "%s: ", p->file);
	if ((k = conf_find(section, name)) == NULL) {
		fprintf(stderr, "config: %sunknown key \"%s\" in [%s]\n",
		    where, name, section);
		p->failed = 1;
		return 1;
	}
	if ((why = conf_set(k, value)) != NULL) {
		conf_complain(where, k, value, why);
		p->failed = 1;
	}
	return 1;
}

static void
conf_defaults(void)
{
	size_t	 i;

	config_free();
	memset(&conf, 0, sizeof(conf));
	for (i = 0; i < nitems(conf_keys); i++)
		(void)conf_set(&conf_keys[i], conf_keys[i].def);
}

/* Apply FASTBACK_<SECTION>_<KEY> variables.  Returns 0 or -1. */
static int
conf_environment(void)
{
	char		 var[128];
	const char	*value, *why;
	size_t		 i, j, n;
	int		 rc = 0;

	for (i = 0; i < nitems(conf_keys); i++) {
		const struct conf_key *k = &conf_keys[i];

		n = (size_t)snprintf(var, sizeof(var), "FASTBACK_%s_%s",
		    k->section, k->name);
		for (j = 0; j < n && j < sizeof(var); j++)
			var[j] = (char)toupper((unsigned char)var[j]);
		if ((value = getenv(var)) == NULL)
			continue;
		if ((why = conf_set(k, value)) != NULL) {
			char	 where[160];

			snprintf(where, sizeof(where), "environment %s: ", var);
			conf_complain(where, k, value, why);
			rc = -1;
		}
	}
	return rc;
}

/* Checks that span keys or need more than a range. */
static int
conf_validate(void)
{
	size_t	 n = strlen(conf.jwt_secret);

	if (n > 0 && n < 32) {
		fprintf(stderr, "config: [jwt] secret: too short (%zu bytes; "
		    "at least 32, e.g. 64 random hex digits)\n", n);
		return -1;
	}
	if (conf.dispatcher_backoff_max_ms < conf.dispatcher_backoff_ms) {
		fprintf(stderr, "config: [dispatcher] backoff_max_ms: smaller "
		    "than backoff_ms\n");
		return -1;
	}
	if (strchr(conf.mail_from, '\n') != NULL ||
	    strchr(conf.mail_from, '\r') != NULL) {
		fprintf(stderr, "config: [mail] from: contains a line break\n");
		return -1;
	}
	return 0;
}

static int
conf_finish(int failed)
{
	if (conf_environment() == -1)
		failed = 1;
	if (!failed && conf_validate() == -1)
		failed = 1;
	if (failed) {
		config_free();
		return -1;
	}
	log_set_level((enum log_level)conf.log_level);
	conf_loaded = 1;
	return 0;
}

int
config_load(const char *path)
{
	struct conf_parse	 p = { NULL, 0 };
	int			 rc;

	if (path == NULL)
		path = getenv("FASTBACK_CONFIG");
	if (path == NULL)
		path = FASTBACK_SYSCONFDIR "/config.ini";
	p.file = path;
	conf_defaults();
	rc = ini_parse(path, conf_ini_handler, &p);
	if (rc == -1) {
		fprintf(stderr, "config: %s: cannot open: %s\n", path,
		    strerror(errno));
		return conf_finish(1);
	}
	if (rc != 0) {
		fprintf(stderr, "config: %s:%d: cannot parse this line (not "
		    "\"key = value\", or longer than 199 characters)\n",
		    path, rc);
		return conf_finish(1);
	}
	return conf_finish(p.failed);
}

int
config_load_string(const char *text)
{
	struct conf_parse	 p = { "(string)", 0 };
	int			 rc;

	conf_defaults();
	rc = ini_parse_string(text, conf_ini_handler, &p);
	if (rc != 0) {
		fprintf(stderr, "config: (string):%d: cannot parse this line\n",
		    rc);
		return conf_finish(1);
	}
	return conf_finish(p.failed);
}

void
config_free(void)
{
	size_t	 i;

	for (i = 0; i < nitems(conf_keys); i++) {
		if (conf_keys[i].type != CONF_STRING)
			continue;
		char **field = (char **)((char *)&conf + conf_keys[i].offset);
		free(*field);
		*field = NULL;
	}
	conf_loaded = 0;
}

void
config_dump(FILE *f)
{
	const char	*section = "";
	size_t		 i;

	for (i = 0; i < nitems(conf_keys); i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *field = (const char *)&conf + k->offset;

		if (strcmp(section, k->section) != 0) {
			fprintf(f, "%s[%s]\n", i == 0 ? "" : "\n", k->section);
			section = k->section;
		}
		fprintf(f, "%s = ", k->name);
		switch (k->type) {
		case CONF_STRING:
			if (k->secret && **(char *const *)field != '\0')
				fprintf(f, "(set)\n");
			else
				fprintf(f, "%s\n", *(char *const *)field);
			break;
		case CONF_INT:
			fprintf(f, "%d\n", *(const int *)field);
			break;
		case CONF_LONG:
			fprintf(f, "%ld\n", *(const long *)field);
			break;
		case CONF_BOOL:
			fprintf(f, "%s\n", *(const int *)field ? "yes" : "no");
			break;
		case CONF_ENUM:
			fprintf(f, "%s\n", k->names[*(const int *)field]);
			break;
		}
	}
}
