// 570-notifier-limits.test.js -- limits and bad input never crash the
// notifier: an oversized message (over the Engine.IO maxPayload, and over
// the chat's own length limit), unknown events, binary attachments,
// malformed Engine.IO / Socket.IO packets on a raw WebSocket and on the
// polling transport, garbage HTTP straight to the notifier's port, too
// many sockets for one user, and a client flooding events (an `error`
// event, then the disconnect).  After each, the process still runs and a
// new socket is served.  The socket-count and rate limits are checked on
// a second notifier this file starts with low limits, so the stack's own
// keeps its defaults.
'use strict';

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const WebSocket = require('ws');
const { test, after, api, sql, stack, until, assert, registerAndLogin } = require('./lib');
const rt = require('./lib/realtime');

after(rt.closeAll);

const PYTHON = process.env.FASTBACK_PYTHON || '/usr/bin/python3';

let u, v;

test('two users', async () => {
	u = await registerAndLogin();
	v = await registerAndLogin();
});

// ------------------------------------------------------------ raw Engine.IO

function eioUrl(base, query = {}) {
	const q = new URLSearchParams({ EIO: '4', transport: 'websocket', ...query });
	return `${base.replace(/^http/, 'ws')}/socket.io/?${q}`;
}

// A raw WebSocket speaking Engine.IO by hand, for packets no real client
// sends.  Resolves once the open packet ("0{...}") came; .open is it.
function rawEio(token, base = stack.url) {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(eioUrl(base, token ? { token } : {}));
		const inbox = new rt.Inbox('raw eio');
		const r = {
			ws, inbox,
			closed: new Promise((res) => ws.once('close', (code) => { inbox.push({ closed: code }); res(code); })),
			next(pred, what = 'packet', timeout = rt.WAIT_MS) {
				return inbox.take((i) => i.packet !== undefined && pred(i.packet), what, timeout).then((i) => i.packet);
			},
			close() { ws.terminate(); },
		};
		ws.on('message', (data, binary) => {
			const packet = binary ? data : data.toString();
			if (!binary && packet === '2')
				ws.send('3');	// answer pings, like a client
			inbox.push({ packet });
		});
		ws.once('error', reject);
		r.next((p) => typeof p === 'string' && p[0] === '0', 'open packet').then((p) => {
			r.open = JSON.parse(p.slice(1));
			resolve(r);
		}, reject);
	});
}

// Connect the default namespace with the token in CONNECT's auth.
async function rawConnected(token) {
	const r = await rawEio();
	r.ws.send(`40${JSON.stringify({ token })}`);
	const ack = await r.next((p) => typeof p === 'string' && p.startsWith('40'), 'CONNECT ack');
	r.sid = JSON.parse(ack.slice(2)).sid;
	return r;
}

// What became of a raw socket after a bad packet: closed, an `error`
// event or a CONNECT_ERROR, or nothing (still open, no answer).
async function outcome(r, timeout = 3000) {
	const answered = r.next((p) => typeof p === 'string' &&
	    (p.startsWith('42["error"') || p.startsWith('44')), 'error', timeout)
	    .then((p) => `error ${p.slice(0, 80)}`, () => null);
	const closed = r.closed.then((code) => `closed ${code}`);
	return (await Promise.race([answered, closed])) ?? (await Promise.race([closed, rt.later(0, 'open')]));
}

test('the Engine.IO open packet: sid, upgrades, pingInterval, pingTimeout, maxPayload', async () => {
	const r = await rawEio();
	for (const k of ['sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload'])
		assert.ok(k in r.open, `no ${k} in ${JSON.stringify(r.open)}`);
	assert.ok(r.open.maxPayload > 0 && r.open.maxPayload <= 10 * 1024 * 1024);
	r.close();
});

test('malformed Socket.IO packets after CONNECT: an error or a close, never a crash', { timeout: 120000 }, async () => {
	const bad = [
		'42[', '42{}', '42[]', '42[42]', '42[null,{}]', '42"text"', '4', '49', '4X', '4/nsp,', '42/admin,["join_public"]',
		'451-["send_public_message",{"_placeholder":true,"num":0}]', '43[]', '4299999999999999999999["x"]',
		'42["send_public_message",{"content":{"nested":["deep"]}}]', '42["join_private",{"other_user_id":[1,2]}]',
		'42["join_private",{"other_user_id":1e400}]', '42["\\u0000",{}]', `42["${'e'.repeat(10000)}",{}]`,
		'9', '', '2', '3', '6', '5', '1', '0', '\u00ff\u00fe',
		'40', '40{"token":"again"}', '41',
	];
	// Well-formed packets that may go unanswered: an ACK nobody waits for,
	// Engine.IO ping, pong, noop and upgrade, a second CONNECT.
	const silentOk = new Set(['43[]', '2', '3', '6', '5', '40', '40{"token":"again"}']);
	const results = [];
	for (const packet of bad) {
		const r = await rawConnected(u.token);
		r.ws.send(packet);
		const got = await outcome(r, 1000);
		results.push(`${JSON.stringify(packet.slice(0, 40))}: ${got}`);
		if (!silentOk.has(packet))
			assert.match(got, /^(error|closed)/, `${JSON.stringify(packet.slice(0, 80))} was neither answered nor closed`);
		r.close();
		assert.ok(rt.alive(rt.notifier.pid), `the notifier died after ${JSON.stringify(packet.slice(0, 80))}`);
	}
	require('./lib').diag(results.join('\n'));
	await rt.notifier.answers(u.token);
});

test('binary WebSocket frames and a binary attachment from socket.io-client: refused, nothing stored, no crash', async () => {
	const r = await rawConnected(u.token);
	r.ws.send(Buffer.from([4, 0, 1, 2, 3, 255]), { binary: true });
	assert.match(await outcome(r, 1000), /^(error|closed)/, 'a binary frame was neither answered nor closed');
	r.close();
	const s = await rt.openSio({ token: u.token, transports: ['websocket'], name: 'binary sender' });
	await s.next('connected');
	s.emit('join_public');
	const before = sql.count('SELECT COUNT(*) FROM messages');
	s.emit('send_public_message', { content: Buffer.from('binary content') });
	s.emit('save_data', Buffer.alloc(1024, 7));
	await Promise.race([s.next('error').catch(() => null), s.disconnected()]);
	assert.equal(sql.count('SELECT COUNT(*) FROM messages'), before);
	s.close();
	await rt.notifier.answers(u.token);
});

test('unknown events: an error event or nothing, and the socket keeps working', async () => {
	const s = await rt.openSio({ token: u.token, transports: ['websocket'], name: 'unknown events' });
	await s.next('connected');
	s.emit('no_such_event', { x: 1 });
	s.emit('constructor');
	s.emit('__proto__', {});
	s.emit('get_online_users');
	await s.next('online_users');
	for (const e of s.all('error'))
		assert.equal(typeof e.message, 'string');
	assert.ok(s.socket.connected);
	s.close();
});

test('the polling transport: unknown sid, bad EIO version, unknown transport, junk bodies are 400s', async () => {
	const base = `${stack.url}/socket.io/?EIO=4&transport=polling`;
	const bad = [
		['GET', `${base}&sid=nosuchsid`],
		['POST', `${base}&sid=nosuchsid`, '40'],
		['GET', `${stack.url}/socket.io/?EIO=3&transport=polling`],
		['GET', `${stack.url}/socket.io/?EIO=4&transport=carrier-pigeon`],
		['GET', `${stack.url}/socket.io/?transport=polling`],
	];
	for (const [method, url, body] of bad) {
		const res = await fetch(url, { method, body });
		assert.equal(res.status, 400, `${method} ${url}: ${res.status} ${await res.text()}`);
	}
	// A real session, then junk posted to it.
	const open = await fetch(base);
	assert.equal(open.status, 200);
	const text = await open.text();
	const { sid } = JSON.parse(text.slice(text.indexOf('{')));
	for (const junk of ['\x1e\x1e\x1e', '42[', 'x'.repeat(100), '4\x1e4\x1e4']) {
		const res = await fetch(`${base}&sid=${sid}`, { method: 'POST', body: junk });
		assert.ok([200, 400].includes(res.status), `junk ${JSON.stringify(junk)}: ${res.status}`);
	}
	await rt.notifier.answers(u.token);
});

test('garbage HTTP straight to the notifier\'s port never crashes it', async () => {
	const port = Number(new URL(stack.url).port) + 2;
	const payloads = [
		'GARBAGE\r\n\r\n',
		'GET / HTTP/1.1\r\n' + 'X: ' + 'y'.repeat(100000) + '\r\n\r\n',
		'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n',
		'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 99\r\n\r\n',
		'POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\nabc',
		'POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
		'\x00\x01\x02\x03\xff\xfe',
		'GET /api/user/send_message_ws/1/a@b.c HTTP/1.1\r\nHost: x\r\n\r\n',
		'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n',
	];
	for (const p of payloads) {
		await new Promise((resolve) => {
			const sock = net.connect(port, '127.0.0.1', () => sock.end(Buffer.from(p, 'latin1')));
			sock.on('data', () => {});
			sock.on('error', resolve);
			sock.on('close', resolve);
			sock.setTimeout(3000, () => { sock.destroy(); resolve(); });
		});
		assert.ok(rt.alive(rt.notifier.pid), `the notifier died after ${JSON.stringify(p.slice(0, 60))}`);
	}
	await rt.notifier.answers(u.token);
});

test('a message over maxPayload closes that socket (websocket and polling); nothing stored', { timeout: 60000 }, async () => {
	const r = await rawEio();
	const big = 'x'.repeat(r.open.maxPayload + 1024);
	r.close();
	const before = sql.count('SELECT COUNT(*) FROM messages');
	for (const transports of [['websocket'], ['polling']]) {
		const s = await rt.openSio({ token: u.token, transports, name: `oversized ${transports}` });
		await s.next('connected');
		s.emit('join_public');
		s.emit('send_public_message', { content: big });
		await s.disconnected(20000);
		s.close();
	}
	assert.equal(sql.count('SELECT COUNT(*) FROM messages'), before);
	await rt.notifier.answers(u.token);
});

test('a message over the chat\'s length limit: an error event, nothing stored, the socket stays', async () => {
	const s = await rt.openSio({ token: u.token, transports: ['websocket'], name: 'too long' });
	await s.next('connected');
	s.emit('join_public');
	const before = sql.count('SELECT COUNT(*) FROM messages');
	s.emit('send_public_message', { content: 'y'.repeat(20000) });
	const e = await s.next('error');
	assert.equal(typeof e.message, 'string');
	assert.equal(sql.count('SELECT COUNT(*) FROM messages'), before);
	s.emit('get_online_users');
	await s.next('online_users');
	s.close();
});

// ------------------------------------------------------------ limits

let low;

test('a second notifier with low limits (sockets per user, rate, queued bytes)', async () => {
	low = await rt.notifier.startAnother({
		FASTBACK_NOTIFIER_MAX_SOCKETS_PER_USER: '3',
		FASTBACK_NOTIFIER_RATE_LIMIT: '10',
		FASTBACK_NOTIFIER_RATE_BURST: '20',
		FASTBACK_NOTIFIER_MAX_QUEUED_BYTES: '262144',
	}, 'limits');
});

test('heartbeat (a third notifier, pings every 300 ms): a client that answers stays; one that does not is closed; one that never authenticates too', { timeout: 60000 }, async () => {
	const hb = await rt.notifier.startAnother({
		FASTBACK_NOTIFIER_PING_INTERVAL_MS: '300',
		FASTBACK_NOTIFIER_PING_TIMEOUT_MS: '300',
		FASTBACK_NOTIFIER_CONNECT_TIMEOUT_MS: '1000',
	}, 'heartbeat');
	const live = await rt.openSio({ url: hb.url, token: u.token, transports: ['websocket'], name: 'answers pings' });
	await live.next('connected');
	// A raw client that never answers: no pong within 300 + 300 ms.
	const mute = await new Promise((resolve, reject) => {
		const ws = new WebSocket(eioUrl(hb.url));
		const r = { ws, pings: 0, closed: new Promise((res) => ws.once('close', res)) };
		ws.on('message', (d) => {
			const p = d.toString();
			if (p[0] === '0')
				ws.send(`40${JSON.stringify({ token: u.token })}`);
			else if (p.startsWith('40'))
				resolve(r);
			else if (p === '2')
				r.pings++;
		});
		ws.once('error', reject);
	});
	await Promise.race([mute.closed, rt.later(10000, null, new Error('the mute client was not closed'))]);
	assert.ok(mute.pings >= 1, 'no ping was sent');
	// A connection that never sends CONNECT: closed after connect_timeout_ms.
	const idle = new WebSocket(eioUrl(hb.url));
	const idleClosed = new Promise((res) => idle.once('close', res));
	idle.on('message', (d) => {
		if (d.toString() === '2')
			idle.send('3');
	});
	await Promise.race([idleClosed, rt.later(10000, null, new Error('the unauthenticated connection stayed open'))]);
	// Several ping intervals later the answering client is still served.
	await until('a few pings', () => live.socket.io.engine && live.socket.connected && Date.now() - live.inbox.items[0].at > 2000, 10000, 100);
	live.emit('get_online_users');
	await live.next('online_users');
	assert.ok(live.socket.connected);
	live.close();
	const r = await hb.stop();
	assert.ok(r.code === 0 || r.signal === 'SIGTERM', JSON.stringify(r));
});

test('too many sockets for one user: the one over the limit is refused; closing one makes room', async () => {
	const opts = { url: low.url, token: u.token, transports: ['websocket'] };
	const held = [];
	for (let i = 0; i < 3; i++) {
		const s = await rt.openSio({ ...opts, name: `held ${i}` });
		await s.next('connected');
		held.push(s);
	}
	const e = await rt.refusedSio({ ...opts, name: 'fourth' });
	assert.equal(typeof e.message, 'string');
	// Another user is not affected.
	const other = await rt.openSio({ ...opts, token: v.token, name: 'other user' });
	other.close();
	held.pop().close();
	await until('room for one more socket', async () => {
		try {
			const s = await rt.openSio({ ...opts, name: 'after one closed' });
			s.close();
			return true;
		} catch {
			return false;
		}
	}, 10000, 200);
	for (const s of held)
		s.close();
});

// Flood from u until the notifier cuts the socket off, ten events a turn
// of the loop (a flood, but one the notifier reads as it comes); the
// `error` event must come before the disconnect, and v's socket on the
// same notifier is served all along.
async function flood(url, label) {
	const opts = { url, transports: ['websocket'] };
	const f = await rt.openSio({ ...opts, token: u.token, name: `flooder (${label})` });
	const calm = await rt.openSio({ ...opts, token: v.token, name: `calm (${label})` });
	await f.next('connected');
	await calm.next('connected');
	for (let i = 0; i < 1000 && f.socket.connected; i++) {
		for (let j = 0; j < 10; j++)
			f.emit('get_online_users');
		await new Promise((r) => setImmediate(r));
	}
	await f.disconnected(20000);
	const order = f.inbox.seen((i) => i.event === 'error' || i.event === '#disconnect').map((i) => i.event);
	assert.equal(order[0], 'error', `no error event before the disconnect: ${JSON.stringify(order)}`);
	const e = await f.next('error');
	assert.match(e.message, /rate/i);
	calm.emit('get_online_users');
	await calm.next('online_users');
	f.close();
	calm.close();
}

test('a client flooding events gets an error event, then is disconnected (second notifier, direct)', { timeout: 60000 }, async () => {
	await flood(low.url, 'direct');
	assert.ok(rt.alive(low.pid));
});

test('the same through nginx, with the default limits', { timeout: 60000 }, async () => {
	await flood(stack.url, 'nginx');
	assert.ok(rt.alive(rt.notifier.pid));
});

test('a reader that stops reading is dropped once its queue passes max_queued_bytes; the room goes on', { timeout: 90000 }, async () => {
	const slow = spawn(PYTHON, [path.join(__dirname, '..', 'realtime', 'slowreader.py'),
	    `${low.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, u.token], { stdio: ['pipe', 'pipe', 'pipe'] });
	const lines = new rt.Inbox('slow reader');
	let err = '';
	slow.stderr.on('data', (d) => { err += d; });
	readline.createInterface({ input: slow.stdout }).on('line', (l) => lines.push(JSON.parse(l)));
	const exited = new Promise((r) => slow.once('exit', r));
	try {
		await lines.take((i) => i.type === 'joined' || i.type === 'error', 'joined', 20000);
		const calm = await rt.openSio({ url: low.url, token: v.token, transports: ['websocket'], name: 'calm reader' });
		await calm.next('connected');
		calm.emit('join_public');
		// 600 messages of 4,000 characters, one after the other: 2.4 MB
		// for a reader that takes none of it, far past 256 KB and what
		// the kernels buffer; a poll's worth stays well under 256 KB, so
		// a reader that keeps up is never near the limit.
		const body = 'z'.repeat(3990);
		for (let i = 0; i < 600; i++)
			await rt.postPublic(v, `${i} ${body}`);
		await calm.next('new_public_message', (m) => m.content.startsWith('599 '), 60000);
		assert.equal(calm.all('new_public_message').length >= 600, true);
		slow.stdin.write('read\n');
		const d = await lines.take((i) => i.type === 'drained' || i.type === 'error', 'drained', 60000);
		assert.equal(d.type, 'drained', JSON.stringify(d) + err);
		assert.equal(d.closed, true, `the slow reader was not dropped (it got ${d.messages} messages)`);
		assert.ok(d.messages < 600, `the slow reader got all ${d.messages} messages`);
		calm.close();
		assert.ok(rt.alive(low.pid));
	} finally {
		slow.kill();
		await exited;
	}
});

test('the stack\'s notifier is still up, and the second one stops cleanly', async () => {
	await rt.notifier.answers(u.token);
	const r = await low.stop();
	assert.ok(r.code === 0 || r.signal === 'SIGTERM', JSON.stringify(r));
});
