'use strict';
const { test } = require('./lib');
test('placeholder', () => {});
