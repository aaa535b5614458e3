import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../../src/config.ts';
import { canonicalJson, GENESIS_HASH } from '../../../src/domain/auditChain.ts';
import { chainHash } from '../../../src/store/auditChain.ts';
import { initTenant, type InitResult } from '../../../src/flows/init/flow.ts';
import { verifyAuditChain, type ChainReport } from '../../../src/flows/logs/integrity.ts';
import { buildServer } from '../../../src/http/server.ts';
import { migrate, openDatabase, type Db, type OpenDatabase } from '../../../src/store/database.ts';
import { MIGRATIONS } from '../../../src/store/migrations/index.ts';
import { clientCredentialsToken, freePort, freshPostgresDatabase, onPostgres } from '../../support/harness.ts';
import { runCli } from '../../support/processes.ts';

/** The machines are shared and busy: a CLI run (Node start, database open) can take a while. */
const CLI_TIMEOUT = 240_000;

/**
 * LOG-3: audit records are hash-chained per tenant; `gatehouse audit verify` (and its API twin)
 * walks the chain and names the first broken record. Audits are produced through the Graph API;
 * each kind of tampering is then done directly in the database, and the CLI must fail (exit 3)
 * naming exactly that row. On PGlite the CLI needs the data directory, so the test's own handle is
 * closed around every CLI run; on the PostgreSQL tier both stay connected.
 */

type Place = { env: Record<string, string>; url: string | undefined; dataDir: string; cleanup(): Promise<void> };

async function place(prefix: string): Promise<Place> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pg = onPostgres ? await freshPostgresDatabase() : undefined;
  const env: Record<string, string> = { PORT: String(await freePort()), GATEHOUSE_DATA_DIR: join(dir, 'data'), DATABASE_URL: pg?.url ?? '' };
  return {
    env, url: pg?.url, dataDir: join(dir, 'data'),
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true });
      await pg?.drop();
    },
  };
}

const open = (p: Place) => openDatabase({ databaseUrl: p.url, dataDir: p.dataDir, purpose: 'integrity test', poolMax: 8 });

async function withDb<T>(p: Place, fn: (db: Db) => Promise<T>): Promise<T> {
  const d = await open(p);
  try {
    return await fn(d.db);
  } finally {
    await d.close();
  }
}

type Row = { id: string; seq: number; activity_display_name: string };
const rowsOf = async (db: Db, tenantId: string): Promise<Row[]> =>
  (await db.selectFrom('directory_audits').select(['id', 'seq', 'activity_display_name']).where('tenant_id', '=', tenantId).orderBy('seq').execute()).map((r) => ({ ...r, seq: Number(r.seq) }));

async function cliVerify(p: Place): Promise<{ code: number | null; report: ChainReport; stdout: string }> {
  const r = await runCli(['audit', 'verify', '--json'], p.env, CLI_TIMEOUT);
  assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return { code: r.code, report: JSON.parse(r.stdout) as ChainReport, stdout: r.stdout };
}

describe('LOG-3 audit hash chain: produced through the Graph API, verified, tampered with', () => {
  let p: Place;
  let tenant: InitResult;
  let rows: Row[];

  before(async () => {
    p = await place('gatehouse-log3-');
    const database: OpenDatabase = await open(p);
    await migrate(database.db);
    const port = Number(p.env.PORT);
    const config = { ...loadConfig({ PORT: String(port), GATEHOUSE_PUBLIC_URL: `http://localhost:${port}` }), dataDir: p.dataDir, databaseUrl: p.url, logLevel: 'silent' };
    const { app } = await buildServer({ database, config, logger: false });
    await app.listen({ port, host: 'localhost' });
    try {
      tenant = await initTenant(database.db, { tenant: 'Contoso', admin: 'admin@contoso.test' }, config.publicBaseUrl, new Date());
      const token = await clientCredentialsToken(tenant.tokenEndpoint, tenant.automation.clientId, tenant.automation.clientSecret);
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${config.publicBaseUrl}/graph/v1.0${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      };
      // Audited changes of several kinds: TAPs (methods), a named location (CA), the retention policy.
      const users: string[] = [];
      for (let i = 0; i < 14; i++) {
        const u = await call('POST', '/users', { displayName: `User ${i}`, userPrincipalName: `user${i}@contoso.test` });
        assert.equal(u.status, 201, JSON.stringify(u.body));
        users.push(u.body.id);
      }
      for (const id of users.slice(0, 2)) assert.equal((await call('POST', `/users/${id}/authentication/temporaryAccessPassMethods`, {})).status, 201);
      const loc = await call('POST', '/identity/conditionalAccess/namedLocations', { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Office', isTrusted: true, ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.0.0.0/8' }] });
      assert.equal(loc.status, 201, JSON.stringify(loc.body));
      const ret = await call('PATCH', '/policies/gatehouseLogRetentionPolicy', { signInRetentionInDays: 60 });
      assert.equal(ret.status, 200, JSON.stringify(ret.body));
      assert.equal(ret.body.signInRetentionInDays, 60);
      assert.equal(ret.body.auditRetentionInDays, 365);

      // Concurrency: 12 audit writers at once (on PostgreSQL: 8 pooled connections, real contention on the chain head).
      const parallel = await Promise.all(users.slice(2).map((id) => call('POST', `/users/${id}/authentication/temporaryAccessPassMethods`, {})));
      assert.deepEqual(parallel.map((r) => r.status), parallel.map(() => 201));

      const api = await call('GET', '/auditLogs/gatehouseVerify');
      assert.equal(api.status, 200, JSON.stringify(api.body));
      assert.equal(api.body.intact, true, JSON.stringify(api.body));
      rows = await rowsOf(database.db, tenant.tenantId);
      assert.equal(api.body.checkedRecords, rows.length);
      assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1), 'seqs are gapless from 1');
      assert.deepEqual(api.body.head, { seq: rows.length, hash: (await database.db.selectFrom('directory_audits').select('hash').where('seq', '=', rows.length).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow()).hash });
      assert.ok(rows.filter((r) => r.activity_display_name === 'Update log retention policy').length === 1, 'the retention change is audited');
      // Reading needs AuditLog.Read.All: a token without it gets 403 (the tenant's admin token has every permission, so check the route's scope by asking without one).
      const anonymous = await fetch(`${config.publicBaseUrl}/graph/v1.0/auditLogs/gatehouseVerify`);
      assert.equal(anonymous.status, 401);
    } finally {
      await app.close();
      await database.close();
    }
  });
  after(async () => p?.cleanup());

  test('every record links to the one before: seq 1 to the genesis hash, each hash recomputable from what the database returns', async () => {
    await withDb(p, async (db) => {
      const all = await db.selectFrom('directory_audits').select(['seq', 'prev_hash', 'hash', 'record', 'tenant_id']).where('tenant_id', '=', tenant.tenantId).orderBy('seq').execute();
      let prev = GENESIS_HASH;
      for (const r of all) {
        assert.equal(r.prev_hash, prev);
        assert.equal(chainHash({ prevHash: prev, seq: Number(r.seq), tenantId: r.tenant_id, canonicalRecord: canonicalJson(r.record) }), r.hash);
        prev = r.hash;
      }
    });
  });

  test('gatehouse audit verify: intact chain → exit 0 and the report', async () => {
    const { code, report } = await cliVerify(p);
    assert.equal(code, 0);
    assert.equal(report.intact, true);
    assert.equal(report.checkedRecords, rows.length);
    assert.equal(report.firstBroken, null);
    assert.deepEqual(report.startedFrom, { kind: 'genesis' });
  });

  /**
   * Tamper, then check the CLI (exit 3, the named row, the reason). The undo runs at the next
   * opening of the database, which first checks the chain is intact again (one open per case:
   * on PGlite each open and each CLI run takes seconds).
   */
  let pendingUndo: ((db: Db) => Promise<void>) | undefined;
  async function undoPending(db: Db): Promise<void> {
    if (!pendingUndo) return;
    await pendingUndo(db);
    pendingUndo = undefined;
    const again = await verifyAuditChain(db, tenant.tenantId);
    assert.equal(again.intact, true, `undone: ${JSON.stringify(again.firstBroken)}`);
  }
  async function tampered(doIt: (db: Db) => Promise<void>, undo: (db: Db) => Promise<void>, expect: { reason: string; seq: number; id: string | null; detail?: RegExp }, human = false): Promise<void> {
    await withDb(p, async (db) => {
      await undoPending(db);
      await doIt(db);
      pendingUndo = undo;
    });
    const { code, report, stdout } = await cliVerify(p);
    assert.equal(code, 3, stdout);
    assert.equal(report.intact, false);
    assert.equal(report.firstBroken?.reason, expect.reason, stdout);
    assert.equal(report.firstBroken?.seq, expect.seq, stdout);
    assert.equal(report.firstBroken?.id, expect.id, stdout);
    if (expect.detail) assert.match(report.firstBroken!.detail, expect.detail);
    if (human) {
      const text = await runCli(['audit', 'verify'], p.env, CLI_TIMEOUT);
      assert.equal(text.code, 3);
      assert.match(text.stdout, new RegExp(`first broken: ${expect.reason} at seq ${expect.seq} \\(id ${expect.id}\\)`));
    }
  }

  test("editing a record's JSON → hashMismatch naming that record", async () => {
    const r = rows[3]!;
    let before: unknown;
    await tampered(async (db) => {
      before = (await db.selectFrom('directory_audits').select('record').where('id', '=', r.id).executeTakeFirstOrThrow()).record;
      await sql`UPDATE directory_audits SET record = jsonb_set(record, '{resultReason}', '"nothing to see"') WHERE id = ${r.id}`.execute(db);
    }, async (db) => {
      await db.updateTable('directory_audits').set({ record: JSON.stringify(before) }).where('id', '=', r.id).execute();
    }, { reason: 'hashMismatch', seq: r.seq, id: r.id, detail: /edited/ }, true);
  });

  test('editing activity_display_name (a query column) → columnMismatch naming that record', async () => {
    const r = rows[4]!;
    await tampered(async (db) => {
      await db.updateTable('directory_audits').set({ activity_display_name: 'Something harmless' }).where('id', '=', r.id).execute();
    }, async (db) => {
      await db.updateTable('directory_audits').set({ activity_display_name: r.activity_display_name }).where('id', '=', r.id).execute();
    }, { reason: 'columnMismatch', seq: r.seq, id: r.id, detail: /activity_display_name/ });
  });

  test('deleting a middle record → seqGap naming the record after the hole and the missing seq', async () => {
    const gone = rows[6]!;
    const next = rows[7]!;
    let saved: unknown;
    await tampered(async (db) => {
      saved = (await sql<{ j: unknown }>`SELECT to_jsonb(d) AS j FROM directory_audits d WHERE id = ${gone.id}`.execute(db)).rows[0]!.j;
      await db.deleteFrom('directory_audits').where('id', '=', gone.id).execute();
    }, async (db) => {
      await sql`INSERT INTO directory_audits SELECT * FROM jsonb_populate_record(null::directory_audits, ${JSON.stringify(saved)}::jsonb)`.execute(db);
    }, { reason: 'seqGap', seq: next.seq, id: next.id, detail: new RegExp(`seq ${gone.seq} are missing`) });
  });

  test('swapping two records\' seq (reordering) → prevHashMismatch at the first moved record', async () => {
    const a = rows[8]!;
    const b = rows[9]!;
    const swap = async (db: Db) => {
      await db.updateTable('directory_audits').set({ seq: -1 }).where('id', '=', a.id).execute();
      await db.updateTable('directory_audits').set({ seq: a.seq }).where('id', '=', b.id).execute();
      await db.updateTable('directory_audits').set({ seq: b.seq }).where('id', '=', a.id).execute();
    };
    const unswap = async (db: Db) => {
      await db.updateTable('directory_audits').set({ seq: -1 }).where('id', '=', a.id).execute();
      await db.updateTable('directory_audits').set({ seq: b.seq }).where('id', '=', b.id).execute();
      await db.updateTable('directory_audits').set({ seq: a.seq }).where('id', '=', a.id).execute();
    };
    // b now sits at a's seq: its prev_hash is a's hash, not the one before.
    await tampered(swap, unswap, { reason: 'prevHashMismatch', seq: a.seq, id: b.id, detail: /moved/ });
  });

  test('altering a prev_hash → prevHashMismatch naming that record', async () => {
    const r = rows[10]!;
    let old = '';
    await tampered(async (db) => {
      old = (await db.selectFrom('directory_audits').select('prev_hash').where('id', '=', r.id).executeTakeFirstOrThrow()).prev_hash;
      await db.updateTable('directory_audits').set({ prev_hash: 'f'.repeat(64) }).where('id', '=', r.id).execute();
    }, async (db) => {
      await db.updateTable('directory_audits').set({ prev_hash: old }).where('id', '=', r.id).execute();
    }, { reason: 'prevHashMismatch', seq: r.seq, id: r.id });
  });

  test('editing a record and recomputing its hash (a careful forger) → the next record no longer links', async () => {
    const r = rows[11]!;
    const next = rows[12]!;
    let saved: { record: unknown; hash: string } | undefined;
    await tampered(async (db) => {
      const row = await db.selectFrom('directory_audits').select(['record', 'hash', 'prev_hash', 'seq', 'tenant_id']).where('id', '=', r.id).executeTakeFirstOrThrow();
      saved = { record: row.record, hash: row.hash };
      const forged = { ...row.record, result: 'failure' };
      const hash = chainHash({ prevHash: row.prev_hash, seq: Number(row.seq), tenantId: row.tenant_id, canonicalRecord: canonicalJson(forged) });
      await db.updateTable('directory_audits').set({ record: JSON.stringify(forged), result: 'failure', hash }).where('id', '=', r.id).execute();
    }, async (db) => {
      await db.updateTable('directory_audits').set({ record: JSON.stringify(saved!.record), result: 'success', hash: saved!.hash }).where('id', '=', r.id).execute();
    }, { reason: 'prevHashMismatch', seq: next.seq, id: next.id, detail: new RegExp(`seq ${r.seq}`) });
  });

  test('deleting the newest record → headMismatch naming the last record left', async () => {
    const last = rows.at(-1)!;
    const left = rows.at(-2)!;
    let saved: unknown;
    await tampered(async (db) => {
      saved = (await sql<{ j: unknown }>`SELECT to_jsonb(d) AS j FROM directory_audits d WHERE id = ${last.id}`.execute(db)).rows[0]!.j;
      await db.deleteFrom('directory_audits').where('id', '=', last.id).execute();
    }, async (db) => {
      await sql`INSERT INTO directory_audits SELECT * FROM jsonb_populate_record(null::directory_audits, ${JSON.stringify(saved)}::jsonb)`.execute(db);
    }, { reason: 'headMismatch', seq: left.seq, id: left.id, detail: /deleted/ });
  });

  test('after every undo the chain verifies again', async () => {
    await withDb(p, undoPending);
    const { code } = await cliVerify(p);
    assert.equal(code, 0);
  });
});

describe('LOG-3 upgrade: migration 0006 chains the audit records already present', () => {
  test('records written before 0006 (any characters) verify after the upgrade, in (activityDateTime, id) order', async () => {
    const pg = onPostgres ? await freshPostgresDatabase() : undefined;
    const d = await openDatabase({ databaseUrl: pg?.url, dataDir: 'memory://', purpose: 'upgrade test' });
    try {
      const db = d.db;
      // A database as migration 4 left it.
      await sql`CREATE TABLE gatehouse_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`.execute(db);
      for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
        for (const s of m.sql.split(/;\s*\n/).map((x) => x.trim()).filter(Boolean)) await sql.raw(s).execute(db);
        await db.insertInto('gatehouse_migrations').values({ version: m.version, name: m.name }).execute();
      }
      const tenants = [randomUUID(), randomUUID()];
      for (const t of tenants) await db.insertInto('tenants').values({ id: t, display_name: `T ${t}` }).execute();
      const texts = ['plain', 'quote " backslash \\ slash /', 'tab\tnewline\ncontrol\u0001\u001f', 'é ü 中文 🙂 \u2028', ''];
      const base = Date.parse('2026-01-01T00:00:00Z');
      for (const [i, t] of tenants.entries()) {
        for (let k = 0; k < 7; k++) {
          const id = randomUUID();
          const at = new Date(base + ((k * 7) % 5) * 1000 + i);
          const record = { id, activityDateTime: at.toISOString(), activityDisplayName: texts[k % texts.length], category: 'Policy', result: 'success', resultReason: '', correlationId: id, loggedByService: 'Old', operationType: 'Add', initiatedBy: { app: null, user: null, gatehouseOperator: 'old' }, targetResources: [], additionalDetails: [{ key: 'k', value: texts[(k + 1) % texts.length] }] };
          await db.insertInto('directory_audits').values({ id, tenant_id: t, activity_date_time: at, activity_display_name: record.activityDisplayName!, result: 'success', correlation_id: id, target_user_id: null, record: JSON.stringify(record) } as never).execute();
        }
      }
      await migrate(db);
      for (const t of tenants) {
        const report = await verifyAuditChain(db, t);
        assert.equal(report.intact, true, JSON.stringify(report));
        assert.equal(report.checkedRecords, 7);
        const order = await db.selectFrom('directory_audits').select(['seq', 'activity_date_time', 'id']).where('tenant_id', '=', t).orderBy('seq').execute();
        const sorted = [...order].sort((a, b) => a.activity_date_time.getTime() - b.activity_date_time.getTime() || (a.id < b.id ? -1 : 1));
        assert.deepEqual(order.map((r) => r.id), sorted.map((r) => r.id));
      }
    } finally {
      await d.close();
      await pg?.drop();
    }
  });
});
