// http.js -- requests to the stack under test, through nginx.
'use strict';

const { stack } = require('./stack');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// api(method, path, options) sends one request and resolves to
// { status, headers, json, text }; json is undefined when the body is not
// JSON.  Options:
//   json         a value sent as the JSON body (Content-Type set)
//   body         a raw body (string or Buffer), sent as is
//   headers      extra request headers
//   token        adds "Authorization: <tokenScheme> <token>"
//   tokenScheme  "Bearer" (default) or "Token" (004)
//   retry429     false to see nginx's 429 instead of waiting it out
//   timeout      ms (default 15000)
//
// The tests all come from 127.0.0.1, so nginx's per-address rate limit on
// the login routes would trip over a busy test file: a 429 from nginx is
// waited out and retried unless retry429 is false.
async function api(method, path, options = {}) {
	const headers = { ...(options.headers || {}) };
	let body = options.body;
	if ('json' in options) {
		body = JSON.stringify(options.json);
		if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
			headers['Content-Type'] = 'application/json';
	}
	if (options.token !== undefined && options.token !== null)
		headers.Authorization = `${options.tokenScheme || 'Bearer'} ${options.token}`;

	for (let attempt = 0; ; attempt++) {
		const res = await fetch(stack.url + path, {
			method,
			headers,
			body,
			redirect: 'manual',
			signal: AbortSignal.timeout(options.timeout || 15000),
		});
		const text = await res.text();
		let json;
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}
		const result = { status: res.status, headers: res.headers, json, text };
		const limited = res.status === 429 && json && json.error === 'too_many_requests';
		if (!limited || options.retry429 === false || attempt >= 50)
			return result;
		await sleep(200);
	}
}

for (const method of ['get', 'post', 'put', 'patch', 'delete'])
	api[method] = (path, options) => api(method.toUpperCase(), path, options);

// Poll check() every `every` ms until it returns something truthy, which
// is the result; fail after timeout ms.  A bounded wait, never a blind sleep.
async function until(what, check, timeout = 10000, every = 20) {
	const deadline = Date.now() + timeout;
	for (;;) {
		const value = await check();
		if (value)
			return value;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
		await sleep(every);
	}
}

module.exports = { api, sleep, until };
