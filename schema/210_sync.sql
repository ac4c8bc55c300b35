-- 210_sync.sql: the offline-first change log of seed 000.
--
-- A client records every insert, update and delete of its local database
-- and uploads each change; the server applies it to that user's copy of
-- the table (sync_rows) and appends it to the user's log (sync_changes),
-- in one transaction.  Other devices download the log from an offset.
--
-- seq numbers a user's changes in commit order without gaps: an upload
-- applies its rows, then locks the user's sync_counters row and takes the
-- next numbers from it, so a second upload of the same user waits there
-- until the first commits, and a download walking "seq > offset" never
-- skips a change that commits late (an AUTO_INCREMENT id would: ids are
-- handed out before commit).

CREATE TABLE IF NOT EXISTS sync_counters (
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'owner (users.id)',
	seq		BIGINT UNSIGNED NOT NULL DEFAULT 0
			COMMENT 'last seq handed out to this user''s changes',
	bytes		BIGINT UNSIGNED NOT NULL DEFAULT 0
			COMMENT 'sum of the data sizes in the user''s log ([sync] max_user_bytes)',
	PRIMARY KEY (user_id),
	CONSTRAINT sync_counters_user_fk FOREIGN KEY (user_id)
		REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB
  COMMENT='per-user commit-ordered counter for sync_changes.seq';

CREATE TABLE IF NOT EXISTS sync_changes (
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'owner (users.id)',
	seq		BIGINT UNSIGNED NOT NULL
			COMMENT 'per-user order, gapless (sync_counters); the download offset',
	device_id	VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
			COMMENT 'the uploading device as it named itself (default: default)',
	log_id		BIGINT UNSIGNED NOT NULL
			COMMENT 'the device''s own change-log id',
	table_name	VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
			COMMENT 'the client''s table',
	row_id		VARCHAR(64) COLLATE utf8mb4_bin NOT NULL
			COMMENT 'data.id of the changed row, as text',
	operation	CHAR(1) CHARACTER SET ascii NOT NULL
			COMMENT 'I insert, U update (merge), D delete'
			CHECK (operation IN ('I', 'U', 'D')),
	data		LONGTEXT NOT NULL COMMENT 'the change''s data as applied (JSON)'
			CHECK (JSON_VALID(data)),
	data_bytes	INT UNSIGNED NOT NULL COMMENT 'length of data in bytes',
	client_time	VARCHAR(40) CHARACTER SET ascii NULL
			COMMENT 'the client''s timestamp, as sent (000 change_time)',
	content_hash	CHAR(32) CHARACTER SET ascii NOT NULL
			COMMENT 'BLAKE2b of the change, to tell a re-send from a conflict',
	synced_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'when the server applied it, UTC (000 sync_time)',
	PRIMARY KEY (user_id, seq),
	UNIQUE KEY sync_changes_log (user_id, device_id, log_id),
	CONSTRAINT sync_changes_user_fk FOREIGN KEY (user_id)
		REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='every uploaded sync change per user, in commit order';

CREATE TABLE IF NOT EXISTS sync_rows (
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'owner (users.id)',
	table_name	VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
			COMMENT 'the client''s table',
	row_id		VARCHAR(64) COLLATE utf8mb4_bin NOT NULL
			COMMENT 'data.id of the row, as text',
	data		LONGTEXT NOT NULL COMMENT 'the row as the changes left it (JSON)'
			CHECK (JSON_VALID(data)),
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'last change, UTC',
	PRIMARY KEY (user_id, table_name, row_id),
	CONSTRAINT sync_rows_user_fk FOREIGN KEY (user_id)
		REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='each user''s server copy of their synced tables';
