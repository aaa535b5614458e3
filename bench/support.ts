/**
 * What the benches share: settings, cleanup on exit, the gatehouse child process, the databases
 * (PGlite in a temp dir, PostgreSQL on DATABASE_URL/TEST_DATABASE_URL or a throwaway server), CPU
 * sampling from /proc and the run over BENCH_DATABASES with its report.
 *
 * Importing this module registers the exit and signal handlers that run the cleanups.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import pg from 'pg';
import { createSoftAuthenticator, type SoftAuthenticator } from '../test/support/softAuthenticator.ts';

// ---------- settings ----------

export function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}='${raw}' must be an integer from ${min} to ${max}`);
  return n;
}

export const SECONDS = intEnv('BENCH_SECONDS', 10, 1, 300);
export const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2, 0, 60);
export const DATABASES = (process.env.BENCH_DATABASES || 'pglite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const PG_FAST = process.env.BENCH_PG_FSYNC === 'off';
export const SETUP_TIMEOUT_MS = 120_000;
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

export const log = (msg: string) => process.stderr.write(`· ${msg}\n`);

// ---------- small helpers ----------

import { freePort } from '../test/support/harness.ts';
export { freePort };

/** The environment for a gatehouse child: ours without anything that would pick another database. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('GATEHOUSE_') || k === 'DATABASE_URL' || k === 'TEST_DATABASE_URL' || k === 'PORT' || k === 'HOST') delete env[k];
  }
  return { ...env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extra };
}

// ---------- CPU from /proc ----------

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
/** CPU seconds (user + system) a process has used so far, from /proc; undefined off Linux. */
export const cpuSeconds = (pid: number | undefined): number | undefined => (pid ? procStat(pid)?.[1] : undefined);

/** CPU seconds per process of a PostgreSQL server: the postmaster and its children (backends, writers). */
export function postgresCpu(postmasterPid: number): Map<number, number> {
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
/** Busy and total CPU seconds of the whole machine so far (all cores), from /proc/stat; undefined off Linux. */
export function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: (total - f[3]! - f[4]!) / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return undefined;
  }
}

/** CPU used between two snapshots; processes that started in between count in full, ones that exited are lost. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

// ---------- the gatehouse server ----------

export type Tenant = { tenantId: string; tokenEndpoint: string; graphBaseUrl: string; automation: { clientId: string; clientSecret: string } };

export async function initTenant(env: NodeJS.ProcessEnv): Promise<Tenant> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'init', '--tenant', 'Bench', '--admin', 'admin@bench.test', '--json'], {
    cwd: REPO, env, timeout: SETUP_TIMEOUT_MS, maxBuffer: 1 << 20,
  });
  const r = JSON.parse(stdout) as Partial<Tenant>;
  if (!r.tenantId || !r.tokenEndpoint || !r.automation?.clientId || !r.automation.clientSecret) throw new Error(`gatehouse init printed no tenant: ${stdout.slice(0, 500)}`);
  return r as Tenant;
}

export type ServerProcess = { child: ChildProcess; logLines: string[]; stop(): Promise<void> };

/**
 * `gatehouse serve` (or `command`: another script and its ready line) as a child process; resolves once it prints its "listening" line. `limits` caps
 * the output kept for error messages (characters) and the warning/error lines kept; none by default.
 */
export async function startServer(env: NodeJS.ProcessEnv, limits: { outputChars: number; logLines: number } = { outputChars: Infinity, logLines: Infinity },
  command: { args: string[]; readyLine: string } = { args: [CLI, 'serve'], readyLine: 'Gatehouse listening on' }): Promise<ServerProcess> {
  const child = spawn(process.execPath, command.args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = onCleanup('gatehouse serve', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logLines: string[] = [];
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${SETUP_TIMEOUT_MS / 1000} s:\n${out.slice(-2000)}`)), SETUP_TIMEOUT_MS);
    const onLine = (line: string) => {
      if (out.length < limits.outputChars) out += `${line}\n`;
      if (line.startsWith('{') && logLines.length < limits.logLines) logLines.push(line); // pino: warn and above at LOG_LEVEL=warn
      if (line.startsWith(command.readyLine)) {
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

/** A client-credentials token for the tenant's automation client, from `url` (by default the tenant's token endpoint). */
export async function clientCredentialsToken(t: Tenant, url: string = t.tokenEndpoint): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: t.automation.clientId, client_secret: t.automation.clientSecret }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** BENCH_PG_TOP: how many statements the PostgreSQL reports list (0: none). */
export const TOP_STATEMENTS = intEnv('BENCH_PG_TOP', 20, 0, 200);

// ---------- which statements a workload sends (PostgreSQL with pg_stat_statements) ----------

export type StatementStat = { query: string; calls: number; execMs: number; planMs: number };

/** pg_stat_statements rows of the bench database so far, by query id; undefined when it can't be read. */
export async function statementStats(databaseUrl: string | undefined): Promise<Map<string, StatementStat> | undefined> {
  if (!databaseUrl || TOP_STATEMENTS === 0) return undefined;
  const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 15_000, statement_timeout: 30_000 });
  try {
    await c.connect();
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const r = await c.query<{ id: string; query: string; calls: string; exec: number; plan: number }>(`
      SELECT queryid::text AS id, query, calls::text AS calls, total_exec_time AS exec, total_plan_time AS plan
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    return new Map(r.rows.map((x) => [x.id, { query: x.query, calls: Number(x.calls), execMs: x.exec, planMs: x.plan }]));
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The statements run between two snapshots, most frequent first, per `perUnit` (sign-ins, flows). */
export function topStatements(a: Map<string, StatementStat>, b: Map<string, StatementStat>, perUnit: number, unit = 'sign-in'): string {
  const rows = [...b].map(([id, s]) => {
    const p = a.get(id);
    return { query: s.query, calls: s.calls - (p?.calls ?? 0), execMs: s.execMs - (p?.execMs ?? 0), planMs: s.planMs - (p?.planMs ?? 0) };
  }).filter((r) => r.calls > 0 && !/pg_stat_statements/.test(r.query)).sort((x, y) => y.calls - x.calls || y.execMs - x.execMs);
  const cell = (q: string) => q.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 160);
  return [
    `| calls/${unit} | exec ms/call | plan ms/call | statement (first 160 characters) |`,
    '|--:|--:|--:|---|',
    ...rows.slice(0, TOP_STATEMENTS).map((r) => `| ${(r.calls / perUnit).toFixed(2)} | ${(r.execMs / r.calls).toFixed(3)} | ${(r.planMs / r.calls).toFixed(3)} | \`${cell(r.query)}\` |`),
  ].join('\n');
}

// ---------- the floor (bench/floor-server.ts) ----------

export type FloorKey = { userId: string; privateKey: KeyObject };

/**
 * The floor server (bench/floor-server.ts) on a PostgreSQL bench database, after Gatehouse's server
 * has stopped: `users` P-256 keys in `floor_passkeys`, and `floor_sign_ins`, a copy of `sign_ins`
 * with its columns and indexes. Logs the size of Gatehouse's last sign-in records (the floor writes
 * a copy of the latest).
 */
export async function startFloor(databaseUrl: string, users: number): Promise<{ floor: ServerProcess; base: string; keys: FloorKey[] }> {
  const keys = Array.from({ length: users }, () => ({ userId: randomUUID(), ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) }));
  await pgQuery(databaseUrl, async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS floor_sign_ins (LIKE sign_ins INCLUDING ALL);
      CREATE TABLE IF NOT EXISTS floor_passkeys (user_id uuid PRIMARY KEY, jwk jsonb NOT NULL, sign_count integer NOT NULL DEFAULT 0, last_used_at timestamptz)`);
    for (const k of keys) await c.query('INSERT INTO floor_passkeys (user_id, jwk) VALUES ($1, $2)', [k.userId, JSON.stringify(k.publicKey.export({ format: 'jwk' }))]);
    const size = await c.query<{ text: string; stored: string }>(`SELECT avg(octet_length(record::text))::int::text AS text, avg(pg_column_size(record))::int::text AS stored
      FROM (SELECT record FROM sign_ins ORDER BY created_date_time DESC LIMIT 100) r`);
    log(`floor: Gatehouse's last sign-in records are ${size.rows[0]?.text} bytes of JSON, ${size.rows[0]?.stored} bytes stored; the floor writes a copy of the latest`);
  });
  const port = await freePort();
  const floor = await startServer(childEnv({ DATABASE_URL: databaseUrl, PORT: String(port) }), { outputChars: 1 << 16, logLines: 1000 },
    { args: [join(REPO, 'bench/floor-server.ts')], readyLine: 'floor listening' });
  return { floor, base: `http://127.0.0.1:${port}`, keys: keys.map((k) => ({ userId: k.userId, privateKey: k.privateKey })) };
}

/** What the floor's client signs: the challenge and the flow id (ECDSA P-256, IEEE P1363), base64url. */
export const floorSignature = (k: FloorKey, challenge: string, flowId: string) =>
  sign('sha256', Buffer.concat([Buffer.from(challenge, 'base64url'), Buffer.from(flowId)]), { key: k.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');

// ---------- databases ----------

/**
 * postmasterPid: set for a throwaway PostgreSQL, whose processes' CPU can then be read.
 * statements: set when pg_stat_statements can be read for the bench database.
 */
export type Target = {
  name: string; env: Record<string, string>; describe: string; postmasterPid?: number;
  statements?: () => Promise<StatementCounts>;
  teardown(): Promise<void>;
};
/** Top-level statements the server ran in the bench database so far (pg_stat_statements, track=top): transaction control apart. */
/** xactCommits: pg_stat_database's count, autocommitted statements included (flushed by backends about once a second). */
export type StatementCounts = { statements: number; begins: number; commits: number; rollbacks: number; xactCommits: number };
/** Counts between two snapshots. */
export const statementDelta = (a: StatementCounts, b: StatementCounts): StatementCounts => ({
  statements: b.statements - a.statements, begins: b.begins - a.begins, commits: b.commits - a.commits, rollbacks: b.rollbacks - a.rollbacks,
  xactCommits: b.xactCommits - a.xactCommits,
});
type Skipped = { name: string; skipped: string };

function pgliteTarget(describe: string): Target {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-pglite-'));
  const forget = onCleanup('PGlite data dir', () => rmSync(dir, { recursive: true, force: true }));
  return {
    name: 'PGlite',
    env: { GATEHOUSE_DATA_DIR: dir },
    describe,
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
async function startThrowawayPostgres(): Promise<{ url: string; socketDir: string; postmasterPid: number | undefined } | { skipped: string }> {
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
  // pg_stat_statements (in Debian's server package) lets the bench count statements per flow; BENCH_PG_STATEMENTS=off leaves it out.
  const settings = [`-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c max_connections=100`];
  if (process.env.BENCH_PG_STATEMENTS !== 'off') settings.push('-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top');
  if (PG_FAST) settings.push('-c fsync=off -c synchronous_commit=off -c full_page_writes=off');
  run([`${bin}/pg_ctl`, '-D', join(dir, 'data'), '-w', '-t', '60', '-l', join(dir, 'log'), '-o', settings.join(' '), 'start']);
  let postmasterPid: number | undefined;
  try {
    postmasterPid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
  } catch {
    postmasterPid = undefined;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, socketDir: dir, postmasterPid };
}

/** A fresh database; `noteUndropped`: an exit before teardown says on stderr that the database may be left. */
async function postgresTarget(noteUndropped: boolean): Promise<Target | Skipped> {
  let admin = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  let origin = admin ? `on ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'TEST_DATABASE_URL'}` : 'throwaway server on loopback';
  let postmasterPid: number | undefined;
  let socketDir: string | undefined;
  if (!admin) {
    const started = await startThrowawayPostgres();
    if ('skipped' in started) return { name: 'PostgreSQL', skipped: started.skipped };
    admin = started.url;
    postmasterPid = started.postmasterPid;
    // BENCH_PG_SOCKET=unix: the server connects over the throwaway server's Unix socket instead of TCP on loopback.
    if (process.env.BENCH_PG_SOCKET === 'unix') socketDir = started.socketDir;
    origin = `throwaway server on loopback${socketDir ? ', Gatehouse connected over its Unix socket (BENCH_PG_SOCKET=unix)' : ', Gatehouse connected over TCP'}${PG_FAST ? ' (BENCH_PG_FSYNC=off)' : ''}`;
  }
  const name = `bench_${randomBytes(6).toString('hex')}`;
  const info = await pgQuery(admin, async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    const get = async (s: string) => String((await c.query(`SHOW ${s}`)).rows[0]?.[s] ?? '?');
    // Statement counts per flow, when the server has pg_stat_statements loaded (the throwaway one does).
    const stats = await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').then(() => c.query('SELECT 1 FROM pg_stat_statements LIMIT 1')).then(() => true, () => false);
    return { version: await get('server_version'), fsync: await get('fsync'), sync: await get('synchronous_commit'), stats };
  });
  const adminUrl = admin;
  const forgetDb = noteUndropped
    ? onCleanup(`database ${name}`, () => {
      // Synchronous last resort (exit path): dropdb through psql is not guaranteed to exist, so only log.
      process.stderr.write(`note: database ${name} may be left on ${origin}\n`);
    })
    : undefined;
  const u = new URL(admin);
  u.pathname = `/${name}`;
  if (socketDir) u.searchParams.set('host', socketDir);
  // serve locks GATEHOUSE_DATA_DIR only in embedded mode; point it at an empty temp dir anyway so nothing lands in ./data.
  const unused = mkdtempSync(join(tmpdir(), 'gatehouse-bench-unused-'));
  const forget = onCleanup('unused data dir', () => rmSync(unused, { recursive: true, force: true }));
  return {
    name: 'PostgreSQL',
    env: { DATABASE_URL: u.href, GATEHOUSE_DATA_DIR: unused },
    describe: `PostgreSQL ${info.version.split(' ')[0]} (${origin}; fsync=${info.fsync}, synchronous_commit=${info.sync}), fresh database ${name}`,
    ...(postmasterPid ? { postmasterPid } : {}),
    ...(info.stats ? {
      statements: () => pgQuery(adminUrl, async (c) => {
        const r = await c.query<{ kind: string; n: string }>(`
          SELECT CASE WHEN query ~* '^\\s*(begin|start transaction)' THEN 'begin' WHEN query ~* '^\\s*(commit|end)\\s*$' THEN 'commit'
                      WHEN query ~* '^\\s*rollback' THEN 'rollback' ELSE 'statement' END AS kind, sum(calls)::text AS n
          FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) GROUP BY 1`, [name]);
        const n = (k: string) => Number(r.rows.find((x) => x.kind === k)?.n ?? 0);
        const x = await c.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [name]);
        return { statements: n('statement'), begins: n('begin'), commits: n('commit'), rollbacks: n('rollback'), xactCommits: Number(x.rows[0]?.n ?? 0) };
      }),
    } : {}),
    async teardown() {
      await pgQuery(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch((err: Error) => log(`could not drop ${name}: ${err.message}`));
      forgetDb?.();
      rmSync(unused, { recursive: true, force: true });
      forget();
    },
  };
}

// ---------- the run ----------

export type BenchRun = {
  /** The whole run is stopped (exit 1) after this long. */
  watchdogSeconds: number;
  /** The report's first line, before the date. */
  title: string;
  /** The report's header lines after the machine line. */
  about: string[];
  /** How the PGlite target describes itself in its section heading. */
  pgliteDescribe: string;
  /** Whether an exit before teardown notes on stderr that the PostgreSQL database may be left. */
  noteUndroppedDatabase: boolean;
  /** Benches one database: its section's table and the server's warning/error lines. */
  bench(target: Target): Promise<{ table: string; serverLog: string[] }>;
};

async function main(run: BenchRun): Promise<number> {
  const watchdogSeconds = run.watchdogSeconds;
  setTimeout(() => {
    process.stderr.write(`bench exceeded its ${watchdogSeconds} s bound; stopping\n`);
    process.exit(1);
  }, watchdogSeconds * 1000).unref();

  const cpu = cpus();
  const header = [
    `${run.title}, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `node ${process.version}; CPU ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    ...run.about,
  ];
  const sections: string[] = [];
  let failed = false;
  for (const db of DATABASES) {
    let target: Target | Skipped;
    try {
      if (db === 'pglite') target = pgliteTarget(run.pgliteDescribe);
      else if (db === 'postgres') target = await postgresTarget(run.noteUndroppedDatabase);
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
      const { table, serverLog } = await run.bench(target);
      const note = serverLog.length ? `\n\nThe server logged ${serverLog.length} warning/error line(s); first: ${serverLog[0]!.slice(0, 400)}` : '';
      sections.push(`## ${target.describe}\n\n${table}${note}`);
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

/** Runs the bench over BENCH_DATABASES, prints the report to stdout, cleans up and exits: 0, or 1 on any failure. */
export async function runBench(run: BenchRun): Promise<never> {
  let code = 1;
  try {
    code = await main(run);
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    cleanupAll();
  }
  process.exit(code);
}

// ---------- load client helpers (bench/oidc-sign-in.ts, bench/logging-cost.ts) ----------

/** A response that was not the expected status: counted by the caller, ends the flow. */
export class HttpFailure extends Error {
  readonly status: number;
  constructor(status: number, what: string, body: string) {
    super(`${what} → ${status} ${body.slice(0, 300)}`);
    this.status = status;
  }
}

export type RawResponse = { status: number; headers: http.IncomingHttpHeaders; text: string };

/** One request with node:http on `agent` (keep-alive): the cheapest client Node has; no redirects followed, no cookies kept. */
export function rawRequest(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body: string | null, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body === null ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** A setup call (not measured): JSON in and out with fetch; throws unless 2xx. */
export async function setupCall<T = any>(base: string, method: string, path: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new HttpFailure(res.status, `${method} ${path}`, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

export type PasskeyUser = { id: string; upn: string; authenticator: SoftAuthenticator };

/** `count` users over the Graph API, each with a passkey (software authenticator, synced style, zero counter). */
export async function provisionPasskeyUsers(base: string, origin: string, token: string, count: number, parallel: number): Promise<PasskeyUser[]> {
  const users: PasskeyUser[] = [];
  const deadline = AbortSignal.timeout(SETUP_TIMEOUT_MS * 3);
  const tag = randomBytes(4).toString('hex');
  let next = 0;
  const worker = async () => {
    while (next < count && !deadline.aborted) {
      const n = next++;
      const upn = `bench-${tag}-${n}@bench.test`;
      const created = await setupCall<{ id: string }>(base, 'POST', '/graph/v1.0/users', token, {
        accountEnabled: true, displayName: `Bench User ${n}`, userPrincipalName: upn, mailNickname: `bench${n}`,
      });
      const m = `/graph/v1.0/users/${created.id}/authentication`;
      const authenticator = createSoftAuthenticator({ signCountMode: 'zero', backupEligible: true });
      const options = await setupCall<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(base, 'GET', `${m}/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`, token);
      await setupCall(base, 'POST', `${m}/fido2Methods`, token, { displayName: 'Bench passkey', publicKeyCredential: authenticator.register(options.publicKey, origin) });
      users.push({ id: created.id, upn, authenticator });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, count)) }, worker));
  if (users.length < count) throw new Error(`provisioned only ${users.length} of ${count} users within ${(SETUP_TIMEOUT_MS * 3) / 1000} s`);
  return users;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export type LoopResult = { flows: number; errors: number; non2xx: number; statuses: Map<number, number>; latenciesMs: number[]; firstFailure: string | undefined; elapsed: number };

/**
 * `vus` virtual users loop over `flow(k)` (k counts up over all of them) until `seconds` have
 * passed; flows in flight finish. A flow that throws is counted (HttpFailure as non-2xx by status).
 */
export async function runVirtualUsers(flow: (k: number) => Promise<void>, seconds: number, vus: number, counter: { k: number }): Promise<LoopResult> {
  const r: LoopResult = { flows: 0, errors: 0, non2xx: 0, statuses: new Map(), latenciesMs: [], firstFailure: undefined, elapsed: 0 };
  const start = performance.now();
  const end = start + seconds * 1000;
  const vu = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await flow(counter.k++);
        r.flows++;
        r.latenciesMs.push(performance.now() - t0);
      } catch (err) {
        if (err instanceof HttpFailure) {
          r.non2xx++;
          r.statuses.set(err.status, (r.statuses.get(err.status) ?? 0) + 1);
        } else r.errors++;
        r.firstFailure ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: vus }, vu));
  r.elapsed = (performance.now() - start) / 1000;
  return r;
}

/** CPU seconds over a measured window: the gatehouse process, PostgreSQL (throwaway server only), this process, and the rest of the machine. */
export type CpuWindow = { server: number | undefined; postgres: number | undefined; bench: number; other: number | undefined };

/** Starts a CPU window; the returned function ends it. */
export function cpuWindow(serverPid: number | undefined, postmasterPid: number | undefined, embedded: boolean): () => CpuWindow {
  const machine0 = machineCpu();
  const server0 = cpuSeconds(serverPid);
  const pg0 = postmasterPid ? postgresCpu(postmasterPid) : undefined;
  const bench0 = process.cpuUsage();
  return () => {
    const b = process.cpuUsage(bench0);
    const server1 = cpuSeconds(serverPid);
    const pg = pg0 && postmasterPid ? cpuDelta(pg0, postgresCpu(postmasterPid)) : undefined;
    const machine1 = machineCpu();
    const bench = (b.user + b.system) / 1e6;
    const server = server0 !== undefined && server1 !== undefined ? server1 - server0 : undefined;
    const ours = bench + (server ?? 0) + (pg ?? 0);
    const other = machine0 && machine1 && (postmasterPid || embedded) ? Math.max(0, machine1.busy - machine0.busy - ours) : undefined;
    return { server, postgres: pg, bench, other };
  };
}

/** `uptime` and the first lines of `top -bn1`: the other load on the machine, for the report. */
export function machineLoad(lines = 12): string {
  const up = spawnSync('uptime', { encoding: 'utf8' }).stdout?.trim() ?? '';
  const top = spawnSync('top', ['-bn1', '-w', '160'], { encoding: 'utf8', timeout: 10_000 }).stdout?.split('\n').slice(0, lines).join('\n') ?? '';
  return `${up}\n${top}`.trim();
}
