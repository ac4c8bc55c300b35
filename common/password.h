/*
 * password.h -- argon2id password hashes (libsodium crypto_pwhash).
 *
 * The cost comes from [password] opslimit and memlimit_kib.  Hashes are
 * PHC strings ("$argon2id$v=19$m=...,t=...,p=1$..."), so a later change of
 * cost still verifies old hashes.
 */
#ifndef FASTBACK_PASSWORD_H
#define FASTBACK_PASSWORD_H

#include <stddef.h>

#define PASSWORD_HASH_MAX	128	/* crypto_pwhash_STRBYTES */
#define PASSWORD_MAX_LENGTH	1024	/* bytes; longer ones are refused */

/* Call once at start-up (sodium_init).  Returns 0 or -1. */
int	password_init(void);

/* Hash a password into out (PASSWORD_HASH_MAX bytes).  Returns 0 or -1. */
int	password_hash(const char *pw, size_t len, char *out);

/* Returns 1 when pw matches hash, 0 otherwise (also for a broken hash). */
int	password_verify(const char *hash, const char *pw, size_t len);

/*
 * Spend the time a verification would, for an unknown user, so a login
 * does not tell by its speed whether the account exists.
 */
void	password_verify_dummy(const char *pw, size_t len);

/*
 * Non-zero when hash was made with another cost than [password] asks now,
 * so a successful login should store a new hash.
 */
int	password_needs_rehash(const char *hash);

/* Reason a new password is refused (too short, too long), or NULL. */
const char *password_check_new(const char *pw, size_t len);

#endif
