// 103-users-me.test.js -- fastback's own account routes: GET and PATCH
// /api/users/me, the caller's sessions (list, end one, log out everywhere),
// in fastback's envelope, with ownership (another user's session is never
// seen nor ended) and the session_revoked events.
'use strict';

const { test, api, sql, assert, expectJson } = require('./lib');
const {
	jtiOf, loginVia, userRow, sessionOf, liveSessions, expectEnvelope,
} = require('./lib/auth-helpers');
const { member, lastSeq, roomEvents } = require('./lib/users-family');

test('GET /api/users/me: the whole account, no hash; 401 without a token', async () => {
	const u = await member('002');
	const body = expectJson(await api.get('/api/users/me', { token: u.token }), 200);
	assert.deepEqual(Object.keys(body), ['user']);
	assert.equal(body.user.id, u.id);
	assert.equal(body.user.email, u.email);
	assert.equal(body.user.username, u.username);
	for (const k of ['first_name', 'last_name', 'age', 'phone_number', 'profile_image', 'avatar_url', 'created_at'])
		assert.ok(k in body.user, k);
	assert.equal(body.user.password_hash, undefined);
	expectEnvelope(await api.get('/api/users/me'), 401, 'fastback', undefined, 'missing_token');
	expectEnvelope(await api.get('/api/users/me', { token: 'x.y.z' }), 401, 'fastback', undefined, 'invalid_token');
	// The trailing slash is ignored.
	expectJson(await api.get('/api/users/me/', { token: u.token }), 200);
});

test('PATCH /api/users/me: profile fields without a password; fields not sent stay; a user_updated event', async () => {
	const u = await member('002');
	const since = lastSeq();
	const body = expectJson(await api.patch('/api/users/me', {
		token: u.token, json: { first_name: 'Ada', last_name: 'Lovelace', age: 36, phone_number: '+44 20 7946 0000' },
	}), 200);
	assert.equal(body.user.first_name, 'Ada');
	assert.equal(body.user.age, 36);
	expectJson(await api.patch('/api/users/me', { token: u.token, json: { username: `${u.username}-m` } }), 200);
	const row = userRow(u.id);
	assert.deepEqual([row.first_name, row.last_name, row.age, row.phone_number, row.username, row.email],
	    ['Ada', 'Lovelace', 36, '+44 20 7946 0000', `${u.username}-m`, u.email]);
	const events = roomEvents(u.id, since).filter((e) => e.event === 'user_updated');
	assert.equal(events.length, 2);
	assert.equal(events[1].payload.username, `${u.username}-m`);
	assert.equal(events[1].payload.first_name, 'Ada');
});

test('PATCH /api/users/me: a new e-mail needs current_password; taken ones are a 409 without a write', async () => {
	const u = await member('002');
	const other = await member('002');
	const before = userRow(u.id);
	expectEnvelope(await api.patch('/api/users/me', { token: u.token, json: { email: `n.${u.email}` } }),
	    403, 'fastback', undefined, 'invalid_password');
	expectEnvelope(await api.patch('/api/users/me', {
		token: u.token, json: { email: other.email.toUpperCase(), current_password: u.password },
	}), 409, 'fastback', undefined, 'already_exists');
	expectEnvelope(await api.patch('/api/users/me', {
		token: u.token, json: { username: other.username, first_name: 'Partial' },
	}), 409, 'fastback', undefined, 'already_exists');
	assert.deepEqual(userRow(u.id), before, 'no partial write');
	// The same address in another case needs no password.
	expectJson(await api.patch('/api/users/me', { token: u.token, json: { email: u.email.toUpperCase() } }), 200);
	expectJson(await api.patch('/api/users/me', {
		token: u.token, json: { email: `n.${u.email}`, current_password: u.password },
	}), 200);
	assert.equal(userRow(u.id).email, `n.${u.email}`);
	await loginVia('000', { ...u, email: `n.${u.email}` });
});

test('PATCH /api/users/me: a new password needs current_password; the other sessions end, this one stays', async () => {
	const u = await member('002');
	const other = await loginVia('003', u);
	const before = userRow(u.id);
	expectEnvelope(await api.patch('/api/users/me', { token: u.token, json: { password: 'brand new password' } }),
	    403, 'fastback', undefined, 'invalid_password');
	expectEnvelope(await api.patch('/api/users/me', { token: u.token, json: { password: 'short', current_password: u.password } }),
	    400, 'fastback', undefined, 'invalid_field', ['fields']);
	assert.deepEqual(userRow(u.id), before);
	expectJson(await api.patch('/api/users/me', {
		token: u.token, json: { password: 'brand new password', current_password: u.password },
	}), 200);
	expectJson(await api.get('/api/users/me', { token: u.token }), 200);
	expectEnvelope(await api.get('/api/users/me', { token: other }), 401, 'fastback', 'Token has been revoked');
	await loginVia('002', { ...u, password: 'brand new password' });
});

test('GET /api/users/me/sessions: the caller\'s live sessions only, the current one marked', async () => {
	const u = await member('002');
	const t2 = await loginVia('001', u);
	const t3 = await loginVia('004', u);
	const stranger = await member('002');
	expectJson(await api.post('/api/auth/logout', { token: t3 }), 200);
	const body = expectJson(await api.get('/api/users/me/sessions', { token: u.token }), 200);
	const ids = body.sessions.map((s) => s.id).sort();
	assert.deepEqual(ids, [jtiOf(u.token), jtiOf(t2)].sort());
	assert.equal(body.sessions.find((s) => s.current).id, jtiOf(u.token));
	assert.equal(body.sessions.filter((s) => s.current).length, 1);
	assert.equal(body.sessions.some((s) => s.id === jtiOf(stranger.token)), false);
	for (const s of body.sessions) {
		assert.match(s.created_at, /Z$/);
		assert.match(s.expires_at, /Z$/);
		assert.ok('client_ip' in s && 'user_agent' in s);
	}
	assert.equal(expectJson(await api.get('/api/users/me/sessions?limit=1', { token: u.token }), 200).sessions.length, 1);
	expectEnvelope(await api.get('/api/users/me/sessions?limit=0', { token: u.token }), 400, 'fastback', undefined,
	    'invalid_field', ['fields']);
	expectEnvelope(await api.get('/api/users/me/sessions'), 401, 'fastback');
});

test('DELETE /api/users/me/sessions/{jti}: ends one of the caller\'s sessions; anyone else\'s is a 404, left live', async () => {
	const u = await member('002');
	const t2 = await loginVia('002', u);
	const stranger = await member('002');
	const since = lastSeq();

	expectEnvelope(await api.delete(`/api/users/me/sessions/${jtiOf(stranger.token)}`, { token: u.token }),
	    404, 'fastback', 'No such session', 'not_found');
	assert.equal(sessionOf(stranger.token).revoked_at, null);
	for (const bad of ['abc', '0'.repeat(33), 'G'.repeat(32), `${jtiOf(t2).toUpperCase()}`])
		expectEnvelope(await api.delete(`/api/users/me/sessions/${bad}`, { token: u.token }), 404, 'fastback');

	const body = expectJson(await api.delete(`/api/users/me/sessions/${jtiOf(t2)}`, { token: u.token }), 200);
	assert.deepEqual(body, { message: 'Session revoked', revoked: 1 });
	assert.equal(sessionOf(t2).revoked_reason, 'logout');
	expectEnvelope(await api.get('/api/users/me', { token: t2 }), 401, 'fastback', 'Token has been revoked');
	expectEnvelope(await api.delete(`/api/users/me/sessions/${jtiOf(t2)}`, { token: u.token }), 404, 'fastback');
	assert.deepEqual(roomEvents(u.id, since).map((e) => e.payload),
	    [{ user_id: u.id, jti: jtiOf(t2), reason: 'logout' }]);
	assert.deepEqual(roomEvents(stranger.id, since), []);

	// Ending the current session is a logout.
	expectJson(await api.delete(`/api/users/me/sessions/${jtiOf(u.token)}`, { token: u.token }), 200);
	expectEnvelope(await api.get('/api/users/me', { token: u.token }), 401, 'fastback');
});

test('DELETE /api/users/me/sessions: logs out everywhere else; the current session stays', async () => {
	const u = await member('002');
	const others = [await loginVia('000', u), await loginVia('003', u), await loginVia('004', u)];
	const stranger = await member('002');
	const since = lastSeq();
	const body = expectJson(await api.delete('/api/users/me/sessions', { token: u.token }), 200);
	assert.deepEqual(body, { message: 'Logged out everywhere else', revoked: 3 });
	expectJson(await api.get('/api/users/me', { token: u.token }), 200);
	for (const t of others)
		assert.equal(sessionOf(t).revoked_reason, 'logout_all');
	assert.equal(liveSessions(u.id), 1);
	assert.equal(liveSessions(stranger.id), 1);
	assert.deepEqual(roomEvents(u.id, since).map((e) => [e.event, e.payload]), [['session_revoked',
		{ user_id: u.id, all: true, except: jtiOf(u.token), reason: 'logout_all' }]]);
	// Nothing left to end: 0, and no event.
	assert.equal(expectJson(await api.delete('/api/users/me/sessions', { token: u.token }), 200).revoked, 0);
	assert.equal(roomEvents(u.id, since).length, 1);
});

test('DELETE /api/users/me/sessions?current=true ends the current session too; other values are a 400', async () => {
	const u = await member('002');
	await loginVia('001', u);
	expectEnvelope(await api.delete('/api/users/me/sessions?current=maybe', { token: u.token }), 400, 'fastback',
	    undefined, 'invalid_field', ['fields']);
	assert.equal(liveSessions(u.id), 2);
	const body = expectJson(await api.delete('/api/users/me/sessions?current=true', { token: u.token }), 200);
	assert.deepEqual(body, { message: 'Logged out everywhere', revoked: 2 });
	assert.equal(liveSessions(u.id), 0);
	expectEnvelope(await api.get('/api/users/me', { token: u.token }), 401, 'fastback');
	expectEnvelope(await api.delete('/api/users/me/sessions'), 401, 'fastback');
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_reason = ?', [u.id, 'logout_all']), 2);
});
