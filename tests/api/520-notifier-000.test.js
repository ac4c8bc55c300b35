// 520-notifier-000.test.js -- seed 000's Socket.IO events through nginx:
// the python-socketio client the way 000's own client connects (the token
// in the Authorization header of the handshake), and socket.io-client with
// extraHeaders, polling and websocket.  save_data (a JSON string, as 000
// sends it, or an object) acknowledged {"message": "OK"} or {"error": ...};
// load_data {"offset_id": N} emitting `payload` with the next change and
// acknowledging "OK", {"error": "No more changes found."} past the end;
// the change lands in the same log as the REST sync routes; sync_changed
// reaches the user's other sockets through the personal room.
'use strict';

const { test, after, api, sql, stack, assert, expectJson, registerAndLogin } = require('./lib');
const rt = require('./lib/realtime');

let u, other, py, js;

after(rt.closeAll);

// 000's save_data record.
function change(logId, op, data, table = 'transactions') {
	return { log_id: logId, table_name: table, operation: op, data, timestamp: '2024-07-18T12:34:56' };
}

const rows = (user) => sql('SELECT seq, log_id, table_name, row_id, operation FROM sync_changes WHERE user_id = ? ORDER BY seq', [user.id]);

test('two users', async () => {
	u = await registerAndLogin();
	other = await registerAndLogin();
});

test('python-socketio with the Authorization header (000\'s client): connects, polling then upgrade', async () => {
	py = rt.openPython('000 python');
	const r = await py.connect({ headers: { Authorization: `Bearer ${u.token}` } });
	assert.ok(r.sid);
});

test('save_data as a JSON string: ack {"message": "OK"}, one change in the log', async () => {
	const args = await py.ack('save_data', JSON.stringify(change(1, 'I', { id: 1, amount: '12.50', type: 'expense' })));
	assert.deepEqual(args, [{ message: 'OK' }]);
	assert.deepEqual(rows(u), [['1', '1', 'transactions', '1', 'I']]);
});

test('save_data as an object: ack {"message": "OK"}', async () => {
	const args = await py.ack('save_data', change(2, 'U', { id: 1, amount: '13.00' }));
	assert.deepEqual(args, [{ message: 'OK' }]);
	assert.equal(rows(u).length, 2);
});

test('save_data of the same record again (a client re-sending after a lost ack): ack OK, stored once', async () => {
	const again = await py.ack('save_data', change(2, 'U', { id: 1, amount: '13.00' }));
	assert.deepEqual(again, [{ message: 'OK' }]);
	assert.equal(rows(u).length, 2);
});

test('save_data errors as acks: not JSON, JSON null, a conflicting log_id, a bad record; nothing stored', async () => {
	assert.deepEqual(await py.ack('save_data', 'this is not json'), [{ error: 'Invalid payload' }]);
	assert.deepEqual(await py.ack('save_data', 'null'), [{ error: 'Invalid payload' }]);
	const conflict = await py.ack('save_data', JSON.stringify(change(1, 'I', { id: 1, amount: 'other' })));
	assert.equal(conflict.length, 1);
	assert.equal(typeof conflict[0].error, 'string');
	assert.ok(conflict[0].error.length > 0);
	assert.equal(conflict[0].message, undefined);
	const bad = await py.ack('save_data', JSON.stringify({ log_id: 3, table_name: 'transactions', operation: 'X', data: { id: 1 }, timestamp: '2024-07-18T12:34:56' }));
	assert.equal(typeof bad[0].error, 'string');
	assert.equal(rows(u).length, 2);
});

test('load_data {"offset_id": 0}: `payload` with change 1, ack "OK"; then 1; past the end "No more changes found."', async () => {
	const ack0 = await py.ack('load_data', JSON.stringify({ offset_id: 0 }));
	assert.deepEqual(ack0, ['OK']);
	const p1 = await py.event('payload');
	assert.equal(p1.log_id, 1);
	assert.equal(p1.table_name, 'transactions');
	assert.equal(p1.operation, 'I');
	assert.equal(p1.row_id, 1);
	assert.equal(p1.change_time, '2024-07-18T12:34:56');
	assert.equal(typeof p1.sync_time, 'string');
	assert.equal(p1.data.id, 1);
	assert.deepEqual(await py.ack('load_data', { offset_id: 1 }), ['OK']);
	const p2 = await py.event('payload');
	assert.equal(p2.log_id, 2);
	assert.equal(p2.operation, 'U');
	assert.deepEqual(await py.ack('load_data', JSON.stringify({ offset_id: 2 })), [{ error: 'No more changes found.' }]);
	assert.deepEqual(await py.ack('load_data', JSON.stringify({})), [{ error: 'Invalid offset_id' }]);
	assert.deepEqual(await py.ack('load_data', 'garbage'), [{ error: 'Invalid payload' }]);
	// Only two payloads were emitted, one per successful load_data.
	assert.equal(py.events('payload').length, 2);
});

test('save_data and load_data with a one-argument `payload` handler, as 000\'s client writes it', async () => {
	const p = rt.openPython('000 python strict');
	await p.connect({ headers: { Authorization: `Bearer ${u.token}` }, strict: true });
	assert.deepEqual(await p.ack('load_data', JSON.stringify({ offset_id: 0 })), ['OK']);
	assert.equal((await p.event('payload')).log_id, 1);
	assert.deepEqual(p.inbox.seen((i) => i.type === 'handler_error'), [],
	    'a handler of one argument could not take what the notifier sent');
	await p.close();
});

test('socket.io-client with extraHeaders Authorization (polling, then upgrade): save_data and load_data', async () => {
	js = await rt.openSio({ token: u.token, via: 'header', name: '000 js' });
	const ok = await js.ack('save_data', JSON.stringify(change(3, 'I', { id: 2, amount: '1.00', type: 'income' })));
	assert.deepEqual(ok, [{ message: 'OK' }]);
	assert.deepEqual(await js.ack('load_data', JSON.stringify({ offset_id: 2 })), ['OK']);
	const p = await js.next('payload');
	assert.equal(p.log_id, 3);
	assert.deepEqual(p.data, { id: 2, amount: '1.00', type: 'income' });
	await rt.upgraded(js);
	assert.deepEqual(await js.ack('load_data', JSON.stringify({ offset_id: 3 })), [{ error: 'No more changes found.' }]);
});

test('socket.io-client transports [websocket] with the header: the same acks', async () => {
	const w = await rt.openSio({ token: u.token, via: 'header', transports: ['websocket'], name: '000 ws' });
	assert.deepEqual(await w.ack('load_data', JSON.stringify({ offset_id: 0 })), ['OK']);
	assert.equal((await w.next('payload')).log_id, 1);
	w.close();
});

test('python-socketio on long-polling only: acks and `payload` over polls', async () => {
	const p = rt.openPython('000 python polling');
	const r = await p.connect({ headers: { Authorization: `Bearer ${u.token}` }, transports: ['polling'] });
	assert.equal(r.transport, 'polling');
	assert.deepEqual(await p.ack('load_data', JSON.stringify({ offset_id: 1 })), ['OK']);
	assert.equal((await p.event('payload')).log_id, 2);
	p.send({ op: 'transport' });
	assert.equal((await p.next('transport')).name, 'polling');
	await p.close();
});

test('a REST upload from another device reaches the user\'s sockets as sync_changed (personal room), not other users\'', async () => {
	const o = await rt.openSio({ token: other.token, via: 'header', transports: ['websocket'], name: 'other user' });
	const res = await api.post('/api/sync/changes', { token: u.token, json: change(4, 'I', { id: 3, amount: '2.00' }),
	    headers: { 'X-Device-Id': 'laptop' } });
	expectJson(res, 200);
	const ev = await js.next('sync_changed', (e) => e.to_seq === 4);
	assert.equal(ev.user_id, u.id);
	assert.equal(ev.device_id, 'laptop');
	assert.equal(ev.to_seq, 4);
	const evPy = await py.event('sync_changed', (e) => e.to_seq === 4);
	assert.equal(evPy.device_id, 'laptop');
	// other's own upload reaches other: after it, u's event never will.
	expectJson(await api.post('/api/sync/changes', { token: other.token, json: change(1, 'I', { id: 1 }) }), 200);
	const mine = await o.next('sync_changed');
	assert.equal(mine.user_id, other.id);
	assert.equal(o.all('sync_changed').filter((e) => e.user_id === u.id).length, 0);
	o.close();
});

test('a save_data over a socket is the same upload: the user\'s other sockets get sync_changed', async () => {
	assert.deepEqual(await py.ack('save_data', JSON.stringify(change(5, 'D', { id: 3 }))), [{ message: 'OK' }]);
	const ev = await js.next('sync_changed', (e) => e.to_seq === 5);
	assert.equal(ev.count, 1);
	assert.equal(rows(u).length, 5);
});

test('no Authorization header, a malformed one, or a bad token: the connection is refused', { timeout: 90000 }, async () => {
	const refused = [
		{},
		{ headers: { Authorization: 'Bearer' } },
		{ headers: { Authorization: 'Basic dXNlcjpwYXNz' } },
		{ headers: { Authorization: 'Bearer not.a.token' } },
	];
	for (const cmd of refused) {
		const p = rt.openPython('000 refused');
		// python-socketio 5.7 waits out wait_timeout after a CONNECT_ERROR.
		await assert.rejects(p.connect({ ...cmd, wait_timeout: 3 }), /connect failed/, JSON.stringify(cmd));
		await p.close();
	}
	const e = await rt.refusedSio({ transports: ['websocket'], name: 'no header' });
	assert.equal(typeof e.message, 'string');
});

test('the notifier is still up', async () => {
	await py.close();
	await rt.notifier.answers(u.token);
});
