/*
 * netcheck.c -- the address ranges outbound requests may not reach.
 *
 * Tables of prefixes rather than a chain of ifs, so that a range can be
 * read and checked against its RFC at a glance.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "alloc.h"
#include "netcheck.h"

/* An IPv4 prefix, its length and what it is. */
struct range4 {
	uint32_t	 net;
	int		 bits;
	int		 private;	/* allowed when allow_private */
	const char	*what;
};

static const struct range4 ranges4[] = {
	{ 0x00000000, 8, 0, "an unspecified address" },		/* RFC 1122 */
	{ 0x0a000000, 8, 1, "a private address" },		/* RFC 1918 */
	{ 0x64400000, 10, 1, "a shared (CGNAT) address" },	/* RFC 6598 */
	{ 0x7f000000, 8, 1, "a loopback address" },		/* RFC 1122 */
	{ 0xa9fe0000, 16, 0, "a link-local address" },		/* RFC 3927 */
	{ 0xac100000, 12, 1, "a private address" },		/* RFC 1918 */
	{ 0xc0000000, 24, 0, "a reserved address" },		/* RFC 6890 */
	{ 0xc0000200, 24, 0, "a documentation address" },	/* RFC 5737 */
	{ 0xc0a80000, 16, 1, "a private address" },		/* RFC 1918 */
	{ 0xc6120000, 15, 0, "a benchmarking address" },	/* RFC 2544 */
	{ 0xc6336400, 24, 0, "a documentation address" },	/* RFC 5737 */
	{ 0xcb007100, 24, 0, "a documentation address" },	/* RFC 5737 */
	{ 0xe0000000, 4, 0, "a multicast address" },		/* RFC 5771 */
	{ 0xf0000000, 4, 0, "a reserved address" },		/* RFC 1112 */
};

static const char *
check4(uint32_t a, int allow_private)
{
	size_t		 i;
	uint32_t	 mask;

	for (i = 0; i < nitems(ranges4); i++) {
		mask = 0xffffffffU << (32 - ranges4[i].bits);
		if ((a & mask) != ranges4[i].net)
			continue;
		if (ranges4[i].private && allow_private)
			return NULL;
		return ranges4[i].what;
	}
	return NULL;
}

/* The IPv4 address in bytes 12..15 of an IPv6 address. */
static uint32_t
tail4(const unsigned char *b)
{
	return (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
	    (uint32_t)b[14] << 8 | b[15];
}

static const char *
check6(const unsigned char *b, int allow_private)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	static const unsigned char nat64[12] = {
		0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0
	};
	static const unsigned char zero[15];

	/* ::ffff:a.b.c.d (RFC 4291) and 64:ff9b::a.b.c.d (RFC 6052). */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return check4(tail4(b), allow_private);
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return allow_private ? NULL : "a loopback address";
	/* ::a.b.c.d, the deprecated IPv4-compatible form, and :: itself. */
	if (memcmp(b, zero, 12) == 0)
		return "an IPv4-compatible or unspecified address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address";
	if (b[0] == 0xff)
		return "a multicast address";
	if ((b[0] & 0xfe) == 0xfc)
		return allow_private ? NULL : "a unique-local address";
	if ((b[0] & 0xe0) != 0x20)
		return "a reserved address";
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return "a documentation address";
	/* 2002:a.b.c.d::/48, 6to4 (RFC 3056): judge the IPv4 inside. */
	if (b[0] == 0x20 && b[1] == 0x02)
		return check4((uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 |
		    (uint32_t)b[4] << 8 | b[5], allow_private);
	/* 2001::/32 Teredo hides its peer's address: refuse it. */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
		return "a Teredo address";
	return NULL;
}

const char *
netcheck_sockaddr(const struct sockaddr *sa, int allow_private)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	if (sa == NULL)
		return "no address";
	switch (sa->sa_family) {
	case AF_INET:
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return check4(ntohl(s4->sin_addr.s_addr), allow_private);
	case AF_INET6:
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		return check6(s6->sin6_addr.s6_addr, allow_private);
	default:
		return "not an internet address";
	}
}

/*
 * The host of url, without IPv6 brackets, into *host (caller frees).
 * Returns NULL, or why the URL cannot be used.
 */
static const char *
url_host(const char *url, char **host)
{
	CURLU		*u;
	char		*scheme = NULL, *h = NULL;
	const char	*why = NULL;
	size_t		 len;

	*host = NULL;
	if ((u = curl_url()) == NULL)
		return "out of memory";
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		why = "not a valid URL";
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0) {
		why = "not an http or https URL";
		goto out;
	}
	len = strlen(h);
	if (len == 0) {
		why = "has no host";
		goto out;
	}
	if (strchr(h, '%') != NULL) {
		why = "an IPv6 zone is not allowed";
		goto out;
	}
	if (h[0] == '[' && len > 2 && h[len - 1] == ']')
		*host = xstrndup(h + 1, len - 2);
	else
		*host = xstrdup(h);
out:
	curl_free(scheme);
	curl_free(h);
	curl_url_cleanup(u);
	return why;
}

/*
 * Whether host is "localhost" or a name under it (with or without the
 * final dot): RFC 6761 reserves them for loopback whatever the resolver
 * says, and a host without /etc/hosts may not resolve them at all.
 */
static int
is_localhost_name(const char *host)
{
	size_t	 len = strlen(host);

	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len < 9)
		return 0;
	if (strncasecmp(host + len - 9, "localhost", 9) != 0)
		return 0;
	return len == 9 || host[len - 10] == '.';
}

const char *
netcheck_url(const char *url, int allow_private)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	const char	*why;
	char		*host;

	if ((why = url_host(url, &host)) != NULL)
		return why;
	if (!allow_private && is_localhost_name(host)) {
		free(host);
		return "a loopback address";
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* A name that does not resolve now is checked when sent. */
	if (getaddrinfo(host, NULL, &hints, &res) != 0) {
		free(host);
		return NULL;
	}
	for (ai = res; ai != NULL && why == NULL; ai = ai->ai_next)
		why = netcheck_sockaddr(ai->ai_addr, allow_private);
	freeaddrinfo(res);
	free(host);
	return why;
}
