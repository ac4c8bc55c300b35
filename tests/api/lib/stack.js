// stack.js -- where the stack under test is, from tests/with-stack's
// environment, and a way to restart it with other settings.
'use strict';

const { execFile } = require('node:child_process');
const path = require('node:path');
const { promisify } = require('node:util');

function need(name) {
	const value = process.env[name];
	if (!value)
		throw new Error(`${name} is not set: run this file through tests/with-stack`);
	return value;
}

const stack = {
	get url() { return need('FASTBACK_URL'); },
	get var() { return need('FASTBACK_VAR'); },
	get mailDir() { return path.join(need('FASTBACK_VAR'), 'mail'); },
	get logDir() { return path.join(need('FASTBACK_VAR'), 'log'); },

	// Stop and start the stack again (the data stays), with extra
	// environment for every program, e.g. { FASTBACK_MAIL_TRANSPORT:
	// 'smtp', FASTBACK_MAIL_URL: 'smtp://127.0.0.1:2525' }.  The settings
	// last until the next restart.  Asynchronous on purpose: fetch() must
	// see the old nginx close its kept-alive connections, or it reuses one.
	async restart(env = {}) {
		try {
			await promisify(execFile)(need('FASTBACK_DEV'), ['restart'], {
				env: { ...process.env, ...env },
			});
		} catch (err) {
			throw new Error(`./dev restart failed:\n${err.stderr || err.message}`);
		}
	},
};

module.exports = { stack };
