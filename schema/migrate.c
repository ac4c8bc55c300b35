/*
 * migrate.c -- fastback-migrate: applies the numbered schema files that the
 * database has not seen yet, in name order, and records each one.
 *
 * Every applied file gets a row in schema_migrations with the SHA-256 of the
 * text that ran, so a later edit of an applied file is noticed (and only
 * reported: applied migrations are never run again).  A named lock keeps two
 * runs from interleaving.  MariaDB commits DDL at once, so a file that fails
 * half-way is left half-applied and unrecorded; migrations are written so
 * that running them again is harmless.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "alloc.h"
#include "config.h"
#include "db.h"
#include "log.h"

#ifndef FASTBACK_DATADIR
#error "FASTBACK_DATADIR must be defined by the build (see Makefile.am)"
#endif

#define MIGRATE_LOCK_WAIT	30		/* seconds */
#define MIGRATE_FILE_MAX	(4 * 1024 * 1024)
#define MIGRATE_NAME_MAX	255		/* schema_migrations.version */
#define MIGRATE_SUM_LEN		(crypto_hash_sha256_BYTES * 2)

/*
 * Statements run longer here than in a responder (an ALTER TABLE on a big
 * table, or the lock wait above), so unless the environment says otherwise
 * the client waits without a time limit (rw_timeout 0).
 */
#define MIGRATE_RW_TIMEOUT_VAR	"FASTBACK_DATABASE_RW_TIMEOUT"
#define MIGRATE_RW_TIMEOUT	"0"

enum migrate_mode {
	MODE_APPLY,
	MODE_STATUS,
	MODE_DRY_RUN
};

struct migration {
	char	*name;		/* "010_users.sql": the version */
	char	*text;		/* the file, NUL-terminated; NULL if gone */
	size_t	 len;
	char	 sum[MIGRATE_SUM_LEN + 1];	/* SHA-256 of text, hex */
	char	*applied_at;	/* NULL while pending */
	char	*applied_sum;	/* checksum recorded when applied */
};

struct plan {
	struct migration	*v;
	size_t			 n;
};

static const char *const migrate_sql_lock_try =
    "SELECT GET_LOCK('fastback_migrate', 0)";
static const char *const migrate_sql_lock_wait =
    "SELECT GET_LOCK('fastback_migrate', ?)";
static const char *const migrate_sql_lock_held =
    "SELECT IS_USED_LOCK('fastback_migrate') = CONNECTION_ID()";
static const char *const migrate_sql_unlock =
    "SELECT RELEASE_LOCK('fastback_migrate')";
static const char *const migrate_sql_exists =
    "SELECT COUNT(*) FROM information_schema.TABLES"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'";
static const char *const migrate_sql_create =
    "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
    "	version		VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin\n"
    "			NOT NULL\n"
    "			COMMENT 'migration file name, e.g. 010_users.sql',\n"
    "	checksum	CHAR(64) CHARACTER SET ascii NOT NULL\n"
    "			COMMENT 'SHA-256 of the file as applied, hex',\n"
    "	applied_at	DATETIME(6) NOT NULL\n"
    "			COMMENT 'when fastback-migrate applied it, UTC',\n"
    "	PRIMARY KEY (version)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci\n"
    "  COMMENT='schema files applied by fastback-migrate, one row each'";
static const char *const migrate_sql_applied =
    "SELECT version, checksum, " SQL_TIME("applied_at")
    " FROM schema_migrations ORDER BY version";
static const char *const migrate_sql_record =
    "INSERT INTO schema_migrations (version, checksum, applied_at)"
    " VALUES (?, ?, UTC_TIMESTAMP(6))";

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fastback-migrate [--config FILE] [--dir DIR] "
	    "[--status | --dry-run]\n"
	    "\n"
	    "Apply the schema files in DIR that the database has not seen\n"
	    "yet, in name order, and record each in schema_migrations.\n"
	    "\n"
	    "  --config FILE  config.ini to read (default: $FASTBACK_CONFIG,\n"
	    "                 then the installed config.ini)\n"
	    "  --dir DIR      folder of NNN_name.sql files (default: %s)\n"
	    "  --status       list every file as applied or pending; change "
	    "nothing\n"
	    "  --dry-run      list the files a run would apply; change "
	    "nothing\n"
	    "  --help         show this text\n",
	    FASTBACK_DATADIR "/schema");
}

/* "NNN_name.sql": three digits, an underscore, [A-Za-z0-9_-]+, ".sql". */
static int
migrate_name_valid(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len < 9 || len > MIGRATE_NAME_MAX)
		return 0;
	for (i = 0; i < 3; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	if (name[3] != '_' || strcmp(name + len - 4, ".sql") != 0)
		return 0;
	for (i = 4; i < len - 4; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_' || name[i] == '-'))
			return 0;
	return 1;
}

static int
migrate_has_suffix(const char *name, const char *suffix)
{
	size_t	 n = strlen(name), s = strlen(suffix);

	return n >= s && strcmp(name + n - s, suffix) == 0;
}

/*
 * Read the regular file at path whole into m, up to MIGRATE_FILE_MAX bytes,
 * and compute its checksum.  Returns 0, or -1 after saying why.
 */
static int
migrate_read_file(struct migration *m, const char *path)
{
	struct buf	 b = { NULL, 0, 0 };
	struct stat	 st;
	unsigned char	 hash[crypto_hash_sha256_BYTES];
	char		 chunk[65536];
	ssize_t		 got;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_error("%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("%s: not a regular file", path);
		goto out;
	}
	buf_append(&b, "", 0);
	for (;;) {
		if ((got = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			log_error("%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (b.len + (size_t)got > MIGRATE_FILE_MAX) {
			log_error("%s: larger than %d MiB; split it into "
			    "several migrations", path,
			    MIGRATE_FILE_MAX / (1024 * 1024));
			goto out;
		}
		buf_append(&b, chunk, (size_t)got);
	}
	if (b.len == 0) {
		log_error("%s: empty file", path);
		goto out;
	}
	crypto_hash_sha256(hash, (const unsigned char *)b.data, b.len);
	sodium_bin2hex(m->sum, sizeof(m->sum), hash, sizeof(hash));
	m->text = b.data;
	m->len = b.len;
	b.data = NULL;
	rc = 0;
out:
	buf_free(&b);
	close(fd);
	return rc;
}

static int
migrate_cmp(const void *a, const void *b)
{
	const struct migration	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

static struct migration *
plan_add(struct plan *p, const char *name)
{
	struct migration	*m;

	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	m = &p->v[p->n++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	return m;
}

static struct migration *
plan_find(const struct plan *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return &p->v[i];
	return NULL;
}

static void
plan_free(struct plan *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].text);
		free(p->v[i].applied_at);
		free(p->v[i].applied_sum);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/*
 * Read every NNN_name.sql of dir into p, sorted by name.  Other *.sql
 * files are skipped with a warning; files of other kinds (the README, the
 * build files beside them in the source tree) silently.  Returns 0, or -1
 * after saying why.
 */
static int
plan_scan(struct plan *p, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	struct migration *m;
	char		*path;
	size_t		 i;
	int		 rc = -1;

	if ((d = opendir(dir)) == NULL) {
		log_error("%s: cannot open the schema folder: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!migrate_has_suffix(de->d_name, ".sql"))
			continue;
		if (!migrate_name_valid(de->d_name)) {
			log_warn("%s/%s: ignored: a migration is named "
			    "NNN_name.sql (three digits, then letters, digits, "
			    "'_' or '-')", dir, de->d_name);
			continue;
		}
		m = plan_add(p, de->d_name);
		path = xasprintf("%s/%s", dir, de->d_name);
		if (migrate_read_file(m, path) == -1) {
			free(path);
			goto out;
		}
		free(path);
	}
	if (errno != 0) {
		log_error("%s: cannot list: %s", dir, strerror(errno));
		goto out;
	}
	if (p->n == 0) {
		log_error("%s: no NNN_name.sql files here; is --dir right?",
		    dir);
		goto out;
	}
	qsort(p->v, p->n, sizeof(*p->v), migrate_cmp);
	for (i = 1; i < p->n; i++)
		if (strncmp(p->v[i - 1].name, p->v[i].name, 3) == 0)
			log_warn("%s and %s share the number %.3s; they run "
			    "in name order", p->v[i - 1].name, p->v[i].name,
			    p->v[i].name);
	rc = 0;
out:
	closedir(d);
	return rc;
}

/* Set *exists to whether schema_migrations is there.  Returns 0 or -1. */
static int
migrate_table_exists(int *exists)
{
	struct db_result	*res;

	if (db_query(&res, migrate_sql_exists, "") != DB_OK) {
		log_error("cannot look for schema_migrations: %s", db_error());
		return -1;
	}
	*exists = db_get_int(res, 0, 0) > 0;
	db_result_free(res);
	return 0;
}

/*
 * Mark the files of p that schema_migrations lists as applied, and add
 * the versions it lists that have no file any more.  Returns 0 or -1.
 */
static int
plan_load_applied(struct plan *p)
{
	struct db_result	*res;
	struct migration	*m;
	size_t			 i;

	if (db_query(&res, migrate_sql_applied, "") != DB_OK) {
		log_error("cannot read schema_migrations: %s", db_error());
		return -1;
	}
	for (i = 0; i < db_rows(res); i++) {
		if ((m = plan_find(p, db_get(res, i, 0))) == NULL)
			m = plan_add(p, db_get(res, i, 0));
		m->applied_sum = xstrdup(db_get(res, i, 1));
		m->applied_at = xstrdup(db_get(res, i, 2));
	}
	db_result_free(res);
	qsort(p->v, p->n, sizeof(*p->v), migrate_cmp);
	return 0;
}

static int
migrate_changed(const struct migration *m)
{
	return m->text != NULL && m->applied_sum != NULL &&
	    strcmp(m->sum, m->applied_sum) != 0;
}

/* Warn about applied files that were edited afterwards. */
static void
plan_warn_changed(const struct plan *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (migrate_changed(&p->v[i]))
			log_warn("%s changed since it was applied at %s "
			    "(sha256 then %.12s..., now %.12s...); it is not "
			    "run again: put new changes in a new migration",
			    p->v[i].name, p->v[i].applied_at,
			    p->v[i].applied_sum, p->v[i].sum);
}

/* Wait for the named lock that serialises runs.  Returns 0 or -1. */
static int
migrate_lock(void)
{
	struct db_result	*res;
	long long		 got;

	if (db_query(&res, migrate_sql_lock_try, "") != DB_OK) {
		log_error("cannot take the migration lock: %s", db_error());
		return -1;
	}
	got = db_get_int(res, 0, 0);
	db_result_free(res);
	if (got == 1)
		return 0;
	printf("another fastback-migrate is running; waiting up to %d s\n",
	    MIGRATE_LOCK_WAIT);
	fflush(stdout);
	if (db_query(&res, migrate_sql_lock_wait, "i",
	    (long long)MIGRATE_LOCK_WAIT) != DB_OK) {
		log_error("cannot take the migration lock: %s", db_error());
		return -1;
	}
	got = db_get_int(res, 0, 0);
	db_result_free(res);
	if (got != 1) {
		log_error("another fastback-migrate still holds the lock after "
		    "%d s; try again when it has finished", MIGRATE_LOCK_WAIT);
		return -1;
	}
	return 0;
}

/*
 * Whether this connection still holds the lock: a reconnect by the db
 * layer would have dropped it silently.
 */
static int
migrate_lock_held(void)
{
	struct db_result	*res;
	long long		 held;

	if (db_query(&res, migrate_sql_lock_held, "") != DB_OK)
		return 0;
	held = db_get_int(res, 0, 0);
	db_result_free(res);
	return held == 1;
}

static void
migrate_unlock(void)
{
	struct db_result	*res;

	if (db_query(&res, migrate_sql_unlock, "") == DB_OK)
		db_result_free(res);
}

/*
 * Apply and record the pending files of p in order, stopping at the first
 * failure.  *applied counts the files applied.  Returns 0 or -1.
 */
static int
plan_apply(struct plan *p, size_t *applied)
{
	struct migration	*m;
	const char		*last = NULL;
	size_t			 i;

	*applied = 0;
	for (i = 0; i < p->n; i++)
		if (p->v[i].applied_at != NULL)
			last = p->v[i].name;
	for (i = 0; i < p->n; i++) {
		m = &p->v[i];
		if (m->applied_at != NULL)
			continue;
		if (!migrate_lock_held()) {
			log_error("lost the migration lock (did the "
			    "connection drop?); stopping before %s", m->name);
			return -1;
		}
		if (last != NULL && strcmp(m->name, last) < 0)
			log_warn("%s sorts before %s, which is already "
			    "applied: applying it out of order", m->name, last);
		printf("applying %s\n", m->name);
		fflush(stdout);
		if (db_run_script(m->text, m->len) == -1) {
			log_error("%s failed: %s; it is not recorded, and any "
			    "statement of it before the failing one has "
			    "taken effect: fix the file and run again",
			    m->name, db_error());
			return -1;
		}
		if (db_exec(migrate_sql_record, "ss", m->name, m->sum) !=
		    DB_OK) {
			log_error("%s was applied but could not be recorded: "
			    "%s", m->name, db_error());
			return -1;
		}
		(*applied)++;
	}
	return 0;
}

static int
migrate_name_width(const struct plan *p)
{
	size_t	 i, w = 0;

	for (i = 0; i < p->n; i++)
		if (strlen(p->v[i].name) > w)
			w = strlen(p->v[i].name);
	return (int)w;
}

/* --status: one line per file, then the counts. */
static void
plan_print_status(const struct plan *p)
{
	const struct migration	*m;
	size_t			 i, napplied = 0, npending = 0;
	int			 w = migrate_name_width(p);

	for (i = 0; i < p->n; i++) {
		m = &p->v[i];
		if (m->applied_at == NULL) {
			printf("%-*s  pending\n", w, m->name);
			npending++;
			continue;
		}
		printf("%-*s  applied %s%s\n", w, m->name, m->applied_at,
		    m->text == NULL ? "  (file missing)" :
		    migrate_changed(m) ? "  (file changed since)" : "");
		napplied++;
	}
	printf("%zu applied, %zu pending\n", napplied, npending);
}

/* --dry-run: the files a run would apply. */
static void
plan_print_dry(const struct plan *p)
{
	size_t	 i, n = 0;

	plan_warn_changed(p);
	for (i = 0; i < p->n; i++)
		if (p->v[i].applied_at == NULL) {
			printf("would apply %s\n", p->v[i].name);
			n++;
		}
	if (n == 0)
		printf("nothing to apply: the database is up to date\n");
	else
		printf("%zu migration%s would be applied (dry run: nothing "
		    "was changed)\n", n, n == 1 ? "" : "s");
}

/* A real run: lock, make sure the table exists, apply what is pending. */
static int
migrate_run(struct plan *p)
{
	size_t		 applied = 0;
	long long	 t0 = clock_ms();
	int		 rc = -1;

	if (migrate_lock() == -1)
		return -1;
	if (db_exec(migrate_sql_create, "") != DB_OK) {
		log_error("cannot create schema_migrations: %s", db_error());
		goto out;
	}
	if (plan_load_applied(p) == -1)
		goto out;
	plan_warn_changed(p);
	if (plan_apply(p, &applied) == -1) {
		if (applied > 0)
			printf("applied %zu migration%s before the failure\n",
			    applied, applied == 1 ? "" : "s");
		goto out;
	}
	if (applied == 0)
		printf("nothing to apply: the database is up to date\n");
	else
		printf("applied %zu migration%s in %.1f s; the database is up "
		    "to date\n", applied, applied == 1 ? "" : "s",
		    (double)(clock_ms() - t0) / 1000.0);
	rc = 0;
out:
	migrate_unlock();
	return rc;
}

/*
 * fastback-migrate: parse the options, read the schema folder, connect
 * and apply, or only report with --status and --dry-run.  Exits 0 on
 * success, 1 on any failure (said on stderr), 2 on a usage error.
 */
int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "status", no_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct plan		 p = { NULL, 0 };
	enum migrate_mode	 mode = MODE_APPLY;
	const char		*cfg = NULL, *dir = FASTBACK_DATADIR "/schema";
	int			 ch, exists, connected = 0, rc = 1;

	while ((ch = getopt_long(argc, argv, "c:d:snh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfg = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 's':
		case 'n':
			if (mode != MODE_APPLY) {
				fprintf(stderr, "fastback-migrate: --status "
				    "and --dry-run exclude each other\n");
				return 2;
			}
			mode = ch == 's' ? MODE_STATUS : MODE_DRY_RUN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "fastback-migrate: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}

	log_init("fastback-migrate");
	if (setenv(MIGRATE_RW_TIMEOUT_VAR, MIGRATE_RW_TIMEOUT, 0) == -1 ||
	    config_load(cfg) == -1)
		return 1;
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		goto out;
	}
	if (plan_scan(&p, dir) == -1)
		goto out;
	if (db_connect() == -1)
		goto out;
	connected = 1;

	switch (mode) {
	case MODE_APPLY:
		if (migrate_run(&p) == -1)
			goto out;
		break;
	case MODE_STATUS:
	case MODE_DRY_RUN:
		if (migrate_table_exists(&exists) == -1)
			goto out;
		if (exists && plan_load_applied(&p) == -1)
			goto out;
		if (mode == MODE_STATUS)
			plan_print_status(&p);
		else
			plan_print_dry(&p);
		break;
	}
	rc = 0;
out:
	if (connected)
		db_disconnect();
	plan_free(&p);
	config_free();
	if (fflush(stdout) == EOF)
		rc = 1;
	return rc;
}
