// stack.js -- where the stack under test is, from tests/with-stack's
// environment, and ways to restart it or the parts of it a test stopped.
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

// Run "./dev COMMAND" on the stack, with extra environment for the programs
// it starts.
async function dev(command, env) {
	try {
		await promisify(execFile)(need('FASTBACK_DEV'), [command], {
			env: { ...process.env, ...env },
		});
	} catch (err) {
		throw new Error(`./dev ${command} failed:\n${err.stderr || err.message}`);
	}
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
		await dev('restart', env);
	},

	// Start whatever part of the stack is not running, e.g. after a test
	// stopped MariaDB or a responder: ./dev start leaves the running
	// programs alone (nginx reloads), so env reaches only those it starts.
	async start(env = {}) {
		await dev('start', env);
	},
};

module.exports = { stack };
