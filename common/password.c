/*
 * password.c -- argon2id through libsodium's crypto_pwhash.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "log.h"
#include "password.h"

static char	 dummy_hash[crypto_pwhash_STRBYTES];

int
password_init(void)
{
	if (sodium_init() == -1) {
		log_error("password: sodium_init failed");
		return -1;
	}
	return 0;
}

int
password_hash(const char *pw, size_t len, char *out)
{
	const struct config	*c = config();

	if (crypto_pwhash_str(out, pw, len,
	    (unsigned long long)c->password_opslimit,
	    (size_t)c->password_memlimit_kib * 1024) != 0) {
		log_error("password: hashing failed (out of memory?)");
		return -1;
	}
	return 0;
}

int
password_verify(const char *hash, const char *pw, size_t len)
{
	if (hash == NULL || strncmp(hash, "$argon2", 7) != 0)
		return 0;
	return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

int
password_needs_rehash(const char *hash)
{
	const struct config	*c = config();

	return crypto_pwhash_str_needs_rehash(hash,
	    (unsigned long long)c->password_opslimit,
	    (size_t)c->password_memlimit_kib * 1024) != 0;
}

void
password_verify_dummy(const char *pw, size_t len)
{
	char	 seed[33];

	/* Made on first use, so idle workers do not pay for it. */
	if (dummy_hash[0] == '\0') {
		randombytes_buf(seed, sizeof(seed) - 1);
		seed[32] = '\0';
		if (password_hash(seed, sizeof(seed) - 1, dummy_hash) != 0)
			return;
	}
	(void)password_verify(dummy_hash, pw, len);
}

const char *
password_check_new(const char *pw, size_t len)
{
	static char	 msg[64];
	size_t		 chars = 0, i;

	if (len > PASSWORD_MAX_LENGTH)
		return "must be at most 1024 bytes";
	for (i = 0; i < len; i++)
		if (((unsigned char)pw[i] & 0xc0) != 0x80)
			chars++;
	if (chars < (size_t)config()->password_min_length) {
		snprintf(msg, sizeof(msg), "must be at least %d characters",
		    config()->password_min_length);
		return msg;
	}
	return NULL;
}
