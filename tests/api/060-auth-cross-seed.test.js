// 060-auth-cross-seed.test.js -- one user base and one kind of token for
// all five seeds: a user registered through any seed logs in through every
// other; any login's token works on /protected and on every logout route
// (002 Bearer, 004 Token, 000 in the body); a logout revokes at once; a
// password reset revokes every session, whichever seed opened it.
'use strict';

const { test, api, sql, assert, expectJson, newUser, readMail, otpFrom } = require('./lib');
const {
	jtiOf, SEEDS, LOGIN, registerVia, loginVia, userRow, sessionOf, liveSessions, protectedWith, expectEnvelope,
} = require('./lib/auth-helpers');

for (const seed of SEEDS) {
	test(`a user registered through ${seed} logs in through 000, 001, 002, 003 and 004, and every token works on /protected`, async () => {
		const user = await registerVia(seed);
		for (const via of SEEDS) {
			const token = await loginVia(via, user);
			const s = sessionOf(token);
			assert.equal(s.user_id, user.id, `${via}'s token is not the user's`);
			for (const scheme of ['Bearer', 'Token']) {
				const body = expectJson(await protectedWith(token, scheme), 200);
				assert.equal(body.user_id, user.id, `${via} token as ${scheme}`);
			}
		}
		assert.equal(liveSessions(user.id), SEEDS.length);
	});
}

test('a user with only a username (001) logs in through 001, 002 and 004, and is greeted by name', async () => {
	const u = newUser('x1');
	expectJson(await api.post('/add_user', { json: { username: u.username, password: u.password } }), 200);
	const user = { ...u, email: undefined };
	for (const via of ['001', '002', '004']) {
		const token = await loginVia(via, user);
		const body = expectJson(await protectedWith(token), 200);
		assert.equal(body.message, `Hello, ${u.username}! This is a protected endpoint.`);
	}
});

test('an e-mail address signed up through 004 in mixed case logs in through 000 and 003 in lower case', async () => {
	const u = newUser('x4');
	u.email = `Mixed.${u.email}`;
	const user = await registerVia('004', u);
	const lower = { ...user, email: user.email.toLowerCase() };
	assert.equal(sessionOf(await loginVia('000', lower)).user_id, user.id);
	assert.equal(sessionOf(await loginVia('003', lower)).user_id, user.id);
	assert.equal(userRow(user.id).email, u.email);
});

// Each logout route, and how it is given the token.
const LOGOUTS = [
	['002 POST /api/auth/logout with Bearer', (t) => api.post('/api/auth/logout', { token: t }), 'Logout successful'],
	['004 POST /api/auth/logout/ with Token', (t) => api.post('/api/auth/logout/', { token: t, tokenScheme: 'Token' }),
		'Logged out successfully'],
	['000 DELETE /logout with the token in the body', (t) => api.delete('/logout', { json: { access_token: t } }),
		'User successfully logged out (token revoked)!'],
];

for (const [name, logout, message] of LOGOUTS) {
	test(`${name} logs out a token from any seed's login at once`, async () => {
		const user = await registerVia('002');
		for (const via of SEEDS) {
			const token = await loginVia(via, user);
			const other = await loginVia(via, user);
			assert.deepEqual(expectJson(await logout(token), 200), { message }, `${via}'s token`);
			const s = sessionOf(token);
			assert.notEqual(s.revoked_at, null, `${via}'s session is still live`);
			assert.equal(s.revoked_reason, 'logout');
			expectEnvelope(await protectedWith(token), 401, '000', 'Token has been revoked!');
			assert.equal(sessionOf(other).revoked_at, null, 'another session of the user was revoked');
			expectJson(await protectedWith(other), 200);
		}
	});
}

test('a token logged out through one seed is refused by every other seed\'s routes', async () => {
	const user = await registerVia('001');
	const token = await loginVia('004', user);
	expectJson(await api.post('/api/auth/logout', { token }), 200);
	expectEnvelope(await protectedWith(token, 'Token'), 401, '000', 'Token has been revoked!');
	expectEnvelope(await api.get('/user_tokens', { token }), 401, '001', 'Token has been revoked!', 'token_revoked');
	expectEnvelope(await api.post('/api/auth/logout', { token }), 401, '002', 'Token has been revoked', 'token_revoked');
	expectEnvelope(await api.post('/api/user/generate_jwt', { token, json: {} }), 401, '003', 'Token has been revoked',
	    'token_revoked');
	expectEnvelope(await api.post('/api/auth/logout/', { token, tokenScheme: 'Token' }), 401, '004', 'Invalid token.');
	expectEnvelope(await api.delete('/logout', { json: { access_token: token } }), 403, '000', 'Token is invalid.');
});

test('003 generate_jwt refreshes a token from 004 sent as Token, and the new one logs out through 004', async () => {
	const user = await registerVia('004');
	const old = await loginVia('004', user);
	const res = await api.post('/api/user/generate_jwt', { token: old, tokenScheme: 'Token', json: { email: user.email } });
	const fresh = expectJson(res, 200).jwt_token;
	assert.equal(sessionOf(old).revoked_reason, 'refresh');
	expectJson(await api.post('/api/auth/logout/', { token: fresh, tokenScheme: 'Token' }), 200);
	assert.equal(liveSessions(user.id), 0);
});

test('001 GET /user_tokens lists the sessions opened through every seed\'s login', async () => {
	const user = await registerVia('002');
	const tokens = [];
	for (const via of SEEDS)
		tokens.push(await loginVia(via, user));
	const body = expectJson(await api.get('/user_tokens', { token: tokens[4], tokenScheme: 'Token' }), 200);
	assert.deepEqual(body.user_tokens.map((p) => p[1]).sort(), tokens.map(jtiOf).sort());
	assert.ok(body.user_tokens.every((p) => p[0] === user.username));
});

test('reset-password revokes the sessions of every seed\'s login; the new password works through every seed, the old one through none', async () => {
	const user = await registerVia('002');
	const tokens = {};
	for (const via of SEEDS)
		tokens[via] = await loginVia(via, user);
	assert.equal(liveSessions(user.id), 5);

	const since = Date.now() - 1000;
	expectJson(await api.post('/api/user/forgot-password', { json: { email: user.email } }), 200);
	const code = otpFrom(await readMail(user.email, { since }));
	expectJson(await api.post('/api/user/otp_validate', { json: { email: user.email, otp: code } }), 200);
	const password = `reset-${code}-password`;
	expectJson(await api.post('/api/user/reset-password', { json: { email: user.email, password } }), 200);

	assert.equal(liveSessions(user.id), 0);
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_reason = \'password_reset\'',
	    [user.id]), 5);
	for (const via of SEEDS)
		expectEnvelope(await protectedWith(tokens[via]), 401, '000', 'Token has been revoked!');

	for (const via of SEEDS) {
		const res = await api.post(LOGIN[via].path, { json: LOGIN[via].body(user) });
		assert.ok([400, 401, 403].includes(res.status), `${via} still takes the old password: ${res.status}`);
	}
	for (const via of SEEDS) {
		const token = await loginVia(via, { ...user, password });
		expectJson(await protectedWith(token), 200);
	}
	assert.equal(liveSessions(user.id), 5);
});

// The notifier learns of revocations from the events table: each one writes
// a "session_revoked" event to the user's room, in the same transaction.
function revokedEvents(userId) {
	return sql('SELECT seq, payload FROM events WHERE room = ? AND event = \'session_revoked\' ORDER BY seq',
	    [`user:${userId}`]).map(([seq, payload]) => ({ seq: Number(seq), ...JSON.parse(payload) }));
}

test('every revocation (logout, refresh, password reset) announces itself in the user\'s room, in commit order', async () => {
	const user = await registerVia('003');
	const a = await loginVia('002', user);
	const b = await loginVia('004', user);
	expectJson(await api.post('/api/auth/logout', { token: a }), 200);
	const fresh = expectJson(await api.post('/api/user/generate_jwt', { token: b, json: {} }), 200).jwt_token;
	expectJson(await api.delete('/logout', { json: { access_token: fresh } }), 200);
	const c = await loginVia('000', user);
	const since = Date.now() - 1000;
	expectJson(await api.post('/api/user/forgot-password', { json: { email: user.email } }), 200);
	const code = otpFrom(await readMail(user.email, { since }));
	expectJson(await api.post('/api/user/reset-password', { json: { email: user.email, otp: code,
	    password: `reset-${code}-again` } }), 200);

	const events = revokedEvents(user.id);
	assert.deepEqual(events.map((e) => e.reason), ['logout', 'refresh', 'logout', 'password_reset']);
	assert.deepEqual(events.slice(0, 3).map((e) => e.jti), [jtiOf(a), jtiOf(b), jtiOf(fresh)]);
	assert.equal(events[3].all, true);
	assert.equal(events[3].except, null);
	assert.ok(events.every((e) => e.user_id === user.id));
	assert.ok(events.every((e, i) => i === 0 || e.seq > events[i - 1].seq));
	assert.equal(sessionOf(c).revoked_reason, 'password_reset');
	// A logout of a token already dead writes nothing.
	expectEnvelope(await api.delete('/logout', { json: { access_token: a } }), 403, '000', 'Token is invalid.');
	assert.equal(revokedEvents(user.id).length, 4);
	// seq is gapless: as many values as rows, no holes.
	const [[n, lo, hi]] = sql('SELECT COUNT(*), MIN(seq), MAX(seq) FROM events');
	assert.equal(Number(hi) - Number(lo) + 1, Number(n));
});
