// 000-smoke.test.js -- the stack answers through nginx: the liveness probe,
// JSON for unknown paths, the body size limit and the API docs.
'use strict';

const { test, api, assert, expectJson, expectError } = require('./lib');

test('GET /api/ping answers 200 with JSON', async () => {
	const res = await api.get('/api/ping');
	const body = expectJson(res, 200);
	assert.equal(body.status, 'ok');
});

test('an unknown path answers 404 in the JSON error envelope', async () => {
	const res = await api.get('/no/such/path');
	expectError(res, 404, 'not_found');
});

test('a 2 MB body answers 413 in the JSON error envelope', async () => {
	const res = await api.post('/register', {
		body: Buffer.alloc(2 * 1024 * 1024, 'a'),
		headers: { 'Content-Type': 'application/json' },
	});
	expectError(res, 413, 'payload_too_large');
});

test('the API docs are served from the stack itself: Swagger UI, ReDoc and the joined document', async () => {
	const swagger = await api.get('/api/swagger/');
	assert.equal(swagger.status, 200);
	assert.match(swagger.text, /swagger-ui/);
	assert.doesNotMatch(swagger.text, /https?:\/\/(?!127\.)/, 'no asset from another host');
	const redoc = await api.get('/api/redoc/');
	assert.equal(redoc.status, 200);
	assert.match(redoc.text, /redoc/i);
	const doc = expectJson(await api.get('/api/swagger.json'), 200);
	assert.match(doc.openapi, /^3\./);
	for (const path of ['/login', '/api/users/me', '/api/wallets', '/api/accounts/'])
		assert.ok(doc.paths[path], `the document describes ${path}`);
});
