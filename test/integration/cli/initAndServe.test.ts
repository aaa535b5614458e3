import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clientCredentialsToken, freePort, freshPostgresDatabase, onPostgres } from '../../support/harness.ts';
import { runCli, serve } from '../../support/processes.ts';

/**
 * The operator's contract (architecture.md): `gatehouse init --json`, then `gatehouse serve` with
 * the same environment agree on the issuer, and a client-credentials token from that issuer
 * manages the directory through /graph/v1.0.
 */
describe(`gatehouse init and serve as separate processes (${onPostgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  let env: Record<string, string>;
  let dataDir: string;
  let drop: (() => Promise<void>) | undefined;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    env = { PORT: String(await freePort()), GATEHOUSE_DATA_DIR: join(dataDir, 'data') };
    if (onPostgres) {
      const pg = await freshPostgresDatabase();
      env.DATABASE_URL = pg.url;
      drop = pg.drop;
    } else {
      env.DATABASE_URL = '';
    }
  });
  after(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await drop?.();
  });

  test('init --json prints ids, the automation client and the issuer; serve honours them', async () => {
    const init = await runCli(['init', '--tenant', 'Contoso', '--admin', 'admin@contoso.test', '--json'], env);
    assert.equal(init.code, 0, init.stderr);
    const out = JSON.parse(init.stdout);
    assert.equal(out.issuer, `http://localhost:${env.PORT}/${out.tenantId}/v2.0`);
    assert.equal(out.admin.userPrincipalName, 'admin@contoso.test');
    assert.match(out.automation.clientId, /^[0-9a-f-]{36}$/);
    assert.equal(typeof out.automation.clientSecret, 'string');

    const server = await serve(env);
    try {
      assert.doesNotMatch(server.output(), /First start/, 'a tenant exists, so no default tenant is made');
      const health = await fetch(`http://localhost:${env.PORT}/healthz`);
      assert.equal(health.status, 200);
      const discovery = await (await fetch(`${out.issuer}/.well-known/openid-configuration`)).json() as { issuer: string; token_endpoint: string };
      assert.equal(discovery.issuer, out.issuer);
      const token = await clientCredentialsToken(discovery.token_endpoint, out.automation.clientId, out.automation.clientSecret);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const user = await fetch(`http://localhost:${env.PORT}/graph/v1.0/users`, { method: 'POST', headers, body: JSON.stringify({ displayName: 'Ada', userPrincipalName: 'ada@contoso.test' }) });
      assert.equal(user.status, 201);
      const group = await fetch(`http://localhost:${env.PORT}/graph/v1.0/groups`, { method: 'POST', headers, body: JSON.stringify({ displayName: 'Engineers' }) });
      assert.equal(group.status, 201);

      // The bootstrap path: the first admin signs in with the one-time TAP init printed.
      assert.match(out.admin.temporaryAccessPass.code, /^[23456789A-HJKMNP-Z]{8}$/);
      assert.equal(out.admin.temporaryAccessPass.isUsableOnce, true);
      const json = { 'content-type': 'application/json' };
      const flow = await (await fetch(`http://localhost:${env.PORT}/api/flows/${out.tenantId}/sign-in`, { method: 'POST', headers: json, body: '{}' })).json() as { flowId: string };
      const tap = await fetch(`http://localhost:${env.PORT}/api/flows/${out.tenantId}/sign-in/${flow.flowId}/tap`, {
        method: 'POST', headers: json, body: JSON.stringify({ username: 'admin@contoso.test', code: out.admin.temporaryAccessPass.code }),
      });
      assert.equal(tap.status, 200);
      assert.deepEqual(((await tap.json()) as { performedMethods: string[] }).performedMethods, ['temporaryAccessPassOneTime']);

      if (!onPostgres) {
        // PGlite can't be shared: a second server, or a CLI command, on the same directory is refused clearly.
        const second = await serve({ ...env, PORT: String(await freePort()) }).then(
          async (s) => { await s.stop(); return { exitCode: 0, output: 'started' }; },
          (e: { exitCode: number; output: string }) => e,
        );
        assert.equal(second.exitCode, 1);
        assert.match(second.output, /in use by gatehouse serve \(pid \d+/);
        const list = await runCli(['user', 'list', '--json'], env);
        assert.equal(list.code, 1);
        assert.equal(JSON.parse(list.stdout).error.code, 'DataDirectoryLocked');
      } else {
        // On PostgreSQL, CLI commands run beside the server.
        const list = await runCli(['user', 'list', '--json'], env);
        assert.equal(list.code, 0, list.stderr);
        assert.ok(JSON.parse(list.stdout).some((u: { userPrincipalName: string }) => u.userPrincipalName === 'ada@contoso.test'));
      }
    } finally {
      const code = await server.stop('SIGTERM');
      assert.equal(code, 0, 'graceful shutdown exits 0');
    }
    if (!onPostgres) assert.equal(existsSync(join(env.GATEHOUSE_DATA_DIR!, 'gatehouse.lock')), false, 'lock released on shutdown');
    const after = await runCli(['user', 'list', '--json'], env);
    assert.equal(after.code, 0, after.stderr);
    assert.ok(JSON.parse(after.stdout).some((u: { userPrincipalName: string }) => u.userPrincipalName === 'ada@contoso.test'), 'data survived the restart');
  });

  test('bad CLI input is a clear error naming the field, in JSON with --json', async () => {
    const r = await runCli(['init', '--tenant', 'X', '--admin', 'not an upn', '--json'], env);
    assert.equal(r.code, 1);
    const body = JSON.parse(r.stdout);
    assert.equal(body.error.target, 'admin');
    const role = await runCli(['role', 'assign', '--role', 'Emperor', '--principal', 'x', '--tenant', 'Contoso', '--json'], env);
    assert.equal(role.code, 1);
    assert.equal(JSON.parse(role.stdout).error.target, '--role');
  });
});

describe('first start on an empty database', () => {
  test('sets up a default tenant once and prints where to sign in and the first admin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-first-'));
    const pg = onPostgres ? await freshPostgresDatabase() : undefined;
    const env = { PORT: String(await freePort()), GATEHOUSE_DATA_DIR: join(dir, 'data'), DATABASE_URL: pg?.url ?? '', GATEHOUSE_ADMIN: 'first@example.test' };
    try {
      const s = await serve(env);
      assert.match(s.output(), /First start: set up a default tenant/);
      assert.match(s.output(), /first admin: +first@example\.test/);
      assert.match(s.output(), new RegExp(`sign-in flow API: +POST http://localhost:${env.PORT}/api/flows/[0-9a-f-]{36}/sign-in`));
      assert.match(s.output(), new RegExp(`security info: +http://localhost:${env.PORT}/[0-9a-f-]{36}/my-sign-ins`));
      assert.match(s.output(), new RegExp(`admin console: +http://localhost:${env.PORT}/[0-9a-f-]{36}/admin`));
      assert.match(s.output(), /admin.s TAP: +[23456789A-HJKMNP-Z]{8} +\(one-time/);
      assert.equal(await s.stop(), 0);
      const again = await serve(env);
      assert.doesNotMatch(again.output(), /First start/);
      assert.equal(await again.stop(), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await pg?.drop();
    }
  });
});
