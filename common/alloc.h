/*
 * alloc.h -- allocation that cannot fail, and small string helpers.
 *
 * Out of memory is not an error a request can recover from: these wrappers
 * log and exit, the responder's master replaces the worker, and the error
 * paths of the code stay for errors that can really be handled.
 */
#ifndef FASTBACK_ALLOC_H
#define FASTBACK_ALLOC_H

#include <stddef.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_append(struct buf *, const void *, size_t);
void	 buf_puts(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_free(struct buf *);

/* Fill out (2 * n + 1 bytes) with n random bytes as lower-case hex. */
void	 random_hex(char *out, size_t n);

/* Milliseconds from a monotonic clock. */
long long clock_ms(void);

#endif
