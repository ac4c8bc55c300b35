/*
 * netcheck.h -- may fastback connect to this address?  The SSRF guard of
 * outbound requests (webhooks), shared by the responder that saves a URL
 * and the dispatcher that sends to it.
 *
 * Refused always: unspecified, link-local (169.254.0.0/16 with the cloud
 * metadata address, fe80::/10), multicast, broadcast, documentation,
 * benchmarking and reserved ranges, and any IPv6 address outside global
 * unicast (2000::/3).  Refused unless allow_private: loopback, RFC 1918,
 * shared (100.64.0.0/10) and unique-local (fc00::/7) addresses.  IPv6
 * forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are
 * judged by that address.
 */
#ifndef FASTBACK_NETCHECK_H
#define FASTBACK_NETCHECK_H

struct sockaddr;

/*
 * Why a connection to sa (AF_INET or AF_INET6) is refused, or NULL when
 * it is allowed.  The reason is a static string ("a link-local address").
 */
const char	*netcheck_sockaddr(const struct sockaddr *sa,
		    int allow_private);

/*
 * Check an http(s) URL before it is saved: the scheme, an IP literal, or
 * every address its host name resolves to now.  A name that does not
 * resolve is allowed (the sender checks again); "localhost" and names
 * under it are loopback whatever they resolve to.  Returns NULL when
 * allowed, else a static reason.  Blocks for the name lookup.
 */
const char	*netcheck_url(const char *url, int allow_private);

#endif
