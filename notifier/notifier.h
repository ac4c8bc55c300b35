/*
 * notifier.h -- what every part of fastback-notifier shares: the loop, the
 * configuration and the three services that talk to the rest of fastback
 * (the HTTP bridge to the API, the events poller, the presence rows).
 *
 * The notifier is one thread on one libevent loop; these live for the whole
 * run and are set up by main.c before the listener accepts anything.
 */
#ifndef FASTBACK_NOTIFIER_H
#define FASTBACK_NOTIFIER_H

#include <stddef.h>

struct bridge;
struct config;
struct event_base;
struct poller;
struct presence;

struct notifier {
	struct event_base	*base;
	const struct config	*cf;
	struct bridge		*bridge;
	struct poller		*poller;
	struct presence		*presence;
	size_t			 nclients;	/* authenticated sockets */
	size_t			 nconns;	/* open TCP connections */
};

extern struct notifier	 notifier;

/*
 * A table of structs keyed by a string they hold: each embeds a struct
 * hnode (first, so that a found node is the struct) whose key points into
 * it.  Sessions by sid (eio.c) and rooms by name (rooms.c).
 */
struct hnode {
	struct hnode	*hnext;
	const char	*key;
};

struct htable {
	struct hnode	**b;
	size_t		  size;		/* buckets, a power of two */
	size_t		  count;
};

struct hnode	*htable_find(const struct htable *, const char *key);
void		 htable_add(struct htable *, struct hnode *);
void		 htable_remove(struct htable *, struct hnode *);
void		 htable_free(struct htable *);

/*
 * Deferred frees: objects closed from inside a callback that still uses
 * them are freed once the loop is back at the top (main.c runs the list).
 */
typedef void	(*reap_fn)(void *);
void		 reap_later(reap_fn, void *);

#endif /* FASTBACK_NOTIFIER_H */
