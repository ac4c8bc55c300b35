/*
 * user.c -- loading users and the one place that serialises them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "db.h"
#include "reply.h"
#include "user.h"

#define USER_SELECT	"SELECT " USER_COLUMNS " FROM users "

static char *
dup_or_null(const struct db_result *r, size_t row, size_t col)
{
	const char	*s = db_get(r, row, col);

	return s == NULL ? NULL : xstrdup(s);
}

void
user_read_row(const struct db_result *r, size_t row, struct user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = db_get_int(r, row, 0);
	u->email = dup_or_null(r, row, 1);
	u->username = dup_or_null(r, row, 2);
	u->password_hash = dup_or_null(r, row, 3);
	u->first_name = dup_or_null(r, row, 4);
	u->last_name = dup_or_null(r, row, 5);
	u->age = db_is_null(r, row, 6) ? -1 : db_get_int(r, row, 6);
	u->phone_number = dup_or_null(r, row, 7);
	u->avatar_url = dup_or_null(r, row, 8);
	u->created_at = dup_or_null(r, row, 9);
}

/* Fill u from the first row of r.  Returns 1, 0 (no row) or -1. */
static int
user_from_result(enum db_status st, struct db_result *r, struct user *u)
{
	int	 found = 0;

	memset(u, 0, sizeof(*u));
	u->age = -1;
	if (st != DB_OK) {
		db_result_free(r);
		return -1;
	}
	if (db_rows(r) > 0) {
		user_read_row(r, 0, u);
		found = 1;
	}
	db_result_free(r);
	return found;
}

int
user_find_by_id(long long id, struct user *u)
{
	struct db_result	*r;
	enum db_status		 st;

	st = db_query(&r, USER_SELECT "WHERE id = ?", "i", id);
	return user_from_result(st, r, u);
}

int
user_find_by_email(const char *email, struct user *u)
{
	struct db_result	*r;
	enum db_status		 st;

	st = db_query(&r, USER_SELECT "WHERE email_key = LOWER(?)", "s", email);
	return user_from_result(st, r, u);
}

int
user_find_by_username(const char *username, struct user *u)
{
	struct db_result	*r;
	enum db_status		 st;

	st = db_query(&r, USER_SELECT "WHERE username = ?", "s", username);
	return user_from_result(st, r, u);
}

void
user_free(struct user *u)
{
	free(u->email);
	free(u->username);
	free(u->password_hash);
	free(u->first_name);
	free(u->last_name);
	free(u->phone_number);
	free(u->avatar_url);
	free(u->created_at);
	memset(u, 0, sizeof(*u));
}

struct json_object *
user_json(const struct user *u, unsigned int flags)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(u->id));
	json_add_string(o, "username", u->username);
	if (flags & USER_JSON_EMAIL)
		json_add_string(o, "email", u->email);
	json_add_string(o, "avatar_url", u->avatar_url);
	if (flags & USER_JSON_PROFILE) {
		json_add_string(o, "first_name", u->first_name);
		json_add_string(o, "last_name", u->last_name);
		json_object_object_add(o, "age", u->age < 0 ? NULL :
		    json_object_new_int64(u->age));
		json_add_string(o, "phone_number", u->phone_number);
		json_add_string(o, "profile_image", u->avatar_url);
	}
	if (flags & USER_JSON_CREATED)
		json_add_string(o, "created_at", u->created_at);
	return o;
}

const char *
user_display_name(const struct user *u, char *buf, size_t n)
{
	const char	*at;

	if (u->first_name != NULL && u->last_name != NULL)
		snprintf(buf, n, "%s %s", u->first_name, u->last_name);
	else if (u->first_name != NULL)
		snprintf(buf, n, "%s", u->first_name);
	else if (u->username != NULL)
		snprintf(buf, n, "%s", u->username);
	else if (u->email != NULL) {
		at = strchr(u->email, '@');
		snprintf(buf, n, "%.*s", at == NULL ? (int)strlen(u->email) :
		    (int)(at - u->email), u->email);
		buf[0] = (char)toupper((unsigned char)buf[0]);
	} else
		snprintf(buf, n, "user %lld", u->id);
	return buf;
}
