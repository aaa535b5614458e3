import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { clientCredentialsToken, freePort, freshPostgresDatabase, onPostgres } from '../../support/harness.ts';
import { runCli, serve, type Served } from '../../support/processes.ts';

const ONE_TIME_ATTEMPTS = 50;
const MULTI_USE_ATTEMPTS = 20;
const REQUEST_TIMEOUT_MS = 30_000;
const TAP_ONE_TIME_USED = 900104;

type Reply = { status: number; body: any };

/**
 * SC-9 / TAP-7: a one-time pass is consumed atomically across server processes. Two `gatehouse
 * serve` processes share one PostgreSQL database; fifty concurrent sign-ins present the same
 * one-time pass: exactly one succeeds, the rest fail with TapOneTimeUsed, and every attempt is in
 * the sign-in log. A multi-use pass under the same load is the contrast: every attempt succeeds.
 */
describe('TAP-7 / SC-9: one-time Temporary Access Pass under concurrency across two server processes', {
  skip: onPostgres ? false : 'needs PostgreSQL: two processes cannot share the embedded database (PGlite)',
  timeout: 180_000,
}, () => {
  let dataDir: string | undefined;
  let drop: (() => Promise<void>) | undefined;
  let client: pg.Client | undefined;
  const servers: Served[] = [];
  let urls: [string, string];
  let tenantId: string;
  let graphToken: string;

  const call = async (base: string, method: string, path: string, body?: unknown, token?: string): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${base}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  };

  /** A user, made through server A's Graph API. */
  const createUser = async (name: string) => {
    const user = await call(urls[0], 'POST', '/graph/v1.0/users', { displayName: name, userPrincipalName: `${name}@contoso.test` }, graphToken);
    assert.equal(user.status, 201, JSON.stringify(user.body));
    return { id: user.body.id as string, upn: user.body.userPrincipalName as string };
  };
  /** A new pass for the user (replacing any earlier one, TAP-4), issued through server A. */
  const issuePass = async (userId: string, isUsableOnce: boolean) => {
    const pass = await call(urls[0], 'POST', `/graph/v1.0/users/${userId}/authentication/temporaryAccessPassMethods`, { isUsableOnce, lifetimeInMinutes: 60 }, graphToken);
    assert.equal(pass.status, 201, JSON.stringify(pass.body));
    assert.equal(pass.body.isUsableOnce, isUsableOnce);
    return { passId: pass.body.id as string, code: pass.body.temporaryAccessPass as string };
  };

  const server = (i: number) => (i % 2 === 0 ? urls[0] : urls[1]);

  /** Starts n flows spread over both servers, then fires every TAP step at once, alternating servers. */
  const concurrentTapSignIns = async (n: number, username: string, code: string) => {
    const flows = await Promise.all(Array.from({ length: n }, async (_, i) => {
      const r = await call(server(i), 'POST', `/api/flows/${tenantId}/sign-in`, {});
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.flowId as string;
    }));
    // flow i was started on server i % 2 and finishes on the other one
    return Promise.all(flows.map((flowId, i) => call(server(i + 1), 'POST', `/api/flows/${tenantId}/sign-in/${flowId}/tap`, { username, code })));
  };

  const signInRows = async (userId: string) => (await client!.query<{ error_code: number; correlation_id: string; record: any }>(
    'SELECT error_code, correlation_id, record FROM sign_ins WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId])).rows;

  const tally = (replies: Reply[]) => {
    const counts = new Map<string, number>();
    for (const r of replies) {
      const k = `${r.status} ${r.body?.error?.code ?? ''}`.trim();
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return Object.fromEntries(counts);
  };

  before(async () => {
    const database = await freshPostgresDatabase();
    drop = database.drop;
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-tap7-'));
    const [portA, portB] = [await freePort(), await freePort()];
    const publicUrl = `http://localhost:${portA}`;
    const env = { DATABASE_URL: database.url, GATEHOUSE_PUBLIC_URL: publicUrl, GATEHOUSE_DATA_DIR: join(dataDir, 'data') };
    const init = await runCli(['init', '--tenant', 'Contoso', '--admin', 'admin@contoso.test', '--json'], { ...env, PORT: String(portA) });
    assert.equal(init.code, 0, init.stderr);
    const out = JSON.parse(init.stdout);
    tenantId = out.tenantId;
    // Both processes present the same issuer (A's URL); keys and secrets live in the shared database.
    for (const port of [portA, portB]) servers.push(await serve({ ...env, PORT: String(port) }));
    urls = [publicUrl, `http://localhost:${portB}`];
    graphToken = await clientCredentialsToken(out.tokenEndpoint, out.automation.clientId, out.automation.clientSecret);
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  after(async () => {
    await client?.end().catch(() => undefined);
    await Promise.all(servers.map(async (s) => {
      const killer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
      await s.stop('SIGTERM');
      clearTimeout(killer);
    }));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await drop?.();
  });

  test(`${ONE_TIME_ATTEMPTS} concurrent sign-ins with one one-time pass: exactly one succeeds, the rest are TapOneTimeUsed, all are logged`, async () => {
    const u = await createUser('tap7-once');
    // The user has signed in before (with a multi-use pass, replaced next: TAP-4), so the per-user
    // throttle row already exists and the attempts below don't merely queue behind its first insert.
    const [earlier] = await concurrentTapSignIns(1, u.upn, (await issuePass(u.id, false)).code);
    assert.equal(earlier!.status, 200, JSON.stringify(earlier!.body));
    const { passId, code } = await issuePass(u.id, true);
    const replies = await concurrentTapSignIns(ONE_TIME_ATTEMPTS, u.upn, code);

    const ok = replies.filter((r) => r.status === 200);
    const used = replies.filter((r) => r.status === 403 && r.body?.error?.code === 'TapOneTimeUsed');
    assert.equal(ok.length, 1, `exactly one success: ${JSON.stringify(tally(replies))}`);
    assert.equal(used.length, ONE_TIME_ATTEMPTS - 1, `every other attempt is TapOneTimeUsed (no 500, no lockout): ${JSON.stringify(tally(replies))}`);
    assert.equal(ok[0]!.body.userId, u.id);
    assert.deepEqual(ok[0]!.body.performedMethods, ['temporaryAccessPassOneTime']);

    const rows = (await signInRows(u.id)).filter((r) => r.correlation_id !== earlier!.body.correlationId);
    assert.equal(rows.length, ONE_TIME_ATTEMPTS, 'every attempt is in the sign-in log');
    assert.equal(rows.filter((r) => r.record.status.errorCode === 0 && r.error_code === 0).length, 1);
    assert.equal(rows.filter((r) => r.record.status.errorCode === TAP_ONE_TIME_USED && r.error_code === TAP_ONE_TIME_USED).length, ONE_TIME_ATTEMPTS - 1);
    assert.equal(new Set(rows.map((r) => r.correlation_id)).size, ONE_TIME_ATTEMPTS, 'one record per flow');
    const success = rows.find((r) => r.error_code === 0)!;
    assert.equal(success.correlation_id, ok[0]!.body.correlationId);
    assert.equal(success.record.authenticationDetails[0].succeeded, true);

    const pass = await client!.query<{ used_at: Date | null }>('SELECT used_at FROM temporary_access_passes WHERE id = $1', [passId]);
    assert.equal(pass.rows.length, 1);
    assert.ok(pass.rows[0]!.used_at instanceof Date, 'the pass is marked used');

    // And afterwards, on either server, it stays used.
    const again = await concurrentTapSignIns(2, u.upn, code);
    assert.deepEqual(again.map((r) => [r.status, r.body?.error?.code]), [[403, 'TapOneTimeUsed'], [403, 'TapOneTimeUsed']]);
  });

  test(`contrast: a multi-use pass used ${MULTI_USE_ATTEMPTS} times concurrently across both servers always succeeds`, async () => {
    const u = await createUser('tap7-multi');
    const { passId, code } = await issuePass(u.id, false);
    const replies = await concurrentTapSignIns(MULTI_USE_ATTEMPTS, u.upn, code);
    assert.deepEqual(tally(replies), { 200: MULTI_USE_ATTEMPTS });
    for (const r of replies) assert.deepEqual(r.body.performedMethods, ['temporaryAccessPassMultiUse']);

    const rows = await signInRows(u.id);
    assert.equal(rows.length, MULTI_USE_ATTEMPTS);
    assert.ok(rows.every((r) => r.error_code === 0 && r.record.status.errorCode === 0));
    const pass = await client!.query<{ used_at: Date | null }>('SELECT used_at FROM temporary_access_passes WHERE id = $1', [passId]);
    assert.equal(pass.rows[0]!.used_at, null, 'a multi-use pass is never marked used');
  });
});
