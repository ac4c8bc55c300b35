// 510-notifier-002.test.js -- seed 002's Socket.IO events through nginx
// with the real clients: socket.io-client 4 with its defaults (polling,
// then the upgrade) and with transports ['websocket'], and python-socketio
// (tests/realtime/sioclient.py).  connected, join_public / leave_public
// and user_joined / user_left, send_public_message and a REST POST both
// ending as new_public_message to everyone in the room, join_private /
// joined_private, private messages to the chat's sockets only (a third
// user never sees one), leave_private, get_online_users / online_users,
// and every `error` event with the messages of the seed.
//
// "Never receives" is proven with a barrier, not a sleep: the notifier
// sends a socket its events in seq order, so once a later event (a public
// message posted afterwards) has reached a socket, an earlier one it did
// not get will never come.
'use strict';

const { test, after, api, sql, stack, until, assert, expectJson, newUser, registerAndLogin } = require('./lib');
const rt = require('./lib/realtime');

let a, b, c, helper;		// users; helper only posts barriers
let sa, sb, pc;			// a: defaults, b: websocket only, c: python
let chatAB;

after(rt.closeAll);

// A public message from helper that every client of `clients` (all in
// the public room) has received: after it, nothing earlier is pending.
async function barrier(...clients) {
	const tag = `barrier ${Date.now()} ${Math.random()}`;
	await rt.postPublic(helper, tag);
	for (const cl of clients) {
		if (cl.child)
			await cl.event('new_public_message', (m) => m.content === tag);
		else
			await cl.next('new_public_message', (m) => m.content === tag);
	}
}

test('four users', async () => {
	a = await registerAndLogin(newUser('na'));
	b = await registerAndLogin(newUser('nb'));
	c = await registerAndLogin(newUser('nc'));
	helper = await registerAndLogin(newUser('nh'));
});

test('socket.io-client defaults (polling, then upgrade), token in the query: connected "Welcome <username>!"', async () => {
	sa = await rt.openSio({ token: a.token, via: 'query', name: 'a (defaults)' });
	const hello = await sa.next('connected');
	assert.deepEqual(hello, { message: `Welcome ${a.username}!` });
	await rt.upgraded(sa);
	assert.equal(rt.transportOf(sa), 'websocket');
});

test('socket.io-client transports [websocket], token in the auth payload (the README\'s client): connected', async () => {
	sb = await rt.openSio({ token: b.token, via: 'auth', transports: ['websocket'], name: 'b (websocket)' });
	assert.deepEqual(await sb.next('connected'), { message: `Welcome ${b.username}!` });
	assert.equal(rt.transportOf(sb), 'websocket');
});

test('python-socketio, token in the query (polling, then upgrade): connected', async () => {
	pc = rt.openPython('c (python)');
	await pc.connect({ url: `${stack.url}?token=${encodeURIComponent(c.token)}` });
	assert.deepEqual(await pc.event('connected'), { message: `Welcome ${c.username}!` });
});

test('join_public: user_joined {username, message} to the others in the room, not to the joiner', async () => {
	sa.emit('join_public');
	// b joins after a: a hears it.
	sb.emit('join_public');
	const joined = await sa.next('user_joined', (m) => m.username === b.username);
	assert.deepEqual(joined, { username: b.username, message: `${b.username} joined the chat` });
	pc.emit('join_public');
	for (const s of [sa, sb])
		assert.deepEqual(await s.next('user_joined', (m) => m.username === c.username),
		    { username: c.username, message: `${c.username} joined the chat` });
	await barrier(sa, sb, pc);
	assert.equal(sb.all('user_joined').filter((m) => m.username === b.username).length, 0, 'the joiner heard itself');
	assert.equal(pc.events('user_joined').filter((m) => m.username === c.username).length, 0, 'the joiner heard itself');
	assert.equal(sa.all('user_joined').filter((m) => m.username === a.username).length, 0);
});

test('send_public_message: new_public_message to everyone in the room, sender included, stored once', async () => {
	const before = sql.count('SELECT COUNT(*) FROM messages WHERE sender_id = ?', [a.id]);
	sa.emit('send_public_message', { content: 'hello from a socket' });
	const got = [];
	for (const s of [sa, sb])
		got.push(await s.next('new_public_message', (m) => m.content === 'hello from a socket'));
	got.push(await pc.event('new_public_message', (m) => m.content === 'hello from a socket'));
	const m = got[0];
	assert.equal(m.username, a.username);
	assert.deepEqual(m.user, { id: a.id, username: a.username });
	assert.equal(m.user_id, a.id);
	assert.equal(typeof m.id, 'number');
	assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
	for (const other of got)
		assert.deepEqual(other, m);
	assert.equal(sql.count('SELECT COUNT(*) FROM messages WHERE sender_id = ?', [a.id]), before + 1);
	// The same object as GET /api/messages lists, by id.
	const listed = expectJson(await api.get('/api/messages', { token: b.token }), 200).messages.find((x) => x.id === m.id);
	assert.ok(listed, 'the socket\'s message is not listed by GET /api/messages');
	assert.equal(listed.content, 'hello from a socket');
});

test('a REST POST /api/messages reaches the sockets exactly as a socket send does', async () => {
	const posted = expectJson(await api.post('/api/messages', { token: b.token, json: { content: 'hello from REST' } }), 201);
	const viaRest = await sa.next('new_public_message', (m) => m.content === 'hello from REST');
	await sb.next('new_public_message', (m) => m.content === 'hello from REST');
	await pc.event('new_public_message', (m) => m.content === 'hello from REST');
	assert.equal(viaRest.id, posted.id);
	assert.equal(viaRest.username, b.username);
	// Same keys as the socket-sent one of the previous test.
	const viaSocket = sa.all('new_public_message').find((m) => m.content === 'hello from a socket');
	assert.deepEqual(Object.keys(viaRest).sort(), Object.keys(viaSocket).sort());
});

test('send_public_message errors: empty content, not in the public room; nothing stored', async () => {
	const before = sql.count('SELECT COUNT(*) FROM messages');
	sa.emit('send_public_message', { content: '   ' });
	assert.deepEqual(await sa.next('error'), { message: 'Message content cannot be empty' });
	sa.emit('send_public_message', {});
	assert.deepEqual(await sa.next('error'), { message: 'Message content cannot be empty' });
	const outsider = await rt.openSio({ token: helper.token, transports: ['websocket'], name: 'helper (not joined)' });
	await outsider.next('connected');
	outsider.emit('send_public_message', { content: 'I never joined' });
	assert.deepEqual(await outsider.next('error'), { message: 'Not in public chat' });
	outsider.close();
	assert.equal(sql.count('SELECT COUNT(*) FROM messages'), before);
});

test('join_private {other_user_id}: joined_private {chat_id, other_user} to the caller only; the chat 003 and REST know', async () => {
	sa.emit('join_private', { other_user_id: b.id });
	const j = await sa.next('joined_private');
	assert.deepEqual(j.other_user, { id: b.id, username: b.username });
	assert.equal(typeof j.chat_id, 'number');
	chatAB = j.chat_id;
	assert.equal(sql.count('SELECT COUNT(*) FROM conversation_members WHERE conversation_id = ? AND user_id IN (?, ?)',
	    [chatAB, a.id, b.id]), 2);
	// b has not joined the room yet: b's socket is told nothing.
	await barrier(sa, sb);
	assert.equal(sb.all('joined_private').length, 0);
	sb.emit('join_private', { other_user_id: String(a.id) });
	const jb = await sb.next('joined_private');
	assert.deepEqual(jb, { chat_id: chatAB, other_user: { id: a.id, username: a.username } });
});

test('join_private errors: missing, not a number, unknown user', async () => {
	sa.emit('join_private', {});
	assert.deepEqual(await sa.next('error'), { message: 'Other user ID required' });
	sa.emit('join_private', { other_user_id: 'abc' });
	assert.deepEqual(await sa.next('error'), { message: 'Invalid user ID' });
	sa.emit('join_private', { other_user_id: 2147480000 });
	assert.deepEqual(await sa.next('error'), { message: 'User not found' });
	sa.emit('join_private', { other_user_id: a.id });
	assert.equal(typeof (await sa.next('error')).message, 'string', 'a private chat with oneself');
	sa.emit('join_private');
	assert.deepEqual(await sa.next('error'), { message: 'Other user ID required' });
});

test('send_private_message: new_private_message to both members\' sockets; the third user never gets it', async () => {
	sa.emit('send_private_message', { other_user_id: b.id, content: 'psst, b' });
	const ma = await sa.next('new_private_message', (m) => m.content === 'psst, b');
	const mb = await sb.next('new_private_message', (m) => m.content === 'psst, b');
	assert.deepEqual(ma, mb);
	assert.equal(ma.chat_id, chatAB);
	assert.equal(ma.sender_id, a.id);
	assert.deepEqual(ma.sender, { id: a.id, username: a.username });
	assert.equal(ma.username, a.username);
	assert.equal(typeof ma.id, 'number');
	// The third user (python, in the public room) and a second socket of
	// his: once a later public message reached them, the private one
	// never will.
	const c2 = await rt.openSio({ token: c.token, name: 'c (second socket)' });
	await c2.next('connected');
	c2.emit('join_public');
	await sa.next('user_joined', (m) => m.username === c.username);
	await barrier(c2, pc, sa, sb);
	assert.equal(pc.events('new_private_message').length, 0, 'the third user received a private message');
	assert.equal(c2.all('new_private_message').length, 0, 'the third user received a private message');
	c2.close();
});

test('a REST POST /api/messages/private/{id} reaches the chat\'s sockets as new_private_message', async () => {
	const posted = expectJson(await api.post(`/api/messages/private/${a.id}`, { token: b.token, json: { content: 'reply over REST' } }), 201);
	const ma = await sa.next('new_private_message', (m) => m.content === 'reply over REST');
	const mb = await sb.next('new_private_message', (m) => m.content === 'reply over REST');
	assert.deepEqual(ma, mb);
	assert.equal(ma.id, posted.id);
	assert.equal(ma.chat_id, chatAB);
	const viaSocket = sa.all('new_private_message').find((m) => m.content === 'psst, b');
	assert.deepEqual(Object.keys(ma).sort(), Object.keys(viaSocket).sort());
	await barrier(pc);
	assert.equal(pc.events('new_private_message').length, 0);
});

test('send_private_message errors: missing fields, bad id, no chat yet, chat not joined; nothing stored', async () => {
	const before = sql.count('SELECT COUNT(*) FROM messages');
	const chatsBefore = sql.count('SELECT COUNT(*) FROM conversations');
	sa.emit('send_private_message', { other_user_id: b.id });
	assert.deepEqual(await sa.next('error'), { message: 'Other user ID and content required' });
	sa.emit('send_private_message', { content: 'to nobody' });
	assert.deepEqual(await sa.next('error'), { message: 'Other user ID and content required' });
	sa.emit('send_private_message', { other_user_id: 'x', content: 'y' });
	assert.deepEqual(await sa.next('error'), { message: 'Invalid user ID' });
	// a and helper have no chat: 002 answers "Chat not found" (join first).
	sa.emit('send_private_message', { other_user_id: helper.id, content: 'no chat' });
	assert.deepEqual(await sa.next('error'), { message: 'Chat not found' });
	// a and c get a chat over REST, but a's socket has not joined it.
	expectJson(await api.post(`/api/messages/private/${a.id}`, { token: c.token, json: { content: 'hi a' } }), 201);
	const afterRest = sql.count('SELECT COUNT(*) FROM messages');
	sa.emit('send_private_message', { other_user_id: c.id, content: 'not joined' });
	assert.deepEqual(await sa.next('error'), { message: 'Not in this private chat' });
	assert.equal(sql.count('SELECT COUNT(*) FROM messages'), afterRest);
	assert.equal(afterRest, before + 1);
	assert.equal(sql.count('SELECT COUNT(*) FROM conversations'), chatsBefore + 1);
});

test('leave_private: that socket gets no more of the chat; the other member still does', async () => {
	sb.emit('leave_private', { other_user_id: a.id });
	// No reply to leave_private: send and wait until a sees the message.
	sa.emit('send_private_message', { other_user_id: b.id, content: 'after b left' });
	await sa.next('new_private_message', (m) => m.content === 'after b left');
	await barrier(sa, sb);
	assert.equal(sb.all('new_private_message').filter((m) => m.content === 'after b left').length, 0,
	    'b left the chat but still received its message');
	// b sending into the chat it left is refused.
	sb.emit('send_private_message', { other_user_id: a.id, content: 'b is out' });
	assert.deepEqual(await sb.next('error'), { message: 'Not in this private chat' });
});

test('get_online_users: online_users {users: [{id, username}]} of the sockets in the public room', async () => {
	sa.emit('get_online_users');
	const { users } = await sa.next('online_users');
	assert.ok(Array.isArray(users));
	for (const u of users)
		assert.deepEqual(Object.keys(u).sort(), ['id', 'username']);
	const ids = users.map((u) => u.id);
	for (const u of [a, b, c])
		assert.ok(ids.includes(u.id), `${u.username} is not listed: ${JSON.stringify(users)}`);
	assert.ok(users.some((u) => u.id === c.id && u.username === c.username));
	assert.equal(ids.includes(helper.id), false, 'helper has no socket in the room');
	// The python client asks too.
	pc.emit('get_online_users');
	const fromPython = await pc.event('online_users');
	assert.ok(fromPython.users.some((u) => u.id === a.id));
});

test('leave_public: user_left {username, message} to the others; the leaver gets no more public messages', async () => {
	sb.emit('leave_public');
	const left = await sa.next('user_left', (m) => m.username === b.username);
	assert.deepEqual(left, { username: b.username, message: `${b.username} left the chat` });
	await pc.event('user_left', (m) => m.username === b.username);
	await rt.postPublic(a, 'after b left the room');
	await barrier(sa, pc);
	// b's own barrier: a private message in a chat b is still in.
	sb.emit('join_private', { other_user_id: a.id });
	await sb.next('joined_private');
	sa.emit('send_private_message', { other_user_id: b.id, content: 'b barrier' });
	await sb.next('new_private_message', (m) => m.content === 'b barrier');
	assert.equal(sb.all('new_public_message').filter((m) => m.content === 'after b left the room').length, 0);
	sb.emit('send_public_message', { content: 'b is not in the room' });
	assert.deepEqual(await sb.next('error'), { message: 'Not in public chat' });
	// online_users no longer lists b.
	sa.emit('get_online_users');
	const { users } = await sa.next('online_users');
	assert.equal(users.some((u) => u.id === b.id), false, JSON.stringify(users));
});

test('a socket that disconnects drops out of online_users; nothing is broadcast for it', async () => {
	await pc.close();
	await until('c gone from online_users', async () => {
		sa.emit('get_online_users');
		const { users } = await sa.next('online_users');
		return !users.some((u) => u.id === c.id);
	}, 10000, 200);
	assert.equal(sa.all('user_left').filter((m) => m.username === c.username).length, 0);
});

test('the python client with a one-argument handler, as the seed\'s clients write them, gets every event', async () => {
	const p = rt.openPython('python strict');
	await p.connect({ url: `${stack.url}?token=${encodeURIComponent(c.token)}`, strict: true });
	await p.event('connected');
	p.emit('join_public');
	await sa.next('user_joined', (m) => m.username === c.username);
	await rt.postPublic(a, 'for a one-argument handler');
	await p.event('new_public_message', (m) => m.content === 'for a one-argument handler');
	p.emit('send_public_message', {});
	await p.event('error');
	assert.deepEqual(p.inbox.seen((i) => i.type === 'handler_error'), [],
	    'a handler of one argument could not take what the notifier sent');
	await p.close();
});

test('the notifier is still up', async () => {
	await rt.notifier.answers(a.token);
});
