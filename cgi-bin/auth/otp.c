/*
 * otp.c -- password reset by a one-time code sent by e-mail (seed 003).
 *
 * forgot-password mails a random 6-digit code and stores only its keyed
 * hash; otp_validate checks it (the code dies after [otp] max_attempts
 * wrong tries or [otp] ttl seconds); reset-password sets the new password
 * only after a validated code, uses the code up and revokes every session
 * of the user.  Unknown addresses get the same answers as known ones, so
 * these routes do not tell who has an account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "alloc.h"
#include "auth.h"
#include "body.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "password.h"
#include "reply.h"
#include "request.h"
#include "token.h"
#include "user.h"
#include "valid.h"

#define OTP_DIGITS	6
#define OTP_HASH_BYTES	32

enum {
	O_EMAIL,
	O_OTP,
	O_PASSWORD,
	O__MAX
};

static const struct field otp_fields[O__MAX] = {
	[O_EMAIL] = { "email", FIELD_STRING, FIELD_TRIM | FIELD_REQUIRED, 0,
	    254, valid_email },
	[O_OTP] = { "otp", FIELD_ANY, 0, 0, 0, NULL },
	[O_PASSWORD] = { "password", FIELD_STRING, 0, 0, 0, NULL },
};

/*
 * The keyed hash of a code, bound to its user so a code is worth nothing
 * for another account.  The key is derived from the JWT secret.
 */
static void
otp_hash(long long user_id, const char *code, unsigned char *out)
{
	unsigned char	 key[crypto_generichash_KEYBYTES];
	char		 msg[64];
	const char	*secret = config()->jwt_secret;
	int		 n;

	crypto_generichash(key, sizeof(key), (const unsigned char *)secret,
	    strlen(secret), (const unsigned char *)"fastback otp key", 16);
	n = snprintf(msg, sizeof(msg), "%lld:%s", user_id, code);
	crypto_generichash(out, OTP_HASH_BYTES, (const unsigned char *)msg,
	    (size_t)n, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
}

/*
 * Read the "otp" field: a string of digits or a number.  Writes the code
 * as text into code (OTP_DIGITS + 1 bytes; anything not six digits stays
 * a wrong code).  Returns 0, or the status of the 400 written.
 */
static int
otp_read(struct reply *rep, const struct field_value *v, char *code)
{
	const char	*s;
	size_t		 i;

	code[0] = '\0';
	if (json_object_is_type(v->o, json_type_int)) {
		long long	 n = json_object_get_int64(v->o);

		if (n >= 0 && n < 1000000)
			snprintf(code, OTP_DIGITS + 1, "%06lld", n);
		return 0;
	}
	if (!json_object_is_type(v->o, json_type_string))
		return reply_invalid(rep, "otp", "must be a string of digits");
	s = json_object_get_string(v->o);
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9' || i >= 16)
			return reply_invalid(rep, "otp",
			    "must be a string of digits");
	if (i == OTP_DIGITS)
		memcpy(code, s, OTP_DIGITS + 1);
	return 0;
}

/*
 * POST /api/user/forgot-password: mail a new code, revoking older ones.
 * 200 whether or not the address has an account; 400 bad e-mail.
 */
int
auth_forgot_password(struct request *req, struct reply *rep)
{
	const struct config	*c = config();
	struct field_value	 v[O__MAX];
	struct user		 u;
	unsigned char		 hash[OTP_HASH_BYTES];
	char			 code[OTP_DIGITS + 1], *text = NULL;
	int			 rc, found;

	memset(&u, 0, sizeof(u));
	if ((rc = body_fields(req, rep, otp_fields, O__MAX, v)) != 0)
		return rc;
	if ((found = user_find_by_email(v[O_EMAIL].s, &u)) == -1) {
		rc = reply_db_error(rep);
		goto out;
	}
	if (!found) {
		log_info("password reset asked for an unknown address");
		rc = reply_message(rep, 200, "OTP Successfully Sent.");
		goto out;
	}
	snprintf(code, sizeof(code), "%06u", randombytes_uniform(1000000));
	otp_hash(u.id, code, hash);
	text = xasprintf("Your password reset code is %s.\r\n\r\n"
	    "It is valid for %ld minutes and can be used once. If you did not "
	    "ask to reset your password, ignore this message.\r\n", code,
	    c->otp_ttl / 60);
	if (db_begin() == -1) {
		rc = reply_db_error(rep);
		goto out;
	}
	if (db_exec("UPDATE otp_codes SET state = 'dead' WHERE user_id = ? "
	    "AND purpose = 'password_reset' AND state IN ('pending', "
	    "'validated')", "i", u.id) != DB_OK ||
	    db_exec("INSERT INTO otp_codes (user_id, code_hash, expires_at) "
	    "VALUES (?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND)", "ibi",
	    u.id, hash, sizeof(hash), (long long)c->otp_ttl) != DB_OK ||
	    outbox_mail(u.email, c->otp_subject, text) != 0 ||
	    db_commit() == -1) {
		db_rollback();
		rc = reply_db_error(rep);
		goto out;
	}
	log_info("password reset code queued for user %lld", u.id);
	rc = reply_message(rep, 200, "OTP Successfully Sent.");
out:
	sodium_memzero(code, sizeof(code));
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	user_free(&u);
	body_values_free(v, O__MAX);
	return rc;
}

enum otp_check {
	OTP_VALID,		/* right code, now validated */
	OTP_ALREADY,		/* a validated code waits for its reset */
	OTP_WRONG,		/* wrong, expired, dead or none */
	OTP_FAILED		/* database error */
};

/*
 * Inside a transaction: lock the user's newest live code and check code
 * against it (code NULL: only look for a validated one).  A wrong code
 * counts an attempt and kills the code at the limit.  *otp_id receives the
 * code's id.
 */
static enum otp_check
otp_check(long long user_id, const char *code, long long *otp_id)
{
	struct db_result	*r = NULL;
	unsigned char		 want[OTP_HASH_BYTES];
	enum otp_check		 res = OTP_WRONG;
	int			 validated;

	if (db_query(&r, "SELECT id, code_hash, state = 'validated' "
	    "FROM otp_codes WHERE user_id = ? AND purpose = 'password_reset' "
	    "AND state IN ('pending', 'validated') AND expires_at > "
	    "UTC_TIMESTAMP(6) ORDER BY id DESC LIMIT 1 FOR UPDATE", "i",
	    user_id) != DB_OK)
		return OTP_FAILED;
	if (db_rows(r) == 0 || db_len(r, 0, 1) != OTP_HASH_BYTES)
		goto out;
	*otp_id = db_get_int(r, 0, 0);
	validated = db_get_int(r, 0, 2) != 0;
	if (code == NULL) {
		res = validated ? OTP_ALREADY : OTP_WRONG;
		goto out;
	}
	if (code[0] != '\0') {
		otp_hash(user_id, code, want);
		if (sodium_memcmp(want, db_get(r, 0, 1), OTP_HASH_BYTES) == 0) {
			if (validated)
				res = OTP_ALREADY;
			else if (db_exec("UPDATE otp_codes SET state = "
			    "'validated', validated_at = UTC_TIMESTAMP(6) "
			    "WHERE id = ?", "i", *otp_id) == DB_OK)
				res = OTP_VALID;
			else
				res = OTP_FAILED;
			goto out;
		}
	}
	/*
	 * A wrong code.  Assignments apply left to right, so the state test
	 * sees the new count: the max_attempts-th wrong try kills the code.
	 */
	if (db_exec("UPDATE otp_codes SET attempts = attempts + 1, state = "
	    "IF(attempts >= ?, 'dead', state) WHERE id = ?", "ii",
	    (long long)config()->otp_max_attempts, *otp_id) != DB_OK)
		res = OTP_FAILED;
out:
	db_result_free(r);
	return res;
}

/*
 * POST /api/user/otp_validate: check the mailed code.  200; 410 wrong,
 * expired or used up; 400 bad fields.
 */
int
auth_otp_validate(struct request *req, struct reply *rep)
{
	struct field_value	 v[O__MAX];
	struct user		 u;
	char			 code[OTP_DIGITS + 1];
	long long		 otp_id = 0;
	enum otp_check		 res = OTP_WRONG;
	int			 rc, found;

	memset(&u, 0, sizeof(u));
	if ((rc = body_fields(req, rep, otp_fields, O__MAX, v)) != 0)
		return rc;
	if (!v[O_OTP].present) {
		rc = reply_invalid(rep, "otp", "is required");
		goto out;
	}
	if ((rc = otp_read(rep, &v[O_OTP], code)) != 0)
		goto out;
	if ((found = user_find_by_email(v[O_EMAIL].s, &u)) == -1) {
		rc = reply_db_error(rep);
		goto out;
	}
	if (found) {
		if (db_begin() == -1) {
			rc = reply_db_error(rep);
			goto out;
		}
		res = otp_check(u.id, code, &otp_id);
		if (res == OTP_FAILED || db_commit() == -1) {
			db_rollback();
			rc = reply_db_error(rep);
			goto out;
		}
	}
	if (res == OTP_VALID || res == OTP_ALREADY)
		rc = reply_message(rep, 200, "OTP Validated.");
	else
		rc = reply_error(rep, 410, "otp_mismatch",
		    "OTP does not match.");
out:
	user_free(&u);
	body_values_free(v, O__MAX);
	return rc;
}

/*
 * POST /api/user/reset-password: set a new password after a validated
 * code (or with the right code in "otp"), use the code up, revoke every
 * session.  200; 400 bad fields; 403 no validated code; 410 wrong code.
 */
int
auth_reset_password(struct request *req, struct reply *rep)
{
	struct field_value	 v[O__MAX];
	struct user		 u;
	char			 code[OTP_DIGITS + 1], hash[PASSWORD_HASH_MAX];
	const char		*why;
	long long		 otp_id = 0;
	enum otp_check		 res = OTP_WRONG;
	int			 rc, found;

	memset(&u, 0, sizeof(u));
	hash[0] = '\0';
	if ((rc = body_fields(req, rep, otp_fields, O__MAX, v)) != 0)
		return rc;
	if (!v[O_PASSWORD].present) {
		rc = reply_invalid(rep, "password", "is required");
		goto out;
	}
	if ((why = password_check_new(v[O_PASSWORD].s, v[O_PASSWORD].len))) {
		rc = reply_invalid(rep, "password", why);
		goto out;
	}
	code[0] = '\0';
	if (v[O_OTP].present && (rc = otp_read(rep, &v[O_OTP], code)) != 0)
		goto out;
	if ((found = user_find_by_email(v[O_EMAIL].s, &u)) == -1) {
		rc = reply_db_error(rep);
		goto out;
	}
	if (!found) {
		rc = reply_error(rep, 403, "otp_required", "Validate the OTP "
		    "sent to your e-mail address first.");
		goto out;
	}
	if (db_begin() == -1) {
		rc = reply_db_error(rep);
		goto out;
	}
	res = otp_check(u.id, v[O_OTP].present ? code : NULL, &otp_id);
	if (res == OTP_FAILED)
		goto failed;
	if (res == OTP_WRONG) {
		if (db_commit() == -1)
			goto failed;
		rc = v[O_OTP].present ? reply_error(rep, 410, "otp_mismatch",
		    "OTP does not match.") : reply_error(rep, 403,
		    "otp_required", "Validate the OTP sent to your e-mail "
		    "address first.");
		goto out;
	}
	/*
	 * Hashed only once the code is good: a refused reset costs no
	 * argon2id, and answers as fast for a known address as for an unknown
	 * one, so its timing does not tell who has an account.
	 */
	if (password_hash(v[O_PASSWORD].s, v[O_PASSWORD].len, hash) != 0) {
		db_rollback();
		rc = reply_error(rep, 500, "internal_error", "Internal error");
		goto out;
	}
	if (db_exec("UPDATE users SET password_hash = ?, password_changed_at "
	    "= UTC_TIMESTAMP(6) WHERE id = ?", "si", hash, u.id) != DB_OK ||
	    db_exec("UPDATE otp_codes SET state = 'used', used_at = "
	    "UTC_TIMESTAMP(6) WHERE id = ?", "i", otp_id) != DB_OK ||
	    token_revoke_user(u.id, "password_reset", NULL) == -1 ||
	    db_commit() == -1)
		goto failed;
	log_info("password of user %lld reset; sessions revoked", u.id);
	rc = reply_message(rep, 200, "Password Updated Successfully.");
	goto out;
failed:
	db_rollback();
	rc = reply_db_error(rep);
out:
	sodium_memzero(hash, sizeof(hash));
	user_free(&u);
	body_values_free(v, O__MAX);
	return rc;
}
