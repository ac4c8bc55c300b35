// 500-notifier-smoke.test.js -- the notifier answers through nginx: an
// Engine.IO session over long-polling (handshake, CONNECT with a token,
// an event out, an event pushed from the events table with its seq), a
// refused token, and the plain WebSocket route refusing a non-upgrade.
// Only node's fetch: the real clients are tested in 510 and after.
'use strict';

const { test, api, assert, expectJson, registerAndLogin } = require('./lib');

const SEP = '\x1e';
let u;

// One long-polling session, spoken by hand.
async function session() {
	const open = await api.get('/socket.io/?EIO=4&transport=polling');
	assert.equal(open.status, 200, open.text);
	assert.equal(open.text[0], '0');
	const hs = JSON.parse(open.text.slice(1));
	const q = `/socket.io/?EIO=4&transport=polling&sid=${hs.sid}`;
	return {
		hs,
		post: async (...packets) => {
			const r = await api.post(q, { body: packets.join(SEP), headers: { 'Content-Type': 'text/plain' } });
			assert.equal(r.status, 200, r.text);
			assert.equal(r.text, 'ok');
		},
		// The packets of the next poll (it waits for some).
		poll: async () => {
			const r = await api.get(q);
			assert.equal(r.status, 200, r.text);
			return r.text.split(SEP);
		},
	};
}

test('a user', async () => {
	u = await registerAndLogin();
});

test('the handshake offers the upgrade and the heartbeat settings', async () => {
	const { hs } = await session();
	assert.equal(typeof hs.sid, 'string');
	assert.deepEqual(hs.upgrades, ['websocket']);
	for (const k of ['pingInterval', 'pingTimeout', 'maxPayload'])
		assert.equal(typeof hs[k], 'number', k);
});

test('CONNECT with a token: the ack carries sid and pid, then "connected"', async () => {
	const s = await session();
	await s.post(`40${JSON.stringify({ token: u.token })}`);
	let got = [];
	while (got.length < 2)
		got = got.concat(await s.poll());
	assert.match(got[0], /^40\{/);
	const ack = JSON.parse(got[0].slice(2));
	assert.equal(typeof ack.sid, 'string');
	assert.equal(typeof ack.pid, 'string');
	assert.deepEqual(JSON.parse(got[1].slice(2)), ['connected', { message: `Welcome ${u.username}!` }]);

	// join_public, then a REST post comes back from the events table
	// with its seq as the last argument.
	await s.post('42["join_public"]');
	const posted = expectJson(await api.post('/api/messages', { token: u.token, json: { content: 'smoke' } }), 201);
	let ev;
	while (ev === undefined) {
		ev = (await s.poll()).map((p) => p.startsWith('42') ? JSON.parse(p.slice(2)) : null)
		    .find((a) => a && a[0] === 'new_public_message');
	}
	assert.equal(ev[1].id, posted.id);
	assert.equal(ev[1].content, 'smoke');
	assert.match(ev[2], /^[0-9]+$/);
});

test('a bad token: CONNECT_ERROR with a message', async () => {
	const s = await session();
	await s.post('40{"token":"not.a.token"}');
	const got = await s.poll();
	assert.match(got[0], /^44\{/);
	assert.equal(typeof JSON.parse(got[0].slice(2)).message, 'string');
});

test('an unknown sid, another protocol version: Engine.IO errors', async () => {
	const r = await api.get('/socket.io/?EIO=4&transport=polling&sid=nosuchsession');
	assert.equal(r.status, 400);
	assert.equal(r.json.code, 1);
	const v3 = await api.get('/socket.io/?EIO=3&transport=polling');
	assert.equal(v3.status, 400);
	assert.equal(v3.json.code, 5);
});

test('003\'s WebSocket route without an upgrade: 426', async () => {
	const r = await api.get(`/api/user/send_message_ws/1/${encodeURIComponent(u.email)}?token=${u.token}`);
	assert.equal(r.status, 426);
	assert.equal(r.json.status_code, 426);
});
