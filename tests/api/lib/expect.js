// expect.js -- assertions for HTTP answers, on top of node:assert.  Each
// failure message carries the answer's status and body, so a "not ok" in the
// TAP output says what the server said.
'use strict';

const assert = require('node:assert/strict');

function show(res) {
	const body = res.text.length > 800 ? res.text.slice(0, 800) + '...' : res.text;
	return `HTTP ${res.status} ${res.headers.get('content-type') || ''}\n${body}`;
}

// The answer has this status and a JSON body; returns the body.
function expectJson(res, status) {
	if (status !== undefined && res.status !== status)
		assert.fail(`expected HTTP ${status}, got:\n${show(res)}`);
	const type = res.headers.get('content-type') || '';
	if (!type.startsWith('application/json'))
		assert.fail(`expected a JSON answer, got:\n${show(res)}`);
	if (res.json === undefined)
		assert.fail(`the body is not valid JSON:\n${show(res)}`);
	return res.json;
}

// The answer is an error in fastback's own envelope:
// {"message": "...", "error": code}; code may be omitted.
function expectError(res, status, code) {
	const body = expectJson(res, status);
	if (typeof body.message !== 'string' || body.message === '')
		assert.fail(`no "message" in the error body:\n${show(res)}`);
	if (code !== undefined && body.error !== code)
		assert.fail(`expected error "${code}":\n${show(res)}`);
	return body;
}

// obj has every one of keys (and they are not undefined).
function expectKeys(obj, keys) {
	const missing = keys.filter((k) => obj === null || typeof obj !== 'object' || obj[k] === undefined);
	if (missing.length > 0)
		assert.fail(`missing ${missing.join(', ')} in ${JSON.stringify(obj)}`);
}

module.exports = { assert, expectJson, expectError, expectKeys, show };
