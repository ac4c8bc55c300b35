/*
 * list.c -- every user, newest first, a page at a time (DECISIONS #7):
 * 002's GET /api/users/ and 003's get_all_users.
 */
#include <json-c/json.h>

#include "body.h"
#include "db.h"
#include "reply.h"
#include "request.h"
#include "user.h"
#include "users.h"

/* A 003 list item: the original's fields, plus the id and username. */
static struct json_object *
item_003(const struct user *u)
{
	struct json_object	*o = user_json(u, USER_JSON_EMAIL |
				    USER_JSON_CREATED);

	json_object_object_add(o, "uid", json_object_new_int64(u->id));
	json_add_string(o, "first_name", u->first_name);
	json_add_string(o, "last_name", u->last_name);
	json_add_string(o, "profile_image", u->avatar_url);
	return o;
}

/*
 * GET /api/users/ (002; e-mails only for callers with a token) and POST
 * /api/user/get_all_users (003; everyone but the caller, in 003's
 * envelope, whose "message" the original set to the number 200).
 * ?limit= (1-1000, default 100) and ?before=<id> page through.  200; 400
 * bad paging; 401 a token that is not live; 403 (003) another's e-mail.
 */
int
users_list(struct request *req, struct reply *rep)
{
	struct json_object	*o, *list;
	struct db_result	*r;
	struct page		 page;
	struct user		 u;
	size_t			 i;
	int			 is003 = rep->dialect == DIALECT_003, rc;

	if ((is003 && (rc = body_check_caller_email(req, rep, "email"))) ||
	    (rc = request_page(req, rep, USERS_PAGE_DEFAULT, USERS_PAGE_MAX,
	    &page)) != 0)
		return rc;
	if (db_query(&r, "SELECT " USER_COLUMNS " FROM users "
	    "WHERE (? = 0 OR id < ?) AND id <> ? ORDER BY id DESC LIMIT ?",
	    "iiii", page.before, page.before,
	    is003 ? req->auth.user_id : 0LL, page.limit) != DB_OK)
		return reply_db_error(rep);
	list = json_object_new_array_ext((int)db_rows(r));
	for (i = 0; i < db_rows(r); i++) {
		user_read_row(r, i, &u);
		json_object_array_add(list, is003 ? item_003(&u) :
		    user_json(&u, USER_JSON_CREATED |
		    (req->auth.user_id != 0 ? USER_JSON_EMAIL : 0)));
		user_free(&u);
	}
	db_result_free(r);
	o = json_object_new_object();
	if (is003) {
		json_object_object_add(o, "status_code",
		    json_object_new_int(200));
		json_object_object_add(o, "message", json_object_new_int(200));
	}
	json_object_object_add(o, "users", list);
	return reply_json(rep, 200, o);
}
