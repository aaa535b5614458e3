import fc from 'fast-check';
import { parsePolicy, type CaPolicy, type NamedLocation } from '../../src/domain/conditionalAccess.ts';
import { ROLE_TEMPLATES } from '../../src/domain/directory.ts';
import { MFA_STRENGTH_ID, PASSWORDLESS_STRENGTH_ID, PHISHING_RESISTANT_STRENGTH_ID, type AuthenticationStrength } from '../../src/domain/strengths.ts';
import type { PerformedMethod, PolicySnapshot, SignInInput, SignInRequest, SignInUser, UserMethod } from '../../src/engine/types.ts';
import { APPS, at, BOOTSTRAP_STRENGTH_ID, bootstrapStrength, snapshot, T0 } from './tenantPolicies.ts';

/**
 * fast-check arbitraries for the decision engine's property tests (SIG-1, CA-1..CA-7): valid
 * Conditional Access policies built as raw Graph JSON and run through `parsePolicy`, users,
 * requests and sessions drawn from small shared pools so that policies and sign-ins meet often.
 */

const guid = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** Small pools: a policy naming "a user" hits the signing-in user often enough to matter. */
export const USER_IDS = [1, 2, 3, 4].map((n) => guid('7e57c0de', n));
export const GROUP_IDS = [1, 2, 3, 4].map((n) => guid('96000000', n));
export const ROLE_IDS = ROLE_TEMPLATES.slice(0, 3).map((r) => r.id);
export const CUSTOM_APP = 'a9900000-0000-4000-8000-0000000000a1';
export const APP_IDS = [APPS.portal, APPS.console, APPS.deviceRegistration, APPS.chat, CUSTOM_APP];
export const CONTEXTS = ['c1', 'c2', 'c3', 'c4', 'c5'];
export const CUSTOM_STRENGTH_ID = 'c0570000-0000-4000-8000-000000000001';
export const STRENGTH_IDS = [MFA_STRENGTH_ID, PASSWORDLESS_STRENGTH_ID, PHISHING_RESISTANT_STRENGTH_ID, BOOTSTRAP_STRENGTH_ID, CUSTOM_STRENGTH_ID];
export const YUBIKEY = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
export const OTHER_AAGUID = 'ee882879-721c-4913-9775-3dfcce97072a';

/** A custom strength restricted to one AAGUID (STR-2, STR-3), alongside the built-ins and the bootstrap one. */
export const yubiKeyOnlyStrength: AuthenticationStrength = {
  id: CUSTOM_STRENGTH_ID, displayName: 'YubiKey or TAP', description: null, policyType: 'custom', requirementsSatisfied: 'mfa',
  allowedCombinations: ['fido2', 'temporaryAccessPassOneTime', 'password,softwareOath'],
  combinationConfigurations: [{ '@odata.type': '#microsoft.graph.fido2CombinationConfiguration', id: 'cfg-1', appliesToCombinations: ['fido2'], allowedAAGUIDs: [YUBIKEY] }],
  createdDateTime: T0, modifiedDateTime: T0,
};

/** Addresses requests come from, and the ranges named locations are built from. */
export const ADDRESSES = ['203.0.113.7', '198.51.100.9', '10.1.2.3', '192.0.2.200', '2001:db8::7'];
const RANGES = ['203.0.113.0/24', '198.51.100.0/24', '10.0.0.0/8', '2001:db8::/32', '192.0.2.0/25'];
export const LOCATION_IDS = [1, 2, 3].map((n) => guid('10ca7100', n));

/** The named locations a snapshot holds (ids from LOCATION_IDS, ranges and trust drawn). */
export const namedLocationsArb: fc.Arbitrary<NamedLocation[]> = fc.tuple(
  ...LOCATION_IDS.map((id, i) => fc.record({
    ranges: fc.subarray(RANGES, { minLength: 1, maxLength: 2 }),
    trusted: fc.boolean(),
  }).map(({ ranges, trusted }): NamedLocation => ({
    '@odata.type': '#microsoft.graph.ipNamedLocation', id, displayName: `Location ${i + 1}`, isTrusted: trusted,
    ipRanges: ranges.map((r) => ({ '@odata.type': r.includes(':') ? '#microsoft.graph.iPv6CidrRange' : '#microsoft.graph.iPv4CidrRange', cidrAddress: r })),
    createdDateTime: T0, modifiedDateTime: T0,
  }))),
);

const some = <T>(xs: readonly T[], max = xs.length) => fc.subarray([...xs], { minLength: 0, maxLength: max });
const atLeastOne = <T>(xs: readonly T[], max = xs.length) => fc.subarray([...xs], { minLength: 1, maxLength: max });

export type RawPolicy = Record<string, any>;

const usersArb = fc.record({
  include: fc.oneof(
    { weight: 5, arbitrary: fc.constant<Record<string, string[]>>({ includeUsers: ['All'] }) },
    { weight: 1, arbitrary: fc.constant<Record<string, string[]>>({ includeUsers: ['None'] }) },
    { weight: 4, arbitrary: fc.record({
      includeUsers: fc.tuple(some(USER_IDS, 2), fc.boolean()).map(([ids, guests]) => (guests ? [...ids, 'GuestsOrExternalUsers'] : ids)),
      includeGroups: some(GROUP_IDS, 2), includeRoles: some(ROLE_IDS, 2),
    }) },
  ),
  excludeUsers: fc.oneof({ weight: 6, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: some(USER_IDS, 1) }, { weight: 1, arbitrary: fc.constant<string[]>(['GuestsOrExternalUsers']) }),
  excludeGroups: fc.oneof({ weight: 5, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: some(GROUP_IDS, 1) }),
  excludeRoles: fc.oneof({ weight: 4, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: some(ROLE_IDS, 1) }),
}).map(({ include, ...exclude }): Record<string, string[]> => ({ includeGroups: [], includeRoles: [], ...(include as Record<string, string[]>), ...exclude }));

type Target = { kind: 'apps' | 'action' | 'contexts'; applications: Record<string, string[]> };
const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    includeApplications: fc.oneof({ weight: 5, arbitrary: fc.constant<string[]>(['All']) }, { weight: 1, arbitrary: fc.constant<string[]>(['None']) },
      { weight: 3, arbitrary: atLeastOne([...APP_IDS, 'MicrosoftAdminPortals'], 2) }),
    excludeApplications: fc.oneof({ weight: 4, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: atLeastOne(APP_IDS, 1) }),
  }).map((applications): Target => ({ kind: 'apps', applications })) },
  { weight: 2, arbitrary: fc.constantFrom('urn:user:registersecurityinfo', 'urn:user:registerdevice').map((a): Target => ({ kind: 'action', applications: { includeUserActions: [a] } })) },
  { weight: 1, arbitrary: atLeastOne(CONTEXTS, 2).map((c): Target => ({ kind: 'contexts', applications: { includeAuthenticationContextClassReferences: c } })) },
);

const optional = <T>(arb: fc.Arbitrary<T>, weightNone = 3) => fc.oneof({ weight: weightNone, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const conditionsRest = fc.record({
  clientAppTypes: fc.oneof({ weight: 4, arbitrary: fc.constant<string[]>(['all']) }, { weight: 2, arbitrary: fc.constant<string[]>([]) },
    { weight: 2, arbitrary: atLeastOne(['browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'easSupported', 'other'], 3) }),
  platforms: optional(fc.record({
    includePlatforms: fc.oneof({ weight: 2, arbitrary: fc.constant<string[]>(['all']) }, { weight: 1, arbitrary: atLeastOne(['android', 'iOS', 'windows', 'macOS', 'linux'], 3) }),
    excludePlatforms: fc.oneof({ weight: 2, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: atLeastOne(['android', 'iOS', 'windows', 'macOS', 'linux'], 2) }),
  }), 4),
  locations: optional(fc.record({
    includeLocations: fc.oneof({ weight: 2, arbitrary: fc.constant<string[]>(['All']) }, { weight: 1, arbitrary: fc.constant<string[]>(['AllTrusted']) }, { weight: 1, arbitrary: atLeastOne(LOCATION_IDS, 2) }),
    excludeLocations: fc.oneof({ weight: 2, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.constant<string[]>(['AllTrusted']) }, { weight: 1, arbitrary: atLeastOne(LOCATION_IDS, 1) }),
  }), 4),
  authenticationFlows: optional(fc.constantFrom('deviceCodeFlow', 'authenticationTransfer', 'deviceCodeFlow,authenticationTransfer').map((transferMethods) => ({ transferMethods })), 8),
  signInRiskLevels: optional(atLeastOne(['none', 'low', 'medium', 'high'], 2), 8),
  userRiskLevels: optional(atLeastOne(['none', 'low', 'medium', 'high'], 2), 10),
});

type Grant = RawPolicy | null;
const grantArb: fc.Arbitrary<Grant> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ operator: 'OR', builtInControls: ['block'] }) },
  { weight: 3, arbitrary: fc.constantFrom('AND', 'OR').map((operator) => ({ operator, builtInControls: ['mfa'] })) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('AND', 'OR'), fc.constantFrom(...STRENGTH_IDS)).map(([operator, id]) => ({ operator, builtInControls: [], authenticationStrength: { id } })) },
  { weight: 1, arbitrary: fc.constant(null) }, // session controls only
);

const signInFrequencyArb = fc.oneof(
  fc.record({ type: fc.constantFrom('hours', 'days'), value: fc.integer({ min: 1, max: 24 }) }).map(({ type, value }) => ({
    isEnabled: true, type, value, frequencyInterval: 'timeBased', authenticationType: 'primaryAndSecondaryAuthentication',
  })),
  fc.constant({ isEnabled: true, type: null, value: null, frequencyInterval: 'everyTime', authenticationType: 'primaryAndSecondaryAuthentication' }),
);

export type PolicyState = 'enabled' | 'disabled' | 'enabledForReportingButNotEnforced';

/**
 * A valid raw Graph policy (CA-1..CA-6): report-only never targets a user action (CA-5), a
 * `urn:user:registerdevice` policy grants `mfa` only (CA-6), a policy without a grant has a
 * session control (CA-3).
 */
export function rawPolicyArb(states: readonly PolicyState[] = ['enabled', 'enabled', 'disabled', 'enabledForReportingButNotEnforced']): fc.Arbitrary<RawPolicy> {
  return fc.record({
    n: fc.integer({ min: 1, max: 999 }),
    state: fc.constantFrom(...states),
    users: usersArb,
    target: targetArb,
    rest: conditionsRest,
    grant: grantArb,
    sif: optional(signInFrequencyArb, 4),
    persistent: fc.boolean(),
  }).map(({ n, state, users, target, rest, grant, sif, persistent }) => {
    let s: string = state;
    if (s === 'enabledForReportingButNotEnforced' && target.kind === 'action') s = 'enabled'; // CA-5
    let g = grant;
    if (target.applications.includeUserActions?.includes('urn:user:registerdevice')) g = { operator: 'OR', builtInControls: ['mfa'] }; // CA-6
    const session: RawPolicy = {};
    if (sif) session.signInFrequency = sif;
    if (!g && !sif) session.persistentBrowser = { isEnabled: true, mode: persistent ? 'always' : 'never' };
    const conditions: RawPolicy = { users, applications: target.applications };
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) conditions[k] = v;
    return {
      displayName: `Generated ${n} ${g?.builtInControls?.[0] ?? (g?.authenticationStrength ? 'strength' : 'session')}`,
      state: s, conditions, grantControls: g, sessionControls: Object.keys(session).length ? session : null,
    };
  });
}

/** Policies Gatehouse can't evaluate (CA-4): accepted only disabled. */
const unsupportedArb = fc.constantFrom<[string, (p: RawPolicy) => void]>(
  ['compliantDevice', (p) => { p.grantControls = { operator: 'OR', builtInControls: ['compliantDevice'] }; }],
  ['devices', (p) => { p.conditions.devices = { deviceFilter: { mode: 'include', rule: 'device.isCompliant -eq True' } }; }],
  ['termsOfUse', (p) => { p.grantControls = { operator: 'AND', builtInControls: ['mfa'], termsOfUse: ['11111111-0000-4000-8000-000000000001'] }; }],
);

/** A disabled policy, sometimes with conditions or controls Gatehouse can't evaluate (CA-4). */
export const rawDisabledPolicyArb: fc.Arbitrary<RawPolicy> = fc.tuple(rawPolicyArb(['disabled']), fc.option(unsupportedArb, { freq: 3 })).map(([p, u]) => {
  const copy = structuredClone(p);
  copy.state = 'disabled';
  if (u) u[1](copy);
  return copy;
});

let seq = 0;
/** Parse a raw policy as the API would (CA-1..CA-6), give it an id; throws on findings unless disabled. */
export function toPolicy(raw: RawPolicy, id = guid('ca000000', ++seq)): CaPolicy {
  const { policy, findings } = parsePolicy(structuredClone(raw));
  if (findings.length && policy.state !== 'disabled') throw new Error(`generated policy has findings: ${JSON.stringify(findings)}\n${JSON.stringify(raw)}`);
  return { ...policy, id, createdDateTime: T0, modifiedDateTime: T0 } as CaPolicy;
}

/** A list of raw policies turned into policies with distinct ids (`<prefix>-…<index>`). */
export function toPolicies(raws: readonly RawPolicy[], prefix = 'ca000000'): CaPolicy[] {
  return raws.map((r, i) => toPolicy(r, guid(prefix, i + 1)));
}

// ---------- users, requests, sessions ----------

const methodsArb: fc.Arbitrary<UserMethod[]> = fc.record({
  passkey: fc.option(fc.record({
    aaGuid: fc.constantFrom(YUBIKEY, OTHER_AAGUID),
    state: fc.constantFrom('usable', 'usable', 'unusable', 'suspended'),
  })),
  tap: fc.option(fc.record({ oneTime: fc.boolean(), usable: fc.boolean() })),
  password: fc.boolean(),
  totp: fc.boolean(),
}).map(({ passkey, tap, password, totp }) => {
  const out: UserMethod[] = [];
  if (passkey) {
    out.push({ id: 'pk-1', type: 'fido2', modes: ['fido2'], displayName: 'Key', aaGuid: passkey.aaGuid, usable: passkey.state === 'usable',
      usabilityReason: passkey.state === 'usable' ? 'EnabledByPolicy' : passkey.state === 'suspended' ? 'Suspended' : 'DisabledByPolicy',
      ...(passkey.state === 'suspended' ? { suspended: true } : {}) });
  }
  if (tap) out.push({ id: 'tap-1', type: 'temporaryAccessPass', modes: [tap.oneTime ? 'temporaryAccessPassOneTime' : 'temporaryAccessPassMultiUse'], usable: tap.usable, usabilityReason: tap.usable ? 'EnabledByPolicy' : 'Expired' });
  if (password) out.push({ id: 'pw-1', type: 'password', modes: ['password'], usable: true, usabilityReason: 'EnabledByPolicy' });
  if (totp) out.push({ id: 'totp-1', type: 'softwareOath', modes: ['softwareOath'], usable: true, usabilityReason: 'EnabledByPolicy' });
  return out;
});

export const userArb: fc.Arbitrary<SignInUser> = fc.record({
  idIndex: fc.integer({ min: 0, max: USER_IDS.length - 1 }),
  guest: fc.boolean(),
  accountEnabled: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  groupIds: some(GROUP_IDS, 3),
  roleTemplateIds: some(ROLE_IDS, 2),
  methods: methodsArb,
  revokedAt: fc.option(fc.integer({ min: -120, max: 0 }), { freq: 5 }),
  campaign: fc.option(fc.record({ snoozeCount: fc.integer({ min: 0, max: 4 }), snoozedUntil: fc.constantFrom(null, at(-60), at(24 * 60)) })),
}).map(({ idIndex, guest, accountEnabled, groupIds, roleTemplateIds, methods, revokedAt, campaign }) => ({
  id: USER_IDS[idIndex]!, userPrincipalName: `user${idIndex}@example.test`, userType: guest ? 'Guest' : 'Member', accountEnabled,
  groupIds, roleTemplateIds, methods,
  ...(revokedAt !== null ? { signInSessionsValidFromDateTime: at(revokedAt) } : {}),
  ...(campaign ? { campaign: { snoozeCount: campaign.snoozeCount, snoozedUntil: campaign.snoozedUntil } } : {}),
}));

/** Requests are decided at T0 + 0..30 minutes; sessions hold methods from up to a day before. */
export const requestArb: fc.Arbitrary<SignInRequest> = fc.record({
  minute: fc.integer({ min: 0, max: 30 }),
  appId: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...APP_IDS) }, { weight: 1, arbitrary: fc.constant(null) }),
  userAction: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: fc.constant('urn:user:registersecurityinfo' as const) }, { weight: 1, arbitrary: fc.constant('urn:user:registerdevice' as const) }),
  contexts: fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: atLeastOne(CONTEXTS, 2) }),
  clientAppType: fc.constantFrom('browser', 'browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'other'),
  platform: fc.constantFrom('windows', 'macOS', 'iOS', 'android', 'linux', 'unknown'),
  ipAddress: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ADDRESSES) }, { weight: 1, arbitrary: fc.constant(null) }),
  transferMethod: fc.constantFrom(null, null, null, 'deviceCodeFlow', 'authenticationTransfer'),
  webauthn: fc.boolean(),
  op: fc.constantFrom(null, 'view', 'register', 'change', 'delete'),
  flowStartedMinutesBefore: fc.option(fc.integer({ min: 0, max: 20 })),
}).map((r): SignInRequest => ({
  at: at(r.minute),
  appId: r.userAction === 'urn:user:registersecurityinfo' ? APPS.portal : r.userAction === 'urn:user:registerdevice' ? APPS.deviceRegistration : r.appId,
  userAction: r.userAction,
  authenticationContexts: r.contexts,
  clientAppType: r.clientAppType as SignInRequest['clientAppType'],
  platform: r.platform as SignInRequest['platform'],
  ipAddress: r.ipAddress,
  transferMethod: r.transferMethod as SignInRequest['transferMethod'],
  capabilities: { webauthn: r.webauthn },
  securityInfoOperation: r.userAction === 'urn:user:registersecurityinfo' ? r.op as SignInRequest['securityInfoOperation'] : null,
  ...(r.flowStartedMinutesBefore !== null ? { flowStartedAt: at(r.minute - r.flowStartedMinutesBefore) } : {}),
}));

/** Methods performed in the session, `minutesBefore` the request (a few may be after it). */
export const performedArb = (requestAt: string): fc.Arbitrary<PerformedMethod[]> => fc.array(fc.record({
  kind: fc.constantFrom('tapMulti', 'tapOnce', 'passkey', 'otherPasskey', 'password', 'totp'),
  minutesBefore: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 2, arbitrary: fc.integer({ min: 20, max: 48 * 60 }) }, { weight: 1, arbitrary: fc.constant(-1) }),
}), { maxLength: 3 }).map((xs) => xs.map(({ kind, minutesBefore }) => {
  const when = new Date(Date.parse(requestAt) - minutesBefore * 60_000).toISOString();
  switch (kind) {
    case 'tapMulti': return { mode: 'temporaryAccessPassMultiUse', at: when, methodId: 'tap-1' };
    case 'tapOnce': return { mode: 'temporaryAccessPassOneTime', at: when, methodId: 'tap-1' };
    case 'passkey': return { mode: 'fido2', at: when, methodId: 'pk-1', aaGuid: YUBIKEY };
    case 'otherPasskey': return { mode: 'fido2', at: when, methodId: 'pk-1', aaGuid: OTHER_AAGUID };
    case 'password': return { mode: 'password', at: when, methodId: 'pw-1' };
    default: return { mode: 'softwareOath', at: when, methodId: 'totp-1' };
  }
}));

/** Tenant-wide settings a snapshot varies: the methods policy, platform rules, named locations. */
export type TenantSettings = { namedLocations: NamedLocation[]; snapshotOptions: Parameters<typeof snapshot>[0] };
export const tenantSettingsArb: fc.Arbitrary<TenantSettings> = fc.record({
  namedLocations: namedLocationsArb,
  stepUp: fc.constantFrom('phishingResistant', 'phishingResistant', 'off'),
  interrupt: fc.constantFrom('enabled', 'enabled', 'disabled'),
  campaign: fc.constantFrom('default', 'enabled', 'disabled'),
  passwordAndTotp: fc.boolean(),
  fido2ExcludedGroup: fc.option(fc.constantFrom(...GROUP_IDS), { freq: 5 }),
}).map(({ namedLocations, stepUp, interrupt, campaign, passwordAndTotp, fido2ExcludedGroup }) => ({
  namedLocations,
  snapshotOptions: {
    namedLocations,
    strengths: [bootstrapStrength, yubiKeyOnlyStrength],
    platform: { existingMethodStepUp: stepUp as 'phishingResistant' | 'off', registrationInterrupt: interrupt as 'enabled' | 'disabled' },
    campaign: { state: campaign },
    ...(fido2ExcludedGroup ? { fido2: { excludeTargets: [{ targetType: 'group', id: fido2ExcludedGroup }] } } : {}),
    configurations: passwordAndTotp ? [{ id: 'Password', state: 'enabled' }, { id: 'SoftwareOath', state: 'enabled' }] : [],
  },
}));

/** A snapshot of the tenant settings with these policies (a fresh object, so it is compiled afresh). */
export function snapshotWith(settings: TenantSettings, policies: CaPolicy[]): PolicySnapshot {
  return snapshot({ ...settings.snapshotOptions, policies });
}

/** Everything but the policies: who signs in, to what, with which session. */
export type SignInCase = { settings: TenantSettings; user: SignInUser; request: SignInRequest; performed: PerformedMethod[] };
export const signInCaseArb: fc.Arbitrary<SignInCase> = fc.record({ settings: tenantSettingsArb, user: userArb, request: requestArb })
  .chain(({ settings, user, request }) => performedArb(request.at).map((performed) => ({ settings, user, request, performed })));

export function inputOf(c: SignInCase, policies: CaPolicy[]): SignInInput {
  return { policies: snapshotWith(c.settings, policies), user: c.user, request: c.request, session: { performed: c.performed } };
}

