/*
 * main.c -- fastback-notifier: Socket.IO (seeds 000, 002) and 003's plain
 * WebSocket behind nginx, on one libevent loop.
 *
 * It holds sockets and rooms and nothing else.  What a client asks for
 * becomes the HTTP request a REST client would make (bridge.c, through
 * nginx's loopback listener, with the socket's token); what it pushes comes
 * from the events table the responders write (poller.c).  Who is online is
 * shared with the other notifiers through the database (presence.c).
 *
 * The listen address and the API's URL come from [notifier] listen and
 * api_url, which the environment overrides (FASTBACK_NOTIFIER_LISTEN, ...).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <sodium.h>

#include "alloc.h"
#include "bridge.h"
#include "client.h"
#include "config.h"
#include "db.h"
#include "eio.h"
#include "http.h"
#include "log.h"
#include "notifier.h"
#include "poller.h"
#include "presence.h"
#include "rooms.h"
#include "ws.h"

/* Seconds between presence heartbeats (well under presence_timeout). */
#define BEAT_SECONDS	5

struct notifier	 notifier;

struct reap {
	struct reap	*next;
	reap_fn		 fn;
	void		*arg;
};

static struct reap	*reaps;
static struct event	*reap_ev;

void
reap_later(reap_fn fn, void *arg)
{
	struct reap	*r;

	r = xmalloc(sizeof(*r));
	r->fn = fn;
	r->arg = arg;
	r->next = reaps;
	reaps = r;
	if (reap_ev != NULL)
		event_active(reap_ev, 0, 0);
}

static size_t
htable_hash(const char *s)
{
	size_t	 h = 2166136261u;		/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct hnode *
htable_find(const struct htable *t, const char *key)
{
	struct hnode	*n;

	if (t->size == 0)
		return NULL;
	for (n = t->b[htable_hash(key) & (t->size - 1)]; n != NULL;
	    n = n->hnext)
		if (strcmp(n->key, key) == 0)
			return n;
	return NULL;
}

void
htable_add(struct htable *t, struct hnode *n)
{
	struct hnode	**nb, *m, *next;
	size_t		  size, i, h;

	if (t->count >= t->size) {
		/* Double at one entry a bucket. */
		size = t->size == 0 ? 1024 : t->size * 2;
		nb = xcalloc(size, sizeof(*nb));
		for (i = 0; i < t->size; i++)
			for (m = t->b[i]; m != NULL; m = next) {
				next = m->hnext;
				h = htable_hash(m->key) & (size - 1);
				m->hnext = nb[h];
				nb[h] = m;
			}
		free(t->b);
		t->b = nb;
		t->size = size;
	}
	h = htable_hash(n->key) & (t->size - 1);
	n->hnext = t->b[h];
	t->b[h] = n;
	t->count++;
}

void
htable_remove(struct htable *t, struct hnode *n)
{
	struct hnode	**p;

	for (p = &t->b[htable_hash(n->key) & (t->size - 1)]; *p != NULL;
	    p = &(*p)->hnext)
		if (*p == n) {
			*p = n->hnext;
			t->count--;
			return;
		}
}

void
htable_free(struct htable *t)
{
	free(t->b);
	t->b = NULL;
	t->size = t->count = 0;
}

static void
reap_run(void)
{
	struct reap	*r;

	while ((r = reaps) != NULL) {
		reaps = r->next;
		r->fn(r->arg);
		free(r);
	}
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	reap_run();
}

static void
beat_cb(evutil_socket_t fd, short what, void *arg)
{
	if (presence_beat(notifier.presence) == 1)
		client_presence_restore();
	log_debug("%zu sockets, %zu sessions", notifier.nclients,
	    eio_count());
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(notifier.base);
}

void
http_dispatch(struct http_conn *hc)
{
	const char	*path = http_request(hc)->path;

	if (strcmp(path, "/socket.io/") == 0 || strcmp(path, "/socket.io") == 0)
		eio_http(hc);
	else if (strncmp(path, "/api/user/send_message_ws/", 26) == 0)
		seed003_http(hc);
	else
		http_error(hc, 404, "not_found", "Not found");
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: fastback-notifier [--config file]\n"
	    "  --config file  read this config.ini (default: "
	    "$FASTBACK_CONFIG,\n"
	    "                 then the installed one)\n");
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct evconnlistener	*listener = NULL;
	struct event		*sigterm = NULL, *sigint = NULL, *beat = NULL;
	struct timeval		 tv = { BEAT_SECONDS, 0 };
	struct timeval		 grace = { 0, 300000 };
	const char		*path = NULL;
	int			 c, rc = 1;

	log_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (config_load(path) == -1)
		return 1;
	notifier.cf = config();
	log_set_level((enum log_level)notifier.cf->log_level);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		log_error("sodium_init failed");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("curl_global_init failed");
		goto out;
	}
	if ((notifier.base = event_base_new()) == NULL) {
		log_error("event_base_new failed");
		goto out;
	}
	reap_ev = event_new(notifier.base, -1, 0, reap_cb, NULL);
	sigterm = evsignal_new(notifier.base, SIGTERM, signal_cb, NULL);
	sigint = evsignal_new(notifier.base, SIGINT, signal_cb, NULL);
	beat = event_new(notifier.base, -1, EV_PERSIST, beat_cb, NULL);
	if (reap_ev == NULL || sigterm == NULL || sigint == NULL ||
	    beat == NULL || evsignal_add(sigterm, NULL) == -1 ||
	    evsignal_add(sigint, NULL) == -1 || event_add(beat, &tv) == -1) {
		log_error("cannot set up the loop's events");
		goto out;
	}
	if ((notifier.bridge = bridge_new(notifier.base,
	    notifier.cf->notifier_api_url, notifier.cf->notifier_api_timeout_ms,
	    (size_t)notifier.cf->notifier_api_max_reply)) == NULL) {
		log_error("cannot set up the API bridge");
		goto out;
	}
	notifier.presence = presence_new(notifier.cf);
	if ((notifier.poller = poller_new(notifier.base, notifier.cf,
	    rooms_event, NULL)) == NULL)
		goto out;
	if ((listener = http_listen(notifier.cf->notifier_listen)) == NULL)
		goto out;
	log_info("listening on %s, calling %s", notifier.cf->notifier_listen,
	    notifier.cf->notifier_api_url);
	rc = event_base_dispatch(notifier.base) == -1;

 out:
	/* Close everything so that nothing is left for the leak checker. */
	if (listener != NULL)
		evconnlistener_free(listener);
	client_close_all();
	reap_run();
	if (notifier.base != NULL && rc == 0) {
		/* A moment for the close frames and last polls to go out. */
		event_base_loopexit(notifier.base, &grace);
		event_base_dispatch(notifier.base);
	}
	http_shutdown();
	ws_shutdown();
	reap_run();
	eio_shutdown();
	rooms_shutdown();
	if (notifier.poller != NULL)
		poller_free(notifier.poller);
	if (notifier.presence != NULL)
		presence_free(notifier.presence);
	if (notifier.bridge != NULL)
		bridge_free(notifier.bridge);
	reap_run();
	if (beat != NULL)
		event_free(beat);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (reap_ev != NULL)
		event_free(reap_ev);
	reap_ev = NULL;
	if (notifier.base != NULL)
		event_base_free(notifier.base);
	libevent_global_shutdown();
	db_library_end();
	curl_global_cleanup();
	config_free();
	log_info("stopped");
	return rc;
}
