import { z } from 'zod';
import { ValidationError } from './errors.ts';

/**
 * CA-1..CA-6: Conditional Access policies and named locations in Graph's v1.0 shape. Parsing
 * separates three things: malformed input (a ValidationError, always refused), conditions or
 * controls Gatehouse can't evaluate (CA-4 findings: refused unless the policy is `disabled`;
 * import stores such policies disabled), and references to directory objects (checked by the
 * caller against the tenant, see `referencesOf`).
 */

export const MAX_CA_POLICIES = 195; // CA-1
export const USER_ACTION_REGISTER_SECURITY_INFO = 'urn:user:registersecurityinfo';
export const USER_ACTION_REGISTER_DEVICE = 'urn:user:registerdevice';
export const USER_ACTIONS = [USER_ACTION_REGISTER_SECURITY_INFO, USER_ACTION_REGISTER_DEVICE] as const;
export type UserAction = (typeof USER_ACTIONS)[number];

export const CLIENT_APP_TYPES = ['all', 'browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'easSupported', 'other'] as const;
export type ClientAppType = Exclude<(typeof CLIENT_APP_TYPES)[number], 'all' | 'easSupported'>;
export const DEVICE_PLATFORMS = ['android', 'iOS', 'windows', 'windowsPhone', 'macOS', 'linux'] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number] | 'unknown';
export const RISK_LEVELS = ['low', 'medium', 'high', 'hidden', 'none', 'unknownFutureValue'] as const;
export const TRANSFER_METHODS = ['deviceCodeFlow', 'authenticationTransfer'] as const;
export const POLICY_STATES = ['enabled', 'disabled', 'enabledForReportingButNotEnforced'] as const;
export type PolicyState = (typeof POLICY_STATES)[number];
export const AUTH_CONTEXT_PATTERN = /^c([1-9]|[1-9][0-9])$/;

/** Grant controls we can evaluate (CA-3); the rest of Graph's vocabulary is accepted only in disabled policies (CA-4). */
export const SUPPORTED_GRANTS = ['block', 'mfa'] as const;
export const KNOWN_UNSUPPORTED_GRANTS = ['compliantDevice', 'domainJoinedDevice', 'approvedApplication', 'compliantApplication', 'passwordChange', 'riskRemediation', 'unknownFutureValue'] as const;

export type CaUsers = {
  includeUsers: string[]; excludeUsers: string[];
  includeGroups: string[]; excludeGroups: string[];
  includeRoles: string[]; excludeRoles: string[];
  includeGuestsOrExternalUsers: GuestsOrExternalUsers | null;
  excludeGuestsOrExternalUsers: GuestsOrExternalUsers | null;
};
export type GuestsOrExternalUsers = { guestOrExternalUserTypes: string; externalTenants?: unknown };
export type CaApplications = {
  includeApplications: string[]; excludeApplications: string[];
  includeUserActions: string[]; includeAuthenticationContextClassReferences: string[];
  applicationFilter?: unknown;
};
export type CaConditions = {
  users: CaUsers;
  applications: CaApplications;
  clientAppTypes: string[];
  platforms: { includePlatforms: string[]; excludePlatforms: string[] } | null;
  locations: { includeLocations: string[]; excludeLocations: string[] } | null;
  authenticationFlows: { transferMethods: string } | null;
  userRiskLevels: string[];
  signInRiskLevels: string[];
  servicePrincipalRiskLevels: string[];
  insiderRiskLevels?: string[] | string | null;
  [other: string]: unknown;
};
export type SignInFrequency = {
  isEnabled: boolean;
  type: 'hours' | 'days' | null;
  value: number | null;
  frequencyInterval: 'timeBased' | 'everyTime';
  authenticationType: 'primaryAndSecondaryAuthentication' | 'secondaryAuthentication';
};
export type CaSessionControls = {
  signInFrequency?: SignInFrequency | null;
  persistentBrowser?: { isEnabled: boolean; mode: 'always' | 'never' } | null;
  [other: string]: unknown;
};
export type CaGrantControls = {
  operator: 'AND' | 'OR';
  builtInControls: string[];
  customAuthenticationFactors: string[];
  termsOfUse: string[];
  authenticationStrength: { id: string; displayName?: string; [k: string]: unknown } | null;
};
export type CaPolicy = {
  id: string;
  displayName: string;
  state: PolicyState;
  createdDateTime: string | null;
  modifiedDateTime: string | null;
  templateId?: string | null;
  conditions: CaConditions;
  grantControls: CaGrantControls | null;
  sessionControls: CaSessionControls | null;
};

/** A reason a policy can't be evaluated or saved as given (CA-3..CA-6), naming the field. */
export type PolicyFinding = { field: string; rule: string; reason: string };

/** Drop OData annotations (`x@odata.type`, `@odata.context`, `#microsoft.graph.restore`) from exported JSON. */
export function stripAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripAnnotations);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('@odata.') || k.startsWith('#')) continue;
    out[k] = stripAnnotations(v);
  }
  return out;
}

const str = z.string().max(500);
const strs = z.array(str).max(1000).nullish().transform((v) => v ?? []);
const guests = z.looseObject({ guestOrExternalUserTypes: z.string().max(500), externalTenants: z.unknown().optional() }).nullish().transform((v) => (v ?? null) as GuestsOrExternalUsers | null);
const usersSchema = z.looseObject({
  includeUsers: strs, excludeUsers: strs, includeGroups: strs, excludeGroups: strs, includeRoles: strs, excludeRoles: strs,
  includeGuestsOrExternalUsers: guests, excludeGuestsOrExternalUsers: guests,
});
const applicationsSchema = z.looseObject({
  includeApplications: strs, excludeApplications: strs, includeUserActions: strs, includeAuthenticationContextClassReferences: strs,
  applicationFilter: z.unknown().optional(),
});
const conditionsSchema = z.looseObject({
  users: usersSchema.nullish().transform((v) => v ?? usersSchema.parse({})),
  applications: applicationsSchema.nullish().transform((v) => v ?? applicationsSchema.parse({})),
  clientAppTypes: strs,
  platforms: z.looseObject({ includePlatforms: strs, excludePlatforms: strs }).nullish().transform((v) => v ?? null),
  locations: z.looseObject({ includeLocations: strs, excludeLocations: strs }).nullish().transform((v) => v ?? null),
  authenticationFlows: z.looseObject({ transferMethods: z.string().max(200) }).nullish().transform((v) => v ?? null),
  userRiskLevels: strs, signInRiskLevels: strs, servicePrincipalRiskLevels: strs,
});
const signInFrequencySchema = z.looseObject({
  isEnabled: z.boolean().nullish().transform((v) => v ?? false),
  type: z.enum(['hours', 'days'], "must be 'hours' or 'days'").nullish().transform((v) => v ?? null),
  value: z.number().int('must be a whole number').min(1, 'must be at least 1').max(365, 'must be at most 365').nullish().transform((v) => v ?? null),
  frequencyInterval: z.enum(['timeBased', 'everyTime'], "must be 'timeBased' or 'everyTime'").nullish().transform((v) => v ?? 'timeBased'),
  authenticationType: z.enum(['primaryAndSecondaryAuthentication', 'secondaryAuthentication']).nullish().transform((v) => v ?? 'primaryAndSecondaryAuthentication'),
});
const grantSchema = z.looseObject({
  operator: z.enum(['AND', 'OR'], "must be 'AND' or 'OR'").nullish().transform((v) => v ?? 'OR'),
  builtInControls: strs, customAuthenticationFactors: strs, termsOfUse: strs,
  authenticationStrength: z.looseObject({ id: z.string().max(100) }).nullish().transform((v) => v ?? null),
});
const sessionSchema = z.looseObject({
  signInFrequency: signInFrequencySchema.nullish(),
  persistentBrowser: z.looseObject({ isEnabled: z.boolean().nullish().transform((v) => v ?? false), mode: z.enum(['always', 'never'], "must be 'always' or 'never'").nullish().transform((v) => v ?? 'never') }).nullish(),
});

const KNOWN_TOP = new Set(['id', 'displayName', 'state', 'createdDateTime', 'modifiedDateTime', 'templateId', 'deletedDateTime', 'partialEnablementStrategy', 'conditions', 'grantControls', 'sessionControls', 'description']);
export const policyInput = z.looseObject({
  id: z.string().max(100).optional(),
  displayName: z.string().trim().min(1, 'is required').max(256, 'must be at most 256 characters'),
  state: z.enum(POLICY_STATES, "must be 'enabled', 'disabled' or 'enabledForReportingButNotEnforced'"),
  conditions: conditionsSchema,
  grantControls: grantSchema.nullish().transform((v) => v ?? null),
  sessionControls: sessionSchema.nullish().transform((v) => v ?? null),
  templateId: z.string().max(100).nullish(),
});

function fail(issue: z.core.$ZodIssue, prefix: string, raw: unknown): never {
  const path = (issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path).map(String).join('.');
  const field = prefix + path;
  // zod 4 leaves `issue.input` unset unless asked, so look the value up: wrong-typed is not missing.
  let value: unknown = raw;
  for (const k of issue.path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k] : undefined;
  throw new ValidationError(field || 'request body', issue.code, issue.code === 'invalid_type' && value === undefined
    ? `Property '${field}' is required.` : `Invalid value for '${field}': ${issue.message}`);
}

/**
 * Parse a policy (already stripped of annotations). Throws ValidationError for malformed input
 * and for rule violations that no state can excuse (CA-3: mfa with a strength; block with other
 * grants); returns the CA-4/5/6 findings that only a disabled policy may carry.
 */
export function parsePolicy(raw: unknown, prefix = ''): { policy: Omit<CaPolicy, 'id' | 'createdDateTime' | 'modifiedDateTime'> & { id?: string }; findings: PolicyFinding[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError(prefix || 'request body', 'object', 'A Conditional Access policy must be a JSON object.');
  const r = policyInput.safeParse(raw);
  if (!r.success) fail(r.error.issues[0]!, prefix, raw);
  const p = r.data;
  const findings: PolicyFinding[] = [];
  const f = (field: string, rule: string, reason: string) => findings.push({ field: prefix + field, rule, reason });

  for (const k of Object.keys(raw)) if (!KNOWN_TOP.has(k)) f(k, 'CA-4', `'${k}' is not a property of a Conditional Access policy that Gatehouse can evaluate.`);

  // Conditions (CA-2): what Gatehouse evaluates, and what it can't (CA-4).
  const c = p.conditions as Record<string, unknown> & z.output<typeof conditionsSchema>;
  const evaluatedConditions = new Set(['users', 'applications', 'clientAppTypes', 'platforms', 'locations', 'authenticationFlows', 'userRiskLevels', 'signInRiskLevels', 'servicePrincipalRiskLevels', 'insiderRiskLevels', 'agentIdRiskLevels']);
  for (const [k, v] of Object.entries(c)) {
    if (evaluatedConditions.has(k) || v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    const why: Record<string, string> = {
      devices: 'device filters need device state, which Gatehouse does not have',
      deviceStates: 'device states need device state, which Gatehouse does not have',
      clientApplications: 'workload identity (service principal) conditions are not evaluated',
      times: 'time conditions are not evaluated',
      agents: 'agent identity conditions are not evaluated',
      agentContext: 'agent identity conditions are not evaluated',
    };
    f(`conditions.${k}`, 'CA-4', `CA-4: ${why[k] ?? `the condition '${k}' is not one Gatehouse evaluates`}.`);
  }
  const levelLists: [string, unknown][] = [['userRiskLevels', c.userRiskLevels], ['signInRiskLevels', c.signInRiskLevels], ['servicePrincipalRiskLevels', c.servicePrincipalRiskLevels], ['insiderRiskLevels', c.insiderRiskLevels], ['agentIdRiskLevels', c.agentIdRiskLevels]];
  for (const [k, v] of levelLists) {
    const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : Array.isArray(v) ? v : [];
    list.forEach((l, i) => { if (!['low', 'medium', 'high', 'hidden', 'none', 'elevated', 'moderate', 'minor', 'unknownFutureValue'].includes(String(l))) throw new ValidationError(`${prefix}conditions.${k}.${i}`, 'CA-2', `'${String(l).slice(0, 60)}' is not a risk level.`); });
  }
  c.clientAppTypes.forEach((t, i) => { if (!(CLIENT_APP_TYPES as readonly string[]).includes(t)) throw new ValidationError(`${prefix}conditions.clientAppTypes.${i}`, 'CA-2', `'${t.slice(0, 60)}' is not a client app type (${CLIENT_APP_TYPES.join(', ')}).`); });
  if (c.platforms) {
    for (const side of ['includePlatforms', 'excludePlatforms'] as const) {
      c.platforms[side].forEach((t, i) => { if (t !== 'all' && !(DEVICE_PLATFORMS as readonly string[]).includes(t)) f(`conditions.platforms.${side}.${i}`, 'CA-4', `CA-4: '${t.slice(0, 60)}' is not a device platform Gatehouse recognises from the user agent.`); });
    }
  }
  if (c.authenticationFlows) {
    for (const m of c.authenticationFlows.transferMethods.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!(TRANSFER_METHODS as readonly string[]).includes(m)) throw new ValidationError(`${prefix}conditions.authenticationFlows.transferMethods`, 'CA-2', `'${m.slice(0, 60)}' is not a transfer method (deviceCodeFlow, authenticationTransfer).`);
    }
  }
  const apps = c.applications;
  if (apps.applicationFilter !== null && apps.applicationFilter !== undefined) f('conditions.applications.applicationFilter', 'CA-4', 'CA-4: application filters (custom security attributes) are not evaluated.');
  for (const k of Object.keys(apps)) {
    if (!['includeApplications', 'excludeApplications', 'includeUserActions', 'includeAuthenticationContextClassReferences', 'applicationFilter'].includes(k) && (apps as Record<string, unknown>)[k] != null) {
      f(`conditions.applications.${k}`, 'CA-4', `CA-4: the application condition '${k}' is not evaluated.`);
    }
  }
  apps.includeUserActions.forEach((a, i) => { if (!(USER_ACTIONS as readonly string[]).includes(a)) f(`conditions.applications.includeUserActions.${i}`, 'CA-4', `CA-4: '${a.slice(0, 80)}' is not a user action Gatehouse knows (${USER_ACTIONS.join(', ')}).`); });
  apps.includeAuthenticationContextClassReferences.forEach((a, i) => { if (!AUTH_CONTEXT_PATTERN.test(a)) throw new ValidationError(`${prefix}conditions.applications.includeAuthenticationContextClassReferences.${i}`, 'CA-2', `'${a.slice(0, 60)}' is not an authentication context (c1-c99).`); });
  const targets = [apps.includeApplications.length > 0, apps.includeUserActions.length > 0, apps.includeAuthenticationContextClassReferences.length > 0].filter(Boolean).length;
  if (targets > 1) throw new ValidationError(`${prefix}conditions.applications`, 'CA-2', 'A policy targets applications, user actions or authentication contexts, not more than one of them.');
  for (const side of ['includeGuestsOrExternalUsers', 'excludeGuestsOrExternalUsers'] as const) {
    const g = c.users[side];
    if (g && g.externalTenants && (g.externalTenants as { membershipKind?: string }).membershipKind && (g.externalTenants as { membershipKind?: string }).membershipKind !== 'all') {
      f(`conditions.users.${side}.externalTenants`, 'CA-4', 'CA-4: external tenants are not known to Gatehouse; only membershipKind all can be evaluated.');
    }
  }

  // Grants (CA-3).
  const g = p.grantControls;
  if (g) {
    g.builtInControls.forEach((b, i) => {
      if ((SUPPORTED_GRANTS as readonly string[]).includes(b)) return;
      if ((KNOWN_UNSUPPORTED_GRANTS as readonly string[]).includes(b)) f(`grantControls.builtInControls.${i}`, 'CA-4', `CA-4: the grant control '${b}' needs ${b === 'passwordChange' ? 'user risk remediation' : 'device or app management'}, which Gatehouse does not have.`);
      else throw new ValidationError(`${prefix}grantControls.builtInControls.${i}`, 'CA-3', `'${b.slice(0, 60)}' is not a grant control.`);
    });
    if (g.customAuthenticationFactors.length) f('grantControls.customAuthenticationFactors', 'CA-4', 'CA-4: custom authentication factors are not evaluated.');
    if (g.termsOfUse.length) f('grantControls.termsOfUse', 'CA-4', 'CA-4: terms of use are not evaluated.');
    if (g.builtInControls.includes('mfa') && g.authenticationStrength) throw new ValidationError(`${prefix}grantControls.authenticationStrength`, 'CA-3', "CA-3: 'mfa' and an authentication strength can't be combined in one policy; the Multifactor authentication strength is the same as 'mfa'.");
    if (g.builtInControls.includes('block') && (g.builtInControls.length > 1 || g.authenticationStrength)) throw new ValidationError(`${prefix}grantControls.builtInControls`, 'CA-3', "CA-3: 'block' can't be combined with other grant controls.");
    if (g.authenticationStrength && typeof g.authenticationStrength.id !== 'string') throw new ValidationError(`${prefix}grantControls.authenticationStrength.id`, 'required', 'An authentication strength is referenced by its id.');
  }

  // Session controls (CA-3).
  const s = p.sessionControls as (Record<string, unknown> & z.output<typeof sessionSchema>) | null;
  if (s) {
    for (const [k, v] of Object.entries(s)) {
      if (k === 'signInFrequency' || k === 'persistentBrowser' || v === null || v === undefined) continue;
      if (k === 'disableResilienceDefaults' && v === false) continue;
      if (typeof v === 'object' && (v as { isEnabled?: unknown }).isEnabled === false) continue;
      if (k === 'continuousAccessEvaluation' && (v as { mode?: unknown }).mode === 'disabled') continue;
      f(`sessionControls.${k}`, 'CA-4', `CA-4: the session control '${k}' is not enforced by Gatehouse.`);
    }
    const sif = s.signInFrequency;
    if (sif?.isEnabled && sif.frequencyInterval === 'timeBased' && (sif.type === null || sif.value === null)) {
      throw new ValidationError(`${prefix}sessionControls.signInFrequency`, 'CA-3', "CA-3: a time-based sign-in frequency needs 'type' (hours or days) and 'value'.");
    }
    if (sif?.isEnabled && sif.type === 'hours' && (sif.value ?? 0) > 24 * 365) throw new ValidationError(`${prefix}sessionControls.signInFrequency.value`, 'CA-3', 'at most 8760 hours');
  }

  // CA-5: report-only policies can't target user actions. CA-6: registerdevice takes only mfa.
  if (p.state === 'enabledForReportingButNotEnforced' && apps.includeUserActions.length) {
    f('state', 'CA-5', 'CA-5: a report-only policy can\'t target user actions.');
  }
  if (apps.includeUserActions.includes(USER_ACTION_REGISTER_DEVICE)) {
    const others = (g?.builtInControls ?? []).filter((b) => b !== 'mfa');
    if (others.length || g?.authenticationStrength || !g?.builtInControls.includes('mfa')) {
      f('grantControls', 'CA-6', "CA-6: a policy targeting 'urn:user:registerdevice' may only use the 'mfa' grant.");
    }
  }
  if (!g && !s) f('grantControls', 'CA-3', 'CA-3: a policy needs a grant control or a session control.');
  else if (g && g.builtInControls.length === 0 && !g.authenticationStrength && !g.customAuthenticationFactors.length && !g.termsOfUse.length && !(s && (s.signInFrequency?.isEnabled || s.persistentBrowser?.isEnabled))) {
    f('grantControls', 'CA-3', 'CA-3: a policy needs a grant control or a session control.');
  }

  const policy = {
    id: p.id, displayName: p.displayName, state: p.state, templateId: p.templateId ?? null,
    conditions: c as unknown as CaConditions,
    grantControls: g as CaGrantControls | null,
    sessionControls: s as CaSessionControls | null,
  };
  return { policy, findings };
}

/** A directory object a policy names, for the caller to check against the tenant. */
export type PolicyReference = { field: string; kind: 'user' | 'group' | 'role' | 'application' | 'namedLocation' | 'authenticationStrength'; value: string };

const SPECIAL_USERS = ['All', 'None', 'GuestsOrExternalUsers'];
const SPECIAL_APPS = ['All', 'None', 'MicrosoftAdminPortals'];
const SPECIAL_LOCATIONS = ['All', 'AllTrusted'];

/** Every reference a policy makes, with the field naming it. Keywords (All, None, …) aren't references. */
export function referencesOf(p: Pick<CaPolicy, 'conditions' | 'grantControls'>): PolicyReference[] {
  const out: PolicyReference[] = [];
  const u = p.conditions.users;
  const add = (field: string, kind: PolicyReference['kind'], values: string[], special: string[] = []) => values.forEach((v, i) => { if (!special.includes(v)) out.push({ field: `${field}.${i}`, kind, value: v }); });
  add('conditions.users.includeUsers', 'user', u.includeUsers, SPECIAL_USERS);
  add('conditions.users.excludeUsers', 'user', u.excludeUsers, SPECIAL_USERS);
  add('conditions.users.includeGroups', 'group', u.includeGroups);
  add('conditions.users.excludeGroups', 'group', u.excludeGroups);
  add('conditions.users.includeRoles', 'role', u.includeRoles);
  add('conditions.users.excludeRoles', 'role', u.excludeRoles);
  add('conditions.applications.includeApplications', 'application', p.conditions.applications.includeApplications, SPECIAL_APPS);
  add('conditions.applications.excludeApplications', 'application', p.conditions.applications.excludeApplications, SPECIAL_APPS);
  if (p.conditions.locations) {
    add('conditions.locations.includeLocations', 'namedLocation', p.conditions.locations.includeLocations, SPECIAL_LOCATIONS);
    add('conditions.locations.excludeLocations', 'namedLocation', p.conditions.locations.excludeLocations, SPECIAL_LOCATIONS);
  }
  if (p.grantControls?.authenticationStrength) out.push({ field: 'grantControls.authenticationStrength.id', kind: 'authenticationStrength', value: p.grantControls.authenticationStrength.id });
  return out;
}

// Named locations (CA-2).
export type IpRange = { '@odata.type': '#microsoft.graph.iPv4CidrRange' | '#microsoft.graph.iPv6CidrRange'; cidrAddress: string };
export type NamedLocation =
  | { '@odata.type': '#microsoft.graph.ipNamedLocation'; id: string; displayName: string; isTrusted: boolean; ipRanges: IpRange[]; createdDateTime: string; modifiedDateTime: string }
  | { '@odata.type': '#microsoft.graph.countryNamedLocation'; id: string; displayName: string; countriesAndRegions: string[]; includeUnknownCountriesAndRegions: boolean; countryLookupMethod: string; createdDateTime: string; modifiedDateTime: string };

const cidr = z.string().max(64).refine((s) => parseCidr(s) !== undefined, 'must be an IPv4 or IPv6 CIDR range such as 203.0.113.0/24');
export const namedLocationInput = z.discriminatedUnion('@odata.type', [
  z.looseObject({
    '@odata.type': z.literal('#microsoft.graph.ipNamedLocation'),
    id: z.string().max(100).optional(),
    displayName: z.string().trim().min(1, 'is required').max(256),
    isTrusted: z.boolean().nullish().transform((v) => v ?? false),
    ipRanges: z.array(z.looseObject({ '@odata.type': z.enum(['#microsoft.graph.iPv4CidrRange', '#microsoft.graph.iPv6CidrRange']).optional(), cidrAddress: cidr })).min(1, 'must list at least one range').max(2000),
  }),
  z.looseObject({
    '@odata.type': z.literal('#microsoft.graph.countryNamedLocation'),
    id: z.string().max(100).optional(),
    displayName: z.string().trim().min(1, 'is required').max(256),
    countriesAndRegions: z.array(z.string().regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code')).max(300),
    includeUnknownCountriesAndRegions: z.boolean().nullish().transform((v) => v ?? false),
    countryLookupMethod: z.string().max(60).nullish().transform((v) => v ?? 'clientIpAddress'),
  }),
], { error: "'@odata.type' must be '#microsoft.graph.ipNamedLocation' or '#microsoft.graph.countryNamedLocation'" });

/** A parsed CIDR range: version, network bits as a bigint, prefix length. */
export type Cidr = { v: 4 | 6; net: bigint; bits: number };

function ipv4ToBig(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}
function ipv6ToBig(s: string): bigint | undefined {
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tailV4 = ipv4ToBig(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) n = (n & ~0xffffffffn) | tailV4;
  return n;
}
/** An address as (version, number); IPv4-mapped IPv6 addresses count as IPv4. */
export function parseIp(s: string): { v: 4 | 6; n: bigint } | undefined {
  const v4 = ipv4ToBig(s);
  if (v4 !== undefined) return { v: 4, n: v4 };
  const v6 = s.includes(':') ? ipv6ToBig(s.replace(/%.*$/, '')) : undefined;
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v: 4, n: v6 & 0xffffffffn };
  return { v: 6, n: v6 };
}
export function parseCidr(s: string): Cidr | undefined {
  const [addr, len, extra] = s.split('/');
  if (extra !== undefined || addr === undefined || len === undefined || !/^\d{1,3}$/.test(len)) return undefined;
  const v4 = ipv4ToBig(addr);
  const v: 4 | 6 = v4 !== undefined ? 4 : 6;
  const n = v4 ?? (addr.includes(':') ? ipv6ToBig(addr) : undefined);
  const bits = Number(len);
  if (n === undefined || bits > (v === 4 ? 32 : 128)) return undefined;
  const width = v === 4 ? 32n : 128n;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << (width - BigInt(bits));
  return { v, net: n & mask, bits };
}
export function cidrContains(c: Cidr, ip: { v: 4 | 6; n: bigint }): boolean {
  if (c.v !== ip.v) return false;
  const width = c.v === 4 ? 32n : 128n;
  const mask = c.bits === 0 ? 0n : ((1n << BigInt(c.bits)) - 1n) << (width - BigInt(c.bits));
  return (ip.n & mask) === c.net;
}
