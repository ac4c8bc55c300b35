// users.js -- fresh users for a test: unique names, registered and logged
// in through the API like any client would.
'use strict';

const crypto = require('node:crypto');
const { api } = require('./http');
const { expectJson } = require('./expect');

// A user nobody has registered yet: { username, email, password }.
function newUser(prefix = 'user') {
	const id = `${prefix}${Date.now().toString(36)}${crypto.randomBytes(4).toString('hex')}`;
	return {
		username: id,
		email: `${id}@example.com`,
		password: `pw-${crypto.randomBytes(8).toString('hex')}`,
	};
}

// Register a fresh user through 002's route (it takes both a username and an
// e-mail address, so every seed's login works afterwards) and log in through
// 000's.  Resolves to { ...user, id, token }.
async function registerAndLogin(user = newUser()) {
	const reg = await api.post('/api/auth/register', {
		json: { username: user.username, email: user.email, password: user.password },
	});
	const created = expectJson(reg, 201);
	const login = await api.post('/login', { json: { email: user.email, password: user.password } });
	const body = expectJson(login, 200);
	const token = body.access_token || body.token;
	if (!token)
		throw new Error(`no token in the login answer: ${login.text}`);
	const id = created.user && created.user.id !== undefined ? created.user.id : undefined;
	return { ...user, id, token };
}

module.exports = { newUser, registerAndLogin };
