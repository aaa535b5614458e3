/**
 * Sign-in log queries (LOG-4) over a large log, through the HTTP API:
 *
 *   npm run bench:logs                      # PostgreSQL; BENCH_LOG_ROWS=1000000 by default
 *
 * Per database (PostgreSQL only: the rows are loaded with SQL beside the running server, which
 * PGlite's single-process lock does not allow): `gatehouse init --json` creates a tenant and its
 * automation client; one real TAP sign-in through the flow API gives a real `signIn` record, used
 * as the template of BENCH_LOG_ROWS records loaded with INSERT … SELECT FROM generate_series in
 * batches (BENCH_LOG_USERS users, BENCH_LOG_APPS apps, the last 29 days, ~85% successes and four error
 * codes), then ANALYZE. Then `gatehouse serve` runs as a child process and the bench sends each
 * query BENCH_LOG_SAMPLES times, one at a time (latency, not throughput), with a different user,
 * app or window each time, after a short warm-up:
 *
 *   user+window   userId eq … and createdDateTime ge … and createdDateTime le … (7 days)
 *   upn           userPrincipalName eq …
 *   app+error     appId eq … and status/errorCode eq 50076
 *   first page    no filter (the tenant's newest 50)
 *   deep page     page 40 of `appId eq …` with $top=50, fetched from its @odata.nextLink
 *   correlation   correlationId eq …
 *
 * The report gives p50/p95/p99 per query, the mean time PostgreSQL spent executing it
 * (pg_stat_statements), the CPU the server process and PostgreSQL used per request (from /proc:
 * unlike latency, not inflated by other work on a shared machine), the row count, and the table
 * and index sizes.
 * Nothing is asserted. Databases, servers and temp dirs are removed on exit.
 */
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { childEnv, clientCredentialsToken, cpuDelta, cpuSeconds, freePort, initTenant, intEnv, log, postgresCpu, runBench, startServer, type Target } from './support.ts';

const ROWS = intEnv('BENCH_LOG_ROWS', 1_000_000, 1000, 20_000_000);
const USERS = intEnv('BENCH_LOG_USERS', 10_000, 10, 1_000_000);
const APPS = intEnv('BENCH_LOG_APPS', 20, 1, 1000);
const SAMPLES = intEnv('BENCH_LOG_SAMPLES', 200, 10, 100_000);
const BATCH = 100_000;
const DEEP_PAGE = 40;

type Timing = { name: string; ms: number[]; rows: number[]; bytes: number[]; failures: number; firstFailure?: string; dbMs?: number; serverCpuMs?: number; pgCpuMs?: number };

function get(agent: http.Agent, url: string, token: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${url}: no answer within 30 s`)));
    req.on('error', reject);
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const userId = (n: number) => `md5('u${n}')`; // the SQL below derives user ids the same way
const bytes = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);

/** One real sign-in through the flow API: a user, a multi-use TAP, a TAP step. Its record is the template. */
async function realSignIn(base: string, tenantId: string, token: string): Promise<void> {
  const call = async (method: string, path: string, body: unknown, auth = true) => {
    const res = await fetch(`${base}${path}`, {
      method, headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}), 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0' },
      body: JSON.stringify(body), signal: AbortSignal.timeout(30_000),
    });
    const json = await res.json() as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    return json;
  };
  const user = await call('POST', '/graph/v1.0/users', { displayName: 'Template User', userPrincipalName: 'template@bench.test' });
  const pass = await call('POST', `/graph/v1.0/users/${String(user.id)}/authentication/temporaryAccessPassMethods`, { lifetimeInMinutes: 240, isUsableOnce: false });
  const flow = await call('POST', `/api/flows/${tenantId}/sign-in`, { capabilities: { webauthn: true }, userAction: 'registerSecurityInformation' }, false);
  await call('POST', `/api/flows/${tenantId}/sign-in/${String(flow.flowId)}/tap`, { username: 'template@bench.test', code: pass.temporaryAccessPass }, false);
}

/** BENCH_LOG_ROWS records from the template, in batches; returns seconds taken. */
async function load(c: pg.Client, tenantId: string): Promise<number> {
  const t0 = performance.now();
  const template = (await c.query<{ record: Record<string, unknown> }>('SELECT record FROM sign_ins WHERE tenant_id = $1 ORDER BY created_date_time DESC LIMIT 1', [tenantId])).rows[0]?.record;
  if (!template) throw new Error('the template sign-in left no record');
  for (let from = 0; from < ROWS; from += BATCH) {
    const to = Math.min(ROWS, from + BATCH) - 1;
    await c.query(`
      INSERT INTO sign_ins (id, tenant_id, created_date_time, user_id, user_principal_name, app_id, ip_address, error_code, correlation_id, record, conditional_access_status, is_interactive)
      SELECT s.id, $1::uuid, s.at, s.uid, s.upn, s.app, s.ip, s.err, s.corr,
        $2::jsonb || jsonb_build_object(
          'id', s.id, 'createdDateTime', to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'userId', s.uid, 'userPrincipalName', s.upn,
          'userDisplayName', 'User ' || s.u, 'appId', s.app, 'appDisplayName', 'App ' || s.a, 'resourceId', s.app, 'resourceDisplayName', 'App ' || s.a,
          'ipAddress', s.ip, 'correlationId', s.corr, 'isInteractive', s.inter,
          'status', jsonb_build_object('errorCode', s.err, 'failureReason', CASE WHEN s.err = 0 THEN 'Other.' ELSE 'Bench failure ' || s.err END, 'additionalDetails', NULL)),
        'success', s.inter
      FROM (
        SELECT gen_random_uuid() AS id, g.u, g.a, g.r, g.r2,
          date_trunc('milliseconds', now() - (g.r * interval '29 days')) AS at,
          md5('u' || g.u)::uuid AS uid, 'user' || g.u || '@bench.test' AS upn, md5('a' || g.a)::uuid::text AS app,
          '10.' || (g.u % 250) || '.' || (g.u / 250 % 250) || '.' || (g.a % 250) AS ip,
          CASE WHEN g.r2 < 0.85 THEN 0 WHEN g.r2 < 0.90 THEN 50076 WHEN g.r2 < 0.95 THEN 50126 WHEN g.r2 < 0.98 THEN 53003 ELSE 900403 END AS err,
          gen_random_uuid() AS corr, g.r2 < 0.7 AS inter
        FROM (SELECT n, floor(random() * $3)::int AS u, floor(random() * $4)::int AS a, random() AS r, random() AS r2 FROM generate_series($5::int, $6::int) AS n) AS g
      ) AS s`, [tenantId, JSON.stringify(template), USERS, APPS, from, to]);
    log(`loaded ${to + 1} of ${ROWS} rows (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await c.query('ANALYZE sign_ins');
  return (performance.now() - t0) / 1000;
}

async function sizes(c: pg.Client, tenantId: string): Promise<string[]> {
  const rows = (await c.query<{ n: string }>('SELECT count(*)::text AS n FROM sign_ins WHERE tenant_id = $1', [tenantId])).rows[0]!.n;
  const rec = (await c.query<{ avg: string }>('SELECT avg(pg_column_size(record))::int::text AS avg FROM (SELECT record FROM sign_ins TABLESAMPLE SYSTEM (1)) s')).rows[0]?.avg;
  const t = (await c.query<{ heap: string; toast: string; total: string }>(`SELECT pg_relation_size('sign_ins')::text AS heap, (pg_total_relation_size('sign_ins') - pg_relation_size('sign_ins') - pg_indexes_size('sign_ins'))::text AS toast, pg_total_relation_size('sign_ins')::text AS total`)).rows[0]!;
  const idx = (await c.query<{ name: string; size: string }>(`SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid)::text AS size FROM pg_index WHERE indrelid = 'sign_ins'::regclass ORDER BY 1`)).rows;
  return [
    `sign_ins: ${Number(rows).toLocaleString('en')} rows in the bench tenant; record ~${rec ?? '?'} bytes stored (jsonb, after TOAST compression)`,
    `table ${bytes(Number(t.heap))} heap + ${bytes(Number(t.toast))} TOAST; ${bytes(Number(t.total))} with indexes`,
    ...idx.map((i) => `  index ${i.name}: ${bytes(Number(i.size))}`),
  ];
}

/**
 * Mean time PostgreSQL spent executing the sign-in page queries since the last reset
 * (pg_stat_statements, when the server has it loaded), to tell database time from the rest.
 */
async function dbTime(c: pg.Client): Promise<number | undefined> {
  try {
    const r = await c.query<{ ms: string | null }>(`SELECT (sum(total_exec_time) / nullif(sum(calls), 0))::text AS ms FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query LIKE '%FROM "sign_ins" WHERE%ORDER BY%'`);
    return r.rows[0]?.ms ? Number(r.rows[0].ms) : undefined;
  } catch {
    return undefined;
  }
}
const resetDbTime = (c: pg.Client) => c.query('SELECT pg_stat_statements_reset()').then(() => undefined, () => undefined);

/** CPU used by the server process and by PostgreSQL's processes: per request, these don't depend on how busy the machine is. */
type CpuProbe = { serverPid: number | undefined; postmasterPid: number | undefined };

async function measure(c: pg.Client, token: string, timings: Timing[], agent: http.Agent, make: Map<string, (i: number) => Promise<string>>, cpu: CpuProbe): Promise<void> {
  await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').catch(() => undefined);
  for (const t of timings) {
    const urlOf = make.get(t.name)!;
    for (let i = -10; i < 0; i++) await get(agent, await urlOf(i), token); // warm-up
    await resetDbTime(c);
    const serverBefore = cpuSeconds(cpu.serverPid);
    const pgBefore = cpu.postmasterPid ? postgresCpu(cpu.postmasterPid) : undefined;
    for (let i = 0; i < SAMPLES; i++) {
      const url = await urlOf(i);
      const t0 = performance.now();
      const r = await get(agent, url, token);
      const ms = performance.now() - t0;
      if (r.status !== 200) {
        t.failures++;
        t.firstFailure ??= `${r.status} ${r.text.slice(0, 300)}`;
        continue;
      }
      t.ms.push(ms);
      t.rows.push((JSON.parse(r.text) as { value: unknown[] }).value.length);
      t.bytes.push(r.text.length);
    }
    const serverAfter = cpuSeconds(cpu.serverPid);
    if (serverBefore !== undefined && serverAfter !== undefined) t.serverCpuMs = ((serverAfter - serverBefore) * 1000) / SAMPLES;
    if (pgBefore && cpu.postmasterPid) t.pgCpuMs = (cpuDelta(pgBefore, postgresCpu(cpu.postmasterPid)) * 1000) / SAMPLES;
    const db = await dbTime(c);
    if (db !== undefined) t.dbMs = db;
    log(`${t.name}: p95 ${pct([...t.ms].sort((a, b) => a - b), 95).toFixed(1)} ms`);
  }
}

async function benchTarget(target: Target): Promise<{ table: string; serverLog: string[] }> {
  if (!target.env.DATABASE_URL) throw new Error('this bench loads rows with SQL beside the running server: PostgreSQL only (BENCH_DATABASES=postgres)');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = childEnv({ ...target.env, PORT: String(port), GATEHOUSE_PUBLIC_URL: base });
  log(`${target.name}: gatehouse init`);
  const tenant = await initTenant(env);
  const server = await startServer(env, { outputChars: 1 << 16, logLines: 1000 });
  const c = new pg.Client({ connectionString: target.env.DATABASE_URL });
  await c.connect();
  try {
    const token = await clientCredentialsToken(tenant);
    await realSignIn(base, tenant.tenantId, token);
    log(`${target.name}: loading ${ROWS} sign-in records`);
    const loadSeconds = await load(c, tenant.tenantId);
    const sizeLines = await sizes(c, tenant.tenantId);
    // Real values to ask for: users, apps and correlation ids that exist.
    const users = Array.from({ length: 500 }, (_, i) => (i * 7919) % USERS);
    const uids = new Map<number, string>();
    for (const u of users) uids.set(u, (await c.query<{ id: string }>(`SELECT ${userId(u)}::uuid::text AS id`)).rows[0]!.id);
    const apps = (await c.query<{ app: string }>('SELECT DISTINCT app_id AS app FROM sign_ins WHERE tenant_id = $1 AND app_id IS NOT NULL LIMIT 50', [tenant.tenantId])).rows.map((r) => r.app);
    const corrs = (await c.query<{ id: string }>('SELECT correlation_id::text AS id FROM sign_ins WHERE tenant_id = $1 ORDER BY random() LIMIT 500', [tenant.tenantId])).rows.map((r) => r.id);
    const now = Date.now();
    const url = (filter: string | null, top?: number) => `${base}/graph/v1.0/auditLogs/signIns?${new URLSearchParams({ ...(filter ? { $filter: filter } : {}), ...(top ? { $top: String(top) } : {}) })}`;
    const pick = <T>(xs: readonly T[], i: number) => xs[((i % xs.length) + xs.length) % xs.length]!;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // The deep pages: walk DEEP_PAGE pages of an app's list once per app, keep the last nextLink.
    const deepLinks: string[] = [];
    for (const app of apps.slice(0, 10)) {
      let link = url(`appId eq '${app}'`, 50);
      for (let p = 1; p < DEEP_PAGE; p++) {
        const r = await get(agent, link, token);
        const next = (JSON.parse(r.text) as { '@odata.nextLink'?: string })['@odata.nextLink'];
        if (!next) break;
        link = next;
      }
      deepLinks.push(link);
    }
    const make = new Map<string, (i: number) => Promise<string>>([
      ['user+window (7 days)', async (i) => {
        const end = now - (i % 23) * 86_400_000;
        return url(`userId eq '${uids.get(pick(users, i))}' and createdDateTime ge ${new Date(end - 7 * 86_400_000).toISOString()} and createdDateTime le ${new Date(end).toISOString()}`);
      }],
      ['userPrincipalName', async (i) => url(`userPrincipalName eq 'user${pick(users, i)}@bench.test'`)],
      ['appId+errorCode', async (i) => url(`appId eq '${pick(apps, i)}' and status/errorCode eq 50076`)],
      ['first page, no filter', async () => url(null)],
      [`deep page (${DEEP_PAGE}) via nextLink`, async (i) => pick(deepLinks, i).replace(/^http:\/\/[^/]+/, base)],
      ['correlationId', async (i) => url(`correlationId eq '${pick(corrs, i)}'`)],
    ]);
    const timings: Timing[] = [...make.keys()].map((name) => ({ name, ms: [], rows: [], bytes: [], failures: 0 }));
    const loadBefore = loadavg()[0]!;
    await measure(c, token, timings, agent, make, { serverPid: server.child.pid, postmasterPid: target.postmasterPid });
    const loadAfter = loadavg()[0]!;
    agent.destroy();
    const table = [
      `Loaded ${ROWS.toLocaleString('en')} records (${USERS.toLocaleString('en')} users, ${APPS} apps, over the last 29 days: inside the default 30-day sign-in retention, so the server's pruner leaves them) in ${loadSeconds.toFixed(0)} s.`,
      '',
      ...sizeLines,
      '',
      `Machine load average (1 min) ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the measurements, on ${cpus().length} cores: other work shares the machine.`,
      '',
      `| query (${SAMPLES} requests each, one at a time) | p50 ms | p95 ms | p99 ms | max ms | in PostgreSQL, mean ms | server CPU ms/request | PostgreSQL CPU ms/request | rows/page | bytes/page | failures |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...timings.map((t) => {
        const s = [...t.ms].sort((a, b) => a - b);
        const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
        return `| ${t.name} | ${pct(s, 50).toFixed(1)} | ${pct(s, 95).toFixed(1)} | ${pct(s, 99).toFixed(1)} | ${(s.at(-1) ?? NaN).toFixed(1)} | ${t.dbMs === undefined ? '–' : t.dbMs.toFixed(2)} | ${t.serverCpuMs === undefined ? '–' : t.serverCpuMs.toFixed(1)} | ${t.pgCpuMs === undefined ? '–' : t.pgCpuMs.toFixed(1)} | ${avg(t.rows).toFixed(1)} | ${avg(t.bytes).toFixed(0)} | ${t.failures}${t.firstFailure ? ` (${t.firstFailure.slice(0, 120)})` : ''} |`;
      }),
    ].join('\n');
    return { table, serverLog: server.logLines };
  } finally {
    await c.end();
    await server.stop();
  }
}

await runBench({
  watchdogSeconds: 3600,
  title: 'Gatehouse sign-in log queries (LOG-4)',
  about: [`BENCH_LOG_ROWS=${ROWS}, BENCH_LOG_USERS=${USERS}, BENCH_LOG_APPS=${APPS}, BENCH_LOG_SAMPLES=${SAMPLES}; server and client on this machine, one request at a time over keep-alive HTTP.`],
  pgliteDescribe: 'PGlite (not supported by this bench)',
  noteUndroppedDatabase: true,
  bench: benchTarget,
});
