// 590-notifier-io.test.js -- the notifier's bridge, poller and presence
// modules on this stack: runs the C program tests/unit/notifier_io once per
// case (it lists them when run without one) and reports each as a test.
// The cases commit events out of order, replay and prune them, share
// presence between two notifiers, and call an HTTP server of their own
// (concurrency, keep-alive, cancel, timeout, reply cap, the API down) and
// nginx's loopback listener.
'use strict';

const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { test, diag, assert } = require('./lib');

const program = path.join(process.env.FASTBACK_BUILD || '.', 'tests/unit/notifier_io');

function run(args) {
	return spawnSync(program, args, { encoding: 'utf8', timeout: 60000, env: process.env });
}

const list = run([]);
if (list.status !== 0 || list.error) {
	test('notifier_io lists its cases', () => {
		assert.fail(`${program}: ${list.error || list.stderr}`);
	});
} else {
	for (const name of list.stdout.split('\n').filter(Boolean)) {
		test(name, () => {
			const r = run([name]);
			const out = `${r.stdout || ''}${r.stderr || ''}`.trim();
			if (r.status !== 0 || r.error)
				assert.fail(`exit ${r.status}${r.error ? ` (${r.error})` : ''}\n${out}`);
			else if (/Sanitizer|runtime error/.test(out))
				assert.fail(out);
			else if (out.includes('# '))
				diag(out);
		});
	}
}
