/*
 * user_delete.c -- removing a user, across every family, in one transaction.
 *
 * Every table that names a user has a foreign key to users.id with ON
 * DELETE CASCADE or SET NULL, so the final DELETE always succeeds.  What a
 * cascade cannot decide (who runs a group or an account once its last
 * admin is gone) is settled first, by the owning family's step below.
 * MariaDB fires no triggers for cascaded rows, which is why these steps are
 * code and not triggers.  README ("Deleting a user") says what happens to
 * each kind of data.
 */
#include "db.h"
#include "user.h"

/*
 * Conversations family: groups whose last admin is this user get their
 * longest-standing other member as admin, and conversations this user is
 * the last member of are deleted, before the memberships, messages,
 * receipts and files cascade away.  Private chats with someone else stay
 * for that member.  Returns a DB status.
 */
static enum db_status
delete_conversations(long long id)
{
	struct db_result	*r;
	enum db_status		 rc;
	size_t			 i;

	if ((rc = db_query(&r, "SELECT me.conversation_id FROM "
	    "conversation_members me JOIN conversations c ON "
	    "c.id = me.conversation_id WHERE me.user_id = ? AND "
	    "me.role = 'admin' AND c.kind = 'group' AND NOT EXISTS (SELECT 1 "
	    "FROM conversation_members o WHERE o.conversation_id = "
	    "me.conversation_id AND o.user_id <> ? AND o.role = 'admin') "
	    "FOR UPDATE", "ii", id, id)) != DB_OK)
		return rc;
	for (i = 0; i < db_rows(r) && rc == DB_OK; i++)
		rc = db_exec("UPDATE conversation_members SET role = 'admin' "
		    "WHERE conversation_id = ? AND user_id <> ? "
		    "ORDER BY joined_at, user_id LIMIT 1", "ii",
		    db_get_int(r, i, 0), id);
	db_result_free(r);
	if (rc != DB_OK)
		return rc;
	if ((rc = db_query(&r, "SELECT me.conversation_id FROM "
	    "conversation_members me WHERE me.user_id = ? AND NOT EXISTS "
	    "(SELECT 1 FROM conversation_members o WHERE o.conversation_id = "
	    "me.conversation_id AND o.user_id <> ?)", "ii", id, id)) != DB_OK)
		return rc;
	for (i = 0; i < db_rows(r) && rc == DB_OK; i++)
		rc = db_exec("DELETE FROM conversations WHERE id = ? AND "
		    "kind <> 'public'", "i", db_get_int(r, i, 0));
	db_result_free(r);
	if (rc != DB_OK)
		return rc;
	/*
	 * The user's messages are about to cascade away: the other members'
	 * unread counters and each conversation's last message must not
	 * count them.
	 */
	if ((rc = db_exec("UPDATE conversation_members m JOIN (SELECT "
	    "r.user_id, r.conversation_id, COUNT(*) AS n FROM receipts r "
	    "JOIN messages x ON x.id = r.message_id JOIN conversation_members "
	    "o ON o.conversation_id = r.conversation_id AND o.user_id = "
	    "r.user_id WHERE x.sender_id = ? AND r.status <> 'read' AND "
	    "r.message_id > o.cleared_before GROUP BY r.user_id, "
	    "r.conversation_id) g ON g.user_id = m.user_id AND "
	    "g.conversation_id = m.conversation_id SET m.unread = "
	    "IF(m.unread > g.n, m.unread - g.n, 0)", "i", id)) != DB_OK)
		return rc;
	return db_exec("UPDATE conversations c JOIN conversation_members me "
	    "ON me.conversation_id = c.id AND me.user_id = ? SET "
	    "c.last_message_id = (SELECT m.id FROM messages m WHERE "
	    "m.conversation_id = c.id AND m.sender_id <> ? AND "
	    "m.deleted_at IS NULL ORDER BY m.id DESC LIMIT 1)", "ii", id, id);
}

/*
 * Destinations family: accounts whose last Admin is this user get a new
 * Admin (the longest-standing other member), and accounts with no other
 * member go, their pending deliveries cancelled first.  The memberships
 * and created_by/updated_by then follow the foreign keys.  Returns a DB
 * status.
 */
static enum db_status
delete_accounts(long long id)
{
	struct db_result	*r;
	enum db_status		 st;
	size_t			 i;

	/* Accounts where this user is the only Admin, locked. */
	if ((st = db_query(&r, "SELECT m.account_id, (SELECT o.id FROM "
	    "account_members o WHERE o.account_id = m.account_id AND "
	    "o.user_id <> m.user_id ORDER BY o.created_at, o.id LIMIT 1) "
	    "FROM account_members m WHERE m.user_id = ? AND m.role_id = 1 "
	    "AND NOT EXISTS (SELECT 1 FROM account_members a WHERE "
	    "a.account_id = m.account_id AND a.role_id = 1 AND "
	    "a.user_id <> m.user_id) FOR UPDATE", "i", id)) != DB_OK)
		return st;
	for (i = 0; i < db_rows(r) && st == DB_OK; i++) {
		if (db_get(r, i, 1) != NULL) {
			st = db_exec("UPDATE account_members SET role_id = 1 "
			    "WHERE id = ?", "i", db_get_int(r, i, 1));
			continue;
		}
		st = db_exec("UPDATE deliveries d JOIN webhook_deliveries w "
		    "ON w.delivery_id = d.id SET d.state = 'cancelled', "
		    "d.finished_at = UTC_TIMESTAMP(6), "
		    "d.last_error = 'account or destination deleted' "
		    "WHERE w.account_id = ? AND d.state = 'pending'", "s",
		    db_get(r, i, 0));
		if (st == DB_OK)
			st = db_exec("DELETE FROM accounts WHERE id = ?", "s",
			    db_get(r, i, 0));
	}
	db_result_free(r);
	return st;
}

enum db_status
user_delete(long long id)
{
	enum db_status rc;

	if ((rc = delete_conversations(id)) != DB_OK)
		return rc;
	if ((rc = delete_accounts(id)) != DB_OK)
		return rc;
	return db_exec("DELETE FROM users WHERE id = ?", "i", id);
}
