// 030-auth-datasync.test.js -- seed 004 (Datasync): POST /api/auth/signup/,
// /api/auth/login/ ({"username": <e-mail>} -> {"token"}) and
// /api/auth/logout/ with "Authorization: Token <token>", in Django REST
// framework's shapes, and the rows behind them.  The seed's own test cases
// (signup, duplicate, login, wrong password, logout, {} login, invalid
// e-mail, logout without credentials) are all here.
'use strict';

const { test, api, sql, assert, expectJson, newUser } = require('./lib');
const {
	userId, userRow, userCount, sessionOf, protectedWith, expectEnvelope,
} = require('./lib/auth-helpers');

function signup(json) {
	return api.post('/api/auth/signup/', { json });
}

function login(json) {
	return api.post('/api/auth/login/', { json });
}

// A fresh user signed up through 004.
async function datasyncUser() {
	const u = newUser('d4');
	delete u.username;
	expectJson(await signup({ email: u.email, password: u.password }), 201);
	return { ...u, id: userId(u.email) };
}

async function tokenOf(u) {
	return expectJson(await login({ username: u.email, password: u.password }), 200).token;
}

test('004 signup answers 201 {"message": "User created successfully"} and stores the user by e-mail', async () => {
	const u = newUser('d4');
	const res = await signup({ email: u.email, password: u.password });
	assert.deepEqual(expectJson(res, 201), { message: 'User created successfully' });
	const row = userRow(userId(u.email));
	assert.equal(row.email, u.email);
	assert.equal(row.username, null);
	assert.match(row.password_hash, /^\$argon2id\$/);
});

test('004 signup with an e-mail that exists answers 400 "User with this email already exists", whatever its case', async () => {
	const u = await datasyncUser();
	for (const email of [u.email, u.email.toUpperCase()]) {
		const res = await signup({ email, password: u.password });
		expectEnvelope(res, 400, '004', 'User with this email already exists');
	}
	assert.equal(sql.count('SELECT COUNT(*) FROM users WHERE email_key = LOWER(?)', [u.email]), 1);
});

test('004 signup with an invalid e-mail answers 400 {"email": ["Enter a valid email address."]} and adds no row', async () => {
	const before = userCount();
	for (const email of ['invalid-email', 'a@b', '@example.com', 'two@@example.com', 5]) {
		const res = await signup({ email, password: 'password123' });
		assert.deepEqual(expectJson(res, 400), { email: ['Enter a valid email address.'] }, JSON.stringify(email));
	}
	assert.equal(userCount(), before);
});

test('004 signup without a password answers 400 {"password": ["This field is required."]}', async () => {
	const u = newUser('d4');
	const res = await signup({ email: u.email });
	assert.deepEqual(expectJson(res, 400), { password: ['This field is required.'] });
	assert.equal(userId(u.email), undefined);
});

test('004 signup without an e-mail answers 400 {"email": ["This field is required."]}', async () => {
	const before = userCount();
	const res = await signup({ password: 'password123' });
	assert.deepEqual(expectJson(res, 400), { email: ['This field is required.'] });
	assert.equal(userCount(), before);
});

test('004 signup with a short password answers 400 with a list of reasons under "password"', async () => {
	const u = newUser('d4');
	const res = await signup({ email: u.email, password: 'short' });
	const body = expectJson(res, 400);
	assert.deepEqual(Object.keys(body), ['password']);
	assert.ok(Array.isArray(body.password) && body.password.length === 1);
	assert.match(body.password[0], /at least 8/);
	assert.equal(userId(u.email), undefined);
});

test('004 login with the e-mail in "username" answers 200 with only {"token"}, and opens a session', async () => {
	const u = await datasyncUser();
	const res = await login({ username: u.email, password: u.password });
	const body = expectJson(res, 200);
	assert.deepEqual(Object.keys(body), ['token']);
	const s = sessionOf(body.token);
	assert.equal(s.user_id, u.id);
	assert.equal(s.revoked_at, null);
});

test('004 login with a wrong password answers 400 "Invalid credentials" and opens no session', async () => {
	const u = await datasyncUser();
	const res = await login({ username: u.email, password: 'wrong-password' });
	expectEnvelope(res, 400, '004', 'Invalid credentials');
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [u.id]), 0);
});

test('004 login with an unknown e-mail answers the same 400 "Invalid credentials"', async () => {
	const u = newUser('d4');
	expectEnvelope(await login({ username: u.email, password: u.password }), 400, '004', 'Invalid credentials');
});

test('004 login with {} or a missing password answers 400 "Invalid credentials"', async () => {
	expectEnvelope(await login({}), 400, '004', 'Invalid credentials');
	expectEnvelope(await login({ username: 'someone@example.com' }), 400, '004', 'Invalid credentials');
});

test('004 logout with "Authorization: Token" answers 200 "Logged out successfully" and revokes the session', async () => {
	const u = await datasyncUser();
	const token = await tokenOf(u);
	const res = await api.post('/api/auth/logout/', { token, tokenScheme: 'Token' });
	assert.deepEqual(expectJson(res, 200), { message: 'Logged out successfully' });
	const s = sessionOf(token);
	assert.notEqual(s.revoked_at, null);
	assert.equal(s.revoked_reason, 'logout');
});

test('004 logout with a token already logged out answers 401 "Invalid token."', async () => {
	const u = await datasyncUser();
	const token = await tokenOf(u);
	expectJson(await api.post('/api/auth/logout/', { token, tokenScheme: 'Token' }), 200);
	const res = await api.post('/api/auth/logout/', { token, tokenScheme: 'Token' });
	expectEnvelope(res, 401, '004', 'Invalid token.');
});

test('004 logout without credentials answers 401 "Authentication credentials were not provided."', async () => {
	const res = await api.post('/api/auth/logout/');
	expectEnvelope(res, 401, '004', 'Authentication credentials were not provided.');
});

test('004 logout with a garbage token answers 401 "Invalid token." and a bad header "Invalid token header."', async () => {
	expectEnvelope(await api.post('/api/auth/logout/', { token: 'garbage', tokenScheme: 'Token' }), 401, '004', 'Invalid token.');
	expectEnvelope(await api.post('/api/auth/logout/', { headers: { Authorization: 'Token a b' } }), 401, '004',
	    'Invalid token header.');
});

test('004 logout takes the token as "Bearer" too', async () => {
	const u = await datasyncUser();
	const token = await tokenOf(u);
	expectJson(await api.post('/api/auth/logout/', { token }), 200);
	assert.notEqual(sessionOf(token).revoked_at, null);
});

test('004\'s token works as "Token" on /protected and is refused there once logged out', async () => {
	const u = await datasyncUser();
	const token = await tokenOf(u);
	assert.equal(expectJson(await protectedWith(token, 'Token'), 200).user_id, u.id);
	expectJson(await api.post('/api/auth/logout/', { token, tokenScheme: 'Token' }), 200);
	expectEnvelope(await protectedWith(token, 'Token'), 401, '000', 'Token has been revoked!');
});

test('004 login again gives a new token; logging one out leaves the other live', async () => {
	const u = await datasyncUser();
	const a = await tokenOf(u);
	const b = await tokenOf(u);
	assert.notEqual(a, b);
	expectJson(await api.post('/api/auth/logout/', { token: a, tokenScheme: 'Token' }), 200);
	assert.equal(sessionOf(b).revoked_at, null);
	expectJson(await api.post('/api/auth/logout/', { token: b, tokenScheme: 'Token' }), 200);
});
