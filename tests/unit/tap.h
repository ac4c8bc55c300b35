/*
 * tap.h -- a table-driven harness for the unit tests, printing TAP.
 *
 * Each test is a function returning 1 on success; CHECK() reports the
 * first failed condition as a TAP diagnostic and fails the test.
 */
#ifndef FASTBACK_TAP_H
#define FASTBACK_TAP_H

#include <stddef.h>

struct tap_case {
	const char	*name;
	int		(*fn)(void);
};

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		tap_note(__FILE__, __LINE__, #cond);			\
		return 0;						\
	}								\
} while (0)

void	tap_note(const char *file, int line, const char *what);

/* Run every case; returns the exit status for main(). */
int	tap_run(const struct tap_case *, size_t n);

#endif
