// auth-helpers.js -- what the auth tests share: each seed's register and
// login calls, the database rows they imply, and home-made JWTs (forged,
// expired, alg=none) signed with the stack's own secret.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { stack } = require('./stack');
const { api } = require('./http');
const { sql } = require('./sql');
const { assert, expectJson, show } = require('./expect');
const { newUser } = require('./users');

// ------------------------------------------------------------ JWTs

function b64url(data) {
	return Buffer.from(data).toString('base64url');
}

// The header and claims of a token, unchecked.
function decodeJwt(token) {
	const [h, p] = token.split('.');
	return {
		header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
		claims: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
	};
}

// The session id (jti) of a token.
function jtiOf(token) {
	return decodeJwt(token).claims.jti;
}

// The [jwt] secret of the stack under test, from its config.ini (or the
// environment override, which wins there too).
function jwtSecret() {
	if (process.env.FASTBACK_JWT_SECRET)
		return process.env.FASTBACK_JWT_SECRET;
	const ini = fs.readFileSync(path.join(stack.var, 'config.ini'), 'utf8');
	let section = '';
	for (const line of ini.split('\n')) {
		const s = /^\s*\[([^\]]+)\]/.exec(line);
		if (s) {
			section = s[1].trim();
			continue;
		}
		const kv = /^\s*([^=;#]+?)\s*=\s*(.*?)\s*$/.exec(line);
		if (kv && section === 'jwt' && kv[1] === 'secret')
			return kv[2];
	}
	throw new Error('no [jwt] secret in the stack\'s config.ini');
}

// A token with the given claims, signed as options say: alg ("HS256",
// "HS512", "none"), secret (default: the stack's), header (extra fields).
function signJwt(claims, options = {}) {
	const alg = options.alg || 'HS256';
	const header = { alg, typ: 'JWT', ...(options.header || {}) };
	const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
	if (alg === 'none')
		return `${input}.`;
	const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
	const mac = crypto.createHmac(hash, options.secret || jwtSecret()).update(input).digest();
	return `${input}.${b64url(mac)}`;
}

// A copy of a real token with some claims changed, signed again.
function resign(token, changes, options = {}) {
	const { claims } = decodeJwt(token);
	return signJwt({ ...claims, ...changes }, options);
}

// ------------------------------------------------------------ users

// How each seed registers a user, and the status it answers on success.
const REGISTER = {
	'000': { path: '/register', status: 200, body: (u) => ({ email: u.email, password: u.password }) },
	'001': {
		path: '/register', status: 200,
		body: (u) => ({ username: u.username, email: u.email, password: u.password }),
	},
	'002': {
		path: '/api/auth/register', status: 201,
		body: (u) => ({ username: u.username, email: u.email, password: u.password }),
	},
	'003': { path: '/api/user/signup', status: 200, body: (u) => ({ email: u.email, password: u.password }) },
	'004': { path: '/api/auth/signup/', status: 201, body: (u) => ({ email: u.email, password: u.password }) },
};

// How each seed logs a user in, and where its answer holds the token.
const LOGIN = {
	'000': { path: '/login', body: (u) => ({ email: u.email, password: u.password }), token: 'access_token' },
	'001': {
		path: '/login', body: (u) => ({ username: u.username || u.email, password: u.password }),
		token: 'token',
	},
	'002': {
		path: '/api/auth/login', body: (u) => ({ username: u.username || u.email, password: u.password }),
		token: 'access_token',
	},
	'003': { path: '/api/user/signin', body: (u) => ({ email: u.email, password: u.password }), token: 'jwt_token' },
	'004': {
		path: '/api/auth/login/', body: (u) => ({ username: u.email || u.username, password: u.password }),
		token: 'token',
	},
};

const SEEDS = Object.keys(REGISTER);

// Register user (default: a fresh one) through a seed's route; resolves to
// the user as registered (without the fields that seed does not send) with
// its id.  Fails the test when the seed does not answer its success status.
async function registerVia(seed, user = newUser(`s${seed}`)) {
	const r = REGISTER[seed];
	const sent = r.body(user);
	const res = await api.post(r.path, { json: sent });
	expectJson(res, r.status);
	const id = sent.email ? userId(sent.email, 'email') : userId(sent.username, 'username');
	assert.ok(id, `no users row after registering through ${seed}`);
	return { ...user, username: sent.username, email: sent.email, id };
}

// Log user in through a seed's route; resolves to the token.
async function loginVia(seed, user) {
	const l = LOGIN[seed];
	const res = await api.post(l.path, { json: l.body(user) });
	const body = expectJson(res, 200);
	const token = body[l.token];
	assert.equal(typeof token, 'string', `no ${l.token} in ${seed}'s login answer:\n${show(res)}`);
	return token;
}

// The id of the user with that e-mail (any case) or username, or undefined.
function userId(name, by = name.includes('@') ? 'email' : 'username') {
	const v = by === 'email' ?
	    sql.value('SELECT id FROM users WHERE email_key = LOWER(?)', [name]) :
	    sql.value('SELECT id FROM users WHERE username = ?', [name]);
	return v === undefined ? undefined : Number(v);
}

// The users row of an id as an object.
function userRow(id) {
	const rows = sql('SELECT id, email, username, password_hash, first_name, last_name, age, ' +
	    'phone_number, avatar_url, password_changed_at FROM users WHERE id = ?', [id]);
	if (rows.length === 0)
		return undefined;
	const [, email, username, hash, first, last, age, phone, avatar, changed] = rows[0];
	return {
		id: Number(rows[0][0]), email, username, password_hash: hash, first_name: first,
		last_name: last, age: age === null ? null : Number(age), phone_number: phone,
		avatar_url: avatar, password_changed_at: changed,
	};
}

// How many users rows there are in all (to see that nothing was written).
function userCount() {
	return sql.count('SELECT COUNT(*) FROM users');
}

// The sessions row of a token (or of a jti) as an object, or undefined.
function sessionOf(tokenOrJti) {
	const jti = tokenOrJti.includes('.') ? jtiOf(tokenOrJti) : tokenOrJti;
	const rows = sql('SELECT jti, user_id, revoked_at, revoked_reason FROM sessions WHERE jti = ?', [jti]);
	if (rows.length === 0)
		return undefined;
	return { jti: rows[0][0], user_id: Number(rows[0][1]), revoked_at: rows[0][2], revoked_reason: rows[0][3] };
}

// How many sessions of a user are live (not revoked).
function liveSessions(userIdValue) {
	return sql.count('SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [userIdValue]);
}

// GET /protected with a token; resolves to the answer.
function protectedWith(token, scheme = 'Bearer') {
	return api.get('/protected', { token, tokenScheme: scheme });
}

// The body is exactly this seed's error envelope with this message (and
// this code, where the envelope has one); extra keys may be listed.
function expectEnvelope(res, status, seed, message, code, extra = []) {
	const body = expectJson(res, status);
	const keys = {
		'000': ['error', 'message'],
		'001': ['message', 'error'],
		'002': ['message', 'msg', 'error'],
		'003': ['status_code', 'message', 'error'],
		'004': ['detail', 'error'],
		fastback: ['message', 'error'],
	}[seed];
	assert.deepEqual(Object.keys(body).sort(), [...keys, ...extra].sort(),
	    `not ${seed}'s envelope:\n${show(res)}`);
	switch (seed) {
	case '000':
		assert.equal(body.error, body.message, 'error and message differ');
		if (message !== undefined)
			assert.equal(body.message, message);
		break;
	case '004':
		assert.equal(body.error, body.detail, 'error and detail differ');
		if (message !== undefined)
			assert.equal(body.detail, message);
		break;
	case '002':
		assert.equal(body.msg, body.message, 'msg and message differ');
		// falls through
	default:
		if (message !== undefined)
			assert.equal(body.message, message);
		if (code !== undefined)
			assert.equal(body.error, code);
		if (seed === '003')
			assert.equal(body.status_code, status);
	}
	return body;
}

module.exports = {
	decodeJwt, jtiOf, jwtSecret, signJwt, resign,
	REGISTER, LOGIN, SEEDS, registerVia, loginVia,
	userId, userRow, userCount, sessionOf, liveSessions, protectedWith, expectEnvelope,
};
