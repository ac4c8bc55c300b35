-- 500_notifier.sql: presence, shared by every notifier process.
--
-- Each running fastback-notifier picks a random id at start, keeps a row in
-- `notifiers` and refreshes its beat_at every few seconds.  It writes one
-- `presence` row per open socket: the user, the rooms the socket joined.
-- get_online_users counts a socket while it is open and its notifier has
-- beaten within [notifier] presence_timeout seconds, so a notifier that
-- dies stops counting without anyone cleaning up.
--
-- Rows of closed sockets (left_at set) and of silent notifiers stay for
-- [notifier] presence_keep seconds, so that a client reconnecting, to this
-- notifier or to another after a restart, gets its rooms back (Socket.IO's
-- connection-state recovery, backed by events); then any notifier's
-- heartbeat deletes them, a bounded batch at a time.  Deleting a notifier's
-- row deletes its presence rows (ON DELETE CASCADE).
--
-- The notifier reads `events` (040_events.sql) by seq and prunes rows older
-- than [notifier] retention seconds, in batches, one notifier at a time (the
-- named lock fastback_notifier_prune); the index at the end serves replays.

CREATE TABLE IF NOT EXISTS notifiers (
	id		CHAR(32) CHARACTER SET ascii NOT NULL
			COMMENT 'random per process start (hex)',
	started_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'when the process started, UTC',
	beat_at		DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'last heartbeat, UTC; old: the process is gone',
	PRIMARY KEY (id),
	KEY notifiers_beat (beat_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='running notifier processes and their heartbeats';

CREATE TABLE IF NOT EXISTS presence (
	sid		VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
			COMMENT 'the socket id (Engine.IO sid, or the notifier''s own)',
	notifier_id	CHAR(32) CHARACTER SET ascii NOT NULL
			COMMENT 'the notifier holding the socket (notifiers.id)',
	user_id		BIGINT UNSIGNED NOT NULL
			COMMENT 'the authenticated user (users.id)',
	username	VARCHAR(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL
			COMMENT 'users.username when the socket connected',
	rooms		TEXT NOT NULL DEFAULT '[]'
			COMMENT 'JSON array of the rooms the socket joined'
			CHECK (JSON_VALID(rooms)),
	connected_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'when the socket was authenticated, UTC',
	left_at		DATETIME(6) NULL DEFAULT NULL
			COMMENT 'when it closed, UTC; NULL while open',
	PRIMARY KEY (sid),
	KEY presence_notifier (notifier_id, left_at),
	KEY presence_user (user_id),
	KEY presence_left (left_at),
	CONSTRAINT presence_notifier FOREIGN KEY (notifier_id)
		REFERENCES notifiers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='open (and recently closed) notifier sockets, per user';

-- A client resuming after a disconnect gets the rows of its rooms after the
-- last one it saw: one index range per room.
CREATE INDEX IF NOT EXISTS events_room_seq ON events (room, seq);
