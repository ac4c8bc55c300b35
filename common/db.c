/*
 * db.c -- the process's MariaDB connection: prepared statements cached by
 * SQL text, results read whole as text, explicit transactions, and a
 * reconnect that re-prepares instead of MYSQL_OPT_RECONNECT (which would
 * silently drop every prepared statement and the session settings).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "alloc.h"
#include "config.h"
#include "db.h"
#include "log.h"

#define DB_MAX_PARAMS	32

struct db_result {
	size_t	  rows;
	size_t	  cols;
	char	**cells;	/* rows * cols, NULL for SQL NULL */
	size_t	 *lens;		/* rows * cols */
};

struct db_cached {
	const char	*sql;
	MYSQL_STMT	*stmt;
};

static MYSQL			*db_conn;
static struct db_cached		*db_cache;
static size_t			 db_ncache;
static int			 db_tx;		/* a transaction is open */
static int			 db_tx_broken;	/* ...and lost its connection */
static unsigned long long	 db_last_affected;
static unsigned long long	 db_last_id;
static unsigned int		 db_last_errno;
static char			 db_last_error[512];

/* Session settings every connection gets: UTC, strict, utf8mb4. */
static const char *const db_session_sql[] = {
	"SET time_zone = '+00:00'",
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
	    "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
	"SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
};

static void
db_note_error(unsigned int no, const char *text)
{
	db_last_errno = no;
	snprintf(db_last_error, sizeof(db_last_error), "%s", text);
}

/* Errors after which the connection is useless. */
static int
db_is_lost(unsigned int no)
{
	switch (no) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case ER_UNKNOWN_STMT_HANDLER:
	case 1927:	/* ER_CONNECTION_KILLED */
	case 4031:	/* ER_CLIENT_INTERACTION_TIMEOUT */
		return 1;
	default:
		return 0;
	}
}

static enum db_status
db_classify(unsigned int no)
{
	switch (no) {
	case ER_DUP_ENTRY:
		return DB_DUPLICATE;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return DB_CONFLICT;
	case ER_NO_REFERENCED_ROW_2:
	case ER_ROW_IS_REFERENCED_2:
	case ER_DATA_TOO_LONG:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_WARN_DATA_OUT_OF_RANGE:
	case ER_BAD_NULL_ERROR:
	case 4025:	/* ER_CONSTRAINT_FAILED: a CHECK */
		return DB_REFUSED;
	default:
		return DB_ERROR;
	}
}

static void
db_cache_clear(void)
{
	size_t	 i;

	for (i = 0; i < db_ncache; i++)
		if (db_cache[i].stmt != NULL)
			mysql_stmt_close(db_cache[i].stmt);
	free(db_cache);
	db_cache = NULL;
	db_ncache = 0;
}

void
db_disconnect(void)
{
	db_cache_clear();
	if (db_conn != NULL)
		mysql_close(db_conn);
	db_conn = NULL;
	if (db_tx)
		db_tx_broken = 1;
}

int
db_connect(void)
{
	const struct config	*c = config();
	unsigned int		 timeout;
	const char		*socket = NULL, *host = c->db_host;
	size_t			 i;

	db_disconnect();
	if ((db_conn = mysql_init(NULL)) == NULL) {
		log_error("db: mysql_init failed");
		return -1;
	}
	timeout = (unsigned int)c->db_connect_timeout;
	mysql_options(db_conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	/* 0: no limit, for migrations that run long ALTER TABLEs. */
	if (c->db_rw_timeout > 0) {
		timeout = (unsigned int)c->db_rw_timeout;
		mysql_options(db_conn, MYSQL_OPT_READ_TIMEOUT, &timeout);
		mysql_options(db_conn, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	}
	mysql_options(db_conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (c->db_socket[0] != '\0') {
		socket = c->db_socket;
		host = "localhost";
	}
	if (mysql_real_connect(db_conn, host, c->db_user, c->db_password,
	    c->db_name, (unsigned int)c->db_port, socket, 0) == NULL) {
		db_note_error(mysql_errno(db_conn), mysql_error(db_conn));
		log_error("db: cannot connect to %s: %s",
		    socket != NULL ? socket : host, db_last_error);
		mysql_close(db_conn);
		db_conn = NULL;
		return -1;
	}
	for (i = 0; i < nitems(db_session_sql); i++)
		if (mysql_real_query(db_conn, db_session_sql[i],
		    strlen(db_session_sql[i])) != 0) {
			db_note_error(mysql_errno(db_conn),
			    mysql_error(db_conn));
			log_error("db: session setup failed: %s",
			    db_last_error);
			db_disconnect();
			return -1;
		}
	return 0;
}

void
db_library_end(void)
{
	db_disconnect();
	mysql_library_end();
}

int
db_ping(void)
{
	if (db_conn != NULL && mysql_ping(db_conn) == 0)
		return 0;
	if (db_tx)
		return -1;
	return db_connect();
}

/* Make sure a connection exists (not inside a broken transaction). */
static int
db_ensure(void)
{
	if (db_tx_broken)
		return -1;
	if (db_conn != NULL)
		return 0;
	return db_tx ? -1 : db_connect();
}

/* The cached statement for sql, prepared now if needed; NULL on error. */
static MYSQL_STMT *
db_prepare(const char *sql)
{
	MYSQL_STMT	*stmt;
	size_t		 i;
	my_bool		 on = 1;

	for (i = 0; i < db_ncache; i++)
		if (db_cache[i].sql == sql && strcmp(db_cache[i].sql, sql) == 0)
			return db_cache[i].stmt;
	if ((stmt = mysql_stmt_init(db_conn)) == NULL) {
		db_note_error(mysql_errno(db_conn), mysql_error(db_conn));
		return NULL;
	}
	if (mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0) {
		db_note_error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
		mysql_stmt_close(stmt);
		return NULL;
	}
	mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	db_cache = xrealloc(db_cache, (db_ncache + 1) * sizeof(*db_cache));
	db_cache[db_ncache].sql = sql;
	db_cache[db_ncache].stmt = stmt;
	db_ncache++;
	return stmt;
}

/* Parameter storage for one execution. */
struct db_params {
	MYSQL_BIND	 bind[DB_MAX_PARAMS];
	long long	 ints[DB_MAX_PARAMS];
	unsigned long	 lens[DB_MAX_PARAMS];
	my_bool		 nulls[DB_MAX_PARAMS];
	size_t		 n;
};

/* Read the values described by types from ap.  Returns 0 or -1. */
static int
db_params_read(struct db_params *p, const char *types, va_list ap)
{
	size_t	 i;

	memset(p, 0, sizeof(*p));
	p->n = strlen(types);
	if (p->n > DB_MAX_PARAMS)
		return -1;
	for (i = 0; i < p->n; i++) {
		MYSQL_BIND		*b = &p->bind[i];
		const char		*s;
		const long long		*np;

		b->is_null = &p->nulls[i];
		b->length = &p->lens[i];
		switch (types[i]) {
		case 's':
			s = va_arg(ap, const char *);
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = (void *)(uintptr_t)s;
			p->lens[i] = s == NULL ? 0 : strlen(s);
			p->nulls[i] = s == NULL;
			break;
		case 'b':
			s = va_arg(ap, const char *);
			b->buffer_type = MYSQL_TYPE_BLOB;
			b->buffer = (void *)(uintptr_t)s;
			p->lens[i] = (unsigned long)va_arg(ap, size_t);
			p->nulls[i] = s == NULL;
			break;
		case 'i':
			p->ints[i] = va_arg(ap, long long);
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &p->ints[i];
			break;
		case 'n':
			np = va_arg(ap, const long long *);
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &p->ints[i];
			if (np != NULL)
				p->ints[i] = *np;
			p->nulls[i] = np == NULL;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/*
 * Fetch every row of an executed statement into a new result.  Columns
 * longer than the first guess are fetched again at full length.
 */
static int
db_fetch_all(MYSQL_STMT *stmt, MYSQL_RES *meta, struct db_result **out)
{
	struct db_result	*r;
	MYSQL_FIELD		*fields;
	MYSQL_BIND		*bind = NULL;
	unsigned long		*lens = NULL;
	my_bool			*nulls = NULL, *errs = NULL;
	char			**bufs = NULL;
	size_t			 i, row, cols, cap;
	int			 rc, ret = -1;

	if (mysql_stmt_store_result(stmt) != 0)
		return -1;
	cols = mysql_num_fields(meta);
	fields = mysql_fetch_fields(meta);
	r = xcalloc(1, sizeof(*r));
	r->cols = cols;
	cap = (size_t)mysql_stmt_num_rows(stmt);
	r->cells = xcalloc(cap * cols + 1, sizeof(char *));
	r->lens = xcalloc(cap * cols + 1, sizeof(size_t));
	bind = xcalloc(cols + 1, sizeof(*bind));
	lens = xcalloc(cols + 1, sizeof(*lens));
	nulls = xcalloc(cols + 1, sizeof(*nulls));
	errs = xcalloc(cols + 1, sizeof(*errs));
	bufs = xcalloc(cols + 1, sizeof(*bufs));
	for (i = 0; i < cols; i++) {
		size_t	 size = fields[i].max_length > 64 ?
		    fields[i].max_length + 1 : 65;

		bufs[i] = xmalloc(size);
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].buffer = bufs[i];
		bind[i].buffer_length = size;
		bind[i].length = &lens[i];
		bind[i].is_null = &nulls[i];
		bind[i].error = &errs[i];
	}
	if (cols > 0 && mysql_stmt_bind_result(stmt, bind) != 0)
		goto out;
	for (row = 0; row < cap; row++) {
		rc = mysql_stmt_fetch(stmt);
		if (rc == MYSQL_NO_DATA)
			break;
		if (rc == 1)
			goto out;
		for (i = 0; i < cols; i++) {
			char	*cell;

			if (nulls[i])
				continue;
			cell = xmalloc(lens[i] + 1);
			if (lens[i] < bind[i].buffer_length)
				memcpy(cell, bufs[i], lens[i]);
			else {
				MYSQL_BIND	 one;

				memset(&one, 0, sizeof(one));
				one.buffer_type = MYSQL_TYPE_STRING;
				one.buffer = cell;
				one.buffer_length = lens[i] + 1;
				if (mysql_stmt_fetch_column(stmt, &one,
				    (unsigned int)i, 0) != 0) {
					free(cell);
					goto out;
				}
			}
			cell[lens[i]] = '\0';
			r->cells[row * cols + i] = cell;
			r->lens[row * cols + i] = lens[i];
		}
	}
	r->rows = row;
	*out = r;
	r = NULL;
	ret = 0;
out:
	for (i = 0; i < cols; i++)
		free(bufs[i]);
	free(bufs);
	free(bind);
	free(lens);
	free(nulls);
	free(errs);
	if (r != NULL) {
		r->rows = cap;
		db_result_free(r);
	}
	mysql_stmt_free_result(stmt);
	return ret;
}

/*
 * One try at running sql.  Returns DB_OK, a failure, or -1 when the
 * connection was lost (the caller may reconnect and try again).
 */
static int
db_try(struct db_result **res, const char *sql, struct db_params *p)
{
	MYSQL_STMT	*stmt;
	MYSQL_RES	*meta;
	unsigned int	 no;
	int		 rc;

	if (db_ensure() == -1)
		return DB_ERROR;
	if ((stmt = db_prepare(sql)) == NULL)
		goto fail;
	if (mysql_stmt_param_count(stmt) != p->n) {
		log_error("db: statement wants %lu values, given %zu: %.80s",
		    mysql_stmt_param_count(stmt), p->n, sql);
		db_note_error(0, "parameter count mismatch");
		return DB_ERROR;
	}
	if (p->n > 0 && mysql_stmt_bind_param(stmt, p->bind) != 0)
		goto stmt_fail;
	if (mysql_stmt_execute(stmt) != 0)
		goto stmt_fail;
	db_last_affected = mysql_stmt_affected_rows(stmt);
	db_last_id = mysql_stmt_insert_id(stmt);
	meta = mysql_stmt_result_metadata(stmt);
	if (meta == NULL) {
		if (res != NULL) {
			*res = xcalloc(1, sizeof(**res));
			(*res)->cells = xcalloc(1, sizeof(char *));
			(*res)->lens = xcalloc(1, sizeof(size_t));
		}
		return DB_OK;
	}
	if (res == NULL) {
		mysql_stmt_free_result(stmt);
		mysql_stmt_reset(stmt);
		mysql_free_result(meta);
		return DB_OK;
	}
	rc = db_fetch_all(stmt, meta, res);
	mysql_free_result(meta);
	if (rc == 0)
		return DB_OK;
stmt_fail:
	db_note_error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
fail:
	no = db_last_errno;
	if (db_is_lost(no)) {
		log_warn("db: connection lost (%u %s)", no, db_last_error);
		db_disconnect();
		return -1;
	}
	if (db_classify(no) == DB_ERROR)
		log_error("db: %u %s in: %.120s", no, db_last_error, sql);
	if (stmt != NULL)
		mysql_stmt_reset(stmt);
	return db_classify(no);
}

static enum db_status
db_vquery(struct db_result **res, const char *sql, const char *types,
    va_list ap)
{
	struct db_params	 p;
	int			 rc;

	if (res != NULL)
		*res = NULL;
	if (db_params_read(&p, types, ap) == -1) {
		log_error("db: bad parameter types \"%s\"", types);
		return DB_ERROR;
	}
	rc = db_try(res, sql, &p);
	if (rc == -1 && !db_tx)
		rc = db_try(res, sql, &p);
	return rc == -1 ? DB_ERROR : (enum db_status)rc;
}

enum db_status
db_query(struct db_result **res, const char *sql, const char *types, ...)
{
	va_list		 ap;
	enum db_status	 rc;

	va_start(ap, types);
	rc = db_vquery(res, sql, types, ap);
	va_end(ap);
	return rc;
}

enum db_status
db_exec(const char *sql, const char *types, ...)
{
	va_list		 ap;
	enum db_status	 rc;

	va_start(ap, types);
	rc = db_vquery(NULL, sql, types, ap);
	va_end(ap);
	return rc;
}

unsigned long long
db_affected(void)
{
	return db_last_affected;
}

unsigned long long
db_insert_id(void)
{
	return db_last_id;
}

unsigned int
db_errno(void)
{
	return db_last_errno;
}

const char *
db_error(void)
{
	return db_last_error;
}

size_t
db_rows(const struct db_result *r)
{
	return r == NULL ? 0 : r->rows;
}

size_t
db_cols(const struct db_result *r)
{
	return r == NULL ? 0 : r->cols;
}

const char *
db_get(const struct db_result *r, size_t row, size_t col)
{
	if (r == NULL || row >= r->rows || col >= r->cols)
		return NULL;
	return r->cells[row * r->cols + col];
}

size_t
db_len(const struct db_result *r, size_t row, size_t col)
{
	if (r == NULL || row >= r->rows || col >= r->cols)
		return 0;
	return r->lens[row * r->cols + col];
}

long long
db_get_int(const struct db_result *r, size_t row, size_t col)
{
	const char	*s = db_get(r, row, col);

	return s == NULL ? 0 : strtoll(s, NULL, 10);
}

int
db_is_null(const struct db_result *r, size_t row, size_t col)
{
	return db_get(r, row, col) == NULL;
}

void
db_result_free(struct db_result *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->rows * r->cols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r->lens);
	free(r);
}

/* Run one constant statement outside the cache (transaction control). */
static int
db_simple(const char *sql)
{
	if (db_conn == NULL)
		return -1;
	if (mysql_real_query(db_conn, sql, strlen(sql)) != 0) {
		db_note_error(mysql_errno(db_conn), mysql_error(db_conn));
		if (db_is_lost(db_last_errno))
			db_disconnect();
		return -1;
	}
	return 0;
}

int
db_begin(void)
{
	if (db_tx) {
		log_error("db: transaction already open");
		return -1;
	}
	if (db_ensure() == -1)
		return -1;
	if (db_simple("START TRANSACTION") == -1) {
		if (db_conn != NULL || db_connect() == -1 ||
		    db_simple("START TRANSACTION") == -1) {
			log_error("db: cannot start a transaction: %s",
			    db_last_error);
			return -1;
		}
	}
	db_tx = 1;
	db_tx_broken = 0;
	return 0;
}

int
db_commit(void)
{
	int	 rc;

	if (!db_tx)
		return -1;
	rc = db_tx_broken ? -1 : db_simple("COMMIT");
	if (rc == -1) {
		log_error("db: commit failed: %s", db_last_error);
		(void)db_simple("ROLLBACK");
	}
	db_tx = db_tx_broken = 0;
	return rc;
}

void
db_rollback(void)
{
	if (!db_tx)
		return;
	if (!db_tx_broken)
		(void)db_simple("ROLLBACK");
	db_tx = db_tx_broken = 0;
}

enum db_status
db_transaction(enum db_status (*fn)(void *), void *arg)
{
	enum db_status	 st = DB_ERROR;
	int		 try;

	for (try = 0; try < 3; try++) {
		if (db_begin() == -1)
			return DB_ERROR;
		if ((st = fn(arg)) == DB_OK) {
			if (db_commit() == 0)
				return DB_OK;
			st = db_classify(db_last_errno);
			if (st == DB_OK)
				st = DB_ERROR;
		} else
			db_rollback();
		if (st != DB_CONFLICT)
			return st;
		log_info("db: transaction conflict, retrying (%d)", try + 1);
	}
	return st;
}

int
db_in_transaction(void)
{
	return db_tx;
}

int
db_run_script(const char *sql, size_t len)
{
	MYSQL_RES	*res;
	int		 status, rc = -1;

	if (db_ensure() == -1)
		return -1;
	if (mysql_set_server_option(db_conn, MYSQL_OPTION_MULTI_STATEMENTS_ON))
		goto fail;
	if (mysql_real_query(db_conn, sql, len) != 0)
		goto fail;
	do {
		if ((res = mysql_store_result(db_conn)) != NULL)
			mysql_free_result(res);
		else if (mysql_field_count(db_conn) != 0)
			goto fail;
		if ((status = mysql_next_result(db_conn)) > 0)
			goto fail;
	} while (status == 0);
	rc = 0;
fail:
	if (rc == -1) {
		db_note_error(mysql_errno(db_conn), mysql_error(db_conn));
		log_error("db: script failed: %u %s", db_last_errno,
		    db_last_error);
	}
	if (db_conn != NULL)
		mysql_set_server_option(db_conn,
		    MYSQL_OPTION_MULTI_STATEMENTS_OFF);
	return rc;
}
