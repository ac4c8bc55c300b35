/*
 * test_netcheck.c -- the SSRF guard on URLs and addresses, without the
 * network: IP literals and the localhost names are judged before any
 * lookup, so these cases hold on a host with no resolver at all.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "netcheck.h"
#include "tap.h"

static int
refused(const char *url)
{
	return netcheck_url(url, 0) != NULL;
}

static int
bad_urls_are_refused(void)
{
	CHECK(refused("ftp://example.com/"));
	CHECK(refused("not a url"));
	CHECK(refused("http://"));
	CHECK(refused("http://[fe80::1%25eth0]/"));
	return 1;
}

static int
private_literals_depend_on_allow_private(void)
{
	CHECK(refused("http://127.0.0.1:8080/"));
	CHECK(refused("http://10.1.2.3/"));
	CHECK(refused("http://[::1]/"));
	CHECK(refused("http://[::ffff:192.168.1.1]/"));
	CHECK(netcheck_url("http://127.0.0.1:8080/", 1) == NULL);
	CHECK(netcheck_url("http://10.1.2.3/", 1) == NULL);
	return 1;
}

static int
always_refused_literals(void)
{
	CHECK(netcheck_url("http://169.254.169.254/latest/", 1) != NULL);
	CHECK(netcheck_url("http://0.0.0.0/", 1) != NULL);
	CHECK(netcheck_url("http://224.0.0.1/", 1) != NULL);
	CHECK(netcheck_url("http://[fe80::1]/", 1) != NULL);
	return 1;
}

/* RFC 6761: loopback whatever the resolver says, or if it cannot say. */
static int
localhost_names_are_loopback(void)
{
	CHECK(refused("http://localhost/"));
	CHECK(refused("http://LOCALHOST:9000/hook"));
	CHECK(refused("http://localhost./"));
	CHECK(refused("https://api.localhost/"));
	CHECK(refused("http://a.b.localhost./x"));
	CHECK(netcheck_url("http://localhost/", 1) == NULL ||
	    strcmp(netcheck_url("http://localhost/", 1), "a loopback address")
	    != 0);
	return 1;
}

static int
names_ending_like_localhost_are_not(void)
{
	/* Not under "localhost": judged by what they resolve to, and a name
	 * that does not resolve now is allowed (checked again at send). */
	CHECK(netcheck_url("http://notlocalhost.invalid/", 0) == NULL);
	CHECK(netcheck_url("http://mylocalhost/", 0) == NULL ||
	    strcmp(netcheck_url("http://mylocalhost/", 0),
	    "a loopback address") != 0);
	return 1;
}

static int
public_literals_pass(void)
{
	CHECK(netcheck_url("http://93.184.216.34/", 0) == NULL);
	CHECK(netcheck_url("https://[2606:2800:220:1::1]/", 0) == NULL);
	return 1;
}

static int
sockaddr_checks(void)
{
	struct sockaddr_in	 a4;
	struct sockaddr_in6	 a6;

	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.168.0.10", &a4.sin_addr);
	CHECK(netcheck_sockaddr((struct sockaddr *)&a4, 0) != NULL);
	CHECK(netcheck_sockaddr((struct sockaddr *)&a4, 1) == NULL);
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "64:ff9b::a9fe:a9fe", &a6.sin6_addr);
	CHECK(netcheck_sockaddr((struct sockaddr *)&a6, 1) != NULL);
	return 1;
}

int
main(void)
{
	static const struct tap_case cases[] = {
		{ "URLs that are not http(s) with a host are refused",
		    bad_urls_are_refused },
		{ "loopback and private literals pass only with allow_private",
		    private_literals_depend_on_allow_private },
		{ "link-local, unspecified and multicast literals never pass",
		    always_refused_literals },
		{ "localhost and names under it are loopback without a lookup",
		    localhost_names_are_loopback },
		{ "a name merely ending in localhost is not under it",
		    names_ending_like_localhost_are_not },
		{ "public literals pass", public_literals_pass },
		{ "addresses: private, and IPv4 embedded in NAT64",
		    sockaddr_checks },
	};

	return tap_run(cases, sizeof(cases) / sizeof(cases[0]));
}
