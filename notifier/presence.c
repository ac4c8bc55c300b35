/*
 * presence.c -- who is connected, across every notifier, in the database.
 *
 * schema/500_notifier.sql explains the two tables.  This process registers
 * under a random id, writes a row per socket and beats; a socket counts as
 * online while its row is open and its notifier's beat is recent, so the
 * rows of a notifier that died stop counting on their own and are deleted
 * later by whichever notifier beats.  Closed sockets keep their rooms for a
 * while, for a client that comes back with its previous session id.
 *
 * Statements go through db.c's connection (the notifier has one thread; the
 * poller uses it too).  While the server is unreachable, calls fail at once
 * for a second instead of each waiting for a connect timeout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "presence.h"

#define PRESENCE_ID_BYTES	16
#define PRESENCE_RETRY_MS	1000	/* quiet time after losing the server */
#define PRESENCE_EXPIRE_BATCH	1000	/* rows one heartbeat deletes */

struct presence {
	char		 id[2 * PRESENCE_ID_BYTES + 1];
	long		 timeout;	/* seconds without a beat: gone */
	long		 keep;		/* seconds closed rows are kept */
	int		 registered;	/* our notifiers row exists */
	long long	 retry_at;
};

static const char *const presence_sql_register =
    "INSERT INTO notifiers (id, started_at, beat_at)"
    " VALUES (?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"
    " ON DUPLICATE KEY UPDATE beat_at = UTC_TIMESTAMP(6)";
static const char *const presence_sql_beat =
    "UPDATE notifiers SET beat_at = UTC_TIMESTAMP(6) WHERE id = ?";
static const char *const presence_sql_add =
    "INSERT INTO presence (sid, notifier_id, user_id, username, rooms,"
    " connected_at, left_at)"
    " VALUES (?, ?, ?, ?, '[]', UTC_TIMESTAMP(6), NULL)"
    " ON DUPLICATE KEY UPDATE"
    " rooms = IF(user_id = VALUES(user_id), rooms, '[]'),"
    " notifier_id = VALUES(notifier_id), user_id = VALUES(user_id),"
    " username = VALUES(username), connected_at = VALUES(connected_at),"
    " left_at = NULL";
static const char *const presence_sql_rooms =
    "UPDATE presence SET rooms = ? WHERE sid = ? AND notifier_id = ?";
static const char *const presence_sql_leave =
    "UPDATE presence SET left_at = UTC_TIMESTAMP(6)"
    " WHERE sid = ? AND notifier_id = ? AND left_at IS NULL";
static const char *const presence_sql_delete =
    "DELETE FROM presence WHERE sid = ? AND notifier_id = ?";
static const char *const presence_sql_leave_all =
    "UPDATE presence SET left_at = UTC_TIMESTAMP(6)"
    " WHERE notifier_id = ? AND left_at IS NULL";
static const char *const presence_sql_unregister =
    "DELETE FROM notifiers WHERE id = ?";
static const char *const presence_sql_recall =
    "SELECT rooms FROM presence WHERE sid = ? AND user_id = ?";
/* Open sockets of live notifiers, in any room (NULL) or in the one given. */
static const char *const presence_sql_online =
    "SELECT p.user_id, MAX(p.username) FROM presence p"
    " JOIN notifiers n ON n.id = p.notifier_id"
    " WHERE p.left_at IS NULL"
    " AND (? IS NULL OR JSON_CONTAINS(p.rooms, JSON_QUOTE(?)))"
    " AND n.beat_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
    " GROUP BY p.user_id ORDER BY p.user_id";
static const char *const presence_sql_elsewhere =
    "SELECT 1 FROM presence p JOIN notifiers n ON n.id = p.notifier_id"
    " WHERE p.left_at IS NULL AND p.user_id <> ?"
    " AND JSON_CONTAINS(p.rooms, JSON_QUOTE(?))"
    " AND n.beat_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND LIMIT 1";
static const char *const presence_sql_expire_notifiers =
    "DELETE FROM notifiers WHERE beat_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
    " LIMIT ?";
static const char *const presence_sql_expire_closed =
    "DELETE FROM presence WHERE left_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
    " LIMIT ?";

/*
 * Whether to try the database now.  Client-side errors (2000-2999: the
 * connection) start a quiet second; the server's own errors do not.
 */
static int
presence_ready(struct presence *p)
{
	return clock_ms() >= p->retry_at;
}

static int
presence_failed(struct presence *p, const char *what)
{
	if (db_errno() >= 2000 && db_errno() < 3000) {
		if (presence_ready(p))
			log_error("presence: %s: %s", what, db_error());
		p->retry_at = clock_ms() + PRESENCE_RETRY_MS;
	} else
		log_error("presence: %s: %s", what, db_error());
	return -1;
}

/* Our notifiers row, written once and again if it was expired. */
static int
presence_register(struct presence *p)
{
	if (p->registered)
		return 0;
	if (!presence_ready(p))
		return -1;
	if (db_exec(presence_sql_register, "s", p->id) != DB_OK)
		return presence_failed(p, "registering");
	p->registered = 1;
	return 0;
}

struct presence *
presence_new(const struct config *c)
{
	struct presence	*p;

	p = xcalloc(1, sizeof(*p));
	random_hex(p->id, PRESENCE_ID_BYTES);
	p->timeout = c->notifier_presence_timeout;
	p->keep = c->notifier_presence_keep;
	/* A database still starting is not fatal: the next call retries. */
	if (presence_register(p) == 0)
		log_info("presence: this notifier is %s", p->id);
	return p;
}

void
presence_free(struct presence *p)
{
	if (p == NULL)
		return;
	/*
	 * The sockets close with the process; their rows stay closed for
	 * presence_keep seconds so that clients resuming elsewhere find
	 * their rooms.
	 */
	if (p->registered && presence_ready(p)) {
		if (p->keep == 0) {
			if (db_exec(presence_sql_unregister, "s", p->id) !=
			    DB_OK)
				presence_failed(p, "unregistering");
		} else if (db_exec(presence_sql_leave_all, "s", p->id) !=
		    DB_OK)
			presence_failed(p, "closing this notifier's rows");
	}
	free(p);
}

int
presence_add(struct presence *p, const char *sid, int64_t user_id,
    const char *username)
{
	enum db_status	 st;

	if (presence_register(p) == -1)
		return -1;
	st = db_exec(presence_sql_add, "ssis", sid, p->id,
	    (long long)user_id, username);
	if (st == DB_REFUSED) {
		/* Our notifiers row was expired while we were silent. */
		p->registered = 0;
		if (presence_register(p) == -1)
			return -1;
		st = db_exec(presence_sql_add, "ssis", sid, p->id,
		    (long long)user_id, username);
	}
	if (st != DB_OK)
		return presence_failed(p, "adding a socket");
	return 0;
}

int
presence_rooms(struct presence *p, const char *sid, const char *rooms_json)
{
	if (!presence_ready(p))
		return -1;
	if (db_exec(presence_sql_rooms, "sss", rooms_json, sid, p->id) !=
	    DB_OK)
		return presence_failed(p, "saving a socket's rooms");
	return 0;
}

int
presence_remove(struct presence *p, const char *sid)
{
	if (!presence_ready(p))
		return -1;
	if (db_exec(p->keep == 0 ? presence_sql_delete : presence_sql_leave,
	    "ss", sid, p->id) != DB_OK)
		return presence_failed(p, "removing a socket");
	return 0;
}

char *
presence_recall(struct presence *p, const char *sid, int64_t user_id)
{
	struct db_result	*res;
	char			*rooms = NULL;

	if (!presence_ready(p))
		return NULL;
	if (db_query(&res, presence_sql_recall, "si", sid,
	    (long long)user_id) != DB_OK) {
		presence_failed(p, "recalling a socket's rooms");
		return NULL;
	}
	if (db_rows(res) == 1)
		rooms = xstrdup(db_get(res, 0, 0));
	db_result_free(res);
	return rooms;
}

struct json_object *
presence_online(struct presence *p, const char *room)
{
	struct db_result	*res;
	struct json_object	*a, *o;
	const char		*name;
	size_t			 i, n;

	if (!presence_ready(p))
		return NULL;
	if (db_query(&res, presence_sql_online, "ssi", room, room,
	    (long long)p->timeout) != DB_OK) {
		presence_failed(p, "listing online users");
		return NULL;
	}
	n = db_rows(res);
	a = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "id",
		    json_object_new_int64(db_get_int(res, i, 0)));
		name = db_get(res, i, 1);
		json_object_object_add(o, "username", name != NULL ?
		    json_object_new_string(name) : NULL);
		json_object_array_add(a, o);
	}
	db_result_free(res);
	return a;
}

int
presence_elsewhere(struct presence *p, const char *room, int64_t except)
{
	struct db_result	*res;
	int			 found;

	if (!presence_ready(p))
		return -1;
	if (db_query(&res, presence_sql_elsewhere, "isi", (long long)except,
	    room, (long long)p->timeout) != DB_OK)
		return presence_failed(p, "looking for a room's sockets");
	found = db_rows(res) > 0;
	db_result_free(res);
	return found;
}

int
presence_beat(struct presence *p)
{
	int	 lost = 0;

	if (!presence_ready(p))
		return -1;
	if (p->registered) {
		if (db_exec(presence_sql_beat, "s", p->id) != DB_OK)
			return presence_failed(p, "beating");
		if (db_affected() == 0) {
			log_warn("presence: this notifier's rows were expired"
			    " while it was silent");
			p->registered = 0;
			lost = 1;
		}
	}
	if (presence_register(p) == -1)
		return -1;
	/*
	 * Whoever beats also expires: notifiers silent for longer than the
	 * timeout and the keep time (with their rows), and closed sockets
	 * older than the keep time.  A batch each, so a beat stays short.
	 */
	if (db_exec(presence_sql_expire_notifiers, "ii",
	    (long long)(p->timeout + p->keep),
	    (long long)PRESENCE_EXPIRE_BATCH) != DB_OK)
		return presence_failed(p, "expiring notifiers");
	if (db_affected() > 0)
		log_info("presence: removed %llu silent notifier%s",
		    db_affected(), db_affected() == 1 ? "" : "s");
	if (db_exec(presence_sql_expire_closed, "ii", (long long)p->keep,
	    (long long)PRESENCE_EXPIRE_BATCH) != DB_OK)
		return presence_failed(p, "expiring closed sockets");
	return lost;
}
