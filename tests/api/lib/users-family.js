// users-family.js -- what the users family's tests share: a fresh user
// with a token, the events of a user's room, and their devices.
'use strict';

const crypto = require('node:crypto');
const { sql } = require('./sql');
const { registerVia, loginVia } = require('./auth-helpers');

// A user registered and logged in through a seed (default 002, which
// takes a username and an e-mail): { username, email, password, id, token }.
async function member(seed = '002') {
	const user = await registerVia(seed);
	return { ...user, token: await loginVia(seed, user) };
}

// The highest events.seq so far (0 when none).
function lastSeq() {
	return Number(sql.value('SELECT COALESCE(MAX(seq), 0) FROM events'));
}

// The events of room user:<id> after seq `since`, oldest first, as
// { event, payload }.
function roomEvents(userId, since = 0) {
	return sql('SELECT event, payload FROM events WHERE room = ? AND seq > ? ORDER BY seq',
	    [`user:${userId}`, since]).map(([event, payload]) => ({ event, payload: JSON.parse(payload) }));
}

// A device id nobody has registered.
function deviceId(tag = 'dev') {
	return `${tag}-${crypto.randomBytes(8).toString('hex')}`;
}

// Register a device for a user straight in the database.
function addDevice(userId, id = deviceId()) {
	sql('INSERT INTO devices (user_id, device_id) VALUES (?, ?)', [userId, id]);
	return id;
}

// The device ids of a user, sorted.
function devicesOf(userId) {
	return sql('SELECT device_id FROM devices WHERE user_id = ? ORDER BY device_id', [userId]).map((r) => r[0]);
}

// The owner of a device id, or undefined.
function deviceOwner(id) {
	const v = sql.value('SELECT user_id FROM devices WHERE device_id = ?', [id]);
	return v === undefined ? undefined : Number(v);
}

module.exports = { member, lastSeq, roomEvents, deviceId, addDevice, devicesOf, deviceOwner };
