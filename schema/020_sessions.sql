-- 020_sessions.sql: one row per issued token, so a token can be revoked.
--
-- A JWT is accepted only while its row exists, is not revoked and has not
-- expired.  Revoking a row (logout, password reset, "log out everywhere")
-- kills the token at once.

CREATE TABLE IF NOT EXISTS sessions (
	jti		CHAR(32) CHARACTER SET ascii NOT NULL
			COMMENT 'token id: the JWT jti claim (128 random bits, hex)',
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'owner (users.id)',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'issue time, UTC',
	expires_at	DATETIME(6) NOT NULL COMMENT 'the JWT exp claim, UTC',
	revoked_at	DATETIME(6) NULL COMMENT 'set when revoked; NULL while live',
	revoked_reason	VARCHAR(32) CHARACTER SET ascii NULL
			COMMENT 'logout, logout_all, refresh, password_reset, account_deleted, operator',
	client_ip	VARCHAR(45) CHARACTER SET ascii NULL
			COMMENT 'address the login came from',
	user_agent	VARCHAR(255) NULL COMMENT 'User-Agent of the login request',
	PRIMARY KEY (jti),
	KEY sessions_user (user_id, revoked_at),
	KEY sessions_expires (expires_at),
	CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
		ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='issued tokens (JWT jti); revoke a row to log that token out';
