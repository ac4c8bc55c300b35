// 000-smoke.test.js -- the stack answers through nginx: the liveness probe,
// JSON for unknown paths, and the body size limit.
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
