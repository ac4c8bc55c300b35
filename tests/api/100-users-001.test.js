// 100-users-001.test.js -- seed 001's account routes: POST /edit_user,
// /edit_user_info and /delete_account, each answer and error in 001's
// envelope, the database state behind them, and the original's bugs staying
// fixed: a rename keeps the password and everything the user owns, a
// password change keeps the username.
'use strict';

const { test, api, sql, assert, expectJson, newUser } = require('./lib');
const {
	jtiOf, registerVia, loginVia, userRow, liveSessions, sessionOf, protectedWith, expectEnvelope,
} = require('./lib/auth-helpers');
const { member, lastSeq, roomEvents, addDevice, devicesOf } = require('./lib/users-family');

const UPDATED = 'User information updated successfully!';

// Log in through 001 with a username and a password; resolves to the answer.
function login001(username, password) {
	return api.post('/login', { json: { username, password } });
}

test('edit_user: a rename keeps the password, the id, the sessions and the devices', async () => {
	const u = await member('001');
	const device = addDevice(u.id);
	const before = userRow(u.id);
	const renamed = `${u.username}-new`;
	const body = expectJson(await api.post('/edit_user', {
		token: u.token, json: { new_username: renamed, current_password: u.password },
	}), 200);
	assert.equal(body.message, UPDATED);
	assert.equal(body.user.id, u.id);
	assert.equal(body.user.username, renamed);
	assert.equal(body.user.email, u.email);

	const after = userRow(u.id);
	assert.equal(after.username, renamed);
	assert.equal(after.password_hash, before.password_hash, 'the password hash is untouched');
	assert.equal(after.password_changed_at, null);
	assert.equal(after.email, before.email);
	assert.deepEqual(devicesOf(u.id), [device], 'the device stays with the user');

	// The old password logs in under the new name; the old name is gone.
	expectJson(await login001(renamed, u.password), 200);
	expectEnvelope(await login001(u.username, u.password), 401, '001', 'Invalid username/password!');
	// The token used keeps working and greets the new name.
	const hello = expectJson(await protectedWith(u.token), 200);
	assert.equal(hello.message, `Hello, ${renamed}! This is a protected endpoint.`);
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NOT NULL', [u.id]), 0,
	    'a rename revokes nothing');
});

test('edit_user: a password change keeps the username, and ends the other sessions but not this one', async () => {
	const u = await member('001');
	const other = await loginVia('001', u);
	const since = lastSeq();
	const newPassword = `${u.password}-2`;
	expectJson(await api.post('/edit_user', {
		token: u.token, json: { new_password: newPassword, current_password: u.password },
	}), 200);
	const row = userRow(u.id);
	assert.equal(row.username, u.username, 'the username stays');
	assert.ok(row.password_changed_at, 'password_changed_at is set');
	expectJson(await login001(u.username, newPassword), 200);
	expectEnvelope(await login001(u.username, u.password), 401, '001', 'Invalid username/password!');

	expectJson(await protectedWith(u.token), 200);
	expectEnvelope(await protectedWith(other), 401, '000', 'Token has been revoked!');
	assert.equal(sessionOf(other).revoked_reason, 'password_change');
	assert.equal(sessionOf(u.token).revoked_at, null);

	const events = roomEvents(u.id, since);
	const revoked = events.find((e) => e.event === 'session_revoked');
	assert.deepEqual(revoked.payload, {
		user_id: u.id, all: true, except: jtiOf(u.token), reason: 'password_change',
	});
	const updated = events.find((e) => e.event === 'user_updated');
	assert.equal(updated.payload.id, u.id);
	assert.equal(updated.payload.username, u.username);
	assert.equal(updated.payload.password_hash, undefined, 'no hash in events');
});

test('edit_user: a new username and a new password at once', async () => {
	const u = await member('001');
	const renamed = `${u.username}-both`;
	const pw = `${u.password}-both`;
	expectJson(await api.post('/edit_user', {
		token: u.token, json: { new_username: renamed, new_password: pw, current_password: u.password },
	}), 200);
	expectJson(await login001(renamed, pw), 200);
	assert.equal(userRow(u.id).username, renamed);
});

test('edit_user: nothing new is a 400; a wrong or missing current password a 401; nothing changes', async () => {
	const u = await member('001');
	const before = userRow(u.id);
	expectEnvelope(await api.post('/edit_user', { token: u.token, json: { current_password: u.password } }),
	    400, '001', 'No new information provided!', 'no_changes');
	expectEnvelope(await api.post('/edit_user', { token: u.token, json: {} }),
	    400, '001', 'No new information provided!');
	expectEnvelope(await api.post('/edit_user', {
		token: u.token, json: { new_username: `${u.username}z`, current_password: 'wrong password' },
	}), 401, '001', 'Invalid current password!', 'invalid_password');
	expectEnvelope(await api.post('/edit_user', {
		token: u.token, json: { new_password: 'another password' },
	}), 401, '001', 'Invalid current password!');
	assert.deepEqual(userRow(u.id), before);
});

test('edit_user: a username someone else has is a 400 "Username already exists!"; usernames are case-sensitive', async () => {
	const a = await member('001');
	const b = await member('001');
	const before = userRow(a.id);
	expectEnvelope(await api.post('/edit_user', {
		token: a.token, json: { new_username: b.username, current_password: a.password },
	}), 400, '001', 'Username already exists!', 'already_exists');
	assert.deepEqual(userRow(a.id), before);
	// Another case is another username.
	const upper = b.username.toUpperCase();
	expectJson(await api.post('/edit_user', {
		token: a.token, json: { new_username: upper, current_password: a.password },
	}), 200);
	assert.equal(userRow(a.id).username, upper);
	// One's own username again is no conflict.
	expectJson(await api.post('/edit_user', {
		token: a.token, json: { new_username: upper, current_password: a.password },
	}), 200);
});

test('edit_user: a short new password or a username with "@" is a 400 naming the field', async () => {
	const u = await member('001');
	const before = userRow(u.id);
	let body = expectEnvelope(await api.post('/edit_user', {
		token: u.token, json: { new_password: 'short', current_password: u.password },
	}), 400, '001', undefined, 'invalid_field', ['fields']);
	assert.ok(body.fields.new_password);
	body = expectEnvelope(await api.post('/edit_user', {
		token: u.token, json: { new_username: 'me@there', current_password: u.password },
	}), 400, '001', undefined, 'invalid_field', ['fields']);
	assert.ok(body.fields.new_username);
	assert.deepEqual(userRow(u.id), before);
});

test('edit_user, edit_user_info, delete_account without a token: 401 "Token is missing!"', async () => {
	const before = sql.count('SELECT COUNT(*) FROM users');
	for (const path of ['/edit_user', '/edit_user_info', '/delete_account'])
		expectEnvelope(await api.post(path, { json: { new_username: 'x', password: 'y' } }), 401, '001', 'Token is missing!');
	expectEnvelope(await api.post('/edit_user', { json: {}, headers: { Authorization: 'Basic abc' } }),
	    401, '001', 'Invalid token format!');
	assert.equal(sql.count('SELECT COUNT(*) FROM users'), before);
});

test('edit_user_info: the profile fields change, the ones not sent stay as they are', async () => {
	const u = newUser('info');
	expectJson(await api.post('/register', {
		json: {
			username: u.username, password: u.password, first_name: 'Ann', last_name: 'Lee', age: 30,
			phone_number: '0987654321',
		},
	}), 200);
	const token = await loginVia('001', u);
	const id = Number(sql.value('SELECT id FROM users WHERE username = ?', [u.username]));
	const body = expectJson(await api.post('/edit_user_info', {
		token, json: { new_age: 28, new_phone_number: '1122334455', current_password: u.password },
	}), 200);
	assert.equal(body.message, UPDATED);
	assert.equal(body.user.age, 28);
	let row = userRow(id);
	assert.deepEqual([row.first_name, row.last_name, row.age, row.phone_number], ['Ann', 'Lee', 28, '1122334455']);

	// The document's full example, with the age as digits (001 clients sent both).
	expectJson(await api.post('/edit_user_info', {
		token,
		json: {
			new_first_name: 'NewFirstName', new_last_name: 'NewLastName', new_age: '29',
			new_phone_number: '+1 (555) 010-9999', new_password: `${u.password}-i`, current_password: u.password,
			new_username: `${u.username}-i`,
		},
	}), 200);
	row = userRow(id);
	assert.deepEqual([row.first_name, row.last_name, row.age, row.phone_number, row.username],
	    ['NewFirstName', 'NewLastName', 29, '+1 (555) 010-9999', `${u.username}-i`]);
	expectJson(await login001(`${u.username}-i`, `${u.password}-i`), 200);
});

test('edit_user_info: a new username alone counts as new information; nothing at all is a 400', async () => {
	const u = await member('001');
	expectJson(await api.post('/edit_user_info', {
		token: u.token, json: { new_username: `${u.username}-only`, current_password: u.password },
	}), 200);
	assert.equal(userRow(u.id).username, `${u.username}-only`);
	expectEnvelope(await api.post('/edit_user_info', { token: u.token, json: { current_password: u.password } }),
	    400, '001', 'No new information provided!');
});

test('edit_user_info: a password change alone keeps the username (the original set it to NULL)', async () => {
	const u = await member('001');
	expectJson(await api.post('/edit_user_info', {
		token: u.token, json: { new_password: `${u.password}-p`, current_password: u.password },
	}), 200);
	assert.equal(userRow(u.id).username, u.username);
	expectJson(await login001(u.username, `${u.password}-p`), 200);
});

test('edit_user_info: bad values are 400s naming the field, with nothing written', async () => {
	const u = await member('001');
	const before = userRow(u.id);
	const bad = [
		[{ new_age: 151 }, 'new_age'], [{ new_age: -1 }, 'new_age'], [{ new_age: 'twenty' }, 'new_age'],
		[{ new_age: true }, 'new_age'], [{ new_age: 2.5 }, 'new_age'], [{ new_phone_number: 'call me' }, 'new_phone_number'],
		[{ new_first_name: 'a\u0007b' }, 'new_first_name'], [{ new_last_name: 'x'.repeat(151) }, 'new_last_name'],
		[{ new_first_name: 42 }, 'new_first_name'],
	];
	for (const [json, field] of bad) {
		const body = expectEnvelope(await api.post('/edit_user_info', {
			token: u.token, json: { ...json, current_password: u.password },
		}), 400, '001', undefined, 'invalid_field', ['fields']);
		assert.ok(body.fields[field], `${JSON.stringify(json)} names ${field}`);
	}
	expectEnvelope(await api.post('/edit_user_info', {
		token: u.token, json: { new_first_name: 'X', current_password: 'nope nope' },
	}), 401, '001', 'Invalid current password!');
	assert.deepEqual(userRow(u.id), before);
});

test('edit_user_info: the e-mail of a 000 user stays, and such a user may take a username', async () => {
	const u = await registerVia('000');
	const token = await loginVia('000', u);
	const name = `named${Date.now()}`;
	expectJson(await api.post('/edit_user_info', {
		token, json: { new_username: name, new_first_name: 'Eve', current_password: u.password },
	}), 200);
	const row = userRow(u.id);
	assert.equal(row.username, name);
	assert.equal(row.email, u.email);
	expectJson(await login001(name, u.password), 200);
});

test('delete_account: a wrong or missing password is a 401 "Invalid password!" and nothing is deleted', async () => {
	const u = await member('001');
	expectEnvelope(await api.post('/delete_account', { token: u.token, json: { password: 'wrong wrong' } }),
	    401, '001', 'Invalid password!', 'invalid_password');
	expectEnvelope(await api.post('/delete_account', { token: u.token, json: {} }), 401, '001', 'Invalid password!');
	assert.ok(userRow(u.id));
	assert.equal(liveSessions(u.id), 1);
});

test('delete_account: the account, its sessions and devices go; the token dies; a second try is a 401', async () => {
	const u = await member('001');
	addDevice(u.id);
	const body = expectJson(await api.post('/delete_account', { token: u.token, json: { password: u.password } }), 200);
	assert.deepEqual(body, { message: 'Account deleted successfully!' });
	assert.equal(userRow(u.id), undefined);
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [u.id]), 0);
	assert.deepEqual(devicesOf(u.id), []);
	expectEnvelope(await protectedWith(u.token), 401, '000', 'Token is invalid!');
	expectEnvelope(await api.post('/delete_account', { token: u.token, json: { password: u.password } }),
	    401, '001', 'Token is invalid!');
	expectEnvelope(await login001(u.username, u.password), 401, '001', 'Invalid username/password!');
});
