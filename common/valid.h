/*
 * valid.h -- small pure validators for strings from requests.
 *
 * Each takes a length-carrying string and returns NULL when it is fine, or
 * a short reason, for a message like "email: not a valid e-mail address".
 * They fit struct field's check member.
 */
#ifndef FASTBACK_VALID_H
#define FASTBACK_VALID_H

#include <stddef.h>

/* An address of the form local@domain, ASCII domain with a dot, <= 254. */
const char	*valid_email(const char *, size_t);

/* 1-150 characters, no control characters, no '@', no surrounding spaces. */
const char	*valid_username(const char *, size_t);

/* An absolute http:// or https:// URL with a host, no spaces, <= 2048. */
const char	*valid_http_url(const char *, size_t);

/* No control characters (a display name, a description). */
const char	*valid_text(const char *, size_t);

/* Characters 0-9, space, +, -, (, ), between 3 and 32 long. */
const char	*valid_phone(const char *, size_t);

/*
 * Parse s as a decimal integer in [min, max] (strtonum-like).  Returns 0
 * and sets *out, or -1.
 */
int		 valid_int(const char *s, long long min, long long max,
		    long long *out);

#endif
