// 020-auth-chat.test.js -- seed 002 (real-time chat): POST
// /api/auth/register, /api/auth/login and /api/auth/logout, as its document
// describes them, with 002's error envelope ({"message", "msg", "error"}) and
// the users and sessions rows behind each answer.
'use strict';

const { test, api, sql, assert, expectJson, newUser } = require('./lib');
const {
	userId, userRow, userCount, sessionOf, protectedWith, expectEnvelope,
} = require('./lib/auth-helpers');

function register(json) {
	return api.post('/api/auth/register', { json });
}

// A fresh user registered through 002.
async function chatUser(extra = {}) {
	const u = newUser('c2');
	expectJson(await register({ username: u.username, email: u.email, password: u.password, ...extra }), 201);
	return { ...u, id: userId(u.username, 'username') };
}

async function chatLogin(u) {
	const res = await api.post('/api/auth/login', { json: { username: u.username, password: u.password } });
	return expectJson(res, 200);
}

test('002 register answers 201 "User registered successfully" with the user, and stores it', async () => {
	const u = newUser('c2');
	const avatar = 'http://example.com/avatar.jpg';
	const res = await register({ username: u.username, email: u.email, password: u.password, avatar_url: avatar });
	const body = expectJson(res, 201);
	assert.equal(body.message, 'User registered successfully');
	assert.equal(typeof body.user.id, 'number');
	assert.equal(body.user.username, u.username);
	assert.equal(body.user.email, u.email);
	assert.equal(body.user.avatar_url, avatar);
	assert.equal('password' in body.user || 'password_hash' in body.user, false);
	const row = userRow(body.user.id);
	assert.equal(row.username, u.username);
	assert.equal(row.email, u.email);
	assert.equal(row.avatar_url, avatar);
	assert.match(row.password_hash, /^\$argon2id\$/);
});

test('002 register without avatar_url stores none and answers avatar_url null', async () => {
	const u = newUser('c2');
	const body = expectJson(await register({ username: u.username, email: u.email, password: u.password }), 201);
	assert.equal(body.user.avatar_url, null);
	assert.equal(userRow(body.user.id).avatar_url, null);
});

test('002 register without an e-mail, a username or a password answers 400 "Missing required fields" and adds no row', async () => {
	const u = newUser('c2');
	const before = userCount();
	for (const json of [
		{ username: u.username, password: u.password },
		{ email: u.email, password: u.password },
		{ username: u.username, email: u.email },
		{},
	]) {
		const res = await register(json);
		expectEnvelope(res, 400, '002', 'Missing required fields: username, email and password', 'missing_fields');
	}
	assert.equal(userCount(), before);
});

test('002 register with a taken username answers 400 "Username already exists" and adds no row', async () => {
	const u = await chatUser();
	const other = newUser('c2');
	const res = await register({ username: u.username, email: other.email, password: other.password });
	expectEnvelope(res, 400, '002', 'Username already exists', 'already_exists');
	assert.equal(userId(other.email), undefined);
});

test('002 register with a taken e-mail answers 400 "Email already exists" and adds no row', async () => {
	const u = await chatUser();
	const other = newUser('c2');
	const res = await register({ username: other.username, email: u.email, password: other.password });
	expectEnvelope(res, 400, '002', 'Email already exists', 'already_exists');
	assert.equal(userId(other.username, 'username'), undefined);
});

test('002 register with an avatar_url that is not an http(s) URL answers 400 naming avatar_url', async () => {
	const u = newUser('c2');
	for (const avatar of ['ftp://example.com/a.png', 'javascript:alert(1)', 'http:///nohost', 42]) {
		const res = await register({ username: u.username, email: u.email, password: u.password, avatar_url: avatar });
		const body = expectEnvelope(res, 400, '002', undefined, 'invalid_field', ['fields']);
		assert.ok('avatar_url' in body.fields, JSON.stringify(avatar));
	}
	assert.equal(userId(u.email), undefined);
});

test('002 register with a username holding an "@" answers 400 naming username', async () => {
	const u = newUser('c2');
	const res = await register({ username: 'at@sign', email: u.email, password: u.password });
	const body = expectEnvelope(res, 400, '002', undefined, 'invalid_field', ['fields']);
	assert.ok('username' in body.fields);
	assert.equal(userId(u.email), undefined);
});

test('002 login answers 200 "Login successful" with access_token and the user, and opens a session', async () => {
	const u = await chatUser({ avatar_url: 'https://example.com/me.png' });
	const body = await chatLogin(u);
	assert.equal(body.message, 'Login successful');
	assert.equal(typeof body.access_token, 'string');
	assert.deepEqual(
	    { id: body.user.id, username: body.user.username, email: body.user.email, avatar_url: body.user.avatar_url },
	    { id: u.id, username: u.username, email: u.email, avatar_url: 'https://example.com/me.png' });
	const s = sessionOf(body.access_token);
	assert.equal(s.user_id, u.id);
	assert.equal(s.revoked_at, null);
});

test('002 login with a wrong password answers 401 "Invalid credentials" and opens no session', async () => {
	const u = await chatUser();
	const res = await api.post('/api/auth/login', { json: { username: u.username, password: 'wrong-password' } });
	expectEnvelope(res, 401, '002', 'Invalid credentials', 'invalid_credentials');
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [u.id]), 0);
});

test('002 login with an unknown username answers the same 401 "Invalid credentials"', async () => {
	const u = newUser('c2');
	const res = await api.post('/api/auth/login', { json: { username: u.username, password: u.password } });
	expectEnvelope(res, 401, '002', 'Invalid credentials', 'invalid_credentials');
});

test('002 login without a username or a password answers 400 "Missing required fields: username and password"', async () => {
	for (const json of [{ username: 'someone' }, { password: 'password123' }, {}]) {
		const res = await api.post('/api/auth/login', { json });
		expectEnvelope(res, 400, '002', 'Missing required fields: username and password', 'missing_fields');
	}
});

test('002 login takes the e-mail address in "username" too', async () => {
	const u = await chatUser();
	const res = await api.post('/api/auth/login', { json: { username: u.email, password: u.password } });
	assert.equal(expectJson(res, 200).user.id, u.id);
});

test('002 logout with the token answers 200 "Logout successful" and revokes the session at once', async () => {
	const u = await chatUser();
	const { access_token: token } = await chatLogin(u);
	const res = await api.post('/api/auth/logout', { token });
	assert.deepEqual(expectJson(res, 200), { message: 'Logout successful' });
	const s = sessionOf(token);
	assert.notEqual(s.revoked_at, null);
	assert.equal(s.revoked_reason, 'logout');
	expectEnvelope(await protectedWith(token), 401, '000', 'Token has been revoked!');
});

test('002 logout with a revoked token answers 401 "Token has been revoked"', async () => {
	const u = await chatUser();
	const { access_token: token } = await chatLogin(u);
	expectJson(await api.post('/api/auth/logout', { token }), 200);
	const res = await api.post('/api/auth/logout', { token });
	expectEnvelope(res, 401, '002', 'Token has been revoked', 'token_revoked');
});

test('002 logout without a token answers 401 "Missing Authorization Header"', async () => {
	const res = await api.post('/api/auth/logout');
	expectEnvelope(res, 401, '002', 'Missing Authorization Header', 'missing_token');
});

test('002 logout with a malformed header answers 401 "Bad Authorization header"', async () => {
	const res = await api.post('/api/auth/logout', { headers: { Authorization: 'Basic abc' } });
	expectEnvelope(res, 401, '002', "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'", 'malformed_token');
});

test('002 logout with a garbage token answers 401 "Invalid token"', async () => {
	const res = await api.post('/api/auth/logout', { token: 'garbage' });
	expectEnvelope(res, 401, '002', 'Invalid token', 'invalid_token');
});

test('002 logout revokes only its own session; the user\'s other tokens keep working', async () => {
	const u = await chatUser();
	const a = (await chatLogin(u)).access_token;
	const b = (await chatLogin(u)).access_token;
	expectJson(await api.post('/api/auth/logout', { token: a }), 200);
	assert.equal(sessionOf(b).revoked_at, null);
	assert.equal(expectJson(await protectedWith(b), 200).user_id, u.id);
});

test('/api/auth/login without the slash is 002\'s (401) and with it 004\'s (400), for the same wrong password', async () => {
	const u = await chatUser();
	const bad = { username: u.username, password: 'wrong-password' };
	expectEnvelope(await api.post('/api/auth/login', { json: bad }), 401, '002', 'Invalid credentials');
	expectEnvelope(await api.post('/api/auth/login/', { json: bad }), 400, '004', 'Invalid credentials');
});

test('/api/auth/logout without the slash answers 002\'s message, with it 004\'s', async () => {
	const u = await chatUser();
	const a = (await chatLogin(u)).access_token;
	const b = (await chatLogin(u)).access_token;
	assert.deepEqual(expectJson(await api.post('/api/auth/logout', { token: a }), 200), { message: 'Logout successful' });
	assert.deepEqual(expectJson(await api.post('/api/auth/logout/', { token: b }), 200), { message: 'Logged out successfully' });
});
