// 210-sync.test.js -- the offline-first change log of seed 000 as fastback
// REST: uploads of one change or a batch, idempotent re-sends, conflicts,
// several devices, downloads from an offset (the 000 client's walk 0, 1,
// 2, ... sees seq = log_id), ordering when uploads commit out of order,
// bad input, size limits, and restricted table names.
'use strict';

const { spawn } = require('node:child_process');
const { test, api, sql, stack, until, assert, expectJson, expectError, registerAndLogin } = require('./lib');

let alice, bob;

// 000's save_data payload.
function change(logId, op, data, table = 'example_table') {
	return { log_id: logId, table_name: table, operation: op, data, timestamp: '2024-07-18T12:34:56' };
}

function upload(user, body, headers = {}) {
	return api.post('/api/sync/changes', { token: user.token, json: body, headers });
}

function rowsOf(user, table = 'example_table') {
	return sql('SELECT row_id, data FROM sync_rows WHERE user_id = ? AND table_name = ? ORDER BY row_id',
	    [user.id, table]).map(([id, data]) => [id, JSON.parse(data)]);
}

function changeCount(user) {
	return sql.count('SELECT COUNT(*) FROM sync_changes WHERE user_id = ?', [user.id]);
}

function syncEvents(user) {
	return sql('SELECT payload FROM events WHERE room = ? AND event = ? ORDER BY seq', [`user:${user.id}`, 'sync_changed'])
	    .map((r) => JSON.parse(r[0]));
}

test('set up two users', async () => {
	alice = await registerAndLogin();
	bob = await registerAndLogin();
});

test('an upload needs a token', async () => {
	expectError(await api.post('/api/sync/changes', { json: change(1, 'I', { id: 1 }) }), 401);
	expectError(await api.get('/api/sync/changes?offset_id=0'), 401);
	expectError(await api.get('/api/sync/changes/next?offset_id=0'), 401);
});

test('000 save_data payload posted as is: 200 "OK", applied with seq 1, row stored, sync_changed event', async () => {
	const res = await upload(alice, change(1, 'I', { id: 1, value: 'example' }));
	const body = expectJson(res, 200);
	assert.equal(body.message, 'OK');
	assert.equal(body.log_id, 1);
	assert.equal(body.seq, 1);
	assert.equal(body.status, 'applied');
	assert.equal(body.device_id, 'default');
	assert.equal(body.last_seq, 1);
	assert.deepEqual(rowsOf(alice), [['1', { id: 1, value: 'example' }]]);
	assert.deepEqual(sql('SELECT seq, device_id, log_id, table_name, row_id, operation, client_time FROM sync_changes WHERE user_id = ?', [alice.id]),
	    [['1', 'default', '1', 'example_table', '1', 'I', '2024-07-18T12:34:56']]);
	const events = syncEvents(alice);
	assert.equal(events.length, 1);
	assert.deepEqual(events[0], { user_id: alice.id, device_id: 'default', from_seq: 1, to_seq: 1, count: 1, tables: ['example_table'] });
});

test('re-sending the same log_id with the same content is a no-op success; other content is 409 and changes nothing', async () => {
	const res = await upload(alice, change(1, 'I', { id: 1, value: 'example' }));
	const body = expectJson(res, 200);
	assert.equal(body.status, 'duplicate');
	assert.equal(body.seq, 1);
	assert.equal(body.applied, 0);
	assert.equal(changeCount(alice), 1);
	assert.equal(syncEvents(alice).length, 1);
	const conflict = await upload(alice, change(1, 'I', { id: 1, value: 'other' }));
	const err = expectError(conflict, 409, 'log_id_conflict');
	assert.equal(err.log_id, 1);
	assert.deepEqual(rowsOf(alice), [['1', { id: 1, value: 'example' }]]);
	assert.equal(changeCount(alice), 1);
});

test('the 000 client: log ids 2..6 one by one (I, U, I, D, U), then load_data offsets 0, 1, 2 ... return log id offset+1 with its data, D included', async () => {
	const sent = [
		change(2, 'U', { id: 1, value: 'changed' }),
		change(3, 'I', { id: 2, amount: '12.50', type: 'expense' }, 'transactions'),
		change(4, 'I', { id: 3, value: 'third' }),
		change(5, 'D', { id: 3 }),
		change(6, 'U', { id: 2, amount: '13.00' }, 'transactions'),
	];
	for (const c of sent)
		assert.equal(expectJson(await upload(alice, c), 200).seq, c.log_id);
	const all = [change(1, 'I', { id: 1, value: 'example' }), ...sent];
	for (let offset = 0; offset < all.length; offset++) {
		const res = await api.get(`/api/sync/changes/next?offset_id=${offset}`, { token: alice.token });
		const got = expectJson(res, 200);
		const want = all[offset];
		assert.equal(got.log_id, offset + 1);
		assert.equal(got.seq, offset + 1);
		assert.equal(got.table_name, want.table_name);
		assert.equal(got.operation, want.operation);
		assert.equal(got.row_id, want.data.id);
		assert.deepEqual(got.data, want.data);
		assert.equal(got.change_time, '2024-07-18T12:34:56');
		assert.match(got.sync_time, /Z$/);
	}
	const end = await api.get(`/api/sync/changes/next?offset_id=${all.length}`, { token: alice.token });
	assert.equal(expectError(end, 404, 'no_more_changes').message, 'No more changes found.');
	expectError(await api.get('/api/sync/changes/next', { token: alice.token }), 400, 'invalid_offset');
	expectError(await api.get('/api/sync/changes/next?offset_id=-1', { token: alice.token }), 400, 'invalid_offset');
	expectError(await api.get('/api/sync/changes/next?offset_id=abc', { token: alice.token }), 400, 'invalid_offset');
	// The server copy: U merged into the row, D removed it.
	assert.deepEqual(rowsOf(alice), [['1', { id: 1, value: 'changed' }]]);
	assert.deepEqual(rowsOf(alice, 'transactions'), [['2', { id: 2, amount: '13.00', type: 'expense' }]]);
});

test('GET /api/sync/changes pages from an offset, oldest first, with next_offset, last_seq and has_more', async () => {
	let body = expectJson(await api.get('/api/sync/changes?offset_id=0&limit=4', { token: alice.token }), 200);
	assert.deepEqual(body.changes.map((c) => c.seq), [1, 2, 3, 4]);
	assert.equal(body.next_offset, 4);
	assert.equal(body.last_seq, 6);
	assert.equal(body.has_more, true);
	body = expectJson(await api.get(`/api/sync/changes?offset_id=${body.next_offset}`, { token: alice.token }), 200);
	assert.deepEqual(body.changes.map((c) => c.seq), [5, 6]);
	assert.equal(body.has_more, false);
	body = expectJson(await api.get('/api/sync/changes?offset_id=6', { token: alice.token }), 200);
	assert.deepEqual(body.changes, []);
	assert.equal(body.next_offset, 6);
	expectError(await api.get('/api/sync/changes?limit=0', { token: alice.token }), 400);
	expectError(await api.get('/api/sync/changes?limit=1001', { token: alice.token }), 400);
	expectError(await api.get('/api/sync/changes?offset_id=1.5', { token: alice.token }), 400, 'invalid_offset');
});

test('another user sees none of it: empty log, empty tables, own numbering', async () => {
	let body = expectJson(await api.get('/api/sync/changes?offset_id=0', { token: bob.token }), 200);
	assert.deepEqual(body.changes, []);
	assert.equal(body.last_seq, 0);
	expectError(await api.get('/api/sync/changes/next?offset_id=0', { token: bob.token }), 404, 'no_more_changes');
	body = expectJson(await api.get('/api/sync/tables/example_table/rows', { token: bob.token }), 200);
	assert.deepEqual(body.rows, []);
	// Bob's log_id 1 is his own.
	assert.equal(expectJson(await upload(bob, change(1, 'I', { id: 1, value: 'bob' })), 200).seq, 1);
	assert.deepEqual(rowsOf(alice), [['1', { id: 1, value: 'changed' }]]);
});

test('a batch {"changes": [...]} applies in order with a few statements: I, U, D, I again of one row', async () => {
	const changes = [
		change(7, 'I', { id: 10, a: 1 }),
		change(8, 'U', { id: 10, b: 2 }),
		change(9, 'I', { id: 11, a: 1 }),
		change(10, 'D', { id: 10 }),
		change(11, 'I', { id: 10, c: 3 }),
		change(12, 'U', { id: 11, a: 2 }),
		change(13, 'U', { id: 12, fresh: true }),
		change(14, 'D', { id: 999 }),
	];
	const body = expectJson(await upload(alice, { changes }), 200);
	assert.equal(body.applied, 8);
	assert.deepEqual(body.results.map((r) => r.seq), [7, 8, 9, 10, 11, 12, 13, 14]);
	assert.ok(body.results.every((r) => r.status === 'applied'));
	const rows = Object.fromEntries(rowsOf(alice).map(([id, d]) => [id, d]));
	assert.deepEqual(rows['10'], { id: 10, c: 3 });
	assert.deepEqual(rows['11'], { id: 11, a: 2 });
	assert.deepEqual(rows['12'], { id: 12, fresh: true });
	const ev = syncEvents(alice).at(-1);
	assert.equal(ev.from_seq, 7);
	assert.equal(ev.to_seq, 14);
	assert.equal(ev.count, 8);
});

test('a bare array works too; duplicates inside a batch and re-sent ones are answered, not stored twice', async () => {
	const c = change(15, 'I', { id: 20 });
	const body = expectJson(await upload(alice, [c, c, change(14, 'D', { id: 999 })]), 200);
	assert.deepEqual(body.results.map((r) => [r.log_id, r.seq, r.status]), [[15, 15, 'applied'], [15, 15, 'duplicate'], [14, 14, 'duplicate']]);
	assert.equal(body.applied, 1);
	assert.equal(body.duplicates, 2);
	assert.equal(changeCount(alice), 15);
});

test('a batch with one conflicting log_id is 409 and keeps nothing of that batch', async () => {
	const before = changeCount(alice);
	const rows = rowsOf(alice);
	let res = await upload(alice, { changes: [change(16, 'I', { id: 30 }), change(15, 'I', { id: 21 })] });
	assert.equal(expectError(res, 409, 'log_id_conflict').log_id, 15);
	res = await upload(alice, { changes: [change(16, 'I', { id: 30 }), change(16, 'I', { id: 31 })] });
	assert.equal(expectError(res, 409, 'log_id_conflict').log_id, 16);
	assert.equal(changeCount(alice), before);
	assert.deepEqual(rowsOf(alice), rows);
});

test('devices: each numbers its own log (X-Device-Id or device_id); the user\'s seq interleaves them', async () => {
	const last = Number(sql.value('SELECT seq FROM sync_counters WHERE user_id = ?', [alice.id]));
	let body = expectJson(await upload(alice, change(1, 'I', { id: 'phone-1', v: 1 }), { 'X-Device-Id': 'phone' }), 200);
	assert.equal(body.status, 'applied');
	assert.equal(body.seq, last + 1);
	assert.equal(body.device_id, 'phone');
	body = expectJson(await upload(alice, { device_id: 'tablet', changes: [change(1, 'I', { id: 'tab-1' })] }), 200);
	assert.equal(body.results[0].seq, last + 2);
	// The same log_id again from the phone is a duplicate; from the default device it conflicts.
	body = expectJson(await upload(alice, change(1, 'I', { id: 'phone-1', v: 1 }), { 'X-Device-Id': 'phone' }), 200);
	assert.equal(body.status, 'duplicate');
	expectError(await upload(alice, change(1, 'I', { id: 'phone-1', v: 1 })), 409, 'log_id_conflict');
	const got = expectJson(await api.get(`/api/sync/changes?offset_id=${last}`, { token: alice.token }), 200);
	assert.deepEqual(got.changes.map((c) => [c.device_id, c.log_id, c.row_id]), [['phone', 1, 'phone-1'], ['tablet', 1, 'tab-1']]);
	for (const bad of ['a b', 'x'.repeat(65), 'dev/1', 'ü'])
		expectError(await upload(alice, change(99, 'I', { id: 1 }), { 'X-Device-Id': bad }), 400, 'invalid_field');
	expectError(await upload(alice, { device_id: 5, changes: [change(99, 'I', { id: 1 })] }), 400, 'invalid_field');
});

test('bad input is 400 naming the change and the field, and writes nothing', async () => {
	const before = changeCount(alice);
	const good = change(100, 'I', { id: 1 });
	const cases = [
		[{ ...good, log_id: undefined }, 'log_id'], [{ ...good, log_id: 0 }, 'log_id'], [{ ...good, log_id: -3 }, 'log_id'],
		[{ ...good, log_id: 1.5 }, 'log_id'], [{ ...good, log_id: '100' }, 'log_id'], [{ ...good, log_id: 2 ** 64 }, 'log_id'],
		[{ ...good, table_name: undefined }, 'table_name'], [{ ...good, table_name: '1abc' }, 'table_name'],
		[{ ...good, table_name: 'a-b' }, 'table_name'], [{ ...good, table_name: 'x'.repeat(65) }, 'table_name'],
		[{ ...good, table_name: "t'; DROP TABLE sync_rows; --" }, 'table_name'], [{ ...good, table_name: 'tä' }, 'table_name'],
		[{ ...good, table_name: ['t'] }, 'table_name'],
		[{ ...good, operation: 'X' }, 'operation'], [{ ...good, operation: 'ins' }, 'operation'], [{ ...good, operation: 'i' }, 'operation'], [{ ...good, operation: '\u0000' }, 'operation'],
		[{ ...good, table_name: 't\u0000x' }, 'table_name'],
		[{ ...good, data: undefined }, 'data'], [{ ...good, data: [1] }, 'data'], [{ ...good, data: 'x' }, 'data'],
		[{ ...good, data: {} }, 'data.id'], [{ ...good, data: { id: 1.5 } }, 'data.id'], [{ ...good, data: { id: {} } }, 'data.id'],
		[{ ...good, data: { id: '' } }, 'data.id'], [{ ...good, data: { id: 'x'.repeat(65) } }, 'data.id'], [{ ...good, data: { id: null } }, 'data.id'],
		[{ ...good, timestamp: 5 }, 'timestamp'], [{ ...good, timestamp: '<script>' }, 'timestamp'], [{ ...good, timestamp: 't'.repeat(41) }, 'timestamp'],
	];
	for (const [body, field] of cases) {
		const err = expectError(await upload(alice, body), 400, 'invalid_field');
		assert.ok(field in err.fields, `${JSON.stringify(body)}: ${JSON.stringify(err.fields)}`);
		const err2 = expectError(await upload(alice, { changes: [good, body] }), 400, 'invalid_field');
		assert.ok(`changes[1].${field}` in err2.fields, JSON.stringify(err2.fields));
	}
	for (const raw of ['{"log_id": 1,', 'null', '42', '"text"', '\u00ff', ''])
		expectError(await api.post('/api/sync/changes', { token: alice.token, body: raw, headers: { 'Content-Type': 'application/json' } }), 400);
	expectError(await upload(alice, []), 400, 'invalid_field');
	expectError(await upload(alice, { changes: {} }), 400, 'invalid_field');
	expectError(await upload(alice, [1, 2]), 400, 'invalid_field');
	assert.equal(changeCount(alice), before);
});

test('unicode, SQL-looking text and string ids round-trip verbatim', async () => {
	const data = { id: 'ключ-🔑', note: "Robert'); DROP TABLE sync_rows;--", text: '日本語 ünïcödé', nested: { a: [1, null, true] } };
	const body = expectJson(await upload(alice, change(200, 'I', data, 'sources')), 200);
	const got = expectJson(await api.get(`/api/sync/changes/next?offset_id=${body.seq - 1}`, { token: alice.token }), 200);
	assert.deepEqual(got.data, data);
	assert.equal(got.row_id, 'ключ-🔑');
	const rows = expectJson(await api.get('/api/sync/tables/sources/rows', { token: alice.token }), 200);
	assert.deepEqual(rows.rows.map((r) => [r.id, r.data]), [['ключ-🔑', data]]);
});

test('GET /api/sync/tables/{table}/rows: the server copy by id, paged with after', async () => {
	const body = expectJson(await api.get('/api/sync/tables/example_table/rows?limit=2', { token: alice.token }), 200);
	assert.equal(body.rows.length, 2);
	assert.equal(body.next_after, String(body.rows[1].id));
	const next = expectJson(await api.get(`/api/sync/tables/example_table/rows?after=${encodeURIComponent(body.next_after)}`, { token: alice.token }), 200);
	assert.ok(next.rows.length > 0);
	assert.ok(!next.rows.some((r) => body.rows.some((x) => x.id === r.id)));
	expectError(await api.get('/api/sync/tables/1bad/rows', { token: alice.token }), 400);
	expectError(await api.get('/api/sync/tables/example_table/rows?limit=x', { token: alice.token }), 400);
});

test('size limits: a change over [sync] max_row_bytes, a batch over max_batch, a body over 1 MiB are 413; nothing written', async () => {
	const before = changeCount(alice);
	let res = await upload(alice, change(300, 'I', { id: 1, blob: 'x'.repeat(70000) }));
	expectError(res, 413, 'change_too_large');
	const many = Array.from({ length: 1001 }, (_, i) => change(1000 + i, 'I', { id: i }));
	expectError(await upload(alice, many), 413, 'too_many_changes');
	res = await api.post('/api/sync/changes', { token: alice.token, body: '[' + 'x'.repeat(2 * 1024 * 1024) + ']',
		headers: { 'Content-Type': 'application/json' } });
	assert.equal(res.status, 413);
	assert.equal(changeCount(alice), before);
});

// Run SQL in a mariadb client of its own, which stays connected (and keeps
// its locks) until the statements are done; --force goes on past a killed
// query.  Resolves when it exits.
function sqlSession(text) {
	const child = spawn('sh', ['-c', `${process.env.FASTBACK_SQL} --batch --force`], { stdio: ['pipe', 'ignore', 'ignore'] });
	child.stdin.end(text);
	return new Promise((resolve) => child.on('exit', resolve));
}

// Statements of the stack's responders that are waiting, by their start.
function waiting(prefix) {
	return sql.count("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE ?", [prefix + '%']);
}

test('uploads that commit late are never skipped: the first holds its seq while blocked, the second waits, downloads see both in order', { timeout: 120000 }, async () => {
	// Two uploads will wait on locks: the download needs a third worker.
	await stack.restart({ FASTBACK_WALLETS_WORKERS: '4' });
	const u = await registerAndLogin();
	expectJson(await upload(u, change(1, 'I', { id: 1, v: 0 })), 200);
	// Another session locks the events counter, the very last step of an
	// upload: upload A takes seq 2, then blocks before it can commit.
	const session = sqlSession(`START TRANSACTION;
SELECT n FROM outbox_seq WHERE id = 1 FOR UPDATE;
SELECT SLEEP(30) AS hold_outbox;
COMMIT;`);
	await until('the session holds the counter', () => waiting('SELECT SLEEP(30) AS hold_outbox') === 1);
	const a = upload(u, change(2, 'U', { id: 1, v: 1 }));
	await until('upload A blocks after taking its seq', () => waiting('UPDATE outbox_seq') === 1);
	const b = upload(u, change(3, 'I', { id: 2, v: 2 }));
	await until('upload B waits for the user\'s counter', () => waiting('UPDATE sync_counters') === 1);
	// Meanwhile a download sees neither: nothing past seq 1 is visible yet.
	let body = expectJson(await api.get('/api/sync/changes?offset_id=1', { token: u.token }), 200);
	assert.deepEqual(body.changes, []);
	assert.equal(body.last_seq, 1);
	// Let the session go on to COMMIT.
	sql('KILL QUERY ?', [Number(sql.value("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(30) AS hold_outbox%'"))]);
	await session;
	const [ra, rb] = await Promise.all([a, b]);
	assert.equal(expectJson(ra, 200).seq, 2);
	assert.equal(expectJson(rb, 200).seq, 3);
	body = expectJson(await api.get('/api/sync/changes?offset_id=1', { token: u.token }), 200);
	assert.deepEqual(body.changes.map((c) => [c.seq, c.log_id]), [[2, 2], [3, 3]]);
});

test('concurrent uploads of one user get a gapless sequence, each change once', { timeout: 60000 }, async () => {
	const u = await registerAndLogin();
	const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
		upload(u, { changes: Array.from({ length: 5 }, (_, k) => change(i * 5 + k + 1, 'I', { id: i * 5 + k + 1 })) })));
	assert.ok(results.every((r) => r.status === 200));
	const seqs = sql('SELECT seq FROM sync_changes WHERE user_id = ? ORDER BY seq', [u.id]).map((r) => Number(r[0]));
	assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => i + 1));
	assert.equal(sql.value('SELECT seq FROM sync_counters WHERE user_id = ?', [u.id]), '100');
});

test('a deleted user\'s sync data goes with them (ON DELETE CASCADE)', async () => {
	const u = await registerAndLogin();
	expectJson(await upload(u, change(1, 'I', { id: 1 })), 200);
	sql('DELETE FROM users WHERE id = ?', [u.id]);
	for (const table of ['sync_rows', 'sync_changes', 'sync_counters'])
		assert.equal(sql.count(`SELECT COUNT(*) FROM ${table} WHERE user_id = ?`, [u.id]), 0, table);
});

test('[sync] tables restricts the table names; max_user_bytes caps a user\'s log', { timeout: 120000 }, async () => {
	await stack.restart({ FASTBACK_SYNC_TABLES: 'sources, transactions', FASTBACK_SYNC_MAX_USER_BYTES: '2048' });
	const u = await registerAndLogin();
	const err = expectError(await upload(u, change(1, 'I', { id: 1 }, 'example_table')), 400, 'invalid_field');
	assert.ok('table_name' in err.fields);
	expectError(await api.get('/api/sync/tables/example_table/rows', { token: u.token }), 400);
	expectJson(await upload(u, change(1, 'I', { id: 1 }, 'sources')), 200);
	expectJson(await upload(u, change(2, 'I', { id: 1 }, 'transactions')), 200);
	expectJson(await upload(u, change(3, 'I', { id: 2, blob: 'x'.repeat(1500) }, 'sources')), 200);
	expectError(await upload(u, change(4, 'I', { id: 3, blob: 'x'.repeat(1000) }, 'sources')), 413, 'sync_quota_exceeded');
	assert.equal(changeCount(u), 3);
	await stack.restart();
});
