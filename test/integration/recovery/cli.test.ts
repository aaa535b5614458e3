import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, freshPostgresDatabase, onPostgres } from '../../support/harness.ts';
import { runCli as run } from '../../support/processes.ts';

/** Each command is a fresh Node process opening the database: generous on a busy machine. */
const CLI_TIMEOUT_MS = 240_000;
const runCli = (args: string[], env: Record<string, string>) => run(args, env, CLI_TIMEOUT_MS);

/**
 * `gatehouse recovery …` for the local operator (RCV-1..RCV-3, docs/recovery.md): open, show,
 * list, approve (four eyes: another --operator), cancel, cleanup, with --json and without.
 */
describe('gatehouse recovery (CLI)', { timeout: 30 * 60_000 }, () => {
  const t = { env: {} as Record<string, string>, dir: '', drop: undefined as undefined | (() => Promise<void>) };
  before(async () => {
    t.dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-recovery-'));
    t.env = { PORT: String(await freePort()), GATEHOUSE_DATA_DIR: join(t.dir, 'data'), DATABASE_URL: '' };
    if (onPostgres) {
      const pg = await freshPostgresDatabase();
      t.env.DATABASE_URL = pg.url;
      t.drop = pg.drop;
    }
    const init = await runCli(['init', '--tenant', 'Contoso', '--admin', 'admin@contoso.test', '--json'], t.env);
    assert.equal(init.code, 0, init.stderr);
    const user = await runCli(['user', 'create', '--upn', 'ada@contoso.test', '--name', 'Ada', '--json'], t.env);
    assert.equal(user.code, 0, user.stderr);
  });
  after(async () => {
    rmSync(t.dir, { recursive: true, force: true });
    await t.drop?.();
  });
  const cli = async (args: string[]) => {
    const r = await runCli(['recovery', ...args], t.env);
    return { ...r, json: r.stdout.trim().startsWith('{') || r.stdout.trim().startsWith('[') ? JSON.parse(r.stdout) : undefined };
  };

  test('open takes effect for a member and prints the case TAP once; show and list never print it; cancel deletes it', async () => {
    const opened = await cli(['open', 'ada@contoso.test', '--verification', 'inPerson', '--reference', 'desk 4', '--note', 'passport seen', '--json']);
    assert.equal(opened.code, 0, opened.stderr + opened.stdout);
    const c = opened.json.case;
    assert.equal(c.state, 'active');
    assert.equal(c.openedBy.kind, 'operator');
    const code = opened.json.temporaryAccessPass.temporaryAccessPass as string;
    assert.equal(opened.json.temporaryAccessPass.isUsableOnce, true);
    const shown = await cli(['show', c.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /: active/);
    assert.ok(!shown.stdout.includes(code));
    const listed = await cli(['list', '--state', 'active', '--json']);
    assert.deepEqual(listed.json.map((x: { id: string }) => x.id), [c.id]);
    assert.ok(!listed.stdout.includes(code));
    const cancelled = await cli(['cancel', c.id, '--reason', 'test', '--json']);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.json.case.state, 'cancelled');
    const passes = await runCli(['tap', 'show', 'ada@contoso.test', '--json'], t.env);
    assert.deepEqual(JSON.parse(passes.stdout), [], 'the case TAP is deleted');
  });

  test('an admin target waits for approval; the opening operator cannot approve; another operator can and gets the TAP', async () => {
    const opened = await cli(['open', 'admin@contoso.test', '--verification', 'videoCall', '--reference', 'INC-9', '--operator', 'ann', '--json']);
    assert.equal(opened.code, 0, opened.stderr + opened.stdout);
    assert.equal(opened.json.case.state, 'pendingApproval');
    assert.equal(opened.json.temporaryAccessPass, undefined);
    const self = await cli(['approve', opened.json.case.id, '--operator', 'ann', '--json']);
    assert.equal(self.code, 1);
    assert.match(self.json.error.message, /opened the case cannot approve/);
    const approved = await cli(['approve', opened.json.case.id, '--operator', 'bob']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /: active/);
    assert.match(approved.stdout, /case TAP: +\S{8,} +\(one-time/);
    assert.equal((await cli(['cancel', opened.json.case.id, '--json'])).code, 0);
  });

  test('bad input names the field; cleanup runs and reports', async () => {
    const bad = await cli(['open', 'ada@contoso.test', '--verification', 'carrierPigeon', '--reference', 'x', '--json']);
    assert.equal(bad.code, 1);
    assert.equal(bad.json.error.target, 'verification.method');
    const unknownMethod = await cli(['open', 'ada@contoso.test', '--verification', 'other', '--reference', 'x', '--methods', '00000000-0000-4000-8000-000000000001', '--json']);
    assert.equal(unknownMethod.code, 1);
    assert.equal(unknownMethod.json.error.target, 'methodIds');
    const badState = await cli(['list', '--state', 'open', '--json']);
    assert.equal(badState.json.error.target, 'state');
    const cleanup = await cli(['cleanup', '--at', new Date(Date.now() + 30 * 86_400_000).toISOString(), '--json']);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.deepEqual(cleanup.json.cases, []);
    assert.deepEqual(cleanup.json.notifications, { delivered: [], retrying: [], failed: [] });
    assert.equal((await cli(['cleanup', '--at', 'yesterday', '--json'])).json.error.target, '--at');
  });
});
