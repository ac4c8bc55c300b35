// 090-openapi.test.js -- the OpenAPI document: common/openapi.yaml and one
// fragment per family (cgi-bin/<family>/openapi.yaml), joined with
// "redocly join" and linted with "redocly lint" under tests/redocly.yaml,
// then held against the route tables in cgi-bin/<family>/main.c: every route
// described, nothing described that is not served, and each operation's
// security, 400 and 401 answers in step with its route's flags.
'use strict';

const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { test, after, assert, diag } = require('./lib');

const SRC = path.resolve(__dirname, '..', '..');
const TESTS = path.join(SRC, 'tests');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fastback-openapi-'));
const joined = path.join(work, 'openapi.json');
let doc;

after(() => fs.rmSync(work, { recursive: true, force: true }));

// Run the tests' own Redocly CLI (never a download), in tests/.
async function redocly(...args) {
	try {
		const { stdout, stderr } = await promisify(execFile)('npx', ['--no-install', 'redocly', ...args], {
			cwd: TESTS,
			env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
			maxBuffer: 64 * 1024 * 1024,
		});
		return { code: 0, stdout, stderr };
	} catch (err) {
		if (typeof err.code !== 'number')
			throw err;
		return { code: err.code, stdout: err.stdout, stderr: err.stderr };
	}
}

// The families: folders of cgi-bin/ with a main.c route table.
function families() {
	const dir = path.join(SRC, 'cgi-bin');
	return fs.readdirSync(dir).filter((f) => fs.existsSync(path.join(dir, f, 'main.c'))).sort();
}

// The routes of a family's main.c: { method, path, public, body }.  Flags are
// ROUTE_* names or the short #defines of the file (PUB, BODY).
function routesOf(family) {
	const text = fs.readFileSync(path.join(SRC, 'cgi-bin', family, 'main.c'), 'utf8')
	    .replace(/\/\*[\s\S]*?\*\//g, ' ');
	const defines = {};
	for (const m of text.matchAll(/^#define\s+(\w+)\s+(\w+)\s*$/gm))
		defines[m[1]] = m[2];
	const routes = [];
	const re = /\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*\w+\s*,\s*([^,{}]+?)\s*,\s*DIALECT_\w+\s*\}/g;
	for (const m of text.matchAll(re)) {
		const flags = m[3].split('|').map((f) => defines[f.trim()] || f.trim());
		routes.push({
			family,
			method: m[1].toLowerCase(),
			path: m[2],
			public: flags.includes('ROUTE_PUBLIC'),
			optional: flags.includes('ROUTE_AUTH_OPTIONAL'),
			body: flags.includes('ROUTE_BODY'),
		});
	}
	return routes;
}

function operations() {
	const ops = [];
	for (const [p, item] of Object.entries(doc.paths || {}))
		for (const method of METHODS)
			if (item[method])
				ops.push({ method, path: p, op: item[method] });
	return ops;
}

// The names of the security schemes an operation takes; [] when public
// (an empty requirement, {}, makes a token optional).
function schemesOf(op) {
	const security = op.security !== undefined ? op.security : doc.security || [];
	return {
		names: [...new Set(security.flatMap((s) => Object.keys(s)))].sort(),
		optional: security.length === 0 || security.some((s) => Object.keys(s).length === 0),
	};
}

test('every family with a route table has its OpenAPI fragment, and common/openapi.yaml heads them', () => {
	assert.ok(fs.existsSync(path.join(SRC, 'common', 'openapi.yaml')));
	const missing = families().filter((f) => !fs.existsSync(path.join(SRC, 'cgi-bin', f, 'openapi.yaml')));
	assert.deepEqual(missing, [], 'families without cgi-bin/<family>/openapi.yaml');
});

test('redocly join merges common/openapi.yaml and every fragment without conflicts', { timeout: 120000 }, async () => {
	const inputs = [path.join(SRC, 'common', 'openapi.yaml'),
		...families().map((f) => path.join(SRC, 'cgi-bin', f, 'openapi.yaml'))];
	const r = await redocly('join', ...inputs, '-o', joined);
	if (r.code !== 0)
		diag(r.stdout + r.stderr);
	assert.equal(r.code, 0, 'redocly join failed');
	doc = JSON.parse(fs.readFileSync(joined, 'utf8'));
	assert.match(doc.openapi, /^3\.1\./);
	assert.equal(doc.info.title, 'fastback', 'the head (info, servers) comes from common/openapi.yaml');
});

test('redocly lint finds no error and no warning in the joined document (tests/redocly.yaml)', { timeout: 120000 }, async () => {
	assert.ok(doc, 'no joined document');
	const r = await redocly('lint', '--config', path.join(TESTS, 'redocly.yaml'), '--format', 'json', joined);
	let report;
	try {
		report = JSON.parse(r.stdout);
	} catch {
		assert.fail(`redocly lint did not answer JSON (exit ${r.code}):\n${r.stdout}${r.stderr}`);
	}
	for (const p of report.problems) {
		const where = (p.location || []).map((l) => l.pointer).join(' ');
		diag(`${p.severity} ${p.ruleId}: ${p.message} at ${where}`);
	}
	assert.deepEqual({ errors: report.totals.errors, warnings: report.totals.warnings }, { errors: 0, warnings: 0 });
	assert.equal(r.code, 0);
});

test('every route of every cgi-bin/<family>/main.c is described with its method and path', () => {
	assert.ok(doc, 'no joined document');
	const missing = families().flatMap(routesOf)
	    .filter((r) => !(doc.paths[r.path] && doc.paths[r.path][r.method]))
	    .map((r) => `${r.family}: ${r.method.toUpperCase()} ${r.path}`);
	assert.deepEqual(missing, [], 'routes missing from the document');
	assert.ok(families().flatMap(routesOf).length >= 21, 'the route tables were not read');
});

test('every operation in the document is served by a route', () => {
	assert.ok(doc, 'no joined document');
	const served = new Set(families().flatMap(routesOf).map((r) => `${r.method} ${r.path}`));
	const phantoms = operations().filter((o) => !served.has(`${o.method} ${o.path}`))
	    .map((o) => `${o.method.toUpperCase()} ${o.path}`);
	assert.deepEqual(phantoms, [], 'described but not routed');
});

test('public routes declare no token, the others bearer and token (both schemes), as the route flags say', () => {
	assert.ok(doc, 'no joined document');
	const wrong = [];
	for (const r of families().flatMap(routesOf)) {
		const op = doc.paths[r.path] && doc.paths[r.path][r.method];
		if (!op)
			continue;
		const { names, optional } = schemesOf(op);
		const name = `${r.method.toUpperCase()} ${r.path}`;
		if (r.public && !optional)
			wrong.push(`${name}: public, but the document demands a token`);
		if (!r.public && optional && !r.optional)
			wrong.push(`${name}: needs a token, but the document makes it optional`);
		if (!r.public && !(names.includes('bearer') && names.includes('token')))
			wrong.push(`${name}: takes both Bearer and Token, the document says ${names.join(', ') || 'none'}`);
	}
	assert.deepEqual(wrong, []);
});

test('every operation with a JSON body documents its 400 and 413, and every one that needs a token its 401', () => {
	assert.ok(doc, 'no joined document');
	const wrong = [];
	for (const r of families().flatMap(routesOf)) {
		const op = doc.paths[r.path] && doc.paths[r.path][r.method];
		if (!op)
			continue;
		const name = `${r.method.toUpperCase()} ${r.path}`;
		const codes = Object.keys(op.responses || {});
		if (r.body && !op.requestBody)
			wrong.push(`${name}: takes a body the document does not describe`);
		if (r.body && !codes.includes('400'))
			wrong.push(`${name}: no 400`);
		if (r.body && !codes.includes('413'))
			wrong.push(`${name}: no 413`);
		if (!r.public && !r.optional && !codes.includes('401'))
			wrong.push(`${name}: no 401`);
	}
	assert.deepEqual(wrong, []);
});

test('every answer of every operation has a JSON body schema', () => {
	assert.ok(doc, 'no joined document');
	const resolve = (x) => (x && x.$ref ? x.$ref.split('/').slice(1).reduce((o, k) => o[k], doc) : x);
	const bare = [];
	for (const { method, path: p, op } of operations()) {
		for (const [code, response] of Object.entries(op.responses || {})) {
			const content = resolve(response).content || {};
			if (!content['application/json'] || !content['application/json'].schema)
				bare.push(`${method.toUpperCase()} ${p} ${code}`);
		}
	}
	assert.deepEqual(bare, [], 'answers without a JSON schema');
});
