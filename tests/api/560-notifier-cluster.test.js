// 560-notifier-cluster.test.js -- the delivery guarantees that need more
// than one client: two fastback-notifier processes on one database (the
// stack's behind nginx, and a second one this file starts on a port of
// its own and connects to directly) deliver every event to their own
// sockets once, in seq order, with no gap; presence (online_users) is
// shared; a revocation closes a socket on either.  Then events rows
// inserted by SQL whose transactions commit out of order (the lower seq
// after the higher) both reach the sockets, in seq order, and a seq that
// never commits is skipped after the grace period without stalling the
// rest.
'use strict';

const { spawn } = require('node:child_process');
const readline = require('node:readline');
const { test, after, api, sql, until, assert, expectJson, newUser, registerAndLogin } = require('./lib');
const rt = require('./lib/realtime');

after(rt.closeAll);

let a, b, c, n2;
let s1, s2, s2poll, p3;

const ids = (cl) => (cl.child ? cl.events('new_public_message') : cl.all('new_public_message')).map((m) => m.id);

test('three users and a second notifier on its own port', async () => {
	a = await registerAndLogin(newUser('ka'));
	b = await registerAndLogin(newUser('kb'));
	c = await registerAndLogin(newUser('kc'));
	n2 = await rt.notifier.startAnother();
	assert.ok(rt.alive(n2.pid));
});

test('sockets on both: a through nginx, b on the second (websocket and polling), c on the second with python', async () => {
	s1 = await rt.openSio({ token: a.token, transports: ['websocket'], name: 'a @1' });
	s2 = await rt.openSio({ url: n2.url, token: b.token, transports: ['websocket'], name: 'b @2' });
	s2poll = await rt.openSio({ url: n2.url, token: b.token, via: 'query', transports: ['polling'], name: 'b @2 polling' });
	p3 = rt.openPython('c @2 python');
	await p3.connect({ url: `${n2.url}?token=${encodeURIComponent(c.token)}` });
	for (const s of [s1, s2, s2poll])
		assert.deepEqual(await s.next('connected'), { message: `Welcome ${s === s1 ? a.username : b.username}!` });
	await p3.event('connected');
	for (const s of [s1, s2, s2poll])
		s.emit('join_public');
	p3.emit('join_public');
	// In the room on both: a message reaches all four.
	await rt.postPublic(a, 'ready?');
	for (const s of [s1, s2, s2poll])
		await s.next('new_public_message', (m) => m.content === 'ready?');
	await p3.event('new_public_message', (m) => m.content === 'ready?');
	// user_joined is the notifier's own (no events row): say whether it
	// crossed to the other notifier, without judging it.
	require('./lib').diag(`user_joined of b (on the second) seen by a (on the first): ${s1.all('user_joined').some((m) => m.username === b.username)}`);
});

test('60 messages from REST and from sockets on both notifiers: every socket gets each once, in the same order', { timeout: 120000 }, async () => {
	const sent = [];
	for (let i = 0; i < 60; i++) {
		const text = `burst ${i}`;
		sent.push(text);
		switch (i % 4) {
		case 0: await rt.postPublic(a, text); break;
		case 1: await rt.postPublic(b, text); break;
		case 2: s1.emit('send_public_message', { content: text }); break;
		default: s2.emit('send_public_message', { content: text }); break;
		}
	}
	const want = sent.length;
	for (const cl of [s1, s2, s2poll, p3]) {
		await until(`${cl.name} to have all ${want}`, () =>
		    (cl.child ? cl.events('new_public_message') : cl.all('new_public_message')).filter((m) => m.content.startsWith('burst ')).length >= want,
		    60000, 50);
	}
	const order = sql('SELECT JSON_VALUE(payload, \'$.id\') FROM events WHERE event = ? AND JSON_VALUE(payload, \'$.content\') LIKE ? ORDER BY seq',
	    ['new_public_message', 'burst %']).map((r) => Number(r[0]));
	assert.equal(order.length, want);
	for (const cl of [s1, s2, s2poll]) {
		const got = ids(cl).filter((id) => order.includes(id));
		assert.deepEqual(got, order, `${cl.name}: duplicates, gaps or another order`);
	}
	// python-socketio runs each handler on a thread of its own, so what
	// it reports may be reordered: each once is what it can show.
	const py = ids(p3).filter((id) => order.includes(id));
	assert.deepEqual([...py].sort((x, y) => x - y), [...order].sort((x, y) => x - y), `${p3.name}: duplicates or gaps`);
	const contents = s1.all('new_public_message').map((m) => m.content).filter((t) => t.startsWith('burst '));
	assert.deepEqual([...contents].sort(), [...sent].sort());
});

test('get_online_users on either notifier lists the users of both (shared presence)', async () => {
	for (const s of [s1, s2]) {
		s.emit('get_online_users');
		const { users } = await s.next('online_users');
		for (const u of [a, b, c])
			assert.ok(users.some((x) => x.id === u.id), `${s.name}: ${u.username} missing from ${JSON.stringify(users)}`);
	}
});

test('a private chat across notifiers: both members\' sockets get it, the third (python, on the second) never', async () => {
	s1.emit('join_private', { other_user_id: b.id });
	s2.emit('join_private', { other_user_id: a.id });
	const j1 = await s1.next('joined_private');
	const j2 = await s2.next('joined_private');
	assert.equal(j1.chat_id, j2.chat_id);
	s2.emit('send_private_message', { other_user_id: a.id, content: 'across' });
	await s1.next('new_private_message', (m) => m.content === 'across');
	await s2.next('new_private_message', (m) => m.content === 'across');
	await rt.postPublic(a, 'cluster barrier');
	await p3.event('new_public_message', (m) => m.content === 'cluster barrier');
	assert.equal(p3.events('new_private_message').length, 0);
	await s2poll.next('new_public_message', (m) => m.content === 'cluster barrier');
	assert.equal(s2poll.all('new_private_message').length, 0, 'b\'s socket that did not join the chat got its message');
});

test('003 across notifiers: the member on the second gets the message, and the sender on the first its "delivered" ack', async () => {
	const conv = expectJson(await api.post(`/api/private-chats/${c.id}`, { token: a.token }), 201).conversation_id;
	const w1 = await rt.open003(conv, a.email, a.token, { name: '003 a @1' });
	const w2url = `${n2.url}/api/user/send_message_ws/${conv}/${encodeURIComponent(c.email)}?token=${encodeURIComponent(c.token)}`;
	const WebSocket = require('ws');
	const w2 = new WebSocket(w2url.replace(/^http/, 'ws'));
	const got = new rt.Inbox('003 c @2');
	w2.on('message', (d) => got.push({ frame: JSON.parse(d.toString()) }));
	await new Promise((resolve, reject) => { w2.once('open', resolve); w2.once('error', reject); });
	w1.send({ body: 'to the other notifier' });
	await w1.next((f) => f.text === 'to the other notifier' && f.status === 'sent');
	await got.take((i) => i.frame.text === 'to the other notifier' && i.frame.status === 'delivered', 'the message on @2');
	await w1.next((f) => f.text === 'to the other notifier' && f.status === 'delivered', 'the "delivered" ack on @1');
	w1.close();
	w2.terminate();
});

test('a logout closes the session\'s sockets on the second notifier within a second', async () => {
	expectJson(await api.post('/api/auth/logout', { token: b.token }), 200);
	const since = Date.now();
	for (const s of [s2, s2poll]) {
		await s.disconnected(5000);
		assert.ok(Date.now() - since <= 1000, `${s.name} closed ${Date.now() - since} ms after the logout`);
	}
});

test('stopping the second notifier: its sockets close and its users leave online_users', { timeout: 90000 }, async () => {
	const r = await n2.stop();
	assert.ok(r.code === 0 || r.signal === 'SIGTERM', `the second notifier exited with ${JSON.stringify(r)}`);
	await p3.next('disconnect', () => true, 15000);
	await until('c gone from online_users', async () => {
		s1.emit('get_online_users');
		const { users } = await s1.next('online_users');
		return !users.some((x) => x.id === c.id);
	}, 60000, 500);
});

test('a notifier killed outright: its users leave online_users once its heartbeat is stale (presence_timeout)', { timeout: 90000 }, async () => {
	const z = await registerAndLogin(newUser('kz'));
	const n3 = await rt.notifier.startAnother({}, '3');
	const sz = await rt.openSio({ url: n3.url, token: z.token, transports: ['websocket'], name: 'z @3' });
	await sz.next('connected');
	sz.emit('join_public');
	await until('z in online_users', async () => {
		s1.emit('get_online_users');
		return (await s1.next('online_users')).users.some((x) => x.id === z.id);
	}, 10000, 100);
	process.kill(n3.pid, 'SIGKILL');
	await n3.exited;
	const t0 = Date.now();
	await until('z gone from online_users', async () => {
		s1.emit('get_online_users');
		return !(await s1.next('online_users')).users.some((x) => x.id === z.id);
	}, 60000, 500);
	require('./lib').diag(`z left online_users ${Date.now() - t0} ms after its notifier was killed`);
	sz.close();
});

test('a notifier taken for dead while alive (its rows deleted, as a peer would after a stall) records its sockets again', { timeout: 60000 }, async () => {
	const y = await registerAndLogin(newUser('ky'));
	const n4 = await rt.notifier.startAnother({}, '4');
	const sy = await rt.openSio({ url: n4.url, token: y.token, transports: ['websocket'], name: 'y @4' });
	await sy.next('connected');
	sy.emit('join_public');
	const online = async () => {
		s1.emit('get_online_users');
		return (await s1.next('online_users')).users.some((x) => x.id === y.id);
	};
	await until('y in online_users', online, 10000, 100);
	const [[nid]] = sql(`SELECT notifier_id FROM presence WHERE user_id = ${y.id} AND left_at IS NULL`);
	sql(`DELETE FROM notifiers WHERE id = '${nid}'`);
	assert.equal(await online(), false, 'y is gone with its notifier\'s rows');
	// The next heartbeat (every 5 s) finds its row gone and writes it all back.
	await until('y back in online_users', online, 20000, 250);
	const rows = sql(`SELECT rooms FROM presence WHERE user_id = ${y.id} AND left_at IS NULL`);
	assert.equal(rows.length, 1);
	assert.ok(JSON.parse(rows[0][0]).includes('public'), `rooms recorded again: ${rows[0][0]}`);
	sy.close();
	await n4.stop();
});

// ------------------------------------------------------------ commit order

// A mariadb session kept open on the stack's database, for a transaction
// that commits when the test says so.
function openSession() {
	const child = spawn('sh', ['-c', `${process.env.FASTBACK_SQL} --batch --skip-column-names --unbuffered`],
	    { stdio: ['pipe', 'pipe', 'pipe'] });
	const lines = [];
	let waiting = null;
	readline.createInterface({ input: child.stdout }).on('line', (l) => {
		lines.push(l);
		if (waiting)
			waiting();
	});
	let err = '';
	child.stderr.on('data', (d) => { err += d; });
	const s = {
		run(statements) {
			child.stdin.write(statements + '\n');
		},
		// Run statements, then wait until they are done.
		async exec(statements) {
			const tag = `done${Math.random().toString(36).slice(2)}`;
			s.run(`${statements}\nSELECT '${tag}';`);
			await new Promise((resolve, reject) => {
				const t = setTimeout(() => reject(new Error(`mariadb session: ${err}`)), 15000);
				waiting = () => {
					if (lines.includes(tag)) {
						clearTimeout(t);
						waiting = null;
						resolve();
					}
				};
				waiting();
			});
		},
		end() {
			child.stdin.end();
			return new Promise((resolve) => child.once('exit', resolve));
		},
	};
	return s;
}

// Take n seqs from the outbox counter, as a responder's transaction would;
// returns the first.
function reserveSeqs(n) {
	const rows = sql(`UPDATE outbox_seq SET n = LAST_INSERT_ID(n + ${n}) WHERE id = 1; SELECT LAST_INSERT_ID();`);
	return Number(rows[0][0]) - n + 1;
}

function insertEvent(seq, content) {
	const payload = JSON.stringify({ id: 900000000 + seq, content, timestamp: '2025-01-01T00:00:00Z',
	    user_id: a.id, user: { id: a.id, username: a.username }, username: a.username, avatar_url: null });
	return `INSERT INTO events (seq, room, event, payload) VALUES (${seq}, 'public', 'new_public_message', ${sql.quote(payload)});`;
}

test('out of order: the lower seq commits after the higher; both arrive once, in seq order', { timeout: 60000 }, async () => {
	const lo = reserveSeqs(2);
	const hi = lo + 1;
	const t1 = openSession();
	await t1.exec(`BEGIN; ${insertEvent(lo, 'lower seq, late commit')}`);
	sql(insertEvent(hi, 'higher seq, early commit'));
	// The poller sees hi with lo missing: it must wait for lo ([notifier]
	// gap_ms, 2 s by default), not skip it.  This wait is the scenario
	// itself: lo stays uncommitted for several polls, unless 'not yet'
	// (a seq above both) shows up first, which would already be wrong.
	await rt.postPublic(a, 'not yet');
	await until('"not yet" too early', () => s1.all('new_public_message').some((m) => m.content === 'not yet'),
	    700, 20).catch(() => {});
	await t1.exec('COMMIT;');
	await t1.end();
	await s1.next('new_public_message', (m) => m.content === 'not yet', 20000);
	const seen = s1.all('new_public_message').map((m) => m.content)
	    .filter((t) => ['lower seq, late commit', 'higher seq, early commit', 'not yet'].includes(t));
	assert.deepEqual(seen, ['lower seq, late commit', 'higher seq, early commit', 'not yet']);
});

test('a seq that never commits is skipped after the grace period; later events still flow', { timeout: 60000 }, async () => {
	const lo = reserveSeqs(2);
	sql(insertEvent(lo + 1, 'after a hole'));
	await s1.next('new_public_message', (m) => m.content === 'after a hole', 30000);
	await rt.postPublic(a, 'after the hole, live');
	await s1.next('new_public_message', (m) => m.content === 'after the hole, live');
	assert.equal(s1.all('new_public_message').filter((m) => m.content === 'after a hole').length, 1);
});

test('the stack\'s notifier is still up', async () => {
	const u = await registerAndLogin();
	await rt.notifier.answers(u.token);
});
