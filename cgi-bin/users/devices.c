/*
 * devices.c -- 003's push devices: register_device and unregister_device.
 *
 * A device id (a push token) belongs to one user at a time: registering it
 * again moves it to the caller (schema/110_devices.sql).  A user keeps at
 * most USERS_DEVICE_MAX devices; one more drops the one registered least
 * recently, since push tokens change when an app is reinstalled and the
 * stale ones are never unregistered.  Unregistering only ever touches the
 * caller's devices: another user's device id is answered like an unknown
 * one (404), so the answer tells nothing about other accounts.
 */
#include <string.h>

#include "body.h"
#include "db.h"
#include "reply.h"
#include "request.h"
#include "users.h"

/* Printable ASCII without spaces, as push tokens are. */
static const char *
valid_device_id(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return "must be printable ASCII without spaces";
	return NULL;
}

static const struct field device_field = {
	"device_id", FIELD_STRING, FIELD_REQUIRED, 1, 255, valid_device_id
};

struct registration {
	long long	 user_id;
	const char	*device_id;
	int		 existed;	/* already the caller's */
};

/* The transaction of a registration. */
static enum db_status
register_tx(void *arg)
{
	struct registration	*g = arg;
	struct db_result	*r;
	enum db_status		 st;
	long long		 n;

	if ((st = db_query(&r, "SELECT user_id FROM devices "
	    "WHERE device_id = ? FOR UPDATE", "s", g->device_id)) != DB_OK)
		return st;
	g->existed = db_rows(r) > 0 && db_get_int(r, 0, 0) == g->user_id;
	n = (long long)db_rows(r);
	db_result_free(r);
	if (n > 0)
		st = db_exec("UPDATE devices SET user_id = ?, updated_at = "
		    "UTC_TIMESTAMP(6) WHERE device_id = ?", "is", g->user_id,
		    g->device_id);
	else
		st = db_exec("INSERT INTO devices (user_id, device_id) "
		    "VALUES (?, ?)", "is", g->user_id, g->device_id);
	if (st != DB_OK || g->existed)
		return st;
	if ((st = db_query(&r, "SELECT COUNT(*) FROM devices WHERE user_id = ?",
	    "i", g->user_id)) != DB_OK)
		return st;
	n = db_get_int(r, 0, 0);
	db_result_free(r);
	if (n <= USERS_DEVICE_MAX)
		return DB_OK;
	return db_exec("DELETE FROM devices WHERE user_id = ? "
	    "ORDER BY updated_at, id LIMIT 1", "i", g->user_id);
}

/*
 * POST /api/user/register_device (003): device_id for the caller.  200
 * "Device added successfully." or "Device already exists."; 400; 401;
 * 403 another's e-mail.
 */
int
users_register_device(struct request *req, struct reply *rep)
{
	struct registration	 g = { req->auth.user_id, NULL, 0 };
	struct field_value	 v;
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "email")) != 0 ||
	    (rc = body_fields(req, rep, &device_field, 1, &v)) != 0)
		return rc;
	g.device_id = v.s;
	if (db_transaction(register_tx, &g) != DB_OK)
		rc = reply_db_error(rep);
	else
		rc = reply_message(rep, 200, g.existed ?
		    "Device already exists." : "Device added successfully.");
	body_values_free(&v, 1);
	return rc;
}

/*
 * POST /api/user/unregister_device (003): remove one of the caller's
 * devices.  200; 400; 401; 403 another's e-mail; 404 not the caller's.
 */
int
users_unregister_device(struct request *req, struct reply *rep)
{
	struct field_value	 v;
	int			 rc;

	if ((rc = body_check_caller_email(req, rep, "email")) != 0 ||
	    (rc = body_fields(req, rep, &device_field, 1, &v)) != 0)
		return rc;
	if (db_exec("DELETE FROM devices WHERE device_id = ? AND user_id = ?",
	    "si", v.s, req->auth.user_id) != DB_OK)
		rc = reply_db_error(rep);
	else if (db_affected() == 0)
		rc = reply_error(rep, 404, "not_found", "Device not found");
	else
		rc = reply_message(rep, 200,
		    "Device unregistered successfully");
	body_values_free(&v, 1);
	return rc;
}
