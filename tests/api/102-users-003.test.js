// 102-users-003.test.js -- seed 003's user routes: profile, fetch_profile,
// get_all_users, register_device and unregister_device, in 003's envelope
// ({"status_code", "message", ...}, HTTP status = status_code).  Identity
// comes from the token; a body "email" naming someone else is a 403.  Also
// the cross-seed path: a user registered through 002, edited through 001,
// seen through 003.
'use strict';

const { test, api, sql, assert, expectJson } = require('./lib');
const { registerVia, loginVia, userRow, expectEnvelope } = require('./lib/auth-helpers');
const { member, deviceId, devicesOf, deviceOwner } = require('./lib/users-family');

let a;
let b;

test('two users signed up through 003', async () => {
	a = await member('003');
	b = await member('003');
});

test('profile: first_name, last_name and profile_image change; 003\'s answer', async () => {
	const body = expectJson(await api.post('/api/user/profile', {
		token: a.token,
		json: { email: a.email, first_name: 'John', last_name: 'Doe', profile_image: 'https://example.com/image.jpg' },
	}), 200);
	assert.equal(body.status_code, 200);
	assert.equal(body.message, 'User Signup successful');
	assert.equal(body.users.first_name, 'John');
	const row = userRow(a.id);
	assert.deepEqual([row.first_name, row.last_name, row.avatar_url], ['John', 'Doe', 'https://example.com/image.jpg']);
});

test('profile: fields not sent stay; the e-mail may be left out or sent in another case', async () => {
	expectJson(await api.post('/api/user/profile', { token: a.token, json: { last_name: 'Smith' } }), 200);
	expectJson(await api.post('/api/user/profile', {
		token: a.token, json: { email: a.email.toUpperCase(), first_name: 'Jon' },
	}), 200);
	const row = userRow(a.id);
	assert.deepEqual([row.first_name, row.last_name, row.avatar_url], ['Jon', 'Smith', 'https://example.com/image.jpg']);
});

test('profile: another user\'s e-mail in the body is a 403 and nothing changes', async () => {
	const before = userRow(b.id);
	const mine = userRow(a.id);
	expectEnvelope(await api.post('/api/user/profile', {
		token: a.token, json: { email: b.email, first_name: 'Mallory' },
	}), 403, '003', undefined, 'forbidden');
	assert.deepEqual(userRow(b.id), before);
	assert.deepEqual(userRow(a.id), mine);
});

test('profile: bad fields are a 400 "Invalid request parameters."; no token a 401', async () => {
	const before = userRow(a.id);
	for (const json of [{ profile_image: 'not a url' }, { profile_image: 'javascript:alert(1)' }, { first_name: 7 },
		{ last_name: 'x'.repeat(151) }, { email: 12 }]) {
		const body = expectEnvelope(await api.post('/api/user/profile', { token: a.token, json }),
		    400, '003', 'Invalid request parameters.', 'invalid_field', ['fields']);
		assert.equal(Object.keys(body.fields).length, 1);
	}
	expectEnvelope(await api.post('/api/user/profile', { json: { email: a.email, first_name: 'X' } }),
	    401, '003', 'Authorization token is missing', 'missing_token');
	assert.deepEqual(userRow(a.id), before);
});

test('fetch_profile: the caller\'s profile under "users"; someone else\'s e-mail is a 403', async () => {
	const body = expectJson(await api.post('/api/user/fetch_profile', { token: a.token, json: { email: a.email } }), 200);
	assert.equal(body.status_code, 200);
	assert.equal(body.message, 'Profile fetched successfully');
	assert.deepEqual(Object.keys(body.users).sort(), ['created_on', 'email', 'first_name', 'last_name', 'profile_image']);
	assert.equal(body.users.email, a.email);
	assert.equal(body.users.first_name, 'Jon');
	assert.equal(body.users.profile_image, 'https://example.com/image.jpg');
	assert.match(body.users.created_on, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
	expectJson(await api.post('/api/user/fetch_profile', { token: a.token, json: {} }), 200);
	expectEnvelope(await api.post('/api/user/fetch_profile', { token: a.token, json: { email: b.email } }), 403, '003');
	expectEnvelope(await api.post('/api/user/fetch_profile', { json: { email: a.email } }), 401, '003');
});

test('get_all_users: everyone but the caller, newest first, with e-mails and names; pages', async () => {
	const body = expectJson(await api.post('/api/user/get_all_users', { token: a.token, json: { email: a.email } }), 200);
	assert.equal(body.status_code, 200);
	assert.equal(body.message, 200, 'the original put the number 200 in message');
	assert.equal(body.users.some((u) => u.id === a.id), false, 'not the caller');
	const other = body.users.find((u) => u.email === b.email);
	assert.ok(other);
	assert.equal(other.uid, b.id);
	for (const k of ['email', 'first_name', 'last_name', 'profile_image', 'username', 'id', 'uid'])
		assert.ok(k in other, k);
	assert.equal(other.password_hash, undefined);
	const ids = body.users.map((u) => u.id);
	assert.deepEqual(ids, [...ids].sort((x, y) => y - x));

	const page = expectJson(await api.post('/api/user/get_all_users?limit=1', { token: b.token, json: {} }), 200);
	assert.equal(page.users.length, 1);
	expectEnvelope(await api.post('/api/user/get_all_users?limit=0', { token: b.token, json: {} }), 400, '003',
	    'Invalid request parameters.', 'invalid_field', ['fields']);
	expectEnvelope(await api.post('/api/user/get_all_users', { token: a.token, json: { email: b.email } }), 403, '003');
	expectEnvelope(await api.post('/api/user/get_all_users', { json: {} }), 401, '003');
});

test('register_device: added, then "already exists"; the row is the caller\'s', async () => {
	const dev = deviceId('reg');
	let body = expectJson(await api.post('/api/user/register_device', {
		token: a.token, json: { email: a.email, device_id: dev },
	}), 200);
	assert.deepEqual(body, { status_code: 200, message: 'Device added successfully.' });
	body = expectJson(await api.post('/api/user/register_device', { token: a.token, json: { device_id: dev } }), 200);
	assert.deepEqual(body, { status_code: 200, message: 'Device already exists.' });
	assert.equal(deviceOwner(dev), a.id);
	assert.equal(sql.count('SELECT COUNT(*) FROM devices WHERE device_id = ?', [dev]), 1);
});

test('register_device: a device id registered by someone else moves to the caller', async () => {
	const dev = deviceId('move');
	expectJson(await api.post('/api/user/register_device', { token: a.token, json: { device_id: dev } }), 200);
	const body = expectJson(await api.post('/api/user/register_device', { token: b.token, json: { device_id: dev } }), 200);
	assert.equal(body.message, 'Device added successfully.');
	assert.equal(deviceOwner(dev), b.id);
	assert.equal(devicesOf(a.id).includes(dev), false);
});

test('register_device: at most 20 devices per user; the 21st drops the one registered least recently', async () => {
	const c = await member('003');
	const ids = [];
	for (let i = 0; i < 21; i++) {
		ids.push(deviceId(`lim${String(i).padStart(2, '0')}`));
		expectJson(await api.post('/api/user/register_device', { token: c.token, json: { device_id: ids[i] } }), 200);
	}
	const left = devicesOf(c.id);
	assert.equal(left.length, 20);
	assert.equal(left.includes(ids[0]), false, 'the oldest went');
	assert.ok(left.includes(ids[20]));
});

test('register_device: bad device ids, someone else\'s e-mail, no token: refused, nothing written', async () => {
	const before = sql.count('SELECT COUNT(*) FROM devices');
	for (const json of [{}, { device_id: '' }, { device_id: 'has space' }, { device_id: 'x'.repeat(256) },
		{ device_id: 42 }, { device_id: ['a'] }, { device_id: 'naïve' }, { device_id: 'tab\there' }]) {
		expectEnvelope(await api.post('/api/user/register_device', { token: a.token, json }), 400, '003',
		    'Invalid request parameters.', undefined, ['fields']);
	}
	expectEnvelope(await api.post('/api/user/register_device', {
		token: a.token, json: { email: b.email, device_id: deviceId() },
	}), 403, '003', undefined, 'forbidden');
	expectEnvelope(await api.post('/api/user/register_device', { json: { device_id: deviceId() } }), 401, '003');
	assert.equal(sql.count('SELECT COUNT(*) FROM devices'), before);
	// 255 characters is the most a device id may have.
	expectJson(await api.post('/api/user/register_device', { token: a.token, json: { device_id: 'y'.repeat(255) } }), 200);
});

test('unregister_device: the caller\'s own device goes; someone else\'s or an unknown one is a 404, untouched', async () => {
	const mine = deviceId('unreg');
	const theirs = deviceId('theirs');
	expectJson(await api.post('/api/user/register_device', { token: a.token, json: { device_id: mine } }), 200);
	expectJson(await api.post('/api/user/register_device', { token: b.token, json: { device_id: theirs } }), 200);

	expectEnvelope(await api.post('/api/user/unregister_device', { token: a.token, json: { device_id: theirs } }),
	    404, '003', 'Device not found', 'not_found');
	assert.equal(deviceOwner(theirs), b.id, 'someone else\'s device stays');
	expectEnvelope(await api.post('/api/user/unregister_device', { token: a.token, json: { device_id: deviceId() } }),
	    404, '003', 'Device not found');

	const body = expectJson(await api.post('/api/user/unregister_device', {
		token: a.token, json: { email: a.email, device_id: mine },
	}), 200);
	assert.deepEqual(body, { status_code: 200, message: 'Device unregistered successfully' });
	assert.equal(deviceOwner(mine), undefined);
	expectEnvelope(await api.post('/api/user/unregister_device', { token: a.token, json: { device_id: mine } }), 404, '003');

	expectEnvelope(await api.post('/api/user/unregister_device', { token: a.token, json: {} }), 400, '003',
	    'Invalid request parameters.', undefined, ['fields']);
	expectEnvelope(await api.post('/api/user/unregister_device', {
		token: a.token, json: { email: b.email, device_id: theirs },
	}), 403, '003');
	expectEnvelope(await api.post('/api/user/unregister_device', { json: { device_id: theirs } }), 401, '003');
	assert.equal(deviceOwner(theirs), b.id);
});

test('cross-seed: registered through 002, edited through 001, seen through 003 and 002', async () => {
	const u = await registerVia('002');
	const t001 = await loginVia('001', u);
	expectJson(await api.post('/edit_user_info', {
		token: t001, json: { new_first_name: 'Cross', new_last_name: 'Seed', current_password: u.password },
	}), 200);
	const t003 = await loginVia('003', u);
	const body = expectJson(await api.post('/api/user/fetch_profile', { token: t003, json: { email: u.email } }), 200);
	assert.equal(body.users.first_name, 'Cross');
	assert.equal(body.users.last_name, 'Seed');
	const seen = expectJson(await api.get(`/api/users/${u.id}`, { token: t003 }), 200);
	assert.equal(seen.user.username, u.username);
	assert.equal(seen.user.email, u.email);
	// And a 003 profile picture is 002's avatar_url.
	expectJson(await api.post('/api/user/profile', { token: t003, json: { profile_image: 'https://example.com/p.png' } }), 200);
	assert.equal(expectJson(await api.get(`/api/users/${u.id}`), 200).user.avatar_url, 'https://example.com/p.png');
});
