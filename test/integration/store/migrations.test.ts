import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MIGRATIONS } from '../../../src/store/migrations/index.ts';
import { freshPostgresDatabase, onPostgres } from '../../support/harness.ts';
import { runCli } from '../../support/processes.ts';

describe('migrations under a lock', () => {
  test('two processes migrating one empty PostgreSQL at once both succeed and apply each migration once', { skip: onPostgres ? false : 'needs PostgreSQL (the PostgreSQL tier runs it); PGlite is single-process by design' }, async () => {
    const pg = await freshPostgresDatabase();
    try {
      const env = { DATABASE_URL: pg.url };
      const [a, b, c] = await Promise.all([runCli(['migrate', '--json'], env), runCli(['migrate', '--json'], env), runCli(['migrate', '--json'], env)]);
      for (const r of [a, b, c]) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).schemaVersion, MIGRATIONS.at(-1)!.version);
      }
    } finally {
      await pg.drop();
    }
  });
});
