/*
 * valid.c -- validators for strings that come from requests.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "valid.h"

/* Any ASCII control character (UTF-8 bytes >= 0x80 are fine). */
static int
has_control(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

const char *
valid_email(const char *s, size_t len)
{
	const char	*at, *dot;
	size_t		 i, local;

	if (len < 3 || len > 254)
		return "not a valid e-mail address";
	if (has_control(s, len) || memchr(s, ' ', len) != NULL)
		return "not a valid e-mail address";
	at = memchr(s, '@', len);
	if (at == NULL || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
		return "not a valid e-mail address";
	local = (size_t)(at - s);
	if (local == 0 || local > 64)
		return "not a valid e-mail address";
	/* The domain: labels of letters, digits and hyphens, with a dot. */
	dot = memchr(at + 1, '.', len - local - 1);
	if (dot == NULL || at[1] == '.' || s[len - 1] == '.' ||
	    s[len - 1] == '-')
		return "not a valid e-mail address";
	for (i = local + 1; i < len; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '-' || c == '.' || c >= 0x80))
			return "not a valid e-mail address";
		if (c == '.' && s[i - 1] == '.')
			return "not a valid e-mail address";
	}
	return NULL;
}

const char *
valid_username(const char *s, size_t len)
{
	if (len == 0)
		return "must not be empty";
	if (len > 600)
		return "too long";
	if (has_control(s, len))
		return "must not contain control characters";
	if (memchr(s, '@', len) != NULL)
		return "must not contain '@'";
	if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1]))
		return "must not start or end with a space";
	return NULL;
}

const char *
valid_http_url(const char *s, size_t len)
{
	size_t	 skip, i;

	if (len > 2048)
		return "too long (at most 2048 characters)";
	if (len > 8 && strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else if (len > 7 && strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else
		return "not an http or https URL";
	if (s[skip] == '/' || s[skip] == ':' || s[skip] == '?' ||
	    s[skip] == '#')
		return "has no host";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return "must not contain spaces or control characters";
	return NULL;
}

const char *
valid_text(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n' &&
		    s[i] != '\t') || s[i] == 0x7f)
			return "must not contain control characters";
	return NULL;
}

const char *
valid_phone(const char *s, size_t len)
{
	size_t	 i;

	if (len < 3 || len > 32)
		return "not a phone number (3 to 32 characters)";
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && strchr(" +-().", s[i])
		    == NULL)
			return "not a phone number (digits, spaces, + - ( ) .)";
	return NULL;
}

int
valid_int(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
