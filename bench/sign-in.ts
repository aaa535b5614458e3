/**
 * Sign-in flows per second on the embedded database (PGlite) and on PostgreSQL, in one run:
 *
 *   npm run bench:sign-in               # BENCH_SECONDS=10 per workload by default
 *
 * For each database the real server runs as a child process (`node src/cli/main.ts serve`) with
 * GATEHOUSE_PUBLIC_URL=http://localhost:PORT, so the WebAuthn RP id is `localhost`. Per database:
 * `gatehouse init --json` creates a tenant and an automation client; over the Graph API the bench
 * creates BENCH_USERS users, provisions each a passkey (a software authenticator per user, synced
 * style with a zero signature counter) and issues each a multi-use Temporary Access Pass. Then each
 * workload runs for a short warm-up and a measured BENCH_SECONDS with BENCH_CONCURRENCY virtual
 * users. A virtual user loops over complete flows; the user signing in rotates over all users on
 * every iteration, so no per-user throttle or row lock is shared by two flows at once:
 *
 *   healthz  GET /healthz                                             1 request: the ratio baseline
 *   passkey  POST sign-in → POST passkey/options {} (usernameless)
 *            → sign with the software authenticator → POST passkey    3 requests
 *   tap      POST sign-in → POST tap {username, code}                  2 requests
 *
 * The client is Node's fetch (undici, keep-alive) in this process; the passkey workload also signs
 * the assertion (ECDSA P-256) here. Client and server share the machine's cores: the report gives
 * the bench process's CPU next to the server's. Nothing is asserted: failures are counted and shown.
 *
 * PostgreSQL: a fresh database on DATABASE_URL or TEST_DATABASE_URL when set; otherwise, as root
 * with Debian's postgresql package, a throwaway server on loopback (durable settings unless
 * BENCH_PG_FSYNC=off); otherwise a "PostgreSQL: skipped (why)" line.
 *
 * Everything is bounded: each workload by its duration and per-request timeouts, setup steps by
 * timeouts, the whole run by a watchdog. Child processes, throwaway servers, databases and temp
 * dirs are removed on exit, also on failure. The helpers below are copied from bench/users-api.ts,
 * which exports nothing (importing it would run it).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { createSoftAuthenticator, type SoftAuthenticator } from '../test/support/softAuthenticator.ts';

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
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 8, 1, 200);
const USERS = intEnv('BENCH_USERS', 200, 1, 5000);
const DATABASES = (process.env.BENCH_DATABASES || 'pglite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const PG_FAST = process.env.BENCH_PG_FSYNC === 'off';
const SETUP_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 10_000;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'src/cli/main.ts');

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

// ---------- small helpers (as in bench/users-api.ts) ----------

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

/** [ppid, CPU seconds (user + system)] of a process so far, from /proc; undefined off Linux or when gone. */
function procStat(pid: number): [number, number] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(fields[1]), (Number(fields[11]) + Number(fields[12])) / CLK_TCK];
  } catch {
    return undefined;
  }
}
const cpuSeconds = (pid: number | undefined): number | undefined => (pid ? procStat(pid)?.[1] : undefined);

/** CPU seconds per process of a PostgreSQL server: the postmaster and its children (backends, writers). */
function postgresCpu(postmasterPid: number): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const s = procStat(pid);
    if (s && (pid === postmasterPid || s[0] === postmasterPid)) out.set(pid, s[1]);
  }
  return out;
}
/** CPU used between two snapshots; processes that started in between count in full, ones that exited are lost. */
function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

type Tenant = { tenantId: string; tokenEndpoint: string; automation: { clientId: string; clientSecret: string } };

async function initTenant(env: NodeJS.ProcessEnv): Promise<Tenant> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'init', '--tenant', 'Bench', '--admin', 'admin@bench.test', '--json'], {
    cwd: REPO, env, timeout: SETUP_TIMEOUT_MS, maxBuffer: 1 << 20,
  });
  const r = JSON.parse(stdout) as Partial<Tenant>;
  if (!r.tenantId || !r.tokenEndpoint || !r.automation?.clientId || !r.automation.clientSecret) throw new Error(`gatehouse init printed no tenant: ${stdout.slice(0, 500)}`);
  return r as Tenant;
}

type Server = { child: ChildProcess; logLines: string[]; stop(): Promise<void> };

/** `gatehouse serve` as a child process; resolves once it prints its "listening" line. */
async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = onCleanup('gatehouse serve', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logLines: string[] = [];
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${SETUP_TIMEOUT_MS / 1000} s:\n${out.slice(-2000)}`)), SETUP_TIMEOUT_MS);
    const onLine = (line: string) => {
      if (out.length < 1 << 16) out += `${line}\n`;
      if (line.startsWith('{') && logLines.length < 1000) logLines.push(line); // pino: warn and above at LOG_LEVEL=warn
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

// ---------- databases (as in bench/users-api.ts, plus the postmaster pid for its CPU) ----------

type Target = { name: string; env: Record<string, string>; describe: string; postmasterPid?: number; teardown(): Promise<void> };
type Skipped = { name: string; skipped: string };

function pgliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-pglite-'));
  const forget = onCleanup('PGlite data dir', () => rmSync(dir, { recursive: true, force: true }));
  return {
    name: 'PGlite',
    env: { GATEHOUSE_DATA_DIR: dir },
    describe: 'PGlite (embedded, WASM PostgreSQL inside the server process, fsync off), fresh temp dir',
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

/** A throwaway PostgreSQL on loopback, the way .ci/postgres.sh starts one; returns its admin URL and postmaster pid. */
async function startThrowawayPostgres(): Promise<{ url: string; postmasterPid: number | undefined } | { skipped: string }> {
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
  let postmasterPid: number | undefined;
  try {
    postmasterPid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
  } catch {
    postmasterPid = undefined;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, postmasterPid };
}

async function postgresTarget(): Promise<Target | Skipped> {
  let admin = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  let origin = admin ? `on ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'TEST_DATABASE_URL'}` : 'throwaway server on loopback';
  let postmasterPid: number | undefined;
  if (!admin) {
    const started = await startThrowawayPostgres();
    if ('skipped' in started) return { name: 'PostgreSQL', skipped: started.skipped };
    admin = started.url;
    postmasterPid = started.postmasterPid;
    origin = `throwaway server on loopback${PG_FAST ? ' (BENCH_PG_FSYNC=off)' : ''}`;
  }
  const name = `bench_${randomBytes(6).toString('hex')}`;
  const info = await pgQuery(admin, async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    const get = async (s: string) => String((await c.query(`SHOW ${s}`)).rows[0]?.[s] ?? '?');
    return { version: await get('server_version'), fsync: await get('fsync'), sync: await get('synchronous_commit') };
  });
  const adminUrl = admin;
  const forgetDb = onCleanup(`database ${name}`, () => {
    // Synchronous last resort (exit path): dropdb through psql is not guaranteed to exist, so only log.
    process.stderr.write(`note: database ${name} may be left on ${origin}\n`);
  });
  const u = new URL(admin);
  u.pathname = `/${name}`;
  // serve locks GATEHOUSE_DATA_DIR only in embedded mode; point it at an empty temp dir anyway so nothing lands in ./data.
  const unused = mkdtempSync(join(tmpdir(), 'gatehouse-bench-unused-'));
  const forget = onCleanup('unused data dir', () => rmSync(unused, { recursive: true, force: true }));
  return {
    name: 'PostgreSQL',
    env: { DATABASE_URL: u.href, GATEHOUSE_DATA_DIR: unused },
    describe: `PostgreSQL ${info.version.split(' ')[0]} (${origin}; fsync=${info.fsync}, synchronous_commit=${info.sync}), fresh database ${name}`,
    ...(postmasterPid ? { postmasterPid } : {}),
    async teardown() {
      await pgQuery(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch((err: Error) => log(`could not drop ${name}: ${err.message}`));
      forgetDb();
      rmSync(unused, { recursive: true, force: true });
      forget();
    },
  };
}

// ---------- HTTP client ----------

/** A response that was not 2xx: already counted by `call`, ends the flow. */
class HttpFailure extends Error {
  readonly status: number;
  constructor(status: number, what: string, body: string) {
    super(`${what} → ${status} ${body.slice(0, 300)}`);
    this.status = status;
  }
}

type Counters = {
  flows: number; requests: number; errors: number; non2xx: number;
  statuses: Map<number, number>; latenciesMs: number[]; firstFailure: string | undefined;
};
const newCounters = (): Counters => ({ flows: 0, requests: 0, errors: 0, non2xx: 0, statuses: new Map(), latenciesMs: [], firstFailure: undefined });

/** One request with Node's fetch (undici; keep-alive by default). Throws HttpFailure on non-2xx. */
async function call<T = any>(c: Counters | undefined, base: string, method: string, path: string, opts: { body?: unknown; token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${base}${path}`, {
    method, headers, body: opts.body === undefined ? null : JSON.stringify(opts.body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (c) c.requests++;
  if (res.status < 200 || res.status > 299) {
    if (c) {
      c.non2xx++;
      c.statuses.set(res.status, (c.statuses.get(res.status) ?? 0) + 1);
    }
    throw new HttpFailure(res.status, `${method} ${path}`, text);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

async function clientCredentialsToken(base: string, t: Tenant): Promise<string> {
  // The token endpoint is on the public URL (localhost); talk to the same server on 127.0.0.1.
  const url = new URL(t.tokenEndpoint);
  const res = await fetch(`${base}${url.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: t.automation.clientId, client_secret: t.automation.clientSecret }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

// ---------- setup: users with a passkey and a multi-use TAP ----------

type BenchUser = { id: string; upn: string; tapCode: string; authenticator: SoftAuthenticator };

async function provisionUsers(base: string, origin: string, token: string, count: number): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  const deadline = AbortSignal.timeout(SETUP_TIMEOUT_MS * 3);
  const tag = randomBytes(4).toString('hex');
  let next = 0;
  const worker = async () => {
    while (next < count && !deadline.aborted) {
      const n = next++;
      const upn = `signin-${tag}-${n}@bench.test`;
      const created = await call<{ id: string }>(undefined, base, 'POST', '/graph/v1.0/users', {
        token, body: { accountEnabled: true, displayName: `Sign-in User ${n}`, userPrincipalName: upn, mailNickname: `signin${n}` },
      });
      const m = `/graph/v1.0/users/${created.id}/authentication`;
      const authenticator = createSoftAuthenticator({ signCountMode: 'zero', backupEligible: true });
      const options = await call<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(undefined, base, 'GET', `${m}/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`, { token });
      await call(undefined, base, 'POST', `${m}/fido2Methods`, { token, body: { displayName: 'Bench passkey', publicKeyCredential: authenticator.register(options.publicKey, origin) } });
      const tap = await call<{ temporaryAccessPass?: string }>(undefined, base, 'POST', `${m}/temporaryAccessPassMethods`, { token, body: { isUsableOnce: false, lifetimeInMinutes: 480 } });
      if (!tap.temporaryAccessPass) throw new Error(`TAP issue for ${upn} returned no code: ${JSON.stringify(tap).slice(0, 300)}`);
      users.push({ id: created.id, upn, tapCode: tap.temporaryAccessPass, authenticator });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  if (users.length < count) throw new Error(`provisioned only ${users.length} of ${count} users within ${(SETUP_TIMEOUT_MS * 3) / 1000} s`);
  return users;
}

// ---------- workloads ----------

type Flow = (c: Counters, k: number) => Promise<void>;
type Row = {
  workload: string; requestsPerFlow: number; flowsPerSec: number; reqPerSec: number; p50: number; p99: number;
  errors: number; non2xx: number; statuses: string; firstFailure: string | undefined;
  serverCpuPct: number | undefined; serverCpuMsPerFlow: number | undefined; pgCpuMsPerFlow: number | undefined; benchCpuPct: number;
};

/** CONCURRENCY virtual users loop over `flow` until `seconds` have passed; in-flight flows finish (bounded by request timeouts). */
async function loop(flow: Flow, seconds: number, counter: { k: number }): Promise<{ c: Counters; elapsed: number }> {
  const c = newCounters();
  const start = performance.now();
  const end = start + seconds * 1000;
  const vu = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await flow(c, counter.k++);
        c.flows++;
        c.latenciesMs.push(performance.now() - t0);
      } catch (err) {
        if (!(err instanceof HttpFailure)) c.errors++;
        c.firstFailure ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, vu));
  return { c, elapsed: (performance.now() - start) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function measure(server: Server, postmasterPid: number | undefined, label: string, requestsPerFlow: number, flow: Flow): Promise<Row> {
  const counter = { k: 0 };
  if (WARMUP_SECONDS > 0) await loop(flow, WARMUP_SECONDS, counter);
  const cpu0 = cpuSeconds(server.child.pid);
  const pg0 = postmasterPid ? postgresCpu(postmasterPid) : undefined;
  const bench0 = process.cpuUsage();
  const { c, elapsed } = await loop(flow, SECONDS, counter);
  const bench = process.cpuUsage(bench0);
  const cpu1 = cpuSeconds(server.child.pid);
  const pgCpu = pg0 && postmasterPid ? cpuDelta(pg0, postgresCpu(postmasterPid)) : undefined;
  const cpu = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
  const sorted = c.latenciesMs.sort((a, b) => a - b);
  const row: Row = {
    workload: label, requestsPerFlow,
    flowsPerSec: c.flows / elapsed, reqPerSec: c.requests / elapsed,
    p50: percentile(sorted, 50), p99: percentile(sorted, 99),
    errors: c.errors, non2xx: c.non2xx, statuses: [...c.statuses].map(([s, n]) => `${s}×${n}`).join(' '), firstFailure: c.firstFailure,
    serverCpuPct: cpu === undefined ? undefined : (cpu / elapsed) * 100,
    serverCpuMsPerFlow: cpu === undefined || c.flows === 0 ? undefined : (cpu * 1000) / c.flows,
    pgCpuMsPerFlow: pgCpu === undefined || c.flows === 0 ? undefined : (pgCpu * 1000) / c.flows,
    benchCpuPct: ((bench.user + bench.system) / 1e6 / elapsed) * 100,
  };
  log(`${label}: ${row.flowsPerSec.toFixed(0)} flows/s, ${row.reqPerSec.toFixed(0)} req/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, ${row.errors} errors, ${row.non2xx} non-2xx ${row.statuses}`);
  return row;
}

async function benchDatabase(target: Target): Promise<{ rows: Row[]; serverLog: string[] }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`; // where the bench connects (the server listens on 127.0.0.1 only)
  const origin = `http://localhost:${port}`; // the public URL: WebAuthn RP id `localhost`, the origin the authenticator signs
  const env = childEnv({ ...target.env, PORT: String(port), GATEHOUSE_PUBLIC_URL: origin });
  log(`${target.name}: gatehouse init`);
  const tenant = await initTenant(env);
  log(`${target.name}: starting server, public URL ${origin}`);
  const server = await startServer(env);
  try {
    const token = await clientCredentialsToken(base, tenant);
    log(`${target.name}: provisioning ${USERS} users, each with a passkey and a multi-use TAP`);
    const users = await provisionUsers(base, origin, token, USERS);
    const flows = `/api/flows/${tenant.tenantId}/sign-in`;
    const userOf = (k: number) => users[k % users.length]!;

    const healthz: Flow = async (c) => {
      await call(c, base, 'GET', '/healthz');
    };
    const passkey: Flow = async (c, k) => {
      const { flowId } = await call<{ flowId: string }>(c, base, 'POST', flows, { body: {} });
      const options = await call<PublicKeyCredentialRequestOptionsJSON>(c, base, 'POST', `${flows}/${flowId}/passkey/options`, { body: {} });
      const credential = userOf(k).authenticator.authenticate(options, origin);
      await call(c, base, 'POST', `${flows}/${flowId}/passkey`, { body: { credential } });
    };
    const tap: Flow = async (c, k) => {
      const u = userOf(k);
      const { flowId } = await call<{ flowId: string }>(c, base, 'POST', flows, { body: {} });
      await call(c, base, 'POST', `${flows}/${flowId}/tap`, { body: { username: u.upn, code: u.tapCode } });
    };

    const rows: Row[] = [];
    rows.push(await measure(server, target.postmasterPid, 'GET /healthz (baseline)', 1, healthz));
    rows.push(await measure(server, target.postmasterPid, 'passkey sign-in (usernameless)', 3, passkey));
    rows.push(await measure(server, target.postmasterPid, 'TAP sign-in (multi-use)', 2, tap));
    return { rows, serverLog: server.logLines };
  } finally {
    await server.stop();
  }
}

// ---------- report ----------

function table(rows: Row[], withPg: boolean): string {
  const base = rows[0]!.reqPerSec;
  const fmt = (v: number | undefined, d: number) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
  const lines = [
    `| workload | req/flow | flows/s | req/s | p50 ms/flow | p99 ms/flow | flows/s ÷ /healthz req/s | req/s ÷ /healthz req/s | server CPU % | server CPU ms/flow |${withPg ? ' PostgreSQL CPU ms/flow |' : ''} bench CPU % | errors / non-2xx |`,
    `|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|${withPg ? '--:|' : ''}--:|---|`,
  ];
  for (const r of rows) {
    const bad = `${r.errors} / ${r.non2xx}${r.statuses ? ` (${r.statuses})` : ''}`;
    lines.push(`| ${r.workload} | ${r.requestsPerFlow} | ${r.flowsPerSec.toFixed(0)} | ${r.reqPerSec.toFixed(0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${(r.flowsPerSec / base).toFixed(3)} | ${(r.reqPerSec / base).toFixed(3)} | ${fmt(r.serverCpuPct, 0)} | ${fmt(r.serverCpuMsPerFlow, 2)} |${withPg ? ` ${fmt(r.pgCpuMsPerFlow, 2)} |` : ''} ${r.benchCpuPct.toFixed(0)} | ${bad} |`);
  }
  const failures = rows.filter((r) => r.firstFailure).map((r) => `- ${r.workload}: first failure: ${r.firstFailure}`);
  return [lines.join('\n'), ...(failures.length ? ['', ...failures] : [])].join('\n');
}

async function main(): Promise<number> {
  const watchdogSeconds = DATABASES.length * (3 * (SECONDS + WARMUP_SECONDS + 2 * REQUEST_TIMEOUT_MS / 1000 + 15) + 6 * SETUP_TIMEOUT_MS / 1000);
  setTimeout(() => {
    process.stderr.write(`bench exceeded its ${watchdogSeconds} s bound; stopping\n`);
    process.exit(1);
  }, watchdogSeconds * 1000).unref();

  const cpu = cpus();
  const header = [
    `# Gatehouse sign-in flow bench, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `node ${process.version}; CPU ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `${SECONDS} s per workload after ${WARMUP_SECONDS} s warm-up, ${CONCURRENCY} virtual users looping over complete flows (fetch with keep-alive in the bench process,`,
    `server in a child process); ${USERS} users, each with a passkey (software authenticator, zero counter) and a multi-use TAP; users rotate per flow.`,
    'flows/s and req/s: completed over the measured time; p50/p99: one whole flow, client work (signing, JSON) included.',
    'Server CPU %: the gatehouse process (100 = one core; PGlite runs inside it). PostgreSQL CPU: the throwaway server\'s postmaster and',
    'children (backends, WAL writer, ...). Bench CPU %: this process (HTTP client and, for passkeys, the ECDSA signing).',
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
      sections.push(`## ${target.describe}\n\n${table(rows, target.postmasterPid !== undefined)}${note}`);
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
