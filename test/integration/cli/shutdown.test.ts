import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clientCredentialsToken, freePort, freshPostgresDatabase, onPostgres } from '../../support/harness.ts';
import { runCli, serve } from '../../support/processes.ts';

test('graceful shutdown: requests in flight at SIGTERM finish; every 201 is in the database and nothing else is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-shutdown-'));
  const pg = onPostgres ? await freshPostgresDatabase() : undefined;
  const env = { PORT: String(await freePort()), GATEHOUSE_DATA_DIR: join(dir, 'data'), DATABASE_URL: pg?.url ?? '' };
  try {
    const init = JSON.parse((await runCli(['init', '--tenant', 'Contoso', '--admin', 'admin@contoso.test', '--json'], env)).stdout);
    const server = await serve(env);
    const token = await clientCredentialsToken(init.tokenEndpoint, init.automation.clientId, init.automation.clientSecret);
    const create = (i: number) => fetch(`http://localhost:${env.PORT}/graph/v1.0/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ displayName: `Burst ${i}`, userPrincipalName: `burst${i}@contoso.test` }),
    }).then((r) => r.status, () => 'refused' as const);
    const inFlight = Array.from({ length: 60 }, (_, i) => create(i));
    // SIGTERM once the server is demonstrably busy: the first write has come back, the rest are queued behind it
    await Promise.any(inFlight.map((p) => p.then((s) => (s === 201 ? s : Promise.reject(new Error(String(s)))))));
    const exited = server.stop('SIGTERM');
    const statuses = await Promise.all(inFlight);
    assert.equal(await exited, 0, 'the server exits cleanly');
    for (const s of statuses) assert.ok(s === 201 || s === 503 || s === 'refused', `unexpected answer ${s}`);
    const created = statuses.filter((s) => s === 201).length;
    assert.ok(created >= 1, 'some writes were accepted before the shutdown');
    const list = await runCli(['user', 'list', '--filter', "startswith(displayName,'Burst')", '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(JSON.parse(list.stdout).length, created, `answers: ${JSON.stringify(statuses)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await pg?.drop();
  }
});
