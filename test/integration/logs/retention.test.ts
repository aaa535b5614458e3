import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { loadConfig } from '../../../src/config.ts';
import { canonicalJson } from '../../../src/domain/auditChain.ts';
import { chainHash } from '../../../src/store/auditChain.ts';
import { initTenant, type InitResult } from '../../../src/flows/init/flow.ts';
import { issueTemporaryAccessPass } from '../../../src/flows/methods/temporaryAccessPass.ts';
import { verifyAuditChain, type ChainReport } from '../../../src/flows/logs/integrity.ts';
import { pruneLogs, type PruneReport } from '../../../src/flows/logs/retention.ts';
import { buildServer } from '../../../src/http/server.ts';
import { migrate, openDatabase, type Db } from '../../../src/store/database.ts';
import { createUser } from '../../../src/store/users.ts';
import { clientCredentialsToken, freePort, freshPostgresDatabase, onPostgres } from '../../support/harness.ts';
import { runCli } from '../../support/processes.ts';

/** The machines are shared and busy: a CLI run (Node start, database open) can take a while. */
const CLI_TIMEOUT = 240_000;

/**
 * LOG-4 retention and export, LOG-3 checkpoints. Old audit records are produced through flows
 * with an old `now` (the tenant itself is set up 400 days ago, so the old records form the
 * chain's prefix); sign-ins are produced through the flow API (wrong TAPs) and then aged with an
 * UPDATE of created_date_time (sign-ins are not chained, so that is a faithful stand-in for
 * time passing). On PGlite the test's own database handle is closed around every CLI run.
 */

const DAY = 86_400_000;

describe('LOG-4 retention: prune to a signed checkpoint, verify, export', () => {
  let dir: string;
  let env: Record<string, string>;
  let url: string | undefined;
  let drop: (() => Promise<void>) | undefined;
  let tenant: InitResult;
  let oldAudits: number;
  let totalAudits: number;
  const open = () => openDatabase({ databaseUrl: url, dataDir: join(dir, 'data'), purpose: 'retention test', poolMax: 8 });
  const withDb = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
    const d = await open();
    try {
      return await fn(d.db);
    } finally {
      await d.close();
    }
  };
  const cli = async (args: string[]) => {
    const r = await runCli(args, env, CLI_TIMEOUT);
    return { ...r, json: r.stdout.trim().startsWith('{') ? JSON.parse(r.stdout) : undefined };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-log4-'));
    const pg = onPostgres ? await freshPostgresDatabase() : undefined;
    url = pg?.url;
    drop = pg?.drop;
    const port = await freePort();
    env = { PORT: String(port), GATEHOUSE_DATA_DIR: join(dir, 'data'), DATABASE_URL: url ?? '' };
    const database = await open();
    await migrate(database.db);
    const config = { ...loadConfig({ PORT: String(port), GATEHOUSE_PUBLIC_URL: `http://localhost:${port}` }), dataDir: join(dir, 'data'), databaseUrl: url, logLevel: 'silent' };
    const db = database.db;
    const old = new Date(Date.now() - 400 * DAY);
    tenant = await initTenant(db, { tenant: 'Contoso', admin: 'admin@contoso.test' }, config.publicBaseUrl, old);
    for (let i = 0; i < 3; i++) {
      const at = new Date(old.getTime() + (i + 1) * 60_000);
      await db.transaction().execute((trx) => createUser(trx, tenant.tenantId, { displayName: `Old ${i}`, userPrincipalName: `old${i}@contoso.test`, accountEnabled: true, userType: 'Member' }));
      await issueTemporaryAccessPass({ db, tenantId: tenant.tenantId, actor: { kind: 'operator', name: 'retention test' }, now: at }, `old${i}@contoso.test`, {});
    }
    oldAudits = Number((await db.selectFrom('directory_audits').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow()).n);

    const { app } = await buildServer({ database, config, logger: false });
    await app.listen({ port, host: 'localhost' });
    try {
      const token = await clientCredentialsToken(tenant.tokenEndpoint, tenant.automation.clientId, tenant.automation.clientSecret);
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${config.publicBaseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body !== undefined ? JSON.stringify(body) : undefined });
        const text = await res.text();
        let parsed: any = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch { /* NDJSON */ }
        return { status: res.status, body: parsed, text, type: res.headers.get('content-type') };
      };
      // Recent audits through the Graph API.
      const u = await call('POST', '/graph/v1.0/users', { displayName: 'New', userPrincipalName: 'new@contoso.test' });
      assert.equal(u.status, 201);
      assert.equal((await call('POST', `/graph/v1.0/users/${u.body.id}/authentication/temporaryAccessPassMethods`, {})).status, 201);
      const defaults = await call('GET', '/graph/v1.0/policies/gatehouseLogRetentionPolicy');
      assert.equal(defaults.status, 200);
      assert.deepEqual({ s: defaults.body.signInRetentionInDays, a: defaults.body.auditRetentionInDays, m: defaults.body.modifiedDateTime }, { s: 30, a: 365, m: null });
      const changed = await call('PATCH', '/graph/v1.0/policies/gatehouseLogRetentionPolicy', { auditRetentionInDays: 90 });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body.auditRetentionInDays, 90);

      // Bad input: 400 naming the field and the rule, nothing written.
      const auditsBefore = await db.selectFrom('directory_audits').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
      for (const [body, field] of [
        [{ auditRetentionInDays: 7 }, 'auditRetentionInDays'], [{ signInRetentionInDays: 0 }, 'signInRetentionInDays'],
        [{ signInRetentionInDays: 1.5 }, 'signInRetentionInDays'], [{ auditRetentionInDays: '90' }, 'auditRetentionInDays'], [{ keepForever: true }, 'keepForever'],
      ] as const) {
        const r = await call('PATCH', '/graph/v1.0/policies/gatehouseLogRetentionPolicy', body);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.match(r.body.error.message, new RegExp(field));
      }
      await fc.assert(fc.asyncProperty(fc.oneof(fc.integer({ max: 29 }), fc.integer({ min: 3651 }), fc.double({ noInteger: true }), fc.string(), fc.constant(null)), async (v) => {
        const r = await call('PATCH', '/graph/v1.0/policies/gatehouseLogRetentionPolicy', { auditRetentionInDays: v });
        assert.equal(r.status, 400, JSON.stringify(r.body));
      }), { numRuns: 25 });
      const auditsAfter = await db.selectFrom('directory_audits').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
      assert.equal(Number(auditsAfter.n), Number(auditsBefore.n));

      // Sign-ins through the flow API: six wrong TAPs; four of them then aged past the 30-day window.
      for (let i = 0; i < 6; i++) {
        const start = await call('POST', `/api/flows/${tenant.tenantId}/sign-in`, {});
        assert.equal(start.status, 201, JSON.stringify(start.body));
        await call('POST', `/api/flows/${tenant.tenantId}/sign-in/${start.body.flowId}/tap`, { username: 'new@contoso.test', code: 'WRONG-CODE' });
      }
      const signIns = await db.selectFrom('sign_ins').select(['id', 'created_date_time']).where('tenant_id', '=', tenant.tenantId).orderBy('created_date_time').execute();
      assert.ok(signIns.length >= 6, `sign-ins written: ${signIns.length}`);
      const aged = signIns.slice(0, signIns.length - 2).map((s) => s.id);
      await sql`UPDATE sign_ins SET created_date_time = created_date_time - interval '100 days',
        record = jsonb_set(record, '{createdDateTime}', to_jsonb(to_char((created_date_time - interval '100 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
        WHERE id IN (${sql.join(aged)})`.execute(db);

      // The API twin of the export, and its bad input.
      const exported = await call('GET', '/graph/v1.0/auditLogs/gatehouseExport?kind=directoryAudits');
      assert.equal(exported.status, 200);
      assert.match(exported.type ?? '', /application\/x-ndjson/);
      // (failed TAP attempts may themselves be audited, e.g. a throttled pass: count now)
      totalAudits = Number((await db.selectFrom('directory_audits').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow()).n);
      assert.equal(exported.text.split('\n').filter(Boolean).length, totalAudits);
      const bad = await call('GET', '/graph/v1.0/auditLogs/gatehouseExport?kind=everything');
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /kind/);
    } finally {
      await app.close();
      await database.close();
    }
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await drop?.();
  });

  test('prune --dry-run reports what would go and deletes nothing', async () => {
    const r = await cli(['logs', 'prune', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = r.json as PruneReport;
    assert.equal(report.dryRun, true);
    assert.equal(report.signIns.deleted, 4);
    assert.equal(report.audits.deleted, oldAudits);
    assert.deepEqual(report.audits.wouldPrune, { firstSeq: 1, lastSeq: oldAudits });
    assert.equal(report.auditRecordId, null);
    await withDb(async (db) => {
      const n = await db.selectFrom('directory_audits').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), totalAudits);
    });
  });

  test('prune deletes old sign-ins and the old audit prefix, leaves a signed checkpoint, then audits "Prune logs"; verify passes from the checkpoint', async () => {
    const r = await cli(['logs', 'prune', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = r.json as PruneReport;
    assert.equal(report.signIns.deleted, 4);
    assert.equal(report.audits.deleted, oldAudits);
    assert.equal(report.audits.checkpoints.length, 1);
    const cp = report.audits.checkpoints[0]!;
    assert.deepEqual({ f: cp.firstSeq, l: cp.lastSeq, n: cp.prunedCount }, { f: 1, l: oldAudits, n: oldAudits });
    assert.ok(report.auditRecordId);
    await withDb(async (db) => {
      assert.equal(Number((await db.selectFrom('sign_ins').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow()).n), 2);
      const rows = await db.selectFrom('directory_audits').select(['id', 'seq', 'prev_hash', 'record']).where('tenant_id', '=', tenant.tenantId).orderBy('seq').execute();
      assert.equal(Number(rows[0]!.seq), oldAudits + 1);
      assert.equal(rows[0]!.prev_hash, cp.lastHash, 'the first record left links to the checkpoint');
      const last = rows.at(-1)!;
      assert.equal(last.id, report.auditRecordId, 'the prune is the newest audit record, after the checkpoint');
      assert.equal(last.record.activityDisplayName, 'Prune logs');
      const details = Object.fromEntries((last.record.additionalDetails as { key: string; value: string }[]).map((d) => [d.key, d.value]));
      assert.equal(details.auditsDeleted, String(oldAudits));
      assert.equal(details.signInsDeleted, '4');
      assert.equal(details.checkpointIds, cp.id);
      const stored = await db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', tenant.tenantId).execute();
      assert.equal(stored.length, 1);
      assert.ok(stored[0]!.signature.length > 20);
    });
    const v = await cli(['audit', 'verify', '--json']);
    assert.equal(v.code, 0, v.stdout);
    const chain = v.json as ChainReport;
    assert.equal(chain.intact, true);
    assert.deepEqual(chain.startedFrom, { kind: 'checkpoint', checkpointId: cp.id, lastSeq: cp.lastSeq, lastHash: cp.lastHash });
    assert.equal(chain.firstSeq, oldAudits + 1);
    totalAudits = totalAudits - oldAudits + 1;
    assert.equal(chain.checkedRecords, totalAudits);
  });

  test('a second prune is idempotent: nothing deleted, no new audit record, no new checkpoint', async () => {
    const r = await cli(['logs', 'prune', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = r.json as PruneReport;
    assert.deepEqual([report.signIns.deleted, report.audits.deleted, report.audits.checkpoints.length, report.auditRecordId], [0, 0, 0, null]);
    const v = await cli(['audit', 'verify', '--json']);
    assert.equal(v.code, 0);
    assert.equal((v.json as ChainReport).checkedRecords, totalAudits);
  });

  test('export: NDJSON, oldest first, every line a Graph record; audit lines carry gatehouseChain and verify on their own', async () => {
    const file = join(dir, 'audits.ndjson');
    const r = await runCli(['logs', 'export', '--kind', 'directoryAudits', '--out', file], env, CLI_TIMEOUT);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Exported ${totalAudits} directoryAudits`));
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines.length, totalAudits);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { gatehouseChain: { seq: number; prevHash: string; hash: string } });
    // An auditor's check from the file alone (docs/logs-integrity.md): strip gatehouseChain, canonicalise, hash.
    let prev = records[0]!.gatehouseChain.prevHash;
    for (const [i, rec] of records.entries()) {
      const { gatehouseChain: c, ...record } = rec;
      assert.equal(c.seq, oldAudits + 1 + i);
      assert.equal(c.prevHash, prev);
      assert.equal(chainHash({ prevHash: prev, seq: c.seq, tenantId: tenant.tenantId, canonicalRecord: canonicalJson(record) }), c.hash);
      prev = c.hash;
    }
    const signIns = await runCli(['logs', 'export', '--kind', 'signIns'], env, CLI_TIMEOUT);
    assert.equal(signIns.code, 0, signIns.stderr);
    const si = signIns.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { createdDateTime: string; id: string });
    assert.equal(si.length, 2);
    assert.ok(si[0]!.createdDateTime <= si[1]!.createdDateTime, 'oldest first');
    const none = await runCli(['logs', 'export', '--kind', 'signIns', '--since', new Date(Date.now() + DAY).toISOString()], env, CLI_TIMEOUT);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    const bad = await runCli(['logs', 'export', '--kind', 'everything'], env, CLI_TIMEOUT);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /kind must be one of signIns, directoryAudits, not 'everything'/);
    const badSince = await runCli(['logs', 'export', '--kind', 'signIns', '--since', 'yesterday'], env, CLI_TIMEOUT);
    assert.equal(badSince.code, 1);
    assert.match(badSince.stderr, /since must be an ISO 8601/);
  });

  test('a tampered checkpoint is detected by verify (exit 3, the checkpoint named) and pruning refuses to build on it', async () => {
    let cp = { id: '', last_hash: '' };
    await withDb(async (db) => {
      cp = await db.selectFrom('audit_checkpoints').select(['id', 'last_hash']).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
      await db.updateTable('audit_checkpoints').set({ pruned_count: sql`pruned_count - 1` }).where('id', '=', cp.id).execute();
    });
    try {
      const v = await cli(['audit', 'verify', '--json']);
      assert.equal(v.code, 3, v.stdout);
      const chain = v.json as ChainReport;
      assert.equal(chain.firstBroken?.reason, 'checkpointSignatureInvalid');
      assert.equal(chain.firstBroken?.id, cp.id);
      assert.equal(chain.firstBroken?.seq, oldAudits);
      const p = await cli(['logs', 'prune', '--json']);
      assert.equal(p.code, 3, p.stdout);
      assert.equal((p.json as PruneReport).audits.refused?.reason, 'checkpointSignatureInvalid');
    } finally {
      await withDb(async (db) => {
        await db.updateTable('audit_checkpoints').set({ pruned_count: sql`pruned_count + 1` }).where('id', '=', cp.id).execute();
        assert.equal((await verifyAuditChain(db, tenant.tenantId)).intact, true);
      });
    }
  });

  test('concurrent pruners (one per "server") prune each record once and keep a chain that verifies', async () => {
    await withDb(async (db) => {
      const later = new Date(Date.now() + 200 * DAY); // everything but the newest records is outside a 90-day window then
      const reports = await Promise.all([0, 1, 2].map(() => pruneLogs(db, tenant.tenantId, { now: later, actor: { kind: 'operator', name: 'pruner' }, batchSize: 2 })));
      const cps = reports.flatMap((r) => r.audits.checkpoints).sort((a, b) => a.firstSeq - b.firstSeq);
      assert.ok(cps.length >= 1);
      let next = oldAudits + 1;
      for (const c of cps) {
        assert.equal(c.firstSeq, next, 'checkpoints follow each other without overlap');
        next = c.lastSeq + 1;
      }
      assert.equal(reports.reduce((n, r) => n + r.audits.deleted, 0), next - oldAudits - 1);
      const report = await verifyAuditChain(db, tenant.tenantId);
      assert.equal(report.intact, true, JSON.stringify(report.firstBroken));
      assert.equal(report.checkpoints, 1 + cps.length);
    });
  });
});
