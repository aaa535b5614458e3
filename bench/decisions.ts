/**
 * Decision engine throughput (SIG-1): how many `evaluateSignIn` decisions one core makes per
 * second, with the full trace, against 5, 50 and 195 Conditional Access policies.
 *
 * The policy sets are the common tenant (CA001..CA003) plus generated enterprise-style policies
 * (per-group MFA, legacy-auth blocks, location and platform rules, admin-role strengths, app
 * strengths, authentication contexts, guests, sign-in frequency; some report-only, some
 * disabled; a few apply to the bench users, most don't), from a seeded generator so that runs
 * compare. The users (TAP-only, passkey holder, admin) and requests (security-info portal, chat,
 * device registration) rotate. Baselines from the same run: a decision with no policy and a
 * structuredClone of the 195-policy input.
 *
 *   node bench/decisions.ts            # BENCH_SECONDS (default 5) measured per row
 *
 * The Markdown report goes to stdout, progress to stderr.
 */
import { cpus } from 'node:os';
import { ROLE_TEMPLATES } from '../src/domain/directory.ts';
import type { CaPolicy, NamedLocation } from '../src/domain/conditionalAccess.ts';
import { MFA_STRENGTH_ID, PASSWORDLESS_STRENGTH_ID, PHISHING_RESISTANT_STRENGTH_ID } from '../src/domain/strengths.ts';
import { evaluateSignIn } from '../src/engine/evaluateSignIn.ts';
import type { Decision, PolicySnapshot, SignInInput } from '../src/engine/types.ts';
import {
  APPS, CA001, CA002, CA003, caPolicy, chat, deviceRegistration, didPasskey, didTap, passkey, portal, snapshot, T0, tap, user,
} from '../test/support/tenantPolicies.ts';

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}='${raw}' must be an integer from ${min} to ${max}`);
  return n;
}
const SECONDS = intEnv('BENCH_SECONDS', 5, 1, 300);
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 1, 0, 60);
const SEED = intEnv('BENCH_SEED', 20261125, 0, 2 ** 31 - 1);
const SIZES = (process.env.BENCH_POLICIES || '5,50,195').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n >= 0 && n <= 195);
const log = (msg: string) => process.stderr.write(`· ${msg}\n`);

// ---------- a seeded tenant ----------

/** mulberry32: small, fast, good enough to pick policy shapes reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const chance = (p: number) => random() < p;
const guid = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const GROUPS = Array.from({ length: 60 }, (_, i) => guid('9b000000', i + 1));
const [ALL_EMPLOYEES, SALES, ENGINEERING, IT] = GROUPS as [string, string, string, string];
const APP_IDS = [APPS.chat, APPS.console, APPS.portal, ...Array.from({ length: 30 }, (_, i) => guid('a9900000', i + 1))];
const ROLES = ROLE_TEMPLATES.map((r) => r.id);
const GLOBAL_ADMIN = ROLES[0]!;
const BREAK_GLASS = guid('b4eac91a', 1);
const HQ = guid('10ca7100', 1);
const BRANCH = guid('10ca7100', 2);
const VPN = guid('10ca7100', 3);
const RISKY = guid('10ca7100', 4);

const location = (id: string, displayName: string, isTrusted: boolean, ranges: string[]): NamedLocation => ({
  '@odata.type': '#microsoft.graph.ipNamedLocation', id, displayName, isTrusted,
  ipRanges: ranges.map((cidrAddress) => ({ '@odata.type': cidrAddress.includes(':') ? '#microsoft.graph.iPv6CidrRange' : '#microsoft.graph.iPv4CidrRange', cidrAddress })),
  createdDateTime: T0, modifiedDateTime: T0,
});
const NAMED_LOCATIONS: NamedLocation[] = [
  location(HQ, 'Headquarters', true, ['203.0.113.0/24', '2001:db8:100::/48']),
  location(BRANCH, 'Branch offices', true, ['198.51.100.0/25', '198.51.100.128/26', '2001:db8:200::/48']),
  location(VPN, 'Corporate VPN', false, ['10.8.0.0/16', '10.9.0.0/16']),
  location(RISKY, 'Blocked ranges', false, Array.from({ length: 40 }, (_, i) => `100.${64 + i}.0.0/16`)),
];

type Archetype = (n: number) => Record<string, unknown>;
const mfa = { operator: 'OR', builtInControls: ['mfa'] };
const block = { operator: 'OR', builtInControls: ['block'] };
const strength = (id: string) => ({ operator: 'OR', builtInControls: [], authenticationStrength: { id } });
/** Most per-group policies name groups the bench users are not in; about one in eight names one they are. */
const someGroups = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => (chance(0.12) ? pick([ALL_EMPLOYEES, SALES, ENGINEERING, IT]) : pick(GROUPS.slice(4))));
const someApps = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(APP_IDS.slice(3)));

const ARCHETYPES: [weight: number, Archetype][] = [
  [6, (n) => ({ displayName: `CA1${n} Require MFA for group`, conditions: { users: { includeGroups: someGroups(), excludeUsers: [BREAK_GLASS] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] }, grantControls: mfa })],
  [2, (n) => ({ displayName: `CA2${n} Block legacy authentication`, conditions: { users: { includeUsers: ['All'], excludeUsers: [BREAK_GLASS], excludeGroups: [pick(GROUPS.slice(4))] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['exchangeActiveSync', 'other'] }, grantControls: block })],
  [4, (n) => ({ displayName: `CA3${n} MFA outside trusted locations`, conditions: { users: { includeGroups: someGroups() }, applications: { includeApplications: chance(0.5) ? ['All'] : someApps() }, locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] }, clientAppTypes: ['all'] }, grantControls: mfa })],
  [2, (n) => ({ displayName: `CA4${n} Block from risky ranges`, conditions: { users: { includeUsers: ['All'], excludeUsers: [BREAK_GLASS] }, applications: { includeApplications: ['All'] }, locations: { includeLocations: [RISKY] } }, grantControls: block })],
  [3, (n) => ({ displayName: `CA5${n} Phishing-resistant for admins`, conditions: { users: { includeRoles: Array.from({ length: 2 + Math.floor(random() * 4) }, () => pick(ROLES)), excludeUsers: [BREAK_GLASS] }, applications: { includeApplications: chance(0.5) ? ['All'] : ['MicrosoftAdminPortals'] } }, grantControls: strength(PHISHING_RESISTANT_STRENGTH_ID) })],
  [4, (n) => ({ displayName: `CA6${n} Passwordless for sensitive apps`, conditions: { users: { includeGroups: someGroups() }, applications: { includeApplications: someApps() } }, grantControls: strength(pick([PASSWORDLESS_STRENGTH_ID, MFA_STRENGTH_ID, PHISHING_RESISTANT_STRENGTH_ID])) })],
  [2, (n) => ({ displayName: `CA7${n} Step-up for context`, conditions: { users: { includeUsers: ['All'] }, applications: { includeAuthenticationContextClassReferences: [`c${1 + Math.floor(random() * 20)}`] } }, grantControls: strength(PHISHING_RESISTANT_STRENGTH_ID) })],
  [2, (n) => ({ displayName: `CA8${n} Mobile platforms need MFA`, conditions: { users: { includeGroups: someGroups() }, applications: { includeApplications: ['All'] }, platforms: { includePlatforms: ['android', 'iOS'], excludePlatforms: [] } }, grantControls: mfa })],
  [1, (n) => ({ displayName: `CA9${n} Block unknown platforms`, conditions: { users: { includeGroups: someGroups() }, applications: { includeApplications: ['All'] }, platforms: { includePlatforms: ['all'], excludePlatforms: ['windows', 'macOS', 'iOS', 'android', 'linux'] } }, grantControls: block })],
  [2, (n) => ({ displayName: `CA10${n} Guests need MFA`, conditions: { users: { includeUsers: ['GuestsOrExternalUsers'] }, applications: { includeApplications: chance(0.5) ? ['All'] : someApps() } }, grantControls: mfa })],
  [2, (n) => ({ displayName: `CA11${n} Hourly sign-in for finance apps`, conditions: { users: { includeGroups: someGroups() }, applications: { includeApplications: someApps() } }, grantControls: mfa, sessionControls: { signInFrequency: { isEnabled: true, type: 'hours', value: 1 + Math.floor(random() * 12), frequencyInterval: 'timeBased', authenticationType: 'primaryAndSecondaryAuthentication' } } })],
  [1, (n) => ({ displayName: `CA12${n} Device code flow blocked`, conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, authenticationFlows: { transferMethods: 'deviceCodeFlow' } }, grantControls: block })],
  [1, (n) => ({ displayName: `CA13${n} Risky sign-ins need MFA`, conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, signInRiskLevels: ['medium', 'high'] }, grantControls: mfa })],
];
const TOTAL_WEIGHT = ARCHETYPES.reduce((s, [w]) => s + w, 0);

function generatedPolicy(i: number): CaPolicy {
  let r = random() * TOTAL_WEIGHT;
  const [, make] = ARCHETYPES.find(([w]) => (r -= w) < 0) ?? ARCHETYPES[0]!;
  const raw = make(i);
  const s = random();
  raw.state = s < 0.7 ? 'enabled' : s < 0.85 ? 'enabledForReportingButNotEnforced' : 'disabled';
  return caPolicy(guid('ca9e0000', i), raw);
}

const ALL_POLICIES: CaPolicy[] = [CA001, CA002, CA003, ...Array.from({ length: 192 }, (_, i) => generatedPolicy(i + 1))];
const tenant = (n: number): PolicySnapshot => snapshot({ policies: ALL_POLICIES.slice(0, n), namedLocations: NAMED_LOCATIONS });

// ---------- users, requests, sessions ----------

const tapOnly = user([tap()], { id: guid('7e57c0de', 11), userPrincipalName: 'new.hire@contoso.test', groupIds: [ALL_EMPLOYEES, SALES] });
const passkeyHolder = user([passkey(), tap()], { id: guid('7e57c0de', 12), userPrincipalName: 'dev@contoso.test', groupIds: [ALL_EMPLOYEES, ENGINEERING] });
const admin = user([passkey('pk-admin')], { id: guid('7e57c0de', 13), userPrincipalName: 'admin@contoso.test', groupIds: [ALL_EMPLOYEES, IT], roleTemplateIds: [GLOBAL_ADMIN] });
const HQ_IP = { ipAddress: '203.0.113.7' };
const HOME_IP = { ipAddress: '192.0.2.44' };

type Case = { name: string; user: typeof tapOnly; request: ReturnType<typeof chat>; performed: ReturnType<typeof didTap>[] };
const CASES: Case[] = [
  { name: 'TAP user, security info', user: tapOnly, request: portal(HQ_IP), performed: [didTap(0)] },
  { name: 'TAP user, chat', user: tapOnly, request: chat(HQ_IP), performed: [didTap(0)] },
  { name: 'TAP user, device registration', user: tapOnly, request: deviceRegistration(), performed: [didTap(0)] },
  { name: 'passkey holder, security info', user: passkeyHolder, request: portal({ ...HOME_IP, securityInfoOperation: 'register' }), performed: [didPasskey(0)] },
  { name: 'passkey holder, chat', user: passkeyHolder, request: chat(HOME_IP), performed: [didPasskey(0)] },
  { name: 'passkey holder, device registration', user: passkeyHolder, request: deviceRegistration(), performed: [didTap(0)] },
  { name: 'admin, security info', user: admin, request: portal(HQ_IP), performed: [didPasskey(0, 'pk-admin')] },
  { name: 'admin, admin console', user: admin, request: chat({ ...HQ_IP, appId: APPS.console }), performed: [didPasskey(0, 'pk-admin')] },
  { name: 'admin, chat (mobile, step-up context)', user: admin, request: chat({ ...HOME_IP, platform: 'iOS', authenticationContexts: ['c3'] }), performed: [didPasskey(0, 'pk-admin')] },
];
const inputs = (policies: PolicySnapshot): SignInInput[] => CASES.map((c) => ({ policies, user: c.user, request: c.request, session: { performed: c.performed } }));

// ---------- measuring ----------

let sink = 0;
type Row = { workload: string; policies: number | string; ops: number; seconds: number; cpuSeconds: number; note: string };

/** Run `op` over the inputs round-robin: a warm-up, then SECONDS measured. */
function measure(workload: string, policies: number | string, xs: SignInInput[], op: (x: SignInInput) => number, note = ''): Row {
  const run = (seconds: number) => {
    let n = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const end = start + seconds * 1000;
    let now = start;
    while (now < end) {
      for (let i = 0; i < 64; i++) sink += op(xs[(n + i) % xs.length]!);
      n += 64;
      now = performance.now();
    }
    const used = process.cpuUsage(cpu);
    return { ops: n, seconds: (now - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
  };
  if (WARMUP_SECONDS) run(WARMUP_SECONDS);
  const r = run(SECONDS);
  log(`${workload} (${policies}): ${Math.round(r.ops / r.seconds)}/s`);
  return { workload, policies, ops: r.ops, seconds: r.seconds, cpuSeconds: r.cpuSeconds, note };
}
const decide = (x: SignInInput) => evaluateSignIn(x).requirements.length;

function profile(n: number): string {
  const ds: Decision[] = inputs(tenant(n)).map(evaluateSignIn);
  const per = (f: (d: Decision) => number) => (ds.reduce((s, d) => s + f(d), 0) / ds.length).toFixed(1);
  const outcomes = new Map<string, number>();
  for (const d of ds) outcomes.set(d.outcome, (outcomes.get(d.outcome) ?? 0) + 1);
  return `${per((d) => d.appliedConditionalAccessPolicies.filter((p) => p.applies && p.state === 'enabled').length)} enforced + ${per((d) => d.appliedConditionalAccessPolicies.filter((p) => p.applies && p.state === 'enabledForReportingButNotEnforced').length)} report-only apply; ${[...outcomes].map(([o, k]) => `${k} ${o}`).join(', ')}`;
}

const rows: Row[] = [];
log(`seed ${SEED}, ${SECONDS} s per row after ${WARMUP_SECONDS} s warm-up, ${CASES.length} sign-ins in rotation`);
rows.push(measure('baseline: decision with no policy', 0, inputs(tenant(0)), decide, profile(0)));
for (const n of SIZES) rows.push(measure('decision (cached compiled snapshot)', n, inputs(tenant(n)), decide, profile(n)));
const largest = Math.max(...SIZES, 0);
// A fresh snapshot object per decision: what a caller that rebuilds the snapshot every time would pay.
const fresh = inputs(tenant(largest));
rows.push(measure('decision, snapshot compiled every time', largest, fresh, (x) => decide({ ...x, policies: { ...x.policies } }), 'compileSnapshot runs on every decision'));
rows.push(measure('baseline: structuredClone of the input', largest, fresh, (x) => structuredClone(x).session.performed.length, 'copying the input once'));

// Ratios use CPU time: on a shared machine it moves less than wall time.
const cpuPer = (r: Row) => (r.cpuSeconds * 1e6) / r.ops;
const base = cpuPer(rows[0]!);
const clone = cpuPer(rows[rows.length - 1]!);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
process.stdout.write(`\n## Decision engine (node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, seed ${SEED}, ${SECONDS} s per row)\n\n`);
process.stdout.write('| workload | policies | decisions/s | µs/decision | CPU µs/decision | × no-policy CPU | ÷ structuredClone CPU | what applied (9 sign-ins) |\n|---|--:|--:|--:|--:|--:|--:|---|\n');
for (const r of rows) {
  const rate = r.ops / r.seconds;
  process.stdout.write(`| ${r.workload} | ${r.policies} | ${fmt(rate)} | ${(1e6 / rate).toFixed(1)} | ${cpuPer(r).toFixed(1)} | ${(cpuPer(r) / base).toFixed(1)} | ${(cpuPer(r) / clone).toFixed(2)} | ${r.note} |\n`);
}
const at195 = rows.find((r) => r.policies === 195 && r.workload.startsWith('decision (cached'));
if (at195) {
  const rate = at195.ops / at195.seconds;
  const perCpu = at195.ops / at195.cpuSeconds;
  process.stdout.write(`\nGoal: ≥ 20,000 decisions/s at 195 policies: ${fmt(rate)}/s wall, ${fmt(perCpu)} per CPU-second: ${perCpu >= 20000 ? 'met' : 'NOT met'} on this machine.\n`);
}
if (sink === -1) process.stdout.write('');
