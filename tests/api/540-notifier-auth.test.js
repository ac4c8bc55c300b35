// 540-notifier-auth.test.js -- who may hold a socket, and for how long.
// Every token source (the Socket.IO auth payload, ?token=, the
// Authorization header of the handshake, 003's ?token=) with a good, bad,
// forged, expired, revoked or missing token; then sessions revoked while
// sockets are open: 002 logout, 000 DELETE /logout, "log out everywhere"
// (the calling session's sockets stay), a password reset, deleting the
// account.  Each must close the sockets of the revoked sessions within a
// second of the REST answer, through the events row, and only those.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { test, after, api, assert, stack, expectJson, newUser, registerAndLogin, readMail, otpFrom } = require('./lib');
const { signJwt, resign, jtiOf } = require('./lib/auth-helpers');
const rt = require('./lib/realtime');

after(rt.closeAll);

const SOURCES = [
	['auth payload, websocket', (t) => ({ token: t, via: 'auth', transports: ['websocket'] })],
	['auth payload, polling', (t) => ({ token: t, via: 'auth', transports: ['polling'] })],
	['?token=, defaults', (t) => ({ token: t, via: 'query' })],
	['Authorization header, polling', (t) => ({ token: t, via: 'header', transports: ['polling'] })],
	['Authorization header, websocket', (t) => ({ token: t, via: 'header', transports: ['websocket'] })],
];

// A socket of u's (session `token`) in the public room, ready.
async function openReady(token, name) {
	const s = await rt.openSio({ token, transports: ['websocket'], name });
	await s.next('connected');
	return s;
}

// How long after `since` the socket was closed by the server; fails when
// that takes longer than limit ms.
async function closedWithin(s, since, limit = 1000) {
	const reason = await s.disconnected(limit + 4000);
	const took = Date.now() - since;
	assert.ok(took <= limit, `${s.name}: closed ${took} ms after the revocation (limit ${limit} ms)`);
	assert.notEqual(reason, 'io client disconnect');
	return took;
}

// The socket is still open and served: a get_online_users round trip.
async function stillServed(s) {
	assert.ok(s.socket.connected, `${s.name} was closed`);
	s.emit('get_online_users');
	await s.next('online_users');
}

let u;

test('a user', async () => {
	u = await registerAndLogin();
});

for (const [name, opts] of SOURCES) {
	test(`a good token (${name}): connected`, async () => {
		const s = await rt.openSio({ ...opts(u.token), name });
		assert.deepEqual(await s.next('connected'), { message: `Welcome ${u.username}!` });
		s.close();
	});
}

test('refused with a connect_error: no token, garbage, forged signature, alg none, expired, unknown session', async () => {
	const now = Math.floor(Date.now() / 1000);
	const bad = [
		['no token', undefined],
		['garbage', 'garbage'],
		['three dots', 'a.b.c'],
		['forged signature', resign(u.token, {}, { secret: 'not the secret' })],
		['alg none', resign(u.token, {}, { alg: 'none' })],
		['expired', resign(u.token, { exp: now - 60, iat: now - 3600 })],
		['unknown session', resign(u.token, { jti: '0123456789abcdef0123456789abcdef' })],
		['a user who does not exist', signJwt({ sub: '2147480000', jti: 'fedcba9876543210fedcba9876543210', iat: now, exp: now + 600, iss: 'fastback' })],
	];
	for (const [what, token] of bad) {
		for (const [name, opts] of SOURCES) {
			const o = token === undefined ? { ...opts('x'), token: undefined } : opts(token);
			const e = await rt.refusedSio({ ...o, name: `${what} (${name})` });
			assert.equal(typeof e.message, 'string', `${what} (${name})`);
		}
	}
});

test('python-socketio: a bad token in the query or the header is refused; a good one connects', { timeout: 60000 }, async () => {
	const { stack } = require('./lib');
	const p = rt.openPython('python auth');
	// python-socketio 5.7 waits out wait_timeout after a CONNECT_ERROR.
	await assert.rejects(p.connect({ url: `${stack.url}?token=garbage`, wait_timeout: 3 }), /connect failed/);
	await assert.rejects(p.connect({ headers: { Authorization: 'Bearer garbage' }, wait_timeout: 3 }), /connect failed/);
	await p.connect({ url: `${stack.url}?token=${encodeURIComponent(u.token)}` });
	await p.event('connected');
	await p.close();
});

test('a token revoked before connecting is refused (Socket.IO and 003)', async () => {
	const v = await registerAndLogin();
	const conv = expectJson(await api.post(`/api/private-chats/${u.id}`, { token: v.token }), 201).conversation_id;
	expectJson(await api.post('/api/auth/logout', { token: v.token }), 200);
	for (const [name, opts] of SOURCES)
		await rt.refusedSio({ ...opts(v.token), name: `revoked (${name})` });
	await rt.refused003(conv || 1, v.email, v.token);
});

test('002 logout closes that session\'s sockets (every transport) within a second; another session\'s stay', async () => {
	const v = await registerAndLogin();
	const other = expectJson(await api.post('/login', { json: { email: v.email, password: v.password } }), 200).access_token;
	const doomed = [
		await openReady(v.token, 'websocket'),
		await rt.openSio({ token: v.token, via: 'query', transports: ['polling'], name: 'polling' }),
		await rt.openSio({ token: v.token, via: 'header', name: 'defaults' }),
	];
	const keep = await openReady(other, 'other session');
	await doomed[1].next('connected');
	await doomed[2].next('connected');
	expectJson(await api.post('/api/auth/logout', { token: v.token }), 200);
	const since = Date.now();
	for (const s of doomed)
		await closedWithin(s, since);
	// The reason comes first (notifier/PROTOCOL.md).
	const ws = doomed[0].inbox.seen((i) => i.event === 'error' || i.event === '#disconnect');
	assert.deepEqual(ws.map((i) => i.event), ['error', '#disconnect']);
	assert.deepEqual(ws[0].args[0], { message: 'Token has been revoked' });
	await stillServed(keep);
	keep.close();
});

test('000 DELETE /logout {access_token} closes the socket; the 003 socket of that session too', async () => {
	const v = await registerAndLogin();
	const conv = expectJson(await api.post(`/api/private-chats/${u.id}`, { token: v.token }), 201).conversation_id;
	const s = await openReady(v.token, '000 socket');
	const w = await rt.open003(conv, v.email, v.token, { name: '003 socket' });
	expectJson(await api.delete('/logout', { json: { access_token: v.token } }), 200);
	const since = Date.now();
	await closedWithin(s, since);
	const closed = await Promise.race([w.closed, rt.later(5000, null)]);
	assert.ok(closed, 'the 003 socket of a revoked session stayed open');
	const took = w.inbox.seen((i) => i.closed).map((i) => i.at - since)[0];
	assert.ok(took <= 1000, `the 003 socket closed ${took} ms after the revocation`);
});

test('log out everywhere (DELETE /api/users/me/sessions): every other session\'s sockets close, the caller\'s stay', async () => {
	const v = await registerAndLogin();
	const t2 = expectJson(await api.post('/login', { json: { email: v.email, password: v.password } }), 200).access_token;
	const t3 = expectJson(await api.post('/api/auth/login', { json: { username: v.username, password: v.password } }), 200).access_token;
	const s1 = await openReady(v.token, 'caller');
	const s2 = await openReady(t2, 'second');
	const s3 = await openReady(t3, 'third');
	expectJson(await api.delete('/api/users/me/sessions', { token: v.token }), 200);
	const since = Date.now();
	await closedWithin(s2, since);
	await closedWithin(s3, since);
	await stillServed(s1);
	// ?current=true ends the caller's too.
	expectJson(await api.delete('/api/users/me/sessions?current=true', { token: v.token }), 200);
	await closedWithin(s1, Date.now());
});

test('a password reset (003 forgot-password, OTP, reset-password) closes every socket of the user', { timeout: 60000 }, async () => {
	const v = await registerAndLogin();
	const s1 = await openReady(v.token, 'before reset');
	const p = rt.openPython('python before reset');
	await p.connect({ headers: { Authorization: `Bearer ${v.token}` } });
	const since0 = Date.now() - 1000;
	expectJson(await api.post('/api/user/forgot-password', { json: { email: v.email } }), 200);
	const code = otpFrom(await readMail(v.email, { since: since0, timeout: 20000 }));
	expectJson(await api.post('/api/user/reset-password', { json: { email: v.email, otp: code, password: `reset-${code}-pw` } }), 200);
	const since = Date.now();
	await closedWithin(s1, since);
	await p.next('disconnect', () => true, 5000);
	assert.ok(Date.now() - since <= 1500, `python socket closed ${Date.now() - since} ms after the reset`);
	await p.close();
	await rt.refusedSio({ token: v.token, transports: ['websocket'] });
});

test('deleting the account (002 DELETE /api/users/{id}) closes its sockets', async () => {
	const v = await registerAndLogin();
	const s = await openReady(v.token, 'deleted user');
	expectJson(await api.delete(`/api/users/${v.id}`, { token: v.token }), 200);
	await closedWithin(s, Date.now());
});

test('a session revoked by jti (DELETE /api/users/me/sessions/{jti}) closes only that session\'s socket', async () => {
	const v = await registerAndLogin();
	const t2 = expectJson(await api.post('/login', { json: { email: v.email, password: v.password } }), 200).access_token;
	const s1 = await openReady(v.token, 'kept');
	const s2 = await openReady(t2, 'ended');
	expectJson(await api.delete(`/api/users/me/sessions/${jtiOf(t2)}`, { token: v.token }), 200);
	await closedWithin(s2, Date.now());
	await stillServed(s1);
	s1.close();
});

test('no log file holds a token: nginx masks ?token= in its access log, the notifier and responders never write one', async () => {
	// The ?token= sockets above went through nginx; its access log has
	// their requests with the value masked.
	const access = fs.readFileSync(path.join(stack.logDir, 'nginx-access.log'), 'utf8');
	assert.match(access, /GET \/socket\.io\/\?[^"]*token=-/);
	const secret = u.token.split('.')[2];
	for (const f of fs.readdirSync(stack.logDir)) {
		const text = fs.readFileSync(path.join(stack.logDir, f), 'utf8');
		assert.ok(!text.includes(secret), `${f} holds a token`);
	}
});

test('the notifier is still up', async () => {
	await rt.notifier.answers(u.token);
});
