// mail.js -- the mail fastback sends, read back by tests: from the stack's
// outbox folder (the dev default, one .eml per mail) or from a real SMTP
// server on loopback (the smtp-server package) that a test starts.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { stack } = require('./stack');
const { sleep } = require('./http');

function decode(body, encoding) {
	switch ((encoding || '').toLowerCase()) {
	case 'base64':
		return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
	case 'quoted-printable':
		return Buffer.from(body.replace(/=\r?\n/g, '')
		    .replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
		    'latin1').toString('utf8');
	default:
		return body;
	}
}

// A message as { headers (lower-case names), subject, to, body, raw }.  Only
// single-part mail is decoded; a multipart body is left as it came.
function parseMail(raw) {
	const split = raw.search(/\r?\n\r?\n/);
	const head = split < 0 ? raw : raw.slice(0, split);
	const rest = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
	const headers = {};
	for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
		const i = line.indexOf(':');
		if (i > 0)
			headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
	}
	return {
		headers,
		subject: headers.subject || '',
		to: headers.to || '',
		body: decode(rest, headers['content-transfer-encoding']),
		raw,
	};
}

function addressedTo(mail, to) {
	return mail.to.toLowerCase().includes(to.toLowerCase());
}

// The newest mail in the stack's outbox addressed to `to`, waiting up to
// options.timeout ms (default 10000) for the dispatcher to write it.  Only
// mail written after options.since (a Date or ms) counts.  Resolves to the
// parsed mail plus its file name; rejects when none comes.
async function readMail(to, options = {}) {
	const deadline = Date.now() + (options.timeout || 10000);
	const since = options.since ? Number(options.since) : 0;
	for (;;) {
		let newest;
		let files = [];
		try {
			files = fs.readdirSync(stack.mailDir).filter((f) => f.endsWith('.eml'));
		} catch {
			files = [];
		}
		for (const name of files) {
			const file = path.join(stack.mailDir, name);
			const stat = fs.statSync(file);
			if (stat.mtimeMs < since || (newest && stat.mtimeMs <= newest.mtime))
				continue;
			const mail = parseMail(fs.readFileSync(file, 'utf8'));
			if (addressedTo(mail, to))
				newest = { ...mail, file, mtime: stat.mtimeMs };
		}
		if (newest)
			return newest;
		if (Date.now() > deadline)
			throw new Error(`no mail to ${to} in ${stack.mailDir}`);
		await sleep(100);
	}
}

// The first six-digit number in a mail's subject or body: the OTP.
function otpFrom(mail) {
	const m = /\b(\d{6})\b/.exec(mail.subject + '\n' + mail.body);
	if (!m)
		throw new Error(`no 6-digit code in the mail:\n${mail.raw}`);
	return m[1];
}

// Start an SMTP server on a free loopback port.  Every mail it receives is
// kept in .messages as the parsed mail plus { envelope, auth }.  Options:
// starttls (offer STARTTLS with the package's self-signed certificate).
// Resolves to { port, url, messages, waitFor(to, timeout), close() }.
async function startSmtpSink(options = {}) {
	const { SMTPServer } = require('smtp-server');
	const messages = [];
	const waiters = [];

	// Addressed to `to` in its header or its envelope.
	function matches(mail, to) {
		return addressedTo(mail, to) ||
		    mail.envelope.rcptTo.some((r) => r.address.toLowerCase() === to.toLowerCase());
	}

	function deliver(mail) {
		messages.push(mail);
		for (const w of waiters.filter((x) => matches(mail, x.to))) {
			waiters.splice(waiters.indexOf(w), 1);
			clearTimeout(w.timer);
			w.resolve(mail);
		}
	}

	const server = new SMTPServer({
		logger: false,
		authOptional: true,
		allowInsecureAuth: true,
		disabledCommands: options.starttls ? [] : ['STARTTLS'],
		onAuth(auth, session, callback) {
			callback(null, { user: { username: auth.username, password: auth.password } });
		},
		onData(stream, session, callback) {
			const chunks = [];
			stream.on('data', (c) => chunks.push(c));
			stream.on('end', () => {
				const mail = parseMail(Buffer.concat(chunks).toString('utf8'));
				mail.envelope = session.envelope;
				mail.auth = session.user || null;
				deliver(mail);
				callback();
			});
		},
	});
	// The dispatcher's libcurl keeps its connection for reuse; close() must
	// cut it, or the test's process never exits.
	const sockets = new Set();
	server.server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const port = server.server.address().port;

	return {
		port,
		url: `smtp://127.0.0.1:${port}`,
		messages,
		// The first mail to `to`, already received or still to come.
		waitFor(to, timeout = 10000) {
			const seen = messages.find((m) => matches(m, to));
			if (seen)
				return Promise.resolve(seen);
			return new Promise((resolve, reject) => {
				const w = { to, resolve };
				w.timer = setTimeout(() => {
					waiters.splice(waiters.indexOf(w), 1);
					reject(new Error(`no mail to ${to} reached the SMTP sink`));
				}, timeout);
				waiters.push(w);
			});
		},
		close() {
			return new Promise((resolve) => {
				server.close(() => resolve());
				for (const socket of sockets)
					socket.destroy();
			});
		},
	};
}

module.exports = { readMail, otpFrom, parseMail, startSmtpSink };
