/*
 * notifier_io.c -- the notifier's bridge, poller and presence against a
 * real stack's database and a small HTTP server of its own.
 *
 * tests/api/590-notifier-io.test.js runs it once per case, as
 * "notifier_io CASE", inside a stack started by tests/with-stack (it reads
 * $FASTBACK_VAR/config.ini and $FASTBACK_PORT).  Each case prints TAP
 * diagnostics and exits 0 when it passed.  The HTTP server answers:
 *   /echo  200, the request (head and body) as the body
 *   /slow  200 "slow", after SLOW_MS
 *   /hang  never
 *   /big   200 with BIG_LEN bytes
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <json-c/json.h>
#include <mysql.h>

#include "alloc.h"
#include "bridge.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "poller.h"
#include "presence.h"
#include "tap.h"

#define SLOW_MS		300
#define BIG_LEN		10000
#define MAX_ROWS	64

static struct event_base	*base;

/* ---------------------------------------------------------------- helpers */

static void
run_for(long ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Runs the loop until *flag or ms have passed; returns *flag. */
static int
run_until(const int *flag, long ms)
{
	long long	 end = clock_ms() + ms;

	while (!*flag && clock_ms() < end)
		run_for(10);
	return *flag;
}

/* A second connection of our own, for a transaction left open. */
static MYSQL *
raw_connect(void)
{
	const struct config	*c = config();
	MYSQL			*m;

	if ((m = mysql_init(NULL)) == NULL)
		return NULL;
	if (mysql_real_connect(m, c->db_socket[0] != '\0' ? "localhost" :
	    c->db_host, c->db_user, c->db_password, c->db_name,
	    (unsigned int)c->db_port,
	    c->db_socket[0] != '\0' ? c->db_socket : NULL, 0) == NULL ||
	    mysql_query(m, "SET time_zone = '+00:00'") != 0) {
		printf("# raw connection: %s\n", mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

static int
raw_exec(MYSQL *m, const char *sql)
{
	if (mysql_query(m, sql) != 0) {
		printf("# %s: %s\n", sql, mysql_error(m));
		return -1;
	}
	return 0;
}

/* Reserve n numbers of outbox_seq, as outbox_event() does; the last one. */
static uint64_t
reserve(int n)
{
	if (db_exec("UPDATE outbox_seq SET n = LAST_INSERT_ID(n + ?) "
	    "WHERE id = 1", "i", (long long)n) != DB_OK)
		return 0;
	return db_insert_id();
}

static int
insert(uint64_t seq, const char *room, const char *event)
{
	return db_exec("INSERT INTO events (seq, room, event, payload) "
	    "VALUES (?, ?, ?, JSON_OBJECT('seq', ?))", "issi", (long long)seq,
	    room, event, (long long)seq) == DB_OK ? 0 : -1;
}

/* What a poller_fn saw. */
struct seen {
	size_t		 n;
	uint64_t	 seq[MAX_ROWS];
	char		 room[MAX_ROWS][32];
	int		 bad;		/* a bad row, or too many */
};

static void
seen_row(void *arg, const struct event_row *row)
{
	struct seen	*s = arg;

	if (strncmp(row->room, "test:", 5) != 0)
		return;		/* a row of the stack's own */
	if (s->n == MAX_ROWS || row->payload == NULL ||
	    row->payload_len != strlen(row->payload)) {
		s->bad = 1;
		return;
	}
	s->seq[s->n] = row->seq;
	snprintf(s->room[s->n], sizeof(s->room[0]), "%s", row->room);
	s->n++;
}

/* ---------------------------------------------------------------- poller */

/*
 * Two transactions take seq N+1 and N+2; N+2 commits first.  The poller
 * must hold N+2 back until N+1 commits, then pass both on in order.
 */
static int
poller_out_of_order(void)
{
	struct seen	 s = { 0 };
	struct poller	*p;
	MYSQL		*m;
	uint64_t	 hi;
	char		 sql[256];
	int		 ok = 0;

	CHECK((m = raw_connect()) != NULL);
	CHECK((p = poller_new(base, config(), seen_row, &s)) != NULL);
	run_for(100);
	CHECK((hi = reserve(2)) > 0);
	snprintf(sql, sizeof(sql), "INSERT INTO events (seq, room, event, "
	    "payload) VALUES (%llu, 'test:order', 'first', '{}')",
	    (unsigned long long)(hi - 1));
	if (raw_exec(m, "BEGIN") == -1 || raw_exec(m, sql) == -1)
		goto out;
	if (insert(hi, "test:order", "second") == -1)
		goto out;
	run_for(500);		/* < gap_ms: nothing may pass yet */
	if (s.n != 0 || poller_cursor(p) >= hi - 1) {
		printf("# passed on %zu rows before the gap filled\n", s.n);
		goto out;
	}
	if (raw_exec(m, "COMMIT") == -1)
		goto out;
	run_for(200);
	if (s.n != 2 || s.seq[0] != hi - 1 || s.seq[1] != hi || s.bad) {
		printf("# got %zu rows: %llu %llu\n", s.n,
		    (unsigned long long)s.seq[0],
		    (unsigned long long)s.seq[1]);
		goto out;
	}
	ok = poller_cursor(p) == hi;
 out:
	poller_free(p);
	mysql_close(m);
	return ok;
}

/* A number that never commits is skipped after gap_ms, not before. */
static int
poller_skips_a_hole(void)
{
	struct seen	 s = { 0 };
	struct poller	*p;
	uint64_t	 hi;
	long long	 start;
	int		 ok = 0;

	CHECK((p = poller_new(base, config(), seen_row, &s)) != NULL);
	run_for(100);
	CHECK((hi = reserve(3)) > 0);
	if (insert(hi - 2, "test:hole", "before") == -1 ||
	    insert(hi, "test:hole", "after") == -1)
		goto out;
	start = clock_ms();
	run_for(200);
	if (s.n != 1 || s.seq[0] != hi - 2) {
		printf("# before the gap: %zu rows\n", s.n);
		goto out;
	}
	while (s.n < 2 && clock_ms() - start < 3000)
		run_for(20);
	if (s.n != 2 || s.seq[1] != hi) {
		printf("# the row after the hole never came\n");
		goto out;
	}
	if (clock_ms() - start < config()->notifier_gap_ms) {
		printf("# skipped after %lld ms only\n", clock_ms() - start);
		goto out;
	}
	ok = poller_cursor(p) == hi;
 out:
	poller_free(p);
	return ok;
}

/* Replay: the rooms asked for, in order; -1 once rows were pruned. */
static int
poller_replays(void)
{
	static const char *const rooms[] = { "test:a", "test:c" };
	static const char *const order[] = { "test:a", "test:b", "test:c",
	    "test:a", "test:b" };
	struct seen	 s = { 0 }, r = { 0 };
	struct poller	*p;
	uint64_t	 hi, first, i;
	long		 n;
	int		 ok = 0;

	CHECK((p = poller_new(base, config(), seen_row, &s)) != NULL);
	run_for(100);
	CHECK((hi = reserve(5)) > 0);
	first = hi - 4;
	for (i = 0; i < 5; i++)
		if (insert(first + i, order[i], "replayed") == -1)
			goto out;
	run_for(200);
	if (s.n != 5 || poller_cursor(p) != hi)
		goto out;
	n = poller_replay(p, first - 1, rooms, 2, seen_row, &r);
	if (n != 3 || r.n != 3 || r.seq[0] != first ||
	    r.seq[1] != first + 2 || r.seq[2] != first + 3 ||
	    strcmp(r.room[1], "test:c") != 0) {
		printf("# replay from %llu: %ld rows\n",
		    (unsigned long long)first - 1, n);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	if (poller_replay(p, first + 2, rooms, 2, seen_row, &r) != 1 ||
	    r.seq[0] != first + 3)
		goto out;
	if (poller_replay(p, hi, rooms, 2, seen_row, &r) != 0 ||
	    poller_replay(p, hi + 100, rooms, 2, seen_row, &r) != 0)
		goto out;
	/* Prune as retention would: everything up to first + 1. */
	if (db_exec("DELETE FROM events WHERE seq <= ?", "i",
	    (long long)first + 1) != DB_OK)
		goto out;
	memset(&r, 0, sizeof(r));
	if ((n = poller_replay(p, first - 1, rooms, 2, seen_row, &r)) != -1 ||
	    r.n != 0) {
		printf("# replay past retention: %ld\n", n);
		goto out;
	}
	/* first + 1 was seen: what follows is all there. */
	ok = poller_replay(p, first + 1, rooms, 2, seen_row, &r) == 2;
 out:
	poller_free(p);
	return ok;
}

/* A replay over more rows than one page: in order, none twice. */
struct ordered {
	long		 n;
	uint64_t	 last;
	int		 bad;
};

static void
ordered_row(void *arg, const struct event_row *row)
{
	struct ordered	*o = arg;

	if (row->seq <= o->last || strcmp(row->room, "test:p3") == 0)
		o->bad = 1;
	o->last = row->seq;
	o->n++;
}

static int
poller_replays_pages(void)
{
	static const char *const rooms[] = { "test:p1", "test:p2", "test:p1" };
	struct seen	 s = { 0 };
	struct ordered	 o = { 0 };
	struct poller	*p;
	uint64_t	 hi;
	long		 n;
	int		 ok = 0;

	CHECK((p = poller_new(base, config(), seen_row, &s)) != NULL);
	run_for(50);
	/* 3,000 rows: p1 for 1 in 6, p2 for 4 in 6, p3 for 1 in 6. */
	CHECK((hi = reserve(3000)) > 0);
	if (db_exec("INSERT INTO events (seq, room, event, payload) "
	    "SELECT ? - 3000 + seq, ELT(1 + seq % 6, 'test:p1', 'test:p2',"
	    " 'test:p2', 'test:p3', 'test:p2', 'test:p2'), 'paged', '{}' "
	    "FROM seq_1_to_3000", "i", (long long)hi) != DB_OK)
		goto out;
	while (poller_cursor(p) < hi && !s.bad)
		run_for(20);
	n = poller_replay(p, hi - 3000, rooms, nitems(rooms), ordered_row,
	    &o);
	if (n != 2500 || o.n != 2500 || o.bad) {
		printf("# replay: %ld rows, %ld seen, bad %d\n", n, o.n, o.bad);
		goto out;
	}
	ok = 1;
 out:
	poller_free(p);
	return ok;
}

/* The connection is killed: the poller reconnects and goes on. */
static int
poller_reconnects(void)
{
	struct seen		 s = { 0 };
	struct poller		*p;
	struct db_result	*res;
	MYSQL			*m;
	uint64_t		 hi;
	char			 sql[64];
	int			 ok = 0;

	CHECK((m = raw_connect()) != NULL);
	CHECK((p = poller_new(base, config(), seen_row, &s)) != NULL);
	run_for(50);
	CHECK(db_query(&res, "SELECT CONNECTION_ID()", "") == DB_OK);
	snprintf(sql, sizeof(sql), "KILL CONNECTION %lld",
	    db_get_int(res, 0, 0));
	db_result_free(res);
	if (raw_exec(m, sql) == -1 ||
	    raw_exec(m, "UPDATE outbox_seq SET n = n + 1 WHERE id = 1") == -1 ||
	    raw_exec(m, "INSERT INTO events (seq, room, event, payload) "
	    "SELECT n, 'test:again', 'again', '{}' FROM outbox_seq") == -1)
		goto out;
	run_for(300);
	CHECK(db_query(&res, "SELECT n FROM outbox_seq", "") == DB_OK);
	hi = (uint64_t)db_get_int(res, 0, 0);
	db_result_free(res);
	ok = s.n == 1 && s.seq[0] == hi && poller_cursor(p) == hi;
	if (!ok)
		printf("# %zu rows after the kill\n", s.n);
 out:
	poller_free(p);
	mysql_close(m);
	return ok;
}

static long long
count_old(void)
{
	struct db_result	*res;
	long long		 n;

	if (db_query(&res, "SELECT COUNT(*) FROM events WHERE room = "
	    "'test:old'", "") != DB_OK)
		return -1;
	n = db_get_int(res, 0, 0);
	db_result_free(res);
	return n;
}

/*
 * Pruning: rows older than the retention go, prune_batch rows a statement
 * and a bounded number per round, and not while another holds the lock.
 */
static int
poller_prunes(void)
{
	struct seen	 s = { 0 };
	struct poller	*p = NULL;
	MYSQL		*m;
	uint64_t	 hi;
	long long	 left, start;
	int		 ok = 0;

	CHECK((m = raw_connect()) != NULL);
	/* 2,500 rows an hour old: past this test's retention of a minute. */
	CHECK((hi = reserve(2500)) > 0);
	if (db_exec("INSERT INTO events (seq, room, event, payload, "
	    "created_at) SELECT ? - 2500 + seq, 'test:old', 'old', '{}', "
	    "UTC_TIMESTAMP(6) - INTERVAL 1 HOUR FROM seq_1_to_2500", "i",
	    (long long)hi) != DB_OK)
		goto out;
	CHECK(count_old() == 2500);
	if (raw_exec(m, "DO GET_LOCK('fastback_notifier_prune', 10)") == -1)
		goto out;
	CHECK((p = poller_new(base, config(), seen_row, &s)) != NULL);
	run_for(1500);		/* its first round comes after a second */
	if ((left = count_old()) != 2500) {
		printf("# pruned %lld rows under another's lock\n",
		    2500 - left);
		goto out;
	}
	if (raw_exec(m, "DO RELEASE_LOCK('fastback_notifier_prune')") == -1)
		goto out;
	/* The next round is 10 s away: a new poller starts one sooner. */
	poller_free(p);
	CHECK((p = poller_new(base, config(), seen_row, &s)) != NULL);
	start = clock_ms();
	while ((left = count_old()) == 2500 && clock_ms() - start < 3000)
		run_for(50);
	/* One round: at most 10 statements of prune_batch (100) rows. */
	if (left < 2500 - 1000 || left == 2500) {
		printf("# one round pruned %lld rows\n", 2500 - left);
		goto out;
	}
	while ((left = count_old()) > 0 && clock_ms() - start < 8000)
		run_for(100);
	if (left != 0) {
		printf("# %lld old rows left\n", left);
		goto out;
	}
	/* The rows of this test, just written, stay. */
	ok = s.bad == 0;
 out:
	poller_free(p);
	mysql_close(m);
	return ok;
}

/* ---------------------------------------------------------- HTTP server */

struct conn {
	struct server		*srv;
	struct conn		*next;
	struct bufferevent	*bev;
	struct event		*delay;
	int			 waiting;	/* a reply is due later */
};

struct server {
	struct evconnlistener	*lst;
	struct conn		*conns;
	int			 port;
	int			 accepted;
	int			 requests;
};

static void
conn_close(struct conn *c)
{
	struct conn	**pp;

	for (pp = &c->srv->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->delay != NULL)
		event_free(c->delay);
	bufferevent_free(c->bev);
	free(c);
}

static void
conn_reply(struct conn *c, const char *body, size_t len)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n\r\n", len);
	evbuffer_add(bufferevent_get_output(c->bev), body, len);
}

static void	conn_read(struct bufferevent *, void *);

static void
conn_slow(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	c->waiting = 0;
	conn_reply(c, "slow", 4);
	conn_read(c->bev, c);	/* a request that came meanwhile */
}

/* Requests, one after the other on the connection (keep-alive). */
static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 end;
	struct timeval		 tv = { 0, SLOW_MS * 1000 };
	char			*head, *cl, *big;
	size_t			 hlen, blen = 0;

	while (!c->waiting) {
		end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0)
			return;
		hlen = (size_t)end.pos + 4;
		head = xmalloc(hlen + 1);
		evbuffer_copyout(in, head, hlen);
		head[hlen] = '\0';
		if ((cl = strcasestr(head, "\r\nContent-Length:")) != NULL)
			blen = strtoul(cl + 17, NULL, 10);
		if (evbuffer_get_length(in) < hlen + blen) {
			free(head);
			return;
		}
		c->srv->requests++;
		if (strncmp(strchr(head, ' ') + 1, "/echo", 5) == 0) {
			head = xrealloc(head, hlen + blen + 1);
			evbuffer_remove(in, head, hlen + blen);
			head[hlen + blen] = '\0';
			conn_reply(c, head, hlen + blen);
		} else {
			evbuffer_drain(in, hlen + blen);
			if (strncmp(strchr(head, ' ') + 1, "/slow", 5) == 0) {
				c->waiting = 1;
				evtimer_add(c->delay, &tv);
			} else if (strncmp(strchr(head, ' ') + 1, "/big",
			    4) == 0) {
				big = xmalloc(BIG_LEN);
				memset(big, 'x', BIG_LEN);
				conn_reply(c, big, BIG_LEN);
				free(big);
			} else
				c->waiting = 1;		/* /hang */
		}
		free(head);
	}
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_close(arg);
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c;

	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->delay = evtimer_new(base, conn_slow, c);
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = srv->conns;
	srv->conns = c;
	srv->accepted++;
}

/* Listen on port (0: any free one); -1 when it cannot. */
static int
server_start(struct server *srv, int port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	srv->lst = evconnlistener_new_bind(base, server_accept, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (srv->lst == NULL)
		return -1;
	getsockname(evconnlistener_get_fd(srv->lst), (struct sockaddr *)&sin,
	    &len);
	srv->port = ntohs(sin.sin_port);
	return 0;
}

/* Close the listener and every connection: the API is down. */
static void
server_stop(struct server *srv)
{
	while (srv->conns != NULL)
		conn_close(srv->conns);
	if (srv->lst != NULL)
		evconnlistener_free(srv->lst);
	srv->lst = NULL;
}

/* ---------------------------------------------------------------- bridge */

struct got {
	int		 calls;		/* times fn ran */
	long		 status;
	char		*body;
	long long	 at;		/* clock_ms() when it ran */
	int		 inside;	/* it ran from inside bridge_call() */
	struct bridge_call *cancel;	/* to cancel from the callback */
	struct bridge	*free_bridge;	/* to free from the callback */
};

static int	in_call;

static void
got_reply(void *arg, const struct bridge_reply *r)
{
	struct got	*g = arg;

	g->calls++;
	g->status = r->status;
	free(g->body);
	g->body = xstrndup(r->body, r->len);
	g->at = clock_ms();
	g->inside = in_call;
	if (g->cancel != NULL)
		bridge_cancel(g->cancel);
	if (g->free_bridge != NULL)
		bridge_free(g->free_bridge);
}

static struct bridge_call *
call(struct bridge *b, const char *method, const char *path, struct got *g)
{
	struct bridge_req	 req = { 0 };
	struct bridge_call	*c;

	req.method = method;
	req.path = path;
	in_call = 1;
	c = bridge_call(b, &req, got_reply, g);
	in_call = 0;
	return c;
}

static struct bridge *
bridge_to(int port, long timeout_ms, size_t max_reply)
{
	char		*url;
	struct bridge	*b;

	url = xasprintf("http://127.0.0.1:%d/", port);
	b = bridge_new(base, url, timeout_ms, max_reply);
	free(url);
	return b;
}

/* The headers and body reach the API; the reply comes back whole. */
static int
bridge_sends_headers(void)
{
	struct server		 srv = { 0 };
	struct bridge		*b;
	struct bridge_req	 req = { 0 };
	struct got		 g = { 0 };
	int			 ok;

	CHECK(server_start(&srv, 0) == 0);
	CHECK((b = bridge_to(srv.port, 2000, 65536)) != NULL);
	req.method = "POST";
	req.path = "/echo?x=1";
	req.token = "tok.en";
	req.client_addr = "203.0.113.7";
	req.device_id = "dev-1";
	req.body = "{\"a\":1}";
	req.body_len = 7;
	CHECK(bridge_call(b, &req, got_reply, &g) != NULL);
	CHECK(bridge_pending(b) == 1);
	ok = run_until(&g.calls, 2000) && g.status == 200 &&
	    strncmp(g.body, "POST /echo?x=1 HTTP/1.1\r\n", 25) == 0 &&
	    strstr(g.body, "\r\nAuthorization: Bearer tok.en\r\n") != NULL &&
	    strstr(g.body, "\r\nX-Forwarded-For: 203.0.113.7\r\n") != NULL &&
	    strstr(g.body, "\r\nX-Device-Id: dev-1\r\n") != NULL &&
	    strstr(g.body, "\r\nContent-Type: application/json\r\n") != NULL &&
	    strstr(g.body, "\r\n\r\n{\"a\":1}") != NULL &&
	    bridge_pending(b) == 0;
	if (!ok)
		printf("# status %ld, body:\n# %s\n", g.status,
		    g.body != NULL ? g.body : "(none)");
	/* A value that would add a header line is refused, later. */
	req.token = "a\r\nX-Evil: 1";
	g.calls = 0;
	in_call = 1;
	CHECK(bridge_call(b, &req, got_reply, &g) != NULL);
	in_call = 0;
	CHECK(g.calls == 0);
	CHECK(run_until(&g.calls, 1000) && g.status == 0 && !g.inside);
	CHECK(srv.requests == 1);
	bridge_free(b);
	server_stop(&srv);
	free(g.body);
	return ok;
}

/* Calls overlap, and share one kept-alive connection when in sequence. */
static int
bridge_concurrent(void)
{
	struct server	 srv = { 0 };
	struct bridge	*b;
	struct got	 g[8];
	long long	 start;
	size_t		 i;
	int		 ok = 1, all;

	memset(g, 0, sizeof(g));
	CHECK(server_start(&srv, 0) == 0);
	CHECK((b = bridge_to(srv.port, 5000, 65536)) != NULL);
	start = clock_ms();
	for (i = 0; i < nitems(g); i++)
		CHECK(call(b, "GET", "/slow", &g[i]) != NULL);
	CHECK(bridge_pending(b) == nitems(g));
	for (all = 0; !all && clock_ms() - start < 3000; ) {
		run_for(10);
		for (all = 1, i = 0; i < nitems(g); i++)
			all &= g[i].calls == 1;
	}
	for (i = 0; i < nitems(g); i++)
		ok &= g[i].calls == 1 && g[i].status == 200 &&
		    strcmp(g[i].body, "slow") == 0 && !g[i].inside;
	/* In sequence they would take 8 x 300 ms. */
	if (clock_ms() - start > 2 * SLOW_MS) {
		printf("# 8 calls took %lld ms\n", clock_ms() - start);
		ok = 0;
	}
	/* Now one at a time: no new connection. */
	srv.accepted = 0;
	for (i = 0; i < 4; i++) {
		g[0].calls = 0;
		CHECK(call(b, "GET", "/echo", &g[0]) != NULL);
		CHECK(run_until(&g[0].calls, 2000) && g[0].status == 200);
	}
	if (srv.accepted != 0) {
		printf("# %d new connections for 4 calls in a row\n",
		    srv.accepted);
		ok = 0;
	}
	bridge_free(b);
	server_stop(&srv);
	for (i = 0; i < nitems(g); i++)
		free(g[i].body);
	return ok;
}

/* Cancelled calls never report, from outside or from a callback. */
static int
bridge_cancels(void)
{
	struct server		 srv = { 0 };
	struct bridge		*b;
	struct got		 g[4];
	struct bridge_call	*c[4];
	size_t			 i;
	int			 ok;

	memset(g, 0, sizeof(g));
	CHECK(server_start(&srv, 0) == 0);
	CHECK((b = bridge_to(srv.port, 5000, 65536)) != NULL);
	c[0] = call(b, "GET", "/slow", &g[0]);	/* cancelled at once */
	c[1] = call(b, "GET", "/slow", &g[1]);	/* cancelled in flight */
	c[2] = call(b, "GET", "/echo", &g[2]);	/* its fn cancels c[3] */
	c[3] = call(b, "GET", "/slow", &g[3]);
	g[2].cancel = c[3];
	bridge_cancel(c[0]);
	CHECK(bridge_pending(b) == 3);
	run_for(100);
	bridge_cancel(c[1]);
	run_for(SLOW_MS * 2);
	ok = g[0].calls == 0 && g[1].calls == 0 && g[2].calls == 1 &&
	    g[2].status == 200 && g[3].calls == 0 && bridge_pending(b) == 0;
	/* Freeing the bridge cancels what is left. */
	free(g[2].body);
	memset(g, 0, sizeof(g));
	call(b, "GET", "/slow", &g[0]);
	call(b, "GET", "/hang", &g[1]);
	run_for(50);
	bridge_free(b);
	run_for(SLOW_MS * 2);
	ok &= g[0].calls == 0 && g[1].calls == 0;
	/* ...also from inside a callback. */
	CHECK((b = bridge_to(srv.port, 5000, 65536)) != NULL);
	memset(g, 0, sizeof(g));
	call(b, "GET", "/echo", &g[0]);
	call(b, "GET", "/echo", &g[1]);
	call(b, "GET", "/slow", &g[2]);
	g[0].free_bridge = g[1].free_bridge = b;
	run_for(SLOW_MS * 2);
	ok &= g[0].calls + g[1].calls == 1 && g[2].calls == 0;
	server_stop(&srv);
	for (i = 0; i < nitems(g); i++)
		free(g[i].body);
	return ok;
}

/* A silent API and an endless reply fail the call: status 0. */
static int
bridge_limits(void)
{
	struct server	 srv = { 0 };
	struct bridge	*b;
	struct got	 g = { 0 };
	long long	 start;
	int		 ok;

	CHECK(server_start(&srv, 0) == 0);
	CHECK((b = bridge_to(srv.port, 400, 4096)) != NULL);
	start = clock_ms();
	CHECK(call(b, "GET", "/hang", &g) != NULL);
	ok = run_until(&g.calls, 3000) && g.status == 0 &&
	    g.body[0] == '\0' && g.at - start >= 390 && g.at - start < 1500;
	if (!ok)
		printf("# /hang: status %ld after %lld ms\n", g.status,
		    g.at - start);
	g.calls = 0;
	CHECK(call(b, "GET", "/big", &g) != NULL);
	ok &= run_until(&g.calls, 3000) && g.status == 0;
	g.calls = 0;
	CHECK(call(b, "GET", "/echo", &g) != NULL);
	ok &= run_until(&g.calls, 3000) && g.status == 200;
	bridge_free(b);
	server_stop(&srv);
	free(g.body);
	return ok;
}

/* The API goes away and comes back; through nginx's loopback listener. */
static int
bridge_api_down(void)
{
	struct server	 srv = { 0 };
	struct bridge	*b;
	struct got	 g = { 0 };
	const char	*port;
	char		*url;
	int		 ok, p;

	CHECK(server_start(&srv, 0) == 0);
	p = srv.port;
	CHECK((b = bridge_to(p, 2000, 65536)) != NULL);
	CHECK(call(b, "GET", "/echo", &g) != NULL);
	ok = run_until(&g.calls, 2000) && g.status == 200;
	server_stop(&srv);	/* the kept connection closes too */
	g.calls = 0;
	CHECK(call(b, "GET", "/echo", &g) != NULL);
	ok &= run_until(&g.calls, 2000) && g.status == 0 && !g.inside;
	CHECK(server_start(&srv, p) == 0);
	g.calls = 0;
	CHECK(call(b, "GET", "/echo", &g) != NULL);
	ok &= run_until(&g.calls, 2000) && g.status == 200;
	bridge_free(b);
	server_stop(&srv);

	/* nginx: an anonymous GET /api/users/me is refused, not failed. */
	if ((port = getenv("FASTBACK_PORT")) != NULL) {
		url = xasprintf("http://127.0.0.1:%d", atoi(port) + 1);
		CHECK((b = bridge_new(base, url, 5000, 65536)) != NULL);
		free(url);
		g.calls = 0;
		CHECK(call(b, "GET", "/api/users/me", &g) != NULL);
		ok &= run_until(&g.calls, 5000) && g.status == 401 &&
		    g.body[0] == '{';
		if (g.status != 401)
			printf("# nginx: %ld %s\n", g.status, g.body);
		bridge_free(b);
	}
	free(g.body);
	return ok;
}

/* -------------------------------------------------------------- presence */

/* Whether the online list holds want, as expected (yes: 1, no: 0). */
static int
online_has(struct presence *p, const char *want, int expect)
{
	struct json_object	*list;
	const char		*got;
	int			 has;

	if ((list = presence_online(p, NULL)) == NULL)
		return 0;
	got = json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN);
	/* Other sockets of the stack are users with other ids. */
	has = strstr(got, want) != NULL;
	if (has != expect)
		printf("# online: %s\n# %s: %s\n", got,
		    expect ? "wanted" : "not wanted", want);
	json_object_put(list);
	return has == expect;
}

/* Two notifiers share presence; the rows of a dead one stop counting. */
static int
presence_shared(void)
{
	struct presence	*a, *b;
	char		*rooms;
	int		 ok = 0;

	/* Rows of an earlier run; the stack's own notifier stays. */
	CHECK(db_exec("DELETE FROM presence WHERE user_id BETWEEN 900001 AND "
	    "900003", "") == DB_OK);
	CHECK((a = presence_new(config())) != NULL);
	CHECK((b = presence_new(config())) != NULL);
	CHECK(presence_add(a, "sid-a1", 900001, "alice") == 0);
	CHECK(presence_add(b, "sid-b1", 900002, "bob") == 0);
	CHECK(presence_add(b, "sid-b2", 900001, "alice") == 0);
	CHECK(presence_rooms(b, "sid-b2", "[\"public\",\"user:900001\"]") ==
	    0);
	CHECK(presence_rooms(b, "sid-b2", "not json") == -1);
	CHECK(online_has(a, "{\"id\":900001,\"username\":\"alice\"},"
	    "{\"id\":900002,\"username\":\"bob\"}]", 1));

	/* Bob leaves; alice's second socket closes with its notifier. */
	CHECK(presence_remove(b, "sid-b1") == 0);
	presence_free(b);
	CHECK(online_has(a, "{\"id\":900001,\"username\":\"alice\"}]", 1));
	/* Its rooms are still there for alice, not for anyone else. */
	rooms = presence_recall(a, "sid-b2", 900001);
	CHECK(rooms != NULL && strcmp(rooms, "[\"public\",\"user:900001\"]") ==
	    0);
	free(rooms);
	CHECK(presence_recall(a, "sid-b2", 900002) == NULL);
	CHECK(presence_recall(a, "sid-none", 900001) == NULL);

	/* A notifier that stops beating stops counting at once... */
	CHECK((b = presence_new(config())) != NULL);
	CHECK(presence_add(b, "sid-b3", 900003, NULL) == 0);
	CHECK(online_has(a, "{\"id\":900003,\"username\":null}", 1));
	CHECK(db_exec("UPDATE notifiers SET beat_at = UTC_TIMESTAMP(6) - "
	    "INTERVAL ? SECOND WHERE id IN (SELECT notifier_id FROM presence "
	    "WHERE sid = 'sid-b3')", "i",
	    (long long)config()->notifier_presence_timeout + 1) == DB_OK);
	CHECK(online_has(a, "900003", 0));
	/* ...its beat brings it back... */
	CHECK(presence_beat(b) == 0);
	CHECK(online_has(a, "{\"id\":900003,\"username\":null}", 1));
	/* ...and after the keep time any beat deletes its rows. */
	CHECK(db_exec("UPDATE notifiers SET beat_at = UTC_TIMESTAMP(6) - "
	    "INTERVAL ? SECOND WHERE id IN (SELECT notifier_id FROM presence "
	    "WHERE sid = 'sid-b3')", "i",
	    (long long)(config()->notifier_presence_timeout +
	    config()->notifier_presence_keep + 1)) == DB_OK);
	CHECK(presence_beat(a) == 0);
	CHECK(presence_recall(a, "sid-b3", 900003) == NULL);
	/* b finds out at its next beat; its sockets can be added again. */
	CHECK(presence_beat(b) == 1);
	CHECK(presence_add(b, "sid-b3", 900003, "carol") == 0);
	CHECK(online_has(a, "{\"id\":900003,\"username\":\"carol\"}", 1));
	presence_free(b);
	ok = presence_remove(a, "sid-a1") == 0 &&
	    online_has(a, "900001", 0) && online_has(a, "900003", 0);
	presence_free(a);
	return ok;
}

static const struct tap_case cases[] = {
	{ "poller: out-of-order commits", poller_out_of_order },
	{ "poller: a hole is skipped after the grace", poller_skips_a_hole },
	{ "poller: replay per room and past retention", poller_replays },
	{ "poller: a long replay, paged", poller_replays_pages },
	{ "poller: a killed connection", poller_reconnects },
	{ "poller: bounded pruning under a lock", poller_prunes },
	{ "bridge: headers, body, reply", bridge_sends_headers },
	{ "bridge: concurrent calls, kept connection", bridge_concurrent },
	{ "bridge: cancel", bridge_cancels },
	{ "bridge: timeout and reply cap", bridge_limits },
	{ "bridge: the API down and back", bridge_api_down },
	{ "presence: two notifiers, heartbeat, expiry", presence_shared },
};

int
main(int argc, char *argv[])
{
	const char	*var;
	char		*path;
	size_t		 i;
	int		 rc = 2;

	if (argc != 2) {
		for (i = 0; i < nitems(cases); i++)
			printf("%s\n", cases[i].name);
		return argc == 1 ? 0 : 2;
	}
	if ((var = getenv("FASTBACK_VAR")) == NULL) {
		fprintf(stderr, "FASTBACK_VAR: not set; run through "
		    "tests/with-stack\n");
		return 2;
	}
	/* Short waits, so the cases stay quick. */
	setenv("FASTBACK_NOTIFIER_POLL_MS", "20", 1);
	setenv("FASTBACK_NOTIFIER_GAP_MS", "1000", 1);
	setenv("FASTBACK_NOTIFIER_RETENTION", "60", 1);
	setenv("FASTBACK_NOTIFIER_PRUNE_BATCH", "100", 1);
	setenv("FASTBACK_NOTIFIER_PRESENCE_TIMEOUT", "5", 1);
	setenv("FASTBACK_NOTIFIER_PRESENCE_KEEP", "60", 1);
	path = xasprintf("%s/config.ini", var);
	log_init("notifier_io");
	if (config_load(path) == -1)
		goto out;
	log_set_level(LOGLVL_WARN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	base = event_base_new();
	for (i = 0; i < nitems(cases); i++)
		if (strcmp(argv[1], cases[i].name) == 0)
			rc = tap_run(&cases[i], 1);
	event_base_free(base);
	libevent_global_shutdown();
	curl_global_cleanup();
	db_library_end();
 out:
	config_free();
	free(path);
	return rc;
}
