// 070-process.test.js -- the process model on a real stack: a killed worker
// is replaced, SIGTERM lets the requests in flight finish, the database
// connection survives a MariaDB restart, the responder runs under
// spawn-fcgi, and a worker's memory stays flat over 2,000 requests.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');

const {
	test, diag, api, sleep, until, stack, assert, expectJson, expectError, newUser, registerAndLogin,
} = require('./lib');

const run = promisify(execFile);

// ---------------------------------------------------------------- processes

// State and parent of a process, or null when there is no such process.
function procStat(pid) {
	let text;
	try {
		text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	} catch {
		return null;
	}
	// The name in parentheses may hold spaces: the fields follow the last ")".
	const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
	return { state: fields[0], ppid: Number(fields[1]) };
}

// A zombie counts as gone: it has exited, only its parent has not looked.
function alive(pid) {
	const st = procStat(pid);
	return st !== null && st.state !== 'Z';
}

// The live children of pid, in pid order: a responder master's workers.
function childrenOf(pid) {
	return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number)
	    .filter((p) => {
		    const st = procStat(p);
		    return st !== null && st.ppid === pid && st.state !== 'Z';
	    })
	    .sort((a, b) => a - b);
}

function cmdline(pid) {
	try {
		return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
	} catch {
		return '';
	}
}

// Resident memory of a process in kB.
function rssKb(pid) {
	const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
	assert.ok(m, `no VmRSS for pid ${pid}`);
	return Number(m[1]);
}

function readPid(file) {
	return Number(fs.readFileSync(file, 'utf8').trim());
}

const runFile = (name) => path.join(stack.var, 'run', name);
const authLog = () => path.join(stack.logDir, 'fastback-auth.log');

// The running fastback-auth master, from the pid file ./dev writes.
function authMaster() {
	const pid = readPid(runFile('fastback-auth.pid'));
	assert.ok(alive(pid) && cmdline(pid).includes('fastback-auth'),
	    `fastback-auth.pid names ${pid}, which is not a running fastback-auth`);
	return pid;
}


// What a log gained since it was size bytes long.
function logSince(file, size) {
	return fs.readFileSync(file).subarray(size).toString('utf8');
}

// Stop fastback-auth (master and workers) with SIGTERM and start it again
// through ./dev, with env added to its environment.  Returns the new master.
async function restartAuth(env = {}) {
	const master = authMaster();
	const pids = [master, ...childrenOf(master)];
	process.kill(master, 'SIGTERM');
	await until('fastback-auth stops', () => pids.every((p) => !alive(p)), 10000);
	await stack.start(env);
	return authMaster();
}

// ---------------------------------------------------------------- 1. respawn

test('SIGKILL to a fastback-auth worker: the master replaces it within 2 s and requests keep answering 200', async () => {
	const master = authMaster();
	const before = childrenOf(master);
	assert.ok(before.length >= 1, `fastback-auth ${master} has no workers`);
	const victim = before[0];
	const logSize = fs.statSync(authLog()).size;

	// One GET /api/ping after another, across the kill and the respawn.
	const answers = [];
	let pinging = true;
	const pinger = (async () => {
		while (pinging) {
			const res = await api.get('/api/ping').catch((err) => ({ status: String(err) }));
			answers.push({ at: Date.now(), status: res.status });
		}
	})();
	await sleep(100);
	process.kill(victim, 'SIGKILL');
	const killedAt = Date.now();
	const after = await until(`a worker replacing ${victim} under master ${master}`, () => {
		const now = childrenOf(master);
		return now.length === before.length && !now.includes(victim) ? now : null;
	}, 2000);
	const replacedAt = Date.now();
	await sleep(200);
	pinging = false;
	await pinger;

	diag(`worker ${victim} replaced after ${replacedAt - killedAt} ms; ` +
	    `${answers.length} pings, ${answers.filter((a) => a.status !== 200).length} failed`);
	const fresh = after.filter((p) => !before.includes(p));
	assert.equal(fresh.length, 1, `one new worker expected: before ${before}, after ${after}`);
	assert.deepEqual(after.filter((p) => before.includes(p)), before.slice(1),
	    'the other workers are the same processes');
	assert.equal(readPid(runFile('fastback-auth.pid')), master, 'the master is the same process');
	assert.ok(alive(master));

	// The request the killed worker held, if it held one, is the only
	// failure; every other answer, during the gap as after it, is a 200.
	const failed = answers.filter((a) => a.status !== 200);
	assert.ok(failed.length <= 1, `more than one failed ping: ${JSON.stringify(failed)}`);
	for (const a of failed)
		assert.equal(a.status, 502, `a ping failed with ${a.status}`);
	assert.ok(answers.filter((a) => a.at > killedAt && a.status === 200).length >= 5,
	    `too few pings answered after the kill: ${answers.length} in all`);
	assert.ok(answers.some((a) => a.at > replacedAt && a.status === 200));
	assert.match(logSince(authLog(), logSize), new RegExp(`worker ${victim} died of signal 9\\b`));
});

// ---------------------------------------------------------------- 2. SIGTERM

test('SIGTERM to the fastback-auth master: every login in flight answers 200, then master and workers exit', { timeout: 60000 }, async () => {
	const user = await registerAndLogin(newUser('term'));
	const master = authMaster();
	const workers = childrenOf(master);
	assert.ok(workers.length >= 1);
	const logSize = fs.statSync(authLog()).size;

	// Three logins per worker, ~0.1 s of argon2id each: while each worker
	// verifies one password, the others wait in the socket's queue.
	const n = 3 * workers.length;
	let settled = 0, termSent = false;
	const logins = Array.from({ length: n }, () => api.post('/login', {
		json: { email: user.email, password: user.password },
		retry429: false,
		timeout: 20000,
	}).finally(() => settled++));
	try {
		await sleep(50);
		const inFlight = n - settled;
		process.kill(master, 'SIGTERM');
		termSent = true;
		const results = await Promise.all(logins);

		assert.ok(inFlight > workers.length,
		    `only ${inFlight} of ${n} logins were in flight at SIGTERM: the test proves little`);
		for (const res of results) {
			const body = expectJson(res, 200);
			assert.equal(typeof body.access_token, 'string');
		}
		const answeredAt = Date.now();
		await until('the master and its workers exit after SIGTERM',
		    () => [master, ...workers].every((p) => !alive(p)), 5000);
		diag(`${inFlight} of ${n} logins in flight at SIGTERM; all answered, and ` +
		    `every process gone ${Date.now() - answeredAt} ms after the last answer`);

		// The logins the queue held were served after the master heard the
		// SIGTERM: its "stopping" line comes before theirs.
		const log = logSince(authLog(), logSize);
		const stop = log.indexOf('stopping: waiting for workers');
		assert.ok(stop >= 0, `no "stopping" line in the log:\n${log}`);
		const served = (log.match(/POST \/login 200 /g) || []).length;
		const servedAfter = (log.slice(stop).match(/POST \/login 200 /g) || []).length;
		assert.equal(served, n, `${n} logins expected in the log:\n${log}`);
		assert.ok(servedAfter >= n - workers.length,
		    `only ${servedAfter} of ${n} logins finished after the SIGTERM:\n${log}`);

		// No responder now: nginx answers 502 itself, in JSON.
		expectError(await api.get('/api/ping'), 502, 'bad_gateway');
	} finally {
		// Whatever failed, the next tests need fastback-auth back.
		await Promise.allSettled(logins);
		if (termSent) {
			await until('the master exits', () => !alive(master), 10000).catch(() => {});
			await stack.start();
		}
	}
	const again = authMaster();
	assert.notEqual(again, master);
	expectJson(await api.get('/api/ping'), 200);
});

// ---------------------------------------------------------------- 3. MariaDB

test('MariaDB restarts: health 503 and ping 200 meanwhile, then a token from before works again on the same workers', { timeout: 90000 }, async () => {
	const user = await registerAndLogin(newUser('dbre'));
	expectJson(await api.get('/protected', { token: user.token }), 200);
	const master = authMaster();
	const workers = childrenOf(master);
	const dbPid = readPid(runFile('mariadb.pid'));
	assert.ok(alive(dbPid) && cmdline(dbPid).includes('mariadbd'), 'mariadbd runs');
	// Enough requests that every worker most likely meets each state.
	const rounds = 3 * workers.length;

	await run('mariadb-admin', ['--no-defaults', '-S', runFile('mariadb.sock'), '-uroot', 'shutdown']);
	try {
		await until('mariadbd exits', () => !alive(dbPid), 30000);
		for (let i = 0; i < rounds; i++) {
			assert.deepEqual(expectJson(await api.get('/api/health'), 503),
			    { status: 'unavailable', database: 'down' });
			assert.deepEqual(expectJson(await api.get('/api/ping'), 200), { status: 'ok' });
			assert.equal(expectJson(await api.get('/protected', { token: user.token }), 503).message,
			    'The database is not reachable; try again shortly');
		}
	} finally {
		// ./dev start runs mariadbd again with its usual command line and
		// leaves the running programs alone.
		await stack.start();
	}
	const newDb = readPid(runFile('mariadb.pid'));
	assert.notEqual(newDb, dbPid);
	assert.ok(alive(newDb));

	for (let i = 0; i < rounds; i++) {
		const body = expectJson(await api.get('/protected', { token: user.token }), 200);
		assert.equal(body.email, user.email);
		const health = expectJson(await api.get('/api/health'), 200);
		assert.equal(health.status, 'ok');
		assert.equal(health.database, 'up');
	}
	assert.equal(authMaster(), master, 'the master was not restarted');
	assert.deepEqual(childrenOf(master), workers, 'the workers were not restarted');
});

// ---------------------------------------------------------------- 4. spawner

// One FastCGI request to a socket through cgi-fcgi: { head, body }.
async function cgiFcgi(socket, uri) {
	const { stdout } = await run('cgi-fcgi', ['-bind', '-connect', socket], {
		env: { PATH: process.env.PATH, REQUEST_METHOD: 'GET', DOCUMENT_URI: uri, REQUEST_URI: uri },
		timeout: 10000,
	});
	const end = stdout.indexOf('\r\n\r\n');
	assert.ok(end > 0, `no head in cgi-fcgi's output:\n${stdout}`);
	return { head: stdout.slice(0, end + 2), body: JSON.parse(stdout.slice(end + 4)) };
}

test('fastback-auth serves the socket spawn-fcgi hands it on fd 0', { timeout: 60000 }, async () => {
	const socket = runFile('spawned-auth.sock');
	const pidFile = runFile('spawned-auth.pid');
	const logFile = path.join(stack.logDir, 'fastback-auth-spawned.log');
	const expected = childrenOf(authMaster()).length;
	const bin = path.join(process.env.FASTBACK_BUILD, 'fastback-auth');
	let pid;

	// spawn-fcgi points the child's stderr at /dev/null; the shell sends it
	// to a log instead, where tests/with-stack looks for sanitizer reports.
	await run('spawn-fcgi', ['-s', socket, '-F', '1', '-P', pidFile, '--',
	    '/bin/sh', '-c', 'exec "$0" "$@" 2>>"$SPAWNED_LOG"',
	    bin, '--config', path.join(stack.var, 'config.ini')], {
		env: { ...process.env, SPAWNED_LOG: logFile },
	});
	try {
		pid = readPid(pidFile);
		assert.ok(cmdline(pid).includes('fastback-auth'), `pid ${pid} is not fastback-auth`);
		await until(`${expected} workers under the spawned master ${pid}`,
		    () => childrenOf(pid).length === expected, 5000);

		const ping = await cgiFcgi(socket, '/api/ping');
		assert.match(ping.head, /^Status: 200 OK\r\n/);
		assert.match(ping.head, /\r\nContent-Type: application\/json\r\n/);
		assert.match(ping.head, /\r\nX-Request-Id: [0-9a-f]{32}\r\n/);
		assert.deepEqual(ping.body, { status: 'ok' });

		const health = await cgiFcgi(socket, '/api/health');
		assert.match(health.head, /^Status: 200 OK\r\n/);
		assert.equal(health.body.status, 'ok');
		assert.equal(health.body.database, 'up');
		assert.equal(typeof health.body.schema_version, 'string');

		const log = fs.readFileSync(logFile, 'utf8');
		assert.match(log, /serving the socket on fd 0/);
		assert.match(log, new RegExp(`started ${expected} workers`));
		assert.match(log, /GET \/api\/ping 200 /);
	} finally {
		if (pid && alive(pid)) {
			const pids = [pid, ...childrenOf(pid)];
			process.kill(pid, 'SIGTERM');
			await until('the spawned responder exits after SIGTERM',
			    () => pids.every((p) => !alive(p)), 10000);
		}
		fs.rmSync(socket, { force: true });
		fs.rmSync(pidFile, { force: true });
	}
});

// ---------------------------------------------------------------- 5. memory

test('a fastback-auth worker grows by less than 1 MB over 2,000 GET /protected', { timeout: 60000 }, async () => {
	// AddressSanitizer keeps freed memory in a quarantine (256 MB), which
	// shows as growth on every request: measure with the quarantine off.
	const master = await restartAuth({
		ASAN_OPTIONS: `${process.env.ASAN_OPTIONS || ''}:quarantine_size_mb=0`,
	});
	try {
		const user = await registerAndLogin(newUser('mem'));
		const workers = childrenOf(master);
		const get = async (count) => {
			let next = 0;
			// Four clients at a time, so that every worker takes its share.
			await Promise.all(Array.from({ length: 4 }, async () => {
				while (next++ < count) {
					const res = await api.get('/protected', { token: user.token });
					if (res.status !== 200)
						expectJson(res, 200);
				}
			}));
		};
		// The first requests fill the allocator's caches (AddressSanitizer's
		// take a thousand or so to settle), the connection's buffers and the
		// prepared statements: not growth.
		await get(2000);
		const logSize = fs.statSync(authLog()).size;
		const before = workers.map(rssKb);
		await get(2000);
		const after = workers.map(rssKb);

		assert.deepEqual(childrenOf(master), workers, 'no worker was replaced meanwhile');
		const log = logSince(authLog(), logSize);
		const report = workers.map((p, i) => {
			const served = log.split('\n').filter((l) => l.startsWith(`fastback-auth[${p}]:`) &&
			    l.includes('GET /protected 200')).length;
			return `worker ${p}: ${served} requests, ${before[i]} kB -> ${after[i]} kB`;
		}).join('\n');
		diag(report);
		for (let i = 0; i < workers.length; i++)
			assert.ok(after[i] - before[i] < 1024, `a worker grew by 1 MB or more:\n${report}`);
	} finally {
		// Back to the stack's own settings for whatever runs next.
		await restartAuth();
	}
});
