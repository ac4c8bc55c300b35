// 400-destinations.test.js -- seed 004 (Datasync) accounts, roles, members
// and destinations through the API, with "Authorization: Token": shapes,
// every documented error, permissions as an outsider, as a User member and
// as an Admin of another account (with the rows checked unchanged), the
// save-time URL checks, incoming data, deleting a user, and the original
// project's own 12 test cases.
'use strict';

const {
	test, api, sql, assert, expectJson, newUser,
} = require('./lib');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const NOT_FOUND = { detail: 'Not found.', error: 'Not found.' };
const FORBIDDEN = 'You do not have permission to perform this action.';

// A user signed up and logged in through 004's own routes.
async function user(prefix = 'd4') {
	const u = newUser(prefix);
	expectJson(await api.post('/api/auth/signup/', { json: { email: u.email, password: u.password } }), 201);
	const login = expectJson(await api.post('/api/auth/login/', {
		json: { username: u.email, password: u.password },
	}), 200);
	const id = Number(sql.value('SELECT id FROM users WHERE email = ?', [u.email]));
	return { ...u, id, token: login.token };
}

// api() as user u, with 004's Token scheme.
function as(u, method, path, json) {
	const options = { token: u.token, tokenScheme: 'Token' };
	if (json !== undefined)
		options.json = json;
	return api(method, path, options);
}

let seq = 0;
function name(tag = 'Account') {
	seq += 1;
	return `${tag} ${Date.now().toString(36)}-${seq}`;
}

async function account(u, extra = {}) {
	return expectJson(await as(u, 'POST', '/api/accounts/', { account_name: name(), ...extra }), 201);
}

async function destination(u, acct, extra = {}) {
	return expectJson(await as(u, 'POST', '/api/destinations/', {
		account: acct.id, url: 'https://example.com/hook', http_method: 'POST', ...extra,
	}), 201);
}

async function addMember(admin, acct, member, role) {
	return expectJson(await as(admin, 'POST', `/api/accounts/${acct.id}/members/`, {
		user: member.id, role,
	}), 201);
}

// Everything a permission test must find unchanged.
function snapshot(acctId) {
	return JSON.stringify({
		a: sql('SELECT * FROM accounts WHERE id = ?', [acctId]),
		m: sql('SELECT * FROM account_members WHERE account_id = ? ORDER BY id', [acctId]),
		d: sql('SELECT * FROM destinations WHERE account_id = ? ORDER BY id', [acctId]),
	});
}

// ------------------------------------------------------------ the original's tests

test('original 1-5, 10-12: signup, duplicate, login, wrong password, logout, {} login, invalid e-mail, logout without credentials', async () => {
	const email = `new${Date.now()}@example.com`;
	expectJson(await api.post('/api/auth/signup/', { json: { email, password: 'newpass123' } }), 201);
	assert.equal(sql.count('SELECT COUNT(*) FROM users WHERE email = ?', [email]), 1);
	expectJson(await api.post('/api/auth/signup/', { json: { email, password: 'newpass123' } }), 400);
	const ok = expectJson(await api.post('/api/auth/login/', { json: { username: email, password: 'newpass123' } }), 200);
	assert.ok(ok.token);
	expectJson(await api.post('/api/auth/login/', { json: { username: email, password: 'wrong' } }), 400);
	expectJson(await api.post('/api/auth/logout/', { token: ok.token, tokenScheme: 'Token' }), 200);
	expectJson(await api.get('/api/accounts/', { token: ok.token, tokenScheme: 'Token' }), 401);
	expectJson(await api.post('/api/auth/login/', { json: {} }), 400);
	expectJson(await api.post('/api/auth/signup/', { json: { email: 'invalid-email', password: 'x12345678' } }), 400);
	expectJson(await api.post('/api/auth/logout/', {}), 401);
});

test('original 6-9: an Admin creates a second account (2 exist), lists 1+1, creates a destination, an invalid URL is 400', async () => {
	const admin = await user();
	const first = await account(admin);
	const res = await as(admin, 'POST', '/api/accounts/', {
		account_name: name('New Account'), created_by: 999999, updated_by: 999999,
	});
	const second = expectJson(res, 201);
	assert.equal(second.created_by, admin.id, 'created_by comes from the token');
	const list = expectJson(await as(admin, 'GET', '/api/accounts/'), 200);
	assert.deepEqual(list.map((a) => a.id).sort(), [first.id, second.id].sort());
	await destination(admin, first, { url: 'https://test.com/webhook', created_by: 1, updated_by: 1 });
	assert.equal(sql.count('SELECT COUNT(*) FROM destinations WHERE account_id = ?', [first.id]), 1);
	const bad = await as(admin, 'POST', '/api/destinations/', {
		account: first.id, url: 'invalid-url', http_method: 'POST',
	});
	assert.deepEqual(expectJson(bad, 400), { url: ['Enter a valid URL.'] });
	assert.equal(sql.count('SELECT COUNT(*) FROM destinations WHERE account_id = ?', [first.id]), 1);
});

// ------------------------------------------------------------ accounts

test('POST /api/accounts/: a new user starts from nothing and becomes the Admin; the token is 43 url-safe characters', async () => {
	const u = await user();
	const a = await account(u, { website: 'https://example.com' });
	assert.match(a.id, UUID);
	assert.match(a.app_secret_token, /^[A-Za-z0-9_-]{43}$/);
	assert.equal(a.website, 'https://example.com');
	assert.match(a.created_at, TIME);
	assert.match(a.updated_at, TIME);
	assert.equal(a.updated_by, u.id);
	assert.equal(a.role, 'Admin');
	assert.equal(sql.value('SELECT role_id FROM account_members WHERE account_id = ? AND user_id = ?', [a.id, u.id]), '1');
	assert.equal(sql.count('SELECT COUNT(*) FROM events WHERE room = ? AND event = ?', [`account:${a.id}`, 'account_created']), 1);
	const got = expectJson(await as(u, 'GET', `/api/accounts/${a.id}/`), 200);
	assert.equal(got.app_secret_token, a.app_secret_token);
});

test('POST /api/accounts/: missing or duplicate name, bad website are DRF field errors; nothing written', async () => {
	const u = await user();
	const a = await account(u);
	const before = sql.count('SELECT COUNT(*) FROM accounts');
	assert.deepEqual(expectJson(await as(u, 'POST', '/api/accounts/', { account_name: a.account_name }), 400),
	    { account_name: ['account with this account name already exists.'] });
	assert.ok(expectJson(await as(u, 'POST', '/api/accounts/', {}), 400).account_name);
	assert.deepEqual(expectJson(await as(u, 'POST', '/api/accounts/', { account_name: name(), website: 'ftp://x' }), 400),
	    { website: ['Enter a valid URL.'] });
	expectJson(await as(u, 'POST', '/api/accounts/', { account_name: 5 }), 400);
	expectJson(await api.post('/api/accounts/', { json: { account_name: name() } }), 401);
	const bad = await api.post('/api/accounts/', { token: u.token, tokenScheme: 'Token', body: '[1,', headers: { 'Content-Type': 'application/json' } });
	expectJson(bad, 400);
	assert.equal(sql.count('SELECT COUNT(*) FROM accounts'), before);
});

test('PUT/PATCH /api/accounts/{id}/ change only the fields sent; website "" removes it', async () => {
	const u = await user();
	const a = await account(u, { website: 'https://old.example.com' });
	const n = name('Renamed');
	const put = expectJson(await as(u, 'PUT', `/api/accounts/${a.id}/`, { account_name: n }), 200);
	assert.equal(put.account_name, n);
	assert.equal(put.website, 'https://old.example.com');
	assert.equal(put.app_secret_token, a.app_secret_token);
	const patch = expectJson(await as(u, 'PATCH', `/api/accounts/${a.id}/`, { website: '' }), 200);
	assert.equal(patch.website, null);
	assert.equal(patch.account_name, n);
});

test('rotate_token: a new secret, the old one no longer takes data', async () => {
	const u = await user();
	const a = await account(u);
	const r = expectJson(await as(u, 'POST', `/api/accounts/${a.id}/rotate_token/`), 200);
	assert.notEqual(r.app_secret_token, a.app_secret_token);
	const old = await api.post('/server/incoming_data/', {
		json: { x: 1 }, headers: { 'CL-X-TOKEN': a.app_secret_token, 'CL-X-EVENT-ID': 'e1' },
	});
	assert.equal(old.status, 404);
	const now = await api.post('/server/incoming_data/', {
		json: { x: 1 }, headers: { 'CL-X-TOKEN': r.app_secret_token, 'CL-X-EVENT-ID': 'e1' },
	});
	assert.deepEqual(expectJson(now, 200), { success: true, message: 'Data Received' });
});

test('GET /api/roles/ lists Admin (1) and User (2)', async () => {
	const u = await user();
	assert.deepEqual(expectJson(await as(u, 'GET', '/api/roles/'), 200),
	    [{ id: 1, role_name: 'Admin' }, { id: 2, role_name: 'User' }]);
});

// ------------------------------------------------------------ members

test('members: the nested POST answers flat ids, the nested list nests user and role, the flat routes work too', async () => {
	const admin = await user();
	const member = await user();
	const a = await account(admin);
	const m = await addMember(admin, a, member, 2);
	assert.equal(m.account, a.id);
	assert.equal(m.user, member.id);
	assert.equal(m.role, 2);
	assert.ok(Number.isInteger(m.id));
	const list = expectJson(await as(member, 'GET', `/api/accounts/${a.id}/members/`), 200);
	const mine = list.find((x) => x.id === m.id);
	assert.deepEqual(mine.user, { id: member.id, email: member.email });
	assert.deepEqual(mine.role, { id: 2, role_name: 'User' });
	assert.equal(list.length, 2);
	// The member now sees the account, with its secret.
	const seen = expectJson(await as(member, 'GET', `/api/accounts/${a.id}/`), 200);
	assert.equal(seen.role, 'User');
	const flat = expectJson(await as(member, 'GET', '/api/account_members/'), 200);
	assert.equal(flat.filter((x) => x.account === a.id).length, 2);
	assert.equal(flat.find((x) => x.id === m.id).user, member.id);
	const one = expectJson(await as(member, 'GET', `/api/account_members/${m.id}/`), 200);
	assert.equal(one.role, 2);
	// Flat POST with role by name and user by e-mail.
	const third = await user();
	const m3 = expectJson(await as(admin, 'POST', '/api/account_members/', {
		account: a.id, user: third.email, role: 'Admin',
	}), 201);
	assert.equal(m3.role, 1);
	assert.equal(m3.user, third.id);
	// Duplicate, unknown user, unknown role.
	assert.deepEqual(expectJson(await as(admin, 'POST', `/api/accounts/${a.id}/members/`, { user: member.id, role: 1 }), 400),
	    { non_field_errors: ['The fields account, user must make a unique set.'] });
	assert.ok(expectJson(await as(admin, 'POST', `/api/accounts/${a.id}/members/`, { user: 99999999, role: 1 }), 400).user);
	assert.ok(expectJson(await as(admin, 'POST', `/api/accounts/${a.id}/members/`, { user: (await user()).id, role: 9 }), 400).role);
});

test('members: roles change only by an Admin, never one\'s own; the last Admin stays; a member may leave', async () => {
	const admin = await user();
	const member = await user();
	const a = await account(admin);
	const m = await addMember(admin, a, member, 2);
	const adminRow = Number(sql.value('SELECT id FROM account_members WHERE account_id = ? AND user_id = ?', [a.id, admin.id]));
	// The User cannot promote himself.
	expectJson(await as(member, 'PATCH', `/api/account_members/${m.id}/`, { role: 1 }), 403);
	assert.equal(sql.value('SELECT role_id FROM account_members WHERE id = ?', [m.id]), '2');
	// The Admin cannot demote himself, nor remove himself as the last Admin.
	expectJson(await as(admin, 'PATCH', `/api/account_members/${adminRow}/`, { role: 2 }), 403);
	assert.deepEqual(expectJson(await as(admin, 'DELETE', `/api/account_members/${adminRow}/`), 400),
	    { non_field_errors: ['The last Admin of an account cannot be removed.'] });
	// The Admin promotes the member; the member may not move the row.
	assert.equal(expectJson(await as(admin, 'PUT', `/api/account_members/${m.id}/`, { role: 1 }), 200).role, 1);
	expectJson(await as(admin, 'PATCH', `/api/account_members/${m.id}/`, { user: admin.id }), 400);
	// Now two Admins: the first may leave.
	assert.equal((await as(admin, 'DELETE', `/api/account_members/${adminRow}/`)).status, 204);
	expectJson(await as(admin, 'GET', `/api/accounts/${a.id}/`), 404);
	// A plain member leaves on his own.
	const third = await user();
	const m3 = await addMember(member, a, third, 2);
	assert.equal((await as(third, 'DELETE', `/api/account_members/${m3.id}/`)).status, 204);
});

// ------------------------------------------------------------ destinations

test('destinations: create shows the signing secret once; list, get, account list; PUT/PATCH change the fields sent', async () => {
	const u = await user();
	const a = await account(u);
	const d = await destination(u, a, { headers: { 'Custom-Header': 'value' }, http_method: 'PUT' });
	assert.match(d.id, UUID);
	assert.equal(d.account, a.id);
	assert.equal(d.http_method, 'PUT');
	assert.deepEqual(d.headers, { 'Custom-Header': 'value' });
	assert.match(d.signing_secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
	assert.match(d.created_at, TIME);
	const got = expectJson(await as(u, 'GET', `/api/destinations/${d.id}/`), 200);
	assert.equal(got.signing_secret, undefined);
	assert.deepEqual(got.headers, { 'Custom-Header': 'value' });
	const list = expectJson(await as(u, 'GET', '/api/destinations/'), 200);
	assert.ok(Array.isArray(list) && list.some((x) => x.id === d.id));
	assert.ok(list.every((x) => x.signing_secret === undefined));
	const nested = expectJson(await as(u, 'GET', `/api/accounts/${a.id}/destinations/`), 200);
	assert.equal(nested.destinations.length, 1);
	const put = expectJson(await as(u, 'PUT', `/api/destinations/${d.id}/`, {
		url: 'https://new-url.com/webhook', http_method: 'GET', headers: { 'New-Header': 'value' },
	}), 200);
	assert.equal(put.url, 'https://new-url.com/webhook');
	assert.equal(put.http_method, 'GET');
	assert.deepEqual(put.headers, { 'New-Header': 'value' });
	const patch = expectJson(await as(u, 'PATCH', `/api/destinations/${d.id}/`, { http_method: 'POST' }), 200);
	assert.equal(patch.url, 'https://new-url.com/webhook');
	assert.deepEqual(patch.headers, { 'New-Header': 'value' });
	const rot = expectJson(await as(u, 'POST', `/api/destinations/${d.id}/rotate_secret/`), 200);
	assert.notEqual(rot.signing_secret, d.signing_secret);
	assert.equal(sql.value('SELECT signing_secret FROM destinations WHERE id = ?', [d.id]), rot.signing_secret);
	assert.equal((await as(u, 'DELETE', `/api/destinations/${d.id}/`)).status, 204);
	expectJson(await as(u, 'GET', `/api/destinations/${d.id}/`), 404);
});

test('destinations: bad method, headers and URLs are 400 and write nothing', async () => {
	const u = await user();
	const a = await account(u);
	const cases = [
		[{ http_method: 'DELETE' }, 'http_method'],
		[{ headers: { Host: 'evil' } }, 'headers'],
		[{ headers: { 'Content-Length': '5' } }, 'headers'],
		[{ headers: { 'Transfer-Encoding': 'chunked' } }, 'headers'],
		[{ headers: { 'X-A': 'a\r\nX-B: b' } }, 'headers'],
		[{ headers: { 'X-A': 5 } }, 'headers'],
		[{ headers: { 'bad name': 'x' } }, 'headers'],
		[{ headers: ['x'] }, 'headers'],
		[{ url: 'ftp://example.com/' }, 'url'],
		[{ url: 'https://' + 'a'.repeat(2050) }, 'url'],
		[{ url: 'http://169.254.169.254/latest/meta-data/' }, 'url'],
		[{ url: 'http://[fe80::1]/' }, 'url'],
		[{ url: 'http://224.0.0.1/' }, 'url'],
		[{ url: 'http://0.0.0.0/' }, 'url'],
		[{ url: 'http://[::ffff:169.254.169.254]/' }, 'url'],
	];
	for (const [body, field] of cases) {
		const res = await as(u, 'POST', '/api/destinations/', {
			account: a.id, url: 'https://example.com/', http_method: 'POST', ...body,
		});
		const json = expectJson(res, 400);
		assert.ok(json[field], `${JSON.stringify(body)} -> ${res.text}`);
	}
	assert.equal(sql.count('SELECT COUNT(*) FROM destinations WHERE account_id = ?', [a.id]), 0);
});

// ------------------------------------------------------------ permissions

test('permissions: an outsider gets 404 for everything of an account and changes nothing', async () => {
	const admin = await user();
	const outsider = await user();
	const a = await account(admin);
	const d = await destination(admin, a);
	const m = sql.value('SELECT id FROM account_members WHERE account_id = ?', [a.id]);
	const before = snapshot(a.id);
	const tries = [
		['GET', `/api/accounts/${a.id}/`], ['PUT', `/api/accounts/${a.id}/`, { account_name: name() }],
		['PATCH', `/api/accounts/${a.id}/`, { website: 'https://x.com' }], ['DELETE', `/api/accounts/${a.id}/`],
		['POST', `/api/accounts/${a.id}/rotate_token/`], ['GET', `/api/accounts/${a.id}/members/`],
		['POST', `/api/accounts/${a.id}/members/`, { user: outsider.id, role: 1 }],
		['GET', `/api/accounts/${a.id}/destinations/`], ['GET', `/api/accounts/${a.id}/logs/`],
		['POST', `/api/accounts/${a.id}/replay/`, {}],
		['GET', `/api/account_members/${m}/`], ['PATCH', `/api/account_members/${m}/`, { role: 2 }],
		['DELETE', `/api/account_members/${m}/`],
		['POST', '/api/account_members/', { account: a.id, user: outsider.id, role: 1 }],
		['GET', `/api/destinations/${d.id}/`], ['PUT', `/api/destinations/${d.id}/`, { url: 'https://y.com/' }],
		['DELETE', `/api/destinations/${d.id}/`], ['POST', `/api/destinations/${d.id}/rotate_secret/`],
	];
	for (const [method, path, body] of tries) {
		const res = await as(outsider, method, path, body);
		assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
		assert.deepEqual(res.json, NOT_FOUND);
	}
	const create = await as(outsider, 'POST', '/api/destinations/', { account: a.id, url: 'https://z.com/' });
	assert.ok(expectJson(create, 400).account);
	assert.deepEqual(expectJson(await as(outsider, 'GET', '/api/accounts/'), 200), []);
	assert.ok(!expectJson(await as(outsider, 'GET', '/api/destinations/'), 200).some((x) => x.id === d.id));
	assert.ok(!expectJson(await as(outsider, 'GET', '/api/account_members/'), 200).some((x) => x.account === a.id));
	assert.equal(snapshot(a.id), before);
});

test('permissions: a User member reads but gets 403 for every Admin action; an Admin of another account is an outsider', async () => {
	const admin = await user();
	const reader = await user();
	const otherAdmin = await user();
	const a = await account(admin);
	await account(otherAdmin);
	const d = await destination(admin, a);
	await addMember(admin, a, reader, 2);
	const adminRow = sql.value('SELECT id FROM account_members WHERE account_id = ? AND user_id = ?', [a.id, admin.id]);
	const before = snapshot(a.id);
	expectJson(await as(reader, 'GET', `/api/accounts/${a.id}/`), 200);
	expectJson(await as(reader, 'GET', `/api/destinations/${d.id}/`), 200);
	expectJson(await as(reader, 'GET', `/api/accounts/${a.id}/logs/`), 200);
	const admin_only = [
		['PUT', `/api/accounts/${a.id}/`, { account_name: name() }], ['DELETE', `/api/accounts/${a.id}/`],
		['POST', `/api/accounts/${a.id}/rotate_token/`],
		['POST', `/api/accounts/${a.id}/members/`, { user: otherAdmin.id, role: 1 }],
		['PATCH', `/api/account_members/${adminRow}/`, { role: 2 }], ['DELETE', `/api/account_members/${adminRow}/`],
		['POST', '/api/destinations/', { account: a.id, url: 'https://z.com/' }],
		['PATCH', `/api/destinations/${d.id}/`, { url: 'https://y.com/' }], ['DELETE', `/api/destinations/${d.id}/`],
		['POST', `/api/destinations/${d.id}/rotate_secret/`], ['POST', `/api/accounts/${a.id}/replay/`, {}],
	];
	for (const [method, path, body] of admin_only) {
		const res = await as(reader, method, path, body);
		assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
		assert.equal(res.json.detail, FORBIDDEN);
	}
	for (const [method, path, body] of admin_only) {
		const res = await as(otherAdmin, method, path, body);
		assert.ok(res.status === 404 || res.status === 400, `${method} ${path}: ${res.text}`);
	}
	assert.equal(snapshot(a.id), before);
});

// ------------------------------------------------------------ incoming data

test('incoming data: headers, token, body checks; events recorded once per event id', async () => {
	const u = await user();
	const a = await account(u);
	await destination(u, a);
	await destination(u, a, { http_method: 'GET' });
	const post = (headers, body) => api.post('/server/incoming_data/', { body, headers: { 'Content-Type': 'application/json', ...headers } });
	const h = { 'CL-X-TOKEN': a.app_secret_token, 'CL-X-EVENT-ID': 'evt-1' };
	assert.deepEqual(expectJson(await post({ 'CL-X-TOKEN': a.app_secret_token }, '{}'), 401), { success: false, message: 'Unauthenticated' });
	assert.deepEqual(expectJson(await post({ 'CL-X-EVENT-ID': 'x' }, '{}'), 401), { success: false, message: 'Unauthenticated' });
	assert.deepEqual(expectJson(await post({ ...h, 'CL-X-TOKEN': 'nope' }, '{}'), 404), NOT_FOUND);
	for (const body of ['[1]', '"x"', '{', '', 'null'])
		assert.deepEqual(expectJson(await post(h, body), 400), { success: false, message: 'Invalid Data' }, body);
	assert.equal(sql.count('SELECT COUNT(*) FROM incoming_events WHERE account_id = ?', [a.id]), 0);
	assert.deepEqual(expectJson(await post(h, '{"a": 1}'), 200), { success: true, message: 'Data Received' });
	const res = await api.post('/api/server/incoming_data/', { json: { a: 2 }, headers: h });
	assert.deepEqual(expectJson(res, 200), { success: true, message: 'Data Received' });
	assert.equal(sql.count('SELECT COUNT(*) FROM incoming_events WHERE account_id = ?', [a.id]), 1);
	assert.equal(sql.count('SELECT COUNT(*) FROM webhook_deliveries WHERE account_id = ?', [a.id]), 2);
	assert.equal(sql.count(`SELECT COUNT(*) FROM deliveries d JOIN webhook_deliveries w ON w.delivery_id = d.id
	    WHERE w.account_id = ? AND d.channel = 'webhook' AND d.dedupe_key IS NOT NULL`, [a.id]), 2);
	const big = JSON.stringify({ x: 'y'.repeat(1100000) });
	expectJson(await post({ ...h, 'CL-X-EVENT-ID': 'big' }, big), 413);
});

// ------------------------------------------------------------ deleting

test('DELETE /api/accounts/{id}/: members, destinations, events and log go; pending deliveries are cancelled', async () => {
	const u = await user();
	const a = await account(u);
	await destination(u, a, { url: 'https://unreachable.invalid/hook' });
	const ids = () => sql('SELECT delivery_id FROM webhook_deliveries WHERE account_id = ?', [a.id]).map((r) => r[0]);
	// Stop the dispatcher from taking them: make them due later.
	expectJson(await api.post('/server/incoming_data/', { json: { a: 1 }, headers: { 'CL-X-TOKEN': a.app_secret_token, 'CL-X-EVENT-ID': 'del-1' } }), 200);
	const queued = ids();
	assert.equal(queued.length, 1);
	sql('UPDATE deliveries SET next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL 1 DAY, state = \'pending\' WHERE id = ?', [queued[0]]);
	assert.equal((await as(u, 'DELETE', `/api/accounts/${a.id}/`)).status, 204);
	assert.equal(sql.count('SELECT COUNT(*) FROM accounts WHERE id = ?', [a.id]), 0);
	for (const t of ['account_members', 'destinations', 'incoming_events', 'webhook_deliveries'])
		assert.equal(sql.count(`SELECT COUNT(*) FROM ${t} WHERE account_id = ?`, [a.id]), 0, t);
	assert.equal(sql.value('SELECT state FROM deliveries WHERE id = ?', [queued[0]]), 'cancelled');
});

test('DELETE FROM users always succeeds whatever the user created (foreign keys)', async () => {
	const a = await user();
	const b = await user();
	const acct = await account(a);
	await addMember(a, acct, b, 1);
	await destination(a, acct);
	sql('DELETE FROM users WHERE id = ?', [a.id]);
	assert.equal(sql.value('SELECT created_by FROM destinations WHERE account_id = ?', [acct.id]), null);
	assert.equal(sql.count('SELECT COUNT(*) FROM account_members WHERE account_id = ?', [acct.id]), 1);
});

// ------------------------------------------------------------ API docs

test('nginx/docs/build.sh: the joined OpenAPI document, Swagger UI and ReDoc from npm, pages that load nothing from elsewhere', { timeout: 120000 }, async () => {
	const fs = require('node:fs');
	const os = require('node:os');
	const path = require('node:path');
	const { execFileSync } = require('node:child_process');
	const src = path.resolve(__dirname, '..', '..');
	const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fastback-docs-'));
	try {
		execFileSync('sh', [path.join(src, 'nginx', 'docs', 'build.sh'), out, '/srv/docs'], {
			env: { ...process.env, FASTBACK_SRC: src }, stdio: 'pipe',
		});
		const doc = JSON.parse(fs.readFileSync(path.join(out, 'swagger.json'), 'utf8'));
		assert.equal(doc.info.title, 'fastback');
		for (const p of ['/api/accounts/', '/api/destinations/{id}/', '/server/incoming_data/', '/api/auth/login/'])
			assert.ok(doc.paths[p], `${p} in the joined document`);
		for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css', 'redoc.standalone.js', 'swagger-init.js'])
			assert.ok(fs.statSync(path.join(out, f)).size > 100, f);
		for (const page of ['swagger.html', 'redoc.html']) {
			const html = fs.readFileSync(path.join(out, page), 'utf8');
			assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, `${page} loads from elsewhere`);
			assert.match(html, /\/api\/(docs|swagger\.json)/);
		}
		assert.match(fs.readFileSync(path.join(out, 'swagger-init.js'), 'utf8'), /url: '\/api\/swagger\.json'/);
		assert.equal(fs.readFileSync(path.join(out, 'root.conf'), 'utf8').match(/^root (.*);$/m)[1], '/srv/docs');
	} finally {
		fs.rmSync(out, { recursive: true, force: true });
	}
});

// Last in the file: it spends this address's incoming-data allowance.
test('incoming data is rate-limited by nginx: a flood gets 429 with a JSON body, and nothing is written for it', async () => {
	const before = sql.count('SELECT COUNT(*) FROM incoming_events');
	const flood = Array.from({ length: 300 }, (_, i) => api.post('/server/incoming_data/', {
		json: { i }, retry429: false,
		headers: { 'CL-X-TOKEN': 'no-such-token', 'CL-X-EVENT-ID': `flood-${i}` },
	}));
	const answers = await Promise.all(flood);
	const limited = answers.filter((r) => r.status === 429);
	assert.ok(limited.length > 0, 'some requests were limited');
	assert.equal(limited[0].json.error, 'too_many_requests');
	assert.ok(answers.every((r) => r.status === 429 || r.status === 404));
	assert.equal(sql.count('SELECT COUNT(*) FROM incoming_events'), before);
});
