/*
 * log.c -- one line per event on stderr, with the program, pid, level and
 * the current request id; non-printable bytes are escaped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char		 log_program[64] = "fastback";
static enum log_level	 log_level = LOGLVL_INFO;
static char		 log_rid[40];

static const char *const log_names[] = {
	[LOGLVL_ERROR] = "error",
	[LOGLVL_WARN] = "warn",
	[LOGLVL_INFO] = "info",
	[LOGLVL_DEBUG] = "debug",
};

void
log_init(const char *program)
{
	const char	*slash;

	if ((slash = strrchr(program, '/')) != NULL)
		program = slash + 1;
	snprintf(log_program, sizeof(log_program), "%s", program);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_level_parse(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(s, log_names[i]) == 0)
			return (int)i;
	return -1;
}

void
log_set_request_id(const char *rid)
{
	snprintf(log_rid, sizeof(log_rid), "%s", rid == NULL ? "" : rid);
}

/*
 * Format the message, escape what is not printable ASCII or UTF-8 text,
 * and write the whole line with one write(2) so lines of concurrent
 * workers never interleave.
 */
static void
log_emit(enum log_level level, const char *fmt, va_list ap)
{
	char		 msg[2048], line[4096];
	size_t		 n, i;
	int		 k;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_rid[0] != '\0')
		k = snprintf(line, sizeof(line), "%s[%d]: %s rid=%s ",
		    log_program, (int)getpid(), log_names[level], log_rid);
	else
		k = snprintf(line, sizeof(line), "%s[%d]: %s ",
		    log_program, (int)getpid(), log_names[level]);
	n = k < 0 ? 0 : (size_t)k;
	for (i = 0; msg[i] != '\0' && n + 5 < sizeof(line); i++) {
		unsigned char	 c = (unsigned char)msg[i];

		if (c == '\\' || c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    "\\x%02x", c);
		} else
			line[n++] = (char)c;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

#define LOG_FUNCTION(name, level)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list	 ap;					\
							\
	va_start(ap, fmt);				\
	log_emit(level, fmt, ap);			\
	va_end(ap);					\
}

LOG_FUNCTION(log_error, LOGLVL_ERROR)
LOG_FUNCTION(log_warn, LOGLVL_WARN)
LOG_FUNCTION(log_info, LOGLVL_INFO)
LOG_FUNCTION(log_debug, LOGLVL_DEBUG)
