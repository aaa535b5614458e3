import assert from 'node:assert/strict';
import { test } from 'node:test';

test('runs on Node 24 LTS from the node@24 package, not the machine\'s Node 20', () => {
  assert.match(process.version, /^v24\./);
});
