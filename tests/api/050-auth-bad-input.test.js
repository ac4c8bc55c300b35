// 050-auth-bad-input.test.js -- what the auth routes do with input they
// must refuse or must not be fooled by: malformed JSON, bodies that are not
// objects, wrong types, missing fields, oversized bodies, SQL-looking and
// unicode strings, duplicate sign-ups in every seed, wrong passwords, forged
// and revoked tokens, and OTP brute force and reuse.  Each refusal is
// checked in the route's own envelope, and against the database: nothing
// written, nothing revoked, no mail queued.
'use strict';

const crypto = require('node:crypto');
const {
	test, api, sql, assert, expectJson, expectError, newUser, readMail, otpFrom,
} = require('./lib');
const {
	jtiOf, signJwt, resign, decodeJwt, LOGIN, SEEDS, registerVia, loginVia,
	userId, userRow, userCount, sessionOf, liveSessions, expectEnvelope,
} = require('./lib/auth-helpers');

function post(path, json) {
	return api.post(path, { json });
}

function raw(path, body, method = 'POST') {
	return api(method, path, { body, headers: { 'Content-Type': 'application/json' } });
}

// The sign-up route of each seed, and what it says when fields are missing.
const SIGNUP = [
	{ seed: '000', path: '/register' },
	{ seed: '001', path: '/add_user' },
	{ seed: '002', path: '/api/auth/register' },
	{ seed: '003', path: '/api/user/signup' },
	{ seed: '004', path: '/api/auth/signup/' },
];

// The body is an error of the seed's envelope for a malformed body.
function expectBadBody(res, seed, what) {
	const body = expectJson(res, 400);
	if (seed === '004') {
		assert.deepEqual(Object.keys(body).sort(), ['detail', 'error'], what);
		return;
	}
	const fields = { '000': ['error', 'message'], '001': ['error', 'message'], '002': ['error', 'message', 'msg'],
		'003': ['error', 'message', 'status_code'] }[seed];
	assert.deepEqual(Object.keys(body).sort(), fields, what);
	if (seed === '000')
		assert.equal(body.error, body.message, what);
	else
		assert.equal(body.error, 'invalid_json', what);
	if (seed === '003')
		assert.equal(body.status_code, 400);
}

// A field error: 400 in the seed's envelope naming field (004: {field: [..]}).
function expectFieldError(res, seed, field, what = '') {
	const body = expectJson(res, 400);
	if (seed === '004') {
		assert.ok(Array.isArray(body[field]) && body[field].length > 0, `${what}: ${res.text}`);
		return body;
	}
	assert.equal(typeof body.fields, 'object', `${what}: ${res.text}`);
	assert.ok(field in body.fields, `${what}: ${field} not named in ${res.text}`);
	if (seed !== '000')
		assert.equal(body.error, 'invalid_field', what);
	if (seed === '003')
		assert.equal(body.message, 'Invalid request parameters.');
	return body;
}

// ------------------------------------------------------------ bodies

const MALFORMED = [
	['a body that ends too early', '{"email": '],
	['single-quoted keys', "{'email': 'a@example.com', 'password': 'password123'}"],
	['bytes after the object', '{"email": "a@example.com"} trailing'],
	['two objects', '{}{}'],
	['a JSON array', '[{"email": "a@example.com"}]'],
	['a JSON string', '"email"'],
	['a JSON number', '42'],
	['JSON null', 'null'],
	['invalid UTF-8', Buffer.from('{"email": "\xff\xfe@example.com", "password": "password123"}', 'latin1')],
	['nesting 40 deep', '{"a":'.repeat(40) + '1' + '}'.repeat(40)],
];

for (const { seed, path } of SIGNUP) {
	test(`${seed} POST ${path} answers malformed JSON and bodies that are not objects with 400 in its envelope, and writes nothing`, async () => {
		const before = userCount();
		for (const [what, body] of MALFORMED)
			expectBadBody(await raw(path, body), seed, what);
		assert.equal(userCount(), before);
	});
}

test('the login, logout and OTP routes answer malformed JSON with 400 in their envelopes, and queue nothing', async () => {
	const queued = sql.count('SELECT COUNT(*) FROM deliveries');
	const sessions = sql.count('SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL');
	for (const [path, seed, method] of [
		['/login', '000'], ['/api/auth/login', '002'], ['/api/user/signin', '003'], ['/api/auth/login/', '004'],
		['/api/user/forgot-password', '003'], ['/api/user/otp_validate', '003'], ['/api/user/reset-password', '003'],
		['/logout', '000', 'DELETE'],
	]) {
		for (const [what, body] of MALFORMED.slice(0, 5))
			expectBadBody(await raw(path, body, method), seed, `${path}: ${what}`);
	}
	assert.equal(sql.count('SELECT COUNT(*) FROM deliveries'), queued);
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL'), sessions);
});

test('a 2 MB body answers 413 in fastback\'s JSON envelope (from nginx) on every sign-up and login route, and writes nothing', async () => {
	const before = userCount();
	const big = Buffer.alloc(2 * 1024 * 1024, 'a');
	for (const path of ['/register', '/add_user', '/api/auth/register', '/api/user/signup', '/api/auth/signup/',
		'/login', '/api/auth/login/', '/api/user/forgot-password']) {
		const res = await raw(path, big);
		expectError(res, 413, 'payload_too_large');
	}
	assert.equal(userCount(), before);
});

test('a 900 kB body with an unknown field is read whole and the field ignored', async () => {
	const u = newUser('b5');
	const res = await post('/api/auth/signup/', { email: u.email, password: u.password, padding: 'x'.repeat(900 * 1024) });
	expectJson(res, 201);
	assert.equal(userRow(userId(u.email)).email, u.email);
});

// ------------------------------------------------------------ fields

test('wrong types answer 400 naming the field, in each seed\'s envelope, and add no row', async () => {
	const before = userCount();
	const u = newUser('b5');
	const cases = [
		['000', '/register', { email: 5, password: u.password }, 'email'],
		['000', '/register', { email: [u.email], password: u.password }, 'email'],
		['000', '/register', { email: u.email, password: 12345678 }, 'password'],
		['000', '/register', { email: { a: 1 }, password: u.password }, 'email'],
		['001', '/register', { username: { a: 1 }, password: u.password }, 'username'],
		['001', '/register', { username: u.username, password: true }, 'password'],
		['001', '/add_user', { username: u.username, password: u.password, first_name: 7 }, 'first_name'],
		['001', '/add_user', { username: u.username, password: u.password, phone_number: 1234567 }, 'phone_number'],
		['001', '/add_user', { username: u.username, password: u.password, phone_number: 'call me' }, 'phone_number'],
		['002', '/api/auth/register', { username: u.username, email: u.email, password: ['a'] }, 'password'],
		['002', '/api/auth/register', { username: 5, email: u.email, password: u.password }, 'username'],
		['003', '/api/user/signup', { email: u.email, password: 5 }, 'password'],
		['003', '/api/user/signup', { email: 'nobody', password: u.password }, 'email'],
		['004', '/api/auth/signup/', { email: u.email, password: 5 }, 'password'],
		['001', '/login', { username: u.username, password: 5 }, 'password'],
		['002', '/api/auth/login', { username: ['x'], password: u.password }, 'username'],
		['003', '/api/user/forgot-password', { email: 42 }, 'email'],
		['003', '/api/user/otp_validate', { email: u.email, otp: 12.5 }, 'otp'],
		['003', '/api/user/otp_validate', { email: u.email, otp: ['123456'] }, 'otp'],
		['003', '/api/user/reset-password', { email: u.email, password: 5, otp: '123456' }, 'password'],
	];
	for (const [seed, path, json, field] of cases)
		expectFieldError(await post(path, json), seed, field, `${path} ${JSON.stringify(json).slice(0, 80)}`);
	assert.equal(userCount(), before);
});

test('strings over their limits, with control characters or a NUL answer 400 naming the field', async () => {
	const u = newUser('b5');
	const cases = [
		['001', '/register', { username: 'u'.repeat(151), password: u.password }, 'username'],
		['001', '/register', { username: u.username, password: u.password, first_name: 'f'.repeat(151) }, 'first_name'],
		['001', '/register', { username: u.username, password: u.password, last_name: 'bell\u0007' }, 'last_name'],
		['001', '/register', { username: 'nul\u0000byte', password: u.password }, 'username'],
		['000', '/register', { email: `${'a'.repeat(250)}@example.com`, password: u.password }, 'email'],
		['000', '/register', { email: u.email, password: 'p'.repeat(1025) }, 'password'],
		['002', '/api/auth/register', { username: u.username, email: u.email, password: u.password,
			avatar_url: `https://example.com/${'a'.repeat(2048)}` }, 'avatar_url'],
		['002', '/api/auth/register', { username: ' padded', email: u.email, password: u.password }, 'username'],
	];
	for (const [seed, path, json, field] of cases)
		expectFieldError(await post(path, json), seed, field, `${path} ${field}`);
	assert.equal(userId(u.username, 'username'), undefined);
	assert.equal(userId(u.email), undefined);
});

test('every seed\'s sign-up refuses a body without its required fields, in its own words, and adds no row', async () => {
	const before = userCount();
	const u = newUser('b5');
	expectEnvelope(await post('/register', {}), 400, '000', 'Missing username or password!');
	expectEnvelope(await post('/register', { email: u.email }), 400, '000', 'Missing username or password!');
	expectEnvelope(await post('/add_user', { password: u.password }), 400, '001', 'Missing username or password!', 'missing_fields');
	expectEnvelope(await post('/api/auth/register', { email: u.email, password: u.password }), 400, '002',
	    'Missing required fields: username, email and password', 'missing_fields');
	expectEnvelope(await post('/api/user/signup', { password: u.password }), 400, '003',
	    'Invalid request parameters.', 'missing_fields');
	assert.deepEqual(expectJson(await post('/api/auth/signup/', {}), 400), { email: ['This field is required.'] });
	// null and "" count as absent.
	expectEnvelope(await post('/register', { email: null, password: u.password }), 400, '000', 'Missing username or password!');
	expectEnvelope(await post('/api/user/signup', { email: '', password: u.password }), 400, '003',
	    'Invalid request parameters.', 'missing_fields');
	assert.equal(userCount(), before);
});

test('a short password is refused by every sign-up, and no row is added', async () => {
	const before = userCount();
	for (const { seed, path } of SIGNUP) {
		const u = newUser('b5');
		const json = { email: u.email, password: 'seven77' };
		if (seed === '001' || seed === '002')
			json.username = u.username;
		expectFieldError(await post(path, json), seed, 'password', path);
	}
	assert.equal(userCount(), before);
});

// ------------------------------------------------------------ strings

test('SQL-looking strings are stored verbatim and harm nothing', async () => {
	const tag = crypto.randomBytes(4).toString('hex');
	const username = `x'); DROP TABLE users; -- ${tag}`;
	const first = 'Robert\'); DROP TABLE students;--';
	const last = '" OR "1"="1\\';
	const password = `' OR '1'='1 ${tag}`;
	const res = await post('/register', { username, password, first_name: first, last_name: last });
	assert.equal(expectJson(res, 200).user.username, username);
	const row = userRow(userId(username, 'username'));
	assert.equal(row.username, username);
	assert.equal(row.first_name, first);
	assert.equal(row.last_name, last);
	const login = expectJson(await post('/login', { username, password }), 200);
	assert.equal(login.user.username, username);
	// The same kind of string as a password of someone else does nothing.
	expectEnvelope(await post('/login', { username: `' OR '1'='1' -- ${tag}`, password }), 401, '001');
	expectEnvelope(await post('/login', { username, password: "' OR '1'='1" }), 401, '001');
	const email = `o'brien.${tag}@example.com`;
	expectJson(await post('/register', { email, password }), 200);
	assert.equal(userRow(userId(email)).email, email);
	assert.ok(userCount() >= 2, 'the users table is still there');
});

test('unicode usernames and e-mail addresses are stored as sent and match without regard to case', async () => {
	const tag = crypto.randomBytes(4).toString('hex');
	const username = `Zoë_Ünïcødé_名前_😀_${tag}`;
	const email = `zoë.ünïcødé.${tag}@exämple.com`;
	const password = `pässwörd-🔑-${tag}`;
	const res = await post('/api/auth/register', { username, email, password });
	const body = expectJson(res, 201);
	assert.equal(body.user.username, username);
	assert.equal(body.user.email, email);
	// Compared as bytes: the mariadb client of tests/lib/sql.js talks
	// utf8mb3, which turns four-byte characters into "?" on the way out.
	const stored = sql('SELECT HEX(username), HEX(email) FROM users WHERE id = ?', [body.user.id])[0];
	assert.equal(Buffer.from(stored[0], 'hex').toString('utf8'), username);
	assert.equal(Buffer.from(stored[1], 'hex').toString('utf8'), email);
	assert.equal(expectJson(await post('/api/auth/login', { username, password }), 200).user.id, body.user.id);
	const upper = expectJson(await post('/login', { email: email.toUpperCase(), password }), 200);
	assert.equal(upper.user.id, body.user.id);
	assert.equal(upper.user.email, email, 'returned as typed at sign-up');
	expectEnvelope(await post('/register', { email: email.toUpperCase(), password }), 403, '000', 'User already exists.', undefined, ['email']);
});

test('limits count characters, not bytes: 150 two-byte letters make a username, 151 do not', async () => {
	const tag = crypto.randomBytes(3).toString('hex');
	const ok = `${tag}${'é'.repeat(150 - tag.length)}`;
	expectJson(await post('/register', { username: ok, password: 'password123' }), 200);
	assert.equal(userRow(userId(ok, 'username')).username, ok);
	const tooLong = `${tag}${'é'.repeat(151 - tag.length)}`;
	expectFieldError(await post('/register', { username: tooLong, password: 'password123' }), '001', 'username');
	assert.equal(userId(tooLong, 'username'), undefined);
});

// ------------------------------------------------------------ duplicates

test('a taken e-mail address is refused by every seed\'s sign-up in any case, and no second row appears', async () => {
	const base = newUser('b5');
	base.email = `Mixed.Case.${crypto.randomBytes(4).toString('hex')}@Example.COM`;
	const user = await registerVia('002', base);
	const lower = user.email.toLowerCase();
	const upper = user.email.toUpperCase();
	const fresh = () => newUser('b5');
	const before = userCount();

	expectEnvelope(await post('/register', { email: upper, password: 'password123' }), 403, '000', 'User already exists.',
	    undefined, ['email']);
	expectEnvelope(await post('/register', { username: fresh().username, email: lower, password: 'password123' }), 400,
	    '001', 'Email already exists!', 'already_exists');
	expectEnvelope(await post('/add_user', { username: fresh().username, email: upper, password: 'password123' }), 400,
	    '001', 'Email already exists!', 'already_exists');
	expectEnvelope(await post('/api/auth/register', { username: fresh().username, email: lower, password: 'password123' }),
	    400, '002', 'Email already exists', 'already_exists');
	expectEnvelope(await post('/api/user/signup', { email: lower, password: 'password123' }), 409, '003',
	    'User Already Exists', 'already_exists');
	expectEnvelope(await post('/api/auth/signup/', { email: upper, password: 'password123' }), 400, '004',
	    'User with this email already exists');

	assert.equal(userCount(), before);
	assert.equal(sql.count('SELECT COUNT(*) FROM users WHERE email_key = ?', [lower]), 1);
	assert.equal(userRow(user.id).email, base.email, 'the first spelling stays');
});

test('a taken username is refused by 001 and 002, and usernames differ by case', async () => {
	const user = await registerVia('002');
	const before = userCount();
	expectEnvelope(await post('/register', { username: user.username, password: 'password123' }), 400, '001',
	    'Username already exists!', 'already_exists');
	expectEnvelope(await post('/add_user', { username: user.username, password: 'password123' }), 400, '001',
	    'Username already exists!', 'already_exists');
	expectEnvelope(await post('/api/auth/register', { username: user.username, email: newUser().email, password: 'password123' }),
	    400, '002', 'Username already exists', 'already_exists');
	assert.equal(userCount(), before);
	const other = user.username.toUpperCase();
	expectJson(await post('/register', { username: other, password: 'password123' }), 200);
	assert.notEqual(userId(other, 'username'), user.id);
});

// ------------------------------------------------------------ passwords

test('a wrong password is refused by every seed\'s login in its own words, and opens no session', async () => {
	const user = await registerVia('002');
	const wrong = { ...user, password: 'wrong-password' };
	const expected = {
		'000': [403, 'User credentials mismatch.', undefined, ['email']],
		'001': [401, 'Invalid username/password!', 'invalid_credentials', []],
		'002': [401, 'Invalid credentials', 'invalid_credentials', []],
		'003': [401, 'Invalid email or password', 'invalid_credentials', []],
		'004': [400, 'Invalid credentials', undefined, []],
	};
	for (const seed of SEEDS) {
		const [status, message, code, extra] = expected[seed];
		const res = await post(LOGIN[seed].path, LOGIN[seed].body(wrong));
		expectEnvelope(res, status, seed, message, code, extra);
	}
	// A password longer than any stored one is refused the same way.
	expectEnvelope(await post('/api/auth/login', { username: user.username, password: 'p'.repeat(5000) }), 401, '002',
	    'Invalid credentials');
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [user.id]), 0);
});

// ------------------------------------------------------------ tokens

// Bad tokens made from a live one, and what each failure is.
function badTokens(live, otherUserId) {
	const now = Math.floor(Date.now() / 1000);
	const { claims } = decodeJwt(live);
	const [h, , s] = live.split('.');
	const tamperedClaims = Buffer.from(JSON.stringify({ ...claims, sub: String(otherUserId) })).toString('base64url');
	return [
		['garbage', 'garbage', 'invalid'],
		['three dots of nothing', '..', 'invalid'],
		['alg=none', signJwt(claims, { alg: 'none' }), 'invalid'],
		['alg=none with an empty signature', resign(live, {}, { alg: 'none' }) + 'x', 'invalid'],
		['HS512 with the right key', resign(live, {}, { alg: 'HS512' }), 'invalid'],
		['HS256 with a wrong key', resign(live, {}, { secret: 'not-the-secret-'.repeat(4) }), 'invalid'],
		['a tampered payload', `${h}.${tamperedClaims}.${s}`, 'invalid'],
		['another user\'s id on this session', resign(live, { sub: String(otherUserId) }), 'invalid'],
		['an unknown session', resign(live, { jti: crypto.randomBytes(16).toString('hex') }), 'invalid'],
		['a wrong issuer', resign(live, { iss: 'somebody-else' }), 'invalid'],
		['no expiry', signJwt(Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'exp'))), 'invalid'],
		['an expired one', resign(live, { exp: now - 60, iat: now - 3600 }), 'expired'],
	];
}

// Each guarded route, its seed, and its words for each failure.
const GUARDED = [
	{ route: 'GET /protected', method: 'GET', path: '/protected', seed: '000',
		words: { invalid: 'Token is invalid!', expired: 'Token has expired!', revoked: 'Token has been revoked!' } },
	{ route: 'GET /user_tokens', method: 'GET', path: '/user_tokens', seed: '001',
		words: { invalid: 'Token is invalid!', expired: 'Token has expired!', revoked: 'Token has been revoked!' } },
	{ route: 'POST /api/auth/logout', method: 'POST', path: '/api/auth/logout', seed: '002',
		words: { invalid: 'Invalid token', expired: 'Token has expired', revoked: 'Token has been revoked' } },
	{ route: 'POST /api/user/generate_jwt', method: 'POST', path: '/api/user/generate_jwt', seed: '003', json: {},
		words: { invalid: 'Invalid token', expired: 'Token has expired', revoked: 'Token has been revoked' } },
	{ route: 'POST /api/auth/logout/', method: 'POST', path: '/api/auth/logout/', seed: '004', scheme: 'Token',
		words: { invalid: 'Invalid token.', expired: 'Token has expired.', revoked: 'Invalid token.' } },
];

const CODES = { invalid: 'invalid_token', expired: 'token_expired', revoked: 'token_revoked' };

for (const g of GUARDED) {
	test(`${g.seed} ${g.route} refuses garbage, alg=none, HS512, wrong-key, tampered, expired, unknown-session and revoked tokens with 401, and changes nothing`, async () => {
		const user = await registerVia('002');
		const other = await registerVia('004');
		const live = await loginVia('002', user);
		const dead = await loginVia('002', user);
		expectJson(await api.post('/api/auth/logout', { token: dead }), 200);
		const sessions = sql.count('SELECT COUNT(*) FROM sessions');
		const cases = [...badTokens(live, other.id), ['a revoked one', dead, 'revoked']];
		for (const [what, token, kind] of cases) {
			const res = await api(g.method, g.path, { token, tokenScheme: g.scheme, json: g.json });
			const code = g.seed === '000' || g.seed === '004' ? undefined : CODES[kind];
			try {
				expectEnvelope(res, 401, g.seed, g.words[kind], code);
			} catch (err) {
				err.message = `${what}: ${err.message}`;
				throw err;
			}
		}
		assert.equal(sql.count('SELECT COUNT(*) FROM sessions'), sessions, 'a session was opened');
		assert.equal(sessionOf(live).revoked_at, null, 'the live session was revoked');
		assert.equal(sessionOf(dead).revoked_reason, 'logout');
		expectJson(await api.get('/protected', { token: live }), 200);
	});
}

test('000 DELETE /logout with a forged, expired or unknown token in the body answers 403 "Token is invalid." and revokes nothing', async () => {
	const user = await registerVia('000');
	const other = await registerVia('004');
	const live = await loginVia('000', user);
	for (const [what, token] of badTokens(live, other.id)) {
		const res = await api.delete('/logout', { json: { access_token: token } });
		try {
			expectEnvelope(res, 403, '000', 'Token is invalid.');
		} catch (err) {
			err.message = `${what}: ${err.message}`;
			throw err;
		}
	}
	assert.equal(liveSessions(user.id), 1);
	assert.equal(sessionOf(live).revoked_at, null);
});

test('a token sent with an unknown scheme or in pieces is a malformed header, in each seed\'s words', async () => {
	const user = await registerVia('002');
	const live = await loginVia('002', user);
	for (const header of [`Basic ${live}`, `Bearer ${live} extra`, `Bearer  ${live}`, live, 'Bearer']) {
		expectEnvelope(await api.get('/protected', { headers: { Authorization: header } }), 401, '000', 'Invalid token format!');
		expectEnvelope(await api.post('/api/auth/logout', { headers: { Authorization: header } }), 401, '002',
		    "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'", 'malformed_token');
		expectEnvelope(await api.post('/api/auth/logout/', { headers: { Authorization: header } }), 401, '004',
		    'Invalid token header.');
	}
	assert.equal(sessionOf(live).revoked_at, null);
});

// ------------------------------------------------------------ OTP

// A fresh 003 user with a mailed code: { ...user, id, code }.
async function userWithCode() {
	const user = await registerVia('003');
	const since = Date.now() - 1000;
	expectJson(await post('/api/user/forgot-password', { email: user.email }), 200);
	const code = otpFrom(await readMail(user.email, { since }));
	return { ...user, code };
}

// A 6-digit code that is not this one.
function wrongCode(code) {
	return String((Number(code) + 1) % 1000000).padStart(6, '0');
}

function otpRow(userIdValue) {
	const [id, state, attempts] = sql('SELECT id, state, attempts FROM otp_codes WHERE user_id = ? ORDER BY id DESC LIMIT 1',
	    [userIdValue])[0];
	return { id: Number(id), state, attempts: Number(attempts) };
}

test('OTP: four wrong codes then the right one still validates', async () => {
	const u = await userWithCode();
	for (let i = 0; i < 4; i++)
		expectEnvelope(await post('/api/user/otp_validate', { email: u.email, otp: wrongCode(u.code) }), 410, '003',
		    'OTP does not match.', 'otp_mismatch');
	assert.deepEqual(otpRow(u.id), { ...otpRow(u.id), state: 'pending', attempts: 4 });
	expectJson(await post('/api/user/otp_validate', { email: u.email, otp: u.code }), 200);
	assert.equal(otpRow(u.id).state, 'validated');
});

test('OTP: the fifth wrong code kills it, and the right one then answers 410', async () => {
	const u = await userWithCode();
	for (let i = 0; i < 5; i++)
		expectEnvelope(await post('/api/user/otp_validate', { email: u.email, otp: wrongCode(u.code) }), 410, '003',
		    'OTP does not match.');
	const row = otpRow(u.id);
	assert.equal(row.state, 'dead');
	assert.equal(row.attempts, 5);
	expectEnvelope(await post('/api/user/otp_validate', { email: u.email, otp: u.code }), 410, '003', 'OTP does not match.');
	expectEnvelope(await post('/api/user/reset-password', { email: u.email, password: 'brute-forced-1', otp: u.code }), 410,
	    '003', 'OTP does not match.');
	const hash = userRow(u.id).password_hash;
	expectEnvelope(await post('/api/user/reset-password', { email: u.email, password: 'brute-forced-2' }), 403, '003',
	    undefined, 'otp_required');
	assert.equal(userRow(u.id).password_hash, hash);
});

test('OTP: a code used by a reset neither validates nor resets again', async () => {
	const u = await userWithCode();
	expectJson(await post('/api/user/otp_validate', { email: u.email, otp: u.code }), 200);
	expectJson(await post('/api/user/reset-password', { email: u.email, password: 'first-new-password' }), 200);
	const row = otpRow(u.id);
	assert.equal(row.state, 'used');
	const hash = userRow(u.id).password_hash;
	expectEnvelope(await post('/api/user/otp_validate', { email: u.email, otp: u.code }), 410, '003', 'OTP does not match.');
	expectEnvelope(await post('/api/user/reset-password', { email: u.email, password: 'second-new-password', otp: u.code }),
	    410, '003', 'OTP does not match.');
	expectEnvelope(await post('/api/user/reset-password', { email: u.email, password: 'third-new-password' }), 403, '003',
	    'Validate the OTP sent to your e-mail address first.', 'otp_required');
	assert.equal(userRow(u.id).password_hash, hash, 'the password changed again');
});

test('OTP: reset-password without a validated code answers 403 and changes nothing', async () => {
	const u = await userWithCode();
	const token = await loginVia('003', u);
	const hash = userRow(u.id).password_hash;
	const res = await post('/api/user/reset-password', { email: u.email, password: 'not-validated-1' });
	expectEnvelope(res, 403, '003', 'Validate the OTP sent to your e-mail address first.', 'otp_required');
	assert.equal(userRow(u.id).password_hash, hash);
	assert.equal(userRow(u.id).password_changed_at, null);
	assert.equal(sessionOf(token).revoked_at, null);
	assert.equal(otpRow(u.id).state, 'pending');
	// And for an address nobody has, the same answer.
	const nobody = await post('/api/user/reset-password', { email: newUser().email, password: 'not-validated-1' });
	assert.deepEqual(expectJson(nobody, 403), res.json);
});

test('OTP: reset-password with a wrong code in "otp" answers 410, counts an attempt and changes nothing', async () => {
	const u = await userWithCode();
	const hash = userRow(u.id).password_hash;
	expectEnvelope(await post('/api/user/reset-password', { email: u.email, password: 'wrong-code-1', otp: wrongCode(u.code) }),
	    410, '003', 'OTP does not match.', 'otp_mismatch');
	assert.equal(otpRow(u.id).attempts, 1);
	assert.equal(userRow(u.id).password_hash, hash);
});

test('OTP: reset-password with a short password answers 400 and leaves the code alone', async () => {
	const u = await userWithCode();
	expectFieldError(await post('/api/user/reset-password', { email: u.email, password: 'short', otp: u.code }), '003',
	    'password');
	assert.deepEqual(otpRow(u.id), { ...otpRow(u.id), state: 'pending', attempts: 0 });
});

test('OTP: an expired code answers 410', async () => {
	const u = await userWithCode();
	sql('UPDATE otp_codes SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE user_id = ?', [u.id]);
	expectEnvelope(await post('/api/user/otp_validate', { email: u.email, otp: u.code }), 410, '003', 'OTP does not match.');
	expectEnvelope(await post('/api/user/reset-password', { email: u.email, password: 'too-late-123', otp: u.code }), 410,
	    '003', 'OTP does not match.');
});

test('OTP: a code sent as a JSON number validates too', async () => {
	const u = await userWithCode();
	expectJson(await post('/api/user/otp_validate', { email: u.email, otp: Number(u.code) }), 200);
	assert.equal(otpRow(u.id).state, 'validated');
});

test('OTP: an otp that is not digits, or none, answers 400 and costs no attempt', async () => {
	const u = await userWithCode();
	for (const otp of ['12a456', 'abcdef', ' 123456', true])
		expectFieldError(await post('/api/user/otp_validate', { email: u.email, otp }), '003', 'otp', JSON.stringify(otp));
	expectFieldError(await post('/api/user/otp_validate', { email: u.email }), '003', 'otp', 'no otp');
	assert.equal(otpRow(u.id).attempts, 0);
	// Digits of the wrong length are a wrong code: they count.
	expectEnvelope(await post('/api/user/otp_validate', { email: u.email, otp: '12345' }), 410, '003', 'OTP does not match.');
	assert.equal(otpRow(u.id).attempts, 1);
});

test('OTP: the 6-digit code is stored only as a hash', async () => {
	const u = await userWithCode();
	const all = sql('SELECT CONCAT_WS(\'|\', id, user_id, purpose, HEX(code_hash), code_hash, state, attempts) ' +
	    'FROM otp_codes WHERE user_id = ?', [u.id]);
	assert.equal(all.length, 1);
	assert.equal(all[0][0].includes(u.code), false);
	assert.equal(sql.value('SELECT LENGTH(code_hash) FROM otp_codes WHERE user_id = ?', [u.id]), '32');
});

test('forgot-password for an unknown e-mail answers the same 200 and queues no mail nor code', async () => {
	const known = await registerVia('003');
	const nobody = newUser('b5').email;
	const a = await post('/api/user/forgot-password', { email: known.email });
	const b = await post('/api/user/forgot-password', { email: nobody });
	assert.deepEqual(expectJson(b, 200), expectJson(a, 200));
	assert.equal(sql.count('SELECT COUNT(*) FROM deliveries WHERE channel = \'mail\' AND target = ?', [known.email]), 1);
	assert.equal(sql.count('SELECT COUNT(*) FROM deliveries WHERE target = ?', [nobody]), 0);
	assert.equal(sql.count('SELECT COUNT(*) FROM otp_codes WHERE user_id = ?', [known.id]), 1);
	await readMail(known.email);
	await assert.rejects(readMail(nobody, { timeout: 1000 }));
});

test('forgot-password queues the mail to the address as it was registered, whatever its case in the request', async () => {
	const known = await registerVia('003');
	expectJson(await post('/api/user/forgot-password', { email: known.email.toUpperCase() }), 200);
	const rows = sql('SELECT target, JSON_VALUE(payload, \'$.to\') FROM deliveries WHERE channel = \'mail\' AND target = ?',
	    [known.email]);
	assert.deepEqual(rows, [[known.email, known.email]]);
});

test('forgot-password with an invalid or missing e-mail answers 400 and queues nothing', async () => {
	const before = sql.count('SELECT COUNT(*) FROM deliveries');
	for (const json of [{}, { email: 'not-an-address' }, { email: '' }])
		expectFieldError(await post('/api/user/forgot-password', json), '003', 'email', JSON.stringify(json));
	assert.equal(sql.count('SELECT COUNT(*) FROM deliveries'), before);
});

test('otp_validate for an unknown e-mail answers 410 like a wrong code', async () => {
	const res = await post('/api/user/otp_validate', { email: newUser('b5').email, otp: '123456' });
	expectEnvelope(res, 410, '003', 'OTP does not match.', 'otp_mismatch');
});

test('register and login routes keep answering after all this (no worker crashed)', async () => {
	const user = await registerVia('001');
	assert.ok(sessionOf(await loginVia('001', user)));
	assert.equal(jtiOf(await loginVia('004', { ...user, email: undefined })).length, 32);
	expectJson(await api.get('/api/health'), 200);
});
