/*
 * db.h -- the process's one MariaDB connection, prepared statements only.
 *
 * Each worker opens one connection after fork.  Statements are prepared on
 * first use and cached by the address of their SQL text, so pass string
 * constants.  A lost connection (server restart, kill) is noticed on the
 * next statement: the connection is re-opened, the cache rebuilt and the
 * statement retried once, unless a transaction was open, which then fails.
 * Every value crosses as a bound parameter; SQL is never built from input.
 *
 * Results are read whole into a struct db_result, every column as text (or
 * NULL), which is what a JSON API needs anyway.  Times should be selected
 * already formatted, e.g. with SQL_TIME("created_at").
 */
#ifndef FASTBACK_DB_H
#define FASTBACK_DB_H

#include <stddef.h>

/* ISO-8601 UTC with a Z, in SQL: SELECT SQL_TIME("u.created_at") ... */
#define SQL_TIME(col)	"DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

enum db_status {
	DB_OK = 0,
	DB_DUPLICATE,		/* a UNIQUE key refused the row (1062) */
	DB_CONFLICT,		/* deadlock or lock wait timeout: retry the transaction */
	DB_REFUSED,		/* a constraint (FK, CHECK, data too long) refused it */
	DB_ERROR		/* anything else; logged */
};

struct db_result;

/* Open the connection described by config().  Returns 0 or -1 (logged). */
int		 db_connect(void);

/* Close statements and the connection. */
void		 db_disconnect(void);

/* Release the client library's own memory, at process exit. */
void		 db_library_end(void);

/* Check the connection, reconnecting if needed.  Returns 0 or -1. */
int		 db_ping(void);

/*
 * Run sql with one bound value per '?', described by types, one letter each:
 *   s  const char *			text; NULL binds SQL NULL
 *   b  const void *, size_t		bytes with a length; NULL binds NULL
 *   i  long long			integer
 *   n  const long long *		integer or NULL (pointer NULL binds NULL)
 * If res is not NULL, *res receives every row (caller frees it with
 * db_result_free(), also on error, where it is set to NULL).
 * Returns DB_OK or the failure.
 */
enum db_status	 db_query(struct db_result **res, const char *sql,
		    const char *types, ...);

/* db_query() for statements without a result set. */
enum db_status	 db_exec(const char *sql, const char *types, ...);

/* Rows changed by the last db_exec() / db_query(), and its AUTO_INCREMENT id. */
unsigned long long db_affected(void);
unsigned long long db_insert_id(void);

/* The server's error number and text of the last failure. */
unsigned int	 db_errno(void);
const char	*db_error(void);

/* Rows and columns of a result. */
size_t		 db_rows(const struct db_result *);
size_t		 db_cols(const struct db_result *);

/* A column's text, or NULL for SQL NULL; valid until db_result_free(). */
const char	*db_get(const struct db_result *, size_t row, size_t col);

/* A column's length in bytes (0 for NULL). */
size_t		 db_len(const struct db_result *, size_t row, size_t col);

/* A column as an integer; 0 for NULL or text that is not one. */
long long	 db_get_int(const struct db_result *, size_t row, size_t col);

int		 db_is_null(const struct db_result *, size_t row, size_t col);

void		 db_result_free(struct db_result *);

/*
 * Transactions.  db_begin() starts one (REPEATABLE READ), db_commit() ends
 * it, db_rollback() undoes it and never fails.  Return 0 or -1.
 */
int		 db_begin(void);
int		 db_commit(void);
void		 db_rollback(void);

/*
 * Run fn(arg) inside a transaction and commit, retrying the whole of it
 * (at most three times) when fn or the commit meets a deadlock or a lock
 * wait timeout.  fn returns DB_OK to commit, anything else to roll back.
 * fn must be safe to run again: it may not keep effects outside the
 * database.  Returns fn's last status, or DB_ERROR when the transaction
 * could not start or commit.
 */
enum db_status	 db_transaction(enum db_status (*fn)(void *), void *arg);

/* Non-zero while a transaction is open. */
int		 db_in_transaction(void);

/*
 * Run a multi-statement SQL text without parameters (migrations only:
 * never with input).  Returns 0 or -1 (logged).
 */
int		 db_run_script(const char *sql, size_t len);

#endif
