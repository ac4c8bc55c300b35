/*
 * responder.c -- the pre-forking FastCGI server shared by every family,
 * and the front line every request passes before its handler: routing,
 * body limits, JSON parsing and token checks.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <json-c/json.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "alloc.h"
#include "body.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "password.h"
#include "reply.h"
#include "request.h"
#include "responder.h"
#include "route.h"
#include "token.h"
#include "valid.h"

#define RESPONDER_BACKLOG	1024
#define RESPONDER_MAX_WORKERS	256
#define RESPONDER_DRAIN_SECS	5	/* how long a stopping worker drains */

static volatile sig_atomic_t	 stopping;
static int			 workers_override;	/* --workers */

struct responder {
	enum family		 family;
	const struct route	*routes;
	size_t			 nroutes;
	int			 listen_fd;
};

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* SIGCHLD is ignored by default; a handler lets it end sigsuspend(). */
static void
on_child(int sig)
{
	(void)sig;
}

/* SIGALRM only has to interrupt a blocking accept(). */
static void
on_alarm(int sig)
{
	(void)sig;
}

/* Install handler for sig without SA_RESTART, so blocking calls return. */
static void
set_signal(int sig, void (*handler)(int))
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Messages for token failures, per dialect: what each seed's clients saw. */
struct auth_text {
	const char	*missing, *malformed, *invalid, *expired, *revoked;
};

static const struct auth_text auth_texts[] = {
	[DIALECT_FASTBACK] = { "Authentication required: send Authorization: "
	    "Bearer <token>", "Malformed Authorization header",
	    "Invalid token", "Token has expired", "Token has been revoked" },
	[DIALECT_000] = { "Token is missing!", "Invalid token format!",
	    "Token is invalid!", "Token has expired!",
	    "Token has been revoked!" },
	[DIALECT_001] = { "Token is missing!", "Invalid token format!",
	    "Token is invalid!", "Token has expired!",
	    "Token has been revoked!" },
	[DIALECT_002] = { "Missing Authorization Header",
	    "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
	    "Invalid token", "Token has expired", "Token has been revoked" },
	[DIALECT_003] = { "Authorization token is missing",
	    "Invalid Authorization header", "Invalid token",
	    "Token has expired", "Token has been revoked" },
	[DIALECT_004] = { "Authentication credentials were not provided.",
	    "Invalid token header.", "Invalid token.", "Token has expired.",
	    "Invalid token." },
};

/* Write the 401 (or 503) for a failed token check.  Returns the status. */
static int
reply_auth_failure(struct reply *rep, enum token_status st)
{
	const struct auth_text	*t = &auth_texts[rep->dialect];

	switch (st) {
	case TOKEN_MISSING:
		return reply_error(rep, 401, "missing_token", "%s", t->missing);
	case TOKEN_MALFORMED:
		return reply_error(rep, 401, "malformed_token", "%s",
		    t->malformed);
	case TOKEN_EXPIRED:
		return reply_error(rep, 401, "token_expired", "%s", t->expired);
	case TOKEN_REVOKED:
		return reply_error(rep, 401, "token_revoked", "%s", t->revoked);
	case TOKEN_ERROR:
		return reply_error(rep, 503, "database_unavailable",
		    "The database is not reachable; try again shortly");
	case TOKEN_INVALID:
	case TOKEN_OK:
		break;
	}
	return reply_error(rep, 401, "invalid_token", "%s", t->invalid);
}

/* Read the body (at most [http] max_body).  Returns 0 or the 413/400. */
static int
read_body(FCGX_Request *fr, struct request *req, struct reply *rep)
{
	const char	*cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	long long	 len;
	size_t		 got = 0;
	int		 n;

	if (cl == NULL || *cl == '\0')
		return 0;
	if (valid_int(cl, 0, 9223372036854775807LL, &len) == -1)
		return reply_error(rep, 400, "bad_request",
		    "Content-Length is not a number");
	if (len > config()->http_max_body)
		return reply_error(rep, 413, "payload_too_large",
		    "The body is larger than %ld bytes",
		    config()->http_max_body);
	if (len == 0)
		return 0;
	req->body = xmalloc((size_t)len + 1);
	while (got < (size_t)len) {
		n = FCGX_GetStr(req->body + got, (int)((size_t)len - got),
		    fr->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	req->body[got] = '\0';
	req->body_len = got;
	if (got != (size_t)len)
		return reply_error(rep, 400, "bad_request",
		    "The body is shorter than its Content-Length");
	return 0;
}

/* ROUTE_BODY: the body must be one JSON object; none counts as {}. */
static int
parse_json_body(struct request *req, struct reply *rep)
{
	const char	*why = NULL;

	if (req->body_len == 0) {
		req->json = json_object_new_object();
		return 0;
	}
	if ((req->json = body_parse(req->body, req->body_len, &why)) != NULL &&
	    !json_object_is_type(req->json, json_type_object))
		why = "The body must be a JSON object";
	else if (req->json != NULL)
		return 0;
	/* 003's clients know one message for every malformed request. */
	return reply_error(rep, 400, "invalid_json", "%s",
	    rep->dialect == DIALECT_003 ? "Invalid request parameters." : why);
}

/* Check the token when the route wants one.  Returns 0 or the error status. */
static int
authenticate(struct request *req, struct reply *rep)
{
	const char		*header, *token;
	size_t			 len;
	enum token_status	 st;

	header = request_header(req, "Authorization");
	if (req->route->flags & ROUTE_PUBLIC)
		return 0;
	if ((req->route->flags & ROUTE_AUTH_OPTIONAL) &&
	    (header == NULL || *header == '\0'))
		return 0;
	if ((st = token_from_header(header, &token, &len)) == TOKEN_OK)
		st = token_verify(token, len, &req->auth);
	return st == TOKEN_OK ? 0 : reply_auth_failure(rep, st);
}

/* Request id: nginx's $request_id when sane, else our own. */
static void
set_request_id(FCGX_Request *fr, struct request *req)
{
	const char	*rid = FCGX_GetParam("REQUEST_ID", fr->envp);
	size_t		 i, n;

	if (rid != NULL && (n = strlen(rid)) >= 8 && n < sizeof(req->id)) {
		for (i = 0; i < n; i++)
			if (!((rid[i] >= '0' && rid[i] <= '9') ||
			    (rid[i] >= 'a' && rid[i] <= 'z') ||
			    (rid[i] >= 'A' && rid[i] <= 'Z') || rid[i] == '-'))
				break;
		if (i == n) {
			memcpy(req->id, rid, n + 1);
			return;
		}
	}
	random_hex(req->id, 16);
}

/* The path to route on: nginx's normalised $uri, else REQUEST_URI. */
static const char *
request_path(FCGX_Request *fr, char **owned)
{
	const char	*p = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	size_t		 n;

	*owned = NULL;
	if (p != NULL && *p == '/')
		return p;
	p = FCGX_GetParam("REQUEST_URI", fr->envp);
	if (p == NULL || *p != '/')
		return "/";
	n = strcspn(p, "?");
	*owned = xstrndup(p, n);
	return *owned;
}

/*
 * Write status, headers and body.  The head is formatted here, not with
 * FCGX_FPrintF(): libfcgi's own printf knows no %zu.
 */
static void
write_reply(FCGX_Request *fr, struct request *req, struct reply *rep)
{
	struct buf	 head = { NULL, 0, 0 };
	const char	*json = NULL;
	size_t		 len = 0;

	buf_printf(&head, "Status: %d %s\r\nX-Request-Id: %s\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
	    rep->status, reply_reason(rep->status), req->id);
	if (rep->headers.len > 0)
		buf_append(&head, rep->headers.data, rep->headers.len);
	if (rep->body != NULL && rep->status != 204) {
		json = json_object_to_json_string_ext(rep->body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		len = strlen(json);
		buf_printf(&head, "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n", len);
	}
	buf_puts(&head, "\r\n");
	FCGX_PutStr(head.data, (int)head.len, fr->out);
	if (json != NULL)
		FCGX_PutStr(json, (int)len, fr->out);
	buf_free(&head);
}

/* Serve one accepted request from routing to the log line. */
static void
serve(struct responder *r, FCGX_Request *fr)
{
	struct request		 req;
	struct reply		 rep;
	const struct route	*route;
	char			 allow[64];
	char			*path_owned;
	const char		*query;
	long long		 started = clock_ms();
	int			 rc;

	memset(&req, 0, sizeof(req));
	memset(&rep, 0, sizeof(rep));
	req.fcgi = fr;
	set_request_id(fr, &req);
	log_set_request_id(req.id);
	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	if (req.method == NULL)
		req.method = "GET";
	req.path = request_path(fr, &path_owned);
	query = FCGX_GetParam("QUERY_STRING", fr->envp);
	req.query = query != NULL ? query : "";
	req.remote_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	req.user_agent = FCGX_GetParam("HTTP_USER_AGENT", fr->envp);
	if (req.user_agent == NULL)
		req.user_agent = "";

	switch (route_match(r->routes, r->nroutes, req.method, req.path, &req,
	    &route, allow, sizeof(allow))) {
	case ROUTE_NOT_FOUND:
		reply_error(&rep, 404, "not_found", "No such endpoint: %s",
		    req.path);
		goto done;
	case ROUTE_BAD_METHOD:
		rep.dialect = route->dialect;
		reply_header(&rep, "Allow", allow);
		reply_error(&rep, 405, "method_not_allowed",
		    "Method %s is not allowed here (allowed: %s)", req.method,
		    allow);
		goto done;
	case ROUTE_FOUND:
		break;
	}
	req.route = route;
	rep.dialect = route->dialect;
	/* The token before the body: strangers learn nothing of validation. */
	if ((rc = read_body(fr, &req, &rep)) != 0)
		goto done;
	if (authenticate(&req, &rep) != 0)
		goto done;
	if ((route->flags & ROUTE_BODY) && parse_json_body(&req, &rep) != 0)
		goto done;
	rc = route->handler(&req, &rep);
	if (rep.status == 0 || rc != rep.status) {
		log_error("handler for %s %s returned %d without a reply",
		    req.method, route->pattern, rc);
		reply_error(&rep, 500, "internal_error", "Internal error");
	}
	if (db_in_transaction()) {
		log_error("handler for %s %s left a transaction open",
		    req.method, route->pattern);
		db_rollback();
	}
done:
	write_reply(fr, &req, &rep);
	if (config()->log_requests)
		log_info("%s %s %d %.1fms user=%lld", req.method, req.path,
		    rep.status, (double)(clock_ms() - started),
		    req.auth.user_id);
	log_set_request_id(NULL);
	request_clear(&req);
	reply_clear(&rep);
	free(path_owned);
}

/* Whether a connection waits on the listening socket, not yet accepted. */
static int
listener_pending(int fd)
{
	struct pollfd	 pfd;

	memset(&pfd, 0, sizeof(pfd));
	pfd.fd = fd;
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/*
 * A worker: its own database connection, then accept and serve.  Once
 * stopping, it still serves the connections already queued on the socket
 * (for a few seconds at most): nginx has sent those requests, and they
 * would end in 502s when the last worker closes the socket on them.
 */
static int
worker_run(struct responder *r)
{
	FCGX_Request	 fr;
	sigset_t	 term, old;
	time_t		 drain_until = 0;
	long		 served = 0;
	int		 max = config()->responder_max_requests, rc;

	set_signal(SIGTERM, on_stop);
	set_signal(SIGINT, on_stop);
	set_signal(SIGALRM, on_alarm);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	if (db_connect() == -1)
		log_warn("no database yet; will retry on the first request");
	if (FCGX_InitRequest(&fr, r->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("FCGX_InitRequest failed");
		return 1;
	}
	for (;;) {
		if (stopping) {
			if (drain_until == 0)
				drain_until = time(NULL) + RESPONDER_DRAIN_SECS;
			if (time(NULL) >= drain_until ||
			    !listener_pending(r->listen_fd))
				break;
			/* Another worker may get it first: wait 1 s at most. */
			alarm(1);
		}
		rc = FCGX_Accept_r(&fr);
		alarm(0);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_error("accept failed: %s", strerror(errno));
			break;
		}
		/* A SIGTERM now waits until this request is answered. */
		sigprocmask(SIG_BLOCK, &term, &old);
		serve(r, &fr);
		FCGX_Finish_r(&fr);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (max > 0 && ++served >= max) {
			log_info("served %ld requests; recycling", served);
			break;
		}
	}
	FCGX_Free(&fr, 1);
	db_disconnect();
	return 0;
}

/*
 * _exit() skips LeakSanitizer's check at exit, and a worker must not run
 * the parent's atexit handlers; so sanitizer builds check here, by hand,
 * and a leak in request handling fails the tests that read the logs.
 */
static void
worker_leak_check(void)
{
#if defined(__SANITIZE_ADDRESS__)
	db_library_end();
	__lsan_do_leak_check();
#endif
}

/* Fork a worker that starts with the signal mask mask. */
static pid_t
spawn_worker(struct responder *r, const sigset_t *mask)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int	 rc;

		sigprocmask(SIG_SETMASK, mask, NULL);
		rc = worker_run(r);

		config_free();
		worker_leak_check();
		_exit(rc);
	}
	return pid;
}

static int
worker_count(enum family f)
{
	const struct config	*c = config();
	long			 n;

	if (workers_override > 0)
		return workers_override;
	if (c->family[f].workers > 0)
		return c->family[f].workers;
	if (c->responder_workers > 0)
		return c->responder_workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > RESPONDER_MAX_WORKERS ? RESPONDER_MAX_WORKERS :
	    (int)n;
}

/*
 * The master: start the workers, replace those that die (not faster than
 * once a second when they keep dying), and on SIGTERM pass it on and wait.
 * Its signals are blocked except inside sigsuspend(): with pause(), one
 * that came just before the call went unseen until the next signal, which
 * left a dead worker unreplaced or a SIGTERM unheeded.
 */
static int
master_run(struct responder *r)
{
	pid_t		 pids[RESPONDER_MAX_WORKERS];
	sigset_t	 block, wait_mask;
	time_t		 last_respawn = 0;
	int		 n = worker_count(r->family), i, status, alive;
	pid_t		 pid;

	set_signal(SIGTERM, on_stop);
	set_signal(SIGINT, on_stop);
	set_signal(SIGCHLD, on_child);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	for (i = 0; i < n; i++)
		pids[i] = spawn_worker(r, &wait_mask);
	log_info("started %d workers", n);
	while (!stopping) {
		sigsuspend(&wait_mask);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < n; i++)
				if (pids[i] == pid)
					break;
			if (i == n)
				continue;
			if (WIFSIGNALED(status))
				log_error("worker %d died of signal %d",
				    (int)pid, WTERMSIG(status));
			pids[i] = -1;
			if (stopping)
				continue;
			if (time(NULL) - last_respawn < 1)
				sleep(1);
			last_respawn = time(NULL);
			pids[i] = spawn_worker(r, &wait_mask);
		}
	}
	log_info("stopping: waiting for workers to finish their requests");
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	do {
		alive = 0;
		for (i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], &status, 0) == pids[i] ||
			    errno == ECHILD)
				pids[i] = -1;
			else
				alive = 1;
		}
	} while (alive);
	return 0;
}

/* Is fd 0 a listening socket handed over by a FastCGI spawner? */
static int
stdin_is_listener(void)
{
	int		 on = 0;
	socklen_t	 len = sizeof(on);

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

static int
open_listener(const char *addr)
{
	int	 fd;

	if (strncmp(addr, "unix:", 5) == 0)
		addr += 5;
	if ((fd = FCGX_OpenSocket(addr, RESPONDER_BACKLOG)) < 0) {
		log_error("cannot listen on %s", addr);
		return -1;
	}
	/* nginx runs as another user: give the socket's group access. */
	if (addr[0] == '/' && chmod(addr, 0660) == -1)
		log_warn("chmod %s: %s", addr, strerror(errno));
	return fd;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--config FILE] [--listen ADDRESS] "
	    "[--workers N] [--print-config]\n"
	    "  ADDRESS: unix:/path.sock, /path.sock, host:port or :port;\n"
	    "  a listening socket on fd 0 (FastCGI spawner) is used when "
	    "present.\n", prog);
}

int
responder_main(enum family family, const struct route *routes,
    size_t nroutes, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct responder	 r = { family, routes, nroutes, -1 };
	const char		*config_path = NULL, *listen_addr = NULL;
	char			 program[64];
	long long		 workers = 0;
	int			 ch, print = 0, rc;

	snprintf(program, sizeof(program), "fastback-%s", family_name(family));
	log_init(program);
	while ((ch = getopt_long(argc, argv, "c:l:w:ph", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'l':
			listen_addr = optarg;
			break;
		case 'w':
			if (valid_int(optarg, 1, RESPONDER_MAX_WORKERS,
			    &workers) == -1) {
				fprintf(stderr, "%s: --workers: 1 to %d\n",
				    program, RESPONDER_MAX_WORKERS);
				return 2;
			}
			break;
		case 'p':
			print = 1;
			break;
		default:
			usage(program);
			return ch == 'h' ? 0 : 2;
		}
	}
	if (config_load(config_path) == -1)
		return 1;
	if (print) {
		config_dump(stdout);
		return 0;
	}
	if (token_init() == -1 || password_init() == -1)
		return 1;
	workers_override = (int)workers;
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	if (listen_addr == NULL && stdin_is_listener()) {
		r.listen_fd = 0;
		log_info("serving the socket on fd 0");
	} else {
		if (listen_addr == NULL)
			listen_addr = config()->family[family].listen;
		if ((r.listen_fd = open_listener(listen_addr)) == -1)
			return 1;
		log_info("listening on %s", listen_addr);
	}
	rc = master_run(&r);
	config_free();
	return rc;
}
