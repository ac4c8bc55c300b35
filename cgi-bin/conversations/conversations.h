/*
 * conversations.h -- the conversations family: one model of chats served
 * to seed 002 (public room, private chats, files), seed 003 (conversations,
 * receipts, favourites, pinned) and fastback's own REST routes.
 *
 * model.c owns the rules every dialect shares (who may read a
 * conversation, how a private chat is found or made, what posting and
 * deleting a message writes); the other files adapt requests and answers.
 */
#ifndef FASTBACK_CONVERSATIONS_H
#define FASTBACK_CONVERSATIONS_H

#include "db.h"

struct json_object;
struct request;
struct reply;

/* The public room's fixed id (schema/300_conversations.sql). */
#define CONV_PUBLIC_ID	1

enum conv_kind {
	CONV_NONE,		/* no such conversation */
	CONV_PUBLIC,
	CONV_PRIVATE,
	CONV_GROUP
};

/* How a message is written out. */
enum msg_shape {
	MSG_002_PUBLIC,		/* 002 public: flat + nested user */
	MSG_002_PRIVATE,	/* 002 private message: flat + nested sender */
	MSG_003,		/* 003 get_messages item */
	MSG_REST		/* fastback's own */
};

/* A caller's standing in a conversation. */
struct conv_access {
	enum conv_kind	 kind;
	int		 member;	/* a member row exists */
	int		 admin;		/* role admin */
	long long	 cleared_before;/* hidden message ids (<=) */
};

/*
 * What the caller may do in conversation id.  Returns 0 and fills *a
 * (kind CONV_NONE when it does not exist), or -1 on a database error.
 * Everyone may read and write the public room.
 */
int	conv_access(long long id, long long user_id, struct conv_access *a);

/* Non-zero when a may read and post: the public room or a member. */
int	conv_can_use(const struct conv_access *a);

/*
 * The private chat of users a and b, created with both as members when
 * none exists (inside the caller's transaction).  Sets *id and *created.
 * Returns DB_OK or the failure.
 */
enum db_status conv_private_get(long long a, long long b, long long *id,
	    int *created);

/* Look up the private chat of a and b without creating it: 1, 0, -1. */
int	conv_private_find(long long a, long long b, long long *id);

/*
 * Post body to conversation conv as sender (access already checked):
 * the message, receipts for the other members, their push notifications
 * and the events, in one transaction.  On success *row is the new message
 * read back with the MSG_COLS columns (caller frees).  Returns DB_OK or
 * the failure.
 */
enum db_status msg_post(long long conv, enum conv_kind kind,
	    long long sender, const char *body, struct db_result **row);

/*
 * Soft-delete message id of conversation conv (sender already checked),
 * with its event.  Returns DB_OK or the failure.
 */
enum db_status msg_delete(long long conv, enum conv_kind kind,
	    long long id);

/*
 * The page of messages of conv visible to viewer (newest limit with id
 * below before, after the viewer's cleared marker), newest first, with
 * the MSG_COLS columns and a status column.  NULL on a database error.
 */
struct db_result *msg_page(long long conv, long long viewer,
	    long long cleared_before, long long limit, long long before);

/*
 * Read the message id with MSG_COLS, and its status as seen by viewer
 * unless viewer is 0: 1 found (*row set, caller frees), 0 not found or
 * deleted, -1 error.
 */
int	msg_find(long long id, long long viewer, struct db_result **row);

/* Columns of a message row (MSG_COLS) and of msg_page()'s status. */
enum {
	MC_ID, MC_CONV, MC_SENDER, MC_BODY, MC_TIME, MC_USERNAME, MC_AVATAR,
	MC_EMAIL, MC_FIRST, MC_LAST, MC_STATUS
};

/* Row i of a message result as a new JSON object in shape. */
struct json_object *msg_json(const struct db_result *, size_t i,
	    enum msg_shape, long long viewer);

/*
 * 003's frame of the message in row 0: {message_id, conversation_id, text,
 * sender, sender_id, status, sent_at} (new object).
 */
struct json_object *msg_frame(const struct db_result *, const char *status);

/*
 * Read the message content from the request body (field "content", or
 * "body" for 003 and REST clients): a string of 1 .. [chat]
 * max_message_length characters that is not only white space.  Returns 0
 * and sets *out (borrowed from the body), or the status of the 400.
 */
int	msg_content(struct request *, struct reply *, const char **out);

/* [chat] page size and maximum, for request_page(). */
long long conv_page_size(void);
long long conv_page_max(void);

/* "conversation:<id>" into buf (size >= 32). */
const char *conv_room(char *buf, size_t n, long long id);

/* The display name of a user row's username/email/first/last columns. */
const char *conv_name_of(const char *username, const char *email,
	    const char *first, const char *last, char *buf, size_t n);

/*
 * The caller's conversations, one page, as JSON objects carrying both the
 * 003 and the REST fields (participants, last_message, unread_count,
 * favorite and pinned flags).  only: 0, 'f' favourites, 'p' pinned.
 * Returns a new array, or NULL on a database error; *next is the cursor
 * for the next page (0: none).
 */
struct json_object *conv_list(long long user_id, long long limit,
	    long long before, int only, long long *next);

/* One conversation of the caller as conv_list() writes it, or NULL. */
struct json_object *conv_one(long long user_id, long long conv);

/*
 * Members of conv as [{id, uid, username, email, first_name, last_name,
 * name, avatar_url, role}] (new array), or NULL on a database error.
 */
struct json_object *conv_members_json(long long conv);

/*
 * Set a member's favourite ('f') or pinned ('p') flag, with its event to
 * the member's room.  Returns DB_OK or the failure.
 */
enum db_status conv_set_flag(long long conv, long long user_id, int which,
	    int on);

/* Hide every message so far from user_id (clear chat), with its event. */
enum db_status conv_clear(long long conv, long long user_id);

/*
 * Mark user_id's unread messages of conv read, with one event naming them
 * to the conversation's room.  Sets *n to how many.  DB_OK or the failure.
 */
enum db_status conv_mark_read(long long conv, long long user_id,
	    long long *n);

/*
 * Create a group named name with creator as admin and the n members
 * (users that exist; duplicates and the creator skipped) as members,
 * with events.  Sets *id.  DB_OK or the failure.
 */
enum db_status conv_group_create(long long creator, const char *name,
	    const long long *members, size_t n, long long *id);

/* Add user to group conv (by admin), with events.  DB_DUPLICATE: already in. */
enum db_status conv_member_add(long long conv, long long user,
	    long long by);

/*
 * Remove user from group conv, promote the longest-standing member when
 * the last admin goes, delete the group when nobody is left; events.
 */
enum db_status conv_member_remove(long long conv, long long user,
	    long long by);

/* 1 when user id exists, 0 when not, -1 on error. */
int	conv_user_exists(long long id);

/* Route handlers: messages002.c */
int	chat_public_list(struct request *, struct reply *);
int	chat_public_post(struct request *, struct reply *);
int	chat_public_delete(struct request *, struct reply *);
int	chat_private_list(struct request *, struct reply *);
int	chat_private_post(struct request *, struct reply *);
int	chat_private_delete(struct request *, struct reply *);

/* files.c */
int	file_create(struct request *, struct reply *);
int	file_list_mine(struct request *, struct reply *);
int	file_get(struct request *, struct reply *);
int	file_delete(struct request *, struct reply *);
int	file_list_public(struct request *, struct reply *);
int	file_list_chat(struct request *, struct reply *);

/* chat003.c */
int	tb_conversation_start(struct request *, struct reply *);
int	tb_conversations(struct request *, struct reply *);
int	tb_get_messages(struct request *, struct reply *);
int	tb_message_read(struct request *, struct reply *);
int	tb_clear_chat(struct request *, struct reply *);
int	tb_add_favorite(struct request *, struct reply *);
int	tb_remove_favorite(struct request *, struct reply *);
int	tb_list_favorites(struct request *, struct reply *);
int	tb_add_pinned(struct request *, struct reply *);
int	tb_remove_pinned(struct request *, struct reply *);
int	tb_list_pinned(struct request *, struct reply *);
int	tb_is_favorite(struct request *, struct reply *);
int	tb_group_participants(struct request *, struct reply *);
int	tb_direct_users(struct request *, struct reply *);

/* rest.c */
int	rest_conv_list(struct request *, struct reply *);
int	rest_conv_create(struct request *, struct reply *);
int	rest_conv_get(struct request *, struct reply *);
int	rest_private(struct request *, struct reply *);
int	rest_msg_list(struct request *, struct reply *);
int	rest_msg_post(struct request *, struct reply *);
int	rest_msg_delete(struct request *, struct reply *);
int	rest_read(struct request *, struct reply *);
int	rest_clear(struct request *, struct reply *);
int	rest_members(struct request *, struct reply *);
int	rest_member_add(struct request *, struct reply *);
int	rest_member_remove(struct request *, struct reply *);
int	rest_favorite_on(struct request *, struct reply *);
int	rest_favorite_off(struct request *, struct reply *);
int	rest_pin_on(struct request *, struct reply *);
int	rest_pin_off(struct request *, struct reply *);

#endif
