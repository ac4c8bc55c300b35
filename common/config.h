/*
 * config.h -- the one immutable configuration every fastback program reads.
 *
 * config.ini is parsed once at start-up (inih) into struct config.  Every key
 * has a default (see config.c, the table is the reference), and every key can
 * be overridden by an environment variable FASTBACK_<SECTION>_<KEY>, e.g.
 * FASTBACK_DATABASE_PASSWORD or FASTBACK_MAIL_URL.  Invalid values stop the
 * program with a message that names the key.
 */
#ifndef FASTBACK_CONFIG_H
#define FASTBACK_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* The responder families; each has a [section] with listen and workers. */
enum family {
	FAMILY_AUTH,
	FAMILY_USERS,
	FAMILY_WALLETS,
	FAMILY_CONVERSATIONS,
	FAMILY_DESTINATIONS,
	FAMILY__MAX
};

struct family_config {
	char	*listen;	/* "unix:/path", "/path", "host:port", or "" for fd 0 */
	int	 workers;	/* 0: [responder] workers */
};

enum mail_transport {
	MAIL_OUTBOX,		/* one .eml file per mail in outbox_dir */
	MAIL_SMTP		/* libcurl smtp:// or smtps:// */
};

enum tls_mode {
	TLS_NO,
	TLS_TRY,
	TLS_YES
};

struct config {
	/* [database] */
	char	*db_host;
	int	 db_port;
	char	*db_socket;
	char	*db_user;
	char	*db_password;
	char	*db_name;
	int	 db_connect_timeout;	/* seconds */
	int	 db_rw_timeout;		/* seconds, read and write */

	/* [jwt] */
	char	*jwt_secret;		/* >= 32 bytes */
	long	 jwt_ttl;		/* seconds */
	char	*jwt_issuer;

	/* [http] */
	long	 http_max_body;		/* bytes */
	int	 http_trust_forwarded;	/* take X-Forwarded-For's last hop */

	/* [responder] */
	int	 responder_workers;	/* 0: number of CPUs */
	int	 responder_max_requests;/* recycle a worker after N, 0: never */

	/* [auth], [users], [wallets], [conversations], [destinations] */
	struct family_config family[FAMILY__MAX];
	int	 wallets_max_per_user;	/* [wallets] max_per_user */

	/* [password] */
	long	 password_opslimit;
	long	 password_memlimit_kib;
	int	 password_min_length;

	/* [otp] */
	long	 otp_ttl;		/* seconds */
	int	 otp_max_attempts;
	char	*otp_subject;

	/* [mail] */
	enum mail_transport mail_transport;
	char	*mail_outbox_dir;
	char	*mail_url;		/* smtp://host:port or smtps://host:port */
	char	*mail_from;
	char	*mail_username;
	char	*mail_password;
	enum tls_mode mail_starttls;
	int	 mail_timeout;		/* seconds */

	/* [dispatcher] */
	int	 dispatcher_poll_ms;
	int	 dispatcher_batch;
	int	 dispatcher_concurrency;
	int	 dispatcher_max_attempts;
	long	 dispatcher_backoff_ms;	/* first retry delay; doubles */
	long	 dispatcher_backoff_max_ms;
	int	 dispatcher_lease;	/* seconds a claimed row stays ours */

	/* [sync]: wallets family (fields go here) */
	char	*sync_tables;		/* allowed table names, ", " list; "": any */
	long	 sync_max_row_bytes;	/* JSON text of one change's data */
	int	 sync_max_batch;	/* changes in one upload */
	long	 sync_max_user_bytes;	/* a user's whole change log */

	/* [chat]: conversations family (fields go here) */
	int	 chat_max_message_length;	/* characters of a message */
	int	 chat_page_size;	/* messages/conversations per page */
	int	 chat_max_page_size;	/* largest ?limit= */

	/* [push]: users family, the dispatcher push channel (fields go here) */
	char	*push_gateway_url;	/* "": pushes are recorded, not sent */
	char	*push_authorization;	/* Authorization header value (secret) */
	int	 push_timeout;		/* seconds per gateway request */

	/* [webhook]: destinations family and the dispatcher (fields go here) */
	long	 webhook_timeout_ms;	/* one try, connection included */
	int	 webhook_allow_private;	/* loopback and private receivers */
	char	*webhook_schedule;	/* delays between tries: "5s,30s,2m" */
	long	 webhook_give_up;	/* seconds after queueing: failed */
	long	 webhook_max_response;	/* bytes of an answer read, at most */
	int	 webhook_max_destinations; /* per account */

	/* [notifier] */
	char	*notifier_listen;	/* host:port the WebSocket server binds */
	char	*notifier_api_url;	/* nginx's loopback listener, for its calls */
	int	 notifier_poll_ms;	/* events are read this often */
	int	 notifier_gap_ms;	/* a missing seq is waited for this long */
	long	 notifier_retention;	/* seconds events are kept for replay */
	int	 notifier_prune_batch;	/* rows per DELETE when pruning */
	long	 notifier_api_timeout_ms; /* one API call, connecting included */
	long	 notifier_api_max_reply;	/* bytes of an API reply, at most */
	int	 notifier_presence_timeout; /* seconds without a heartbeat: gone */
	long	 notifier_presence_keep;	/* seconds a closed socket's rooms
					   are kept for recovery */
	long	 notifier_max_payload;	/* bytes of one message, either way */
	int	 notifier_ping_interval_ms; /* Engine.IO heartbeat */
	int	 notifier_ping_timeout_ms;
	int	 notifier_connect_timeout_ms; /* handshake to an authenticated socket */
	int	 notifier_max_sockets_per_user; /* on one notifier */
	int	 notifier_rate_limit;	/* client events per second per socket */
	int	 notifier_rate_burst;	/* events allowed at once above the rate */
	long	 notifier_max_queued_bytes; /* unsent bytes before a socket is dropped */

	/* [log] */
	int	 log_level;		/* LOG_ERROR .. LOG_DEBUG */
	int	 log_requests;		/* one line per request */
};

/*
 * Load the configuration from path (NULL: $FASTBACK_CONFIG, else the
 * built-in default path), apply defaults and environment overrides, and
 * validate.  On any error prints "config: <file>:<line>: ..." or
 * "config: [section] key: ..." to stderr and returns -1.  Returns 0 on
 * success; the result is readable through config().
 */
int		 config_load(const char *path);

/* Load from a string (tests).  Same rules as config_load(). */
int		 config_load_string(const char *text);

/* The loaded configuration.  Never NULL after config_load() succeeded. */
const struct config *config(void);

/* Free the strings held by the loaded configuration. */
void		 config_free(void);

/* Print every key with its value (secrets masked) as INI, for --print-config. */
void		 config_dump(FILE *);

/* Section name of a family ("auth", ...), or NULL. */
const char	*family_name(enum family);

#endif
