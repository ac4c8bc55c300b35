/*
 * reply.c -- building responses, and the one place that shapes error
 * bodies for every dialect.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "reply.h"

int
reply_json(struct reply *rep, int status, struct json_object *body)
{
	if (rep->body != NULL)
		json_object_put(rep->body);
	rep->body = body;
	rep->status = status;
	return status;
}

int
reply_message(struct reply *rep, int status, const char *message)
{
	struct json_object	*o = json_object_new_object();

	if (rep->dialect == DIALECT_003)
		json_object_object_add(o, "status_code",
		    json_object_new_int(status));
	json_object_object_add(o, "message", json_object_new_string(message));
	return reply_json(rep, status, o);
}

int
reply_empty(struct reply *rep)
{
	return reply_json(rep, 204, NULL);
}

/* The error body of a dialect; fields may be NULL (borrowed). */
static struct json_object *
error_body(enum dialect d, int status, const char *code, const char *msg)
{
	struct json_object	*o = json_object_new_object();

	switch (d) {
	case DIALECT_000:
		json_object_object_add(o, "error", json_object_new_string(msg));
		json_object_object_add(o, "message",
		    json_object_new_string(msg));
		break;
	case DIALECT_003:
		json_object_object_add(o, "status_code",
		    json_object_new_int(status));
		json_object_object_add(o, "message",
		    json_object_new_string(msg));
		json_object_object_add(o, "error", json_object_new_string(code));
		break;
	case DIALECT_004:
		json_object_object_add(o, "detail", json_object_new_string(msg));
		json_object_object_add(o, "error", json_object_new_string(msg));
		break;
	case DIALECT_002:
		json_object_object_add(o, "message",
		    json_object_new_string(msg));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		json_object_object_add(o, "error", json_object_new_string(code));
		break;
	case DIALECT_FASTBACK:
	case DIALECT_001:
		json_object_object_add(o, "message",
		    json_object_new_string(msg));
		json_object_object_add(o, "error", json_object_new_string(code));
		break;
	}
	return o;
}

int
reply_error(struct reply *rep, int status, const char *code, const char *fmt,
    ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reply_json(rep, status, error_body(rep->dialect, status, code,
	    msg));
}

int
reply_invalid(struct reply *rep, const char *field, const char *why)
{
	struct json_object	*o, *fields;
	char			 msg[512];

	if (rep->dialect == DIALECT_004) {
		struct json_object *list = json_object_new_array();

		json_object_array_add(list, json_object_new_string(why));
		o = json_object_new_object();
		json_object_object_add(o, field, list);
		return reply_json(rep, 400, o);
	}
	snprintf(msg, sizeof(msg), "%s: %s", field, why);
	o = error_body(rep->dialect, 400, "invalid_field",
	    rep->dialect == DIALECT_003 ? "Invalid request parameters." : msg);
	fields = json_object_new_object();
	json_object_object_add(fields, field, json_object_new_string(why));
	json_object_object_add(o, "fields", fields);
	return reply_json(rep, 400, o);
}

int
reply_db_error(struct reply *rep)
{
	return reply_error(rep, 500, "internal_error",
	    "Internal error; please try again");
}

void
json_add_string(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s == NULL ? NULL :
	    json_object_new_string(s));
}

const char *
json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

void
reply_header(struct reply *rep, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n") != NULL || strpbrk(value, "\r\n") != NULL) {
		log_error("reply: refused a header with a line break");
		return;
	}
	buf_printf(&rep->headers, "%s: %s\r\n", name, value);
}

const char *
reply_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

void
reply_clear(struct reply *rep)
{
	if (rep->body != NULL)
		json_object_put(rep->body);
	rep->body = NULL;
	buf_free(&rep->headers);
	rep->status = 0;
}
