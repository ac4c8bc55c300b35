-- 300_conversations.sql: the chat of seeds 002 and 003, one model for both.
--
-- A conversation is the public room (one row, id 1), a private chat of
-- exactly two users, or a named group with admins and members.  002's
-- public messages are the public room's messages, 002's private chats and
-- 003's "private" conversations are the same rows, so a chat started
-- through either API shows in the other.
--
-- Every list is an index range scan read newest first and cut by LIMIT,
-- so its cost does not grow with the table (1,000 or 1 million messages):
--   messages of a conversation      messages_conversation (conversation_id, id)
--   a user's conversations          members_user (user_id, conversation_id)
--   a conversation's last message   conversations.last_message_id, kept
--                                   on every post and delete (a primary-key
--                                   lookup; hidden when not above the
--                                   member's cleared_before)
--   a member's unread count         conversation_members.unread, kept on
--                                   post, delete, read and clear
--   a member's unread receipts      receipts_unread (user_id, conversation_id,
--                                   status, message_id), for message_read
--   a user's files, a message's or a chat's files: files_* (key, id)
--
-- Deleting a user (common/user_delete.c): the user's messages, receipts,
-- files and memberships go by ON DELETE CASCADE; private chats stay for the
-- other member (pair_low/pair_high become NULL); a group whose last admin
-- goes gets its longest-standing member as admin, a conversation left
-- without members is deleted, and the others' last_message_id and unread
-- counters are set right, all by delete_conversations() before the DELETE
-- FROM users.

CREATE TABLE IF NOT EXISTS conversations (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
			COMMENT 'conversation id: 002 chat_id, 003 conversation_id',
	kind		ENUM('public', 'private', 'group') NOT NULL
			COMMENT 'public room (id 1 only), two-user chat, or group',
	name		VARCHAR(255) NULL COMMENT 'group name; NULL for private chats',
	created_by	BIGINT UNSIGNED NULL COMMENT 'creator (users.id), NULL once deleted',
	pair_low	BIGINT UNSIGNED NULL
			COMMENT 'private: the smaller user id of the pair',
	pair_high	BIGINT UNSIGNED NULL
			COMMENT 'private: the larger user id of the pair',
	last_message_id	BIGINT UNSIGNED NULL
			COMMENT 'newest live message (private, group); kept by the code',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'creation time, UTC',
	PRIMARY KEY (id),
	-- At most one private chat per pair of users, whoever started it.
	UNIQUE KEY conversations_pair (pair_low, pair_high),
	CONSTRAINT conversations_creator_fk FOREIGN KEY (created_by)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT conversations_low_fk FOREIGN KEY (pair_low)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT conversations_high_fk FOREIGN KEY (pair_high)
		REFERENCES users (id) ON DELETE SET NULL
	-- (pair_low < pair_high is kept by the code: MariaDB refuses a CHECK
	-- on columns with ON DELETE SET NULL.)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='chats: the public room, private chats and groups (002, 003)';

-- The public room every user may read and write; it has no member rows.
INSERT IGNORE INTO conversations (id, kind, name) VALUES (1, 'public', 'public');

CREATE TABLE IF NOT EXISTS conversation_members (
	conversation_id	BIGINT UNSIGNED NOT NULL COMMENT 'conversations.id',
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'users.id',
	role		ENUM('admin', 'member') NOT NULL DEFAULT 'member'
			COMMENT 'group admins manage members; private chats: both member',
	favorite	BOOLEAN NOT NULL DEFAULT FALSE COMMENT '003 is_favorite, this member only',
	pinned		BOOLEAN NOT NULL DEFAULT FALSE COMMENT '003 is_pinned, this member only',
	cleared_before	BIGINT UNSIGNED NOT NULL DEFAULT 0
			COMMENT 'clear chat: messages with id <= this are hidden from this member',
	cleared_at	DATETIME(6) NULL COMMENT 'last clear chat, UTC',
	unread		INT UNSIGNED NOT NULL DEFAULT 0
			COMMENT 'messages of others not yet read and not cleared; kept by the code',
	joined_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'membership start, UTC: who is longest-standing',
	PRIMARY KEY (conversation_id, user_id),
	KEY members_user (user_id, conversation_id),
	CONSTRAINT members_conversation_fk FOREIGN KEY (conversation_id)
		REFERENCES conversations (id) ON DELETE CASCADE,
	CONSTRAINT members_user_fk FOREIGN KEY (user_id)
		REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='who is in a private chat or group, with their own state';

CREATE TABLE IF NOT EXISTS messages (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'message id',
	conversation_id	BIGINT UNSIGNED NOT NULL COMMENT 'conversations.id',
	sender_id	BIGINT UNSIGNED NOT NULL COMMENT 'author (users.id)',
	body		TEXT NOT NULL COMMENT 'text as sent (002 content, 003 body/text)',
	created_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'send time, UTC',
	deleted_at	DATETIME(6) NULL
			COMMENT 'soft delete by the sender; hidden from every list',
	PRIMARY KEY (id),
	KEY messages_conversation (conversation_id, id),
	KEY messages_sender (sender_id),
	CONSTRAINT messages_conversation_fk FOREIGN KEY (conversation_id)
		REFERENCES conversations (id) ON DELETE CASCADE,
	CONSTRAINT messages_sender_fk FOREIGN KEY (sender_id)
		REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='chat messages of every kind of conversation';

CREATE TABLE IF NOT EXISTS receipts (
	message_id	BIGINT UNSIGNED NOT NULL COMMENT 'messages.id',
	user_id		BIGINT UNSIGNED NOT NULL COMMENT 'the recipient (users.id)',
	conversation_id	BIGINT UNSIGNED NOT NULL
			COMMENT 'copy of the message''s conversation, for receipts_unread',
	status		ENUM('sent', 'delivered', 'read') NOT NULL DEFAULT 'delivered'
			COMMENT 'written delivered at send time as 003 did; read by message_read',
	updated_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'last status change, UTC',
	PRIMARY KEY (message_id, user_id),
	KEY receipts_unread (user_id, conversation_id, status, message_id),
	CONSTRAINT receipts_message_fk FOREIGN KEY (message_id)
		REFERENCES messages (id) ON DELETE CASCADE,
	CONSTRAINT receipts_user_fk FOREIGN KEY (user_id)
		REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='per-recipient status of private and group messages';

CREATE TABLE IF NOT EXISTS files (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'file id',
	uploader_id	BIGINT UNSIGNED NOT NULL COMMENT 'users.id',
	filename	VARCHAR(255) NOT NULL COMMENT 'name as given; its suffix is the type',
	file_url	VARCHAR(2048) NOT NULL COMMENT 'where the file lives (not stored here)',
	file_size	BIGINT UNSIGNED NOT NULL COMMENT 'bytes, at most 5,242,880',
	public_message_id BIGINT UNSIGNED NULL COMMENT 'a public-room message, or NULL',
	private_chat_id	BIGINT UNSIGNED NULL COMMENT 'a private chat or group, or NULL',
	uploaded_at	DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
			COMMENT 'creation time, UTC',
	PRIMARY KEY (id),
	KEY files_uploader (uploader_id, id),
	KEY files_message (public_message_id, id),
	KEY files_chat (private_chat_id, id),
	CONSTRAINT files_uploader_fk FOREIGN KEY (uploader_id)
		REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT files_message_fk FOREIGN KEY (public_message_id)
		REFERENCES messages (id) ON DELETE CASCADE,
	CONSTRAINT files_chat_fk FOREIGN KEY (private_chat_id)
		REFERENCES conversations (id) ON DELETE CASCADE
	-- Exactly one of public_message_id and private_chat_id is set; the
	-- code checks it (a CHECK may not name cascading columns).
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='002 file metadata attached to a public message or a chat';
