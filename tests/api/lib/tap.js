// tap.js -- a tiny sequential test runner that prints TAP.
//
// test(name, fn) queues a test; the queue runs one test at a time once the
// file has been read.  Each prints "ok N - name" or "not ok N - name" with
// the error as "#" diagnostics.  No plan line: tests/with-stack adds its own
// last test and then the plan.  Nothing escapes: a throwing test, a rejected
// promise or a timeout is a "not ok", never a crash of the file.
'use strict';

const util = require('node:util');

const queue = [];
let started = false;
let count = 0;
let failed = 0;

const DEFAULT_TIMEOUT_MS = 30000;

function schedule() {
	if (!started) {
		started = true;
		setImmediate(runAll);
	}
}

// test(name, [options,] fn): options.timeout in ms, options.skip (a reason).
function test(name, options, fn) {
	if (typeof options === 'function') {
		fn = options;
		options = {};
	}
	queue.push({ name, fn, options });
	schedule();
}

test.skip = (name, reason, fn) => test(name, { skip: reason || 'skipped' }, fn || (() => {}));
test.todo = (name, fn) => test(name, { todo: 'not done yet' }, fn);

// Lines of text as TAP diagnostics.
function diag(text) {
	for (const line of String(text).split('\n'))
		process.stdout.write(`# ${line}\n`);
}

function describe(err) {
	if (err && err.code === 'ERR_ASSERTION') {
		let text = err.message;
		if (err.generatedMessage === false && err.operator !== 'fail')
			text += '\nactual:   ' + util.inspect(err.actual, { depth: 6 }) +
			    '\nexpected: ' + util.inspect(err.expected, { depth: 6 });
		const at = (err.stack || '').split('\n').find((l) => /\.test\.js:/.test(l));
		return at ? text + '\n' + at.trim() : text;
	}
	let text = err && err.stack ? err.stack : util.inspect(err);
	// fetch() hides the reason (ECONNREFUSED, ...) in err.cause.
	if (err && err.cause)
		text += '\ncause: ' + (err.cause.stack || util.inspect(err.cause));
	return text;
}

function withTimeout(promise, ms, name) {
	let timer;
	const timeout = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${name}`)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runOne({ name, fn, options }) {
	const n = ++count;
	const title = name.replace(/#/g, '\\#');
	if (options.skip) {
		process.stdout.write(`ok ${n} - ${title} # SKIP ${options.skip}\n`);
		return;
	}
	const todo = options.todo ? ` # TODO ${options.todo}` : '';
	try {
		await withTimeout(Promise.resolve().then(fn), options.timeout || DEFAULT_TIMEOUT_MS, name);
		process.stdout.write(`ok ${n} - ${title}${todo}\n`);
	} catch (err) {
		if (!todo)
			failed++;
		process.stdout.write(`not ok ${n} - ${title}${todo}\n`);
		diag(describe(err));
	}
}

async function runAll() {
	// Tests queued while running (by a test) run too, in order.
	while (queue.length > 0)
		await runOne(queue.shift());
	for (const fn of after.hooks.reverse()) {
		try {
			await fn();
		} catch (err) {
			diag('cleanup failed: ' + describe(err));
		}
	}
	process.exitCode = failed > 0 ? 1 : 0;
	// A server or socket a test forgot to close would keep node, and so
	// make check, waiting forever.
	setTimeout(() => {
		diag('open handles kept node alive after the last test: close them in after()');
		process.exit();
	}, 5000).unref();
}

// after(fn): run fn once every test is done (closing servers and the like).
function after(fn) {
	after.hooks.push(fn);
}
after.hooks = [];

process.on('unhandledRejection', (err) => diag('unhandled rejection: ' + describe(err)));

module.exports = { test, after, diag };
