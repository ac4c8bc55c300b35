/*
 * channel.h -- what a dispatcher channel (mail, webhook, push) implements.
 *
 * The driver (main.c) claims rows, hands each claim's rows to their
 * channel's load(), then each row to prepare(), runs the libcurl transfer
 * the channel set up, asks classify() what the answer means, records the
 * outcome and calls release().  A channel is one
 * file that defines one struct channel and knows nothing about the queue,
 * leases, backoff or the attempt log.  Its functions may use db_*() (no
 * transaction is open when they run) but must not block for long: one
 * thread runs every transfer.  Adding a channel takes that file, its
 * declaration at the end of this header, a line in the table in main.c and
 * a line in include.am.
 */
#ifndef FASTBACK_DISPATCHER_CHANNEL_H
#define FASTBACK_DISPATCHER_CHANNEL_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

/* What became of one try; the names are those of delivery_attempts.outcome. */
enum outcome {
	OUTCOME_TRANSFER,	/* prepare(): run the transfer, classify() */
	OUTCOME_DELIVERED,	/* done, final */
	OUTCOME_RETRY,		/* try again after a backoff */
	OUTCOME_FAILED		/* permanent: retrying cannot help */
};

/* One claimed row of deliveries, during one try. */
struct delivery {
	unsigned long long	 id;		/* deliveries.id */
	const struct channel	*channel;
	char			*target;	/* deliveries.target */
	char			*payload;	/* JSON text */
	int			 attempt;	/* 1 for the first try */

	/*
	 * Set by the driver; a channel may change them in prepare() or
	 * classify().  max_attempts: tries before giving up ([dispatcher]
	 * max_attempts).  retry_ms: 0 for the exponential backoff with
	 * jitter, else the exact delay before the next try (Retry-After,
	 * a channel's own schedule).
	 */
	int			 max_attempts;
	long long		 retry_ms;

	/*
	 * The result of the try.  Before classify() the driver sets status
	 * from CURLINFO_RESPONSE_CODE (HTTP or SMTP code, 0: none), and
	 * error is libcurl's error buffer; a channel that finishes without
	 * curl fills them itself.  Write error with delivery_error().
	 * Never put a message body, credential or secret in it: it is
	 * logged and stored.
	 */
	long			 status;
	char			 error[CURL_ERROR_SIZE];

	/* The channel's state for this try. */
	void			*priv;

	/* The driver's own: the handle and when the try ran. */
	CURL			*easy;
	long long		 start_ms;	/* clock_ms() */
	long long		 end_ms;	/* clock_ms() */
	struct timespec		 started;	/* wall clock, UTC */
};

struct channel {
	/* Its value in deliveries.channel. */
	const char	*name;

	/*
	 * Optional.  Called once at start-up, after config_load() and
	 * db_connect(): check the channel's configuration, prepare what
	 * every try shares.  Returns 0, or -1 after logging why, which
	 * stops the program.
	 */
	int		 (*init)(void);

	/* Optional.  Called once at exit; frees what init() made. */
	void		 (*cleanup)(void);

	/*
	 * Optional.  Called with the n deliveries of this channel that one
	 * claim returned, just before their prepare(): read in one query
	 * what each try needs, rather than one query per try in prepare(),
	 * and keep it in each d[i]->priv.  A delivery it leaves without
	 * priv is prepared on its own; release() is called for every one.
	 */
	void		 (*load)(struct delivery *const *d, size_t n);

	/*
	 * Start a try of d.  Either set up easy, which the driver created
	 * with CURLOPT_PRIVATE, CURLOPT_ERRORBUFFER (d->error) and
	 * CURLOPT_NOSIGNAL already set, and return OUTCOME_TRANSFER; or
	 * finish the try here (a malformed payload, a transport that needs
	 * no network) and return its outcome with d->status and d->error
	 * filled.  State for the try goes in d->priv.
	 */
	enum outcome	 (*prepare)(struct delivery *d, CURL *easy);

	/*
	 * The transfer prepare() set up has ended with rc.  Say what it
	 * means: OUTCOME_DELIVERED, OUTCOME_RETRY or OUTCOME_FAILED.  May
	 * rewrite d->status, d->error and d->retry_ms.  Needed only by a
	 * channel whose prepare() can return OUTCOME_TRANSFER.
	 */
	enum outcome	 (*classify)(struct delivery *d, CURL *easy,
			    CURLcode rc);

	/*
	 * Optional.  Free d->priv.  Called once after every prepare(),
	 * whatever it returned, after the easy handle's last use.
	 */
	void		 (*release)(struct delivery *d);
};

/*
 * Write a printf-style message into d->error, truncated to fit.  For
 * channels: say why a try did not succeed.
 */
void	 delivery_error(struct delivery *d, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The ids of d[0..n-1] as a JSON array, for a statement that takes a
 * batch through JSON_TABLE.  Caller frees it.
 */
char	*delivery_ids(struct delivery *const *d, size_t n);

/* The channels, one per file. */
extern const struct channel mail_channel;	/* mail.c */
extern const struct channel push_channel;	/* push.c */
extern const struct channel webhook_channel;	/* webhook.c */

#endif
