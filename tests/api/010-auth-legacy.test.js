// 010-auth-legacy.test.js -- seeds 000 (WalletWize) and 001 (user/wallet
// API): GET /, /register, /login, /protected, DELETE /logout, /add_user and
// /user_tokens, with the bodies and errors each seed's clients read, and
// the users and sessions rows each answer implies.
'use strict';

const {
	test, api, sql, assert, expectJson, newUser,
} = require('./lib');
const {
	jtiOf, userId, userRow, userCount, sessionOf, liveSessions, protectedWith, expectEnvelope,
} = require('./lib/auth-helpers');

// A fresh 000 user (e-mail only), registered through /register.
async function user000() {
	const u = newUser('l0');
	delete u.username;
	const res = await api.post('/register', { json: { email: u.email, password: u.password } });
	expectJson(res, 200);
	return { ...u, id: userId(u.email) };
}

// A fresh 001 user (username only), registered through /register.
async function user001(extra = {}) {
	const u = newUser('l1');
	delete u.email;
	const res = await api.post('/register', { json: { username: u.username, password: u.password, ...extra } });
	expectJson(res, 200);
	return { ...u, id: userId(u.username, 'username') };
}

async function login(body) {
	return expectJson(await api.post('/login', { json: body }), 200);
}

// ------------------------------------------------------------ 000

test('GET / answers 000\'s banner "API is up and running!"', async () => {
	const res = await api.get('/');
	assert.deepEqual(expectJson(res, 200), { message: 'API is up and running!' });
});

test('000 POST /register with an e-mail and a password answers 200 with the message and the e-mail, and stores only an argon2id hash', async () => {
	const u = newUser('l0');
	const res = await api.post('/register', { json: { email: u.email, password: u.password } });
	const body = expectJson(res, 200);
	assert.equal(body.message, 'Account successfully registered!');
	assert.equal(body.email, u.email);
	assert.equal(body.user.email, u.email);
	assert.equal(body.user.username, null);
	assert.equal(typeof body.user.id, 'number');
	assert.match(body.user.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
	assert.equal(JSON.stringify(body).includes(u.password), false, 'the password came back');
	const row = userRow(body.user.id);
	assert.equal(row.email, u.email);
	assert.equal(row.username, null);
	assert.match(row.password_hash, /^\$argon2id\$/);
	assert.equal(row.password_hash.includes(u.password), false);
});

test('000 POST /register with a taken e-mail answers 403 "User already exists." with the e-mail, and adds no row', async () => {
	const u = await user000();
	const before = userCount();
	const res = await api.post('/register', { json: { email: u.email, password: 'another-password' } });
	const body = expectEnvelope(res, 403, '000', 'User already exists.', undefined, ['email']);
	assert.equal(body.email, u.email);
	assert.equal(userCount(), before);
});

test('000 POST /register with an invalid e-mail answers 400 in 000\'s envelope and adds no row', async () => {
	const before = userCount();
	const res = await api.post('/register', { json: { email: 'not-an-email', password: 'password123' } });
	const body = expectEnvelope(res, 400, '000', undefined, undefined, ['fields']);
	assert.equal(typeof body.fields.email, 'string');
	assert.equal(userCount(), before);
});

test('000 POST /register with a password shorter than 8 characters answers 400 naming the password, and adds no row', async () => {
	const u = newUser('l0');
	const res = await api.post('/register', { json: { email: u.email, password: 'short' } });
	const body = expectEnvelope(res, 400, '000', undefined, undefined, ['fields']);
	assert.match(body.fields.password, /at least 8/);
	assert.equal(userId(u.email), undefined);
});

test('000 POST /login answers 200 with access_token and token_type "bearer", and opens a session', async () => {
	const u = await user000();
	const body = await login({ email: u.email, password: u.password });
	assert.equal(typeof body.access_token, 'string');
	assert.equal(body.token_type, 'bearer');
	assert.equal(body.token, body.access_token, '001\'s token is the same token');
	assert.equal(body.user.id, u.id);
	assert.equal(body.user.email, u.email);
	assert.ok(body.expires_in > 0);
	const s = sessionOf(body.access_token);
	assert.equal(s.user_id, u.id);
	assert.equal(s.revoked_at, null);
});

test('000 POST /login matches the e-mail address without regard to case', async () => {
	const u = await user000();
	const body = await login({ email: u.email.toUpperCase(), password: u.password });
	assert.equal(body.user.id, u.id);
	assert.equal(body.user.email, u.email, 'the address comes back as typed at sign-up');
});

test('000 POST /login with a wrong password answers 403 "User credentials mismatch." and opens no session', async () => {
	const u = await user000();
	const res = await api.post('/login', { json: { email: u.email, password: 'wrong-password' } });
	const body = expectEnvelope(res, 403, '000', 'User credentials mismatch.', undefined, ['email']);
	assert.equal(body.email, u.email);
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [u.id]), 0);
});

test('000 POST /login with an unknown e-mail answers the same 403 as a wrong password', async () => {
	const u = newUser('l0');
	const res = await api.post('/login', { json: { email: u.email, password: u.password } });
	const body = expectEnvelope(res, 403, '000', 'User credentials mismatch.', undefined, ['email']);
	assert.equal(body.email, u.email);
});

test('000 GET /protected with the login\'s token answers "Authorized" for a user without a username', async () => {
	const u = await user000();
	const { access_token: token } = await login({ email: u.email, password: u.password });
	const body = expectJson(await protectedWith(token), 200);
	assert.equal(body.message, 'Authorized');
	assert.equal(body.user_id, u.id);
	assert.equal(body.email, u.email);
	assert.equal(body.username, null);
});

test('GET /protected without a token answers 401 "Token is missing!"', async () => {
	const res = await api.get('/protected');
	expectEnvelope(res, 401, '000', 'Token is missing!');
});

test('GET /protected with a header that is not "Bearer <token>" answers 401 "Invalid token format!"', async () => {
	for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'eyJhbGciOiJIUzI1NiJ9.e30.x']) {
		const res = await api.get('/protected', { headers: { Authorization: header } });
		expectEnvelope(res, 401, '000', 'Invalid token format!');
	}
});

test('000 DELETE /logout with the token in "access_token" revokes its session at once', async () => {
	const u = await user000();
	const { access_token: token } = await login({ email: u.email, password: u.password });
	const res = await api.delete('/logout', { json: { access_token: token } });
	assert.deepEqual(expectJson(res, 200), { message: 'User successfully logged out (token revoked)!' });
	const s = sessionOf(token);
	assert.notEqual(s.revoked_at, null);
	assert.equal(s.revoked_reason, 'logout');
	expectEnvelope(await protectedWith(token), 401, '000', 'Token has been revoked!');
});

test('000 DELETE /logout takes the token from the Authorization header when the body has none', async () => {
	const u = await user000();
	const { access_token: token } = await login({ email: u.email, password: u.password });
	const res = await api.delete('/logout', { token, json: {} });
	expectJson(res, 200);
	assert.notEqual(sessionOf(token).revoked_at, null);
});

test('000 DELETE /logout revokes only the named token, not the user\'s other sessions', async () => {
	const u = await user000();
	const a = (await login({ email: u.email, password: u.password })).access_token;
	const b = (await login({ email: u.email, password: u.password })).access_token;
	expectJson(await api.delete('/logout', { json: { access_token: a } }), 200);
	assert.notEqual(sessionOf(a).revoked_at, null);
	assert.equal(sessionOf(b).revoked_at, null);
	expectJson(await protectedWith(b), 200);
});

test('000 DELETE /logout of a token already revoked answers 403 "Token is invalid."', async () => {
	const u = await user000();
	const { access_token: token } = await login({ email: u.email, password: u.password });
	expectJson(await api.delete('/logout', { json: { access_token: token } }), 200);
	const revokedAt = sessionOf(token).revoked_at;
	const res = await api.delete('/logout', { json: { access_token: token } });
	expectEnvelope(res, 403, '000', 'Token is invalid.');
	assert.equal(sessionOf(token).revoked_at, revokedAt, 'the first revocation time stays');
});

test('000 DELETE /logout with a garbage token answers 403 "Token is invalid."', async () => {
	const res = await api.delete('/logout', { json: { access_token: 'not.a.token' } });
	expectEnvelope(res, 403, '000', 'Token is invalid.');
});

test('000 DELETE /logout with no token in the body nor the header answers 400 naming access_token', async () => {
	const res = await api.delete('/logout', { json: {} });
	const body = expectEnvelope(res, 400, '000', undefined, undefined, ['fields']);
	assert.ok('access_token' in body.fields);
});

// ------------------------------------------------------------ 001

test('001 POST /register with a username and a profile answers 200 "Registration successful!" and stores the profile', async () => {
	const u = newUser('l1');
	const res = await api.post('/register', {
		json: {
			username: u.username, password: u.password, first_name: 'Your', last_name: 'Name',
			age: 25, phone_number: '1234567890',
		},
	});
	const body = expectJson(res, 200);
	assert.equal(body.message, 'Registration successful!');
	assert.equal(body.user.username, u.username);
	const row = userRow(body.user.id);
	assert.equal(row.username, u.username);
	assert.equal(row.email, null);
	assert.equal(row.first_name, 'Your');
	assert.equal(row.last_name, 'Name');
	assert.equal(row.age, 25);
	assert.equal(row.phone_number, '1234567890');
	assert.match(row.password_hash, /^\$argon2id\$/);
});

test('001 POST /register takes the age as a string of digits too', async () => {
	const u = await user001({ age: '31' });
	assert.equal(userRow(u.id).age, 31);
});

test('001 POST /register with an age out of range answers 400 in 001\'s envelope and adds no row', async () => {
	const u = newUser('l1');
	for (const age of [151, -1, 'abc', true, 2.5]) {
		const res = await api.post('/register', { json: { username: u.username, password: u.password, age } });
		const body = expectEnvelope(res, 400, '001', undefined, 'invalid_field', ['fields']);
		assert.ok('age' in body.fields, `age ${JSON.stringify(age)}`);
	}
	assert.equal(userId(u.username, 'username'), undefined);
});

test('001 POST /register with a taken username answers 400 "Username already exists!" in 001\'s envelope, and adds no row', async () => {
	const u = await user001();
	const before = userCount();
	const res = await api.post('/register', { json: { username: u.username, password: 'other-password' } });
	expectEnvelope(res, 400, '001', 'Username already exists!', 'already_exists');
	assert.equal(userCount(), before);
});

test('001 POST /register with a username but no password answers 400 "Missing username or password!" in 001\'s envelope', async () => {
	const u = newUser('l1');
	const res = await api.post('/register', { json: { username: u.username } });
	expectEnvelope(res, 400, '001', 'Missing username or password!', 'missing_fields');
	assert.equal(userId(u.username, 'username'), undefined);
});

test('POST /register with neither e-mail nor username answers 400 "Missing username or password!" with 000\'s error field', async () => {
	const before = userCount();
	const res = await api.post('/register', { json: { password: 'password123' } });
	expectEnvelope(res, 400, '000', 'Missing username or password!');
	assert.equal(userCount(), before);
});

test('001 POST /add_user answers 200 "User added successfully!" and stores the user', async () => {
	const u = newUser('l1');
	const res = await api.post('/add_user', {
		json: { username: u.username, password: u.password, first_name: 'New', last_name: 'User', age: 30, phone_number: '0987654321' },
	});
	const body = expectJson(res, 200);
	assert.equal(body.message, 'User added successfully!');
	const row = userRow(userId(u.username, 'username'));
	assert.equal(row.first_name, 'New');
	assert.equal(row.age, 30);
});

test('001 POST /add_user with a taken username answers 400 "Username already exists!"', async () => {
	const u = await user001();
	const res = await api.post('/add_user', { json: { username: u.username, password: u.password } });
	expectEnvelope(res, 400, '001', 'Username already exists!', 'already_exists');
	assert.equal(sql.count('SELECT COUNT(*) FROM users WHERE username = ?', [u.username]), 1);
});

test('001 POST /add_user without a password answers 400 "Missing username or password!"', async () => {
	const u = newUser('l1');
	const res = await api.post('/add_user', { json: { username: u.username } });
	expectEnvelope(res, 400, '001', 'Missing username or password!', 'missing_fields');
	assert.equal(userId(u.username, 'username'), undefined);
});

test('001 POST /login with a username answers 200 with "token" and opens a session', async () => {
	const u = await user001();
	const body = await login({ username: u.username, password: u.password });
	assert.equal(typeof body.token, 'string');
	assert.equal(body.access_token, body.token);
	assert.equal(body.user.username, u.username);
	assert.equal(sessionOf(body.token).user_id, u.id);
});

test('001 POST /login with a wrong password answers 401 "Invalid username/password!" in 001\'s envelope, and opens no session', async () => {
	const u = await user001();
	const res = await api.post('/login', { json: { username: u.username, password: 'wrong-password' } });
	expectEnvelope(res, 401, '001', 'Invalid username/password!', 'invalid_credentials');
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [u.id]), 0);
});

test('001 POST /login with an unknown username or no password answers the same 401', async () => {
	const u = newUser('l1');
	let res = await api.post('/login', { json: { username: u.username, password: u.password } });
	expectEnvelope(res, 401, '001', 'Invalid username/password!', 'invalid_credentials');
	res = await api.post('/login', { json: { username: u.username } });
	expectEnvelope(res, 401, '001', 'Invalid username/password!', 'invalid_credentials');
});

test('001 POST /login takes an e-mail address in "username" for a user who registered by e-mail', async () => {
	const u = await user000();
	const body = await login({ username: u.email, password: u.password });
	assert.equal(body.user.id, u.id);
});

test('001 GET /protected greets a user with a username by name', async () => {
	const u = await user001();
	const { token } = await login({ username: u.username, password: u.password });
	const body = expectJson(await protectedWith(token), 200);
	assert.equal(body.message, `Hello, ${u.username}! This is a protected endpoint.`);
	assert.equal(body.username, u.username);
	assert.equal(body.user_id, u.id);
});

test('001 GET /user_tokens without a token answers 401 "Token is missing!" in 001\'s envelope', async () => {
	const res = await api.get('/user_tokens');
	expectEnvelope(res, 401, '001', 'Token is missing!', 'missing_token');
});

test('001 GET /user_tokens lists the caller\'s live sessions as [name, session id] pairs, never a token nor anyone else\'s', async () => {
	const u = await user001();
	const other = await user001();
	const a = (await login({ username: u.username, password: u.password })).token;
	const b = (await login({ username: u.username, password: u.password })).token;
	const c = (await login({ username: u.username, password: u.password })).token;
	const theirs = (await login({ username: other.username, password: other.password })).token;
	expectJson(await api.delete('/logout', { json: { access_token: c } }), 200);

	const res = await api.get('/user_tokens', { token: a });
	const body = expectJson(res, 200);
	const pairs = body.user_tokens.map(([name, id]) => `${name} ${id}`).sort();
	assert.deepEqual(pairs, [`${u.username} ${jtiOf(a)}`, `${u.username} ${jtiOf(b)}`].sort());
	assert.equal(body.sessions.length, 2);
	for (const s of body.sessions)
		assert.equal(s.current, s.id === jtiOf(a));
	for (const t of [a, b, c, theirs])
		assert.equal(res.text.includes(t), false, 'a raw token is listed');
	assert.equal(res.text.includes(jtiOf(theirs)), false, 'another user\'s session is listed');
	assert.equal(liveSessions(u.id), 2);
});

test('POST /register and /login also answer at their paths with a trailing slash', async () => {
	const u = newUser('l1');
	expectJson(await api.post('/register/', { json: { username: u.username, password: u.password } }), 200);
	expectJson(await api.post('/login/', { json: { username: u.username, password: u.password } }), 200);
});

test('GET /register answers 405 in 000\'s envelope with Allow: POST', async () => {
	const res = await api.get('/register');
	expectEnvelope(res, 405, '000');
	assert.equal(res.headers.get('allow'), 'POST');
});
