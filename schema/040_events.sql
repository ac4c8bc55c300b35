-- 040_events.sql: the notifier's outbox.
--
-- Responders append a row in the same transaction as the change it
-- describes; the notifier polls "seq > last seen" and pushes each payload to
-- the sockets in its room.  seq comes from the single-row counter
-- outbox_seq, taken as the last statement before COMMIT, so rows become
-- visible in seq order and a poller never skips one (an AUTO_INCREMENT id
-- would: ids are handed out before commit).

CREATE TABLE IF NOT EXISTS outbox_seq (
	id		TINYINT UNSIGNED NOT NULL COMMENT 'always 1',
	n		BIGINT UNSIGNED NOT NULL COMMENT 'last seq handed out',
	PRIMARY KEY (id)
) ENGINE=InnoDB COMMENT='commit-ordered counter for events.seq (one row)';

INSERT IGNORE INTO outbox_seq (id, n) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS events (
	seq		BIGINT UNSIGNED NOT NULL
			COMMENT 'commit order, gapless (outbox_seq)',
	room		VARCHAR(191) CHARACTER SET ascii NOT NULL
			COMMENT 'who receives it: public, user:<id>, conversation:<id>, ...',
	event		VARCHAR(64) CHARACTER SET ascii NOT NULL
			COMMENT 'event name sent to the client',
	payload		LONGTEXT NOT NULL COMMENT 'JSON sent to the client'
			CHECK (JSON_VALID(payload)),
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'write time, UTC; used to prune old rows',
	PRIMARY KEY (seq),
	KEY events_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='real-time events for the notifier (transactional outbox)';
