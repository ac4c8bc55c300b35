// 150-delete-everywhere.test.js -- deleting a user across the families
// (README, "Deleting a user"): the wallets and sync data go, the Datasync
// accounts they ran get a new Admin or go with them, and what other users
// own stays as it was.  The conversations family tests its own part.
'use strict';

const { test, api, sql, assert, expectJson, registerAndLogin } = require('./lib');

let seq = 0;

// A Datasync account created by u (u becomes its Admin).
async function account(u) {
	seq += 1;
	return expectJson(await api.post('/api/accounts/', {
		token: u.token, json: { account_name: `Delete test ${Date.now().toString(36)}-${seq}` },
	}), 201);
}

function count(query, params) {
	return sql.count(query, params);
}

test('a deleted user takes their wallets, sync data and lone accounts; shared accounts get a new Admin', async () => {
	const gone = await registerAndLogin();
	const stays = await registerAndLogin();

	expectJson(await api.post('/api/wallets', { token: gone.token, json: { currency: 'EUR', balance: 500 } }), 201);
	expectJson(await api.post('/api/wallets', { token: stays.token, json: { currency: 'EUR', balance: 700 } }), 201);
	expectJson(await api.post('/api/sync/changes', {
		token: gone.token,
		json: { log_id: 1, table_name: 'sources', operation: 'I', data: { id: 1, name: 'cash' }, timestamp: '2026-01-01T00:00:00' },
	}), 200);

	const lone = await account(gone);
	const shared = await account(gone);
	expectJson(await api.post(`/api/accounts/${shared.id}/members/`, {
		token: gone.token, json: { user: stays.id, role: 2 },
	}), 201);
	const theirs = await account(stays);

	expectJson(await api.delete(`/api/users/${gone.id}`, { token: gone.token }), 200);

	for (const table of ['wallets', 'sync_changes', 'sync_rows', 'sync_counters', 'account_members'])
		assert.equal(count(`SELECT COUNT(*) FROM ${table} WHERE user_id = ?`, [gone.id]), 0, table);
	assert.equal(count('SELECT COUNT(*) FROM accounts WHERE id = ?', [lone.id]), 0, 'the lone account went');
	assert.deepEqual(sql('SELECT user_id, role_id FROM account_members WHERE account_id = ?', [shared.id]),
	    [[String(stays.id), '1']], 'the remaining member became Admin');
	const kept = expectJson(await api.get(`/api/accounts/${shared.id}/`, { token: stays.token }), 200);
	assert.equal(kept.id, shared.id);
	assert.equal(kept.created_by, null);

	assert.equal(count('SELECT COUNT(*) FROM wallets WHERE user_id = ?', [stays.id]), 1);
	assert.equal(count('SELECT COUNT(*) FROM accounts WHERE id = ?', [theirs.id]), 1);
});
