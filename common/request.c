/*
 * request.c -- reading headers, path captures and query parameters of the
 * request in flight.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "alloc.h"
#include "reply.h"
#include "request.h"
#include "token.h"
#include "valid.h"

const char *
request_header(const struct request *req, const char *name)
{
	char		 cgi[128];
	size_t		 i, n;
	FCGX_Request	*fr = req->fcgi;

	if (fr == NULL)
		return NULL;
	if (strcasecmp(name, "Content-Type") == 0)
		return FCGX_GetParam("CONTENT_TYPE", fr->envp);
	if (strcasecmp(name, "Content-Length") == 0)
		return FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	n = strlen(name);
	if (n + 6 > sizeof(cgi))
		return NULL;
	memcpy(cgi, "HTTP_", 5);
	for (i = 0; i < n; i++)
		cgi[5 + i] = name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	cgi[5 + n] = '\0';
	return FCGX_GetParam(cgi, fr->envp);
}

const char *
request_capture(const struct request *req, const char *name)
{
	size_t	 i, n = strlen(name);

	/* capture_names point into the pattern: "id}/more". */
	for (i = 0; i < req->ncaptures; i++)
		if (strncmp(req->capture_names[i], name, n) == 0 &&
		    req->capture_names[i][n] == '}')
			return req->captures[i];
	return NULL;
}

long long
request_capture_id(const struct request *req, const char *name)
{
	const char	*s = request_capture(req, name);
	long long	 id;

	if (s == NULL || s[0] == '0' ||
	    valid_int(s, 1, 9223372036854775807LL, &id) == -1)
		return -1;
	return id;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode application/x-www-form-urlencoded text into buf.  0 or -1. */
static int
query_decode(const char *s, size_t len, char *buf, size_t n)
{
	size_t	 i, o = 0;

	for (i = 0; i < len; i++) {
		int	 c = (unsigned char)s[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int	 hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || o + 1 >= n)
			return -1;
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return 0;
}

/* The raw value of parameter name in query and its length, or NULL. */
static const char *
query_find(const char *query, const char *name, size_t *len)
{
	const char	*p = query, *amp, *eq;
	size_t		 nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		if ((amp = strchr(p, '&')) == NULL)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    strncmp(p, name, nlen) == 0) {
			*len = (size_t)(amp - eq - 1);
			return eq + 1;
		}
		p = *amp == '\0' ? amp : amp + 1;
	}
	return NULL;
}

const char *
request_query(const struct request *req, const char *name, char *buf,
    size_t n)
{
	const char	*raw;
	size_t		 len;

	if ((raw = query_find(req->query, name, &len)) == NULL)
		return NULL;
	return query_decode(raw, len, buf, n) == 0 ? buf : NULL;
}

long long
request_query_int(const struct request *req, const char *name, long long def,
    long long min, long long max, int *bad)
{
	char		 buf[32];
	const char	*raw;
	size_t		 len;
	long long	 v;

	if ((raw = query_find(req->query, name, &len)) == NULL)
		return def;
	if (query_decode(raw, len, buf, sizeof(buf)) == -1 ||
	    valid_int(buf, min, max, &v) == -1) {
		*bad = 1;
		return -1;
	}
	return v;
}

int
request_page(const struct request *req, struct reply *rep, long long def,
    long long max, struct page *page)
{
	int	 bad = 0;

	page->limit = request_query_int(req, "limit", def, 1, max, &bad);
	if (bad) {
		char	 why[64];

		snprintf(why, sizeof(why), "must be a whole number from 1 to "
		    "%lld", max);
		return reply_invalid(rep, "limit", why);
	}
	page->before = request_query_int(req, "before", 0, 1,
	    9223372036854775807LL, &bad);
	if (bad)
		return reply_invalid(rep, "before", "must be a positive id");
	return 0;
}

void
request_clear(struct request *req)
{
	size_t	 i;

	for (i = 0; i < req->ncaptures; i++)
		free(req->captures[i]);
	req->ncaptures = 0;
	free(req->body);
	req->body = NULL;
	req->body_len = 0;
	if (req->json != NULL)
		json_object_put(req->json);
	req->json = NULL;
	auth_clear(&req->auth);
}
