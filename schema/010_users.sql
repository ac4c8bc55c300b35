-- 010_users.sql: the one user base shared by all five seed APIs.
--
-- A user has an e-mail address, a username, or both: 000, 003 and 004 sign
-- up with an e-mail, 001 with a username, 002 with both.  E-mail addresses
-- are unique without regard to case (email_key) and returned as typed.

CREATE TABLE IF NOT EXISTS users (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
			COMMENT 'user id; the JWT sub claim',
	email		VARCHAR(254) NULL
			COMMENT 'e-mail address as the user typed it',
	email_key	VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
			AS (LOWER(email)) STORED
			COMMENT 'lower-cased e-mail: the unique lookup key',
	username	VARCHAR(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL
			COMMENT 'login name (001, 002); case-sensitive, unique',
	password_hash	VARCHAR(255) CHARACTER SET ascii NOT NULL
			COMMENT 'argon2id PHC string (libsodium); never the password',
	first_name	VARCHAR(150) NULL COMMENT 'given name (001, 003)',
	last_name	VARCHAR(150) NULL COMMENT 'family name (001, 003)',
	age		SMALLINT UNSIGNED NULL COMMENT 'age in years (001)',
	phone_number	VARCHAR(32) NULL COMMENT 'phone number as given (001)',
	avatar_url	VARCHAR(2048) NULL
			COMMENT 'picture URL: avatar_url in 002, profile_image in 003',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'sign-up time, UTC',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			ON UPDATE CURRENT_TIMESTAMP(6)
			COMMENT 'last change of this row, UTC',
	password_changed_at DATETIME(6) NULL
			COMMENT 'last password change or reset, UTC',
	PRIMARY KEY (id),
	UNIQUE KEY users_email_key (email_key),
	UNIQUE KEY users_username (username),
	CONSTRAINT users_has_login CHECK (email IS NOT NULL OR username IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='accounts: one row per person, whichever seed API signed them up';
