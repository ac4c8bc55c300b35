// 300-chat-002.test.js -- seed 002's chat routes: the public room, private
// chats and file metadata, with the original repository's 20 test cases
// built through the API only, the flat and nested fields, permissions as an
// outsider (nothing changes), bad input, and the events and pushes written.
'use strict';

const { test, api, sql, assert, expectJson, newUser, registerAndLogin } = require('./lib');

const get = (path, u) => api.get(path, { token: u.token });
const post = (path, u, json) => api.post(path, { token: u.token, json });
const del = (path, u) => api.delete(path, { token: u.token });

function errorIs(res, status, message) {
	const body = expectJson(res, status);
	assert.equal(body.message, message);
	return body;
}

const events = (room, event) => sql.count('SELECT COUNT(*) FROM events WHERE room = ? AND event = ?', [room, event]);
const msgCount = () => sql.count('SELECT COUNT(*) FROM messages');
const fileCount = () => sql.count('SELECT COUNT(*) FROM files');

let a, b, outsider;

test('three users', async () => {
	a = await registerAndLogin(newUser('ca'));
	b = await registerAndLogin(newUser('cb'));
	outsider = await registerAndLogin(newUser('co'));
});

// The original's own 20 cases (research/seeds.md, 002 section 5).
test('002 case 1: register with an avatar answers 201 with the user', async () => {
	const u = newUser('s1');
	const body = expectJson(await api.post('/api/auth/register', { json: { ...u, avatar_url: 'http://example.com/a.png' } }), 201);
	assert.equal(body.user.username, u.username);
	assert.equal(body.user.avatar_url, 'http://example.com/a.png');
});

test('002 case 2: the same username twice is refused', async () => {
	const u = newUser('s2');
	expectJson(await api.post('/api/auth/register', { json: u }), 201);
	const res = await api.post('/api/auth/register', { json: { ...u, email: newUser('s2').email } });
	assert.ok(res.status === 400 || res.status === 409);
	assert.match(res.json.message, /Username already exists/);
});

test('002 case 3: register then login answers access_token and user', async () => {
	const u = newUser('s3');
	expectJson(await api.post('/api/auth/register', { json: u }), 201);
	const body = expectJson(await api.post('/api/auth/login', { json: { username: u.username, password: u.password } }), 200);
	assert.ok(body.access_token && body.user);
});

test('002 case 4: login of an unknown user answers 401 Invalid credentials', async () => {
	const res = await api.post('/api/auth/login', { json: { username: 'nobody-' + Date.now(), password: 'x12345678' } });
	assert.equal(res.status, 401);
	assert.match(res.json.message, /Invalid credentials/);
});

test('002 case 5: logout answers 200 and revokes the token', async () => {
	const u = await registerAndLogin(newUser('s5'));
	const res = await api.post('/api/auth/logout', { token: u.token });
	assert.equal(res.status, 200);
	assert.equal((await get('/api/messages', u)).status, 401);
});

test('002 case 6: a posted public message is listed by GET /api/messages', async () => {
	expectJson(await post('/api/messages', a, { content: 'Test message' }), 201);
	const body = expectJson(await get('/api/messages', a), 200);
	assert.ok(Array.isArray(body.messages) && body.messages.length >= 1);
	assert.equal(body.messages[body.messages.length - 1].content, 'Test message');
});

test('002 case 7: POST /api/messages answers 201 with content and user, flat fields too', async () => {
	const before = events('public', 'new_public_message');
	const body = expectJson(await post('/api/messages', a, { content: 'New message' }), 201);
	assert.equal(body.content, 'New message');
	assert.deepEqual(body.user, { id: a.id, username: a.username });
	assert.equal(body.user_id, a.id);
	assert.equal(body.username, a.username);
	assert.ok('avatar_url' in body);
	assert.match(body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
	assert.equal(events('public', 'new_public_message'), before + 1);
	const payload = JSON.parse(sql.value('SELECT payload FROM events WHERE event = ? ORDER BY seq DESC LIMIT 1', ['new_public_message']));
	assert.equal(payload.id, body.id);
	assert.equal(payload.username, a.username);
	assert.equal(sql.count("SELECT COUNT(*) FROM deliveries WHERE channel = 'push'"), 0, 'no push for the public room');
});

let chatId;
test('002 case 9: POST /api/messages/private/{user2} answers 201 and makes the chat', async () => {
	const body = expectJson(await post(`/api/messages/private/${b.id}`, a, { content: 'Private hello' }), 201);
	assert.equal(body.content, 'Private hello');
	assert.equal(body.sender_id, a.id);
	assert.deepEqual(body.sender, { id: a.id, username: a.username });
	assert.equal(typeof body.chat_id, 'number');
	chatId = body.chat_id;
	assert.equal(sql.count('SELECT COUNT(*) FROM conversation_members WHERE conversation_id = ?', [chatId]), 2);
	assert.equal(events(`conversation:${chatId}`, 'new_private_message'), 1);
	assert.equal(events(`conversation:${chatId}`, 'new_message'), 1);
	assert.equal(events(`user:${b.id}`, 'new_private_message'), 0, 'the personal room carries no chat messages');
	assert.equal(sql.value('SELECT status FROM receipts WHERE message_id = ? AND user_id = ?', [body.id, b.id]), 'delivered');
});

test('002 case 8: GET /api/messages/private/{other} lists the chat, from either side, one chat per pair', async () => {
	expectJson(await post(`/api/messages/private/${a.id}`, b, { content: 'Reply' }), 201);
	for (const [u, other] of [[a, b], [b, a]]) {
		const body = expectJson(await get(`/api/messages/private/${other.id}`, u), 200);
		assert.deepEqual(body.messages.map((m) => m.content), ['Private hello', 'Reply']);
		assert.ok(body.messages.every((m) => m.chat_id === chatId));
	}
	assert.equal(sql.count('SELECT COUNT(*) FROM conversations WHERE pair_low = ? AND pair_high = ?',
	    [Math.min(a.id, b.id), Math.max(a.id, b.id)]), 1);
});

test('002 case 10: deleting an own public message answers 200 "Message deleted"', async () => {
	const m = expectJson(await post('/api/messages', a, { content: 'to delete' }), 201);
	const body = expectJson(await del(`/api/messages/${m.id}`, a), 200);
	assert.match(body.message, /deleted/);
	assert.notEqual(sql.value('SELECT deleted_at FROM messages WHERE id = ?', [m.id]), null);
	assert.ok(!expectJson(await get('/api/messages', a), 200).messages.some((x) => x.id === m.id));
	assert.equal(events('public', 'public_message_deleted'), 1);
	errorIs(await del(`/api/messages/${m.id}`, a), 404, 'Message not found');
});

test('002 case 11: another user deleting a message gets 403 and nothing changes', async () => {
	const m = expectJson(await post('/api/messages', a, { content: 'mine' }), 201);
	errorIs(await del(`/api/messages/${m.id}`, outsider), 403, 'You can only delete your own messages');
	assert.equal(sql.value('SELECT deleted_at FROM messages WHERE id = ?', [m.id]), null);
});

test('002 case 12: GET /api/users/ is not this family; the message lists need a token', async () => {
	assert.equal((await api.get('/api/messages')).status, 401);
	assert.equal((await api.get(`/api/messages/private/${b.id}`)).status, 401);
	assert.equal((await api.get('/api/files/')).status, 401);
});

let pubMsg;
const file = (extra) => ({ filename: 'test.pdf', file_url: 'http://example.com/test.pdf', file_size: 1024000, ...extra });

test('002 case 13: a file on an own public message answers 201', async () => {
	pubMsg = expectJson(await post('/api/messages', a, { content: 'with a file' }), 201);
	const body = expectJson(await post('/api/files/', a, file({ public_message_id: pubMsg.id })), 201);
	assert.equal(body.filename, 'test.pdf');
	assert.equal(body.file_url, 'http://example.com/test.pdf');
	assert.equal(body.uploader_id, a.id);
	assert.deepEqual(body.uploader, { id: a.id, username: a.username });
	assert.equal(body.public_message_id, pubMsg.id);
	assert.equal(body.private_chat_id, null);
	assert.equal(events('public', 'new_file'), 1);
});

test('002 case 14: 6,000,000 bytes answers 400 "exceeds 5MB"; 5,242,880 is allowed', async () => {
	const n = fileCount();
	const res = await post('/api/files/', a, file({ filename: 'large.pdf', file_size: 6000000, public_message_id: pubMsg.id }));
	assert.match(expectJson(res, 400).message, /exceeds 5MB/);
	assert.equal(fileCount(), n);
	expectJson(await post('/api/files/', a, file({ file_size: 5242880, public_message_id: pubMsg.id })), 201);
});

test('002 case 15: test.exe answers 400 "Invalid file type"', async () => {
	const res = await post('/api/files/', a, file({ filename: 'test.exe', public_message_id: pubMsg.id }));
	assert.match(expectJson(res, 400).message, /Invalid file type/);
	expectJson(await post('/api/files/', a, file({ filename: 'PHOTO.JPEG', public_message_id: pubMsg.id })), 201);
});

test('002 case 16: a file on a private chat answers 201', async () => {
	const body = expectJson(await post('/api/files/', a, file({ filename: 'chat_file.jpg', private_chat_id: chatId })), 201);
	assert.equal(body.private_chat_id, chatId);
	assert.equal(body.public_message_id, null);
});

let myFile;
test('002 case 17: GET /api/files/ answers a bare list of the caller\'s files, newest first', async () => {
	myFile = expectJson(await post('/api/files/', a, file({ filename: 'specific.pdf', public_message_id: pubMsg.id })), 201);
	const body = expectJson(await get('/api/files/', a), 200);
	assert.ok(Array.isArray(body) && body.length >= 1);
	assert.equal(body[0].id, myFile.id);
	assert.ok(body.every((f) => f.uploader_id === a.id));
	assert.deepEqual(expectJson(await get('/api/files', outsider), 200), []);
});

test('002 case 18: GET /api/files/{id} answers {"file"}; others 403; unknown 404', async () => {
	assert.equal(expectJson(await get(`/api/files/${myFile.id}`, a), 200).file.filename, 'specific.pdf');
	errorIs(await get(`/api/files/${myFile.id}`, outsider), 403, 'Access denied');
	errorIs(await get('/api/files/999999999', a), 404, 'File not found');
});

test('002 case 19: DELETE /api/files/{id} answers "File deleted"; others 403 and it stays', async () => {
	errorIs(await del(`/api/files/${myFile.id}`, outsider), 403, 'Access denied');
	assert.equal(sql.count('SELECT COUNT(*) FROM files WHERE id = ?', [myFile.id]), 1);
	assert.match(expectJson(await del(`/api/files/${myFile.id}`, a), 200).message, /deleted/);
	assert.equal(sql.count('SELECT COUNT(*) FROM files WHERE id = ?', [myFile.id]), 0);
});

test('002 case 20: GET /api/files/public/{message_id} lists its files', async () => {
	const body = expectJson(await get(`/api/files/public/${pubMsg.id}`, outsider), 200);
	assert.ok(body.files.length >= 1);
	assert.ok(body.files.every((f) => f.public_message_id === pubMsg.id));
	errorIs(await get('/api/files/public/999999999', a), 404, 'Message not found');
});

test('files: exactly one association, and only one the caller may use, in the documented order', async () => {
	const n = fileCount();
	errorIs(await post('/api/files/', a, { filename: 'x.pdf', file_size: 1 }), 400, 'Missing required fields: filename, file_url, file_size');
	errorIs(await post('/api/files/', a, file({})), 400, 'Exactly one association required: public_message_id, or private_chat_id');
	errorIs(await post('/api/files/', a, file({ public_message_id: pubMsg.id, private_chat_id: chatId })), 400,
	    'Exactly one association required: public_message_id, or private_chat_id');
	errorIs(await post('/api/files/', outsider, file({ public_message_id: pubMsg.id })), 400, 'Invalid public message');
	errorIs(await post('/api/files/', outsider, file({ private_chat_id: chatId })), 400, 'Invalid private chat');
	errorIs(await post('/api/files/', a, file({ private_chat_id: 1 })), 400, 'Invalid private chat');
	errorIs(await post('/api/files/', a, file({ private_chat_id: 99999999 })), 400, 'Invalid private chat');
	assert.equal(fileCount(), n);
});

test('files of a chat: members only', async () => {
	const body = expectJson(await get(`/api/files/private/${chatId}`, b), 200);
	assert.ok(body.files.length >= 1);
	errorIs(await get(`/api/files/private/${chatId}`, outsider), 404, 'Chat not found');
	errorIs(await get('/api/files/private/abc', a), 404, 'Chat not found');
});

test('private: to yourself 400, to a user that does not exist 404, bad ids 404; nothing written', async () => {
	const n = msgCount();
	errorIs(await post(`/api/messages/private/${a.id}`, a, { content: 'me' }), 400, 'Cannot send message to yourself');
	errorIs(await post('/api/messages/private/999999999', a, { content: 'x' }), 404, 'User not found');
	errorIs(await post('/api/messages/private/abc', a, { content: 'x' }), 404, 'User not found');
	errorIs(await post('/api/messages/private/99999999999999999999999', a, { content: 'x' }), 404, 'User not found');
	errorIs(await get('/api/messages/private/999999999', a), 404, 'User not found');
	assert.equal(msgCount(), n);
});

test('private delete: outsider 403, wrong chat 404, the sender 200 with an event', async () => {
	const m = expectJson(await post(`/api/messages/private/${b.id}`, a, { content: 'del me' }), 201);
	errorIs(await del(`/api/messages/private/${a.id}/${m.id}`, outsider), 403, 'You can only delete your own messages');
	errorIs(await del(`/api/messages/private/${outsider.id}/${m.id}`, a), 404, 'Invalid chat or message');
	assert.equal(sql.value('SELECT deleted_at FROM messages WHERE id = ?', [m.id]), null);
	expectJson(await del(`/api/messages/private/${b.id}/${m.id}`, a), 200);
	assert.equal(events(`conversation:${chatId}`, 'message_deleted'), 1);
	errorIs(await del(`/api/messages/private/${b.id}/999999999`, a), 404, 'Message not found');
});

test('a public message id is not deletable through the public route when it is private, and the reverse', async () => {
	const m = expectJson(await post(`/api/messages/private/${b.id}`, a, { content: 'priv' }), 201);
	errorIs(await del(`/api/messages/${m.id}`, a), 404, 'Message not found');
	const p = expectJson(await post('/api/messages', a, { content: 'pub' }), 201);
	errorIs(await del(`/api/messages/private/${b.id}/${p.id}`, a), 404, 'Invalid chat or message');
});

test('bad content: missing, empty, white space, too long, wrong type, malformed JSON; nothing written', async () => {
	const n = msgCount();
	for (const json of [{}, { content: '' }, { content: '  \n\t ' }, { content: null }])
		errorIs(await post('/api/messages', a, json), 400, 'Message content cannot be empty');
	expectJson(await post('/api/messages', a, { content: 'x'.repeat(4001) }), 400);
	expectJson(await post('/api/messages', a, { content: 42 }), 400);
	const res = await api.post('/api/messages', { token: a.token, body: '{"content": ', headers: { 'Content-Type': 'application/json' } });
	expectJson(res, 400);
	assert.equal(msgCount(), n);
	expectJson(await post('/api/messages', a, { content: 'x'.repeat(4000) }), 201);
});

test('unicode and emoji round-trip intact', async () => {
	const text = 'héllo 👋🏽 世界 \u202e ok';
	const m = expectJson(await post(`/api/messages/private/${b.id}`, a, { content: text }), 201);
	assert.equal(m.content, text);
	const list = expectJson(await get(`/api/messages/private/${a.id}`, b), 200).messages;
	assert.equal(list[list.length - 1].content, text);
	assert.equal(sql.value('SELECT body FROM messages WHERE id = ?', [m.id]), text);
});

test('pages: ?limit= and ?before= walk back, oldest to newest within a page; bad values 400', async () => {
	const u = await registerAndLogin(newUser('cp'));
	const ids = [];
	for (let i = 0; i < 5; i++)
		ids.push(expectJson(await post(`/api/messages/private/${u.id}`, b, { content: `p${i}` }), 201).id);
	const p1 = expectJson(await get(`/api/messages/private/${b.id}?limit=2`, u), 200);
	assert.deepEqual(p1.messages.map((m) => m.id), ids.slice(3));
	assert.equal(p1.next_before, ids[3]);
	const p2 = expectJson(await get(`/api/messages/private/${b.id}?limit=2&before=${p1.next_before}`, u), 200);
	assert.deepEqual(p2.messages.map((m) => m.id), ids.slice(1, 3));
	expectJson(await get('/api/messages?limit=0', u), 400);
	expectJson(await get('/api/messages?limit=1001', u), 400);
	expectJson(await get('/api/messages?before=x', u), 400);
	expectJson(await get('/api/messages?limit=1000', u), 200);
});

test('a private message queues a push for the other member\'s devices only', async () => {
	const c = await registerAndLogin(newUser('cd'));
	sql('INSERT INTO devices (user_id, device_id) VALUES (?, ?)', [c.id, `dev-${c.id}`]);
	sql('INSERT INTO devices (user_id, device_id) VALUES (?, ?)', [a.id, `dev-${a.id}`]);
	const before = sql.count("SELECT COUNT(*) FROM deliveries WHERE channel = 'push'");
	expectJson(await post(`/api/messages/private/${c.id}`, a, { content: 'ping you' }), 201);
	assert.equal(sql.count("SELECT COUNT(*) FROM deliveries WHERE channel = 'push'"), before + 1);
	const payload = JSON.parse(sql.value("SELECT payload FROM deliveries WHERE channel = 'push' ORDER BY id DESC LIMIT 1"));
	assert.deepEqual(payload.device_ids, [`dev-${c.id}`]);
	assert.match(payload.title, /^New Message from /);
	assert.equal(payload.body, 'ping you');
});
