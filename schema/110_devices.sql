-- 110_devices.sql: the devices a user receives push notifications on.
--
-- 003's register_device and unregister_device write here; the
-- conversations family queues a push delivery for every device of every
-- other member when a message arrives.  A device id (a push token) belongs
-- to one user at a time: registering it again moves it to the caller, as
-- a phone that changes hands would.

CREATE TABLE IF NOT EXISTS devices (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'row id',
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'owner (users.id)',
	device_id	VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
			COMMENT 'push token or device identifier as the client sent it',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'first registration, UTC',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'last registration, UTC',
	PRIMARY KEY (id),
	UNIQUE KEY devices_device (device_id),
	KEY devices_user (user_id),
	CONSTRAINT devices_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
		ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='push devices per user (003 register_device)';
