/*
 * tap.c -- runs a table of unit tests and prints one TAP line each.
 */
#include <stdio.h>

#include "tap.h"

void
tap_note(const char *file, int line, const char *what)
{
	printf("# %s:%d: failed: %s\n", file, line, what);
}

int
tap_run(const struct tap_case *cases, size_t n)
{
	size_t	 i;
	int	 failed = 0;

	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		int	 ok = cases[i].fn();

		printf("%sok %zu - %s\n", ok ? "" : "not ", i + 1,
		    cases[i].name);
		fflush(stdout);
		failed |= !ok;
	}
	return failed;
}
