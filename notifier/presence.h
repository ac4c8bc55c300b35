/*
 * presence.h -- who is connected, across every notifier.
 *
 * Several notifiers may serve the same site; each keeps one row per socket
 * in the database (its own id, the user, the rooms joined) so that any of
 * them can list the online users and recall a previous socket's rooms after
 * a reconnect.  A notifier that stops beating has its rows removed by the
 * others.
 *
 * Functions returning int give 0 on success and -1 on a database error
 * (logged); while the server is unreachable they fail at once for a
 * second.  presence_rooms() wants a JSON array of room names.
 * presence_remove() marks the row closed: its rooms stay recallable for
 * [notifier] presence_keep seconds.  presence_beat() returns 1 when this
 * notifier had been silent so long that its rows were deleted: presence_add()
 * (and presence_rooms()) its open sockets again.  Uses db.c's connection,
 * like the poller.
 */
#ifndef FASTBACK_NOTIFIER_PRESENCE_H
#define FASTBACK_NOTIFIER_PRESENCE_H

#include <stdint.h>

struct config;
struct presence;

struct presence	*presence_new(const struct config *);	/* own connection */
void		 presence_free(struct presence *);
/* A socket came or went (one row per socket; the notifier's id, user id,
 * username, and the rooms it joined, for resume after a reconnect). */
int		 presence_add(struct presence *, const char *sid,
		    int64_t user_id, const char *username);
int		 presence_rooms(struct presence *, const char *sid,
		    const char *rooms_json);
int		 presence_remove(struct presence *, const char *sid);
/* Rooms a previous socket (same user) had joined: for Socket.IO's
 * connection-state recovery (pid) across notifier restarts.  Caller frees. */
char		*presence_recall(struct presence *, const char *sid,
		    int64_t user_id);
/* Users with an open socket on a live notifier, in room (or in any room
 * when NULL): a JSON array of {"id","username"}, one per user, which the
 * caller puts; NULL on error. */
struct json_object *presence_online(struct presence *, const char *room);
/* Whether a user other than except has an open socket in room on a live
 * notifier: 1 or 0, -1 on error. */
int		 presence_elsewhere(struct presence *, const char *room,
		    int64_t except);
/* Heartbeat: this notifier is alive (called every few seconds); rows of
 * notifiers silent for longer than a timeout are removed by whoever sees
 * them. */
int		 presence_beat(struct presence *);

#endif /* FASTBACK_NOTIFIER_PRESENCE_H */
