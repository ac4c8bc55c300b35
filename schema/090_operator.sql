-- 090_operator.sql: views and procedures for an operator at the mysql prompt.
--
-- Nothing here is used by the programs; schema/README.md shows how to use
-- each one.  MariaDB views cannot carry a COMMENT, so each view is described
-- by the comment above it; the procedures carry theirs (SHOW CREATE
-- PROCEDURE, or information_schema.ROUTINES).
--
-- Everything is CREATE OR REPLACE, so the file can be loaded again at any
-- time, by fastback-migrate or by `mysql < 090_operator.sql`.  Procedure
-- bodies are single statements without BEGIN ... END, so neither needs a
-- DELIMITER line.  Views and procedures run with the rights of whoever uses
-- them (SQL SECURITY INVOKER), never with those of the migration account.
-- Times are UTC, like every time in the schema.

-- operator_users: every account without its password hash.  Look a user up
-- by email_key = LOWER('someone@example.com') (unique, indexed) or by the
-- exact, case-sensitive username.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW operator_users AS
SELECT	u.id,
	u.email,
	u.email_key,
	u.username,
	u.first_name,
	u.last_name,
	u.age,
	u.phone_number,
	u.avatar_url,
	u.created_at,
	u.updated_at,
	u.password_changed_at
FROM	users u;

-- operator_live_sessions: tokens that are accepted right now (not revoked,
-- not expired), with their owner's e-mail address and username.  jti is
-- the token's id, not the token: it cannot be used to log in.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW operator_live_sessions AS
SELECT	s.user_id,
	u.email,
	u.username,
	s.jti,
	s.created_at,
	s.expires_at,
	s.client_ip,
	s.user_agent
FROM	sessions s
JOIN	users u ON u.id = s.user_id
WHERE	s.revoked_at IS NULL
  AND	s.expires_at > UTC_TIMESTAMP(6);

-- operator_failed_deliveries: deliveries that need a look, with a problem
-- column saying why:
--   failed         the dispatcher gave up (dispatcher.max_attempts tries);
--                  CALL retry_delivery(id) queues it again
--   lease expired  claimed ('sending') by a dispatcher that stopped before
--                  finishing; a running dispatcher takes it over by itself
--   overdue        due for more than 5 minutes and not claimed: is any
--                  dispatcher running?
-- payload is left out on purpose: a mail's payload holds its text, and an
-- OTP mail's text holds the code.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW operator_failed_deliveries AS
SELECT	d.id,
	d.channel,
	d.target,
	d.state,
	CASE d.state
		WHEN 'failed' THEN 'failed'
		WHEN 'sending' THEN 'lease expired'
		ELSE 'overdue'
	END AS problem,
	d.attempts,
	d.last_status,
	d.last_error,
	d.created_at,
	d.updated_at,
	d.next_attempt_at,
	d.locked_by,
	d.locked_until,
	d.finished_at
FROM	deliveries d
WHERE	d.state = 'failed'
   OR	(d.state = 'sending' AND (d.locked_until IS NULL
	    OR d.locked_until < UTC_TIMESTAMP(6)))
   OR	(d.state = 'pending'
	    AND d.next_attempt_at < UTC_TIMESTAMP(6) - INTERVAL 5 MINUTE);

-- revoke_user_sessions: log a user out everywhere at once.
CREATE OR REPLACE PROCEDURE revoke_user_sessions(IN p_user_id BIGINT UNSIGNED)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
	COMMENT 'revoke all live sessions of user p_user_id (reason operator)'
UPDATE	sessions
SET	revoked_at = UTC_TIMESTAMP(6),
	revoked_reason = 'operator'
WHERE	user_id = p_user_id
  AND	revoked_at IS NULL
  AND	expires_at > UTC_TIMESTAMP(6);

-- retry_delivery: give a failed delivery one more try, due now.  attempts
-- is kept, so the attempt history goes on numbering where it stopped.
CREATE OR REPLACE PROCEDURE retry_delivery(IN p_id BIGINT UNSIGNED)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
	COMMENT 'put failed delivery p_id back to pending, due now'
UPDATE	deliveries
SET	state = 'pending',
	next_attempt_at = UTC_TIMESTAMP(6),
	locked_until = NULL,
	locked_by = NULL,
	finished_at = NULL,
	updated_at = UTC_TIMESTAMP(6)
WHERE	id = p_id
  AND	state = 'failed';
