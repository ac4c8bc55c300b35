/*
 * bridge.h -- the notifier's HTTP calls to the API.
 *
 * Every client event becomes the REST call a REST client would make, sent
 * through nginx's loopback listener so that the responders see the same
 * request (token, client address, device) whatever the transport.  Calls
 * run concurrently on the notifier's libevent loop (libcurl multi); their
 * connections are kept alive and reused.  Nothing here blocks.
 *
 * A call fails (status 0, body "") when the API cannot be reached, when
 * it does not answer within timeout_ms (connecting included), when its
 * reply is longer than max_reply bytes, or when a header value holds a
 * line break.  Any other answer, 4xx and 5xx included, is passed on as it
 * is.  Once fn has run, or the call was cancelled, the bridge_call pointer
 * is dead: forget it in fn.  fn may start calls, cancel others and even
 * free the bridge.  The program calls curl_global_init() before
 * bridge_new().
 */
#ifndef FASTBACK_NOTIFIER_BRIDGE_H
#define FASTBACK_NOTIFIER_BRIDGE_H

#include <stddef.h>

struct event_base;
struct bridge;
struct bridge_call;

struct bridge_req {
	const char	*method;	/* "GET", "POST", ... */
	const char	*path;		/* with its query, e.g. "/api/messages" */
	const char	*token;		/* sent as "Authorization: Bearer"; or NULL */
	const char	*client_addr;	/* X-Forwarded-For; or NULL */
	const char	*device_id;	/* X-Device-Id; or NULL */
	const char	*body;		/* JSON, or NULL */
	size_t		 body_len;
};

struct bridge_reply {
	long		 status;	/* HTTP status; 0 when the call failed */
	const char	*body;		/* NUL-terminated, never NULL */
	size_t		 len;
};

typedef void	(*bridge_fn)(void *arg, const struct bridge_reply *);

struct bridge	*bridge_new(struct event_base *, const char *api_url,
		    long timeout_ms, size_t max_reply);
void		 bridge_free(struct bridge *);	/* cancels every call */
/* Starts a call; fn runs exactly once, later, from the loop (never from
 * inside bridge_call), unless the call is cancelled first.  NULL: out of
 * memory. */
struct bridge_call *bridge_call(struct bridge *, const struct bridge_req *,
		    bridge_fn, void *arg);
void		 bridge_cancel(struct bridge_call *);	/* fn will not run */
size_t		 bridge_pending(const struct bridge *);

#endif /* FASTBACK_NOTIFIER_BRIDGE_H */
