-- 400_destinations.sql: Datasync (seed 004): accounts, their members and
-- roles, webhook destinations, incoming events and the delivery log.
--
-- An account is a tenant: it has a secret token (CL-X-TOKEN) that senders
-- use to post data to /server/incoming_data/, and destinations (URLs) that
-- each piece of data is forwarded to by the dispatcher's webhook channel.
-- Users reach an account only through a row of account_members; role 1
-- (Admin) may change the account, role 2 (User) may only read it.
--
-- Who may be deleted without breaking anything:
--   * a user: memberships cascade; created_by/updated_by become NULL;
--     common/user_delete.c first hands an account whose last Admin leaves
--     to its longest-standing member, or deletes an account nobody is left
--     in (see README, "Deleting a user");
--   * an account: its members, destinations, incoming events and delivery
--     log cascade; the fastback-destinations responder first cancels its
--     pending deliveries, whose rows stay in deliveries as 'cancelled';
--   * a destination: its pending deliveries are cancelled first; its rows
--     in the delivery log stay (destination_id keeps the old id).

CREATE TABLE IF NOT EXISTS roles (
	id		TINYINT UNSIGNED NOT NULL COMMENT '1 Admin, 2 User',
	role_name	VARCHAR(16) NOT NULL COMMENT 'Admin or User',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'when the role was created, UTC',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'last change, UTC',
	PRIMARY KEY (id),
	UNIQUE KEY roles_name (role_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='account roles (004): fixed, the programs rely on ids 1 and 2';

INSERT IGNORE INTO roles (id, role_name) VALUES (1, 'Admin'), (2, 'User');

CREATE TABLE IF NOT EXISTS accounts (
	id		CHAR(36) CHARACTER SET ascii NOT NULL
			COMMENT 'random UUID (version 4)',
	account_name	VARCHAR(255) NOT NULL COMMENT 'unique display name',
	app_secret_token VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin
			NOT NULL
			COMMENT 'CL-X-TOKEN of incoming data: 32 random bytes, base64url',
	website		VARCHAR(2048) NULL COMMENT 'http(s) URL, optional',
	created_by	BIGINT UNSIGNED NULL COMMENT 'user who created it',
	updated_by	BIGINT UNSIGNED NULL COMMENT 'user who changed it last',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'creation time, UTC',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'last change, UTC',
	PRIMARY KEY (id),
	UNIQUE KEY accounts_name (account_name),
	UNIQUE KEY accounts_token (app_secret_token),
	CONSTRAINT accounts_created_by FOREIGN KEY (created_by)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT accounts_updated_by FOREIGN KEY (updated_by)
		REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Datasync accounts (004): tenants with a secret token';

CREATE TABLE IF NOT EXISTS account_members (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
			COMMENT 'membership id',
	account_id	CHAR(36) CHARACTER SET ascii NOT NULL
			COMMENT 'accounts.id',
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'users.id',
	role_id		TINYINT UNSIGNED NOT NULL COMMENT 'roles.id: 1 Admin, 2 User',
	created_by	BIGINT UNSIGNED NULL COMMENT 'user who added the member',
	updated_by	BIGINT UNSIGNED NULL COMMENT 'user who changed it last',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'when the user joined, UTC; the oldest member inherits',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'last change, UTC',
	PRIMARY KEY (id),
	UNIQUE KEY account_members_pair (account_id, user_id),
	KEY account_members_user (user_id),
	CONSTRAINT account_members_account FOREIGN KEY (account_id)
		REFERENCES accounts (id) ON DELETE CASCADE,
	CONSTRAINT account_members_user FOREIGN KEY (user_id)
		REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT account_members_role FOREIGN KEY (role_id)
		REFERENCES roles (id),
	CONSTRAINT account_members_created_by FOREIGN KEY (created_by)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT account_members_updated_by FOREIGN KEY (updated_by)
		REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='who belongs to which account, with which role';

CREATE TABLE IF NOT EXISTS destinations (
	id		CHAR(36) CHARACTER SET ascii NOT NULL
			COMMENT 'random UUID (version 4)',
	account_id	CHAR(36) CHARACTER SET ascii NOT NULL
			COMMENT 'accounts.id',
	url		VARCHAR(2048) NOT NULL
			COMMENT 'http(s) URL, checked against private addresses at save and send',
	http_method	ENUM('GET', 'POST', 'PUT') NOT NULL DEFAULT 'POST'
			COMMENT 'GET: data as query parameters; POST/PUT: as JSON body',
	headers		TEXT NOT NULL DEFAULT '{}'
			COMMENT 'JSON object of extra request headers (string values)'
			CHECK (JSON_VALID(headers)),
	signing_secret	VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin
			NOT NULL
			COMMENT 'whsec_<base64 of 32 bytes>: key of webhook-signature',
	disabled_at	DATETIME(6) NULL
			COMMENT 'set when the receiver answered 410 Gone; an update clears it',
	disabled_reason	VARCHAR(255) NULL COMMENT 'why it was disabled',
	created_by	BIGINT UNSIGNED NULL COMMENT 'user who created it',
	updated_by	BIGINT UNSIGNED NULL COMMENT 'user who changed it last',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'creation time, UTC',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'last change, UTC',
	PRIMARY KEY (id),
	KEY destinations_account (account_id, created_at),
	CONSTRAINT destinations_account FOREIGN KEY (account_id)
		REFERENCES accounts (id) ON DELETE CASCADE,
	CONSTRAINT destinations_created_by FOREIGN KEY (created_by)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT destinations_updated_by FOREIGN KEY (updated_by)
		REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='webhook URLs every incoming event of the account is sent to';

CREATE TABLE IF NOT EXISTS incoming_events (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
			COMMENT 'row id; deliveries.payload names it',
	account_id	CHAR(36) CHARACTER SET ascii NOT NULL
			COMMENT 'accounts.id (whose CL-X-TOKEN came with it)',
	event_id	VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
			COMMENT 'the sender''s CL-X-EVENT-ID: unique per account',
	data		LONGTEXT NOT NULL COMMENT 'the JSON object received, as sent'
			CHECK (JSON_VALID(data)),
	received_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'receipt time, UTC',
	PRIMARY KEY (id),
	UNIQUE KEY incoming_events_once (account_id, event_id),
	KEY incoming_events_received (account_id, received_at),
	CONSTRAINT incoming_events_account FOREIGN KEY (account_id)
		REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='data posted to /server/incoming_data/, once per event id';

CREATE TABLE IF NOT EXISTS webhook_deliveries (
	delivery_id	BIGINT UNSIGNED NOT NULL
			COMMENT 'deliveries.id (channel webhook)',
	event_row	BIGINT UNSIGNED NOT NULL COMMENT 'incoming_events.id',
	account_id	CHAR(36) CHARACTER SET ascii NOT NULL
			COMMENT 'accounts.id, for the log filters',
	destination_id	CHAR(36) CHARACTER SET ascii NOT NULL
			COMMENT 'destinations.id; kept after the destination is deleted',
	replay_of	BIGINT UNSIGNED NULL
			COMMENT 'the delivery an Admin retried or replayed, if any',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'queue time, UTC; the give-up window counts from it',
	PRIMARY KEY (delivery_id),
	KEY webhook_deliveries_account (account_id, delivery_id),
	KEY webhook_deliveries_destination (destination_id, delivery_id),
	KEY webhook_deliveries_event (event_row),
	CONSTRAINT webhook_deliveries_delivery FOREIGN KEY (delivery_id)
		REFERENCES deliveries (id) ON DELETE CASCADE,
	CONSTRAINT webhook_deliveries_event FOREIGN KEY (event_row)
		REFERENCES incoming_events (id) ON DELETE CASCADE,
	CONSTRAINT webhook_deliveries_account FOREIGN KEY (account_id)
		REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='the delivery log: one row per (event, destination) delivery';

-- For operators: webhook deliveries that need a look, newest first, with
-- the account, the destination's URL and the last error.  To send one
-- again, CALL retry_delivery(delivery_id) (090_operator.sql): the same
-- row gets one more try now, and its attempts stay in delivery_attempts.
-- An Admin can do the same through the API without touching this row
-- (POST /api/accounts/{id}/logs/{delivery_id}/retry/ queues a new one).
CREATE OR REPLACE SQL SECURITY INVOKER VIEW operator_failed_webhooks AS
SELECT	w.delivery_id, w.account_id, a.account_name, w.destination_id,
	dst.url, e.event_id, e.received_at, d.state, d.attempts,
	d.last_status, d.last_error, d.finished_at
FROM webhook_deliveries w
JOIN deliveries d ON d.id = w.delivery_id
JOIN incoming_events e ON e.id = w.event_row
JOIN accounts a ON a.id = w.account_id
LEFT JOIN destinations dst ON dst.id = w.destination_id
WHERE d.state = 'failed'
ORDER BY w.delivery_id DESC;
