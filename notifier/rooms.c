/*
 * rooms.c -- rooms and their members, and the fan-out of the events the
 * poller reads.
 *
 * A room exists while it has members.  Each membership is one node on two
 * lists, the room's and the client's, so leaving is O(1) and a client's
 * rooms are found without a search of the table.  An event is encoded once
 * per row and the same packet is queued to each Socket.IO socket of the
 * room; 003 sockets get their own frames from seed003.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "client.h"
#include "log.h"
#include "poller.h"
#include "rooms.h"
#include "sio.h"

static struct htable	 table;

struct room *
rooms_get(const char *name)
{
	return (struct room *)htable_find(&table, name);
}

size_t
rooms_size(const char *name)
{
	struct room	*r = rooms_get(name);

	return r != NULL ? r->n : 0;
}

static void
room_free_if_empty(struct room *r)
{
	if (r->n > 0 || r->busy > 0)
		return;
	htable_remove(&table, &r->h);
	free(r);
}

void
rooms_hold(struct room *r)
{
	r->busy++;
}

void
rooms_release(struct room *r)
{
	r->busy--;
	room_free_if_empty(r);
}

struct member *
rooms_member(const struct client *c, const char *name)
{
	struct member	*m;

	LIST_FOREACH(m, &c->rooms, centry)
		if (strcmp(m->room->name, name) == 0)
			return m;
	return NULL;
}

struct member *
rooms_member_tag(const struct client *c, int64_t tag)
{
	struct member	*m;

	LIST_FOREACH(m, &c->rooms, centry)
		if (m->tag == tag && tag != 0)
			return m;
	return NULL;
}

struct member *
rooms_join(struct client *c, const char *name, int64_t tag)
{
	struct member	*m;
	struct room	*r;
	size_t		 len;

	if ((m = rooms_member(c, name)) != NULL) {
		m->tag = tag;
		return m;
	}
	if ((r = rooms_get(name)) == NULL) {
		len = strlen(name);
		r = xcalloc(1, sizeof(*r) + len + 1);
		memcpy(r->name, name, len + 1);
		r->h.key = r->name;
		htable_add(&table, &r->h);
	}
	m = xcalloc(1, sizeof(*m));
	m->room = r;
	m->c = c;
	m->tag = tag;
	LIST_INSERT_HEAD(&r->members, m, rentry);
	r->n++;
	if (c->kind == CLIENT_WS003)
		r->n003++;
	LIST_INSERT_HEAD(&c->rooms, m, centry);
	return m;
}

void
rooms_leave(struct client *c, struct member *m)
{
	struct room	*r = m->room;

	LIST_REMOVE(m, centry);
	LIST_REMOVE(m, rentry);
	r->n--;
	if (c->kind == CLIENT_WS003)
		r->n003--;
	free(m);
	room_free_if_empty(r);
}

void
rooms_leave_all(struct client *c)
{
	while (!LIST_EMPTY(&c->rooms))
		rooms_leave(c, LIST_FIRST(&c->rooms));
}

void
rooms_emit(const char *name, const struct client *except, const char *event,
    const char *json)
{
	struct room	*r;
	struct member	*m, *next;
	char		*p;
	size_t		 len;

	if ((r = rooms_get(name)) == NULL)
		return;
	p = sio_event_packet(event, json, json != NULL ? strlen(json) : 0, 0,
	    &len);
	rooms_hold(r);
	for (m = LIST_FIRST(&r->members); m != NULL; m = next) {
		next = LIST_NEXT(m, rentry);
		if (m->c != except && m->c->kind == CLIENT_SIO &&
		    m->c->state == CLIENT_READY)
			client_send(m->c, p, len);
	}
	rooms_release(r);
	free(p);
}

void
rooms_event(void *arg, const struct event_row *row)
{
	struct json_object	*payload = NULL;
	struct room		*r;
	struct member		*m, *next;
	char			*p = NULL, *bare = NULL;
	size_t			 len = 0, blen = 0;

	if ((r = rooms_get(row->room)) == NULL)
		return;
	rooms_hold(r);
	/* Revocation first: a revoked socket gets nothing more. */
	if (strncmp(row->room, "user:", 5) == 0 &&
	    (strcmp(row->event, "session_revoked") == 0 ||
	    strcmp(row->event, "user_deleted") == 0)) {
		payload = json_tokener_parse(row->payload);
		for (m = LIST_FIRST(&r->members); m != NULL; m = next) {
			next = LIST_NEXT(m, rentry);
			client_revoked(m->c, row->event, payload);
		}
	}
	for (m = LIST_FIRST(&r->members); m != NULL; m = next) {
		next = LIST_NEXT(m, rentry);
		if (m->c->kind != CLIENT_SIO || m->c->state != CLIENT_READY)
			continue;
		/* Rows the poller had not passed on when the client resumed
		 * after a later seq: it has them, or did not want them. */
		if (row->seq <= m->c->resume_after)
			continue;
		if (m->c->no_offsets) {
			if (bare == NULL)
				bare = sio_event_packet(row->event,
				    row->payload, row->payload_len, 0, &blen);
			client_send(m->c, bare, blen);
			continue;
		}
		if (p == NULL)
			p = sio_event_packet(row->event, row->payload,
			    row->payload_len, row->seq, &len);
		client_send(m->c, p, len);
	}
	if (r->n003 > 0) {
		if (payload == NULL)
			payload = json_tokener_parse(row->payload);
		if (payload != NULL)
			seed003_event(r, row, payload);
	}
	rooms_release(r);
	free(p);
	free(bare);
	json_object_put(payload);
}

void
rooms_shutdown(void)
{
	htable_free(&table);
}
