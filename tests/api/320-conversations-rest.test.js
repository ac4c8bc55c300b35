// 320-conversations-rest.test.js -- fastback's /api/conversations routes:
// the same conversations as 002 and 003, cursor pages, group membership
// with admins, favourite and pin, authorization as an outsider, the
// schema's cascades when a user row is deleted, and deleting an account
// through the users family (user_delete()'s conversations step).
'use strict';

const { test, api, sql, assert, expectJson, expectError, newUser, registerAndLogin } = require('./lib');

const get = (path, u) => api.get(path, { token: u.token });
const post = (path, u, json) => api.post(path, { token: u.token, json });
const put = (path, u) => api.put(path, { token: u.token });
const del = (path, u) => api.delete(path, { token: u.token });

let a, b, c, outsider, chat, group;

test('four users', async () => {
	a = await registerAndLogin(newUser('ra'));
	b = await registerAndLogin(newUser('rb'));
	c = await registerAndLogin(newUser('rc'));
	outsider = await registerAndLogin(newUser('rx'));
});

test('POST /api/private-chats/{user_id} gets or makes the chat; 002 sees it', async () => {
	const made = expectJson(await post(`/api/private-chats/${b.id}`, a), 201);
	assert.equal(made.created, true);
	assert.equal(made.other_user.id, b.id);
	chat = made.chat_id;
	const again = expectJson(await post(`/api/private-chats/${a.id}`, b), 200);
	assert.equal(again.chat_id, chat);
	assert.equal(again.other_user.id, a.id);
	expectError(await post(`/api/private-chats/${a.id}`, a), 400, 'self');
	expectError(await post('/api/private-chats/999999999', a), 404, 'user_not_found');
	const sent = expectJson(await post(`/api/conversations/${chat}/messages`, a, { content: 'rest hello' }), 201);
	assert.equal(sent.message.content, 'rest hello');
	assert.deepEqual(Object.keys(sent.frame).sort(), ['conversation_id', 'message_id', 'sender', 'sender_id', 'sent_at', 'status', 'text']);
	assert.equal(sent.frame.status, 'sent');
	assert.equal(sent.frame.sender, a.email);
	const list = expectJson(await get(`/api/messages/private/${a.id}`, b), 200);
	assert.deepEqual(list.messages.map((m) => [m.content, m.chat_id]), [['rest hello', chat]]);
});

test('a group: admins manage members, members cannot, outsiders see nothing', async () => {
	const body = expectJson(await post('/api/conversations', a, { type: 'group', name: '  Group  ', member_ids: [b.id, 999999999] }), 201);
	group = body.conversation.id;
	assert.equal(body.conversation.name, 'Group');
	assert.equal(body.conversation.participants.length, 2);
	expectError(await post(`/api/conversations/${group}/members`, b, { user_id: c.id }), 403, 'forbidden');
	expectError(await post(`/api/conversations/${group}/members`, outsider, { user_id: outsider.id }), 404);
	assert.equal(sql.count('SELECT COUNT(*) FROM conversation_members WHERE conversation_id = ?', [group]), 2);
	expectJson(await post(`/api/conversations/${group}/members`, a, { user_id: c.id }), 201);
	expectError(await post(`/api/conversations/${group}/members`, a, { user_id: c.id }), 409);
	expectError(await post(`/api/conversations/${group}/members`, a, { user_id: 999999999 }), 404);
	expectError(await post(`/api/conversations/${chat}/members`, a, { user_id: c.id }), 400, 'not_a_group');
	expectError(await del(`/api/conversations/${group}/members/${a.id}`, b), 403);
	assert.equal(sql.count("SELECT COUNT(*) FROM events WHERE event = 'member_added' AND room = ?", [`user:${c.id}`]), 1);
	assert.equal(expectJson(await get(`/api/conversations/${group}/members`, c), 200).members.length, 3);
	expectError(await get(`/api/conversations/${group}/members`, outsider), 404);
});

test('outsiders can neither read, post, delete, read-mark, clear nor flag; nothing changes', async () => {
	const m = expectJson(await post(`/api/conversations/${group}/messages`, b, { body: 'secret' }), 201).message;
	const before = sql.count('SELECT COUNT(*) FROM messages');
	expectError(await get(`/api/conversations/${group}/messages`, outsider), 404);
	expectError(await post(`/api/conversations/${group}/messages`, outsider, { content: 'x' }), 404);
	expectError(await del(`/api/conversations/${group}/messages/${m.id}`, outsider), 404);
	expectError(await del(`/api/conversations/${group}/messages/${m.id}`, a), 403);
	expectError(await post(`/api/conversations/${group}/read`, outsider), 404);
	expectError(await post(`/api/conversations/${group}/clear`, outsider), 404);
	expectError(await put(`/api/conversations/${group}/favorite`, outsider), 404);
	expectError(await get(`/api/conversations/${group}`, outsider), 404);
	for (const id of ['abc', '0', '-1', '99999999999999999999999'])
		expectError(await get(`/api/conversations/${id}/messages`, a), 404);
	assert.equal(sql.count('SELECT COUNT(*) FROM messages'), before);
	assert.equal(sql.value('SELECT deleted_at FROM messages WHERE id = ?', [m.id]), null);
	assert.equal(sql.count("SELECT COUNT(*) FROM receipts WHERE status = 'read' AND conversation_id = ?", [group]), 0);
});

test('GET /api/conversations: unread counts, last message, read, flags; bad input', async () => {
	let list = expectJson(await get('/api/conversations', a), 200).conversations;
	let g = list.find((x) => x.id === group);
	assert.equal(g.unread_count, 1);
	assert.equal(g.last_message.text, 'secret');
	assert.equal(expectJson(await post(`/api/conversations/${group}/read`, a), 200).read, 1);
	expectJson(await put(`/api/conversations/${group}/favorite`, a), 200);
	expectJson(await put(`/api/conversations/${group}/pin`, a), 200);
	list = expectJson(await get('/api/conversations', a), 200).conversations;
	g = list.find((x) => x.id === group);
	assert.equal(g.unread_count, 0);
	assert.equal(g.is_favorite && g.is_pinned, true);
	expectJson(await del(`/api/conversations/${group}/pin`, a), 200);
	expectJson(await del(`/api/conversations/${group}/favorite`, a), 200);
	expectJson(await get('/api/conversations?limit=abc', a), 400);
	expectJson(await post('/api/conversations', a, { type: 'group' }), 400);
	expectJson(await post('/api/conversations', a, { type: 'other' }), 400);
	expectJson(await api.post('/api/conversations', { token: a.token, body: '{', headers: { 'Content-Type': 'application/json' } }), 400);
	const page = expectJson(await get('/api/conversations?limit=1', a), 200);
	assert.equal(page.conversations.length, 1);
	const next = expectJson(await get(`/api/conversations?limit=1&before=${page.next_before}`, a), 200);
	assert.ok(next.conversations[0].id < page.conversations[0].id);
});

test('unread counts and last messages follow deletes and clears', async () => {
	const x = await registerAndLogin(newUser('ru'));
	const y = await registerAndLogin(newUser('rv'));
	const m1 = expectJson(await api.post(`/api/messages/private/${y.id}`, { token: x.token, json: { content: 'one' } }), 201);
	const m2 = expectJson(await api.post(`/api/messages/private/${y.id}`, { token: x.token, json: { content: 'two' } }), 201);
	const view = async () => expectJson(await get(`/api/conversations/${m1.chat_id}`, y), 200).conversation;
	assert.equal((await view()).unread_count, 2);
	expectJson(await del(`/api/conversations/${m1.chat_id}/messages/${m2.id}`, x), 200);
	let v = await view();
	assert.equal(v.unread_count, 1);
	assert.equal(v.last_message.text, 'one');
	expectJson(await post(`/api/conversations/${m1.chat_id}/clear`, y), 200);
	v = await view();
	assert.equal(v.unread_count, 0);
	assert.equal(v.last_message, null);
	assert.equal((await expectJson(await get(`/api/conversations/${m1.chat_id}`, x), 200)).conversation.last_message.text, 'one');
	expectJson(await del(`/api/conversations/${m1.chat_id}/messages/${m1.id}`, x), 200);
	assert.equal((await view()).unread_count, 0, 'a cleared message does not count down twice');
	expectJson(await api.post(`/api/messages/private/${y.id}`, { token: x.token, json: { content: 'three' } }), 201);
	v = await view();
	assert.equal(v.unread_count, 1);
	assert.equal(v.last_message.text, 'three');
	expectJson(await post(`/api/conversations/${m1.chat_id}/read`, y), 200);
	assert.equal((await view()).unread_count, 0);
	assert.equal(sql.value('SELECT unread FROM conversation_members WHERE conversation_id = ? AND user_id = ?', [m1.chat_id, y.id]), '0');
});

test('the public room is conversation 1 for everyone; no members there', async () => {
	expectJson(await post('/api/conversations/1/messages', outsider, { content: 'public via REST' }), 201);
	const list = expectJson(await get('/api/messages', a), 200).messages;
	assert.equal(list[list.length - 1].content, 'public via REST');
	expectError(await get('/api/conversations/1/members', a), 404);
});

test('the last admin leaving hands the group to the longest-standing member; the last member deletes it', async () => {
	expectJson(await del(`/api/conversations/${group}/members/${a.id}`, a), 200);
	assert.equal(sql.value('SELECT role FROM conversation_members WHERE conversation_id = ? AND user_id = ?', [group, b.id]), 'admin');
	expectJson(await del(`/api/conversations/${group}/members/${c.id}`, b), 200);
	expectJson(await del(`/api/conversations/${group}/members/${b.id}`, b), 200);
	assert.equal(sql.count('SELECT COUNT(*) FROM conversations WHERE id = ?', [group]), 0);
});

test('DELETE FROM users succeeds and cascades: messages, receipts, files, memberships; the chat stays for the other', async () => {
	const d = await registerAndLogin(newUser('rd'));
	const m = expectJson(await api.post(`/api/messages/private/${a.id}`, { token: d.token, json: { content: 'bye' } }), 201);
	const pub = expectJson(await api.post('/api/messages', { token: d.token, json: { content: 'bye all' } }), 201);
	expectJson(await api.post('/api/files/', { token: d.token, json: { filename: 'x.png', file_url: 'http://example.com/x.png', file_size: 1, public_message_id: pub.id } }), 201);
	expectJson(await api.post(`/api/messages/private/${d.id}`, { token: a.token, json: { content: 'reply' } }), 201);
	sql('DELETE FROM users WHERE id = ?', [d.id]);
	assert.equal(sql.count('SELECT COUNT(*) FROM messages WHERE sender_id = ?', [d.id]), 0);
	assert.equal(sql.count('SELECT COUNT(*) FROM receipts WHERE user_id = ?', [d.id]), 0);
	assert.equal(sql.count('SELECT COUNT(*) FROM files WHERE uploader_id = ?', [d.id]), 0);
	assert.equal(sql.count('SELECT COUNT(*) FROM conversation_members WHERE user_id = ?', [d.id]), 0);
	assert.equal(sql.count('SELECT COUNT(*) FROM conversations WHERE id = ?', [m.chat_id]), 1);
	const left = expectJson(await get(`/api/conversations/${m.chat_id}/messages`, a), 200).messages;
	assert.deepEqual(left.map((x) => x.content), ['reply']);
});

test('deleting an account through the users family: the longest-standing member inherits the group, counters and last messages follow', async () => {
	const boss = await registerAndLogin(newUser('rk'));
	const old = await registerAndLogin(newUser('rl'));
	const young = await registerAndLogin(newUser('rm'));
	const g = expectJson(await post('/api/conversations', boss, { type: 'group', name: 'Heirs', member_ids: [old.id] }), 201).conversation.id;
	expectJson(await post(`/api/conversations/${g}/members`, boss, { user_id: young.id }), 201);
	expectJson(await post(`/api/conversations/${g}/messages`, old, { content: 'from old' }), 201);
	expectJson(await post(`/api/conversations/${g}/messages`, boss, { content: 'from boss' }), 201);
	const solo = expectJson(await post('/api/conversations', boss, { type: 'group', name: 'Solo' }), 201).conversation.id;
	const m = expectJson(await api.post(`/api/messages/private/${young.id}`, { token: boss.token, json: { content: 'bye' } }), 201);
	let v = expectJson(await get(`/api/conversations/${g}`, young), 200).conversation;
	assert.equal(v.unread_count, 2);
	expectJson(await api.delete(`/api/users/${boss.id}`, { token: boss.token }), 200);
	assert.equal(sql.value('SELECT role FROM conversation_members WHERE conversation_id = ? AND user_id = ?', [g, old.id]), 'admin');
	assert.equal(sql.value('SELECT role FROM conversation_members WHERE conversation_id = ? AND user_id = ?', [g, young.id]), 'member');
	assert.equal(sql.count('SELECT COUNT(*) FROM conversations WHERE id = ?', [solo]), 0);
	v = expectJson(await get(`/api/conversations/${g}`, young), 200).conversation;
	assert.equal(v.unread_count, 1);
	assert.equal(v.last_message.text, 'from old');
	const p = expectJson(await get(`/api/conversations/${m.chat_id}`, young), 200).conversation;
	assert.equal(p.unread_count, 0);
	assert.equal(p.last_message, null);
	assert.equal(p.participants.length, 1);
	expectJson(await post(`/api/conversations/${g}/members`, old, { user_id: boss.id }), 404);
});
