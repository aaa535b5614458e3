import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { migrate, openDatabase } from '../../../src/store/database.ts';
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

describe('migration 0011: one per-Grant store', () => {
  test('0011: a database at 0010 keeps each Grant\'s sign-in flow in its saved session, and oidc_grant_sign_ins is gone', async () => {
    const pg = onPostgres ? await freshPostgresDatabase() : undefined;
    const database = await openDatabase({ databaseUrl: pg?.url, dataDir: 'memory://', purpose: 'migrations test' });
    try {
      const { db } = database;
      // The schema as released up to 0010, by the runner's own rule (statements split at a `;` ending a line).
      await sql`CREATE TABLE gatehouse_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`.execute(db);
      for (const m of MIGRATIONS.filter((x) => x.version <= 10)) {
        for (const statement of m.sql.split(/;\s*\n/).map((x) => x.trim()).filter(Boolean)) await sql.raw(statement).execute(db);
        await db.insertInto('gatehouse_migrations').values({ version: m.version, name: m.name }).execute();
      }
      const tenant = randomUUID();
      const flow = randomUUID();
      const user = randomUUID();
      const later = new Date(Date.now() + 3600_000);
      await sql`INSERT INTO tenants (id, display_name) VALUES (${tenant}::uuid, 'Contoso')`.execute(db);
      const session = (grantId: string) => JSON.stringify({ grantId, accountId: user, clientId: 'portal', session: { appId: 'portal', performed: [], correlationId: '' } });
      for (const grantId of ['grant-with-flow', 'grant-without']) {
        await sql`INSERT INTO oidc_artefacts (model, id, tenant_id, payload, grant_id, account_id, expires_at)
          VALUES ('GatehouseSignInSession', ${grantId}, ${tenant}::uuid, ${session(grantId)}::jsonb, ${grantId}, ${user}, ${later}::timestamptz)`.execute(db);
      }
      await sql`INSERT INTO oidc_grant_sign_ins (tenant_id, grant_id, flow_id, expires_at) VALUES (${tenant}::uuid, 'grant-with-flow', ${flow}::uuid, ${later}::timestamptz)`.execute(db);

      assert.deepEqual(await migrate(db), MIGRATIONS.filter((x) => x.version > 10).map((x) => x.version));
      const { rows } = await sql<{ t: string | null }>`SELECT to_regclass('oidc_grant_sign_ins')::text AS t`.execute(db);
      assert.equal(rows[0]!.t, null, 'the table is dropped');
      const saved = await db.selectFrom('oidc_artefacts').select(['id', 'payload']).where('model', '=', 'GatehouseSignInSession').orderBy('id').execute();
      assert.deepEqual(saved.map((r) => [r.id, (r.payload as { flowId?: string }).flowId, (r.payload as { accountId?: string }).accountId]), [
        ['grant-with-flow', flow, user], ['grant-without', undefined, user],
      ]);
    } finally {
      await database.close();
      await pg?.drop();
    }
  });
});
