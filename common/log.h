/*
 * log.h -- one line per event on stderr.
 *
 * Lines look like "fastback-auth[1234]: info rid=5f2c... message".  Bytes
 * that are not printable are escaped, so input cannot forge a log line.
 * Never log passwords, tokens, Authorization headers or request bodies.
 */
#ifndef FASTBACK_LOG_H
#define FASTBACK_LOG_H

enum log_level {
	LOGLVL_ERROR,
	LOGLVL_WARN,
	LOGLVL_INFO,
	LOGLVL_DEBUG
};

/* Name the program in every line (its basename is kept). */
void	log_init(const char *program);

/* Lines above this level are dropped. */
void	log_set_level(enum log_level);

/* Parse "error", "warn", "info" or "debug"; -1 if none of them. */
int	log_level_parse(const char *);

/* The request id added to every line until cleared with NULL. */
void	log_set_request_id(const char *);

void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
