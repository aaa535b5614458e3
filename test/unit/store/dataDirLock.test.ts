import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataDirectoryLockedError } from '../../../src/domain/errors.ts';
import { lockDataDir } from '../../../src/store/dataDirLock.ts';

const root = mkdtempSync(join(tmpdir(), 'gatehouse-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = () => join(root, String(++n));

test('the embedded data directory is held exclusively; a second holder is refused naming the first', () => {
  const d = dir();
  const first = lockDataDir(d, 'gatehouse serve');
  assert.throws(() => lockDataDir(d, 'gatehouse user list'), (e: unknown) =>
    e instanceof DataDirectoryLockedError && /in use by gatehouse serve \(pid \d+ on /.test(e.message));
  first.release();
  assert.equal(existsSync(join(d, 'gatehouse.lock')), false);
  lockDataDir(d, 'again').release();
});

test('a lock left by a process that no longer runs is taken over', () => {
  const d = dir();
  lockDataDir(d, 'x').release();
  writeFileSync(join(d, 'gatehouse.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), purpose: 'crashed', since: 'then' }));
  const l = lockDataDir(d, 'survivor');
  assert.equal(JSON.parse(readFileSync(join(d, 'gatehouse.lock'), 'utf8')).purpose, 'survivor');
  l.release();
});

test('an unreadable lock file is being written (refused) until it is old (taken over)', () => {
  const d = dir();
  lockDataDir(d, 'x').release();
  const path = join(d, 'gatehouse.lock');
  writeFileSync(path, '');
  assert.throws(() => lockDataDir(d, 'racer'), DataDirectoryLockedError);
  const old = new Date(Date.now() - 60_000);
  utimesSync(path, old, old);
  lockDataDir(d, 'later').release();
});
