// notifier.js -- the load generator of the notifier's benchmark
// (tests/bench/notifier.sh), with socket.io-client over WebSocket through
// nginx, the way real clients connect.  One JSON line of results on
// stdout per run.
//
//   node notifier.js hold URL TOKEN N PID SECONDS
//       open N sockets, then measure the notifier's RSS (pid PID) per
//       connection and its CPU while they sit idle for SECONDS
//   node notifier.js broadcast URL TOKEN N K
//       N sockets in the public room; K REST posts one after the other;
//       latency from each POST to the last of the N sockets receiving it
//   node notifier.js busy URL TOKEN N SECONDS C
//       N sockets in the public room; C posters send REST posts as fast
//       as they are answered for SECONDS; messages/s and deliveries/s
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const { io } = require(path.join(__dirname, '..', 'node_modules', 'socket.io-client'));

const [mode, url, token, ...rest] = process.argv.slice(2);

function rssKb(pid) {
	const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
	return m ? Number(m[1]) : 0;
}

// utime + stime of a process, in seconds.
function cpuSeconds(pid) {
	const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return (Number(f[11]) + Number(f[12])) / 100;
}

function pct(sorted, p) {
	if (sorted.length === 0)
		return 0;
	return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Open n sockets, `batch` handshakes at a time; resolves to the sockets
// that connected and the number that failed.
async function openMany(n, batch = 100, onSocket = () => {}) {
	const sockets = [];
	let failed = 0;
	for (let i = 0; i < n; i += batch) {
		const wave = [];
		for (let j = i; j < Math.min(n, i + batch); j++) {
			wave.push(new Promise((resolve) => {
				const s = io(url, {
					transports: ['websocket'], auth: { token }, reconnection: false,
					forceNew: true, timeout: 60000,
				});
				onSocket(s);
				s.once('connect', () => { sockets.push(s); resolve(); });
				s.once('connect_error', () => { failed++; s.close(); resolve(); });
			}));
		}
		await Promise.all(wave);
	}
	return { sockets, failed };
}

// Every socket has joined the public room once a post reaches all of them.
async function joinAll(sockets) {
	for (const s of sockets)
		s.emit('join_public');
	const tag = `joined ${Date.now()}`;
	let left = sockets.length;
	const done = new Promise((resolve) => {
		for (const s of sockets) {
			const on = (m) => {
				if (m && m.content === tag) {
					s.off('new_public_message', on);
					if (--left === 0)
						resolve();
				}
			};
			s.on('new_public_message', on);
		}
	});
	// A join is local to the notifier: wait for the packets to be read.
	await sleep(500);
	await post(tag);
	await Promise.race([done, sleep(30000).then(() => {
		throw new Error(`${left} of ${sockets.length} sockets did not get the join check`);
	})]);
}

async function post(content) {
	const res = await fetch(`${url}/api/messages`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
		body: JSON.stringify({ content }),
	});
	await res.arrayBuffer();
	return res.status;
}

async function hold(n, pid, seconds) {
	const before = rssKb(pid);
	const t0 = performance.now();
	const { sockets, failed } = await openMany(Number(n), 200);
	const openSecs = (performance.now() - t0) / 1000;
	// Let the allocator and the kernel settle before reading.
	await sleep(2000);
	const after = rssKb(pid);
	const c0 = cpuSeconds(pid);
	const w0 = performance.now();
	await sleep(Number(seconds) * 1000);
	const cpu = (cpuSeconds(pid) - c0) / ((performance.now() - w0) / 1000) * 100;
	const still = sockets.filter((s) => s.connected).length;
	for (const s of sockets)
		s.close();
	return {
		mode: 'hold', wanted: Number(n), held: still, failed, open_seconds: openSecs,
		rss_before_kb: before, rss_after_kb: after,
		rss_per_conn_kb: still > 0 ? (after - before) / still : 0, idle_cpu_pct: cpu,
		idle_seconds: Number(seconds),
	};
}

async function broadcast(n, k) {
	const { sockets, failed } = await openMany(Number(n), 100);
	await joinAll(sockets);
	const lat = [];
	let errors = 0;
	for (let i = 0; i < Number(k); i++) {
		const tag = `lat ${i} ${Date.now()}`;
		let left = sockets.length;
		let last = 0;
		const done = new Promise((resolve) => {
			for (const s of sockets) {
				const on = (m) => {
					if (m && m.content === tag) {
						s.off('new_public_message', on);
						last = performance.now();
						if (--left === 0)
							resolve();
					}
				};
				s.on('new_public_message', on);
			}
		});
		// Posting right after the previous delivery would always land
		// just after a poll: a random pause spreads the posts over the
		// poll interval, as independent clients would.
		await sleep(Math.random() * 150);
		const t0 = performance.now();
		if (await post(tag) !== 201)
			errors++;
		const ok = await Promise.race([done.then(() => true), sleep(10000).then(() => false)]);
		if (!ok) {
			errors++;
			for (const s of sockets)
				s.removeAllListeners('new_public_message');
			continue;
		}
		lat.push(last - t0);
	}
	for (const s of sockets)
		s.close();
	lat.sort((a, b) => a - b);
	return {
		mode: 'broadcast', sockets: sockets.length, failed, posts: Number(k), errors,
		p50_ms: pct(lat, 0.5), p99_ms: pct(lat, 0.99), max_ms: lat[lat.length - 1] || 0,
	};
}

async function busy(n, seconds, c) {
	const { sockets, failed } = await openMany(Number(n), 100);
	await joinAll(sockets);
	const sentAt = new Map();	// tag -> time of the POST
	const got = new Map();		// tag -> sockets that received it
	const lat = [];
	let deliveries = 0;
	for (const s of sockets) {
		s.on('new_public_message', (m) => {
			if (!m || !sentAt.has(m.content))
				return;
			deliveries++;
			const k = (got.get(m.content) || 0) + 1;
			got.set(m.content, k);
			if (k === sockets.length)
				lat.push(performance.now() - sentAt.get(m.content));
		});
	}
	let posted = 0;
	let errors = 0;
	const end = performance.now() + Number(seconds) * 1000;
	const t0 = performance.now();
	await Promise.all(Array.from({ length: Number(c) }, async (_, w) => {
		for (let i = 0; performance.now() < end; i++) {
			const tag = `busy ${w} ${i}`;
			sentAt.set(tag, performance.now());
			if (await post(tag) === 201)
				posted++;
			else
				errors++;
		}
	}));
	const postSecs = (performance.now() - t0) / 1000;
	// Drain: wait until every posted message reached every socket, or 15 s.
	const drainEnd = performance.now() + 15000;
	while (lat.length < posted && performance.now() < drainEnd)
		await sleep(50);
	const allSecs = (performance.now() - t0) / 1000;
	for (const s of sockets)
		s.close();
	lat.sort((a, b) => a - b);
	return {
		mode: 'busy', sockets: sockets.length, failed, posters: Number(c), posted, errors,
		fully_delivered: lat.length, messages_per_s: posted / postSecs,
		deliveries_per_s: deliveries / allSecs, p50_ms: pct(lat, 0.5), p99_ms: pct(lat, 0.99),
	};
}

async function main() {
	let r;
	if (mode === 'hold')
		r = await hold(rest[0], rest[1], rest[2] || 30);
	else if (mode === 'broadcast')
		r = await broadcast(rest[0], rest[1] || 100);
	else if (mode === 'busy')
		r = await busy(rest[0], rest[1] || 10, rest[2] || 8);
	else
		throw new Error(`unknown mode ${mode}`);
	process.stdout.write(JSON.stringify(r) + '\n');
	process.exit(0);
}

main().catch((err) => {
	process.stderr.write(`${err.stack || err}\n`);
	process.exit(1);
});
