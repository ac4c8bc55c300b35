/*
 * reply.h -- the response a handler builds: a status, a JSON body and a
 * few headers, rendered in the error envelope of the route's seed.
 *
 * Each seed API has its own way of writing errors, and its clients read
 * that shape, so every route names a dialect and one function,
 * reply_error(), writes every error body in it:
 *
 *   DIALECT_FASTBACK  {"message": m, "error": code}         (fastback's own)
 *   DIALECT_000       {"error": m, "message": m}            (WalletWize)
 *   DIALECT_001       {"message": m, "error": code}         (user/wallet API)
 *   DIALECT_002       {"message": m, "msg": m, "error": code} (chat API)
 *   DIALECT_003       {"status_code": s, "message": m, "error": code}
 *   DIALECT_004       {"detail": m, "error": m}             (Datasync, DRF)
 */
#ifndef FASTBACK_REPLY_H
#define FASTBACK_REPLY_H

#include <stddef.h>

#include "alloc.h"

struct json_object;

enum dialect {
	DIALECT_FASTBACK,
	DIALECT_000,
	DIALECT_001,
	DIALECT_002,
	DIALECT_003,
	DIALECT_004
};

struct reply {
	int		 status;	/* 0 until set */
	enum dialect	 dialect;
	struct json_object *body;	/* owned; NULL: no body (204) */
	struct buf	 headers;	/* extra "Name: value\r\n" lines */
};

/* Set status and body; takes the reference to body.  Returns status. */
int	reply_json(struct reply *, int status, struct json_object *body);

/* A body {"message": message} (003 adds status_code).  Returns status. */
int	reply_message(struct reply *, int status, const char *message);

/* 204 No Content.  Returns 204. */
int	reply_empty(struct reply *);

/*
 * An error in the reply's dialect.  code is a stable snake_case name
 * ("invalid_credentials"), the message is for people.  Replaces any body
 * set before.  Returns status.
 */
int	reply_error(struct reply *, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A 400 about one field of the body: {"message", "error":
 * "invalid_field", "fields": {field: why}}, or DRF's {field: [why]} in
 * DIALECT_004.  Returns 400.
 */
int	reply_invalid(struct reply *, const char *field, const char *why);

/* 500 after a database failure; the detail is already logged.  Returns 500. */
int	reply_db_error(struct reply *);

/*
 * Add key: s to a JSON object being built, or key: null when s is NULL
 * (a SQL NULL read with db_get()).
 */
void	json_add_string(struct json_object *, const char *key, const char *s);

/*
 * o as compact JSON text, slashes unescaped: what every body, event and
 * frame fastback writes looks like.  The text lives as long as o does.
 */
const char *json_text(struct json_object *o);

/* Add a response header; name and value must not contain CR or LF. */
void	reply_header(struct reply *, const char *name, const char *value);

/* The status line text for a code ("Not Found"). */
const char *reply_reason(int status);

/* Release the body and headers. */
void	reply_clear(struct reply *);

#endif
