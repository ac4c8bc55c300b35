-- 030_otp_codes.sql: one-time passwords for the password reset of seed 003.
--
-- The code itself is never stored: code_hash is a keyed BLAKE2b hash of it.
-- A code lives otp.ttl seconds, dies after otp.max_attempts wrong tries,
-- and is used at most once.  Asking for a new code revokes the older ones.

CREATE TABLE IF NOT EXISTS otp_codes (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'code id',
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'whose code (users.id)',
	purpose		VARCHAR(32) CHARACTER SET ascii NOT NULL
			DEFAULT 'password_reset' COMMENT 'what the code unlocks',
	code_hash	BINARY(32) NOT NULL COMMENT 'keyed BLAKE2b-256 of the code',
	state		ENUM('pending', 'validated', 'used', 'dead') NOT NULL
			DEFAULT 'pending'
			COMMENT 'pending: mailed; validated: otp_validate passed; used: password reset done; dead: expired, superseded or too many attempts',
	attempts	TINYINT UNSIGNED NOT NULL DEFAULT 0
			COMMENT 'wrong codes tried so far',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'issue time, UTC',
	expires_at	DATETIME(6) NOT NULL COMMENT 'end of validity, UTC',
	validated_at	DATETIME(6) NULL COMMENT 'when the right code was shown',
	used_at		DATETIME(6) NULL COMMENT 'when the password was reset with it',
	PRIMARY KEY (id),
	KEY otp_codes_user (user_id, purpose, state),
	KEY otp_codes_expires (expires_at),
	CONSTRAINT otp_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
		ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='password-reset codes (hashed), their attempts and state';
