// 310-chat-003.test.js -- seed 003's conversation routes (POST
// /api/user/...): one model with 002's chats, statuses per message, read
// state for the caller only, clear chat, favourites, pinned, participants,
// and every route refusing outsiders and another user's e-mail.
'use strict';

const { execFileSync } = require('node:child_process');
const { test, api, sql, stack, assert, expectJson, newUser, registerAndLogin } = require('./lib');

const call = (name, u, json) => api.post(`/api/user/${name}`, { token: u.token, json });

function err003(res, status, message) {
	const body = expectJson(res, status);
	assert.equal(body.status_code, status);
	if (message !== undefined)
		assert.equal(body.message, message);
	return body;
}

let a, b, c, outsider, direct, group;

test('four users', async () => {
	a = await registerAndLogin(newUser('ta'));
	b = await registerAndLogin(newUser('tb'));
	c = await registerAndLogin(newUser('tc'));
	outsider = await registerAndLogin(newUser('tx'));
});

test('a 002 private chat is 003\'s direct conversation, and conversation_start reuses it', async () => {
	const m = expectJson(await api.post(`/api/messages/private/${b.id}`, { token: a.token, json: { content: 'from 002' } }), 201);
	const body = expectJson(await call('conversation_start', a, { created_by_email: a.email, participants: [b.email], conversation_type: 'direct' }), 200);
	assert.equal(body.status_code, 200);
	assert.equal(body.message, 'Conversation created successfully');
	assert.deepEqual(body.conversation_id, [m.chat_id]);
	direct = m.chat_id;
	const again = expectJson(await call('conversation_start', b, { participants: [a.email] }), 200);
	assert.deepEqual(again.conversation_id, [direct]);
});

test('conversation_start group: the caller is admin, unknown e-mails dropped', async () => {
	const body = expectJson(await call('conversation_start', a, {
		created_by_email: a.email, participants: [b.email, c.email, 'nobody@example.com'],
		conversation_name: 'Team 🚀', conversation_type: 'group',
	}), 200);
	group = body.conversation_id[0];
	assert.deepEqual(sql('SELECT user_id, role FROM conversation_members WHERE conversation_id = ? ORDER BY user_id', [group]),
	    [[String(a.id), 'admin'], [String(b.id), 'member'], [String(c.id), 'member']].sort((x, y) => x[0] - y[0]));
	// fetch() turns any 407 into a network error, so curl reads this one.
	const out = execFileSync('curl', ['-s', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${a.token}`,
		'-H', 'Content-Type: application/json', '-d', '{"participants": ["nobody@example.com"]}',
		`${stack.url}/api/user/conversation_start`], { encoding: 'utf8' }).split('\n');
	assert.equal(out[1], '407');
	assert.deepEqual(JSON.parse(out[0]), { status_code: 407, message: 'No valid participants found.', error: 'not_found' });
	err003(await call('conversation_start', a, { participants: [] }), 400);
	err003(await call('conversation_start', a, { created_by_email: b.email, participants: [c.email] }), 403);
});

test('conversations lists both, with participants, last_message, unread_count and flags', async () => {
	expectJson(await api.post(`/api/conversations/${group}/messages`, { token: b.token, json: { body: 'hi team' } }), 201);
	const body = expectJson(await call('conversations', a, { email: a.email }), 200);
	assert.equal(body.message, 'Conversations fetched successfully');
	const byId = Object.fromEntries(body.conversations.map((x) => [x.conversation_id, x]));
	assert.equal(byId[direct].conversation_type, 'private');
	assert.match(byId[direct].conversation_name, / & /);
	assert.equal(byId[direct].participants.length, 2);
	assert.equal(byId[direct].last_message.text, 'from 002');
	assert.equal(byId[direct].last_message.sent_by_me, true);
	assert.equal(byId[direct].unread_count, 0);
	assert.equal(byId[group].conversation_name, 'Team 🚀');
	assert.equal(byId[group].unread_count, 1);
	assert.equal(byId[group].last_message.sent_by_me, false);
	assert.equal(byId[group].is_favorite, false);
	err003(await call('conversations', a, { email: b.email }), 403);
});

test('get_messages: statuses as 003 computed them, the list under message and messages; outsiders 400', async () => {
	const forB = expectJson(await call('get_messages', b, { email: b.email, conversation_id: direct }), 200);
	assert.equal(forB.status_code, 200);
	assert.deepEqual(forB.message, forB.messages);
	const m = forB.message[0];
	assert.equal(m.text, 'from 002');
	assert.equal(m.sender, a.email);
	assert.equal(m.status, 'delivered');
	assert.equal(m.sent_by_me, false);
	assert.notEqual(m.sender_name, '');
	const forA = expectJson(await call('get_messages', a, { conversation_id: direct }), 200);
	assert.equal(forA.message[0].status, 'delivered');
	assert.equal(forA.message[0].sender_name, '');
	err003(await call('get_messages', outsider, { conversation_id: direct }), 400, 'User not part of this conversation.');
	err003(await call('get_messages', a, { conversation_id: 999999999 }), 400, 'User not part of this conversation.');
	err003(await call('get_messages', a, { conversation_id: 'x' }), 400);
	err003(await call('get_messages', a, {}), 400);
	err003(await call('get_messages', a, { conversation_id: 1e30 }), 400);
	err003(await call('get_messages', a, { conversation_id: -1 }), 400);
	err003(await call('get_messages', a, { conversation_id: 1 }), 400, 'User not part of this conversation.');
});

test('message_read marks the caller\'s receipts only and reports them to the room', async () => {
	const before = sql.count("SELECT COUNT(*) FROM events WHERE event = 'messages_read'");
	err003(await call('message_read', outsider, { conversation_id: group }), 400);
	const body = expectJson(await call('message_read', c, { email: c.email, conversation_id: group }), 200);
	assert.equal(body.message, 'Messages marked as read');
	assert.equal(body.read, 1);
	assert.equal(sql.value("SELECT status FROM receipts WHERE conversation_id = ? AND user_id = ?", [group, c.id]), 'read');
	assert.equal(sql.value("SELECT status FROM receipts WHERE conversation_id = ? AND user_id = ?", [group, a.id]), 'delivered');
	assert.equal(sql.count("SELECT COUNT(*) FROM events WHERE event = 'messages_read' AND room = ?", [`conversation:${group}`]), before + 1);
	// b sent it: still delivered for b until everyone has read it.
	assert.equal(expectJson(await call('get_messages', b, { conversation_id: group }), 200).message[0].status, 'delivered');
	expectJson(await call('message_read', a, { conversation_id: group }), 200);
	assert.equal(expectJson(await call('get_messages', b, { conversation_id: group }), 200).message[0].status, 'read');
});

test('clear_chat hides older messages for the caller only', async () => {
	err003(await call('clear_chat', outsider, { conversation_id: direct }), 400);
	expectJson(await call('clear_chat', b, { email: b.email, conversation_id: direct }), 200);
	assert.deepEqual(expectJson(await call('get_messages', b, { conversation_id: direct }), 200).message, []);
	assert.equal(expectJson(await call('get_messages', a, { conversation_id: direct }), 200).message.length, 1);
	expectJson(await api.post(`/api/messages/private/${b.id}`, { token: a.token, json: { content: 'after clear' } }), 201);
	assert.deepEqual(expectJson(await call('get_messages', b, { conversation_id: direct }), 200).message.map((m) => m.text), ['after clear']);
});

test('favorites and pinned: per member, listed, checked; outsiders 400 and nothing changes', async () => {
	assert.equal(expectJson(await call('add_to_favorites', a, { email: a.email, conversation_id: group }), 200).message,
	    'Conversation added to favorites successfully');
	assert.equal(expectJson(await call('is_favorite', a, { conversation_id: group }), 200).is_favorite, true);
	assert.equal(expectJson(await call('is_favorite', b, { conversation_id: group }), 200).is_favorite, false);
	const favs = expectJson(await call('list_favorites', a, { email: a.email }), 200);
	assert.deepEqual(favs.favorites.map((x) => x.conversation_id), [group]);
	expectJson(await call('add_to_pinned', a, { conversation_id: direct }), 200);
	assert.deepEqual(expectJson(await call('list_pinned', a, {}), 200).pinned.map((x) => x.conversation_id), [direct]);
	expectJson(await call('remove_from_pinned', a, { conversation_id: direct }), 200);
	expectJson(await call('remove_from_favorites', a, { conversation_id: group }), 200);
	assert.deepEqual(expectJson(await call('list_favorites', a, {}), 200).favorites, []);
	for (const name of ['add_to_favorites', 'add_to_pinned', 'is_favorite'])
		err003(await call(name, outsider, { conversation_id: group }), 400);
	assert.equal(sql.count('SELECT COUNT(*) FROM conversation_members WHERE favorite OR pinned'), 0);
	err003(await call('add_to_favorites', a, { email: outsider.email, conversation_id: group }), 403);
});

test('get_group_participants: members only; get_direct_users: the private chat partners', async () => {
	const body = expectJson(await call('get_group_participants', c, { conversation_id: group }), 200);
	assert.equal(body.participants.length, 3);
	assert.ok(body.participants.every((p) => p.email && p.name));
	err003(await call('get_group_participants', outsider, { conversation_id: group }), 400);
	const users = expectJson(await call('get_direct_users', a, { email: a.email }), 200);
	assert.equal(users.message, 200);
	assert.deepEqual(users.users.map((u) => u.email), [b.email]);
	assert.deepEqual(expectJson(await call('get_direct_users', outsider, {}), 200).users, []);
});

test('every 003 route needs a token', async () => {
	for (const name of ['conversations', 'get_messages', 'conversation_start', 'get_direct_users']) {
		const res = await api.post(`/api/user/${name}`, { json: {} });
		assert.equal(res.status, 401);
		assert.equal(res.json.status_code, 401);
	}
});
