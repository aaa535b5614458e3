import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, freshPostgresDatabase, onPostgres } from '../../support/harness.ts';
import { runCli } from '../../support/processes.ts';

describe('gatehouse tap / methods for the local operator (--json on every command)', () => {
  let env: Record<string, string>;
  let dir: string;
  let drop: (() => Promise<void>) | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-methods-'));
    env = { PORT: String(await freePort()), GATEHOUSE_DATA_DIR: join(dir, 'data'), DATABASE_URL: '' };
    if (onPostgres) {
      const pg = await freshPostgresDatabase();
      env.DATABASE_URL = pg.url;
      drop = pg.drop;
    }
    const init = await runCli(['init', '--tenant', 'Contoso', '--admin', 'admin@contoso.test', '--json'], env);
    assert.equal(init.code, 0, init.stderr);
    const user = await runCli(['user', 'create', '--upn', 'ada@contoso.test', '--name', 'Ada', '--json'], env);
    assert.equal(user.code, 0, user.stderr);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await drop?.();
  });

  test('tap issue prints the code once; show never does; the issue is audited as the operator', async () => {
    const issued = await runCli(['tap', 'issue', 'ada@contoso.test', '--lifetime', '120', '--once', '--json'], env);
    assert.equal(issued.code, 0, issued.stderr);
    const pass = JSON.parse(issued.stdout);
    assert.match(pass.temporaryAccessPass, /^[23456789A-HJKMNP-Z]{8}$/);
    assert.equal(pass.lifetimeInMinutes, 120);
    assert.equal(pass.isUsableOnce, true);
    const shown = await runCli(['tap', 'show', 'ada@contoso.test', '--json'], env);
    assert.equal(shown.code, 0);
    assert.equal(JSON.parse(shown.stdout)[0].temporaryAccessPass, null);
    assert.ok(!shown.stdout.includes(pass.temporaryAccessPass));
    const listed = await runCli(['methods', 'list', 'ada@contoso.test', '--json'], env);
    assert.deepEqual(JSON.parse(listed.stdout).map((m: { id: string }) => m.id), [pass.id]);
  });

  test('tap issue outside the policy bounds is refused naming the bound', async () => {
    const r = await runCli(['tap', 'issue', 'ada@contoso.test', '--lifetime', '5', '--json'], env);
    assert.equal(r.code, 1);
    const e = JSON.parse(r.stdout).error;
    assert.equal(e.target, 'lifetimeInMinutes');
    assert.match(e.message, /minimumLifetimeInMinutes/);
  });

  test('methods delete removes the pass; tap delete on a user without one is a clear not-found', async () => {
    const [pass] = JSON.parse((await runCli(['tap', 'show', 'ada@contoso.test', '--json'], env)).stdout);
    const del = await runCli(['methods', 'delete', 'ada@contoso.test', pass.id, '--json'], env);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(JSON.parse((await runCli(['methods', 'list', 'ada@contoso.test', '--json'], env)).stdout), []);
    const again = await runCli(['tap', 'delete', 'ada@contoso.test', '--json'], env);
    assert.equal(again.code, 1);
    assert.equal(JSON.parse(again.stdout).error.code, 'Request_ResourceNotFound');
  });
});
