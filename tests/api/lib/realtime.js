// realtime.js -- the real clients the notifier tests drive, each recording
// what it receives so a test awaits an event instead of sleeping:
//
//   openSio(options)      socket.io-client 4 (node), through nginx
//   open003(conv, email, token, options)
//                         the `ws` package on 003's plain WebSocket
//   openPython()          tests/realtime/sioclient.py (python-socketio)
//   notifier.*            the notifier process: its pid, whether it still
//                         answers, and a second notifier of a test's own
//
// Every client lands in one list that closeAll() ends (after() hooks).
// Waits are bounded (generous timeouts) and never blind sleeps.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const { io } = require('socket.io-client');
const WebSocket = require('ws');
const { stack } = require('./stack');
const { api, until } = require('./http');

const WAIT_MS = 10000;
const open = new Set();

// A promise that resolves to value after ms, or rejects with reject (an
// Error) then; its timer never keeps node alive.
function later(ms, value, reject) {
	return new Promise((res, rej) => setTimeout(() => (reject ? rej(reject) : res(value)), ms).unref());
}

// ------------------------------------------------------------ inbox

// What a client received, in order.  take() hands out each item once, so
// two awaits of the same event get two different items; seen() looks at
// everything, taken or not.
class Inbox {
	constructor(name) {
		this.name = name;
		this.items = [];
		this.waiters = [];
	}

	push(item) {
		item.at = Date.now();
		this.items.push(item);
		for (const w of [...this.waiters])
			w();
	}

	find(pred) {
		return this.items.find((i) => !i.taken && pred(i));
	}

	seen(pred = () => true) {
		return this.items.filter(pred);
	}

	// The first item not taken yet that matches, waiting up to timeout ms.
	take(pred, what, timeout = WAIT_MS) {
		return new Promise((resolve, reject) => {
			const check = () => {
				const item = this.find(pred);
				if (!item)
					return false;
				item.taken = true;
				done();
				resolve(item);
				return true;
			};
			let timer;
			const done = () => {
				clearTimeout(timer);
				this.waiters = this.waiters.filter((w) => w !== check);
			};
			if (check())
				return;
			this.waiters.push(check);
			timer = setTimeout(() => {
				done();
				const got = this.items.slice(-8).map((i) => {
					const text = JSON.stringify(i.event !== undefined ? [i.event, ...(i.args || [])] : i.frame ?? i);
					return text.length > 300 ? text.slice(0, 300) + '...' : text;
				}).join('\n  ');
				reject(new Error(`${this.name}: no ${what} within ${timeout} ms; last received:\n  ${got}`));
			}, timeout);
		});
	}
}

// ------------------------------------------------------------ Socket.IO

// A socket.io-client socket through nginx (or options.url), recorded.
// options: token + via ("auth" default, "query", "header", or "none"),
// transports, auth, query, extraHeaders, and any other io() option.
// Resolves once connected; rejects with the connect_error otherwise (use
// refusedSio() to expect that).  Reconnection is off unless asked for.
async function openSio(options = {}) {
	const c = sioClient(options);
	await c.connected;
	return c;
}

function sioClient(options = {}) {
	const { token, via = 'auth', url = stack.url, name = 'socket', ...rest } = options;
	const opts = { reconnection: false, timeout: 15000, forceNew: true, ...rest };
	opts.auth = { ...(options.auth || {}) };
	opts.query = { ...(options.query || {}) };
	opts.extraHeaders = { ...(options.extraHeaders || {}) };
	if (token !== undefined) {
		if (via === 'auth')
			opts.auth.token = token;
		else if (via === 'query')
			opts.query.token = token;
		else if (via === 'header')
			opts.extraHeaders.Authorization = `Bearer ${token}`;
	}
	const socket = io(url, opts);
	const inbox = new Inbox(name);
	socket.onAny((event, ...args) => inbox.push({ event, args }));
	for (const event of ['connect', 'disconnect', 'connect_error'])
		socket.on(event, (...args) => inbox.push({ event: `#${event}`, args }));
	const c = {
		socket, inbox, name,
		// The next `event` whose first argument matches pred.
		next(event, pred = () => true, timeout = WAIT_MS) {
			return inbox.take((i) => i.event === event && pred(i.args[0], i.args), `"${event}"`, timeout)
			    .then((i) => i.args[0]);
		},
		// Every `event` received so far (taken or not): first arguments.
		all(event) {
			return inbox.seen((i) => i.event === event).map((i) => i.args[0]);
		},
		emit(event, ...args) {
			socket.emit(event, ...args);
		},
		// Emit and resolve to the acknowledgement's arguments (all of
		// them, as an array).
		ack(event, data, timeout = WAIT_MS) {
			const args = data === undefined ? [] : [data];
			return new Promise((resolve, reject) => {
				socket.timeout(timeout).emit(event, ...args, (err, ...got) => {
					if (err)
						reject(new Error(`${name}: no acknowledgement of "${event}" within ${timeout} ms`));
					else
						resolve(got);
				});
			});
		},
		disconnected(timeout = WAIT_MS) {
			if (!socket.connected && inbox.seen((i) => i.event === '#disconnect').length > 0)
				return Promise.resolve(inbox.seen((i) => i.event === '#disconnect').pop().args[0]);
			return inbox.take((i) => i.event === '#disconnect', 'disconnect', timeout).then((i) => i.args[0]);
		},
		close() {
			socket.disconnect();
			open.delete(c);
		},
	};
	c.connected = new Promise((resolve, reject) => {
		socket.once('connect', () => resolve(c));
		socket.once('connect_error', (err) => reject(Object.assign(
		    new Error(`${name}: connect_error: ${err.message} ${JSON.stringify(err.data ?? null)}`),
		    { connectError: err })));
	});
	c.connected.catch(() => {});
	open.add(c);
	return c;
}

// The connect_error of a socket the notifier must refuse: resolves to
// { message, data } (data is what CONNECT_ERROR carried, if anything).
// Fails when the socket connects.
async function refusedSio(options = {}, timeout = WAIT_MS) {
	const c = sioClient(options);
	try {
		await Promise.race([c.connected, later(timeout, null, new Error('timeout'))]);
	} catch (err) {
		c.close();
		if (err.connectError)
			return { message: err.connectError.message, data: err.connectError.data };
		// Neither connected nor refused: a hang, which is a failure too.
		throw new Error(`${c.name}: neither connected nor refused within ${timeout} ms`);
	}
	c.close();
	throw new Error(`${c.name}: connected, but should have been refused`);
}

// Whether the websocket transport is in use (after the upgrade, if any).
function transportOf(c) {
	return c.socket.io.engine && c.socket.io.engine.transport ? c.socket.io.engine.transport.name : null;
}

// Wait for a default-options client to finish its upgrade to websocket.
function upgraded(c, timeout = WAIT_MS) {
	return until(`${c.name} upgraded to websocket`, () => transportOf(c) === 'websocket', timeout);
}

// ------------------------------------------------------------ 003

function wsUrl(p) {
	return stack.url.replace(/^http/, 'ws') + p;
}

// 003's WebSocket for conversation conv as email, with ?token= (and
// options.lastEventId, options.query).  Resolves once open; rejects with
// err.status when the handshake was answered with an HTTP status instead.
function open003(conv, email, token, options = {}) {
	const q = new URLSearchParams({ ...(options.query || {}) });
	if (token !== undefined && token !== null)
		q.set('token', token);
	if (options.lastEventId !== undefined)
		q.set('last_event_id', String(options.lastEventId));
	const qs = q.toString();
	const url = wsUrl(`/api/user/send_message_ws/${encodeURIComponent(conv)}/${encodeURIComponent(email)}${qs ? '?' + qs : ''}`);
	const ws = new WebSocket(url, { handshakeTimeout: 15000, ...(options.ws || {}) });
	const inbox = new Inbox(options.name || `ws003 ${email}`);
	const c = {
		ws, inbox, url,
		send(obj) {
			ws.send(typeof obj === 'string' || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj));
		},
		// The next JSON frame that matches pred.
		next(pred = () => true, what = 'frame', timeout = WAIT_MS) {
			return inbox.take((i) => i.frame !== undefined && pred(i.frame), what, timeout).then((i) => i.frame);
		},
		frames(pred = () => true) {
			return inbox.seen((i) => i.frame !== undefined && pred(i.frame)).map((i) => i.frame);
		},
		close() {
			open.delete(c);
			if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
				ws.terminate();
		},
	};
	c.closed = new Promise((resolve) => ws.once('close', (code, reason) => {
		inbox.push({ closed: { code, reason: reason.toString() } });
		resolve({ code, reason: reason.toString() });
	}));
	ws.on('message', (data, isBinary) => {
		let frame;
		try {
			frame = JSON.parse(data.toString());
		} catch {
			frame = { unparsed: data.toString(), binary: isBinary };
		}
		inbox.push({ frame });
	});
	open.add(c);
	return new Promise((resolve, reject) => {
		ws.once('open', () => resolve(c));
		ws.once('unexpected-response', (req, res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => {
				open.delete(c);
				reject(Object.assign(new Error(`003 handshake answered ${res.statusCode}: ${body}`),
				    { status: res.statusCode, body }));
			});
			req.destroy();
		});
		ws.once('error', (err) => {
			open.delete(c);
			reject(err);
		});
	});
}

// A 003 connection the notifier must refuse: either the handshake is
// answered with an HTTP error, or the socket is closed soon after opening
// (an error frame first is fine).  Resolves to what happened.
async function refused003(conv, email, token, options = {}, timeout = WAIT_MS) {
	let c;
	try {
		c = await open003(conv, email, token, options);
	} catch (err) {
		if (err.status)
			return { status: err.status, body: err.body };
		throw err;
	}
	const closed = await Promise.race([c.closed, later(timeout, null)]);
	const frames = c.frames();
	c.close();
	if (!closed)
		throw new Error(`003 socket as ${email} stayed open; frames: ${JSON.stringify(frames)}`);
	return { closed, frames };
}

// ------------------------------------------------------------ python

const PYTHON = process.env.FASTBACK_PYTHON || '/usr/bin/python3';
const DRIVER = path.join(__dirname, '..', '..', 'realtime', 'sioclient.py');

// tests/realtime/sioclient.py as a child process: send(cmd) writes one
// command, next(type, pred) awaits one reported line.
function openPython(name = 'python') {
	const child = spawn(PYTHON, [DRIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
	const inbox = new Inbox(name);
	let stderr = '';
	let ids = 0;
	child.stderr.on('data', (d) => { stderr += d; });
	readline.createInterface({ input: child.stdout }).on('line', (line) => {
		let item;
		try {
			item = JSON.parse(line);
		} catch {
			item = { type: 'garbage', line };
		}
		inbox.push(item);
	});
	const exited = new Promise((resolve) => child.once('exit', (code) => {
		inbox.push({ type: 'exited', code });
		resolve(code);
	}));
	const p = {
		child, inbox, name,
		get stderr() { return stderr; },
		send(cmd) {
			child.stdin.write(JSON.stringify(cmd) + '\n');
		},
		next(type, pred = () => true, timeout = WAIT_MS) {
			return inbox.take((i) => i.type === type && pred(i), `"${type}"`, timeout)
			    .catch((err) => { throw new Error(`${err.message}\npython stderr:\n${stderr.slice(-2000)}`); });
		},
		// The next event `event`: its first argument.
		event(event, pred = () => true, timeout = WAIT_MS) {
			return p.next('event', (i) => i.event === event && pred(i.args[0], i.args), timeout)
			    .then((i) => i.args[0]);
		},
		events(event) {
			return inbox.seen((i) => i.type === 'event' && i.event === event).map((i) => i.args[0]);
		},
		// Connect; resolves to the connect line, rejects on a failure.
		async connect(cmd) {
			p.send({ op: 'connect', url: stack.url, ...cmd });
			const r = await inbox.take((i) => i.type === 'connect' || i.type === 'connect_failed',
			    'connect', 30000).catch((err) => {
				throw new Error(`${err.message}\npython stderr:\n${stderr.slice(-2000)}`);
			});
			if (r.type !== 'connect')
				throw Object.assign(new Error(`${name}: connect failed: ${r.message}`), { failed: r });
			return r;
		},
		async ack(event, data, timeout = WAIT_MS) {
			const id = ++ids;
			const cmd = { op: 'emit', event, id, ack: true };
			if (data !== undefined)
				cmd.data = data;
			p.send(cmd);
			return (await p.next('ack', (i) => i.id === id, timeout)).args;
		},
		emit(event, data) {
			const cmd = { op: 'emit', event };
			if (data !== undefined)
				cmd.data = data;
			p.send(cmd);
		},
		async close() {
			open.delete(p);
			if (child.exitCode === null) {
				try {
					p.send({ op: 'exit' });
					child.stdin.end();
				} catch {
					// already gone
				}
				const t = setTimeout(() => child.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(t);
			}
		},
	};
	open.add(p);
	return p;
}

// ------------------------------------------------------------ processes

function pidOf(name) {
	try {
		return Number(fs.readFileSync(path.join(stack.var, 'run', `${name}.pid`), 'utf8').trim());
	} catch {
		return undefined;
	}
}

function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

// A free TCP port on loopback.
function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

const notifier = {
	get pid() { return pidOf('fastback-notifier'); },

	// The stack's notifier is still running and serves a new socket:
	// the proof that bad input did not crash it.
	async answers(token) {
		const pid = notifier.pid;
		if (!pid || !alive(pid))
			throw new Error(`fastback-notifier (pid ${pid}) is not running; see ${stack.logDir}/fastback-notifier.log`);
		const c = await openSio({ token, transports: ['websocket'], name: 'liveness probe' });
		await c.next('connected');
		c.close();
		return true;
	},

	// Start another fastback-notifier on the stack's database and
	// config, listening on its own port; resolves to { pid, port, url,
	// stop() }.  Its log goes beside the stack's, so with-stack's
	// sanitizer check reads it too.
	async startAnother(env = {}, label = '2') {
		const bin = path.join(process.env.FASTBACK_BUILD || '', 'fastback-notifier');
		if (!fs.existsSync(bin))
			throw new Error(`no ${bin}: FASTBACK_BUILD must name the build folder`);
		const port = await freePort();
		const stackPort = Number(new URL(stack.url).port);
		const log = fs.openSync(path.join(stack.logDir, `fastback-notifier-${label}.log`), 'a');
		const child = spawn(bin, ['--config', path.join(stack.var, 'config.ini')], {
			env: {
				...process.env,
				FASTBACK_NOTIFIER_LISTEN: `127.0.0.1:${port}`,
				FASTBACK_NOTIFIER_API_URL: `http://127.0.0.1:${stackPort + 1}`,
				...env,
			},
			stdio: ['ignore', log, log],
			detached: true,
		});
		fs.closeSync(log);
		const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
		const url = `http://127.0.0.1:${port}`;
		await until(`the second notifier listening on ${port}`, async () => {
			if (child.exitCode !== null)
				throw new Error(`the second notifier exited with ${child.exitCode}`);
			return new Promise((resolve) => {
				const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
				s.on('error', () => resolve(false));
			});
		}, 20000, 50);
		const other = {
			pid: child.pid, port, url, child, exited,
			async stop() {
				if (child.exitCode !== null || child.signalCode !== null)
					return exited;
				child.kill('SIGTERM');
				const t = setTimeout(() => child.kill('SIGKILL'), 15000);
				const r = await exited;
				clearTimeout(t);
				return r;
			},
		};
		open.add({ close: () => other.stop() });
		return other;
	},
};

// ------------------------------------------------------------ helpers

// Close every client still open (for after()).
async function closeAll() {
	for (const c of [...open]) {
		try {
			await c.close();
		} catch {
			// closing is best effort
		}
	}
	open.clear();
}

// The seq of the newest events row (0 when there is none).
function lastSeq(sql) {
	return Number(sql.value('SELECT COALESCE(MAX(seq), 0) FROM events'));
}

// POST a public message through REST as user; resolves to the body.
async function postPublic(user, content) {
	const res = await api.post('/api/messages', { token: user.token, json: { content } });
	if (res.status !== 201)
		throw new Error(`POST /api/messages answered ${res.status}: ${res.text}`);
	return res.json;
}

module.exports = {
	Inbox, openSio, sioClient, refusedSio, transportOf, upgraded,
	open003, refused003, openPython, notifier, freePort, closeAll, lastSeq,
	postPublic, alive, pidOf, later, WAIT_MS,
};
