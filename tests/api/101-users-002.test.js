// 101-users-002.test.js -- seed 002's /api/users/ routes: the public list
// (newest first, pages, no e-mails without a token), one user, PUT and
// DELETE on one's own account only (the original let anyone edit or delete
// anyone), each in 002's envelope with the database state checked.
'use strict';

const { test, api, sql, assert, expectJson } = require('./lib');
const { loginVia, userRow, expectEnvelope, protectedWith } = require('./lib/auth-helpers');
const { member } = require('./lib/users-family');

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

let a;
let b;

test('two users to work with', async () => {
	a = await member('002');
	b = await member('002');
});

test('GET /api/users/ without a token: newest first, no e-mail addresses', async () => {
	const body = expectJson(await api.get('/api/users/'), 200);
	assert.deepEqual(Object.keys(body), ['users']);
	assert.ok(body.users.length >= 2);
	assert.equal(body.users[0].id, b.id, 'the newest user comes first');
	assert.equal(body.users[1].id, a.id);
	for (const u of body.users) {
		assert.equal(u.email, undefined, 'no e-mail for anonymous callers');
		assert.equal(u.password_hash, undefined);
		assert.match(u.created_at, ISO);
	}
	const ids = body.users.map((u) => u.id);
	assert.deepEqual(ids, [...ids].sort((x, y) => y - x));
	assert.deepEqual(Object.keys(body.users[0]).sort(), ['avatar_url', 'created_at', 'id', 'username']);
});

test('GET /api/users/ with a token shows e-mails; /api/users without the slash is the same list', async () => {
	for (const path of ['/api/users/', '/api/users']) {
		const body = expectJson(await api.get(path, { token: a.token }), 200);
		const mine = body.users.find((u) => u.id === a.id);
		assert.equal(mine.email, a.email);
		assert.deepEqual(Object.keys(mine).sort(), ['avatar_url', 'created_at', 'email', 'id', 'username']);
	}
});

test('GET /api/users/ pages: ?limit= and ?before=<id>', async () => {
	const total = sql.count('SELECT COUNT(*) FROM users');
	const one = expectJson(await api.get('/api/users/?limit=1'), 200);
	assert.equal(one.users.length, 1);
	assert.equal(one.users[0].id, b.id);
	const next = expectJson(await api.get(`/api/users/?limit=1&before=${b.id}`), 200);
	assert.deepEqual(next.users.map((u) => u.id), [a.id]);
	const all = expectJson(await api.get('/api/users/?limit=1000'), 200);
	assert.equal(all.users.length, Math.min(total, 1000));
	assert.deepEqual(expectJson(await api.get('/api/users/?before=1'), 200).users, []);
	for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=-5', 'before=0', 'before=x', 'before=-1',
		'before=99999999999999999999999']) {
		const body = expectEnvelope(await api.get(`/api/users/?${q}`), 400, '002', undefined, 'invalid_field', ['fields']);
		assert.ok(body.fields.limit || body.fields.before, q);
	}
});

test('GET /api/users/ with a token that is not live is a 401, not an anonymous answer', async () => {
	expectEnvelope(await api.get('/api/users/', { token: 'not.a.token' }), 401, '002', 'Invalid token');
});

test('GET /api/users/{id}: the user; the e-mail only with a token; 404 for unknown or malformed ids', async () => {
	let body = expectJson(await api.get(`/api/users/${a.id}`), 200);
	assert.deepEqual(Object.keys(body), ['user']);
	assert.equal(body.user.id, a.id);
	assert.equal(body.user.username, a.username);
	assert.equal(body.user.email, undefined);
	body = expectJson(await api.get(`/api/users/${a.id}`, { token: b.token }), 200);
	assert.equal(body.user.email, a.email);
	assert.match(body.user.created_at, ISO);
	for (const id of ['999999999', '0', '-1', 'abc', '1.5', '1e3', '99999999999999999999999', '%20'])
		expectEnvelope(await api.get(`/api/users/${id}`), 404, '002', 'User not found', 'not_found');
});

test('PUT /api/users/{id}: the caller changes their username, e-mail and avatar; the rest stays', async () => {
	const before = userRow(a.id);
	const username = `${a.username}-put`;
	const email = `Put.${a.email}`;
	const body = expectJson(await api.put(`/api/users/${a.id}`, {
		token: a.token, json: { username, email, avatar_url: 'https://example.com/a.png' },
	}), 200);
	assert.equal(body.message, 'User updated successfully');
	assert.equal(body.user.id, a.id);
	assert.equal(body.user.username, username);
	assert.equal(body.user.email, email);
	const row = userRow(a.id);
	assert.deepEqual([row.username, row.email, row.avatar_url], [username, email, 'https://example.com/a.png']);
	assert.equal(row.password_hash, before.password_hash);
	a.username = username;
	a.email = email;

	// Only the avatar: username and e-mail stay.
	expectJson(await api.put(`/api/users/${a.id}`, { token: a.token, json: { avatar_url: 'https://example.com/b.png' } }), 200);
	const after = userRow(a.id);
	assert.deepEqual([after.username, after.email, after.avatar_url], [username, email, 'https://example.com/b.png']);
	// The new name and e-mail log in.
	await loginVia('002', a);
	await loginVia('000', a);
	// An empty body changes nothing and still answers the user.
	expectJson(await api.put(`/api/users/${a.id}`, { token: a.token, json: {} }), 200);
	assert.deepEqual(userRow(a.id), after);
});

test('PUT /api/users/{id}: taken e-mails (any case) and usernames are 400s, with nothing written', async () => {
	const before = userRow(a.id);
	expectEnvelope(await api.put(`/api/users/${a.id}`, { token: a.token, json: { email: b.email.toUpperCase() } }),
	    400, '002', 'Email already exists', 'already_exists');
	expectEnvelope(await api.put(`/api/users/${a.id}`, { token: a.token, json: { username: b.username } }),
	    400, '002', 'Username already exists', 'already_exists');
	expectEnvelope(await api.put(`/api/users/${a.id}`, {
		token: a.token, json: { username: `${a.username}-x`, email: b.email },
	}), 400, '002', 'Email already exists');
	assert.deepEqual(userRow(a.id), before, 'no partial write');
	// One's own address in another case is no conflict.
	expectJson(await api.put(`/api/users/${a.id}`, { token: a.token, json: { email: a.email.toLowerCase() } }), 200);
	assert.equal(userRow(a.id).email, a.email.toLowerCase());
	a.email = a.email.toLowerCase();
});

test('PUT /api/users/{id}: a password needs current_password (the original code took one without)', async () => {
	const before = userRow(b.id);
	expectEnvelope(await api.put(`/api/users/${b.id}`, { token: b.token, json: { password: 'a new password' } }),
	    403, '002', 'Invalid current password', 'invalid_password');
	expectEnvelope(await api.put(`/api/users/${b.id}`, {
		token: b.token, json: { password: 'a new password', current_password: 'wrong one' },
	}), 403, '002', 'Invalid current password');
	assert.deepEqual(userRow(b.id), before);
	expectJson(await api.put(`/api/users/${b.id}`, {
		token: b.token, json: { password: 'a new password', current_password: b.password },
	}), 200);
	b.password = 'a new password';
	await loginVia('002', b);
});

test('PUT /api/users/{id}: someone else\'s account is a 403, an unknown one a 404, no token a 401', async () => {
	const before = userRow(b.id);
	expectEnvelope(await api.put(`/api/users/${b.id}`, { token: a.token, json: { username: 'stolen' } }),
	    403, '002', 'You can only update your own account', 'forbidden');
	expectEnvelope(await api.put('/api/users/999999999', { token: a.token, json: { username: 'ghost' } }),
	    404, '002', 'User not found');
	expectEnvelope(await api.put(`/api/users/${b.id}`, { json: { username: 'stolen' } }),
	    401, '002', 'Missing Authorization Header');
	assert.deepEqual(userRow(b.id), before);
});

test('DELETE /api/users/{id}: someone else\'s is a 403, no token a 401, an unknown id a 404; nothing is deleted', async () => {
	expectEnvelope(await api.delete(`/api/users/${b.id}`, { token: a.token }), 403, '002',
	    'You can only delete your own account', 'forbidden');
	expectEnvelope(await api.delete(`/api/users/${b.id}`), 401, '002', 'Missing Authorization Header');
	expectEnvelope(await api.delete('/api/users/999999999', { token: a.token }), 404, '002', 'User not found');
	expectEnvelope(await api.delete('/api/users/abc', { token: a.token }), 404, '002', 'User not found');
	assert.ok(userRow(b.id));
});

test('DELETE /api/users/{id}: one\'s own account goes; the token dies; again is a 401', async () => {
	const body = expectJson(await api.delete(`/api/users/${b.id}`, { token: b.token }), 200);
	assert.deepEqual(body, { message: 'User deleted successfully' });
	assert.equal(userRow(b.id), undefined);
	expectEnvelope(await api.get(`/api/users/${b.id}`), 404, '002', 'User not found');
	expectEnvelope(await api.delete(`/api/users/${b.id}`, { token: b.token }), 401, '002', 'Invalid token');
	expectEnvelope(await protectedWith(b.token), 401, '000');
	const list = expectJson(await api.get('/api/users/?limit=1000'), 200);
	assert.equal(list.users.some((u) => u.id === b.id), false);
});

test('deleting a fresh user through 002 is never a 5xx (the original failed with a 500 on users with messages)', async () => {
	const c = await member('002');
	const res = await api.delete(`/api/users/${c.id}`, { token: c.token });
	assert.ok(res.status < 500, `HTTP ${res.status}`);
	expectJson(res, 200);
});
