// 106-users-bad-input.test.js -- hostile and broken input on every users
// route: malformed JSON, bodies that are not objects, oversized bodies,
// wrong types, invalid UTF-8, SQL-looking strings and unicode (stored and
// returned byte for byte), huge and non-integer ids, forged tokens.  Each
// refusal is a clear JSON error in the route's envelope and writes nothing.
'use strict';

const { test, api, sql, assert, expectJson } = require('./lib');
const { signJwt, userRow, expectEnvelope } = require('./lib/auth-helpers');
const { member } = require('./lib/users-family');

// Each body route with its seed's envelope and a method.
const BODY_ROUTES = [
	['POST', '/edit_user', '001'],
	['POST', '/edit_user_info', '001'],
	['POST', '/delete_account', '001'],
	['PUT', '/api/users/{id}', '002'],
	['PATCH', '/api/users/me', 'fastback'],
	['POST', '/api/user/profile', '003'],
	['POST', '/api/user/fetch_profile', '003'],
	['POST', '/api/user/get_all_users', '003'],
	['POST', '/api/user/register_device', '003'],
	['POST', '/api/user/unregister_device', '003'],
];

let u;
let snapshot;

// Everything a refused request could have changed.
function state() {
	return {
		user: userRow(u.id),
		users: sql.count('SELECT COUNT(*) FROM users'),
		devices: sql.count('SELECT COUNT(*) FROM devices'),
		events: sql.count('SELECT COUNT(*) FROM events'),
		revoked: sql.count('SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL'),
	};
}

function pathOf(p) {
	return p.replace('{id}', String(u.id));
}

test('a user, and the state to hold unchanged', async () => {
	u = await member('002');
	snapshot = state();
});

test('malformed JSON, a body that is not an object, invalid UTF-8: 400 in each route\'s envelope', async () => {
	const bodies = ['{"new_username": ', '{bad json}', "{'a': 1}", '[1, 2]', '"text"', 'null', '{"a":1} trailing',
		Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])];
	for (const [method, p, seed] of BODY_ROUTES) {
		for (const body of bodies) {
			const res = await api(method, pathOf(p), {
				token: u.token, body, headers: { 'Content-Type': 'application/json' },
			});
			const json = expectEnvelope(res, 400, seed, seed === '003' ? 'Invalid request parameters.' : undefined);
			assert.equal(json.error, 'invalid_json', `${method} ${p} ${body}`);
		}
	}
	assert.deepEqual(state(), snapshot);
});

test('a body over 1 MiB is a 413 in JSON, before any handler', async () => {
	for (const [method, p] of BODY_ROUTES) {
		const res = await api(method, pathOf(p), {
			token: u.token, body: `{"first_name": "${'x'.repeat(2 * 1024 * 1024)}"}`,
			headers: { 'Content-Type': 'application/json' },
		});
		assert.equal(expectJson(res, 413).error, 'payload_too_large', `${method} ${p}`);
	}
	assert.deepEqual(state(), snapshot);
});

test('wrong types are 400s naming the field', async () => {
	const cases = [
		['POST', '/edit_user', { new_username: 123, current_password: 'x' }, 'new_username'],
		['POST', '/edit_user', { new_password: ['a'], current_password: 'x' }, 'new_password'],
		['POST', '/edit_user_info', { new_age: { n: 1 }, current_password: 'x' }, 'new_age'],
		['POST', '/delete_account', { password: 12345678 }, 'password'],
		['PUT', '/api/users/{id}', { email: 5 }, 'email'],
		['PUT', '/api/users/{id}', { avatar_url: false }, 'avatar_url'],
		['PUT', '/api/users/{id}', { email: 'not-an-email' }, 'email'],
		['PATCH', '/api/users/me', { age: '1e2' }, 'age'],
		['PATCH', '/api/users/me', { username: ' padded ' }, 'username'],
		['POST', '/api/user/profile', { first_name: null, last_name: [] }, 'last_name'],
		['POST', '/api/user/register_device', { device_id: { id: 'x' } }, 'device_id'],
		['POST', '/api/user/get_all_users', { email: 42 }, 'email'],
	];
	for (const [method, p, json, field] of cases) {
		const res = await api(method, pathOf(p), { token: u.token, json });
		assert.equal(res.status, 400, `${method} ${p} ${JSON.stringify(json)}: ${res.text}`);
		assert.ok(res.json.fields && res.json.fields[field], `${field} named: ${res.text}`);
	}
	assert.deepEqual(state(), snapshot);
});

test('SQL-looking strings and unicode are stored and returned as sent', async () => {
	const names = {
		first: "Robert'); DROP TABLE users;--",
		last: 'Zoë 名前 🚀 \\ " \u00e9',
	};
	const body = expectJson(await api.patch('/api/users/me', {
		token: u.token, json: { first_name: names.first, last_name: names.last },
	}), 200);
	assert.equal(body.user.first_name, names.first);
	assert.equal(body.user.last_name, names.last);
	const row = userRow(u.id);
	assert.equal(row.first_name, names.first);
	assert.equal(row.last_name, names.last);
	const fetched = expectJson(await api.post('/api/user/fetch_profile', { token: u.token, json: {} }), 200);
	assert.equal(fetched.users.last_name, names.last);
	assert.ok(sql.count('SELECT COUNT(*) FROM users') >= 1, 'the table is still there');
	// A username that looks like SQL is only a name.
	const odd = `x' OR '1'='1-${Date.now()}`;
	expectJson(await api.put(`/api/users/${u.id}`, { token: u.token, json: { username: odd } }), 200);
	assert.equal(userRow(u.id).username, odd);
	assert.equal(expectJson(await api.get(`/api/users/${u.id}`), 200).user.username, odd);
	snapshot = state();
});

test('a device id that looks like SQL or a path is refused or stored verbatim, never interpreted', async () => {
	const id = "a';DELETE/**/FROM/**/devices;--";
	expectJson(await api.post('/api/user/register_device', { token: u.token, json: { device_id: id } }), 200);
	assert.equal(sql.value('SELECT user_id FROM devices WHERE device_id = ?', [id]), String(u.id));
	expectJson(await api.post('/api/user/unregister_device', { token: u.token, json: { device_id: id } }), 200);
	expectEnvelope(await api.post('/api/user/register_device', { token: u.token, json: { device_id: 'ünï' } }), 400, '003',
	    'Invalid request parameters.', 'invalid_field', ['fields']);
	snapshot = state();
});

test('huge, negative, zero and non-integer ids are 404s; nothing is touched', async () => {
	for (const id of ['0', '-1', '9223372036854775808', '99999999999999999999999999', '1.0', '0x10', 'me2', '1%3B2',
		'%F0%9F%9A%80', "1'OR'1'='1"]) {
		expectEnvelope(await api.get(`/api/users/${id}`), 404, '002', 'User not found');
		expectEnvelope(await api.put(`/api/users/${id}`, { token: u.token, json: { username: 'x' } }), 404, '002');
		expectEnvelope(await api.delete(`/api/users/${id}`, { token: u.token }), 404, '002');
	}
	expectEnvelope(await api.get('/api/users/9223372036854775807'), 404, '002', 'User not found');
	assert.deepEqual(state(), snapshot);
});

test('forged tokens (alg none, another key, another user\'s id) are 401s everywhere', async () => {
	const now = Math.floor(Date.now() / 1000);
	const claims = { sub: String(u.id), jti: '0'.repeat(32), iat: now, exp: now + 600, iss: 'fastback' };
	const forged = [
		signJwt(claims, { alg: 'none' }),
		signJwt(claims, { secret: 'x'.repeat(40) }),
		signJwt(claims),
	];
	for (const token of forged) {
		for (const [method, p, seed] of BODY_ROUTES)
			expectEnvelope(await api(method, pathOf(p), { token, json: {} }), 401, seed);
		expectEnvelope(await api.delete(`/api/users/${u.id}`, { token }), 401, '002');
		expectEnvelope(await api.get('/api/users/me/sessions', { token }), 401, 'fastback');
	}
	assert.deepEqual(state(), snapshot);
});

test('unknown methods are 405s with Allow; unknown paths under /api/users/me are 404s', async () => {
	let res = await api.post('/api/users/me', { token: u.token, json: {} });
	expectJson(res, 405);
	assert.match(res.headers.get('allow'), /GET/);
	assert.match(res.headers.get('allow'), /PATCH/);
	res = await api.get('/edit_user', { token: u.token });
	expectJson(res, 405);
	expectJson(await api.get('/api/users/me/nothing', { token: u.token }), 404);
	// /api/user/ paths of other families are not swallowed by this one.
	expectJson(await api.post('/api/user/signin', { json: {} }), 400);
	assert.deepEqual(state(), snapshot);
});
