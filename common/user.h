/*
 * user.h -- reading users and writing them as JSON, for every family.
 *
 * One serializer decides which fields leave the server; the password hash
 * is never among them.
 */
#ifndef FASTBACK_USER_H
#define FASTBACK_USER_H

#include <stddef.h>

#include "db.h"

struct json_object;

struct user {
	long long	 id;
	char		*email;		/* NULL when none */
	char		*username;	/* NULL when none */
	char		*password_hash;
	char		*first_name;
	char		*last_name;
	long long	 age;		/* -1 when unknown */
	char		*phone_number;
	char		*avatar_url;
	char		*created_at;	/* ISO-8601 UTC */
};

/* Fields user_json() writes besides id, username and avatar_url. */
#define USER_JSON_EMAIL		0x01	/* email (not for anonymous callers) */
#define USER_JSON_PROFILE	0x02	/* first/last name, age, phone, profile_image */
#define USER_JSON_CREATED	0x04	/* created_at */

/*
 * Load a user by id, by e-mail (case-insensitive) or by username (exact).
 * Return 1 when found (user_free() releases it), 0 when not, -1 on a
 * database error.
 */
int		 user_find_by_id(long long, struct user *);
int		 user_find_by_email(const char *, struct user *);
int		 user_find_by_username(const char *, struct user *);

void		 user_free(struct user *);

/*
 * The columns of a user, in the order user_read_row() reads them, for
 * lists: "SELECT " USER_COLUMNS " FROM users WHERE ...".
 */
#define USER_COLUMNS \
	"id, email, username, password_hash, first_name, last_name, age, " \
	"phone_number, avatar_url, " SQL_TIME("created_at")

/* Fill u from row of a result selected with USER_COLUMNS (user_free()). */
void		 user_read_row(const struct db_result *, size_t row,
		    struct user *);

/* A new JSON object describing the user (caller owns the reference). */
struct json_object *user_json(const struct user *, unsigned int flags);

/*
 * A name to show: "first last", the first name, the username, or the
 * capitalised local part of the e-mail.  Writes into buf (size n).
 */
const char	*user_display_name(const struct user *, char *buf, size_t n);

/*
 * Delete user id and everything that is only theirs (user_delete.c), inside
 * the caller's transaction; the caller writes the events.  Returns DB_OK or
 * the failure (DB_CONFLICT: retry the transaction).
 */
enum db_status	 user_delete(long long id);

#endif
