// 104-users-delete.test.js -- what deleting a user does, through either
// route (001's /delete_account, 002's DELETE /api/users/{id}): one
// transaction that revokes every session (session_revoked), removes the
// user with their sessions, OTP codes and devices, and writes user_deleted
// to the room user:<id>; other users are untouched; tokens of the deleted
// user, revoked tokens and second tries answer 401, never a 5xx.
'use strict';

const { test, api, sql, assert, expectJson } = require('./lib');
const { loginVia, registerVia, userRow, liveSessions, expectEnvelope } = require('./lib/auth-helpers');
const { member, lastSeq, roomEvents, addDevice, devicesOf } = require('./lib/users-family');

// How many rows of a table name the user.
function rowsOf(table, id) {
	return sql.count(`SELECT COUNT(*) FROM ${table} WHERE user_id = ?`, [id]);
}

const DELETES = [
	['001 POST /delete_account', (u) => api.post('/delete_account', { token: u.token, json: { password: u.password } }),
		'Account deleted successfully!'],
	['002 DELETE /api/users/{id}', (u) => api.delete(`/api/users/${u.id}`, { token: u.token }),
		'User deleted successfully'],
];

for (const [name, remove, message] of DELETES) {
	test(`${name}: sessions, OTP codes and devices go, the events are written, other users stay`, async () => {
		const u = await member('002');
		const tokens = [u.token, await loginVia('001', u), await loginVia('003', u)];
		addDevice(u.id);
		addDevice(u.id);
		expectJson(await api.post('/api/user/forgot-password', { json: { email: u.email } }), 200);
		assert.ok(rowsOf('otp_codes', u.id) > 0, 'an OTP code to delete');
		const other = await member('002');
		const otherDevice = addDevice(other.id);
		const since = lastSeq();

		assert.deepEqual(expectJson(await remove(u), 200), { message });
		assert.equal(userRow(u.id), undefined);
		for (const table of ['sessions', 'otp_codes', 'devices'])
			assert.equal(rowsOf(table, u.id), 0, table);

		const events = roomEvents(u.id, since);
		assert.deepEqual(events.map((e) => e.event), ['session_revoked', 'user_deleted']);
		assert.deepEqual(events[0].payload, { user_id: u.id, all: true, except: null, reason: 'account_deleted' });
		assert.deepEqual(events[1].payload, { user_id: u.id });

		for (const t of tokens)
			expectEnvelope(await api.get('/api/users/me', { token: t }), 401, 'fastback', 'Invalid token');
		assert.ok(userRow(other.id));
		assert.equal(liveSessions(other.id), 1);
		assert.deepEqual(devicesOf(other.id), [otherDevice]);
		assert.deepEqual(roomEvents(other.id, since), []);
	});
}

test('deleting twice, or with a logged-out token, is a 401 through either route, never a 5xx', async () => {
	const u = await member('002');
	const spare = await loginVia('001', u);
	expectJson(await api.post('/api/auth/logout', { token: spare }), 200);
	expectEnvelope(await api.post('/delete_account', { token: spare, json: { password: u.password } }),
	    401, '001', 'Token has been revoked!');
	expectEnvelope(await api.delete(`/api/users/${u.id}`, { token: spare }), 401, '002', 'Token has been revoked');
	assert.ok(userRow(u.id), 'a revoked token deletes nothing');

	expectJson(await api.delete(`/api/users/${u.id}`, { token: u.token }), 200);
	expectEnvelope(await api.delete(`/api/users/${u.id}`, { token: u.token }), 401, '002', 'Invalid token');
	expectEnvelope(await api.post('/delete_account', { token: u.token, json: { password: u.password } }),
	    401, '001', 'Token is invalid!');
});

test('two deletions of one account at once: one 200, the other a 401, no 5xx', async () => {
	const u = await member('002');
	const t2 = await loginVia('002', u);
	const answers = await Promise.all([
		api.delete(`/api/users/${u.id}`, { token: u.token }),
		api.post('/delete_account', { token: t2, json: { password: u.password } }),
	]);
	const statuses = answers.map((r) => r.status).sort();
	assert.deepEqual(statuses, [200, 401], answers.map((r) => r.text).join('\n'));
	assert.equal(userRow(u.id), undefined);
	assert.equal(sql.count('SELECT COUNT(*) FROM events WHERE room = ? AND event = ?', [`user:${u.id}`, 'user_deleted']), 1);
});

test('after a deletion the e-mail address and the username can be registered again, as a new user', async () => {
	const u = await member('002');
	expectJson(await api.delete(`/api/users/${u.id}`, { token: u.token }), 200);
	const again = await registerVia('002', { username: u.username, email: u.email, password: u.password });
	assert.notEqual(again.id, u.id);
	expectEnvelope(await api.get('/api/users/me', { token: u.token }), 401, 'fastback');
});
