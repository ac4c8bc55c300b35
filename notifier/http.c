/*
 * http.c -- the requests nginx proxies to the notifier: Engine.IO's
 * long-polling GETs and POSTs and the WebSocket upgrade requests.
 *
 * nginx sends one request per connection ("Connection: close" unless it is
 * an upgrade), with a Content-Length body (it buffers request bodies), so
 * the parser reads one head of at most HEAD_MAX bytes, then the body, and
 * the answer closes the connection.  Nothing here is shared with the
 * responders' FastCGI code: this side speaks HTTP itself.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "alloc.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "notifier.h"
#include "request.h"

/* A request head larger than this is refused (431). */
#define HEAD_MAX	8192
/* Seconds a client has to send its request, or to read the answer. */
#define IO_TIMEOUT	10

enum http_state {
	HTTP_HEAD,		/* reading the head */
	HTTP_BODY,		/* reading content_length bytes */
	HTTP_HELD,		/* a long poll waiting for data */
	HTTP_CLOSING		/* answer written, closing once sent */
};

struct http_conn {
	LIST_ENTRY(http_conn)	 entry;		/* every open connection */
	struct bufferevent	*bev;
	enum http_state		 state;
	struct http_req		 req;
	http_gone_fn		 gone;
	void			*gone_arg;
	char			 addr[INET6_ADDRSTRLEN];
};

static void	http_readcb(struct bufferevent *, void *);
static void	http_eventcb(struct bufferevent *, short, void *);

static LIST_HEAD(, http_conn)	 conns = LIST_HEAD_INITIALIZER(conns);

static void
http_free(struct http_conn *hc)
{
	LIST_REMOVE(hc, entry);
	bufferevent_free(hc->bev);
	http_req_free(&hc->req);
	free(hc);
}

void
http_req_free(struct http_req *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

struct http_req *
http_request(struct http_conn *hc)
{
	return &hc->req;
}

const char *
http_client_addr(const struct http_conn *hc)
{
	return hc->addr;
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* The answer is out: free the connection (the peer may still be reading,
 * but the kernel has the bytes). */
static void
http_writecb(struct bufferevent *bev, void *arg)
{
	struct http_conn	*hc = arg;

	if (hc->state == HTTP_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		http_free(hc);
}

void
http_reply(struct http_conn *hc, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(hc->bev);
	struct timeval	 tv = { IO_TIMEOUT, 0 };

	hc->state = HTTP_CLOSING;
	hc->gone = NULL;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status, http_reason(status),
	    ctype, len);
	if (len > 0)
		evbuffer_add(out, body, len);
	bufferevent_disable(hc->bev, EV_READ);
	bufferevent_set_timeouts(hc->bev, NULL, &tv);
	bufferevent_setcb(hc->bev, NULL, http_writecb, http_eventcb, hc);
	bufferevent_enable(hc->bev, EV_WRITE);
}

void
http_error(struct http_conn *hc, int status, const char *code,
    const char *message)
{
	char	 b[512];
	int	 n;

	/* Both strings are ours, never the client's: no JSON escaping. */
	n = snprintf(b, sizeof(b), "{\"message\":\"%s\",\"error\":\"%s\"}",
	    message, code);
	if (n < 0 || (size_t)n >= sizeof(b))
		n = 0;
	http_reply(hc, status, "application/json", b, (size_t)n);
}

void
http_hold(struct http_conn *hc, http_gone_fn gone, void *arg)
{
	hc->state = HTTP_HELD;
	hc->gone = gone;
	hc->gone_arg = arg;
	/* No timeout: the Engine.IO heartbeat ends a poll in time. */
	bufferevent_set_timeouts(hc->bev, NULL, NULL);
	bufferevent_enable(hc->bev, EV_READ);
}

struct bufferevent *
http_upgrade(struct http_conn *hc, struct http_req *out)
{
	struct bufferevent	*bev = hc->bev;

	*out = hc->req;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(bev, NULL, NULL);
	LIST_REMOVE(hc, entry);
	free(hc);
	return bev;
}

static void
http_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn	*hc = arg;

	if (hc->gone != NULL)
		hc->gone(hc->gone_arg);
	http_free(hc);
}

/* Trim spaces and tabs at both ends, in place. */
static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/*
 * Split the head in place.  Returns 0, or the HTTP status to refuse it
 * with.
 */
static int
http_parse(struct http_req *r)
{
	char	*line, *next, *sp, *colon, *name, *value, *end;
	long long v;

	line = r->head;
	if ((next = strstr(line, "\r\n")) == NULL)
		return 400;
	*next = '\0';
	next += 2;
	if ((sp = strchr(line, ' ')) == NULL)
		return 400;
	*sp++ = '\0';
	r->method = line;
	line = sp;
	if ((sp = strchr(line, ' ')) == NULL || strncmp(sp + 1, "HTTP/1.", 7))
		return 400;
	*sp = '\0';
	if (line[0] != '/')
		return 400;
	r->path = line;
	if ((sp = strchr(line, '?')) != NULL) {
		*sp = '\0';
		r->query = sp + 1;
	} else
		r->query = "";

	for (line = next; *line != '\0'; line = next) {
		if ((next = strstr(line, "\r\n")) == NULL)
			return 400;
		*next = '\0';
		next += 2;
		if ((colon = strchr(line, ':')) == NULL)
			return 400;
		*colon = '\0';
		name = line;
		value = trim(colon + 1);
		if (strcasecmp(name, "Upgrade") == 0)
			r->upgrade = value;
		else if (strcasecmp(name, "Sec-WebSocket-Key") == 0)
			r->ws_key = value;
		else if (strcasecmp(name, "Sec-WebSocket-Version") == 0)
			r->ws_version = value;
		else if (strcasecmp(name, "Authorization") == 0)
			r->authorization = value;
		else if (strcasecmp(name, "X-Forwarded-For") == 0)
			r->forwarded_for = value;
		else if (strcasecmp(name, "X-Device-Id") == 0)
			r->device_id = value;
		else if (strcasecmp(name, "User-Agent") == 0)
			r->user_agent = value;
		else if (strcasecmp(name, "Transfer-Encoding") == 0)
			return 501;
		else if (strcasecmp(name, "Content-Length") == 0) {
			errno = 0;
			v = strtoll(value, &end, 10);
			if (errno != 0 || end == value || *end != '\0' ||
			    v < 0)
				return 400;
			if (v > notifier.cf->notifier_max_payload)
				return 413;
			r->content_length = (size_t)v;
		}
	}
	return 0;
}

static void
http_readcb(struct bufferevent *bev, void *arg)
{
	struct http_conn	*hc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 p;
	size_t			 len;
	int			 rc;

	switch (hc->state) {
	case HTTP_HEAD:
		p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (p.pos == -1) {
			if (evbuffer_get_length(in) > HEAD_MAX)
				http_error(hc, 431, "bad_request",
				    "Request head too large");
			return;
		}
		len = (size_t)p.pos + 4;
		if (len > HEAD_MAX) {
			http_error(hc, 431, "bad_request",
			    "Request head too large");
			return;
		}
		hc->req.head = xmalloc(len + 1);
		evbuffer_remove(in, hc->req.head, len);
		hc->req.head[len - 2] = '\0';	/* keep the last line's CRLF */
		if ((rc = http_parse(&hc->req)) != 0) {
			if (rc == 413)
				http_error(hc, rc, "payload_too_large",
				    "Request body too large");
			else
				http_error(hc, rc, "bad_request",
				    "Malformed request");
			return;
		}
		if (hc->req.forwarded_for != NULL &&
		    strlen(hc->req.forwarded_for) < sizeof(hc->addr))
			snprintf(hc->addr, sizeof(hc->addr), "%s",
			    hc->req.forwarded_for);
		hc->state = HTTP_BODY;
		/* FALLTHROUGH */
	case HTTP_BODY:
		if (evbuffer_get_length(in) < hc->req.content_length)
			return;
		if (hc->req.content_length > 0) {
			hc->req.body = xmalloc(hc->req.content_length + 1);
			evbuffer_remove(in, hc->req.body,
			    hc->req.content_length);
			hc->req.body[hc->req.content_length] = '\0';
			hc->req.body_len = hc->req.content_length;
		}
		hc->state = HTTP_HELD;
		bufferevent_set_timeouts(bev, NULL, NULL);
		http_dispatch(hc);
		return;
	case HTTP_HELD:
	case HTTP_CLOSING:
		/* Nothing more is expected from nginx on this connection. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
}

static void
http_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct http_conn	*hc;
	struct timeval		 tv = { IO_TIMEOUT, 0 };
	int			 one = 1;

	/* Small frames must not wait for Nagle (a 40 ms stall otherwise). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	hc = xcalloc(1, sizeof(*hc));
	hc->bev = bufferevent_socket_new(notifier.base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (hc->bev == NULL) {
		log_error("bufferevent_socket_new failed");
		evutil_closesocket(fd);
		free(hc);
		return;
	}
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr,
		    hc->addr, sizeof(hc->addr));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    hc->addr, sizeof(hc->addr));
	LIST_INSERT_HEAD(&conns, hc, entry);
	bufferevent_setcb(hc->bev, http_readcb, NULL, http_eventcb, hc);
	bufferevent_set_timeouts(hc->bev, &tv, NULL);
	bufferevent_enable(hc->bev, EV_READ);
}

static void
http_accept_error(struct evconnlistener *l, void *arg)
{
	/* Out of descriptors, most likely: log and go on accepting. */
	log_warn("accept: %s", strerror(errno));
}

struct evconnlistener *
http_listen(const char *hostport)
{
	struct sockaddr_storage	 ss;
	struct evconnlistener	*l;
	int			 len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(hostport, (struct sockaddr *)&ss,
	    &len) == -1) {
		log_error("listen: cannot parse \"%s\" as host:port",
		    hostport);
		return NULL;
	}
	l = evconnlistener_new_bind(notifier.base, http_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    4096, (struct sockaddr *)&ss, len);
	if (l == NULL) {
		log_error("listen on %s: %s", hostport, strerror(errno));
		return NULL;
	}
	evconnlistener_set_error_cb(l, http_accept_error);
	return l;
}

/* The query decoding of the responders, on a bare query string. */
int
http_query_get(const char *q, const char *name, char *out, size_t n)
{
	struct request	 r;

	memset(&r, 0, sizeof(r));
	r.query = q;
	return request_query(&r, name, out, n) != NULL ? 0 : -1;
}

void
http_shutdown(void)
{
	struct http_conn	*hc;

	while ((hc = LIST_FIRST(&conns)) != NULL) {
		if (hc->gone != NULL)
			hc->gone(hc->gone_arg);
		if (LIST_FIRST(&conns) == hc)
			http_free(hc);
	}
}
