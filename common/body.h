/*
 * body.h -- JSON request bodies: strict parsing and declared fields.
 *
 * A handler declares the fields it reads in a table and gets typed values
 * or a 400 naming the field; it never digs in json_object input itself.
 * Unknown fields are ignored (the seeds' clients send extras).
 *
 * json-c ownership, once: json_object_new_*() and parsing give you one
 * reference, which json_object_put() drops; json_object_object_add() and
 * json_object_array_add() take it over; json_object_object_get_ex()
 * borrows.  Strings from json_object_get_string() die with their object.
 */
#ifndef FASTBACK_BODY_H
#define FASTBACK_BODY_H

#include <stddef.h>

struct json_object;
struct request;
struct reply;

enum field_type {
	FIELD_STRING,		/* a JSON string, valid UTF-8, no NUL */
	FIELD_INT,		/* a JSON integer within [min, max] */
	FIELD_BOOL,		/* true or false */
	FIELD_OBJECT,
	FIELD_ARRAY,
	FIELD_ANY		/* any JSON value but null */
};

#define FIELD_REQUIRED	0x01	/* absent or null is an error */
#define FIELD_TRIM	0x02	/* strip surrounding white space first */
#define FIELD_EMPTY_OK	0x04	/* "" counts as present (else as absent) */

struct field {
	const char	*name;
	enum field_type	 type;
	unsigned int	 flags;
	long long	 min, max;	/* string: characters; int: value */
	/* Extra check of a string; NULL or a reason ("not an e-mail address"). */
	const char	*(*check)(const char *s, size_t len);
};

struct field_value {
	int		 present;	/* sent, not null (and not "" unless EMPTY_OK) */
	const char	*s;		/* FIELD_STRING: borrowed, NUL-terminated */
	size_t		 len;
	long long	 i;		/* FIELD_INT */
	int		 b;		/* FIELD_BOOL */
	struct json_object *o;		/* FIELD_OBJECT/ARRAY/ANY, borrowed */
	char		*trimmed;	/* owned copy when FIELD_TRIM changed it */
};

/*
 * Parse len bytes of JSON strictly (depth-limited, UTF-8 checked, no
 * trailing bytes).  Returns a new reference, or NULL with *why set.
 */
struct json_object *body_parse(const char *buf, size_t len, const char **why);

/*
 * Read the declared fields of the request's body into values (n of each).
 * Returns 0, or the status of the 400 written into the reply.  Release with
 * body_values_free().
 */
int	body_fields(const struct request *, struct reply *,
	    const struct field *, size_t n, struct field_value *values);

void	body_values_free(struct field_value *, size_t n);

/*
 * Seed 003 names the caller in a body field ("email"): identity comes from
 * the token, so the field may only repeat the caller's own address.
 * Returns 0 when the field is absent or names the caller (case-
 * insensitive), else the status of the 403 (or 400) written.
 */
int	body_check_caller_email(const struct request *, struct reply *,
	    const char *field);

/* Number of UTF-8 characters in s (len bytes of valid UTF-8). */
size_t	utf8_length(const char *s, size_t len);

#endif
