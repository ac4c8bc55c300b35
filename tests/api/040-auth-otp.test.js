// 040-auth-otp.test.js -- seed 003 (chat/user API): signup, signin,
// generate_jwt, and the password reset forgot-password -> mailed code ->
// otp_validate -> reset-password, end to end through a real SMTP server on
// loopback (the smtp-server package) that this file starts; the stack's
// dispatcher is restarted to send there.
'use strict';

const {
	test, after, api, sql, stack, assert, expectJson, newUser, startSmtpSink, otpFrom,
} = require('./lib');
const {
	jtiOf, userId, userRow, sessionOf, liveSessions, protectedWith, expectEnvelope,
} = require('./lib/auth-helpers');

let sink;

function post(path, json, options = {}) {
	return api.post(path, { json, ...options });
}

// A fresh user signed up through 003.
async function userApi() {
	const u = newUser('o3');
	delete u.username;
	expectJson(await post('/api/user/signup', { email: u.email, password: u.password }), 200);
	return { ...u, id: userId(u.email) };
}

async function signin(u, password = u.password) {
	return expectJson(await post('/api/user/signin', { email: u.email, password }), 200);
}

test('the stack restarts with its mail going to an SMTP server on loopback', { timeout: 120000 }, async () => {
	sink = await startSmtpSink();
	await stack.restart({
		FASTBACK_MAIL_TRANSPORT: 'smtp',
		FASTBACK_MAIL_URL: sink.url,
		FASTBACK_MAIL_STARTTLS: 'no',
		FASTBACK_DISPATCHER_POLL_MS: '100',
	});
	expectJson(await api.get('/api/ping'), 200);
});

after(async () => {
	if (sink)
		await sink.close();
});

test('003 signup answers 200 {"status_code": 200, "message": "User Signup successful"} and stores the user', async () => {
	const u = newUser('o3');
	const res = await post('/api/user/signup', { email: u.email, password: u.password });
	assert.deepEqual(expectJson(res, 200), { status_code: 200, message: 'User Signup successful' });
	const row = userRow(userId(u.email));
	assert.equal(row.email, u.email);
	assert.match(row.password_hash, /^\$argon2id\$/);
});

test('003 signup with an e-mail that exists answers 409 "User Already Exists" and adds no row', async () => {
	const u = await userApi();
	const res = await post('/api/user/signup', { email: u.email.toUpperCase(), password: u.password });
	expectEnvelope(res, 409, '003', 'User Already Exists', 'already_exists');
	assert.equal(sql.count('SELECT COUNT(*) FROM users WHERE email_key = LOWER(?)', [u.email]), 1);
});

test('003 signup without a password answers 400 "Invalid request parameters." with status_code 400', async () => {
	const u = newUser('o3');
	const res = await post('/api/user/signup', { email: u.email });
	expectEnvelope(res, 400, '003', 'Invalid request parameters.', 'missing_fields');
	assert.equal(userId(u.email), undefined);
});

test('003 signin answers 200 with the JWT the document promises (jwt_token), a display name and a session', async () => {
	const u = await userApi();
	const body = await signin(u);
	assert.equal(body.status_code, 200);
	assert.equal(body.message, 'User Signin successful');
	const local = u.email.split('@')[0];
	assert.equal(body.username, local[0].toUpperCase() + local.slice(1));
	assert.equal(typeof body.jwt_token, 'string');
	assert.equal(body.access_token, body.jwt_token);
	assert.equal(body.token, body.jwt_token);
	assert.equal(sessionOf(body.jwt_token).user_id, u.id);
	assert.equal(expectJson(await protectedWith(body.jwt_token), 200).user_id, u.id);
});

test('003 signin with a wrong password or an unknown e-mail answers the same 401 "Invalid email or password"', async () => {
	const u = await userApi();
	const wrong = await post('/api/user/signin', { email: u.email, password: 'wrong-password' });
	expectEnvelope(wrong, 401, '003', 'Invalid email or password', 'invalid_credentials');
	const unknown = await post('/api/user/signin', { email: newUser('o3').email, password: 'wrong-password' });
	assert.deepEqual(expectJson(unknown, 401), wrong.json);
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [u.id]), 0);
});

test('003 generate_jwt without a token answers 401 "Authorization token is missing"', async () => {
	const res = await post('/api/user/generate_jwt', { email: 'someone@example.com' });
	expectEnvelope(res, 401, '003', 'Authorization token is missing', 'missing_token');
});

test('003 generate_jwt trades a live token for a new one and revokes the old one', async () => {
	const u = await userApi();
	const old = (await signin(u)).jwt_token;
	const res = await post('/api/user/generate_jwt', { email: u.email }, { token: old });
	const body = expectJson(res, 200);
	assert.equal(body.status_code, 200);
	assert.equal(body.message, 'JWT Token Created Successfully.');
	assert.equal(body.access_token, body.jwt_token);
	assert.notEqual(body.jwt_token, old);
	assert.equal(sessionOf(old).revoked_reason, 'refresh');
	assert.equal(sessionOf(body.jwt_token).revoked_at, null);
	expectJson(await protectedWith(body.jwt_token), 200);
	expectEnvelope(await protectedWith(old), 401, '000', 'Token has been revoked!');
});

test('003 generate_jwt with someone else\'s e-mail answers 403 and mints nothing', async () => {
	const u = await userApi();
	const other = await userApi();
	const token = (await signin(u)).jwt_token;
	const res = await post('/api/user/generate_jwt', { email: other.email }, { token });
	expectEnvelope(res, 403, '003', undefined, 'forbidden');
	assert.equal(liveSessions(u.id), 1);
	assert.equal(sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ?', [other.id]), 0);
	assert.equal(sessionOf(token).revoked_at, null);
});

test('forgot-password -> mailed code -> otp_validate -> reset-password works end to end through SMTP', { timeout: 60000 }, async () => {
	const u = await userApi();
	const t1 = (await signin(u)).jwt_token;
	const t2 = (await signin(u)).jwt_token;
	const since = new Date().toISOString().replace('T', ' ').replace('Z', '');

	// forgot-password: 200, one code stored hashed, one mail queued.
	const forgot = await post('/api/user/forgot-password', { email: u.email });
	assert.deepEqual(expectJson(forgot, 200), { status_code: 200, message: 'OTP Successfully Sent.' });
	const codes = sql('SELECT id, state, attempts, HEX(code_hash) FROM otp_codes WHERE user_id = ?', [u.id]);
	assert.equal(codes.length, 1);
	assert.equal(codes[0][1], 'pending');
	assert.equal(codes[0][3].length, 64, 'a 32-byte hash');
	const queued = sql('SELECT id, target FROM deliveries WHERE channel = \'mail\' AND target = ?', [u.email]);
	assert.equal(queued.length, 1);

	// The mail reaches the SMTP server with a 6-digit code.
	const mail = await sink.waitFor(u.email, 15000);
	assert.deepEqual(mail.envelope.rcptTo.map((r) => r.address), [u.email]);
	assert.match(mail.subject, /password reset code/i);
	const code = otpFrom(mail);
	assert.match(code, /^\d{6}$/);

	// The code is nowhere in the database: hashed in otp_codes, and the
	// mail's text scrubbed once delivered.
	const row = sql('SELECT CONCAT_WS(\'|\', id, user_id, purpose, HEX(code_hash), code_hash, state) FROM otp_codes WHERE user_id = ?', [u.id]);
	assert.equal(row[0][0].includes(code), false, 'the code is stored in clear');
	assert.equal(Buffer.from(codes[0][3], 'hex').includes(code), false);
	for (let i = 0; i < 50 && sql.value('SELECT state FROM deliveries WHERE id = ?', [queued[0][0]]) !== 'delivered'; i++)
		await new Promise((r) => setTimeout(r, 100));
	const delivery = sql('SELECT state, attempts, payload FROM deliveries WHERE id = ?', [queued[0][0]]);
	assert.equal(delivery[0][0], 'delivered');
	assert.equal(delivery[0][2].includes(code), false, 'the delivered mail text stays in the database');
	assert.equal(sql.count('SELECT COUNT(*) FROM delivery_attempts WHERE delivery_id = ? AND outcome = \'delivered\'',
	    [queued[0][0]]), 1);

	// otp_validate: 200 and the code is validated.
	const valid = await post('/api/user/otp_validate', { email: u.email, otp: code });
	assert.deepEqual(expectJson(valid, 200), { status_code: 200, message: 'OTP Validated.' });
	assert.equal(sql.value('SELECT state FROM otp_codes WHERE id = ?', [codes[0][0]]), 'validated');

	// reset-password: 200, the code used up, every session revoked.
	const newPassword = 'new-password-' + code;
	const reset = await post('/api/user/reset-password', { email: u.email, password: newPassword });
	assert.deepEqual(expectJson(reset, 200), { status_code: 200, message: 'Password Updated Successfully.' });
	assert.equal(sql.value('SELECT state FROM otp_codes WHERE id = ?', [codes[0][0]]), 'used');
	for (const t of [t1, t2]) {
		assert.equal(sessionOf(t).revoked_reason, 'password_reset');
		expectEnvelope(await protectedWith(t), 401, '000', 'Token has been revoked!');
	}
	assert.equal(liveSessions(u.id), 0);
	assert.ok(sql.value('SELECT password_changed_at FROM users WHERE id = ? AND password_changed_at >= ?', [u.id, since]));

	// The old password is refused, the new one works.
	expectEnvelope(await post('/api/user/signin', { email: u.email, password: u.password }), 401, '003',
	    'Invalid email or password');
	const fresh = await signin(u, newPassword);
	assert.equal(sessionOf(fresh.jwt_token).user_id, u.id);

	// The code is single use.
	expectEnvelope(await post('/api/user/otp_validate', { email: u.email, otp: code }), 410, '003',
	    'OTP does not match.', 'otp_mismatch');
});

test('each forgot-password sends its own mail, and only the newest code validates', { timeout: 60000 }, async () => {
	const u = await userApi();
	expectJson(await post('/api/user/forgot-password', { email: u.email }), 200);
	const first = otpFrom(await sink.waitFor(u.email, 15000));
	expectJson(await post('/api/user/forgot-password', { email: u.email }), 200);
	let second;
	for (let i = 0; i < 150 && !second; i++) {
		const mails = sink.messages.filter((m) => m.envelope.rcptTo.some((r) => r.address === u.email));
		if (mails.length >= 2)
			second = otpFrom(mails[1]);
		else
			await new Promise((r) => setTimeout(r, 100));
	}
	assert.ok(second, 'no second mail');
	assert.equal(sql.count('SELECT COUNT(*) FROM deliveries WHERE channel = \'mail\' AND target = ?', [u.email]), 2);
	assert.deepEqual(sql('SELECT state FROM otp_codes WHERE user_id = ? ORDER BY id', [u.id]).map((r) => r[0]),
	    ['dead', 'pending']);
	if (first !== second)
		expectEnvelope(await post('/api/user/otp_validate', { email: u.email, otp: first }), 410, '003', 'OTP does not match.');
	expectJson(await post('/api/user/otp_validate', { email: u.email, otp: second }), 200);
});

test('forgot-password for an unknown address answers the same 200 and sends no mail', async () => {
	const nobody = newUser('o3').email;
	const res = await post('/api/user/forgot-password', { email: nobody });
	assert.deepEqual(expectJson(res, 200), { status_code: 200, message: 'OTP Successfully Sent.' });
	assert.equal(sql.count('SELECT COUNT(*) FROM deliveries WHERE target = ?', [nobody]), 0);
	await new Promise((r) => setTimeout(r, 1000));
	assert.equal(sink.messages.some((m) => m.envelope.rcptTo.some((r) => r.address === nobody)), false);
});

test('the sessions a reset revoked stay revoked; tokens issued afterwards work', async () => {
	const u = await userApi();
	const before = (await signin(u)).jwt_token;
	expectJson(await post('/api/user/forgot-password', { email: u.email }), 200);
	const code = otpFrom(await sink.waitFor(u.email, 15000));
	// reset-password with the right code in its body needs no otp_validate.
	expectJson(await post('/api/user/reset-password', { email: u.email, password: 'reset-password-1', otp: code }), 200);
	assert.equal(sessionOf(before).revoked_reason, 'password_reset');
	const after1 = (await signin(u, 'reset-password-1')).jwt_token;
	assert.equal(sessionOf(jtiOf(after1)).revoked_at, null);
	expectJson(await protectedWith(after1), 200);
	expectEnvelope(await protectedWith(before), 401, '000', 'Token has been revoked!');
});
