// index.js -- everything an API test needs, in one require.
//
//   const { test, api, sql, assert, expectJson, registerAndLogin } =
//       require('./lib');
//
//   test('GET /protected with a fresh user', async () => {
//       const user = await registerAndLogin();
//       const body = expectJson(await api.get('/protected', { token: user.token }), 200);
//       assert.match(body.message, /Hello/);
//       assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [user.id]), 1);
//   });
//
// A file is a sequence of tests run in order against one stack of its own
// (tests/with-stack); a new file is listed in tests/include.am with
// "TESTS += tests/api/NAME.test.js".
//   tap.js     test(), test.skip(), test.todo(), after(), diag()
//   http.js    api(method, path, {json, body, headers, token, tokenScheme}),
//              api.get/post/put/patch/delete; nginx's 429s are waited out;
//              sleep(ms), until(what, check, timeout) polls with a deadline
//   sql.js     sql(query, params) -> rows of strings; sql.value, sql.count
//   expect.js  node's assert, expectJson, expectError, expectKeys
//   users.js   newUser(), registerAndLogin()
//   mail.js    readMail(to) from the outbox, otpFrom(mail), startSmtpSink()
//   stack.js   stack.url/var/mailDir/logDir, await stack.restart(env),
//              await stack.start(env) (what a test stopped)
'use strict';

module.exports = {
	...require('./tap'),
	...require('./stack'),
	...require('./http'),
	...require('./sql'),
	...require('./expect'),
	...require('./users'),
	...require('./mail'),
};
