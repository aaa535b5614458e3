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
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

// ---------- settings ----------

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}='${raw}' must be an integer from ${min} to ${max}`);
  return n;
}

const SECONDS = intEnv('BENCH_SECONDS', 10, 1, 300);
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2, 0, 60);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 10, 1, 200);
const SEED_USERS = intEnv('BENCH_SEED_USERS', 1000, 1, 20_000);
const DATABASES = (process.env.BENCH_DATABASES || 'pglite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const PG_FAST = process.env.BENCH_PG_FSYNC === 'off';
const SETUP_TIMEOUT_MS = 120_000;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'src/cli/main.ts');

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

// ---------- cleanup: synchronous, so it also runs from process.on('exit') ----------

const cleanups: { name: string; fn: () => void }[] = [];
function onCleanup(name: string, fn: () => void): () => void {
  const entry = { name, fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}
function cleanupAll(): void {
  while (cleanups.length) {
    const c = cleanups.pop()!;
    try {
      c.fn();
    } catch (err) {
      process.stderr.write(`cleanup '${c.name}' failed: ${(err as Error).message}\n`);
    }
  }
}
process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping\n`);
    process.exit(130);
  });
}

const log = (msg: string) => process.stderr.write(`· ${msg}\n`);

// ---------- small helpers ----------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The environment for a gatehouse child: ours without anything that would pick another database. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('GATEHOUSE_') || k === 'DATABASE_URL' || k === 'TEST_DATABASE_URL' || k === 'PORT' || k === 'HOST') delete env[k];
  }
  return { ...env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extra };
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
/** CPU seconds (user + system) a process has used so far, from /proc; undefined off Linux. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

type Tenant = { tenantId: string; tokenEndpoint: string; graphBaseUrl: string; automation: { clientId: string; clientSecret: string } };

async function initTenant(env: NodeJS.ProcessEnv): Promise<Tenant> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'init', '--tenant', 'Bench', '--admin', 'admin@bench.test', '--json'], {
    cwd: REPO, env, timeout: SETUP_TIMEOUT_MS, maxBuffer: 1 << 20,
  });
  const r = JSON.parse(stdout) as Partial<Tenant>;
  if (!r.tenantId || !r.tokenEndpoint || !r.automation?.clientId || !r.automation.clientSecret) throw new Error(`gatehouse init printed no tenant: ${stdout.slice(0, 500)}`);
  return r as Tenant;
}

type Server = { child: ChildProcess; baseUrl: string; logLines: string[]; stop(): Promise<void> };

/** `gatehouse serve` as a child process; resolves once it prints its "listening" line. */
async function startServer(env: NodeJS.ProcessEnv, baseUrl: string): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = onCleanup('gatehouse serve', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logLines: string[] = [];
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${SETUP_TIMEOUT_MS / 1000} s:\n${out.slice(-2000)}`)), SETUP_TIMEOUT_MS);
    const onLine = (line: string) => {
      out += `${line}\n`;
      if (line.startsWith('{')) logLines.push(line); // pino: warn and above at LOG_LEVEL=warn
      if (line.startsWith('Gatehouse listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
        if (buf.length > 1 << 16) buf = ''; // no unbounded growth on a line without newline
      });
    }
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}):\n${out.slice(-2000)}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    forget();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    baseUrl,
    logLines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        forget();
        return;
      }
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      forget();
    },
  };
}

async function clientCredentialsToken(t: Tenant): Promise<string> {
  const res = await fetch(t.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: t.automation.clientId, client_secret: t.automation.clientSecret }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

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

// ---------- databases ----------

type Target = { name: string; env: Record<string, string>; describe: string; teardown(): Promise<void> };
type Skipped = { name: string; skipped: string };

function pgliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-pglite-'));
  const forget = onCleanup('PGlite data dir', () => rmSync(dir, { recursive: true, force: true }));
  return {
    name: 'PGlite',
    env: { GATEHOUSE_DATA_DIR: dir },
    describe: `PGlite (embedded, WASM PostgreSQL, fsync off) in a fresh temp dir`,
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}

async function pgQuery<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 15_000, statement_timeout: 60_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A throwaway PostgreSQL on loopback, the way .ci/postgres.sh starts one; returns its admin URL. */
async function startThrowawayPostgres(): Promise<{ url: string } | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'no DATABASE_URL/TEST_DATABASE_URL and not root, so no throwaway server' };
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)) : [];
  versions.sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  if (!newest) return { skipped: "no DATABASE_URL/TEST_DATABASE_URL and Debian's postgresql package is not installed (apt-get install postgresql)" };
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) return { skipped: "no 'postgres' system user to run a throwaway server as" };
  const bin = `/usr/lib/postgresql/${newest}/bin`;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-pg-'));
  onCleanup('throwaway PostgreSQL', () => {
    if (existsSync(join(dir, 'data', 'postmaster.pid'))) spawnSync('runuser', ['-u', 'postgres', '--', `${bin}/pg_ctl`, '-D', join(dir, 'data'), '-m', 'immediate', 'stop'], { stdio: 'ignore', timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (args: string[]) => {
    const r = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: SETUP_TIMEOUT_MS });
    if (r.status !== 0) throw new Error(`${args[0]} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  };
  if (spawnSync('chown', ['postgres:postgres', dir]).status !== 0) throw new Error(`chown postgres ${dir} failed`);
  run([`${bin}/initdb`, '-D', join(dir, 'data'), '--auth=trust', '--no-sync', '-U', 'postgres']);
  const port = await freePort();
  const settings = [`-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c max_connections=100`];
  if (PG_FAST) settings.push('-c fsync=off -c synchronous_commit=off -c full_page_writes=off');
  run([`${bin}/pg_ctl`, '-D', join(dir, 'data'), '-w', '-t', '60', '-l', join(dir, 'log'), '-o', settings.join(' '), 'start']);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

async function postgresTarget(): Promise<Target | Skipped> {
  let admin = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  let origin = admin ? `on ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'TEST_DATABASE_URL'}` : 'throwaway server on loopback';
  if (!admin) {
    const started = await startThrowawayPostgres();
    if ('skipped' in started) return { name: 'PostgreSQL', skipped: started.skipped };
    admin = started.url;
    origin = `throwaway server on loopback${PG_FAST ? ' (BENCH_PG_FSYNC=off)' : ''}`;
  }
  const name = `bench_${randomBytes(6).toString('hex')}`;
  const info = await pgQuery(admin, async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    const get = async (s: string) => String((await c.query(`SHOW ${s}`)).rows[0]?.[s] ?? '?');
    return { version: await get('server_version'), fsync: await get('fsync'), sync: await get('synchronous_commit') };
  });
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const adminUrl = admin;
  // serve locks GATEHOUSE_DATA_DIR only in embedded mode; point it at an empty temp dir anyway so nothing lands in ./data.
  const unused = mkdtempSync(join(tmpdir(), 'gatehouse-bench-unused-'));
  const forget = onCleanup('unused data dir', () => rmSync(unused, { recursive: true, force: true }));
  return {
    name: 'PostgreSQL',
    env: { DATABASE_URL: u.href, GATEHOUSE_DATA_DIR: unused },
    describe: `PostgreSQL ${info.version.split(' ')[0]} (${origin}; fsync=${info.fsync}, synchronous_commit=${info.sync}), fresh database ${name}`,
    async teardown() {
      await pgQuery(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch((err: Error) => log(`could not drop ${name}: ${err.message}`));
      rmSync(unused, { recursive: true, force: true });
      forget();
    },
  };
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
  const server = await startServer(env, baseUrl);
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

async function main(): Promise<number> {
  const watchdogSeconds = DATABASES.length * (4 * (SECONDS + WARMUP_SECONDS + 15) + 4 * SETUP_TIMEOUT_MS / 1000);
  setTimeout(() => {
    process.stderr.write(`bench exceeded its ${watchdogSeconds} s bound; stopping\n`);
    process.exit(1);
  }, watchdogSeconds * 1000).unref();

  const cpu = cpus();
  const header = [
    `# Gatehouse users-API bench, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `node ${process.version}; CPU ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `${SECONDS} s per workload after ${WARMUP_SECONDS} s warm-up, ${CONNECTIONS} connections (autocannon in the bench process, server in a child process); ${SEED_USERS} users seeded before the reads`,
    'req/s: autocannon\'s mean of per-second samples; × /healthz: against the same server\'s /healthz in this run. Server CPU %: the gatehouse',
    'process (100 = one core; PGlite runs inside it, PostgreSQL\'s backends do not); load-gen CPU %: autocannon in the bench process.',
  ];
  const sections: string[] = [];
  let failed = false;
  for (const db of DATABASES) {
    let target: Target | Skipped;
    try {
      if (db === 'pglite') target = pgliteTarget();
      else if (db === 'postgres') target = await postgresTarget();
      else throw new Error(`unknown database '${db}' in BENCH_DATABASES (pglite, postgres)`);
    } catch (err) {
      failed = true;
      sections.push(`## ${db}: failed to set up: ${(err as Error).message}`);
      continue;
    }
    if ('skipped' in target) {
      sections.push(`## ${target.name}: skipped (${target.skipped})`);
      log(`${target.name}: skipped (${target.skipped})`);
      continue;
    }
    try {
      const { rows, serverLog } = await benchDatabase(target);
      const note = serverLog.length ? `\n\nThe server logged ${serverLog.length} warning/error line(s); first: ${serverLog[0]!.slice(0, 400)}` : '';
      sections.push(`## ${target.describe}\n\n${table(rows)}${note}`);
    } catch (err) {
      failed = true;
      sections.push(`## ${target.name}: failed: ${(err as Error).stack ?? String(err)}`);
    } finally {
      await target.teardown();
    }
  }
  process.stdout.write(`${header.join('\n')}\n\n${sections.join('\n\n')}\n`);
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
} finally {
  cleanupAll();
}
process.exit(code);
