-- 200_wallets.sql: the wallets of seed 001 and fastback's /api/wallets.
--
-- Money is exact: balance is a whole number of the currency's minor units
-- (cents for USD, yen for JPY), the very integer 001's clients send as
-- "balance".  A CHECK keeps it from ever going below zero (or above 10^15),
-- so a concurrent withdrawal that would overdraw fails instead of being
-- clipped.  version
-- grows by one with every change, for optimistic concurrency (If-Match).
-- Currency codes are checked by the responder against ISO 4217
-- (cgi-bin/wallets/currency.c); 001 allowed a wallet without one.

CREATE TABLE IF NOT EXISTS wallets (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'wallet id',
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'owner (users.id)',
	balance		BIGINT NOT NULL DEFAULT 0
			COMMENT 'amount in minor units of currency (cents), 0 to 10^15'
			CHECK (balance BETWEEN 0 AND 1000000000000000),
	currency	CHAR(3) CHARACTER SET ascii NULL
			COMMENT 'ISO 4217 code, upper case; NULL when 001 sent none',
	wallet_type	VARCHAR(64) NULL COMMENT 'free text, e.g. personal, business',
	description	VARCHAR(500) NULL COMMENT 'free text',
	status		VARCHAR(32) NULL COMMENT 'free text, e.g. active, inactive',
	version		BIGINT UNSIGNED NOT NULL DEFAULT 1
			COMMENT 'grows by one per change (ETag / If-Match)',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'creation, UTC',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'last change, UTC (001 last_updated_at)',
	PRIMARY KEY (id),
	KEY wallets_user (user_id, id),
	CONSTRAINT wallets_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
		ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='wallets per user (001 add_wallet, /api/wallets)';
