// 550-notifier-resume.test.js -- clients that lose their connection get
// what they missed, exactly once and in order, from the events table:
// socket.io-client's own connection-state recovery (the CONNECT ack's pid,
// each event's trailing offset, {pid, offset} in the next CONNECT) after a
// dropped transport and across a notifier restart; an explicit
// last_event_id in the auth payload (python-socketio and socket.io-client);
// 003's ?last_event_id=.  Before the cut nothing is replayed, after it
// nothing is skipped or doubled, and live events follow the replay.
'use strict';

const { test, after, api, sql, stack, until, assert, expectJson, registerAndLogin } = require('./lib');
const rt = require('./lib/realtime');

after(rt.closeAll);

let u, w;

function change(logId) {
	return { log_id: logId, table_name: 'resume', operation: 'I', data: { id: logId }, timestamp: '2024-07-18T12:34:56' };
}

async function upload(user, logId) {
	expectJson(await api.post('/api/sync/changes', { token: user.token, json: change(logId) }), 200);
	return Number(sql.value('SELECT MAX(seq) FROM events WHERE room = ? AND event = ?', [`user:${user.id}`, 'sync_changed']));
}

// The contents of every new_public_message c received, in order.
const contents = (c) => c.all('new_public_message').map((m) => m.content);

test('two users', async () => {
	u = await registerAndLogin();
	w = await registerAndLogin();
});

test('socket.io-client recovery: the CONNECT carries a pid; a dropped transport resumes with exactly the missed events', async () => {
	const s = await rt.openSio({ token: u.token, transports: ['websocket'], name: 'recovering' });
	await s.next('connected');
	assert.equal(typeof s.socket._pid, 'string', 'no pid in the CONNECT packet: no connection-state recovery');
	s.emit('join_public');
	await rt.postPublic(w, 'r0');
	await s.next('new_public_message', (m) => m.content === 'r0');
	const r0seq = String(sql.value('SELECT MAX(seq) FROM events WHERE event = ?', ['new_public_message']));
	assert.equal(s.socket._lastOffset, r0seq, 'the event did not carry its seq as the offset');
	// The transport drops (not a client disconnect): the socket may recover.
	s.socket.io.engine.close();
	await s.disconnected();
	for (const t of ['r1', 'r2', 'r3'])
		await rt.postPublic(w, t);
	s.socket.connect();
	await new Promise((resolve, reject) => {
		s.socket.once('connect', resolve);
		s.socket.once('connect_error', reject);
	});
	assert.equal(s.socket.recovered, true, 'the reconnected socket was not recovered');
	await s.next('new_public_message', (m) => m.content === 'r3');
	// Live events follow, the socket is still in the public room.
	await rt.postPublic(w, 'r4');
	await s.next('new_public_message', (m) => m.content === 'r4');
	assert.deepEqual(contents(s), ['r0', 'r1', 'r2', 'r3', 'r4']);
	s.close();
});

test('socket.io-client recovery across a notifier restart: nothing posted while it was down is lost', { timeout: 90000 }, async () => {
	const s = await rt.openSio({ token: u.token, via: 'query', name: 'across a restart' });
	await s.next('connected');
	s.emit('join_public');
	await rt.postPublic(w, 'k0');
	await s.next('new_public_message', (m) => m.content === 'k0');
	const pid = rt.notifier.pid;
	process.kill(pid, 'SIGTERM');
	await s.disconnected(20000);
	await until('the notifier to exit', () => !rt.alive(pid), 20000, 50);
	for (const t of ['k1', 'k2', 'k3'])
		await rt.postPublic(w, t);
	await stack.start();
	assert.notEqual(rt.notifier.pid, pid);
	await until('the socket to reconnect', async () => {
		if (s.socket.connected)
			return true;
		s.socket.connect();
		try {
			await new Promise((resolve, reject) => {
				s.socket.once('connect', resolve);
				s.socket.once('connect_error', reject);
			});
			return true;
		} catch {
			return false;
		}
	}, 30000, 200);
	assert.equal(s.socket.recovered, true, 'not recovered after the restart');
	await s.next('new_public_message', (m) => m.content === 'k3');
	await rt.postPublic(w, 'k4');
	await s.next('new_public_message', (m) => m.content === 'k4');
	assert.deepEqual(contents(s), ['k0', 'k1', 'k2', 'k3', 'k4']);
	s.close();
});

test('socket.io-client with its own reconnection (the default): a notifier restart is invisible but for the delay', { timeout: 90000 }, async () => {
	const s = await rt.openSio({ token: u.token, name: 'auto-reconnect', reconnection: true,
	    reconnectionDelay: 200, reconnectionDelayMax: 1000 });
	await s.next('connected');
	s.emit('join_public');
	await rt.postPublic(w, 'a0');
	await s.next('new_public_message', (m) => m.content === 'a0');
	const pid = rt.notifier.pid;
	process.kill(pid, 'SIGTERM');
	await s.disconnected(20000);
	await until('the notifier to exit', () => !rt.alive(pid), 20000, 50);
	for (const t of ['a1', 'a2'])
		await rt.postPublic(w, t);
	await stack.start();
	await s.next('new_public_message', (m) => m.content === 'a2', 30000);
	assert.equal(s.socket.recovered, true, 'the automatic reconnection was not recovered');
	await rt.postPublic(w, 'a3');
	await s.next('new_public_message', (m) => m.content === 'a3');
	assert.deepEqual(contents(s).filter((t) => /^a\d$/.test(t)), ['a0', 'a1', 'a2', 'a3']);
	s.close();
});

test('python-socketio with {last_event_id} in the auth payload: exactly the missed personal-room events, in order', async () => {
	const cut = await upload(u, 1);
	const missed = [await upload(u, 2), await upload(u, 3), await upload(u, 4)];
	const p = rt.openPython('python resume');
	await p.connect({ headers: { Authorization: `Bearer ${u.token}` }, auth: { last_event_id: cut } });
	for (const to of [2, 3, 4])
		await p.event('sync_changed', (e) => e.to_seq === to);
	const live = await upload(u, 5);
	await p.event('sync_changed', (e) => e.to_seq === 5);
	// Each once (python-socketio runs handlers on threads of their own, so
	// the order it reports is not the order on the wire).
	assert.deepEqual(p.events('sync_changed').map((e) => e.to_seq).sort((x, y) => x - y), [2, 3, 4, 5]);
	assert.ok(missed.every((s, i) => i === 0 || s > missed[i - 1]) && live > missed[2]);
	await p.close();
});

test('socket.io-client with {token, last_event_id}: the same', async () => {
	const cut = await upload(u, 6);
	await upload(u, 7);
	await upload(u, 8);
	const s = await rt.openSio({ token: u.token, auth: { last_event_id: cut }, transports: ['websocket'], name: 'explicit id' });
	await s.next('sync_changed', (e) => e.to_seq === 8);
	await upload(u, 9);
	await s.next('sync_changed', (e) => e.to_seq === 9);
	assert.deepEqual(s.all('sync_changed').map((e) => e.to_seq), [7, 8, 9]);
	s.close();
});

test('no last_event_id: no replay, only what comes next', async () => {
	const s = await rt.openSio({ token: u.token, transports: ['websocket'], name: 'fresh' });
	await s.next('connected');
	await upload(u, 10);
	await s.next('sync_changed', (e) => e.to_seq === 10);
	assert.deepEqual(s.all('sync_changed').map((e) => e.to_seq), [10]);
	s.close();
});

test('003 ?last_event_id=: the missed messages of the conversation as frames, in order, then live ones', async () => {
	const conv = expectJson(await api.post(`/api/private-chats/${w.id}`, { token: u.token }), 201).conversation_id;
	const post = async (body) => expectJson(await api.post(`/api/conversations/${conv}/messages`, { token: w.token, json: { body } }), 201);
	await post('m0');
	const cut = Number(sql.value('SELECT MAX(seq) FROM events WHERE room = ?', [`conversation:${conv}`]));
	for (const t of ['m1', 'm2', 'm3'])
		await post(t);
	const ws = await rt.open003(conv, u.email, u.token, { lastEventId: cut, name: '003 resume' });
	await ws.next((f) => f.text === 'm3', 'm3');
	await post('m4');
	await ws.next((f) => f.text === 'm4', 'm4');
	const texts = ws.frames((f) => f.text !== undefined && f.status === 'delivered').map((f) => f.text);
	assert.deepEqual(texts, ['m1', 'm2', 'm3', 'm4']);
	ws.close();
});

test('a last_event_id older than what is retained: an error event (003: a 410 frame), then live events', async () => {
	const watcher = await rt.openSio({ token: u.token, transports: ['websocket'], name: 'watcher' });
	await watcher.next('connected');
	const old = await upload(u, 11);
	await upload(u, 12);
	// Once the notifiers have read them, what pruning does to rows past
	// the retention.
	await watcher.next('sync_changed', (e) => e.to_seq === 12);
	watcher.close();
	sql('DELETE FROM events WHERE seq <= ?', [old + 1]);
	const s = await rt.openSio({ token: u.token, auth: { last_event_id: old - 1 }, transports: ['websocket'], name: 'too old' });
	assert.deepEqual(await s.next('error'), { message: 'The events after last_event_id are no longer available' });
	await upload(u, 13);
	await s.next('sync_changed', (e) => e.to_seq === 13);
	s.close();
	const conv = expectJson(await api.post(`/api/private-chats/${w.id}`, { token: u.token }), 200).conversation_id;
	const ws = await rt.open003(conv, u.email, u.token, { lastEventId: old - 1, name: '003 too old' });
	const f = await ws.next((x) => x.status_code !== undefined, 'the 410 frame');
	assert.equal(f.status_code, 410);
	ws.close();
});

test('the notifier is still up', async () => {
	await rt.notifier.answers(u.token);
});
