/**
 * Impact analysis throughput (WIF-2): how many logged sign-ins per second `analyseImpact`
 * re-decides against a proposed policy set, reading them from the database in keyset batches.
 *
 * The records are what the live flow writes (the decision with `decisionTrace`: the engine's input
 * minus the policies, the policy version), decided under the common tenant of scenarios.md
 * (CA001..CA003, the Bootstrap and Recovery strength) for rotating users (TAP only, TAP and
 * passkey, passkey only), apps (Chat, the security-info portal, device registration) and
 * performed methods. The proposed set replaces the policies with SC-6's CA002 (applies to no app)
 * and turns PLT-3 off, so many outcomes change and examples are collected.
 *
 *   node bench/impact.ts                 # PGlite in memory; BENCH_RECORDS=20000 BENCH_RUNS=3
 *   BENCH_DATABASE_URL=postgres://… node bench/impact.ts
 *
 * The Markdown report goes to stdout, progress to stderr.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { evaluateSignIn } from '../src/engine/evaluateSignIn.ts';
import { diffDecisions } from '../src/engine/replayDiff.ts';
import type { Decision, SignInInput } from '../src/engine/types.ts';
import { initTenant } from '../src/flows/init/flow.ts';
import { analyseImpact } from '../src/flows/logs/impact.ts';
import { proposedSnapshot } from '../src/flows/logs/proposed.ts';
import { decisionTrace } from '../src/flows/sign-in/flow.ts';
import { migrate, openDatabase } from '../src/store/database.ts';
import { writeSignIn } from '../src/store/signIns.ts';
import {
  APPS, at, bootstrapStrength, CA001, CA002, CA003, chat, deviceRegistration, didPasskey, didTap, passkey, portal, snapshot, tap, user,
} from '../test/support/tenantPolicies.ts';

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}='${raw}' must be an integer from ${min} to ${max}`);
  return n;
}
const RECORDS = intEnv('BENCH_RECORDS', 20_000, 100, 100_000);
const RUNS = intEnv('BENCH_RUNS', 3, 1, 20);
const DATABASE_URL = process.env.BENCH_DATABASE_URL || undefined;
const log = (msg: string) => process.stderr.write(`· ${msg}\n`);

const policies = snapshot({ policies: [CA001, CA002, CA003] });
const users = [
  (id: string, upn: string) => user([tap()], { id, userPrincipalName: upn }),
  (id: string, upn: string) => user([passkey(), tap()], { id, userPrincipalName: upn }),
  (id: string, upn: string) => user([passkey()], { id, userPrincipalName: upn }),
];
const requests = [chat, portal, deviceRegistration];
const performed = [[didTap(0)], [didPasskey(0)], [didTap(0), didPasskey(0)]];

let inputBytes = 0;
let decisionBytes = 0;

/** The record the live flow writes for this input (flows/sign-in/flow.ts `decisionTrace`). */
function recordOf(i: number): { input: SignInInput; extra: Record<string, unknown> } {
  const n = i % 997;
  const id = `7e57c0de-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  const input: SignInInput = { policies, user: users[i % 3]!(id, `user${n}@bench.test`), request: requests[Math.floor(i / 3) % 3]!({ at: at(1) }), session: { performed: performed[Math.floor(i / 9) % 3]! } };
  const decision = evaluateSignIn(input);
  inputBytes += JSON.stringify({ user: input.user, request: input.request, session: input.session }).length;
  decisionBytes += JSON.stringify(decision).length;
  return { input, extra: { ...decisionTrace(decision, input), gatehouseInput: { user: input.user, request: input.request, session: input.session }, gatehousePolicyVersion: '1' } };
}

const proposed = {
  conditionalAccessPolicies: { replaceAll: [CA001, { ...CA002, conditions: { ...CA002.conditions, applications: { ...CA002.conditions.applications, includeApplications: ['None'], excludeApplications: [] } } }, CA003] },
  authenticationStrengthPolicies: { replaceAll: [bootstrapStrength] },
  platformRulesPolicy: { existingMethodStepUp: 'off' },
};

async function main(): Promise<void> {
  const database = await openDatabase({ databaseUrl: DATABASE_URL, dataDir: 'memory://', purpose: 'bench impact', poolMax: 2 });
  try {
    await migrate(database.db);
    const db = database.db;
    const tenant = await initTenant(db, { tenant: `Impact bench ${randomUUID().slice(0, 8)}`, admin: 'admin@bench.test' }, 'http://localhost:8080', new Date());
    const tenantId = tenant.tenantId;
    const base = Date.now() - 3_600_000;
    log(`writing ${RECORDS} sign-in records`);
    const writeStart = performance.now();
    for (let i = 0; i < RECORDS; i += 1000) {
      await db.transaction().execute(async (trx) => {
        for (let j = i; j < Math.min(RECORDS, i + 1000); j++) {
          const { input, extra } = recordOf(j);
          await writeSignIn(trx, tenantId, {
            correlationId: randomUUID(), user: { id: input.user.id, userPrincipalName: input.user.userPrincipalName, displayName: 'Bench user' },
            app: input.request.appId ? { appId: input.request.appId, displayName: input.request.appId === APPS.chat ? 'Chat' : 'First-party app' } : null,
            ipAddress: '203.0.113.7', status: { errorCode: 0, failureReason: 'Other.' }, authenticationDetails: [], extra,
          }, new Date(base + j));
        }
      });
    }
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const inputAvg = Math.round(inputBytes / RECORDS);
    const decisionAvg = Math.round(decisionBytes / RECORDS);
    const size = await db.selectFrom('sign_ins').select((eb) => eb.fn.avg<number>(eb.fn<number>('pg_column_size', ['record'])).as('bytes')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    log(`written in ${writeSeconds.toFixed(1)} s; record size ${Math.round(Number(size.bytes))} bytes (stored, compressed)`);

    // The same work without the database: decide each record's input against the proposed set and compare.
    const inMemory = Array.from({ length: RECORDS }, (_, i) => recordOf(i));
    const { snapshot: proposedPolicies } = await proposedSnapshot(db, tenantId, proposed, new Date());
    const m0 = performance.now();
    for (const { input, extra } of inMemory) diffDecisions(extra.gatehouseDecision as Decision, evaluateSignIn({ ...input, policies: proposedPolicies }));
    const engineOnly = RECORDS / ((performance.now() - m0) / 1000);
    log(`engine and comparison alone: ${engineOnly.toFixed(0)} records/s`);

    const operator = { kind: 'operator', name: 'bench' } as const;
    const body = { proposed, from: new Date(base - 1000).toISOString(), to: new Date(base + RECORDS + 1000).toISOString(), maxRecords: RECORDS, examplesPerChange: 5 };
    const rates: number[] = [];
    let last: Awaited<ReturnType<typeof analyseImpact>> | undefined;
    for (let run = 0; run < RUNS + 1; run++) {
      const t0 = performance.now();
      last = await analyseImpact(db, tenantId, operator, body, new Date());
      const seconds = (performance.now() - t0) / 1000;
      if (last.examined !== RECORDS) throw new Error(`examined ${last.examined}, expected ${RECORDS}`);
      if (run === 0) {
        log(`warm-up: ${seconds.toFixed(2)} s`);
        continue;
      }
      rates.push(RECORDS / seconds);
      log(`run ${run}: ${(RECORDS / seconds).toFixed(0)} records/s`);
    }
    rates.sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)]!;
    const r = last!;
    const lines = [
      `## Impact analysis (WIF-2), ${DATABASE_URL ? 'PostgreSQL' : 'PGlite (in memory)'}`,
      '',
      `${RECORDS} records, common tenant (3 CA policies), proposed: SC-6 CA002 + PLT-3 off; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}.`,
      '',
      '| measure | value |',
      '|---|---|',
      `| re-decided, median of ${RUNS} runs | ${median.toFixed(0)} records/s |`,
      `| slowest / fastest run | ${rates[0]!.toFixed(0)} / ${rates.at(-1)!.toFixed(0)} records/s |`,
      `| the engine and the comparison alone (records in memory) | ${engineOnly.toFixed(0)} records/s |`,
      `| outcome changes found | ${r.changedOutcomes} of ${r.replayable} (${r.outcomes.filter((o) => o.recorded !== o.proposed).map((o) => `${o.recorded}→${o.proposed} ${o.count}`).join(', ')}) |`,
      `| stored record size (avg, pg_column_size, compressed) | ${Math.round(Number(size.bytes))} bytes |`,
      `| of which gatehouseInput (avg JSON, uncompressed) | ${inputAvg} bytes (gatehouseDecision: ${decisionAvg} bytes) |`,
      `| writing the records (writeSignIn, 1000 per transaction) | ${(RECORDS / writeSeconds).toFixed(0)} records/s |`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await database.close();
  }
}

await main();
