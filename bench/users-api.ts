/**
 * Users-API throughput on the embedded database (PGlite) and on PostgreSQL, in one run:
 *
 *   npm run bench                       # BENCH_SECONDS=10 per workload by default
 *
 * For each database the real server runs as a child process (`node src/cli/main.ts serve`), so the
 * load generator (autocannon, in this process) does not share its event loop. Per database:
 * `gatehouse init` creates a tenant and an automation client, a client-credentials token is
 * fetched, BENCH_SEED_USERS users are created, then each workload runs for a short warm-up and a
 * measured BENCH_SECONDS with BENCH_CONNECTIONS connections:
 *
 *   healthz  GET /healthz                          no database, no auth: the ratio baseline
 *   get      GET /graph/v1.0/users/{id}            authenticated single-row read, ids rotate
 *   list     GET /graph/v1.0/users?$top=50         authenticated page read
 *   create   POST /graph/v1.0/users                authenticated write, a unique UPN per request
 *
 * PostgreSQL: a fresh database on DATABASE_URL or TEST_DATABASE_URL when set; otherwise, as root
 * with Debian's postgresql package, a throwaway server on loopback (durable settings unless
 * BENCH_PG_FSYNC=off); otherwise a "PostgreSQL: skipped (why)" line.
 *
 * Everything is bounded: each workload by its duration, setup steps by timeouts, the whole run by
 * a watchdog. Child processes, throwaway servers and temp dirs are removed on exit, also on failure.
 * The machine is shared and noisy: read the ratios to /healthz of the same run, not the absolutes.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  childEnv, clientCredentialsToken, cpuSeconds, DATABASES, freePort, initTenant, intEnv, log, runBench, SECONDS,
  SETUP_TIMEOUT_MS, startServer, WARMUP_SECONDS, type ServerProcess, type Target,
} from './support.ts';

// ---------- settings (the shared ones are in ./support.ts) ----------

const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 10, 1, 200);
const SEED_USERS = intEnv('BENCH_SEED_USERS', 1000, 1, 20_000);

// ---------- autocannon (no bundled types; the few fields used here) ----------

type AcRequest = { method?: string; path?: string; headers?: Record<string, string>; body?: string };
type AcOptions = {
  url: string; connections: number; duration: number; timeout: number; method?: string; headers?: Record<string, string>;
  requests?: (AcRequest & { setupRequest?: (req: AcRequest) => AcRequest })[];
};
type AcResult = {
  duration: number; errors: number; timeouts: number; non2xx: number; '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p99: number };
  requests: { average: number; total: number };
};
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: AcOptions, cb: (err: Error | null, res: AcResult) => void) => unknown;
const runAutocannon = (opts: AcOptions) => new Promise<AcResult>((resolve, reject) => {
  autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
});

// ---------- setup ----------

type Server = ServerProcess & { baseUrl: string };

/** Creates `count` users over HTTP with CONNECTIONS parallel callers; returns their ids. */
async function seedUsers(baseUrl: string, token: string, count: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  const deadline = AbortSignal.timeout(SETUP_TIMEOUT_MS);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const res = await fetch(`${baseUrl}/graph/v1.0/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ accountEnabled: true, displayName: `Seed User ${n}`, userPrincipalName: `seed-${tag}-${n}@bench.test`, mailNickname: `seed${n}` }),
        signal: deadline,
      });
      const body = (await res.json()) as { id?: string };
      if (res.status !== 201 || !body.id) throw new Error(`seeding user ${n}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      ids.push(body.id);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTIONS, count) }, worker));
  return ids;
}

// ---------- workloads ----------

type Row = { workload: string; rps: number; p50: number; p99: number; errors: number; non2xx: number; statuses: string; cpuPct: number | undefined; cpuMsPerReq: number | undefined; loadPct: number };

async function measure(server: Server, label: string, opts: Omit<AcOptions, 'url' | 'connections' | 'duration' | 'timeout'>): Promise<Row> {
  const base = { url: server.baseUrl, connections: CONNECTIONS, timeout: 10, ...opts };
  if (WARMUP_SECONDS > 0) await runAutocannon({ ...base, duration: WARMUP_SECONDS });
  const cpu0 = cpuSeconds(server.child.pid);
  const load0 = process.cpuUsage();
  const r = await runAutocannon({ ...base, duration: SECONDS });
  const load = process.cpuUsage(load0);
  const cpu1 = cpuSeconds(server.child.pid);
  const cpu = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
  const completed = r['2xx'] + r.non2xx;
  const statuses = Object.entries(r.statusCodeStats).filter(([s]) => !s.startsWith('2')).map(([s, v]) => `${s}×${v.count}`).join(' ');
  const row: Row = {
    workload: label, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99,
    errors: r.errors + r.timeouts, non2xx: r.non2xx, statuses,
    cpuPct: cpu === undefined ? undefined : (cpu / r.duration) * 100,
    cpuMsPerReq: cpu === undefined || completed === 0 ? undefined : (cpu * 1000) / completed,
    loadPct: ((load.user + load.system) / 1e6 / r.duration) * 100,
  };
  log(`${label}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.errors} errors, ${row.non2xx} non-2xx ${statuses}`);
  return row;
}

async function benchDatabase(target: Target): Promise<{ rows: Row[]; serverLog: string[] }> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = childEnv({ ...target.env, PORT: String(port), GATEHOUSE_PUBLIC_URL: baseUrl });
  log(`${target.name}: gatehouse init`);
  const tenant = await initTenant(env);
  log(`${target.name}: starting server on ${baseUrl}`);
  const server: Server = { ...(await startServer(env)), baseUrl };
  try {
    const token = await clientCredentialsToken(tenant);
    const tag = randomBytes(4).toString('hex');
    log(`${target.name}: seeding ${SEED_USERS} users`);
    const ids = await seedUsers(baseUrl, token, SEED_USERS, tag);
    const auth = { authorization: `Bearer ${token}` };
    let i = 0;
    let n = 0;
    const rows: Row[] = [];
    rows.push(await measure(server, 'GET /healthz (baseline)', { method: 'GET', requests: [{ path: '/healthz' }] }));
    rows.push(await measure(server, 'GET /users/{id}', {
      headers: auth,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/graph/v1.0/users/${ids[i++ % ids.length]}` }) }],
    }));
    rows.push(await measure(server, 'GET /users?$top=50', { headers: auth, requests: [{ method: 'GET', path: '/graph/v1.0/users?$top=50' }] }));
    rows.push(await measure(server, 'POST /users', {
      headers: { ...auth, 'content-type': 'application/json' },
      requests: [{
        method: 'POST',
        setupRequest: (req) => {
          const k = n++;
          return { ...req, body: JSON.stringify({ accountEnabled: true, displayName: `Bench User ${k}`, userPrincipalName: `load-${tag}-${k}@bench.test`, mailNickname: `load${k}` }) };
        },
        path: '/graph/v1.0/users',
      }],
    }));
    return { rows, serverLog: server.logLines };
  } finally {
    await server.stop();
  }
}

// ---------- report ----------

function table(rows: Row[]): string {
  const base = rows[0]!.rps;
  const fmt = (v: number | undefined, d: number) => (v === undefined ? 'n/a' : v.toFixed(d));
  const lines = [
    '| workload | req/s | p50 ms | p99 ms | × /healthz | server CPU % | server CPU ms/req | load-gen CPU % | errors / non-2xx |',
    '|---|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of rows) {
    const bad = `${r.errors} / ${r.non2xx}${r.statuses ? ` (${r.statuses})` : ''}`;
    lines.push(`| ${r.workload} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${(r.rps / base).toFixed(2)} | ${fmt(r.cpuPct, 0)} | ${fmt(r.cpuMsPerReq, 2)} | ${r.loadPct.toFixed(0)} | ${bad} |`);
  }
  return lines.join('\n');
}

await runBench({
  watchdogSeconds: DATABASES.length * (4 * (SECONDS + WARMUP_SECONDS + 15) + 4 * SETUP_TIMEOUT_MS / 1000),
  title: '# Gatehouse users-API bench',
  about: [
    `${SECONDS} s per workload after ${WARMUP_SECONDS} s warm-up, ${CONNECTIONS} connections (autocannon in the bench process, server in a child process); ${SEED_USERS} users seeded before the reads`,
    'req/s: autocannon\'s mean of per-second samples; × /healthz: against the same server\'s /healthz in this run. Server CPU %: the gatehouse',
    'process (100 = one core; PGlite runs inside it, PostgreSQL\'s backends do not); load-gen CPU %: autocannon in the bench process.',
  ],
  pgliteDescribe: `PGlite (embedded, WASM PostgreSQL, fsync off) in a fresh temp dir`,
  noteUndroppedDatabase: false,
  async bench(target) {
    const { rows, serverLog } = await benchDatabase(target);
    return { table: table(rows), serverLog };
  },
});
