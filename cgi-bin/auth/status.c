/*
 * status.c -- the index route of 000, liveness and health probes.
 */
#include <json-c/json.h>

#include "auth.h"
#include "db.h"
#include "reply.h"
#include "request.h"

/* GET /: 000's greeting.  200. */
int
auth_root(struct request *req, struct reply *rep)
{
	return reply_message(rep, 200, "API is up and running!");
}

/* GET /api/ping: the process answers; no database work.  200. */
int
auth_ping(struct request *req, struct reply *rep)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("ok"));
	return reply_json(rep, 200, o);
}

/*
 * GET /api/health: the database answers and the schema is migrated.
 * 200, or 503 when the database is not reachable.
 */
int
auth_health(struct request *req, struct reply *rep)
{
	struct json_object	*o = json_object_new_object();
	struct db_result	*r = NULL;
	int			 up;

	up = db_ping() == 0 && db_query(&r, "SELECT MAX(version), COUNT(*) "
	    "FROM schema_migrations", "") == DB_OK;
	json_object_object_add(o, "status",
	    json_object_new_string(up ? "ok" : "unavailable"));
	json_object_object_add(o, "database",
	    json_object_new_string(up ? "up" : "down"));
	if (up) {
		json_add_string(o, "schema_version", db_get(r, 0, 0));
		json_object_object_add(o, "migrations",
		    json_object_new_int64(db_get_int(r, 0, 1)));
	}
	db_result_free(r);
	return reply_json(rep, up ? 200 : 503, o);
}
