// 105-users-push.test.js -- the dispatcher's push channel for real.  Rows
// are queued in deliveries the way outbox_push() writes them (channel
// 'push', target "user:<id>", payload {device_ids, title, body, data}); the
// gateway is an HTTP server on loopback that this file starts and whose
// answers it picks per push.  Checked: no gateway means recorded and not
// sent; the POST's body and headers; retries after 5xx, 429 and timeouts;
// a final failure on other 4xx; only devices still the user's are sent;
// bad payloads; a gateway that is down; the secret masked in config dumps.
'use strict';

const http = require('node:http');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { test, after, api, sql, stack, until, assert, expectJson } = require('./lib');
const { member, addDevice, deviceId } = require('./lib/users-family');

const BACKOFF_MS = 200;
const MAX_ATTEMPTS = 3;
const SECRET = 'key=push-test-secret';

// ---------------------------------------------------------------- queue

// Queue a push as outbox_push() does; payload is a value or raw JSON text.
// Returns the delivery id.
function queuePush(target, payload) {
	const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
	return sql(`INSERT INTO deliveries (channel, target, payload) VALUES ('push', ?, ?);
	    SELECT LAST_INSERT_ID()`, [target, text])[0][0];
}

function push(userId, deviceIds, title = 'New Message from Ann', body = 'Hello there', data = { conversation_id: 7 }) {
	return queuePush(`user:${userId}`, { device_ids: deviceIds, title, body, data });
}

function row(id) {
	const [state, attempts, status, error, payload] = sql(`SELECT state, attempts, last_status, last_error, payload
	    FROM deliveries WHERE id = ?`, [id])[0];
	return { state, attempts: Number(attempts), status: status === null ? null : Number(status), error,
		payload: JSON.parse(payload) };
}

// "attempt:outcome:status" of each try.
function tries(id) {
	return sql(`SELECT attempt, outcome, COALESCE(status_code, '-') FROM delivery_attempts
	    WHERE delivery_id = ? ORDER BY attempt`, [id]).map((r) => r.join(':'));
}

async function settled(id) {
	return until(`push ${id} to finish`, () => {
		const r = row(id);
		return ['delivered', 'failed', 'cancelled'].includes(r.state) ? r : null;
	}, 20000);
}

// ---------------------------------------------------------------- gateway

// An HTTP push gateway on loopback.  rules maps a push's first device id
// to { status, times, delay }: its first `times` requests wait `delay` ms
// and answer `status`; later ones (and pushes without a rule) answer 200.
const gateway = {
	server: null,
	port: 0,
	requests: [],
	rules: new Map(),
	tries: new Map(),

	get url() { return `http://127.0.0.1:${this.port}/push`; },

	received(device) {
		return this.requests.filter((r) => r.json && r.json.device_ids && r.json.device_ids[0] === device);
	},

	async listen(port = 0) {
		this.server = http.createServer((req, res) => {
			const chunks = [];
			req.on('data', (c) => chunks.push(c));
			req.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				let json;
				try {
					json = JSON.parse(text);
				} catch {
					json = undefined;
				}
				this.requests.push({ method: req.method, url: req.url, headers: req.headers, text, json });
				const key = json && json.device_ids ? json.device_ids[0] : '';
				const n = (this.tries.get(key) || 0) + 1;
				this.tries.set(key, n);
				const rule = this.rules.get(key);
				const hit = rule && n <= rule.times;
				setTimeout(() => {
					if (res.destroyed)
						return;
					res.writeHead(hit ? rule.status : 200, { 'Content-Type': 'application/json' });
					res.end(hit ? '{"error": "test"}' : '{"ok": true}');
				}, hit ? rule.delay || 0 : 0);
			});
		});
		await new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
		this.port = this.server.address().port;
	},

	async close() {
		if (!this.server)
			return;
		const server = this.server;
		this.server = null;
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
	},
};

after(() => gateway.close());

let u;

test('a user with two devices', async () => {
	u = await member('003');
	u.devices = [addDevice(u.id, deviceId('push-a')), addDevice(u.id, deviceId('push-b'))];
});

test('without [push] gateway_url (the default) a push is recorded as delivered, not sent, and says why', async () => {
	const id = push(u.id, u.devices);
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	assert.equal(r.attempts, 1);
	assert.match(r.payload.skipped, /gateway_url/);
	assert.deepEqual(r.payload.device_ids, u.devices, 'the rest of the payload stays');
	assert.deepEqual(tries(id), ['1:delivered:-']);
});

test('the stack restarts with its dispatcher posting to the test gateway, fast and with few attempts', { timeout: 120000 }, async () => {
	await gateway.listen();
	await stack.restart({
		FASTBACK_PUSH_GATEWAY_URL: gateway.url,
		FASTBACK_PUSH_AUTHORIZATION: SECRET,
		FASTBACK_PUSH_TIMEOUT: '1',
		FASTBACK_DISPATCHER_POLL_MS: '50',
		FASTBACK_DISPATCHER_BACKOFF_MS: String(BACKOFF_MS),
		FASTBACK_DISPATCHER_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
	});
	expectJson(await api.get('/api/ping'), 200);
});

test('a push is POSTed as JSON {device_ids, title, body, data} with the configured Authorization; 200 delivers it', async () => {
	const data = { conversation_id: 12, kind: 'message', text: 'ünïcödé ✓' };
	const id = push(u.id, u.devices, 'New Message from Zoë', 'Grüße 🚀', data);
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	assert.equal(r.status, 200);
	assert.equal(r.error, null);
	assert.equal(r.payload.skipped, undefined);
	assert.deepEqual(tries(id), ['1:delivered:200']);
	const got = gateway.received(u.devices[0]);
	assert.equal(got.length, 1);
	assert.equal(got[0].method, 'POST');
	assert.equal(got[0].url, '/push');
	assert.equal(got[0].headers['content-type'], 'application/json');
	assert.equal(got[0].headers.authorization, SECRET);
	assert.deepEqual(got[0].json, { device_ids: u.devices, title: 'New Message from Zoë', body: 'Grüße 🚀', data });
});

test('a payload without data is sent with data {}', async () => {
	const dev = addDevice(u.id, deviceId('nodata'));
	const id = queuePush(`user:${u.id}`, { device_ids: [dev], title: 't', body: 'b' });
	assert.equal((await settled(id)).state, 'delivered');
	assert.deepEqual(gateway.received(dev)[0].json, { device_ids: [dev], title: 't', body: 'b', data: {} });
});

test('500 twice, then 200: retried with the backoff, every attempt recorded', async () => {
	const dev = addDevice(u.id, deviceId('flaky'));
	gateway.rules.set(dev, { status: 500, times: 2 });
	const id = push(u.id, [dev]);
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	assert.equal(r.attempts, 3);
	assert.deepEqual(tries(id), ['1:retry:500', '2:retry:500', '3:delivered:200']);
	assert.equal(gateway.received(dev).length, 3);
});

test('503 every time: failed after max_attempts, with the last status and error', async () => {
	const dev = addDevice(u.id, deviceId('down'));
	gateway.rules.set(dev, { status: 503, times: Infinity });
	const id = push(u.id, [dev]);
	const r = await settled(id);
	assert.equal(r.state, 'failed');
	assert.equal(r.attempts, MAX_ATTEMPTS);
	assert.equal(r.status, 503);
	assert.match(r.error, /503/);
	assert.deepEqual(tries(id), ['1:retry:503', '2:retry:503', '3:failed:503']);
});

test('429 and 408 are retried; 400, 401 and 404 fail at once', async () => {
	for (const [status, expected] of [[429, ['1:retry:429', '2:delivered:200']], [408, ['1:retry:408', '2:delivered:200']],
		[400, ['1:failed:400']], [401, ['1:failed:401']], [404, ['1:failed:404']]]) {
		const dev = addDevice(u.id, deviceId(`s${status}`));
		gateway.rules.set(dev, { status, times: 1 });
		const id = push(u.id, [dev]);
		const r = await settled(id);
		assert.deepEqual(tries(id), expected, `status ${status}`);
		assert.equal(r.state, expected.length === 1 ? 'failed' : 'delivered');
	}
});

test('a gateway slower than [push] timeout is retried', async () => {
	const dev = addDevice(u.id, deviceId('slow'));
	gateway.rules.set(dev, { status: 200, times: 1, delay: 2500 });
	const id = push(u.id, [dev]);
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	const t = tries(id);
	assert.equal(t[0], '1:retry:-');
	assert.equal(t[t.length - 1].split(':')[1], 'delivered');
	const err = sql.value('SELECT error FROM delivery_attempts WHERE delivery_id = ? AND attempt = 1', [id]);
	assert.match(err, /time/i);
});

test('only the devices still registered to the user are sent; none left means not sent', async () => {
	const other = await member('003');
	const mine = addDevice(u.id, deviceId('still'));
	const moved = addDevice(other.id, deviceId('moved'));
	const id = push(u.id, [mine, moved, deviceId('gone')]);
	assert.equal((await settled(id)).state, 'delivered');
	assert.deepEqual(gateway.received(mine)[0].json.device_ids, [mine]);

	const none = push(u.id, [moved]);
	const r = await settled(none);
	assert.equal(r.state, 'delivered');
	assert.match(r.payload.skipped, /no device/);
	assert.equal(gateway.requests.some((q) => q.json.device_ids.includes(moved)), false, 'another user\'s device');

	// A deleted user's devices went with them.
	const gone = await member('003');
	const dev = addDevice(gone.id, deviceId('deleted'));
	expectJson(await api.delete(`/api/users/${gone.id}`, { token: gone.token }), 200);
	const late = push(gone.id, [dev]);
	assert.match((await settled(late)).payload.skipped, /no device/);
	assert.equal(gateway.received(dev).length, 0);
});

test('bad payloads and targets fail at the first attempt, without a request', async () => {
	const dev = addDevice(u.id, deviceId('bad'));
	const before = gateway.requests.length;
	const bad = [
		[`user:${u.id}`, { device_ids: dev, title: 't', body: 'b' }],
		[`user:${u.id}`, { device_ids: [dev, 7], title: 't', body: 'b' }],
		[`user:${u.id}`, { device_ids: [dev], body: 'b' }],
		[`user:${u.id}`, { device_ids: [dev], title: 't', body: 5 }],
		[`user:${u.id}`, '[1, 2]'],
		['device-token', { device_ids: [dev], title: 't', body: 'b' }],
		['user:abc', { device_ids: [dev], title: 't', body: 'b' }],
	];
	for (const [target, payload] of bad) {
		const id = queuePush(target, payload);
		const r = await settled(id);
		assert.equal(r.state, 'failed', JSON.stringify(payload));
		assert.equal(r.attempts, 1);
		assert.ok(r.error, 'the reason is recorded');
	}
	assert.equal(gateway.requests.length, before);
});

test('a gateway that refuses connections: retried, then failed with the connection error', async () => {
	const dev = addDevice(u.id, deviceId('refused'));
	const port = gateway.port;
	await gateway.close();
	const id = push(u.id, [dev]);
	const r = await settled(id);
	assert.equal(r.state, 'failed');
	assert.deepEqual(tries(id), ['1:retry:-', '2:retry:-', '3:failed:-']);
	assert.match(r.error, /connect/i);
	await gateway.listen(port);
});

test('the authorization secret is masked in --print-config', async () => {
	const bin = path.join(process.env.FASTBACK_BUILD, 'fastback-users');
	const { stdout } = await promisify(execFile)(bin, ['--config', path.join(stack.var, 'config.ini'), '--print-config'], {
		env: { ...process.env, FASTBACK_PUSH_AUTHORIZATION: SECRET, FASTBACK_PUSH_GATEWAY_URL: gateway.url },
	});
	const section = stdout.slice(stdout.indexOf('[push]'));
	assert.match(section, /gateway_url = http:\/\/127\.0\.0\.1/);
	assert.match(section, /authorization = \(set\)/);
	assert.equal(stdout.includes('push-test-secret'), false);
});
