// 200-wallets.test.js -- wallets: 001's add_wallet, edit_wallet and
// delete_wallet, and fastback's owner-only /api/wallets.  Every answer is
// checked against the database: what was written, and that refused
// requests (bad input, another user's wallet) changed nothing.
'use strict';

const { test, api, sql, assert, expectJson, expectError, registerAndLogin } = require('./lib');

let alice, bob;

// The caller's wallets as the database holds them, oldest first.
function walletsOf(user) {
	return sql('SELECT id, balance, currency, wallet_type, description, status, version ' +
	    'FROM wallets WHERE user_id = ? ORDER BY id', [user.id]);
}

function eventsOf(user) {
	return sql('SELECT event FROM events WHERE room = ? ORDER BY seq', [`user:${user.id}`])
	    .map((r) => r[0]);
}

// A wallet made through the REST route; resolves to its JSON.
async function newWallet(user, fields = {}) {
	const res = await api.post('/api/wallets', { token: user.token, json: { currency: 'USD', balance: 0, ...fields } });
	return expectJson(res, 201).wallet;
}

function clear(user) {
	sql('DELETE FROM wallets WHERE user_id = ?', [user.id]);
}

test('set up two users', async () => {
	alice = await registerAndLogin();
	bob = await registerAndLogin();
	assert.ok(alice.id && bob.id);
});

// ---------------------------------------------------------------- 001

test('001 POST /add_wallet as documented: message and the wallet with its id, stored, event written', async () => {
	const res = await api.post('/add_wallet', {
		token: alice.token,
		json: { balance: 1000, wallet_type: 'personal', currency: 'USD', description: 'My wallet', status: 'active' },
	});
	const body = expectJson(res, 200);
	assert.equal(body.message, 'Wallet added successfully!');
	assert.equal(body.wallet.balance, 1000);
	assert.equal(body.wallet.balance_decimal, '10.00');
	assert.equal(body.wallet.currency, 'USD');
	assert.equal(body.wallet.wallet_type, 'personal');
	assert.equal(body.wallet.description, 'My wallet');
	assert.equal(body.wallet.status, 'active');
	assert.equal(body.wallet.version, 1);
	assert.match(body.wallet.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
	assert.equal(body.wallet.last_updated_at, body.wallet.updated_at);
	assert.deepEqual(walletsOf(alice), [[String(body.wallet.id), '1000', 'USD', 'personal', 'My wallet', 'active', '1']]);
	assert.deepEqual(eventsOf(alice), ['wallet_created']);
	const payload = JSON.parse(sql.value('SELECT payload FROM events WHERE room = ? ORDER BY seq DESC LIMIT 1', [`user:${alice.id}`]));
	assert.equal(payload.wallet.id, body.wallet.id);
});

test('001 add_wallet: only balance is required; currency in any case is stored upper case', async () => {
	const res = await api.post('/add_wallet', { token: alice.token, json: { balance: 0 } });
	const w = expectJson(res, 200).wallet;
	assert.equal(w.currency, null);
	assert.equal(w.balance_decimal, null);
	const res2 = await api.post('/add_wallet', { token: alice.token, json: { balance: 5, currency: 'jpy' } });
	const w2 = expectJson(res2, 200).wallet;
	assert.equal(w2.currency, 'JPY');
	assert.equal(w2.balance_decimal, '5');
	clear(alice);
});

test('001 add_wallet: a missing, negative, float, string, boolean or huge balance is 400 "Invalid balance provided!" and writes nothing', async () => {
	const before = sql.count('SELECT COUNT(*) FROM wallets');
	for (const balance of [undefined, null, -1, 1.5, 10.0001, '100', true, [], {}, 1e16, 2 ** 63, 99999999999999999999]) {
		const json = { currency: 'USD' };
		if (balance !== undefined)
			json.balance = balance;
		const res = await api.post('/add_wallet', { token: alice.token, json });
		const body = expectJson(res, 400);
		assert.equal(body.message, 'Invalid balance provided!', `balance ${JSON.stringify(balance)}`);
	}
	// A raw body: a number beyond 64 bits.
	const res = await api.post('/add_wallet', { token: alice.token, body: '{"balance": 123456789012345678901234567890}',
		headers: { 'Content-Type': 'application/json' } });
	expectJson(res, 400);
	assert.equal(sql.count('SELECT COUNT(*) FROM wallets'), before);
});

test('001 add_wallet: an unknown currency is 400 "Invalid currency provided!"; long or control-character texts are 400', async () => {
	for (const currency of ['XYZ', 'US', 'USDD', '123', 'U$D', "'; DROP TABLE wallets; --", 'ÜSD']) {
		const res = await api.post('/add_wallet', { token: alice.token, json: { balance: 1, currency } });
		assert.equal(expectJson(res, 400).message, 'Invalid currency provided!', currency);
	}
	for (const json of [{ wallet_type: 'x'.repeat(65) }, { description: 'd'.repeat(501) }, { status: 's'.repeat(33) },
		{ description: 'bell\u0007' }, { wallet_type: 5 }, { status: ['active'] }]) {
		const res = await api.post('/add_wallet', { token: alice.token, json: { balance: 1, ...json } });
		const body = expectJson(res, 400);
		assert.equal(body.error, 'invalid_field', JSON.stringify(json));
	}
	assert.equal(walletsOf(alice).length, 0);
});

test('001 add_wallet without a token: 401 in 001\'s words; malformed JSON 400; oversized body 413', async () => {
	let res = await api.post('/add_wallet', { json: { balance: 1 } });
	assert.equal(expectJson(res, 401).message, 'Token is missing!');
	res = await api.post('/add_wallet', { token: alice.token, body: '{"balance": 1,', headers: { 'Content-Type': 'application/json' } });
	expectJson(res, 400);
	res = await api.post('/add_wallet', { token: alice.token, body: '[1, 2]', headers: { 'Content-Type': 'application/json' } });
	expectJson(res, 400);
	res = await api.post('/add_wallet', { token: alice.token, body: '{"description": "' + 'a'.repeat(2 * 1024 * 1024) + '"}',
		headers: { 'Content-Type': 'application/json' } });
	assert.equal(res.status, 413);
	assert.equal(walletsOf(alice).length, 0);
});

test('001 add_wallet keeps SQL-looking and unicode text verbatim', async () => {
	const description = "Robert'); DROP TABLE wallets;-- 💰 Ünïcödé 日本";
	const res = await api.post('/add_wallet', { token: alice.token, json: { balance: 7, description, wallet_type: '" OR 1=1 --' } });
	const w = expectJson(res, 200).wallet;
	assert.equal(w.description, description);
	assert.equal(sql.value('SELECT description FROM wallets WHERE id = ?', [w.id]), description);
	assert.equal(sql.value('SELECT wallet_type FROM wallets WHERE id = ?', [w.id]), '" OR 1=1 --');
	clear(alice);
});

test('001 POST /edit_wallet with one wallet changes only the fields sent', async () => {
	const w = expectJson(await api.post('/add_wallet', { token: alice.token,
		json: { balance: 1000, wallet_type: 'personal', currency: 'USD', description: 'My wallet', status: 'active' } }), 200).wallet;
	const res = await api.post('/edit_wallet', { token: alice.token, json: { balance: 2000, status: 'inactive' } });
	const body = expectJson(res, 200);
	assert.equal(body.message, 'Wallet updated successfully!');
	assert.equal(body.wallet.id, w.id);
	assert.deepEqual(walletsOf(alice), [[String(w.id), '2000', 'USD', 'personal', 'My wallet', 'inactive', '2']]);
	// The document's full example.
	const res2 = await api.post('/edit_wallet', { token: alice.token,
		json: { balance: 2000, wallet_type: 'business', currency: 'EUR', description: 'Updated wallet', status: 'inactive' } });
	expectJson(res2, 200);
	assert.deepEqual(walletsOf(alice), [[String(w.id), '2000', 'EUR', 'business', 'Updated wallet', 'inactive', '3']]);
	assert.deepEqual(eventsOf(alice).slice(-3), ['wallet_created', 'wallet_updated', 'wallet_updated']);
});

test('001 edit_wallet: nothing to change 400, bad balance 400, several wallets need wallet_id (400), then it picks one', async () => {
	let res = await api.post('/edit_wallet', { token: alice.token, json: {} });
	assert.equal(expectJson(res, 400).message, 'No new information provided!');
	res = await api.post('/edit_wallet', { token: alice.token, json: { balance: -5 } });
	assert.equal(expectJson(res, 400).message, 'Invalid balance provided!');
	res = await api.post('/edit_wallet', { token: alice.token, json: { balance: 3.5 } });
	assert.equal(expectJson(res, 400).message, 'Invalid balance provided!');
	const before = walletsOf(alice);
	const second = expectJson(await api.post('/add_wallet', { token: alice.token, json: { balance: 1, currency: 'GBP' } }), 200).wallet;
	res = await api.post('/edit_wallet', { token: alice.token, json: { status: 'frozen' } });
	const body = expectJson(res, 400);
	assert.equal(body.error, 'wallet_id_required');
	assert.deepEqual(walletsOf(alice).slice(0, 1), before);
	res = await api.post('/edit_wallet', { token: alice.token, json: { wallet_id: String(second.id), status: 'frozen' } });
	assert.equal(expectJson(res, 200).wallet.status, 'frozen');
	assert.deepEqual(walletsOf(alice).slice(0, 1), before);
	res = await api.post('/edit_wallet', { token: alice.token, json: { wallet_id: 'abc', status: 'x' } });
	expectJson(res, 400);
});

test('001 edit_wallet of another user\'s wallet (wallet_id) is 404 with 001\'s message and changes nothing', async () => {
	const mine = walletsOf(alice)[0][0];
	const before = walletsOf(alice);
	const res = await api.post('/edit_wallet', { token: bob.token, json: { wallet_id: Number(mine), balance: 0 } });
	assert.equal(expectJson(res, 404).message, 'Wallet not found or you do not have permission to edit it!');
	assert.deepEqual(walletsOf(alice), before);
	const none = await api.post('/edit_wallet', { token: bob.token, json: { balance: 1 } });
	expectJson(none, 404);
});

test('001 POST /delete_wallet: wrong password 401, another username 403, several wallets 400, nothing deleted', async () => {
	const before = walletsOf(alice);
	let res = await api.post('/delete_wallet', { token: alice.token, json: { password: 'wrong-password', username: alice.username } });
	assert.equal(expectJson(res, 401).message, 'Authentication failed!');
	res = await api.post('/delete_wallet', { token: alice.token, json: {} });
	assert.equal(expectJson(res, 401).message, 'Authentication failed!');
	res = await api.post('/delete_wallet', { token: alice.token, json: { password: alice.password, username: bob.username } });
	expectJson(res, 403);
	res = await api.post('/delete_wallet', { token: bob.token, json: { password: bob.password, username: alice.username } });
	expectJson(res, 403);
	res = await api.post('/delete_wallet', { token: alice.token, json: { password: alice.password, username: alice.username } });
	assert.equal(expectJson(res, 400).error, 'wallet_id_required');
	assert.deepEqual(walletsOf(alice), before);
});

test('001 delete_wallet with wallet_id, then the only wallet; then 404; another user\'s wallet_id is 404', async () => {
	const [first, second] = walletsOf(alice).map((r) => Number(r[0]));
	let res = await api.post('/delete_wallet', { token: bob.token, json: { password: bob.password, wallet_id: first } });
	expectJson(res, 404);
	res = await api.post('/delete_wallet', { token: alice.token, json: { password: alice.password, username: alice.username, wallet_id: second } });
	assert.equal(expectJson(res, 200).message, 'Wallet deleted successfully!');
	assert.deepEqual(walletsOf(alice).map((r) => Number(r[0])), [first]);
	res = await api.post('/delete_wallet', { token: alice.token, json: { password: alice.password } });
	assert.equal(expectJson(res, 200).message, 'Wallet deleted successfully!');
	assert.equal(walletsOf(alice).length, 0);
	res = await api.post('/delete_wallet', { token: alice.token, json: { password: alice.password } });
	expectJson(res, 404);
	assert.equal(eventsOf(alice).at(-1), 'wallet_deleted');
});

// ---------------------------------------------------------------- REST

test('POST /api/wallets: 201 with the wallet and an ETag; currency required; balance defaults to 0', async () => {
	let res = await api.post('/api/wallets', { token: alice.token, json: { currency: 'EUR', description: 'travel' } });
	const w = expectJson(res, 201).wallet;
	assert.equal(w.balance, 0);
	assert.equal(w.currency, 'EUR');
	assert.equal(res.headers.get('etag'), '"1"');
	res = await api.post('/api/wallets', { token: alice.token, json: { balance: 10 } });
	assert.equal(expectError(res, 400, 'invalid_field').fields.currency, 'is required');
	res = await api.post('/api/wallets', { token: alice.token, json: { balance: 10, currency: 'ABC' } });
	expectError(res, 400, 'invalid_field');
	res = await api.post('/api/wallets', { token: alice.token, json: { balance: -1, currency: 'USD' } });
	assert.ok(expectError(res, 400, 'invalid_field').fields.balance);
	res = await api.post('/api/wallets', { token: alice.token, json: { balance_delta: 5, currency: 'USD' } });
	expectError(res, 400, 'invalid_field');
	res = await api.post('/api/wallets', { json: { currency: 'USD' } });
	expectError(res, 401);
	assert.equal(walletsOf(alice).length, 1);
});

test('GET /api/wallets lists the caller\'s own, newest first, with cursor pages', async () => {
	const a = await newWallet(alice, { balance: 1 });
	const b = await newWallet(alice, { balance: 2 });
	await newWallet(bob, { balance: 3 });
	let body = expectJson(await api.get('/api/wallets', { token: alice.token }), 200);
	assert.equal(body.wallets.length, 3);
	assert.deepEqual(body.wallets.slice(0, 2).map((w) => w.id), [b.id, a.id]);
	assert.ok(body.wallets.every((w) => w.user_id === alice.id));
	assert.equal(body.next_before, null);
	body = expectJson(await api.get('/api/wallets?limit=1', { token: alice.token }), 200);
	assert.deepEqual(body.wallets.map((w) => w.id), [b.id]);
	assert.equal(body.next_before, b.id);
	body = expectJson(await api.get(`/api/wallets?limit=1&before=${b.id}`, { token: alice.token }), 200);
	assert.deepEqual(body.wallets.map((w) => w.id), [a.id]);
	expectError(await api.get('/api/wallets?limit=0', { token: alice.token }), 400);
	expectError(await api.get('/api/wallets?limit=abc', { token: alice.token }), 400);
	expectError(await api.get('/api/wallets'), 401);
});

test('GET /api/wallets/{id}: the wallet with its ETag; unknown or malformed id 404', async () => {
	const w = await newWallet(alice, { balance: 12345, currency: 'KWD' });
	const res = await api.get(`/api/wallets/${w.id}`, { token: alice.token });
	const body = expectJson(res, 200);
	assert.deepEqual(body.wallet, w);
	assert.equal(body.wallet.balance_decimal, '12.345');
	assert.equal(res.headers.get('etag'), '"1"');
	expectError(await api.get('/api/wallets/999999999', { token: alice.token }), 404, 'wallet_not_found');
	expectError(await api.get('/api/wallets/0', { token: alice.token }), 404);
});

test('another user\'s wallet: GET, PATCH and DELETE are 404 and nothing changes', async () => {
	const w = await newWallet(alice, { balance: 500 });
	const before = walletsOf(alice);
	const events = eventsOf(alice).length;
	expectError(await api.get(`/api/wallets/${w.id}`, { token: bob.token }), 404, 'wallet_not_found');
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: bob.token, json: { balance: 0 } }), 404, 'wallet_not_found');
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: bob.token, json: { balance_delta: -500 } }), 404);
	expectError(await api.delete(`/api/wallets/${w.id}`, { token: bob.token }), 404, 'wallet_not_found');
	assert.deepEqual(walletsOf(alice), before);
	assert.equal(eventsOf(alice).length, events);
	const list = expectJson(await api.get('/api/wallets', { token: bob.token }), 200);
	assert.ok(!list.wallets.some((x) => x.id === w.id));
});

test('PATCH /api/wallets/{id} changes only the fields sent; balance_delta adds; overdraft 409 changes nothing', async () => {
	const w = await newWallet(alice, { balance: 1000, wallet_type: 'personal', status: 'active' });
	let res = await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { description: 'groceries' } });
	let body = expectJson(res, 200);
	assert.equal(body.wallet.description, 'groceries');
	assert.equal(body.wallet.wallet_type, 'personal');
	assert.equal(body.wallet.balance, 1000);
	assert.equal(body.wallet.version, 2);
	assert.equal(res.headers.get('etag'), '"2"');
	body = expectJson(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance_delta: -250 } }), 200);
	assert.equal(body.wallet.balance, 750);
	body = expectJson(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance_delta: 50, currency: 'chf' } }), 200);
	assert.equal(body.wallet.balance, 800);
	assert.equal(body.wallet.currency, 'CHF');
	const before = walletsOf(alice).find((r) => r[0] === String(w.id));
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance_delta: -801 } }), 409, 'insufficient_funds');
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance_delta: 1e15 } }), 409, 'insufficient_funds');
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 5, balance_delta: 1 } }), 400);
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance_delta: 0.5 } }), 400);
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance_delta: 1e16 } }), 400);
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: {} }), 400, 'no_changes');
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { currency: 'EURO' } }), 400);
	expectError(await api.patch(`/api/wallets/${w.id}`, { token: alice.token, body: 'not json',
		headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_json');
	assert.deepEqual(walletsOf(alice).find((r) => r[0] === String(w.id)), before);
});

test('PATCH with If-Match or version: a stale version is 412 and changes nothing; a bad If-Match 400', async () => {
	const w = await newWallet(alice, { balance: 10 });
	let res = await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 20 }, headers: { 'If-Match': '"1"' } });
	assert.equal(expectJson(res, 200).wallet.version, 2);
	res = await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 30 }, headers: { 'If-Match': '"1"' } });
	expectError(res, 412, 'version_mismatch');
	res = await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 30, version: 1 } });
	expectError(res, 412, 'version_mismatch');
	assert.equal(sql.value('SELECT balance FROM wallets WHERE id = ?', [w.id]), '20');
	res = await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 30, version: 2 } });
	assert.equal(expectJson(res, 200).wallet.balance, 30);
	res = await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 40 }, headers: { 'If-Match': 'W/"3"' } });
	assert.equal(expectJson(res, 200).wallet.balance, 40);
	res = await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 50 }, headers: { 'If-Match': 'banana' } });
	expectError(res, 400, 'invalid_if_match');
	res = await api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 50 }, headers: { 'If-Match': '*' } });
	assert.equal(expectJson(res, 200).wallet.balance, 50);
});

test('concurrent deposits never lose an update: 40 parallel +1 deltas all count', async () => {
	const w = await newWallet(alice, { balance: 100 });
	const results = await Promise.all(Array.from({ length: 40 }, () =>
		api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance_delta: 1 } })));
	assert.deepEqual(results.map((r) => r.status), Array(40).fill(200));
	assert.equal(sql.value('SELECT balance FROM wallets WHERE id = ?', [w.id]), '140');
	assert.equal(sql.value('SELECT version FROM wallets WHERE id = ?', [w.id]), '41');
});

test('concurrent withdrawals never overdraw: of 30 parallel -1 on a balance of 10, exactly 10 succeed', async () => {
	const w = await newWallet(alice, { balance: 10 });
	const results = await Promise.all(Array.from({ length: 30 }, () =>
		api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance_delta: -1 } })));
	const codes = results.map((r) => r.status);
	assert.equal(codes.filter((c) => c === 200).length, 10);
	assert.equal(codes.filter((c) => c === 409).length, 20);
	assert.equal(sql.value('SELECT balance FROM wallets WHERE id = ?', [w.id]), '0');
});

test('concurrent conditional writes: of 10 PATCHes with the same If-Match, exactly one wins', async () => {
	const w = await newWallet(alice, { balance: 10 });
	const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
		api.patch(`/api/wallets/${w.id}`, { token: alice.token, json: { balance: 100 + i }, headers: { 'If-Match': '"1"' } })));
	const codes = results.map((r) => r.status);
	assert.equal(codes.filter((c) => c === 200).length, 1);
	assert.equal(codes.filter((c) => c === 412).length, 9);
	assert.equal(sql.value('SELECT version FROM wallets WHERE id = ?', [w.id]), '2');
});

test('DELETE /api/wallets/{id}: 200 with the wallet, event written, then 404', async () => {
	const w = await newWallet(alice, { balance: 1 });
	const res = await api.delete(`/api/wallets/${w.id}`, { token: alice.token });
	const body = expectJson(res, 200);
	assert.equal(body.wallet.id, w.id);
	assert.equal(sql.count('SELECT COUNT(*) FROM wallets WHERE id = ?', [w.id]), 0);
	const last = sql('SELECT event, payload FROM events WHERE room = ? ORDER BY seq DESC LIMIT 1', [`user:${alice.id}`])[0];
	assert.equal(last[0], 'wallet_deleted');
	assert.equal(JSON.parse(last[1]).wallet.id, w.id);
	expectError(await api.delete(`/api/wallets/${w.id}`, { token: alice.token }), 404);
});

test('a user may hold at most [wallets] max_per_user (100) wallets: the next is 409 and nothing is written', async () => {
	const carol = await registerAndLogin();
	for (let i = 0; i < 100; i += 10)
		await Promise.all(Array.from({ length: 10 }, () => newWallet(carol)));
	assert.equal(walletsOf(carol).length, 100);
	expectError(await api.post('/api/wallets', { token: carol.token, json: { currency: 'USD' } }), 409, 'wallet_limit');
	expectJson(await api.post('/add_wallet', { token: carol.token, json: { balance: 1 } }), 409);
	assert.equal(walletsOf(carol).length, 100);
});

test('a deleted user\'s wallets go with them (ON DELETE CASCADE)', async () => {
	const dave = await registerAndLogin();
	await newWallet(dave);
	sql('DELETE FROM users WHERE id = ?', [dave.id]);
	assert.equal(sql.count('SELECT COUNT(*) FROM wallets WHERE user_id = ?', [dave.id]), 0);
});
