import { FIRST_PARTY_APPS } from '../domain/directory.ts';
import { parseCidr, type CaPolicy, type Cidr, type GuestsOrExternalUsers } from '../domain/conditionalAccess.ts';
import { allowedAaguidsOf, MFA_STRENGTH_ID, type AuthenticationStrength } from '../domain/strengths.ts';
import type { PolicySnapshot } from './types.ts';

/**
 * A policy snapshot turned into sets and parsed ranges once, so that deciding a sign-in against
 * 195 policies stays cheap. Cached per snapshot object (snapshots are immutable).
 */
export type CompiledStrength = {
  strength: AuthenticationStrength;
  combinations: readonly (readonly string[])[];
  allowedAaguids: ReadonlySet<string> | undefined;
};

export type CompiledPolicy = {
  policy: CaPolicy;
  /** `policy.id`, `displayName` and `state`, copied: policies parsed from different JSON have different shapes, these reads stay monomorphic. */
  id: string;
  displayName: string;
  state: CaPolicy['state'];
  users: {
    all: boolean; none: boolean; includeUsers: ReadonlySet<string>; excludeUsers: ReadonlySet<string>;
    includeGroups: readonly string[]; excludeGroups: readonly string[]; includeRoles: readonly string[]; excludeRoles: readonly string[];
    includeGuests: boolean; excludeGuests: boolean;
  };
  target:
    | { kind: 'applications'; all: boolean; include: ReadonlySet<string>; exclude: ReadonlySet<string> }
    | { kind: 'userActions'; actions: readonly string[] }
    | { kind: 'authenticationContexts'; contexts: readonly string[] };
  clientAppTypes: ReadonlySet<string> | null;
  platforms: { include: ReadonlySet<string>; all: boolean; exclude: ReadonlySet<string> } | null;
  locations: { include: readonly string[]; exclude: readonly string[] } | null;
  transferMethods: ReadonlySet<string> | null;
  risk: { condition: 'signInRisk' | 'userRisk' | 'servicePrincipalRisk' | 'insiderRisk'; levels: readonly string[] }[];
  grant: { block: boolean; mfa: boolean; strengthId: string | null; unsupported: readonly string[]; operator: 'AND' | 'OR' } | null;
  signInFrequency: { everyTime: boolean; seconds: number; label: string } | null;
  sessionControlNames: string[];
};

export type CompiledSnapshot = {
  policies: readonly CompiledPolicy[];
  strengths: ReadonlyMap<string, CompiledStrength>;
  mfaStrength: CompiledStrength;
  locations: ReadonlyMap<string, { displayName: string; trusted: boolean; ranges: readonly Cidr[]; country: boolean }>;
};

const ADMIN_PORTALS = new Set([FIRST_PARTY_APPS.find((a) => a.key === 'adminConsole')!.appId]);

export function compileStrength(strength: AuthenticationStrength): CompiledStrength {
  const aaguids = allowedAaguidsOf(strength);
  return {
    strength,
    combinations: strength.allowedCombinations.map((c) => c.split(',').map((m) => m.trim())),
    allowedAaguids: aaguids ? new Set(aaguids) : undefined,
  };
}

function guestsMatch(spec: GuestsOrExternalUsers | null): boolean {
  if (!spec) return false;
  // Gatehouse's guests are B2B collaboration guests; internal guests are members with userType Guest too.
  return spec.guestOrExternalUserTypes.split(',').some((t) => ['b2bCollaborationGuest', 'internalGuest'].includes(t.trim()));
}

function riskList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}

function compilePolicy(p: CaPolicy): CompiledPolicy {
  const u = p.conditions.users;
  const a = p.conditions.applications;
  const lower = (xs: readonly string[]) => xs.map((x) => x.toLowerCase());
  const target: CompiledPolicy['target'] = a.includeUserActions.length
    ? { kind: 'userActions', actions: a.includeUserActions }
    : a.includeAuthenticationContextClassReferences.length
      ? { kind: 'authenticationContexts', contexts: a.includeAuthenticationContextClassReferences }
      : {
        kind: 'applications',
        all: a.includeApplications.includes('All'),
        include: new Set(lower(a.includeApplications.flatMap((x) => (x === 'MicrosoftAdminPortals' ? [...ADMIN_PORTALS] : [x])))),
        exclude: new Set(lower(a.excludeApplications.flatMap((x) => (x === 'MicrosoftAdminPortals' ? [...ADMIN_PORTALS] : [x])))),
      };
  const cat = p.conditions.clientAppTypes;
  const plat = p.conditions.platforms;
  const g = p.grantControls;
  const sif = p.sessionControls?.signInFrequency;
  const sessionControlNames: string[] = [];
  if (sif?.isEnabled) sessionControlNames.push('SignInFrequency');
  if (p.sessionControls?.persistentBrowser?.isEnabled) sessionControlNames.push('PersistentBrowserSessionMode');
  return {
    policy: p,
    id: p.id,
    displayName: p.displayName,
    state: p.state,
    users: {
      all: u.includeUsers.includes('All'),
      none: u.includeUsers.includes('None'),
      includeUsers: new Set(lower(u.includeUsers)),
      excludeUsers: new Set(lower(u.excludeUsers)),
      includeGroups: lower(u.includeGroups), excludeGroups: lower(u.excludeGroups),
      includeRoles: lower(u.includeRoles), excludeRoles: lower(u.excludeRoles),
      includeGuests: u.includeUsers.includes('GuestsOrExternalUsers') || guestsMatch(u.includeGuestsOrExternalUsers),
      excludeGuests: u.excludeUsers.includes('GuestsOrExternalUsers') || guestsMatch(u.excludeGuestsOrExternalUsers),
    },
    target,
    clientAppTypes: cat.length === 0 || cat.includes('all') ? null : new Set(cat.flatMap((c) => (c === 'easSupported' ? ['exchangeActiveSync'] : [c]))),
    platforms: plat && (plat.includePlatforms.length || plat.excludePlatforms.length)
      ? { all: plat.includePlatforms.includes('all'), include: new Set(plat.includePlatforms), exclude: new Set(plat.excludePlatforms) } : null,
    locations: p.conditions.locations && (p.conditions.locations.includeLocations.length || p.conditions.locations.excludeLocations.length)
      ? { include: p.conditions.locations.includeLocations, exclude: p.conditions.locations.excludeLocations } : null,
    transferMethods: p.conditions.authenticationFlows ? new Set(p.conditions.authenticationFlows.transferMethods.split(',').map((s) => s.trim()).filter(Boolean)) : null,
    risk: ([['signInRisk', p.conditions.signInRiskLevels], ['userRisk', p.conditions.userRiskLevels], ['servicePrincipalRisk', p.conditions.servicePrincipalRiskLevels], ['insiderRisk', p.conditions.insiderRiskLevels]] as const)
      .map(([condition, v]) => ({ condition, levels: riskList(v) })).filter((r) => r.levels.length > 0),
    grant: g ? {
      block: g.builtInControls.includes('block'),
      mfa: g.builtInControls.includes('mfa'),
      strengthId: g.authenticationStrength?.id.toLowerCase() ?? null,
      unsupported: [...g.builtInControls.filter((b) => b !== 'block' && b !== 'mfa'), ...(g.customAuthenticationFactors.length ? ['customAuthenticationFactors'] : []), ...(g.termsOfUse.length ? ['termsOfUse'] : [])],
      operator: g.operator,
    } : null,
    signInFrequency: sif?.isEnabled
      ? sif.frequencyInterval === 'everyTime'
        ? { everyTime: true, seconds: 0, label: 'every time' }
        : { everyTime: false, seconds: (sif.value ?? 1) * (sif.type === 'days' ? 86400 : 3600), label: `${sif.value} ${sif.type}` }
      : null,
    sessionControlNames,
  };
}

const cache = new WeakMap<PolicySnapshot, CompiledSnapshot>();

export function compileSnapshot(s: PolicySnapshot): CompiledSnapshot {
  const hit = cache.get(s);
  if (hit) return hit;
  const strengths = new Map(s.strengths.map((x) => [x.id.toLowerCase(), compileStrength(x)]));
  const mfaStrength = strengths.get(MFA_STRENGTH_ID);
  if (!mfaStrength) throw new Error('The policy snapshot lacks the built-in Multifactor authentication strength.');
  const locations = new Map(s.namedLocations.map((l) => [l.id.toLowerCase(), l['@odata.type'] === '#microsoft.graph.ipNamedLocation'
    ? { displayName: l.displayName, trusted: l.isTrusted, ranges: l.ipRanges.map((r) => parseCidr(r.cidrAddress)).filter((c): c is Cidr => c !== undefined), country: false }
    : { displayName: l.displayName, trusted: false, ranges: [], country: true }]));
  const compiled = { policies: s.conditionalAccessPolicies.map(compilePolicy), strengths, mfaStrength, locations };
  cache.set(s, compiled);
  return compiled;
}
