// 410-webhooks.test.js -- incoming data forwarded by the dispatcher's
// webhook channel to an HTTP sink on loopback that this file runs: fan-out
// with each method and the stored headers, Standard Webhooks signatures
// checked with node's own HMAC, retries after 500s, Retry-After, 410
// disabling, a receiver that hangs, the give-up window, the delivery log
// with its filters, retry and replay, a dispatcher killed mid-send, two
// dispatchers at once, and the SSRF guard at save and at send time.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');

const {
	test, after, diag, api, sql, sleep, until, stack, assert, expectJson, newUser,
} = require('./lib');

// Short everything: the schedule, the timeout, the lease.
const ENV = {
	FASTBACK_DISPATCHER_POLL_MS: '50',
	FASTBACK_DISPATCHER_LEASE: '5',
	FASTBACK_DISPATCHER_CONCURRENCY: '32',
	FASTBACK_WEBHOOK_SCHEDULE: '200ms,200ms,200ms',
	FASTBACK_WEBHOOK_TIMEOUT_MS: '1000',
	FASTBACK_WEBHOOK_ALLOW_PRIVATE: 'yes',
};

// ---------------------------------------------------------------- the sink

// Every request it got, by path; a handler per path decides the answer
// (default 200 "ok").
const sink = {
	got: new Map(),
	handlers: new Map(),
	held: [],
	server: null,
	port: 0,
	url(p) { return `http://127.0.0.1:${this.port}${p}`; },
	requests(p) { return this.got.get(p) || []; },
};

function startSink() {
	sink.server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const [p, query = ''] = req.url.split('?');
			const entry = { method: req.method, path: p, query, headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
			if (!sink.got.has(p))
				sink.got.set(p, []);
			sink.got.get(p).push(entry);
			const h = sink.handlers.get(p);
			if (h)
				h(req, res, entry, sink.got.get(p).length);
			else
				res.end('ok');
		});
	});
	return new Promise((resolve) => sink.server.listen(0, '127.0.0.1', () => {
		sink.port = sink.server.address().port;
		resolve();
	}));
}

after(async () => {
	for (const res of sink.held)
		res.destroy();
	if (sink.server)
		await new Promise((resolve) => { sink.server.closeAllConnections(); sink.server.close(resolve); });
});

// A fresh path on the sink.
let n = 0;
function hookPath(tag) {
	n += 1;
	return `/${tag}-${n}-${crypto.randomBytes(3).toString('hex')}`;
}

// ---------------------------------------------------------------- API

async function user() {
	const u = newUser('wh');
	expectJson(await api.post('/api/auth/signup/', { json: { email: u.email, password: u.password } }), 201);
	const login = expectJson(await api.post('/api/auth/login/', { json: { username: u.email, password: u.password } }), 200);
	return { ...u, token: login.token };
}

function as(u, method, p, json) {
	const options = { token: u.token, tokenScheme: 'Token' };
	if (json !== undefined)
		options.json = json;
	return api(method, p, options);
}

async function account(u) {
	return expectJson(await as(u, 'POST', '/api/accounts/', {
		account_name: `Hooks ${Date.now().toString(36)} ${crypto.randomBytes(3).toString('hex')}`,
	}), 201);
}

async function destination(u, acct, p, extra = {}) {
	return expectJson(await as(u, 'POST', '/api/destinations/', {
		account: acct.id, url: sink.url(p), http_method: 'POST', ...extra,
	}), 201);
}

async function send(acct, data, eventId = crypto.randomUUID()) {
	const res = await api.post('/server/incoming_data/', {
		json: data, headers: { 'CL-X-TOKEN': acct.app_secret_token, 'CL-X-EVENT-ID': eventId },
	});
	assert.deepEqual(expectJson(res, 200), { success: true, message: 'Data Received' });
	return eventId;
}

// The deliveries rows of an event, by destination id.
function deliveriesOf(acct, eventId) {
	return Object.fromEntries(sql(`SELECT w.destination_id, d.id, d.state, d.attempts, d.last_error
	    FROM webhook_deliveries w JOIN deliveries d ON d.id = w.delivery_id
	    JOIN incoming_events e ON e.id = w.event_row WHERE w.account_id = ? AND e.event_id = ?`, [acct.id, eventId])
	    .map(([dest, id, state, attempts, error]) => [dest, { id: Number(id), state, attempts: Number(attempts), error }]));
}

function finalState(id) {
	return until(`delivery ${id} to end`, () => {
		const s = sql.value('SELECT state FROM deliveries WHERE id = ?', [id]);
		return ['delivered', 'failed', 'cancelled'].includes(s) ? s : null;
	}, 20000);
}

// Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.content)).
function expectSigned(entry, secret, content) {
	const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
	const id = entry.headers['webhook-id'];
	const ts = entry.headers['webhook-timestamp'];
	assert.match(id, /^msg_\d+$/);
	assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60, 'a current timestamp');
	const mac = crypto.createHmac('sha256', key).update(`${id}.${ts}.${content}`).digest('base64');
	assert.equal(entry.headers['webhook-signature'], `v1,${mac}`);
}

let admin;
let acct;

// ---------------------------------------------------------------- tests

test('the stack restarts with fast webhook settings and a sink on loopback', { timeout: 120000 }, async () => {
	await startSink();
	await stack.restart(ENV);
	admin = await user();
	acct = await account(admin);
});

test('fan-out: one event reaches POST, PUT and GET destinations with stored headers and a valid signature', async () => {
	const pPost = hookPath('post');
	const pPut = hookPath('put');
	const pGet = hookPath('get');
	const dPost = await destination(admin, acct, pPost, { headers: { 'X-Custom': 'one', 'Authorization': 'Bearer sink' } });
	const dPut = await destination(admin, acct, pPut, { http_method: 'PUT', headers: { 'X-Custom': 'two' } });
	const dGet = await destination(admin, acct, pGet + '?fixed=1', { http_method: 'GET' });
	const data = { name: 'Ada Lovelace', n: 42, ok: true, nested: { a: [1, 2] }, none: null, text: 'a&b=c d' };
	const eventId = await send(acct, data);
	await until('three requests', () => sink.requests(pPost).length + sink.requests(pPut).length + sink.requests(pGet).length === 3);
	const [post] = sink.requests(pPost);
	const [put] = sink.requests(pPut);
	const [get] = sink.requests(pGet);
	assert.equal(post.method, 'POST');
	assert.equal(put.method, 'PUT');
	assert.equal(get.method, 'GET');
	assert.deepEqual(JSON.parse(post.body), data);
	assert.deepEqual(JSON.parse(put.body), data);
	assert.equal(post.headers['content-type'], 'application/json');
	assert.equal(post.headers['x-custom'], 'one');
	assert.equal(post.headers.authorization, 'Bearer sink');
	assert.equal(put.headers['x-custom'], 'two');
	for (const e of [post, put, get])
		assert.equal(e.headers['cl-x-event-id'], eventId);
	const q = new URLSearchParams(get.query);
	assert.equal(q.get('fixed'), '1');
	assert.equal(q.get('name'), 'Ada Lovelace');
	assert.equal(q.get('n'), '42');
	assert.equal(q.get('ok'), 'true');
	assert.equal(q.get('nested'), '{"a":[1,2]}');
	assert.equal(q.get('none'), '');
	assert.equal(q.get('text'), 'a&b=c d');
	assert.equal(get.body, '');
	expectSigned(post, dPost.signing_secret, post.body);
	expectSigned(put, dPut.signing_secret, put.body);
	expectSigned(get, dGet.signing_secret, get.query);
	const rows = deliveriesOf(acct, eventId);
	for (const d of [dPost, dPut, dGet]) {
		assert.equal(await finalState(rows[d.id].id), 'delivered');
		assert.equal(`msg_${rows[d.id].id}`, { [dPost.id]: post, [dPut.id]: put, [dGet.id]: get }[d.id].headers['webhook-id']);
	}
	// The same event id again is not delivered again.
	await send(acct, { other: 1 }, eventId);
	await sleep(500);
	assert.equal(sink.requests(pPost).length, 1);
	for (const d of [dPost, dPut, dGet])
		assert.equal((await as(admin, 'DELETE', `/api/destinations/${d.id}/`)).status, 204);
});

test('500s are retried on the schedule with the same webhook-id until a 2xx; the log shows every attempt', async () => {
	const a = await account(admin);
	const p = hookPath('flaky');
	sink.handlers.set(p, (req, res, e, count) => {
		res.statusCode = count < 3 ? 500 : 204;
		res.end();
	});
	const d = await destination(admin, a, p);
	const eventId = await send(a, { try: 'again' });
	const { id } = deliveriesOf(a, eventId)[d.id];
	assert.equal(await finalState(id), 'delivered');
	const got = sink.requests(p);
	assert.equal(got.length, 3);
	assert.equal(new Set(got.map((e) => e.headers['webhook-id'])).size, 1, 'one webhook-id on every try');
	for (let i = 1; i < got.length; i++)
		assert.ok(got[i].at - got[i - 1].at >= 140, `a backoff between tries (${got[i].at - got[i - 1].at} ms)`);
	const log = expectJson(await as(admin, 'GET', `/api/accounts/${a.id}/logs/`), 200);
	assert.equal(log.logs.length, 1);
	const entry = log.logs[0];
	assert.equal(entry.event_id, eventId);
	assert.equal(entry.status, 'success');
	assert.equal(entry.destination_id, d.id);
	assert.deepEqual(entry.attempts.map((x) => [x.attempt, x.status_code, x.outcome]),
	    [[1, 500, 'retry'], [2, 500, 'retry'], [3, 204, 'delivered']]);
	assert.match(entry.received_timestamp, /Z$/);
	assert.match(entry.processed_timestamp, /Z$/);
	// Filters.
	const f = async (q) => expectJson(await as(admin, 'GET', `/api/accounts/${a.id}/logs/?${q}`), 200).logs.length;
	assert.equal(await f('status=success'), 1);
	assert.equal(await f('status=failed'), 0);
	assert.equal(await f(`destination_id=${d.id}`), 1);
	assert.equal(await f(`destination_id=${crypto.randomUUID()}`), 0);
	assert.equal(await f('received_timestamp=2000-01-01T00:00:00Z'), 1);
	assert.equal(await f('received_timestamp=2999-01-01T00:00:00Z'), 0);
	assert.equal(await f('processed_timestamp=2000-01-01'), 0);
	expectJson(await as(admin, 'GET', `/api/accounts/${a.id}/logs/?status=weird`), 400);
	expectJson(await as(admin, 'GET', `/api/accounts/${a.id}/logs/?received_timestamp=yesterday`), 400);
});

test('Retry-After is honoured when longer than the schedule', async () => {
	const a = await account(admin);
	const p = hookPath('later');
	sink.handlers.set(p, (req, res, e, count) => {
		if (count === 1) {
			res.statusCode = 503;
			res.setHeader('Retry-After', '2');
		}
		res.end();
	});
	const d = await destination(admin, a, p);
	const eventId = await send(a, { x: 1 });
	assert.equal(await finalState(deliveriesOf(a, eventId)[d.id].id), 'delivered');
	const got = sink.requests(p);
	assert.equal(got.length, 2);
	assert.ok(got[1].at - got[0].at >= 1900, `waited ${got[1].at - got[0].at} ms`);
});

test('410 Gone disables the destination: failed now, not queued for later events; an update enables it', async () => {
	const a = await account(admin);
	const p = hookPath('gone');
	sink.handlers.set(p, (req, res) => { res.statusCode = 410; res.end(); });
	const d = await destination(admin, a, p);
	const first = await send(a, { x: 1 });
	const { id } = deliveriesOf(a, first)[d.id];
	assert.equal(await finalState(id), 'failed');
	assert.equal(sink.requests(p).length, 1);
	const got = expectJson(await as(admin, 'GET', `/api/destinations/${d.id}/`), 200);
	assert.match(got.disabled_at, /Z$/);
	const second = await send(a, { x: 2 });
	assert.deepEqual(deliveriesOf(a, second), {});
	sink.handlers.delete(p);
	const patched = expectJson(await as(admin, 'PATCH', `/api/destinations/${d.id}/`, { headers: {} }), 200);
	assert.equal(patched.disabled_at, null);
	const third = await send(a, { x: 3 });
	assert.equal(await finalState(deliveriesOf(a, third)[d.id].id), 'delivered');
});

test('a receiver that hangs times out, is retried, and the delivery fails once the schedule ends; an Admin retries it as a new delivery', { timeout: 60000 }, async () => {
	const a = await account(admin);
	const p = hookPath('hang');
	let hang = true;
	sink.handlers.set(p, (req, res) => {
		if (hang)
			sink.held.push(res);
		else
			res.end('ok');
	});
	const d = await destination(admin, a, p);
	const eventId = await send(a, { slow: true });
	const { id } = deliveriesOf(a, eventId)[d.id];
	assert.equal(await finalState(id), 'failed');
	const tries = sql('SELECT outcome, error, duration_ms FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt', [id]);
	assert.equal(tries.length, 4, 'the first try and three retries');
	assert.deepEqual(tries.map((t) => t[0]), ['retry', 'retry', 'retry', 'failed']);
	for (const t of tries) {
		assert.match(t[1], /timed out|Timeout/i);
		assert.ok(Number(t[2]) >= 900 && Number(t[2]) < 5000, `duration ${t[2]}`);
	}
	const failed = expectJson(await as(admin, 'GET', `/api/accounts/${a.id}/logs/?status=failed`), 200).logs;
	assert.equal(failed.length, 1);
	// The Admin's retry: a new delivery; the failed one keeps its history.
	hang = false;
	const r = expectJson(await as(admin, 'POST', `/api/accounts/${a.id}/logs/${id}/retry/`), 202);
	assert.equal(r.replay_of, id);
	assert.notEqual(r.delivery_id, id);
	assert.equal(await finalState(r.delivery_id), 'delivered');
	assert.equal(sql.value('SELECT state FROM deliveries WHERE id = ?', [id]), 'failed');
	assert.equal(sql.count('SELECT COUNT(*) FROM delivery_attempts WHERE delivery_id = ?', [id]), 4);
	const log = expectJson(await as(admin, 'GET', `/api/accounts/${a.id}/logs/`), 200).logs;
	assert.deepEqual(log.map((x) => [x.delivery_id, x.status, x.replay_of]), [[r.delivery_id, 'success', id], [id, 'failed', null]]);
	// Replay of the range: every failed delivery again.
	sink.handlers.delete(p);
	const rp = expectJson(await as(admin, 'POST', `/api/accounts/${a.id}/replay/`, { status: 'failed', received_from: '2000-01-01T00:00:00Z' }), 202);
	assert.equal(rp.queued, 1);
	const user2 = await user();
	expectJson(await as(user2, 'POST', `/api/accounts/${a.id}/logs/${id}/retry/`), 404);
	expectJson(await as(admin, 'POST', `/api/accounts/${a.id}/logs/999999999/retry/`), 404);
});

test('the give-up window: a delivery queued too long ago fails instead of waiting again', async () => {
	const a = await account(admin);
	const p = hookPath('old');
	let release;
	const gate = new Promise((resolve) => { release = resolve; });
	sink.handlers.set(p, async (req, res) => { await gate; res.statusCode = 500; res.end(); });
	const d = await destination(admin, a, p);
	const eventId = await send(a, { x: 1 });
	const { id } = deliveriesOf(a, eventId)[d.id];
	await until('the first try to reach the sink', () => sink.requests(p).length === 1);
	sql('UPDATE webhook_deliveries SET created_at = UTC_TIMESTAMP(6) - INTERVAL 3 DAY WHERE delivery_id = ?', [id]);
	release();
	// The try under way read the age before the change: the next one
	// (200 ms later, not the 24 h of a full schedule) gives up.
	assert.equal(await finalState(id), 'failed');
	assert.match(sql.value('SELECT last_error FROM deliveries WHERE id = ?', [id]), /gave up/);
	assert.deepEqual(sql('SELECT outcome FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt', [id]).map((r) => r[0]),
	    ['retry', 'failed']);
	assert.equal(sink.requests(p).length, 2);
});

test('a dispatcher killed with SIGKILL mid-send: its claim expires and the delivery is made after restart (at least once)', { timeout: 60000 }, async () => {
	const a = await account(admin);
	const p = hookPath('killed');
	let first = true;
	sink.handlers.set(p, (req, res) => {
		if (first) {
			first = false;
			sink.held.push(res);
		} else
			res.end('ok');
	});
	const d = await destination(admin, a, p);
	const eventId = await send(a, { x: 'survive' });
	const { id } = deliveriesOf(a, eventId)[d.id];
	await until('the first try to reach the sink', () => sink.requests(p).length === 1);
	const pid = Number(fs.readFileSync(path.join(stack.var, 'run', 'fastback-dispatcher.pid'), 'utf8'));
	process.kill(pid, 'SIGKILL');
	await until('the dispatcher to die', () => {
		try {
			process.kill(pid, 0);
			return false;
		} catch {
			return true;
		}
	});
	assert.equal(sql.value('SELECT state FROM deliveries WHERE id = ?', [id]), 'sending');
	await stack.start(ENV);
	assert.equal(await finalState(id), 'delivered');
	assert.ok(sink.requests(p).length >= 2);
	diag(`delivered after ${sink.requests(p).length} requests to the sink`);
});

test('two dispatchers at once: 40 events to 2 destinations, every delivery made exactly once', { timeout: 60000 }, async () => {
	const bin = path.join(process.env.FASTBACK_BUILD, 'fastback-dispatcher');
	const logFile = path.join(stack.logDir, 'fastback-dispatcher-2.log');
	const log = fs.openSync(logFile, 'a');
	const extra = spawn(bin, ['--config', path.join(stack.var, 'config.ini')], {
		env: { ...process.env, ...ENV }, stdio: ['ignore', log, log],
	});
	fs.closeSync(log);
	const exited = new Promise((resolve) => extra.once('exit', (code, signal) => resolve({ code, signal })));
	try {
		await until('the second dispatcher to start', () =>
			fs.readFileSync(logFile, 'utf8').includes(`fastback-dispatcher[${extra.pid}]: info started as`));
		const a = await account(admin);
		const p1 = hookPath('two-a');
		const p2 = hookPath('two-b');
		for (const p of [p1, p2])
			sink.handlers.set(p, (req, res) => setTimeout(() => res.end('ok'), 20));
		await destination(admin, a, p1);
		await destination(admin, a, p2);
		for (let i = 0; i < 40; i++)
			await send(a, { i });
		await until('80 deliveries', () => sql.count(`SELECT COUNT(*) FROM webhook_deliveries w JOIN deliveries d ON d.id = w.delivery_id
		    WHERE w.account_id = ? AND d.state = 'delivered'`, [a.id]) === 80, 30000);
		const ids = [...sink.requests(p1), ...sink.requests(p2)].map((e) => e.headers['webhook-id']);
		assert.equal(ids.length, 80);
		assert.equal(new Set(ids).size, 80, 'no delivery sent twice');
		const text = fs.readFileSync(logFile, 'utf8');
		diag(`the second dispatcher delivered ${(text.match(/channel=webhook attempt=1 outcome=delivered/g) || []).length}`);
	} finally {
		extra.kill('SIGTERM');
		const timer = setTimeout(() => extra.kill('SIGKILL'), 10000);
		await exited;
		clearTimeout(timer);
	}
});

test('SSRF: with private addresses refused, loopback, private and link-local URLs are refused at save and at send', { timeout: 120000 }, async () => {
	const a = await account(admin);
	const p = hookPath('ssrf');
	// Saved while loopback is allowed (the dev stack), sent when it is not.
	const d = await destination(admin, a, p);
	const byName = await destination(admin, a, p, { url: `http://localhost:${sink.port}${p}` });
	await stack.restart({ ...ENV, FASTBACK_WEBHOOK_ALLOW_PRIVATE: 'no' });
	for (const url of ['http://127.0.0.1/', 'http://10.0.0.1/', 'http://[::1]/', `http://localhost:${sink.port}/`,
		'http://169.254.169.254/', 'http://192.168.1.1/', 'http://[::ffff:127.0.0.1]/', 'http://2130706433/',
		'http://0x7f.1/', 'http://[fd00::1]/']) {
		const res = await as(admin, 'POST', '/api/destinations/', { account: a.id, url, http_method: 'POST' });
		assert.ok(expectJson(res, 400).url, `${url}: ${res.text}`);
		const upd = await as(admin, 'PATCH', `/api/destinations/${d.id}/`, { url });
		assert.equal(upd.status, 400, url);
	}
	const eventId = await send(a, { x: 1 });
	const rows = deliveriesOf(a, eventId);
	for (const dest of [d, byName]) {
		assert.equal(await finalState(rows[dest.id].id), 'failed');
		assert.match(rows[dest.id].error || sql.value('SELECT last_error FROM deliveries WHERE id = ?', [rows[dest.id].id]),
		    /refused to connect: a loopback address/);
		assert.equal(sql.count('SELECT COUNT(*) FROM delivery_attempts WHERE delivery_id = ?', [rows[dest.id].id]), 1,
		    'a refused address is final');
	}
	assert.equal(sink.requests(p).length, 0);
	await stack.restart(ENV);
});
