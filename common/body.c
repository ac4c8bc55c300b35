/*
 * body.c -- strict JSON parsing and declared-field reading of bodies.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc.h"
#include "body.h"
#include "reply.h"
#include "request.h"

#define BODY_MAX_DEPTH	32

/*
 * json-c 0.16 accepts single-quoted object keys even in strict mode; JSON
 * has none.  Returns 1 when a quote character appears outside a string.
 */
static int
has_single_quote(const char *buf, size_t len)
{
	size_t	 i;
	int	 in_string = 0;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (buf[i] == '\\')
				i++;
			else if (buf[i] == '"')
				in_string = 0;
		} else if (buf[i] == '"')
			in_string = 1;
		else if (buf[i] == '\'')
			return 1;
	}
	return 0;
}

struct json_object *
body_parse(const char *buf, size_t len, const char **why)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 err;
	size_t			 end;

	if (len == 0) {
		*why = "the body is empty";
		return NULL;
	}
	if (len > 0x7fffffff) {
		*why = "the body is too large";
		return NULL;
	}
	if (has_single_quote(buf, len)) {
		*why = "the body is not valid JSON";
		return NULL;
	}
	if ((tok = json_tokener_new_ex(BODY_MAX_DEPTH)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/* Only white space may follow the value. */
	while (err == json_tokener_success && end < len &&
	    isspace((unsigned char)buf[end]))
		end++;
	if (err != json_tokener_success || end != len) {
		if (o != NULL)
			json_object_put(o);
		o = NULL;
		*why = err == json_tokener_continue ?
		    "the JSON body ends too early" :
		    err == json_tokener_error_depth ?
		    "the JSON body is nested too deeply" :
		    "the body is not valid JSON";
	}
	json_tokener_free(tok);
	return o;
}

size_t
utf8_length(const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static const char *
type_name(enum field_type t)
{
	switch (t) {
	case FIELD_STRING:
		return "a string";
	case FIELD_INT:
		return "an integer";
	case FIELD_BOOL:
		return "true or false";
	case FIELD_OBJECT:
		return "an object";
	case FIELD_ARRAY:
		return "an array";
	case FIELD_ANY:
		break;
	}
	return "a value";
}

/*
 * Read one string field into v.  Returns NULL or why it is refused (into
 * msg when the reason has numbers in it).
 */
static const char *
read_string(const struct field *f, struct json_object *o,
    struct field_value *v, char *msg, size_t msglen)
{
	const char	*s = json_object_get_string(o);
	size_t		 len = (size_t)json_object_get_string_len(o), chars;

	if (strlen(s) != len)
		return "must not contain NUL characters";
	if (f->flags & FIELD_TRIM) {
		size_t	 a = 0, b = len;

		while (a < b && isspace((unsigned char)s[a]))
			a++;
		while (b > a && isspace((unsigned char)s[b - 1]))
			b--;
		if (a != 0 || b != len) {
			v->trimmed = xstrndup(s + a, b - a);
			s = v->trimmed;
			len = b - a;
		}
	}
	v->s = s;
	v->len = len;
	if (len == 0 && !(f->flags & FIELD_EMPTY_OK))
		return NULL;	/* counts as absent */
	v->present = 1;
	chars = utf8_length(s, len);
	if (f->min > 0 && chars < (size_t)f->min) {
		snprintf(msg, msglen, "must be at least %lld characters",
		    f->min);
		return msg;
	}
	if (f->max > 0 && chars > (size_t)f->max) {
		snprintf(msg, msglen, "must be at most %lld characters",
		    f->max);
		return msg;
	}
	return f->check != NULL ? f->check(s, len) : NULL;
}

/* Read field f of obj into v.  Returns NULL or why it is refused. */
static const char *
read_field(const struct field *f, struct json_object *obj,
    struct field_value *v, char *msg, size_t msglen)
{
	struct json_object	*o;
	enum json_type		 t;

	memset(v, 0, sizeof(*v));
	if (!json_object_object_get_ex(obj, f->name, &o) || o == NULL)
		return NULL;
	t = json_object_get_type(o);
	switch (f->type) {
	case FIELD_STRING:
		if (t != json_type_string)
			break;
		return read_string(f, o, v, msg, msglen);
	case FIELD_INT:
		if (t != json_type_int)
			break;
		v->i = json_object_get_int64(o);
		/* Beyond int64, json-c saturates: refuse rather than clip. */
		if (json_object_get_uint64(o) > (uint64_t)INT64_MAX &&
		    v->i == INT64_MAX)
			return "is out of range";
		if ((f->min != 0 || f->max != 0) &&
		    (v->i < f->min || v->i > f->max)) {
			snprintf(msg, msglen, "must be between %lld and %lld",
			    f->min, f->max);
			return msg;
		}
		v->present = 1;
		return NULL;
	case FIELD_BOOL:
		if (t != json_type_boolean)
			break;
		v->b = json_object_get_boolean(o);
		v->present = 1;
		return NULL;
	case FIELD_OBJECT:
		if (t != json_type_object)
			break;
		v->o = o;
		v->present = 1;
		return NULL;
	case FIELD_ARRAY:
		if (t != json_type_array)
			break;
		v->o = o;
		v->present = 1;
		return NULL;
	case FIELD_ANY:
		v->o = o;
		v->present = 1;
		return NULL;
	}
	snprintf(msg, msglen, "must be %s", type_name(f->type));
	return msg;
}

int
body_fields(const struct request *req, struct reply *rep,
    const struct field *fields, size_t n, struct field_value *values)
{
	char		 msg[128];
	const char	*why;
	size_t		 i;

	memset(values, 0, n * sizeof(*values));
	for (i = 0; i < n; i++) {
		if (req->json == NULL)
			why = NULL;
		else
			why = read_field(&fields[i], req->json, &values[i],
			    msg, sizeof(msg));
		if (why == NULL && !values[i].present &&
		    (fields[i].flags & FIELD_REQUIRED))
			why = "is required";
		if (why != NULL) {
			body_values_free(values, n);
			return reply_invalid(rep, fields[i].name, why);
		}
	}
	return 0;
}

void
body_values_free(struct field_value *values, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(values[i].trimmed);
		values[i].trimmed = NULL;
	}
}

int
body_check_caller_email(const struct request *req, struct reply *rep,
    const char *field)
{
	struct json_object	*o;
	const char		*s;

	if (req->json == NULL ||
	    !json_object_object_get_ex(req->json, field, &o) || o == NULL)
		return 0;
	if (!json_object_is_type(o, json_type_string))
		return reply_invalid(rep, field, "must be a string");
	s = json_object_get_string(o);
	if (*s == '\0')
		return 0;
	if (req->auth.email != NULL && strcasecmp(s, req->auth.email) == 0)
		return 0;
	return reply_error(rep, 403, "forbidden",
	    "The %s in the body does not match the token's user", field);
}
