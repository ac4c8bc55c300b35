/*
 * rooms.h -- room name -> the sockets in it, on this notifier.  Events from
 * the poller go to every socket of their room; the seeds' local events
 * (user_joined, ...) use the same lists.
 */
#ifndef FASTBACK_NOTIFIER_ROOMS_H
#define FASTBACK_NOTIFIER_ROOMS_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "notifier.h"

struct client;
struct event_row;

struct member {
	struct room	*room;
	struct client	*c;
	LIST_ENTRY(member) rentry;		/* in the room */
	LIST_ENTRY(member) centry;		/* in the client's list */
	int64_t		 tag;	/* 002 private chats: the other user */
};

struct room {
	struct hnode	 h;		/* in the table, by name */
	LIST_HEAD(, member) members;
	size_t		 n;		/* members */
	size_t		 n003;		/* of them 003 WebSockets */
	unsigned	 busy;		/* being walked: do not free */
	char		 name[];
};

/* Join (or find the membership if already in). */
struct member	*rooms_join(struct client *, const char *name, int64_t tag);
void		 rooms_leave(struct client *, struct member *);
void		 rooms_leave_all(struct client *);
/* The client's membership of a room, by name or by 002 tag. */
struct member	*rooms_member(const struct client *, const char *name);
struct member	*rooms_member_tag(const struct client *, int64_t tag);
struct room	*rooms_get(const char *name);
size_t		 rooms_size(const char *name);
/* Hold a room while walking it (members may leave meanwhile). */
void		 rooms_hold(struct room *);
void		 rooms_release(struct room *);
/* Send a Socket.IO event to the room's Socket.IO sockets but one (or
 * NULL); json is the argument's JSON text. */
void		 rooms_emit(const char *room, const struct client *except,
		    const char *event, const char *json);
/* The poller's callback: one row of the events table. */
void		 rooms_event(void *arg, const struct event_row *);
/* At exit, once every client has left. */
void		 rooms_shutdown(void);

#endif /* FASTBACK_NOTIFIER_ROOMS_H */
