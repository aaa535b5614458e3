/**
 * What writing the sign-in log (LOG-1) costs a passkey sign-in, on PostgreSQL, in one run:
 *
 *   npm run bench:logging                  # BENCH_SECONDS=10, BENCH_CONCURRENCY=32 by default
 *
 * Issue 6's criterion: "sign-in throughput with logging on is within 10 % of logging's cost
 * measured alone". The bench measures three things against one server and one database:
 *
 *   (i)   on:    flow-API passkey sign-ins/s (POST sign-in → passkey/options → passkey, as in
 *                bench/sign-in.ts), sign-in records written as always;
 *   (ii)  off:   the same, with the sign-in record's insert made a no-op inside this throwaway
 *                database only: a `BEFORE INSERT ON sign_ins` trigger that returns NULL (the row is
 *                neither stored nor indexed nor WAL-logged), dropped afterwards. Product code is
 *                unchanged and still builds and sends the record. A `DO INSTEAD NOTHING` rule is
 *                not usable: the record's insert carries the step's other writes (passkey counter,
 *                flow) as data-modifying WITH clauses, and a rule that replaces the insert drops
 *                them too;
 *   (iii) alone: the records captured from (i) inserted again as fast as possible, one per
 *                transaction (autocommit), over as many connections as the server's pool
 *                (BENCH_DB_POOL_MAX, default 10), into the same table with the same indexes.
 *
 * (i) and (ii) alternate on, off, off, on (BENCH_LOGGING_PAIRS pairs, default 2 → 4 windows), so
 * a drift in the machine's other load does not all fall on one side, after an unmeasured warm-up
 * window (BENCH_LOGGING_WARMUP seconds, default BENCH_SECONDS). Costs per sign-in:
 *
 *   overhead_observed = 1/T_on − 1/T_off                (wall ms at saturation)
 *                     = CPU_on − CPU_off                (server + PostgreSQL CPU ms per sign-in)
 *   cost_alone        = 1/T_insert, (bench + PostgreSQL CPU) per insert, from (iii)
 *   criterion: overhead_observed ≤ 1.1 × cost_alone
 *
 * The bench counts the rows each window added to sign_ins (on: one per sign-in; off: none) and
 * prints the table's columns, indexes and triggers as measured, since the record and its indexes
 * are changing. PGlite is not measured: the trigger can only be switched there with the server
 * stopped (PGlite runs inside it), which doubles the run time; BENCH_DATABASES defaults to postgres.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import pg from 'pg';

// BENCH_DATABASES defaults to postgres for this bench (support.ts reads it when imported).
process.env.BENCH_DATABASES ||= 'postgres';
const {
  childEnv, clientCredentialsToken, cpuWindow, DATABASES, freePort, HttpFailure, initTenant, intEnv, log, machineLoad, percentile,
  provisionPasskeyUsers, rawRequest, runBench, runVirtualUsers, SECONDS, SETUP_TIMEOUT_MS, startServer, statementDelta, WARMUP_SECONDS,
} = await import('./support.ts');
type Target = import('./support.ts').Target;

const VUS = intEnv('BENCH_CONCURRENCY', 32, 1, 200);
const USERS = intEnv('BENCH_USERS', 200, 1, 5000);
const PAIRS = intEnv('BENCH_LOGGING_PAIRS', 2, 1, 10);
const POOL = intEnv('BENCH_DB_POOL_MAX', 10, 1, 100);
const CAPTURE = intEnv('BENCH_LOGGING_CAPTURE', 2000, 1, 100_000);
/** Seconds of unmeasured sign-ins before the first window (default BENCH_SECONDS). */
const FIRST_WARMUP = intEnv('BENCH_LOGGING_WARMUP', SECONDS, 0, 300);
const REQUEST_TIMEOUT_MS = 10_000;
const TRIGGER = 'bench_sign_ins_off';
const FUNCTION = 'bench_sign_ins_skip';

const agent = new http.Agent({ keepAlive: true, maxSockets: VUS, scheduling: 'lifo' });

type Window = {
  label: string; mode: 'on' | 'off' | 'alone'; perSec: number; p50: number; p99: number; n: number;
  serverMs: number | undefined; pgMs: number | undefined; benchMs: number; otherPct: number | undefined;
  statements: number | undefined; rowsPerUnit: number; errors: number; non2xx: number; firstFailure: string | undefined;
};

const fmt = (v: number | undefined, d: number) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function benchDatabase(target: Target): Promise<{ table: string; serverLog: string[] }> {
  const url = target.env.DATABASE_URL;
  if (!url) return { table: 'Not measured on PGlite: the trigger that turns the sign-in insert into a no-op can only be switched with the server stopped there (PGlite runs inside it). Run with BENCH_DATABASES=postgres.', serverLog: [] };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const origin = `http://localhost:${port}`;
  const env = childEnv({ ...target.env, PORT: String(port), GATEHOUSE_PUBLIC_URL: origin, GATEHOUSE_DB_POOL_MAX: String(POOL) });
  log(`${target.name}: gatehouse init`);
  const tenant = await initTenant(env);
  log(`${target.name}: starting server, public URL ${origin}`);
  const server = await startServer(env, { outputChars: 1 << 16, logLines: 1000 });
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 15_000, statement_timeout: 60_000 });
  await admin.connect();
  const load: string[] = [];
  try {
    const token = await clientCredentialsToken(tenant, `${base}${new URL(tenant.tokenEndpoint).pathname}`);
    log(`${target.name}: provisioning ${USERS} users, each with a passkey`);
    const users = await provisionPasskeyUsers(base, origin, token, USERS, 8);
    const flows = `/api/flows/${tenant.tenantId}/sign-in`;
    const json = { 'content-type': 'application/json', accept: 'application/json' };
    const call = async (path: string, body: unknown, status: number) => {
      const r = await rawRequest(agent, `${base}${path}`, 'POST', json, JSON.stringify(body), REQUEST_TIMEOUT_MS);
      if (r.status !== status) throw new HttpFailure(r.status, `POST ${path}`, r.text);
      return JSON.parse(r.text);
    };
    const passkey = async (k: number) => {
      const user = users[k % users.length]!;
      const { flowId } = await call(flows, {}, 201) as { flowId: string };
      const options = await call(`${flows}/${flowId}/passkey/options`, {}, 200) as PublicKeyCredentialRequestOptionsJSON;
      const step = await call(`${flows}/${flowId}/passkey`, { credential: user.authenticator.authenticate(options, origin) }, 200) as { decision?: { outcome?: string } };
      if (step.decision?.outcome !== 'grant') throw new Error(`decision ${JSON.stringify(step.decision).slice(0, 200)}, not grant`);
    };

    // What is measured: the table as it is now (other work changes the record and its indexes).
    const columns = (await admin.query<{ column_name: string; data_type: string; udt_name: string }>(
      `SELECT column_name, data_type, udt_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'sign_ins' ORDER BY ordinal_position`)).rows;
    const indexes = (await admin.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'sign_ins' ORDER BY indexname`)).rows.map((r) => r.indexdef);
    const triggers = (await admin.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'sign_ins'::regclass AND NOT tgisinternal ORDER BY tgname`)).rows.map((r) => r.tgname);
    const uniqueColumns = new Set((await admin.query<{ attname: string }>(`
      SELECT DISTINCT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = 'sign_ins'::regclass AND i.indisunique`)).rows.map((r) => r.attname));

    await admin.query(`CREATE OR REPLACE FUNCTION ${FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`);
    const setLogging = async (on: boolean) => {
      await admin.query(`DROP TRIGGER IF EXISTS ${TRIGGER} ON sign_ins`);
      if (!on) await admin.query(`CREATE TRIGGER ${TRIGGER} BEFORE INSERT ON sign_ins FOR EACH ROW EXECUTE FUNCTION ${FUNCTION}()`);
    };
    const rowCount = async () => Number((await admin.query<{ n: string }>('SELECT count(*)::text AS n FROM sign_ins')).rows[0]!.n);

    const measureFlows = async (mode: 'on' | 'off', label: string): Promise<Window> => {
      await setLogging(mode === 'on');
      const counter = { k: 0 };
      if (WARMUP_SECONDS > 0) await runVirtualUsers(passkey, WARMUP_SECONDS, VUS, counter);
      const rows0 = await rowCount();
      const st0 = await target.statements?.();
      const stop = cpuWindow(server.child.pid, target.postmasterPid, false);
      const r = await runVirtualUsers(passkey, SECONDS, VUS, counter);
      const cpu = stop();
      const st1 = await target.statements?.();
      const rows1 = await rowCount();
      const sorted = r.latenciesMs.sort((a, b) => a - b);
      const w: Window = {
        label, mode, perSec: r.flows / r.elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: r.flows,
        serverMs: cpu.server === undefined || !r.flows ? undefined : (cpu.server * 1000) / r.flows,
        pgMs: cpu.postgres === undefined || !r.flows ? undefined : (cpu.postgres * 1000) / r.flows,
        benchMs: r.flows ? (cpu.bench * 1000) / r.flows : NaN,
        otherPct: cpu.other === undefined ? undefined : (cpu.other / r.elapsed) * 100,
        statements: st0 && st1 && r.flows ? statementDelta(st0, st1).statements / r.flows : undefined,
        rowsPerUnit: r.flows ? (rows1 - rows0) / r.flows : NaN,
        errors: r.errors, non2xx: r.non2xx, firstFailure: r.firstFailure,
      };
      log(`${label}: ${w.perSec.toFixed(0)} sign-ins/s, server ${fmt(w.serverMs, 2)} + PostgreSQL ${fmt(w.pgMs, 2)} CPU ms/sign-in, ${fmt(w.rowsPerUnit, 2)} sign_ins rows/sign-in, ${r.errors} errors, ${r.non2xx} non-2xx${r.firstFailure ? ` (${r.firstFailure})` : ''}`);
      return w;
    };

    const windows: Window[] = [];
    load.push(machineLoad());
    try {
      // An unmeasured first window: JIT, plan caches and PostgreSQL's buffers warm up here, not in window 1.
      if (FIRST_WARMUP > 0) {
        log(`${target.name}: ${FIRST_WARMUP} s unmeasured warm-up, logging on`);
        await setLogging(true);
        await runVirtualUsers(passkey, FIRST_WARMUP, VUS, { k: 0 });
      }
      for (let p = 0; p < PAIRS; p++) {
        const order: ('on' | 'off')[] = p % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
        for (const mode of order) windows.push(await measureFlows(mode, `(${mode === 'on' ? 'i' : 'ii'}) logging ${mode}, window ${windows.length + 1}`));
      }
    } finally {
      await setLogging(true);
    }

    // (iii) The records (i) wrote, inserted again alone: same table, same indexes, one per transaction.
    const captured = (await admin.query(`SELECT * FROM sign_ins WHERE tenant_id = $1 ORDER BY created_date_time DESC LIMIT ${CAPTURE}`, [tenant.tenantId])).rows as Record<string, unknown>[];
    if (captured.length === 0) throw new Error('no sign-in records were captured from the logging-on windows');
    const names = columns.map((c) => c.column_name);
    const insertSql = `INSERT INTO sign_ins (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`;
    const valuesOf = (row: Record<string, unknown>): unknown[] => columns.map((c) => {
      const v = row[c.column_name];
      if (uniqueColumns.has(c.column_name)) return c.udt_name === 'uuid' ? randomUUID() : c.udt_name === 'timestamptz' ? new Date() : `${String(v)}-${randomUUID()}`;
      if (c.column_name === 'created_date_time') return new Date();
      if ((c.udt_name === 'json' || c.udt_name === 'jsonb') && v !== null && v !== undefined) return JSON.stringify(v);
      return v;
    });
    const recordBytes = mean(captured.map((r) => Buffer.byteLength(JSON.stringify(r.record ?? r))));
    log(`${target.name}: (iii) inserting ${captured.length} captured records again, ${POOL} connections, one per transaction`);
    const clients = await Promise.all(Array.from({ length: POOL }, async () => {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 15_000, statement_timeout: 60_000 });
      await c.connect();
      return c;
    }));
    let alone: Window;
    try {
      const insertLoop = async (seconds: number) => {
        const latencies: number[] = [];
        let next = 0;
        let errors = 0;
        let firstFailure: string | undefined;
        const start = performance.now();
        const end = start + seconds * 1000;
        await Promise.all(clients.map(async (c) => {
          while (performance.now() < end) {
            const t0 = performance.now();
            try {
              await c.query(insertSql, valuesOf(captured[next++ % captured.length]!));
              latencies.push(performance.now() - t0);
            } catch (err) {
              errors++;
              firstFailure ??= (err as Error).message;
            }
          }
        }));
        return { latencies, errors, firstFailure, elapsed: (performance.now() - start) / 1000 };
      };
      if (WARMUP_SECONDS > 0) await insertLoop(WARMUP_SECONDS);
      const rows0 = await rowCount();
      const st0 = await target.statements?.();
      const stop = cpuWindow(undefined, target.postmasterPid, false);
      const r = await insertLoop(SECONDS);
      const cpu = stop();
      const st1 = await target.statements?.();
      const rows1 = await rowCount();
      const n = r.latencies.length;
      const sorted = r.latencies.sort((a, b) => a - b);
      alone = {
        label: '(iii) the captured records inserted alone', mode: 'alone', perSec: n / r.elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), n,
        serverMs: undefined, pgMs: cpu.postgres === undefined || !n ? undefined : (cpu.postgres * 1000) / n, benchMs: n ? (cpu.bench * 1000) / n : NaN,
        otherPct: cpu.other === undefined ? undefined : (cpu.other / r.elapsed) * 100,
        statements: st0 && st1 && n ? statementDelta(st0, st1).statements / n : undefined,
        rowsPerUnit: n ? (rows1 - rows0) / n : NaN, errors: r.errors, non2xx: 0, firstFailure: r.firstFailure,
      };
      log(`${alone.label}: ${alone.perSec.toFixed(0)} inserts/s, bench ${fmt(alone.benchMs, 3)} + PostgreSQL ${fmt(alone.pgMs, 3)} CPU ms/insert, ${r.errors} errors${r.firstFailure ? ` (${r.firstFailure})` : ''}`);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }
    load.push(machineLoad());
    await admin.query(`DROP FUNCTION IF EXISTS ${FUNCTION}()`);
    return { table: report(windows, alone, { columns, indexes, triggers, recordBytes, captured: captured.length }, load), serverLog: server.logLines };
  } finally {
    await admin.query(`DROP TRIGGER IF EXISTS ${TRIGGER} ON sign_ins`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await server.stop();
  }
}

function report(windows: Window[], alone: Window, table: { columns: { column_name: string; udt_name: string }[]; indexes: string[]; triggers: string[]; recordBytes: number; captured: number }, load: string[]): string {
  const cpuOf = (w: Window) => (w.serverMs === undefined || w.pgMs === undefined ? undefined : w.serverMs + w.pgMs);
  const lines = [
    '| window | sign-ins or inserts /s | p50 ms | p99 ms | server CPU ms/unit | PostgreSQL CPU ms/unit | server + PostgreSQL CPU ms/unit | bench CPU ms/unit | statements/unit | sign_ins rows/unit | other load CPU % | errors / non-2xx |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
    ...[...windows, alone].map((w) => `| ${w.label} | ${w.perSec.toFixed(0)} | ${fmt(w.p50, 1)} | ${fmt(w.p99, 1)} | ${fmt(w.serverMs, 3)} | ${fmt(w.pgMs, 3)} | ${fmt(cpuOf(w), 3)} | ${fmt(w.benchMs, 3)} | ${fmt(w.statements, 1)} | ${fmt(w.rowsPerUnit, 2)} | ${fmt(w.otherPct, 0)} | ${w.errors} / ${w.non2xx} |`),
  ];
  const on = windows.filter((w) => w.mode === 'on');
  const off = windows.filter((w) => w.mode === 'off');
  const tOn = mean(on.map((w) => w.perSec));
  const tOff = mean(off.map((w) => w.perSec));
  const wallObserved = 1000 / tOn - 1000 / tOff;
  const cpuOn = on.map(cpuOf);
  const cpuOff = off.map(cpuOf);
  const cpuObserved = cpuOn.every((v) => v !== undefined) && cpuOff.every((v) => v !== undefined) ? mean(cpuOn as number[]) - mean(cpuOff as number[]) : undefined;
  const wallAlone = 1000 / alone.perSec;
  const cpuAlone = alone.pgMs === undefined ? undefined : alone.pgMs + alone.benchMs;
  const verdict = (observed: number | undefined, cost: number | undefined) => (observed === undefined || cost === undefined ? 'n/a'
    : `${observed.toFixed(3)} ms vs 1.1 × ${cost.toFixed(3)} = ${(1.1 * cost).toFixed(3)} ms: ${observed <= 1.1 * cost ? '**met**' : '**not met**'} (observed ÷ alone = ${(observed / cost).toFixed(2)})`);
  // Per pair as well, to show the noise: pair p is windows 2p and 2p+1.
  const pairs: string[] = [];
  for (let p = 0; p + 1 < windows.length; p += 2) {
    const a = windows[p]!;
    const b = windows[p + 1]!;
    const [wOn, wOff] = a.mode === 'on' ? [a, b] : [b, a];
    const c1 = cpuOf(wOn);
    const c0 = cpuOf(wOff);
    pairs.push(`- pair ${p / 2 + 1}: on ${wOn.perSec.toFixed(0)}/s, off ${wOff.perSec.toFixed(0)}/s → wall ${(1000 / wOn.perSec - 1000 / wOff.perSec).toFixed(3)} ms; CPU ${c1 !== undefined && c0 !== undefined ? (c1 - c0).toFixed(3) : 'n/a'} ms per sign-in`);
  }
  return [
    lines.join('\n'),
    '',
    `T_on = ${tOn.toFixed(1)}/s, T_off = ${tOff.toFixed(1)}/s (means of ${on.length} and ${off.length} windows); T_insert = ${alone.perSec.toFixed(0)}/s (${POOL} connections).`,
    '',
    `- overhead_observed, wall (1/T_on − 1/T_off): ${verdict(wallObserved, wallAlone)}, against cost_alone = 1/T_insert`,
    `- overhead_observed, CPU (server + PostgreSQL ms, on − off): ${verdict(cpuObserved, cpuAlone)}, against cost_alone = bench (pg driver) + PostgreSQL CPU per insert`,
    ...pairs,
    '',
    `sign_ins as measured: ${table.columns.length} columns (${table.columns.map((c) => `${c.column_name} ${c.udt_name}`).join(', ')}); mean record ${table.recordBytes.toFixed(0)} bytes of JSON; ${table.captured} records captured for (iii).`,
    `Indexes: ${table.indexes.map((i) => `\`${i.replace(/^CREATE (UNIQUE )?INDEX (\S+) ON \S+ USING /, '$2 $1')}\``).join('; ')}. Triggers before the bench's own: ${table.triggers.length ? table.triggers.join(', ') : 'none'}.`,
    ...(windows.concat(alone).filter((w) => w.firstFailure).map((w) => `- ${w.label}: first failure: ${w.firstFailure}`)),
    '',
    'Machine load before and after (`uptime`, `top -bn1`):',
    '',
    '```',
    load.join('\n---\n'),
    '```',
  ].join('\n');
}

await runBench({
  watchdogSeconds: DATABASES.length * (FIRST_WARMUP + (2 * PAIRS + 1) * (SECONDS + WARMUP_SECONDS + 2 * REQUEST_TIMEOUT_MS / 1000 + 15) + 6 * SETUP_TIMEOUT_MS / 1000),
  title: '# Gatehouse sign-in logging cost bench',
  about: [
    `${SECONDS} s per window after ${WARMUP_SECONDS} s warm-up (and ${FIRST_WARMUP} s unmeasured before the first); flow-API passkey sign-ins (3 requests, usernameless) with ${VUS} virtual users, node:http keep-alive client in the`,
    `bench process, server in a child process with a pool of ${POOL} connections; ${USERS} users with a passkey, rotating per sign-in.`,
    `(i) logging on and (ii) the sign_ins insert made a no-op by a BEFORE INSERT trigger returning NULL (this database only) alternate: ${PAIRS} pair(s), on/off then off/on.`,
    `(iii) the records captured from (i) inserted again, one per transaction, over ${POOL} connections from the bench process.`,
    'Units: a sign-in for (i) and (ii), an insert for (iii). CPU from /proc: server = the gatehouse process, PostgreSQL = the throwaway server\'s processes, bench = this process.',
  ],
  pgliteDescribe: 'PGlite (embedded, inside the server process)',
  noteUndroppedDatabase: true,
  bench: benchDatabase,
});
