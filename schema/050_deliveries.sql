-- 050_deliveries.sql: the dispatcher's queue of outbound messages.
--
-- A responder inserts a row in the same transaction as the change that
-- needs it (an OTP mail, a webhook call, a push).  Dispatchers claim due
-- rows with FOR UPDATE SKIP LOCKED, so several can run at once; a claim is a
-- lease (locked_until) that another dispatcher may take over once it runs
-- out.  Every try is recorded in delivery_attempts.

CREATE TABLE IF NOT EXISTS deliveries (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'delivery id',
	channel		ENUM('mail', 'webhook', 'push') NOT NULL
			COMMENT 'which dispatcher channel sends it',
	target		VARCHAR(2048) NOT NULL
			COMMENT 'recipient: an e-mail address, a destination id, a device token',
	payload		LONGTEXT NOT NULL COMMENT 'channel-specific JSON'
			CHECK (JSON_VALID(payload)),
	dedupe_key	VARCHAR(191) CHARACTER SET ascii NULL
			COMMENT 'optional idempotency key: a second insert with it is refused',
	state		ENUM('pending', 'sending', 'delivered', 'failed', 'cancelled')
			NOT NULL DEFAULT 'pending'
			COMMENT 'pending: due at next_attempt_at; sending: claimed; delivered, failed, cancelled: final',
	attempts	SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'tries so far',
	next_attempt_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'earliest time of the next try, UTC',
	locked_until	DATETIME(6) NULL COMMENT 'lease end of the current claim, UTC',
	locked_by	VARCHAR(64) CHARACTER SET ascii NULL
			COMMENT 'dispatcher holding the claim (host:pid)',
	last_status	INT NULL COMMENT 'last HTTP or SMTP status code',
	last_error	VARCHAR(1024) NULL COMMENT 'last error text',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'queue time, UTC',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'last change, UTC',
	finished_at	DATETIME(6) NULL COMMENT 'when it became delivered, failed or cancelled',
	PRIMARY KEY (id),
	UNIQUE KEY deliveries_dedupe (dedupe_key),
	KEY deliveries_due (state, next_attempt_at),
	KEY deliveries_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='outbound mail, webhooks and pushes waiting for or done by the dispatcher';

CREATE TABLE IF NOT EXISTS delivery_attempts (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'attempt id',
	delivery_id	BIGINT UNSIGNED NOT NULL COMMENT 'which delivery (deliveries.id)',
	attempt		SMALLINT UNSIGNED NOT NULL COMMENT '1 for the first try',
	started_at	DATETIME(6) NOT NULL COMMENT 'start of the try, UTC',
	duration_ms	INT UNSIGNED NOT NULL COMMENT 'how long the try took',
	status_code	INT NULL COMMENT 'HTTP or SMTP status, if the peer answered',
	error		VARCHAR(1024) NULL COMMENT 'error text, NULL on success',
	outcome		ENUM('delivered', 'retry', 'failed') NOT NULL
			COMMENT 'what the dispatcher decided after this try',
	PRIMARY KEY (id),
	KEY delivery_attempts_delivery (delivery_id, attempt),
	CONSTRAINT delivery_attempts_fk FOREIGN KEY (delivery_id)
		REFERENCES deliveries (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='every try of every delivery, for operators and the API';
