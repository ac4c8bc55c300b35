/*
 * main.c -- fastback-dispatcher: claims due deliveries, sends them through
 * their channel with libcurl multi, and records every try.
 *
 * One thread, one database connection, one curl multi handle.  The loop
 * claims as many due rows as there are free transfer slots, starts them,
 * and waits in curl_multi_poll() for transfers, the next poll time or a
 * signal.  Database work happens between waits; it is short and local.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "alloc.h"
#include "channel.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "queue.h"

/* The channels this program sends; a new channel file adds its line. */
static const struct channel *const channels[] = {
	&mail_channel,
	&push_channel,
	&webhook_channel,
};

/* While the database is unreachable, claims back off up to this. */
#define CLAIM_BACKOFF_MAX_MS	5000

/*
 * Longest wait in curl_multi_poll(); transfers, signals and the next
 * claim time end it sooner.
 */
#define WAIT_MAX_MS	1000

struct dispatcher {
	CURLM		 *multi;
	struct delivery	**flying;	/* transfers under way */
	int		  nflying;
	/* Tries ended but not yet recorded, with their outcome and delay. */
	struct delivery	**done;
	enum outcome	 *done_outcome;
	long long	 *done_delay;
	int		 *done_updated;
	int		  ndone;
	int		  slots;	/* [dispatcher] concurrency */
	int		  once;		/* --once: stop when nothing is due */
	int		  failed;	/* --once: a claim failed */
	long long	  next_claim;	/* clock_ms() of the next claim */
	long long	  claim_wait;	/* ms between failed claims */
};

static volatile sig_atomic_t	 stopping;
static int			 wake[2] = { -1, -1 };

static void
usage(FILE *f)
{
	fprintf(f, "usage: fastback-dispatcher [--config file] "
	    "[--once]\n"
	    "  --config file  read this config.ini (default: "
	    "$FASTBACK_CONFIG,\n"
	    "                 then the installed one)\n"
	    "  --once         send what is due now, then exit\n");
}

/* SIGTERM, SIGINT: stop claiming, and wake the wait to notice it. */
static void
on_signal(int sig)
{
	int	 saved = errno;
	ssize_t	 n;

	(void)sig;
	stopping = 1;
	n = write(wake[1], "", 1);
	(void)n;
	errno = saved;
}

static int
signals_init(void)
{
	struct sigaction	 sa;
	int			 i;

	if (pipe(wake) == -1) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++)
		if (fcntl(wake[i], F_SETFD, FD_CLOEXEC) == -1 ||
		    fcntl(wake[i], F_SETFL, O_NONBLOCK) == -1) {
			log_error("fcntl: %s", strerror(errno));
			return -1;
		}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1) {
		log_error("sigaction: %s", strerror(errno));
		return -1;
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static void
wake_drain(void)
{
	char	 b[64];

	while (read(wake[0], b, sizeof(b)) > 0)
		continue;
}

/*
 * Delay before the next try of d: the one its channel asked for, else
 * [dispatcher] backoff_ms doubled for each try so far, up to backoff_max_ms,
 * moved by up to 20% either way so that deliveries which failed together
 * (a mail server restart) do not all come back at the same instant.
 */
static long long
backoff(const struct delivery *d)
{
	const struct config	*cf = config();
	long long		 base, max;
	int			 i;

	if (d->retry_ms > 0)
		return d->retry_ms;
	base = cf->dispatcher_backoff_ms;
	max = cf->dispatcher_backoff_max_ms;
	for (i = 1; i < d->attempt && base < max; i++)
		base *= 2;
	if (base > max)
		base = max;
	return base + base * ((long long)randombytes_uniform(401) - 200) /
	    1000;
}

static int
flying_find(const struct dispatcher *ds, unsigned long long id)
{
	int	 i;

	for (i = 0; i < ds->nflying; i++)
		if (ds->flying[i]->id == id)
			return i;
	return -1;
}

/*
 * The try of d ended with outcome o: apply the attempt limit and keep it
 * for flush(), which records the tries that ended together in one
 * transaction.
 */
static void
finish(struct dispatcher *ds, struct delivery *d, enum outcome o)
{
	long long	 delay = 0;

	d->end_ms = clock_ms();
	if (o != OUTCOME_DELIVERED && o != OUTCOME_FAILED)
		o = OUTCOME_RETRY;
	if (o == OUTCOME_RETRY && d->attempt >= d->max_attempts)
		o = OUTCOME_FAILED;
	if (o == OUTCOME_RETRY)
		delay = backoff(d);
	ds->done[ds->ndone] = d;
	ds->done_outcome[ds->ndone] = o;
	ds->done_delay[ds->ndone] = delay;
	ds->ndone++;
}

/*
 * Record the tries that ended, log each, and free them with everything
 * their channel and libcurl held.
 */
static void
flush(struct dispatcher *ds)
{
	struct delivery	*d;
	char		 extra[CURL_ERROR_SIZE + 64];
	size_t		 len;
	enum outcome	 o;
	int		 i;

	if (ds->ndone == 0)
		return;
	queue_record_batch(ds->done, ds->done_outcome, ds->done_delay,
	    ds->done_updated, (size_t)ds->ndone);
	for (i = 0; i < ds->ndone; i++) {
		d = ds->done[i];
		o = ds->done_outcome[i];
		extra[0] = '\0';
		if (o == OUTCOME_RETRY)
			snprintf(extra, sizeof(extra), " retry_in_ms=%lld",
			    ds->done_delay[i]);
		if (o != OUTCOME_DELIVERED && d->error[0] != '\0') {
			len = strlen(extra);
			snprintf(extra + len, sizeof(extra) - len,
			    " error=\"%s\"", d->error);
		}
		log_info("delivery id=%llu channel=%s attempt=%d outcome=%s "
		    "status=%ld duration_ms=%lld%s", d->id, d->channel->name,
		    d->attempt, outcome_name(o), d->status,
		    d->end_ms - d->start_ms, extra);
		if (ds->done_updated[i] == 0)
			log_warn("delivery id=%llu: the lease was taken over; "
			    "its state is left to the new holder", d->id);

		if (d->channel->release != NULL)
			d->channel->release(d);
		curl_easy_cleanup(d->easy);
		delivery_free(d);
	}
	ds->ndone = 0;
	if (ds->once && ds->nflying == 0)
		ds->next_claim = 0;
}

/* Start the try of a claimed delivery; it ends here or becomes a transfer. */
static void
start(struct dispatcher *ds, struct delivery *d)
{
	enum outcome	 o;

	d->max_attempts = config()->dispatcher_max_attempts;
	d->start_ms = clock_ms();
	clock_gettime(CLOCK_REALTIME, &d->started);
	if ((d->easy = curl_easy_init()) == NULL) {
		/* Out of memory, as alloc.h handles it: the lease expires. */
		log_error("curl_easy_init failed");
		exit(1);
	}
	curl_easy_setopt(d->easy, CURLOPT_PRIVATE, d);
	curl_easy_setopt(d->easy, CURLOPT_ERRORBUFFER, d->error);
	curl_easy_setopt(d->easy, CURLOPT_NOSIGNAL, 1L);

	o = d->channel->prepare(d, d->easy);
	if (o != OUTCOME_TRANSFER) {
		finish(ds, d, o);
		return;
	}
	if (curl_multi_add_handle(ds->multi, d->easy) != CURLM_OK) {
		delivery_error(d, "curl_multi_add_handle failed");
		finish(ds, d, OUTCOME_RETRY);
		return;
	}
	ds->flying[ds->nflying++] = d;
}

/*
 * Claim up to want rows and start them.  Returns how many rows the claim
 * returned, or -1 if it failed.
 */
static int
claim(struct dispatcher *ds, int want)
{
	struct delivery	**got, **mine;
	size_t		  c, nmine;
	int		  i, k, n;

	got = xcalloc((size_t)want, sizeof(*got));
	mine = xcalloc((size_t)want, sizeof(*mine));
	n = queue_claim(got, want, config()->dispatcher_lease, channels,
	    nitems(channels));
	for (i = k = 0; i < n; i++) {
		/*
		 * Our own transfer outlived its lease and we claimed it
		 * again: the lease is renewed, the transfer goes on.
		 */
		if (flying_find(ds, got[i]->id) != -1) {
			log_warn("delivery id=%llu: outlived its lease",
			    got[i]->id);
			delivery_free(got[i]);
			continue;
		}
		got[k++] = got[i];
	}
	/* Each channel reads what its tries need in one go. */
	for (c = 0; c < nitems(channels); c++) {
		if (channels[c]->load == NULL)
			continue;
		for (i = 0, nmine = 0; i < k; i++)
			if (got[i]->channel == channels[c])
				mine[nmine++] = got[i];
		if (nmine > 0)
			channels[c]->load(mine, nmine);
	}
	for (i = 0; i < k; i++)
		start(ds, got[i]);
	free(mine);
	free(got);
	return n;
}

/* A transfer ended with rc: ask its channel what that means, finish it. */
static void
transfer_done(struct dispatcher *ds, struct delivery *d, CURLcode rc)
{
	enum outcome	 o;
	long		 code = 0;
	int		 i;

	curl_multi_remove_handle(ds->multi, d->easy);
	if ((i = flying_find(ds, d->id)) != -1)
		ds->flying[i] = ds->flying[--ds->nflying];

	if (curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &code) ==
	    CURLE_OK)
		d->status = code;
	o = d->channel->classify(d, d->easy, rc);
	if (o != OUTCOME_DELIVERED && d->error[0] == '\0') {
		if (rc != CURLE_OK)
			delivery_error(d, "%s", curl_easy_strerror(rc));
		else
			delivery_error(d, "status %ld", d->status);
	}
	finish(ds, d, o);
}

static void
reap(struct dispatcher *ds)
{
	CURLMsg		*m;
	CURLcode	 rc;
	void		*priv;
	int		 left;

	while ((m = curl_multi_info_read(ds->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result;
		priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv != NULL)
			transfer_done(ds, priv, rc);
	}
}

/*
 * Claim when there are free slots and the poll time has come.  A claim
 * that filled every slot it asked for means more may be due, so the next
 * one comes as soon as a slot frees.
 */
static void
maybe_claim(struct dispatcher *ds)
{
	const struct config	*cf = config();
	long long		 now;
	int			 want, n;

	now = clock_ms();
	if (stopping || ds->nflying >= ds->slots || now < ds->next_claim)
		return;
	want = ds->slots - ds->nflying;
	if (want > cf->dispatcher_batch && cf->dispatcher_batch > 0)
		want = cf->dispatcher_batch;

	n = claim(ds, want);
	if (n == -1 && ds->once) {
		ds->failed = 1;
		stopping = 1;
	} else if (n == -1) {
		/* Fewer lines in the log while the database is away. */
		ds->claim_wait = ds->claim_wait == 0 ?
		    cf->dispatcher_poll_ms : ds->claim_wait * 2;
		if (ds->claim_wait > CLAIM_BACKOFF_MAX_MS)
			ds->claim_wait = CLAIM_BACKOFF_MAX_MS;
		ds->next_claim = now + ds->claim_wait;
		return;
	} else if (n == want)
		ds->next_claim = now;
	else if (ds->once && n == 0 && ds->nflying == 0)
		stopping = 1;
	else if (ds->once)
		ds->next_claim = ds->nflying > 0 ? LLONG_MAX : now;
	else
		ds->next_claim = now + cf->dispatcher_poll_ms;
	ds->claim_wait = 0;
}

static int
run(struct dispatcher *ds)
{
	struct curl_waitfd	 wfd;
	long long		 wait;
	int			 running;

	memset(&wfd, 0, sizeof(wfd));
	wfd.fd = wake[0];
	wfd.events = CURL_WAIT_POLLIN;

	for (;;) {
		maybe_claim(ds);
		if (ds->nflying > 0) {
			curl_multi_perform(ds->multi, &running);
			reap(ds);
		}
		flush(ds);
		if (stopping && ds->nflying == 0)
			break;

		wait = WAIT_MAX_MS;
		if (!stopping && ds->nflying < ds->slots &&
		    ds->next_claim - clock_ms() < wait)
			wait = ds->next_claim - clock_ms();
		if (wait > 0)
			curl_multi_poll(ds->multi, &wfd, 1, (int)wait, NULL);
		wake_drain();
	}
	return ds->failed ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	static const struct option	 opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct dispatcher		 ds;
	const struct config		*cf;
	const char			*path = NULL;
	size_t				 i, ninit = 0;
	int				 c, rc = 1;

	memset(&ds, 0, sizeof(ds));
	log_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:oh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			ds.once = 1;
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
	cf = config();
	log_set_level((enum log_level)cf->log_level);
	if (sodium_init() < 0) {
		log_error("sodium_init failed");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("curl_global_init failed");
		goto out;
	}
	if (db_connect() == -1)
		goto out;
	queue_init();
	for (ninit = 0; ninit < nitems(channels); ninit++)
		if (channels[ninit]->init != NULL &&
		    channels[ninit]->init() == -1) {
			ninit++;
			goto out;
		}
	if (signals_init() == -1)
		goto out;
	if ((ds.multi = curl_multi_init()) == NULL) {
		log_error("curl_multi_init failed");
		goto out;
	}
	ds.slots = cf->dispatcher_concurrency > 0 ?
	    cf->dispatcher_concurrency : 1;
	/*
	 * Keep a connection per slot open for the next try to the same
	 * host.  The default keeps four per easy handle in the multi, and
	 * each try's handle leaves it when the try ends: between claims
	 * the pool shrinks and connections are closed, to be opened again
	 * (a TCP and maybe a TLS handshake) by the next claim's tries.
	 */
	curl_multi_setopt(ds.multi, CURLMOPT_MAXCONNECTS, (long)ds.slots);
	ds.flying = xcalloc((size_t)ds.slots, sizeof(*ds.flying));
	/* A try ends in flight or at its start: never more than the slots. */
	ds.done = xcalloc((size_t)ds.slots, sizeof(*ds.done));
	ds.done_outcome = xcalloc((size_t)ds.slots, sizeof(*ds.done_outcome));
	ds.done_delay = xcalloc((size_t)ds.slots, sizeof(*ds.done_delay));
	ds.done_updated = xcalloc((size_t)ds.slots, sizeof(*ds.done_updated));

	log_info("started as %s: concurrency=%d batch=%d poll_ms=%d "
	    "lease=%ds%s", queue_owner(), ds.slots, cf->dispatcher_batch,
	    cf->dispatcher_poll_ms, cf->dispatcher_lease,
	    ds.once ? " once" : "");
	rc = run(&ds) == 0 ? 0 : 1;
	log_info("stopped%s", rc == 0 ? "" : " after an error");

out:
	for (i = 0; i < ninit; i++)
		if (channels[i]->cleanup != NULL)
			channels[i]->cleanup();
	free(ds.flying);
	free(ds.done);
	free(ds.done_outcome);
	free(ds.done_delay);
	free(ds.done_updated);
	if (ds.multi != NULL)
		curl_multi_cleanup(ds.multi);
	db_disconnect();
	curl_global_cleanup();
	config_free();
	return rc;
}
