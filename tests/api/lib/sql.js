// sql.js -- read (or arrange) the database of the stack under test with the
// mariadb client, as tests/with-stack's FASTBACK_SQL names it.
'use strict';

const { execSync } = require('node:child_process');

// A value as a SQL literal.
function quote(value) {
	if (value === null || value === undefined)
		return 'NULL';
	if (typeof value === 'number' || typeof value === 'bigint')
		return String(value);
	if (typeof value === 'boolean')
		return value ? '1' : '0';
	return "'" + String(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")
	    .replace(/\0/g, '\\0') + "'";
}

// Undo the escapes of mariadb's batch output.
function unescape(field) {
	if (field === 'NULL')
		return null;
	return field.replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', 0: '\0', '\\': '\\' }[c] ?? c));
}

// sql(query, params) runs one or more statements and returns the rows of the
// last result as arrays of strings (NULL as null).  Each "?" in the query is
// replaced by the next param as a quoted literal; write values that way,
// never by pasting them into the text.
function sql(query, params = []) {
	let i = 0;
	const text = query.replace(/\?/g, () => {
		if (i >= params.length)
			throw new Error(`sql: more "?" than params in: ${query}`);
		return quote(params[i++]);
	});
	if (i !== params.length)
		throw new Error(`sql: ${params.length} params for ${i} "?" in: ${query}`);
	const command = process.env.FASTBACK_SQL;
	if (!command)
		throw new Error('FASTBACK_SQL is not set: run this file through tests/with-stack');
	const out = execSync(`${command} --batch --skip-column-names`, {
		input: text,
		encoding: 'utf8',
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	if (out === '')
		return [];
	// One line per row; a row of one empty string is an empty line.
	return out.replace(/\n$/, '').split('\n')
	    .map((line) => line.split('\t').map(unescape));
}

// The first column of the first row, or undefined when there is no row.
sql.value = (query, params) => {
	const rows = sql(query, params);
	return rows.length > 0 ? rows[0][0] : undefined;
};

// The number of rows a COUNT(*) query found, as a number.
sql.count = (query, params) => Number(sql.value(query, params));

sql.quote = quote;

module.exports = { sql };
