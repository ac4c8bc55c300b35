// 080-dispatcher.test.js -- fastback-dispatcher for real: mail rows queued
// in deliveries (directly, or by forgot-password) go to the outbox folder or
// to an SMTP server on loopback that this file starts and whose answers it
// picks per recipient.  Each test checks the deliveries row, its
// delivery_attempts rows and what the server received: success, transient
// and permanent refusals, refused connections, header injection, bad
// payloads, backoff, two dispatchers at once, lease takeover and the
// operator's retry_delivery().
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const { SMTPServer } = require('smtp-server');

const {
	test, after, diag, api, sql, sleep, until, stack, assert, expectJson, newUser, parseMail, otpFrom,
} = require('./lib');

const SCRUBBED = '(removed after delivery)';
const BACKOFF_MS = 200;
const MAX_ATTEMPTS = 3;
const POLL_MS = 50;

// ---------------------------------------------------------------- database

// A recipient no other test uses.
function rcpt(tag) {
	return `${tag}-${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}@example.com`;
}

// Queue a row of deliveries as a responder would; payload is a value (sent
// as JSON) or raw JSON text; columns sets more columns, each to a value or
// to { sql: an expression }.  Returns the row's id.
function queue(target, payload, columns = {}) {
	const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
	const names = ['channel', 'target', 'payload', ...Object.keys(columns)];
	const marks = ['\'mail\'', '?', '?', ...Object.values(columns).map((v) => v.sql || '?')];
	const params = [target, text, ...Object.values(columns).filter((v) => !v.sql)];
	return sql(`INSERT INTO deliveries (${names.join(', ')}) VALUES (${marks.join(', ')});
	    SELECT LAST_INSERT_ID()`, params)[0][0];
}

function queueMail(to, subject = 'Hello from the dispatcher test', text = 'Hello.\n') {
	return queue(to, { to, subject, text });
}

const ROW = ['state', 'attempts', 'last_status', 'last_error', 'finished_at', 'locked_until',
	'locked_by', 'payload', 'next_attempt_at', 'target'];

function row(id) {
	const rows = sql(`SELECT ${ROW.join(', ')} FROM deliveries WHERE id = ?`, [id]);
	assert.equal(rows.length, 1, `no deliveries row ${id}`);
	return Object.fromEntries(ROW.map((k, i) => [k, rows[0][i]]));
}

// The attempt rows of a delivery, in order.
function attempts(id) {
	return sql(`SELECT attempt, outcome, status_code, error, duration_ms, started_at
	    FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt, id`, [id])
	    .map(([attempt, outcome, status, error, duration, started]) => ({
		attempt: Number(attempt),
		outcome,
		status: status === null ? null : Number(status),
		error,
		duration: Number(duration),
		started: micros(started),
	    }));
}

// A DATETIME(6) in UTC as microseconds since the epoch.
function micros(text) {
	const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/.exec(text);
	assert.ok(m, `not a DATETIME(6): ${text}`);
	return Date.parse(`${m[1]}T${m[2]}Z`) * 1000 + Number((m[3] || '').padEnd(6, '0'));
}


// Wait until delivery id reaches one of the final states; resolves to its
// row.
async function settled(id, timeout = 10000) {
	let last;
	try {
		return await until(`delivery ${id} to finish`, () => {
			last = row(id);
			return ['delivered', 'failed', 'cancelled'].includes(last.state) ? last : null;
		}, timeout);
	} catch (err) {
		err.message += `\nrow: ${JSON.stringify(last)}\nattempts: ${JSON.stringify(attempts(id))}`;
		throw err;
	}
}

// The attempts of a delivery as "number:outcome", e.g. ['1:retry', '2:failed'].
function outcomes(id) {
	return attempts(id).map((a) => `${a.attempt}:${a.outcome}`);
}

// ---------------------------------------------------------------- logs

// The dispatcher's "delivery id=N ..." lines for id in a log file, as
// { attempt, outcome, status, retryIn }.
function logged(file, id) {
	let text = '';
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch {
		return [];
	}
	const re = new RegExp(`delivery id=${id} channel=mail attempt=(\\d+) outcome=(\\w+) ` +
	    'status=(\\d+) duration_ms=\\d+(?: retry_in_ms=(\\d+))?', 'g');
	return [...text.matchAll(re)].map((m) => ({
		attempt: Number(m[1]),
		outcome: m[2],
		status: Number(m[3]),
		retryIn: m[4] === undefined ? null : Number(m[4]),
	}));
}

const stackLog = () => path.join(stack.logDir, 'fastback-dispatcher.log');

// ---------------------------------------------------------------- SMTP sink

// An SMTP server on loopback whose answers the tests choose per recipient:
// rules maps an address to { at: 'rcpt' or 'data', code, times }, refusing
// its first `times` tries with `code` at RCPT TO or at the end of DATA.
// Everything it accepted is in messages; every RCPT TO in rcpts; mailFroms
// counts the tries that reached it at all.
const sink = {
	port: 0,
	server: null,
	sockets: new Set(),
	messages: [],
	rcpts: [],
	mailFroms: 0,
	tries: new Map(),
	rules: new Map(),
	dataDelay: 0,

	get url() { return `smtp://127.0.0.1:${this.port}`; },

	// The refusal for this try of `to` at stage `at`, or null.
	refusal(to, at) {
		const rule = this.rules.get(to);
		if (!rule || rule.at !== at || (this.tries.get(to) || 0) > rule.times)
			return null;
		const err = new Error(rule.code >= 500 ? 'refused by the test' : 'try again later');
		err.responseCode = rule.code;
		return err;
	},

	received(to) {
		return this.messages.filter((m) => m.envelope.rcptTo.some((r) => r.address === to));
	},

	// Listen on port (0: any free one; else the port it had before, which
	// another process may hold for a moment: try again).
	async listen(port = 0) {
		const server = new SMTPServer({
			logger: false,
			authOptional: true,
			disabledCommands: ['STARTTLS', 'AUTH'],
			onMailFrom: (address, session, callback) => {
				this.mailFroms++;
				callback();
			},
			onRcptTo: (address, session, callback) => {
				const to = address.address;
				this.rcpts.push(to);
				this.tries.set(to, (this.tries.get(to) || 0) + 1);
				callback(this.refusal(to, 'rcpt'));
			},
			onData: (stream, session, callback) => {
				const chunks = [];
				stream.on('data', (c) => chunks.push(c));
				stream.on('end', () => setTimeout(() => {
					const to = session.envelope.rcptTo[0].address;
					const err = this.refusal(to, 'data');
					if (!err) {
						const mail = parseMail(Buffer.concat(chunks).toString('utf8'));
						mail.envelope = JSON.parse(JSON.stringify(session.envelope));
						this.messages.push(mail);
					}
					callback(err);
				}, this.dataDelay));
			},
		});
		server.server.on('connection', (socket) => {
			this.sockets.add(socket);
			socket.on('close', () => this.sockets.delete(socket));
		});
		const deadline = Date.now() + 5000;
		for (;;) {
			try {
				await new Promise((resolve, reject) => {
					server.once('error', reject);
					server.listen(port, '127.0.0.1', () => {
						server.removeListener('error', reject);
						resolve();
					});
				});
				break;
			} catch (err) {
				if (err.code !== 'EADDRINUSE' || Date.now() > deadline)
					throw err;
				await sleep(100);
			}
		}
		this.server = server;
		this.port = server.server.address().port;
	},

	// Stop listening and cut the connections libcurl keeps for reuse: the
	// port then refuses connections.
	async close() {
		if (!this.server)
			return;
		const server = this.server;
		this.server = null;
		await new Promise((resolve) => {
			server.close(() => resolve());
			for (const socket of this.sockets)
				socket.destroy();
		});
	},
};

// The settings of every dispatcher of this file once it sends through the
// sink: fast polls, short backoffs, few attempts.
function smtpEnv() {
	return {
		FASTBACK_MAIL_TRANSPORT: 'smtp',
		FASTBACK_MAIL_URL: sink.url,
		FASTBACK_MAIL_STARTTLS: 'no',
		FASTBACK_MAIL_TIMEOUT: '5',
		FASTBACK_DISPATCHER_POLL_MS: String(POLL_MS),
		FASTBACK_DISPATCHER_BACKOFF_MS: String(BACKOFF_MS),
		FASTBACK_DISPATCHER_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
	};
}

// A second fastback-dispatcher beside the stack's (test 8).
let extra = null;

after(async () => {
	if (extra && extra.exitCode === null && extra.signalCode === null)
		extra.kill('SIGKILL');
	await sink.close();
});

// ---------------------------------------------------------------- outbox

// The .eml files in the outbox folder written for delivery id.
function outboxFiles(id) {
	let names = [];
	try {
		names = fs.readdirSync(stack.mailDir);
	} catch {
		names = [];
	}
	return names.filter((n) => n.endsWith(`-${id}.eml`)).map((n) => path.join(stack.mailDir, n));
}

// The value of an RFC 2047 header made of B encoded-words (or plain text).
function decodeWords(value) {
	return value.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=\s*/g,
	    (_, b64) => Buffer.from(b64, 'base64').toString('utf8'));
}

// The headers every message of the dispatcher carries, and its body.
function checkMessage(mail, to, subject, body) {
	const raw = mail.raw;
	assert.equal(raw.replace(/\r\n/g, '').search(/[\r\n]/), -1, 'every line ends in CRLF');
	const date = mail.headers.date;
	assert.match(date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/);
	assert.ok(Math.abs(Date.parse(date) - Date.now()) < 120000, `Date is not now: ${date}`);
	assert.equal(mail.headers.from, 'fastback@localhost');
	assert.equal(mail.headers.to, to);
	assert.equal(decodeWords(mail.headers.subject), subject);
	assert.match(mail.headers['message-id'], /^<[0-9a-f]{32}@localhost>$/);
	assert.equal(mail.headers['mime-version'], '1.0');
	assert.equal(mail.headers['content-type'], 'text/plain; charset=UTF-8');
	assert.equal(mail.headers['content-transfer-encoding'], '8bit');
	assert.equal(mail.headers['auto-submitted'], 'auto-generated');
	for (const line of raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n'))
		assert.ok(line.length <= 78, `header line longer than 78: ${line}`);
	if (body !== undefined)
		assert.equal(mail.body, body);
}

test('outbox transport: a queued mail becomes one .eml file with its headers and body', async () => {
	const to = rcpt('outbox');
	const subject = 'Grüße: your report ✓';
	const id = queueMail(to, subject, 'Hello,\nline two\r\n\n.\nbye');
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	assert.equal(r.attempts, '1');
	assert.equal(r.last_error, null);
	assert.equal(r.locked_by, null);
	assert.equal(r.locked_until, null);
	assert.ok(r.finished_at);
	const payload = JSON.parse(r.payload);
	assert.deepEqual(payload, { to, subject, text: SCRUBBED });

	const a = attempts(id);
	assert.equal(a.length, 1);
	assert.equal(a[0].attempt, 1);
	assert.equal(a[0].outcome, 'delivered');
	assert.equal(a[0].error, null);

	const files = outboxFiles(id);
	assert.equal(files.length, 1, `one file for delivery ${id}`);
	assert.match(path.basename(files[0]), new RegExp(`^\\d{8}T\\d{6}-${id}\\.eml$`));
	assert.equal(fs.readdirSync(stack.mailDir).filter((n) => n.endsWith('.tmp')).length, 0,
	    'no temporary file is left');
	const mail = parseMail(fs.readFileSync(files[0], 'utf8'));
	checkMessage(mail, to, subject, 'Hello,\r\nline two\r\n\r\n.\r\nbye\r\n');
	assert.match(mail.headers.subject, /^=\?UTF-8\?B\?/, 'a non-ASCII subject is encoded');
});

test('outbox transport: forgot-password\'s mail holds the code, and the delivered row no longer does', async () => {
	const u = newUser('disp');
	expectJson(await api.post('/api/user/signup', { json: { email: u.email, password: u.password } }), 200);
	expectJson(await api.post('/api/user/forgot-password', { json: { email: u.email } }), 200);
	const id = sql.value('SELECT id FROM deliveries WHERE channel = \'mail\' AND target = ?', [u.email]);
	assert.ok(id, 'forgot-password queued no mail');
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	assert.deepEqual(outcomes(id), ['1:delivered']);
	const files = outboxFiles(id);
	assert.equal(files.length, 1);
	const mail = parseMail(fs.readFileSync(files[0], 'utf8'));
	checkMessage(mail, u.email, 'Your password reset code');
	const code = otpFrom(mail);
	assert.equal(JSON.parse(r.payload).text, SCRUBBED);
	assert.equal(r.payload.includes(code), false, 'the code stays in the database');
});

// ---------------------------------------------------------------- SMTP

test('the stack restarts with its dispatcher sending to the SMTP sink, fast and with few attempts', { timeout: 120000 }, async () => {
	await sink.listen();
	await stack.restart(smtpEnv());
	expectJson(await api.get('/api/ping'), 200);
});

test('SMTP: a mail is delivered once, intact, with status 250 and a timed attempt', async () => {
	const to = rcpt('smtp');
	const subject = 'A subject long enough to be folded into several encoded words, sent over SMTP';
	const text = 'First line\n.\n..two dots\n.leading dot\nünïcödé\n';
	const before = Date.now();
	const id = queueMail(to, subject, text);
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	assert.equal(r.attempts, '1');
	assert.equal(r.last_status, '250');
	assert.equal(r.last_error, null);
	assert.equal(r.locked_by, null);
	assert.deepEqual(JSON.parse(r.payload), { to, subject, text: SCRUBBED });

	const a = attempts(id);
	assert.equal(a.length, 1);
	assert.deepEqual([a[0].attempt, a[0].outcome, a[0].status, a[0].error], [1, 'delivered', 250, null]);
	assert.ok(Number.isInteger(a[0].duration) && a[0].duration >= 0 && a[0].duration < 5000,
	    `duration_ms ${a[0].duration}`);
	assert.ok(a[0].started >= (before - 1000) * 1000 && a[0].started <= (Date.now() + 1000) * 1000,
	    'started_at is the time of the try');

	const got = sink.received(to);
	assert.equal(got.length, 1);
	assert.equal(got[0].envelope.mailFrom.address, 'fastback@localhost');
	assert.deepEqual(got[0].envelope.rcptTo.map((x) => x.address), [to]);
	checkMessage(got[0], to, subject, 'First line\r\n.\r\n..two dots\r\n.leading dot\r\nünïcödé\r\n');
});

test('SMTP: 451 at RCPT TO or at the end of DATA retries with a doubling backoff, then fails at max_attempts', async () => {
	const toRcpt = rcpt('busy-rcpt');
	const toData = rcpt('busy-data');
	sink.rules.set(toRcpt, { at: 'rcpt', code: 451, times: Infinity });
	sink.rules.set(toData, { at: 'data', code: 451, times: Infinity });
	const ids = [queueMail(toRcpt), queueMail(toData)];
	for (const id of ids) {
		const r = await settled(id);
		assert.equal(r.state, 'failed');
		assert.equal(r.attempts, String(MAX_ATTEMPTS));
		assert.equal(r.last_status, '451');
		assert.ok(r.finished_at, 'finished_at is set');
		assert.equal(r.locked_by, null);
		assert.ok(r.last_error);
		const a = attempts(id);
		assert.deepEqual(a.map((x) => [x.attempt, x.outcome, x.status]),
		    [[1, 'retry', 451], [2, 'retry', 451], [3, 'failed', 451]]);
		assert.ok(a.every((x) => x.error), 'each failed try has its error');
		// The text is kept until the mail is delivered.
		assert.equal(JSON.parse(r.payload).text, 'Hello.\n');

		// The delays the dispatcher chose: BACKOFF_MS, then twice it,
		// each moved by at most 20%.
		const lines = await until(`the log lines of delivery ${id}`, () => {
			const l = logged(stackLog(), id);
			return l.length === MAX_ATTEMPTS ? l : null;
		});
		const delays = lines.filter((l) => l.outcome === 'retry').map((l) => l.retryIn);
		assert.equal(delays.length, 2);
		assert.ok(delays[0] >= BACKOFF_MS * 0.8 && delays[0] <= BACKOFF_MS * 1.2, `first delay ${delays[0]}`);
		assert.ok(delays[1] >= BACKOFF_MS * 1.6 && delays[1] <= BACKOFF_MS * 2.4, `second delay ${delays[1]}`);
		assert.ok(delays[1] > delays[0], 'the delay grows');

		// The tries came no sooner than those delays after the one
		// before ended, and not much later either.
		for (let k = 1; k < a.length; k++) {
			const gap = (a[k].started - a[k - 1].started) / 1000 - a[k - 1].duration;
			assert.ok(gap >= delays[k - 1] - 5, `try ${k + 1} came ${gap} ms after try ${k}, before its ${delays[k - 1]} ms`);
			assert.ok(gap <= delays[k - 1] + 2000, `try ${k + 1} came ${gap} ms after try ${k}`);
		}
		// next_attempt_at still holds the second try's schedule: its
		// end plus the second delay.
		const due = (micros(r.next_attempt_at) - a[1].started) / 1000 - a[1].duration;
		assert.ok(due >= delays[1] - 5 && due <= delays[1] + 1000, `next_attempt_at ${due} ms after try 2`);
		assert.ok(micros(r.next_attempt_at) <= a[2].started + 1000);
	}
	assert.match(row(ids[0]).last_error, /RCPT/);
	assert.equal(sink.received(toRcpt).length + sink.received(toData).length, 0);
	assert.equal(sink.tries.get(toRcpt), MAX_ATTEMPTS);
	assert.equal(sink.tries.get(toData), MAX_ATTEMPTS);
});

test('SMTP: 550 at RCPT TO or 554 at the end of DATA fails after one attempt', async () => {
	const toRcpt = rcpt('no-such-user');
	const toData = rcpt('spam');
	sink.rules.set(toRcpt, { at: 'rcpt', code: 550, times: Infinity });
	sink.rules.set(toData, { at: 'data', code: 554, times: Infinity });
	const ids = [queueMail(toRcpt), queueMail(toData)];
	for (const [id, code] of [[ids[0], 550], [ids[1], 554]]) {
		const r = await settled(id);
		assert.equal(r.state, 'failed');
		assert.equal(r.attempts, '1');
		assert.equal(r.last_status, String(code));
		assert.ok(r.finished_at);
		assert.deepEqual(attempts(id).map((x) => [x.attempt, x.outcome, x.status]), [[1, 'failed', code]]);
	}
	assert.match(row(ids[0]).last_error, /RCPT failed: 550/);
	assert.match(row(ids[1]).last_error, /refused: 554/);
	assert.equal(sink.tries.get(toRcpt), 1);
	assert.equal(sink.tries.get(toData), 1);
});

test('SMTP: a refused connection retries, then fails at max_attempts', async () => {
	const port = sink.port;
	await sink.close();
	try {
		const to = rcpt('closed');
		const id = queueMail(to);
		const r = await settled(id);
		assert.equal(r.state, 'failed');
		assert.equal(r.attempts, String(MAX_ATTEMPTS));
		assert.equal(r.last_status, null);
		assert.match(r.last_error, /connect/i);
		assert.deepEqual(attempts(id).map((x) => [x.attempt, x.outcome, x.status]),
		    [[1, 'retry', null], [2, 'retry', null], [3, 'failed', null]]);
		assert.equal(sink.tries.get(to), undefined);
	} finally {
		await sink.listen(port);
	}
});

test('SMTP: CR or LF in a header field, or a malformed payload, fails at once without a word to the server', async () => {
	const to = rcpt('victim');
	const cases = [
		['subject with CRLF', to, { to, subject: 'Hi\r\nBcc: evil@example.net', text: 'x' }, /CR or LF/],
		['subject with LF', to, { to, subject: 'Hi\nBcc: evil@example.net', text: 'x' }, /CR or LF/],
		['recipient with CRLF', `${to}\r\nBcc: evil@example.net`,
			{ to: `${to}\r\nBcc: evil@example.net`, subject: 'Hi', text: 'x' }, /CR or LF/],
		['recipient with an SMTP command', `${to}>\r\nRCPT TO:<evil@example.net`,
			{ to: `${to}>\r\nRCPT TO:<evil@example.net`, subject: 'Hi', text: 'x' }, /CR or LF/],
		['recipient with a second address', `${to}, evil@example.net`,
			{ to: `${to}, evil@example.net`, subject: 'Hi', text: 'x' }, /not an e-mail address/],
		['not an object', to, JSON.stringify([to, 'Hi', 'x']), /not a JSON object/],
		['a JSON string', to, JSON.stringify(to), /not a JSON object/],
		['no "to"', to, { subject: 'Hi', text: 'x' }, /to is missing/],
		['"to" not a string', to, { to: 42, subject: 'Hi', text: 'x' }, /to is missing or not a string/],
		['no "text"', to, { to, subject: 'Hi' }, /text is missing/],
	];
	const before = sink.mailFroms;
	const ids = cases.map(([, target, payload]) => queue(target, payload));
	for (let i = 0; i < cases.length; i++) {
		const [name, , , error] = cases[i];
		const r = await settled(ids[i]);
		assert.equal(r.state, 'failed', name);
		assert.equal(r.attempts, '1', name);
		assert.equal(r.last_status, null, name);
		assert.match(r.last_error, error, name);
		assert.deepEqual(attempts(ids[i]).map((x) => [x.attempt, x.outcome, x.status]), [[1, 'failed', null]], name);
	}
	assert.equal(sink.mailFroms, before, 'the server was contacted');
	assert.equal(sink.rcpts.some((x) => /evil|victim/.test(x)), false);
	assert.equal(sink.messages.some((m) => /evil|victim/.test(m.raw)), false);
});

test('SMTP: a server that refuses the first two tries and then accepts: delivered at the third', async () => {
	const to = rcpt('later');
	sink.rules.set(to, { at: 'rcpt', code: 451, times: 2 });
	const id = queueMail(to, 'Third time lucky', 'Hello at last.\n');
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	assert.equal(r.attempts, '3');
	assert.equal(r.last_status, '250');
	assert.equal(r.last_error, null);
	assert.equal(JSON.parse(r.payload).text, SCRUBBED);
	assert.deepEqual(attempts(id).map((x) => [x.attempt, x.outcome, x.status]),
	    [[1, 'retry', 451], [2, 'retry', 451], [3, 'delivered', 250]]);
	assert.equal(sink.tries.get(to), 3);
	const got = sink.received(to);
	assert.equal(got.length, 1);
	assert.equal(got[0].body, 'Hello at last.\r\n');
});

test('two dispatchers at once send each of 50 mails exactly once', { timeout: 60000 }, async () => {
	const bin = path.join(process.env.FASTBACK_BUILD, 'fastback-dispatcher');
	const logFile = path.join(stack.logDir, 'fastback-dispatcher-2.log');
	const log = fs.openSync(logFile, 'a');
	const logStart = fs.statSync(stackLog()).size;
	extra = spawn(bin, ['--config', path.join(stack.var, 'config.ini')], {
		env: { ...process.env, ...smtpEnv() },
		stdio: ['ignore', log, log],
	});
	fs.closeSync(log);
	const exited = new Promise((resolve) => extra.once('exit', (code, signal) => resolve({ code, signal })));
	try {
		await until('the second dispatcher to start', () => {
			assert.equal(extra.exitCode, null, `the second dispatcher exited:\n${fs.readFileSync(logFile, 'utf8')}`);
			return fs.readFileSync(logFile, 'utf8').includes(`fastback-dispatcher[${extra.pid}]: info started as`);
		});

		// A slow server keeps transfers in flight, so that both
		// dispatchers claim while the other holds rows.
		sink.dataDelay = 20;
		const tag = `twice-${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
		const tos = Array.from({ length: 50 }, (_, i) => `${tag}-${i}@example.com`);
		const values = tos.map(() => '(\'mail\', ?, ?)').join(', ');
		sql(`INSERT INTO deliveries (channel, target, payload) VALUES ${values}`,
		    tos.flatMap((to) => [to, JSON.stringify({ to, subject: 'One of many', text: `Mail for ${to}\n` })]));
		const ids = sql('SELECT id FROM deliveries WHERE target LIKE ? ORDER BY id', [`${tag}-%`]).map((x) => x[0]);
		assert.equal(ids.length, 50);
		const list = ids.join(',');

		await until('all 50 mails to be delivered', () =>
			sql.count(`SELECT COUNT(*) FROM deliveries WHERE id IN (${list}) AND state IN ('delivered', 'failed')`) === 50,
		30000);
		assert.equal(sql.count(`SELECT COUNT(*) FROM deliveries WHERE id IN (${list})
		    AND state = 'delivered' AND attempts = 1 AND locked_by IS NULL`), 50);
		const tries = sql(`SELECT delivery_id, COUNT(*), SUM(outcome = 'delivered') FROM delivery_attempts
		    WHERE delivery_id IN (${list}) GROUP BY delivery_id`);
		assert.equal(tries.length, 50, 'every row has its attempt');
		assert.deepEqual(tries.filter((t) => t[1] !== '1' || t[2] !== '1'), [], 'one delivered attempt per row');
		for (const to of tos) {
			assert.equal(sink.received(to).length, 1, `mails to ${to}`);
			assert.equal(sink.rcpts.filter((x) => x === to).length, 1, `tries of ${to}`);
		}

		// Both took part: each logged some of the deliveries.
		const count = (file) => ids.filter((id) => logged(file, id).some((l) => l.outcome === 'delivered')).length;
		const [mine, theirs] = await until('a log line for each delivery', () => {
			const n = [count(stackLog()), count(logFile)];
			return n[0] + n[1] === 50 ? n : null;
		});
		diag(`the stack's dispatcher sent ${mine} mails, the second one ${theirs}`);
		// Their claims never ran into each other (queue.c's reason
		// for READ COMMITTED: no deadlock between two claims).
		for (const [file, from] of [[stackLog(), logStart], [logFile, 0]]) {
			const text = fs.readFileSync(file, 'utf8').slice(from);
			assert.doesNotMatch(text, /claim failed|cannot record| error /, file);
		}
		assert.ok(mine > 0 && theirs > 0, 'one dispatcher sent every mail');
	} finally {
		sink.dataDelay = 0;
		extra.kill('SIGTERM');
		const timer = setTimeout(() => extra.kill('SIGKILL'), 10000);
		const end = await exited;
		clearTimeout(timer);
		assert.deepEqual(end, { code: 0, signal: null }, 'the second dispatcher stops cleanly on SIGTERM');
	}
});

test('a row whose lease ran out is taken over and delivered; one with a live lease is left alone', async () => {
	const toOld = rcpt('orphan');
	const toLive = rcpt('leased');
	const old = queue(toOld, { to: toOld, subject: 'Orphan', text: 'x\n' }, {
		state: 'sending',
		locked_until: { sql: 'UTC_TIMESTAMP(6) - INTERVAL 10 SECOND' },
		locked_by: 'elsewhere:101',
	});
	const live = queue(toLive, { to: toLive, subject: 'Leased', text: 'x\n' }, {
		state: 'sending',
		locked_until: { sql: 'UTC_TIMESTAMP(6) + INTERVAL 1 HOUR' },
		locked_by: 'elsewhere:102',
	});
	// 'sending' with no lease end at all: written by hand, never by a
	// dispatcher; operator_failed_deliveries calls it an expired lease.
	const toBare = rcpt('unleased');
	const bare = queue(toBare, { to: toBare, subject: 'No lease', text: 'x\n' }, {
		state: 'sending',
		locked_by: 'elsewhere:103',
	});
	const liveBefore = row(live);

	for (const [id, to] of [[old, toOld], [bare, toBare]]) {
		const r = await settled(id);
		assert.equal(r.state, 'delivered');
		assert.equal(r.locked_by, null);
		assert.equal(r.locked_until, null);
		assert.deepEqual(outcomes(id), ['1:delivered']);
		assert.equal(sink.received(to).length, 1);
	}

	// The live one: still as it was after a dozen more polls.
	await sleep(POLL_MS * 12);
	assert.deepEqual(row(live), liveBefore);
	assert.deepEqual(attempts(live), []);
	assert.equal(sink.tries.get(toLive), undefined);

	// Once its lease runs out, it is taken over too.
	sql('UPDATE deliveries SET locked_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = ?', [live]);
	const l = await settled(live);
	assert.equal(l.state, 'delivered');
	assert.deepEqual(outcomes(live), ['1:delivered']);
	assert.equal(sink.received(toLive).length, 1);
});

test('retry_delivery(id) puts a failed row back, and it is delivered once the server accepts', async () => {
	const to = rcpt('retried');
	const toBusy = rcpt('still-busy');
	sink.rules.set(to, { at: 'rcpt', code: 550, times: Infinity });
	sink.rules.set(toBusy, { at: 'rcpt', code: 451, times: Infinity });
	const id = queueMail(to, 'Second chance', 'Hello again.\n');
	const busy = queueMail(toBusy);
	const failed = await settled(id);
	assert.equal(failed.state, 'failed');
	assert.deepEqual(outcomes(id), ['1:failed']);

	sink.rules.delete(to);
	// A failed row stays failed by itself.
	await sleep(POLL_MS * 6);
	assert.equal(row(id).state, 'failed');

	sql('CALL retry_delivery(?)', [id]);
	const r = await settled(id);
	assert.equal(r.state, 'delivered');
	assert.equal(r.attempts, '2');
	assert.equal(r.last_status, '250');
	assert.equal(r.last_error, null);
	assert.ok(micros(r.finished_at) > micros(failed.finished_at));
	assert.deepEqual(attempts(id).map((x) => [x.attempt, x.outcome, x.status]),
	    [[1, 'failed', 550], [2, 'delivered', 250]]);
	assert.equal(sink.received(to).length, 1);

	// Only failed rows: a delivered one is left as it is.
	const delivered = row(id);
	sql('CALL retry_delivery(?)', [id]);
	assert.deepEqual(row(id), delivered);

	// A row that had used up its attempts gets exactly one more.
	assert.equal((await settled(busy)).state, 'failed');
	assert.deepEqual(outcomes(busy), ['1:retry', '2:retry', '3:failed']);
	sql('CALL retry_delivery(?)', [busy]);
	const again = await until('the extra try', () => {
		const b = row(busy);
		return b.state === 'failed' && b.attempts === String(MAX_ATTEMPTS + 1) ? b : null;
	});
	assert.equal(again.last_status, '451');
	assert.deepEqual(outcomes(busy), ['1:retry', '2:retry', '3:failed', '4:failed']);
	assert.equal(sink.tries.get(toBusy), MAX_ATTEMPTS + 1);
});
