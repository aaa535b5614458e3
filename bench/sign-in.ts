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
 * users (a comma-separated list, e.g. 8,32,64, runs the sign-in workloads at each). A virtual user
 * loops over complete flows; the user signing in rotates over all users on every iteration, so no
 * per-user throttle or row lock is shared by two flows at once (with more virtual users than
 * BENCH_USERS it would be):
 *
 *   healthz  GET /healthz                                             1 request: the ratio baseline
 *   passkey  POST sign-in → POST passkey/options {} (usernameless)
 *            → sign with the software authenticator → POST passkey    3 requests
 *   passkey-start  POST sign-in {passkeyOptions: {}} (flow and options in one answer)
 *            → sign → POST passkey                                    2 requests
 *   tap      POST sign-in → POST tap {username, code}                  2 requests
 *
 * The client (BENCH_CLIENT: node:http with keep-alive by default, or fetch) runs in this process;
 * the passkey workload also signs the assertion (ECDSA P-256) here. Client and server share the
 * machine's cores: the report gives the bench process's CPU next to the server's, its share of the
 * CPU bench + server + PostgreSQL used, and the CPU anything else on the machine used meanwhile.
 * Nothing is asserted: failures are counted and shown.
 *
 * PostgreSQL: a fresh database on DATABASE_URL or TEST_DATABASE_URL when set; otherwise, as root
 * with Debian's postgresql package, a throwaway server on loopback (durable settings unless
 * BENCH_PG_FSYNC=off; pg_stat_statements loaded unless BENCH_PG_STATEMENTS=off, for the
 * statements and commits per flow; BENCH_PG_SOCKET=unix connects Gatehouse over its Unix socket);
 * otherwise a "PostgreSQL: skipped (why)" line. BENCH_DB_POOL_MAX sets the server's pool size.
 * BENCH_WORKLOADS picks the workloads (passkey, passkey-start, tap, floor; by default all but floor). `floor`
 * (PostgreSQL only) runs the same loop against bench/floor-server.ts after Gatehouse's server has
 * stopped: the least a passkey sign-in with a durable sign-in record costs on this machine.
 * BENCH_CPU_PROF=DIR has the server write a V8 CPU profile into DIR when it stops.
 *
 * Everything is bounded: each workload by its duration and per-request timeouts, setup steps by
 * timeouts, the whole run by a watchdog. Child processes, throwaway servers, databases and temp
 * dirs are removed on exit, also on failure. What both benches share is in bench/support.ts.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { createSoftAuthenticator, type SoftAuthenticator } from '../test/support/softAuthenticator.ts';
import {
  childEnv, clientCredentialsToken, cpuDelta, cpuSeconds, DATABASES, freePort, initTenant, intEnv, log, machineCpu, postgresCpu, runBench,
  SECONDS, SETUP_TIMEOUT_MS, startServer, floorSignature, startFloor, statementDelta, statementStats, topStatements, TOP_STATEMENTS, WARMUP_SECONDS, type ServerProcess, type Target,
} from './support.ts';

// ---------- settings (the shared ones are in ./support.ts) ----------

/** BENCH_CONCURRENCY: one number or a comma-separated list (e.g. 8,32,64); the sign-in workloads run at each. */
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY || '8').split(',').map((v) => v.trim()).filter(Boolean).map((v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new Error(`BENCH_CONCURRENCY='${process.env.BENCH_CONCURRENCY}' must be integers from 1 to 200, comma-separated`);
  return n;
});
const CONCURRENCY = CONCURRENCIES[0]!;
const USERS = intEnv('BENCH_USERS', 200, 1, 5000);
/** BENCH_WORKLOADS: which sign-in workloads run (passkey, tap; both by default). The /healthz baseline always runs. */
const WORKLOADS = new Set((process.env.BENCH_WORKLOADS || 'passkey,passkey-start,tap').split(',').map((v) => v.trim()).filter(Boolean));
for (const w of WORKLOADS) if (!['passkey', 'passkey-start', 'tap', 'floor'].includes(w)) throw new Error(`BENCH_WORKLOADS='${process.env.BENCH_WORKLOADS}' names '${w}': use passkey, passkey-start, tap, floor, comma-separated`);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const REQUEST_TIMEOUT_MS = 10_000;

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

/**
 * BENCH_CLIENT: `http` (default), node:http with a keep-alive agent, one socket per virtual user;
 * or `fetch`, Node's fetch (undici, keep-alive), as earlier runs used. fetch costs the bench
 * process about three times the CPU per request (web streams, an AbortSignal per request), CPU
 * the server and PostgreSQL then lack on a 2-core machine.
 */
const CLIENT = process.env.BENCH_CLIENT || 'http';
if (CLIENT !== 'http' && CLIENT !== 'fetch') throw new Error(`BENCH_CLIENT='${CLIENT}' must be http or fetch`);
const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...CONCURRENCIES), scheduling: 'lifo' });

function httpRequest(url: string, method: string, headers: Record<string, string>, body: string | null): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body === null ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${url}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** One request (see BENCH_CLIENT). Throws HttpFailure on non-2xx. */
async function call<T = any>(c: Counters | undefined, base: string, method: string, path: string, opts: { body?: unknown; token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const body = opts.body === undefined ? null : JSON.stringify(opts.body);
  let res: { status: number; text: string };
  if (CLIENT === 'http') res = await httpRequest(`${base}${path}`, method, headers, body);
  else {
    const r = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    res = { status: r.status, text: await r.text() };
  }
  const text = res.text;
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
  workload: string; vus: number; requestsPerFlow: number; flowsPerSec: number; reqPerSec: number; p50: number; p99: number;
  errors: number; non2xx: number; statuses: string; firstFailure: string | undefined;
  serverCpuPct: number | undefined; serverCpuMsPerFlow: number | undefined; pgCpuMsPerFlow: number | undefined; benchCpuPct: number;
  /** The bench process's share of the CPU the bench, the server and PostgreSQL used together. */
  clientShare: number | undefined;
  /** CPU used on the machine by anything else (other processes, the kernel outside them), % of one core. */
  otherCpuPct: number | undefined;
  statementsPerFlow: number | undefined; commitsPerFlow: number | undefined;
  /** The statements of the measured window with their execution times (BENCH_PG_TOP, PostgreSQL). */
  top: string | undefined;
};

/** CONCURRENCY virtual users loop over `flow` until `seconds` have passed; in-flight flows finish (bounded by request timeouts). */
async function loop(flow: Flow, seconds: number, counter: { k: number }, vus: number): Promise<{ c: Counters; elapsed: number }> {
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
  await Promise.all(Array.from({ length: vus }, vu));
  return { c, elapsed: (performance.now() - start) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function measure(server: ServerProcess, target: Target, label: string, requestsPerFlow: number, flow: Flow, vus: number): Promise<Row> {
  const { postmasterPid } = target;
  const counter = { k: 0 };
  if (WARMUP_SECONDS > 0) await loop(flow, WARMUP_SECONDS, counter, vus);
  const st0 = await target.statements?.();
  const top0 = await statementStats(target.env.DATABASE_URL);
  const machine0 = machineCpu();
  const cpu0 = cpuSeconds(server.child.pid);
  const pg0 = postmasterPid ? postgresCpu(postmasterPid) : undefined;
  const bench0 = process.cpuUsage();
  const { c, elapsed } = await loop(flow, SECONDS, counter, vus);
  const bench = process.cpuUsage(bench0);
  const cpu1 = cpuSeconds(server.child.pid);
  const pgCpu = pg0 && postmasterPid ? cpuDelta(pg0, postgresCpu(postmasterPid)) : undefined;
  const machine1 = machineCpu();
  const st1 = await target.statements?.();
  const top1 = top0 ? await statementStats(target.env.DATABASE_URL) : undefined;
  const st = st0 && st1 ? statementDelta(st0, st1) : undefined;
  const cpu = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
  const benchCpu = (bench.user + bench.system) / 1e6;
  const ours = cpu === undefined ? undefined : benchCpu + cpu + (pgCpu ?? 0);
  const sorted = c.latenciesMs.sort((a, b) => a - b);
  const row: Row = {
    workload: label, vus, requestsPerFlow,
    flowsPerSec: c.flows / elapsed, reqPerSec: c.requests / elapsed,
    p50: percentile(sorted, 50), p99: percentile(sorted, 99),
    errors: c.errors, non2xx: c.non2xx, statuses: [...c.statuses].map(([s, n]) => `${s}×${n}`).join(' '), firstFailure: c.firstFailure,
    serverCpuPct: cpu === undefined ? undefined : (cpu / elapsed) * 100,
    serverCpuMsPerFlow: cpu === undefined || c.flows === 0 ? undefined : (cpu * 1000) / c.flows,
    pgCpuMsPerFlow: pgCpu === undefined || c.flows === 0 ? undefined : (pgCpu * 1000) / c.flows,
    benchCpuPct: (benchCpu / elapsed) * 100,
    clientShare: ours ? (benchCpu / ours) * 100 : undefined,
    otherCpuPct: ours !== undefined && machine0 && machine1 && (postmasterPid || target.name === 'PGlite')
      ? Math.max(0, ((machine1.busy - machine0.busy - ours) / elapsed) * 100) : undefined,
    statementsPerFlow: st && c.flows ? st.statements / c.flows : undefined,
    commitsPerFlow: st && c.flows ? st.xactCommits / c.flows : undefined,
    top: top0 && top1 && c.flows && st?.statements ? topStatements(top0, top1, c.flows, 'flow') : undefined,
  };
  log(`${label} × ${vus}: ${row.flowsPerSec.toFixed(0)} flows/s, ${row.reqPerSec.toFixed(0)} req/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, ${row.errors} errors, ${row.non2xx} non-2xx ${row.statuses}`);
  return row;
}

async function benchDatabase(target: Target): Promise<{ rows: Row[]; serverLog: string[] }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`; // where the bench connects (the server listens on 127.0.0.1 only)
  const origin = `http://localhost:${port}`; // the public URL: WebAuthn RP id `localhost`, the origin the authenticator signs
  // BENCH_DB_POOL_MAX: the server's GATEHOUSE_DB_POOL_MAX (childEnv drops GATEHOUSE_* variables of this process).
  const pool: Record<string, string> = process.env.BENCH_DB_POOL_MAX ? { GATEHOUSE_DB_POOL_MAX: process.env.BENCH_DB_POOL_MAX } : {};
  // BENCH_CPU_PROF=DIR: the server writes a V8 CPU profile into DIR when it stops (init writes one too).
  const prof: Record<string, string> = CPU_PROF_DIR ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${CPU_PROF_DIR}`.trim() } : {};
  const env = childEnv({ ...target.env, PORT: String(port), GATEHOUSE_PUBLIC_URL: origin, ...pool, ...prof });
  log(`${target.name}: gatehouse init`);
  const tenant = await initTenant(env);
  log(`${target.name}: starting server, public URL ${origin}`);
  const server = await startServer(env, { outputChars: 1 << 16, logLines: 1000 });
  try {
    // The token endpoint is on the public URL (localhost); talk to the same server on 127.0.0.1.
    const token = await clientCredentialsToken(tenant, `${base}${new URL(tenant.tokenEndpoint).pathname}`);
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
    // The same sign-in with options asked for at the start (`passkeyOptions: {}`): 2 requests.
    const passkeyStart: Flow = async (c, k) => {
      const { flowId, passkeyOptions } = await call<{ flowId: string; passkeyOptions: PublicKeyCredentialRequestOptionsJSON }>(c, base, 'POST', flows, { body: { passkeyOptions: {} } });
      const credential = userOf(k).authenticator.authenticate(passkeyOptions, origin);
      await call(c, base, 'POST', `${flows}/${flowId}/passkey`, { body: { credential } });
    };
    const tap: Flow = async (c, k) => {
      const u = userOf(k);
      const { flowId } = await call<{ flowId: string }>(c, base, 'POST', flows, { body: {} });
      await call(c, base, 'POST', `${flows}/${flowId}/tap`, { body: { username: u.upn, code: u.tapCode } });
    };

    const rows: Row[] = [];
    rows.push(await measure(server, target, 'GET /healthz (baseline)', 1, healthz, CONCURRENCY));
    for (const vus of CONCURRENCIES) {
      if (WORKLOADS.has('passkey')) rows.push(await measure(server, target, 'passkey sign-in (usernameless)', 3, passkey, vus));
      if (WORKLOADS.has('passkey-start')) rows.push(await measure(server, target, 'passkey sign-in, options at the start', 2, passkeyStart, vus));
      if (WORKLOADS.has('tap')) rows.push(await measure(server, target, 'TAP sign-in (multi-use)', 2, tap, vus));
    }
    if (WORKLOADS.has('floor') && target.env.DATABASE_URL) {
      // Gatehouse's server stops first, so the floor has the machine to itself (with PostgreSQL and the client).
      await server.stop();
      rows.push(...await measureFloor(target));
    }
    return { rows, serverLog: server.logLines };
  } finally {
    await server.stop();
  }
}

// ---------- the floor (bench/floor-server.ts) ----------

/**
 * BENCH_WORKLOADS=floor (PostgreSQL only): the same client loop against bench/floor-server.ts, the
 * least a passkey sign-in with a durable sign-in record costs here (3 requests, an ECDSA check, one
 * transaction writing the counter and a copy of a real Gatehouse record into a table with
 * `sign_ins`' columns and indexes). Runs after the Gatehouse workloads, on the same database.
 */
async function measureFloor(target: Target): Promise<Row[]> {
  const { floor, base, keys } = await startFloor(target.env.DATABASE_URL!, USERS);
  try {
    const flow: Flow = async (counters, n) => {
      const k = keys[n % keys.length]!;
      const { flowId } = await call<{ flowId: string }>(counters, base, 'POST', '/floor/start', { body: {} });
      const { challenge } = await call<{ challenge: string }>(counters, base, 'POST', '/floor/options', { body: { flowId, userId: k.userId } });
      await call(counters, base, 'POST', '/floor/assert', { body: { flowId, userId: k.userId, signature: floorSignature(k, challenge, flowId) } });
    };
    const rows: Row[] = [];
    for (const vus of CONCURRENCIES) rows.push(await measure(floor, target, 'floor: 3 requests, 1 transaction (bench/floor-server.ts)', 3, flow, vus));
    return rows;
  } finally {
    await floor.stop();
  }
}

// ---------- report ----------

function table(rows: Row[], withPg: boolean, withStatements: boolean): string {
  const base = rows[0]!.reqPerSec;
  const fmt = (v: number | undefined, d: number) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
  const lines = [
    `| workload | VUs | req/flow | flows/s | req/s | p50 ms/flow | p99 ms/flow | flows/s ÷ /healthz req/s | server CPU % | server CPU ms/flow |${withPg ? ' PostgreSQL CPU ms/flow |' : ''}${withStatements ? ' statements/flow | commits/flow |' : ''} bench CPU % | bench share of CPU % | other load CPU % | errors / non-2xx |`,
    `|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|${withPg ? '--:|' : ''}${withStatements ? '--:|--:|' : ''}--:|--:|--:|---|`,
  ];
  for (const r of rows) {
    const bad = `${r.errors} / ${r.non2xx}${r.statuses ? ` (${r.statuses})` : ''}`;
    lines.push(`| ${r.workload} | ${r.vus} | ${r.requestsPerFlow} | ${r.flowsPerSec.toFixed(0)} | ${r.reqPerSec.toFixed(0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${(r.flowsPerSec / base).toFixed(3)} | ${fmt(r.serverCpuPct, 0)} | ${fmt(r.serverCpuMsPerFlow, 2)} |${withPg ? ` ${fmt(r.pgCpuMsPerFlow, 2)} |` : ''}${withStatements ? ` ${fmt(r.statementsPerFlow, 1)} | ${fmt(r.commitsPerFlow, 1)} |` : ''} ${r.benchCpuPct.toFixed(0)} | ${fmt(r.clientShare, 0)} | ${fmt(r.otherCpuPct, 0)} | ${bad} |`);
  }
  const failures = rows.filter((r) => r.firstFailure).map((r) => `- ${r.workload}: first failure: ${r.firstFailure}`);
  // The statements of each sign-in workload's last concurrency (BENCH_PG_TOP of them).
  const last = new Map(rows.filter((r) => r.top).map((r) => [r.workload, r]));
  const tops = [...last.values()].flatMap((r) => ['', `Statements per flow of "${r.workload}" at ${r.vus} VUs, most frequent first (pg_stat_statements, top ${TOP_STATEMENTS}; BEGIN/COMMIT included):`, '', r.top!]);
  return [lines.join('\n'), ...(failures.length ? ['', ...failures] : []), ...tops].join('\n');
}

await runBench({
  watchdogSeconds: DATABASES.length * ((1 + 2 * CONCURRENCIES.length) * (SECONDS + WARMUP_SECONDS + 2 * REQUEST_TIMEOUT_MS / 1000 + 15) + 6 * SETUP_TIMEOUT_MS / 1000),
  title: '# Gatehouse sign-in flow bench',
  about: [
    `${SECONDS} s per workload after ${WARMUP_SECONDS} s warm-up, ${CONCURRENCIES.join(', ')} virtual users (VUs) looping over complete flows (${CLIENT === 'http' ? 'node:http' : 'fetch'} with keep-alive in the bench process,`,
    `server in a child process); ${USERS} users, each with a passkey (software authenticator, zero counter) and a multi-use TAP; users rotate per flow.`,
    'flows/s and req/s: completed over the measured time; p50/p99: one whole flow, client work (signing, JSON) included.',
    'Server CPU %: the gatehouse process (100 = one core; PGlite runs inside it). PostgreSQL CPU: the throwaway server\'s postmaster and',
    'children (backends, WAL writer, ...). Bench CPU %: this process (HTTP client and, for passkeys, the ECDSA signing); its share: of the CPU',
    'bench + server + PostgreSQL used. Other load: the rest of the machine\'s busy CPU over the window (other processes), % of one core.',
    'statements/flow: top-level statements the server sent, BEGIN/COMMIT apart (pg_stat_statements); commits/flow: transactions committed,',
    'autocommitted statements included (pg_stat_database, flushed about once a second, so ±a few %).',
  ],
  pgliteDescribe: 'PGlite (embedded, WASM PostgreSQL inside the server process, fsync off), fresh temp dir',
  noteUndroppedDatabase: true,
  async bench(target) {
    const { rows, serverLog } = await benchDatabase(target);
    return { table: table(rows, target.postmasterPid !== undefined, target.statements !== undefined), serverLog };
  },
});
