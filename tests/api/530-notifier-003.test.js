// 530-notifier-003.test.js -- seed 003's plain WebSocket
// /api/user/send_message_ws/{conversation_id}/{email}?token= through nginx
// with the `ws` package: a {"body"} frame posts a message; the sender gets
// the ack with status "sent", the other members' sockets the message with
// status "delivered" (and the sender a "delivered" ack); message_read over
// REST sends "read" statuses to the conversation's other sockets; REST and
// 002 socket sends reach 003 sockets too; a frame without body gets the
// error frame of DECISIONS #11 and the socket stays open; outsiders, other
// users' addresses and bad tokens are refused; conversations are isolated.
'use strict';

const { test, after, api, sql, assert, expectJson, newUser, registerAndLogin } = require('./lib');
const rt = require('./lib/realtime');

const call = (name, u, json) => api.post(`/api/user/${name}`, { token: u.token, json });

let a, b, c, x;
let direct, group;
let wa, wb;

after(rt.closeAll);

const MISSING = { status_code: 400, message: 'Missing required fields: conversation_id, email or body' };

function isMessage(f, text, status) {
	return f.text === text && (status === undefined || f.status === status);
}

test('four users, a direct conversation and a group', async () => {
	a = await registerAndLogin(newUser('wa'));
	b = await registerAndLogin(newUser('wb'));
	c = await registerAndLogin(newUser('wc'));
	x = await registerAndLogin(newUser('wx'));
	direct = expectJson(await call('conversation_start', a, { created_by_email: a.email, participants: [b.email],
	    conversation_type: 'direct' }), 200).conversation_id[0];
	group = expectJson(await call('conversation_start', a, { created_by_email: a.email, participants: [b.email, c.email],
	    conversation_name: 'ws group', conversation_type: 'group' }), 200).conversation_id[0];
	assert.ok(direct > 0 && group > 0 && direct !== group);
});

test('both members connect with ?token=', async () => {
	wa = await rt.open003(direct, a.email, a.token, { name: 'a direct' });
	wb = await rt.open003(direct, b.email, b.token, { name: 'b direct' });
});

test('a {"body"} frame: ack "sent" to the sender, "delivered" to the other member, then a "delivered" ack', async () => {
	const before = sql.count('SELECT COUNT(*) FROM messages WHERE conversation_id = ?', [direct]);
	wa.send({ body: 'hello b' });
	const sent = await wa.next((f) => isMessage(f, 'hello b', 'sent'), 'the "sent" ack');
	assert.equal(sent.conversation_id, direct);
	assert.equal(sent.sender, a.email);
	assert.equal(typeof sent.message_id, 'number');
	assert.equal(typeof sent.sent_at, 'string');
	const got = await wb.next((f) => isMessage(f, 'hello b', 'delivered'), 'the delivered message');
	assert.equal(got.message_id, sent.message_id);
	assert.equal(got.conversation_id, direct);
	assert.equal(got.sender, a.email);
	const ackDelivered = await wa.next((f) => isMessage(f, 'hello b', 'delivered'), 'the "delivered" ack');
	assert.equal(ackDelivered.message_id, sent.message_id);
	assert.equal(sql.count('SELECT COUNT(*) FROM messages WHERE conversation_id = ?', [direct]), before + 1);
	assert.equal(sql.value('SELECT body FROM messages WHERE id = ?', [sent.message_id]), 'hello b');
	assert.equal(sql.value('SELECT status FROM receipts WHERE message_id = ? AND user_id = ?', [sent.message_id, b.id]), 'delivered');
	// b got the message once, and never a "sent" ack of a's message.
	assert.equal(wb.frames((f) => f.message_id === sent.message_id).length, 1);
});

test('no other member online: only the "sent" ack; the "delivered" one comes once someone received a message', async () => {
	wb.close();
	await wb.closed;
	wa.send({ body: 'nobody home' });
	const first = await wa.next((f) => isMessage(f, 'nobody home', 'sent'));
	// b reads it over REST: the "read" status reaches a after the
	// message's own event (seq order), so a "delivered" ack that has not
	// come by then never will.
	expectJson(await call('message_read', b, { email: b.email, conversation_id: direct }), 200);
	await wa.next((f) => f.message_id === first.message_id && f.status === 'read', 'the "read" status');
	assert.deepEqual(wa.frames((f) => f.message_id === first.message_id && f.status === 'delivered'), [],
	    'a "delivered" ack with no other member online');
	wb = await rt.open003(direct, b.email, b.token, { name: 'b back' });
	wa.send({ body: 'b is back' });
	await wb.next((f) => isMessage(f, 'b is back', 'delivered'));
	await wa.next((f) => isMessage(f, 'b is back', 'delivered'), 'the "delivered" ack of the second');
});

test('get_messages over REST shows the socket\'s message', async () => {
	const body = expectJson(await call('get_messages', b, { email: b.email, conversation_id: direct }), 200);
	const list = body.messages || body.message;
	assert.ok(list.some((m) => m.text === 'hello b'), JSON.stringify(body));
});

test('a REST POST into the conversation reaches the 003 sockets like a frame does', async () => {
	const posted = expectJson(await api.post(`/api/conversations/${direct}/messages`, { token: b.token, json: { body: 'over REST' } }), 201);
	const f = await wa.next((m) => isMessage(m, 'over REST', 'delivered'));
	assert.equal(f.sender, b.email);
	assert.equal(f.conversation_id, direct);
	const id = posted.frame ? posted.frame.message_id : posted.message ? posted.message.id : posted.id;
	assert.equal(f.message_id, id, JSON.stringify(posted));
});

test('a 002 socket\'s send_private_message into the same chat reaches the 003 sockets', async () => {
	const s = await rt.openSio({ token: a.token, transports: ['websocket'], name: '002 a' });
	s.emit('join_private', { other_user_id: b.id });
	assert.equal((await s.next('joined_private')).chat_id, direct);
	s.emit('send_private_message', { other_user_id: b.id, content: 'from 002' });
	await s.next('new_private_message', (m) => m.content === 'from 002');
	const f = await wb.next((m) => isMessage(m, 'from 002', 'delivered'));
	assert.equal(f.sender, a.email);
	s.close();
});

test('message_read over REST: "read" statuses to the other members\' sockets, none to the reader\'s', async () => {
	const unread = sql('SELECT m.id FROM messages m JOIN receipts r ON r.message_id = m.id WHERE m.conversation_id = ? AND r.user_id = ? AND r.status <> ? ORDER BY m.id',
	    [direct, b.id, 'read']).map((r) => Number(r[0]));
	assert.ok(unread.length >= 2, `b has ${unread.length} unread messages`);
	expectJson(await call('message_read', b, { email: b.email, conversation_id: direct }), 200);
	for (const id of unread) {
		const f = await wa.next((m) => m.message_id === id && m.status === 'read', `"read" of ${id}`);
		assert.deepEqual(f, { message_id: id, conversation_id: direct, status: 'read' });
	}
	// Barrier for b: a's next message reaches b after the read event.
	wa.send({ body: 'after the read' });
	await wb.next((m) => isMessage(m, 'after the read'));
	assert.deepEqual(wb.frames((m) => m.status === 'read'), [], 'the reader got its own read statuses');
});

test('a frame without body: the error frame of DECISIONS #11, and the socket stays open', async () => {
	wa.send({ text: 'no body here' });
	assert.deepEqual(await wa.next((f) => f.status_code === 400), MISSING);
	wa.send({});
	assert.deepEqual(await wa.next((f) => f.status_code === 400), MISSING);
	wa.send({ body: 'still open' });
	await wa.next((f) => isMessage(f, 'still open', 'sent'));
	await wb.next((f) => isMessage(f, 'still open', 'delivered'));
	assert.equal(wa.ws.readyState, 1);
});

test('a group: a message reaches every other member\'s socket; other conversations\' sockets never see it', async () => {
	const ga = await rt.open003(group, a.email, a.token, { name: 'a group' });
	const gb = await rt.open003(group, b.email, b.token, { name: 'b group' });
	const gc = await rt.open003(group, c.email, c.token, { name: 'c group' });
	gc.send({ body: 'hello group' });
	const sent = await gc.next((f) => isMessage(f, 'hello group', 'sent'));
	for (const g of [ga, gb])
		assert.equal((await g.next((f) => isMessage(f, 'hello group', 'delivered'))).message_id, sent.message_id);
	await gc.next((f) => isMessage(f, 'hello group', 'delivered'));
	// The direct sockets (same users) get nothing of the group: a later
	// direct message reaches them first.
	wb.send({ body: 'direct barrier' });
	await wa.next((f) => isMessage(f, 'direct barrier'));
	await wb.next((f) => isMessage(f, 'direct barrier', 'sent'));
	assert.equal(wa.frames((f) => f.text === 'hello group').length, 0);
	assert.equal(wb.frames((f) => f.text === 'hello group').length, 0);
	// And the group sockets nothing of the direct chat.
	gc.send({ body: 'group barrier' });
	await ga.next((f) => isMessage(f, 'group barrier'));
	await gb.next((f) => isMessage(f, 'group barrier'));
	for (const g of [ga, gb, gc])
		assert.equal(g.frames((f) => f.text === 'direct barrier').length, 0);
	for (const g of [ga, gb, gc])
		g.close();
});

test('an outsider is refused, and nothing it sends is stored', async () => {
	const before = sql.count('SELECT COUNT(*) FROM messages WHERE conversation_id = ?', [group]);
	let c3;
	try {
		c3 = await rt.open003(group, x.email, x.token, { name: 'outsider' });
	} catch (err) {
		assert.ok(err.status >= 400, err.message);
	}
	if (c3) {
		c3.send({ body: 'let me in' });
		const closed = await Promise.race([c3.closed, rt.later(10000, null)]);
		assert.ok(closed, `the outsider's socket stayed open: ${JSON.stringify(c3.frames())}`);
		assert.equal(c3.frames((f) => f.status === 'sent').length, 0);
	}
	assert.equal(sql.count('SELECT COUNT(*) FROM messages WHERE conversation_id = ?', [group]), before);
});

test('refused: another user\'s address in the path, no token, a bad token, an unknown conversation', async () => {
	await rt.refused003(direct, b.email, a.token);
	await rt.refused003(direct, a.email, undefined);
	await rt.refused003(direct, a.email, 'not.a.token');
	await rt.refused003(2147480000, a.email, a.token);
	await rt.refused003('abc', a.email, a.token);
	assert.equal(sql.count('SELECT COUNT(*) FROM messages WHERE body = ?', ['let me in']), 0);
});

test('the e-mail in the path matches case-insensitively (DECISIONS #5)', async () => {
	const w = await rt.open003(direct, a.email.toUpperCase(), a.token, { name: 'a upper' });
	w.send({ body: 'upper-case address' });
	const sent = await w.next((f) => isMessage(f, 'upper-case address', 'sent'));
	assert.equal(sent.conversation_id, direct);
	await wb.next((f) => isMessage(f, 'upper-case address', 'delivered'));
	w.close();
});

test('frames that are not JSON objects, and binary frames, never crash the notifier', async () => {
	const w = await rt.open003(direct, a.email, a.token, { name: 'junk' });
	for (const junk of ['not json', '[1,2,3]', '"body"', 'null', '{"body": ', '{"body": 42}', '{"body": ["x"]}', '{"body": ""}'])
		w.send(junk);
	w.ws.send(Buffer.from([0, 1, 2, 3, 255]), { binary: true });
	// Either the socket answered errors and stays usable, or it was
	// closed; either way nothing was stored and the notifier answers.
	assert.equal(sql.count('SELECT COUNT(*) FROM messages WHERE body IN (?, ?)', ['42', 'x']), 0);
	w.close();
	const fresh = await rt.open003(direct, a.email, a.token, { name: 'after junk' });
	fresh.send({ body: 'after junk' });
	await fresh.next((f) => isMessage(f, 'after junk', 'sent'));
	fresh.close();
	await rt.notifier.answers(a.token);
});

test('closing sockets leaves the others working', async () => {
	wb.close();
	wa.send({ body: 'b is gone' });
	await wa.next((f) => isMessage(f, 'b is gone', 'sent'));
	wa.close();
	await rt.notifier.answers(a.token);
});
