/*
 * users.h -- the users family's handlers and what its files share.
 *
 * One operation, one handler: an account edit from 001, 002, 003 or
 * fastback's own route goes through users_change() (profile.c), a deletion
 * through users_delete_account() (delete.c); the handlers only read their
 * seed's field names and answer in their seed's shape.
 */
#ifndef FASTBACK_USERS_H
#define FASTBACK_USERS_H

#include <stddef.h>

struct request;
struct reply;
struct user;

/* Devices a user may have; registering one more drops the stalest. */
#define USERS_DEVICE_MAX	20

/* Lists: DECISIONS #7. */
#define USERS_PAGE_DEFAULT	100
#define USERS_PAGE_MAX		1000

/*
 * A change of the caller's own account.  NULL (age: -1) keeps a field as
 * it is; nothing here can clear a field.
 */
struct change {
	const char	*username;
	const char	*email;
	const char	*first_name;
	const char	*last_name;
	long long	 age;
	const char	*phone_number;
	const char	*avatar_url;
	const char	*password;	/* the new one, already checked */
	size_t		 password_len;
	const char	*current;	/* current_password as sent */
	size_t		 current_len;
	/* Ask for current_password always, or when the e-mail changes. */
	int		 need_current;
	int		 current_for_email;
};

/*
 * Apply c to the caller's account in one transaction, with its
 * user_updated event; a new password revokes every other session of the
 * caller.  On success fills u (user_free()) and returns 0; otherwise
 * returns the status of the error written in the route's dialect.
 */
int	users_change(struct request *, struct reply *,
	    const struct change *c, struct user *u);

/*
 * Load the user named by the path's {id} for a route that acts on the
 * caller only: 0 with u filled when it is the caller, else the status of
 * the 404 (no such user) or 403 (someone else) written.
 */
int	users_path_self(struct request *, struct reply *, const char *verb,
	    struct user *u);

/* profile.c: reading and editing one's account. */
int	users_edit_user(struct request *, struct reply *);
int	users_edit_user_info(struct request *, struct reply *);
int	users_get(struct request *, struct reply *);
int	users_put(struct request *, struct reply *);
int	users_profile(struct request *, struct reply *);
int	users_fetch_profile(struct request *, struct reply *);
int	users_me(struct request *, struct reply *);
int	users_me_patch(struct request *, struct reply *);

/* list.c: everybody, a page at a time. */
int	users_list(struct request *, struct reply *);

/* delete.c: account deletion. */
int	users_delete_account(struct request *, struct reply *);
int	users_delete(struct request *, struct reply *);

/* sessions.c: the caller's sessions. */
int	users_sessions(struct request *, struct reply *);
int	users_session_revoke(struct request *, struct reply *);
int	users_sessions_revoke(struct request *, struct reply *);

/* devices.c: push devices (003). */
int	users_register_device(struct request *, struct reply *);
int	users_unregister_device(struct request *, struct reply *);

#endif
