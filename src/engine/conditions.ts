import { cidrContains, parseIp } from '../domain/conditionalAccess.ts';
import type { CompiledPolicy, CompiledSnapshot } from './compiled.ts';
import type { ConditionName, SignInRequest, SignInUser } from './types.ts';

/** The user and request facts conditions look at, prepared once per decision. */
export type ConditionFacts = {
  userId: string;
  isGuest: boolean;
  groupIds: ReadonlySet<string>;
  roleIds: ReadonlySet<string>;
  request: SignInRequest;
  appId: string | null;
  clientAppType: string;
  platform: string;
  ip: { v: 4 | 6; n: bigint } | undefined;
  contexts: readonly string[];
  /** Per decision: whether the address is in a location reference (All, AllTrusted, a named location id). */
  locationHits: Map<string, boolean>;
};

export function conditionFacts(user: SignInUser, request: SignInRequest): ConditionFacts {
  return {
    userId: user.id.toLowerCase(),
    isGuest: user.userType === 'Guest',
    groupIds: new Set(user.groupIds.map((g) => g.toLowerCase())),
    roleIds: new Set(user.roleTemplateIds.map((r) => r.toLowerCase())),
    request,
    appId: request.appId?.toLowerCase() ?? null,
    clientAppType: request.clientAppType ?? 'browser',
    platform: request.platform ?? 'unknown',
    ip: request.ipAddress ? parseIp(request.ipAddress) : undefined,
    contexts: request.authenticationContexts ?? [],
    locationHits: new Map(),
  };
}

/** `detail` is built only when someone reads it: deciding stays cheap at 195 policies. */
export type ConditionCheck = { condition: ConditionName; satisfied: boolean; detail: () => string };
export type ConditionsResult = { applies: boolean; checks: ConditionCheck[]; firstUnmet: ConditionCheck | undefined };

/** The first of `list` in `set` (a plain loop: it runs four times per policy per decision). */
function firstIn(list: readonly string[], set: ReadonlySet<string>): string | undefined {
  for (let i = 0; i < list.length; i++) if (set.has(list[i]!)) return list[i];
  return undefined;
}

function excludedBy(u: CompiledPolicy['users'], f: ConditionFacts): string | undefined {
  if (u.excludeUsers.size !== 0 && u.excludeUsers.has(f.userId)) return 'the user is excluded by id';
  const group = firstIn(u.excludeGroups, f.groupIds);
  if (group) return `the user is in excluded group ${group}`;
  const role = firstIn(u.excludeRoles, f.roleIds);
  if (role) return `the user holds excluded role ${role}`;
  return u.excludeGuests && f.isGuest ? 'guests are excluded' : undefined;
}

function includedBy(u: CompiledPolicy['users'], f: ConditionFacts): string | undefined {
  if (u.none) return undefined;
  if (u.all) return 'all users are included';
  if (u.includeUsers.size !== 0 && u.includeUsers.has(f.userId)) return 'the user is included by id';
  const group = firstIn(u.includeGroups, f.groupIds);
  if (group) return `the user is in included group ${group}`;
  const role = firstIn(u.includeRoles, f.roleIds);
  if (role) return `the user holds included role ${role}`;
  return u.includeGuests && f.isGuest ? 'guests are included' : undefined;
}

// Details that don't depend on the sign-in: one function each, not a new closure per policy per decision.
const NO_USERS = () => "the policy includes no users ('None')";
const NOT_INCLUDED = () => 'the user is not in any included user, group or role';
const NO_APPLICATION = () => 'the sign-in names no application';
const ALL_RESOURCES = () => 'all resources are included';

const notAppliedSentence = (condition: ConditionName, detail: string) => `Not applied: ${condition} condition not satisfied (${detail}).`;
/** The sentences for the constant details above, built once (most policies of a large tenant don't apply for the same reason). */
const CONSTANT_NOT_APPLIED = new Map<() => string, string>(
  ([[NO_USERS, 'users'], [NOT_INCLUDED, 'users'], [NO_APPLICATION, 'application']] as const).map(([detail, condition]) => [detail, notAppliedSentence(condition, detail())]),
);

/** WIF-1: why a policy did not apply, from its first unmet condition and that condition's detail. */
export function notAppliedExplanation(unmet: ConditionCheck, detail: string): string {
  return CONSTANT_NOT_APPLIED.get(unmet.detail) ?? notAppliedSentence(unmet.condition, detail);
}

/** CA-2, CA-5: users, with exclusions beating inclusions. */
function usersCheck(p: CompiledPolicy, f: ConditionFacts): ConditionCheck {
  const u = p.users;
  const excluded = excludedBy(u, f);
  if (excluded) return { condition: 'users', satisfied: false, detail: () => `${excluded} (exclusion beats inclusion, CA-5)` };
  const included = includedBy(u, f);
  return included ? { condition: 'users', satisfied: true, detail: () => included } : { condition: 'users', satisfied: false, detail: u.none ? NO_USERS : NOT_INCLUDED };
}

/** CA-2: applications, user actions or authentication contexts, whichever the policy targets. */
function targetCheck(p: CompiledPolicy, f: ConditionFacts): ConditionCheck {
  const t = p.target;
  if (t.kind === 'userActions') {
    const action = f.request.userAction;
    return action && t.actions.includes(action)
      ? { condition: 'application', satisfied: true, detail: () => `the sign-in is for the user action ${action}` }
      : { condition: 'application', satisfied: false, detail: () => `the policy targets the user action ${t.actions.join(', ')}; this sign-in is ${action ? `for ${action}` : 'not for a user action'}` };
  }
  if (t.kind === 'authenticationContexts') {
    const hit = t.contexts.find((c) => f.contexts.includes(c));
    return hit
      ? { condition: 'application', satisfied: true, detail: () => `the app asked for authentication context ${hit}` }
      : { condition: 'application', satisfied: false, detail: () => `the policy targets authentication context ${t.contexts.join(', ')}, which the app did not ask for` };
  }
  if (!f.appId) return { condition: 'application', satisfied: false, detail: NO_APPLICATION };
  if (t.exclude.size !== 0 && t.exclude.has(f.appId)) return { condition: 'application', satisfied: false, detail: () => `application ${f.appId} is excluded` };
  if (t.all) return { condition: 'application', satisfied: true, detail: ALL_RESOURCES };
  if (t.include.has(f.appId)) return { condition: 'application', satisfied: true, detail: () => `application ${f.appId} is included` };
  return { condition: 'application', satisfied: false, detail: () => `application ${f.appId} is not among the included applications` };
}

function locationMatchesUncached(ref: string, s: CompiledSnapshot, f: ConditionFacts): boolean {
  if (ref === 'All') return true;
  if (!f.ip) return false;
  const ip = f.ip;
  if (ref === 'AllTrusted') return [...s.locations.values()].some((l) => l.trusted && l.ranges.some((r) => cidrContains(r, ip)));
  const l = s.locations.get(ref.toLowerCase());
  return !!l && l.ranges.some((r) => cidrContains(r, ip));
}

/** The same references recur across policies: each is matched once per decision (the facts and the snapshot are fixed for it). */
function locationMatches(ref: string, s: CompiledSnapshot, f: ConditionFacts): boolean {
  let hit = f.locationHits.get(ref);
  if (hit === undefined) {
    hit = locationMatchesUncached(ref, s, f);
    f.locationHits.set(ref, hit);
  }
  return hit;
}

/**
 * `conditionsMatch` (CA-2, CA-5): every assignment and condition of a policy, ANDed. All are
 * checked (not just up to the first failure) so the log lists what was and wasn't satisfied.
 */
export function conditionsMatch(p: CompiledPolicy, s: CompiledSnapshot, f: ConditionFacts): ConditionsResult {
  const checks: ConditionCheck[] = [usersCheck(p, f), targetCheck(p, f)];
  if (p.clientAppTypes) {
    const types = p.clientAppTypes;
    const ok = types.has(f.clientAppType);
    checks.push({ condition: 'clientType', satisfied: ok, detail: () => `client app type ${f.clientAppType} ${ok ? 'is' : 'is not'} among ${[...types].join(', ')}` });
  }
  if (p.platforms) {
    const pl = p.platforms;
    const ok = !pl.exclude.has(f.platform) && (pl.all || pl.include.has(f.platform));
    checks.push({ condition: 'devicePlatform', satisfied: ok, detail: () => pl.exclude.has(f.platform) ? `platform ${f.platform} is excluded` : `platform ${f.platform} ${ok ? 'is' : 'is not'} included` });
  }
  if (p.locations) {
    const where = f.request.ipAddress ?? 'no address';
    const excluded = p.locations.exclude.find((l) => locationMatches(l, s, f));
    const included = p.locations.include.find((l) => locationMatches(l, s, f));
    const name = (l: string) => (l === 'All' || l === 'AllTrusted' ? l : s.locations.get(l.toLowerCase())?.displayName ?? l);
    checks.push(excluded
      ? { condition: 'location', satisfied: false, detail: () => `address ${where} is in excluded location ${name(excluded)}` }
      : included
        ? { condition: 'location', satisfied: true, detail: () => `address ${where} is in included location ${name(included)}` }
        : { condition: 'location', satisfied: false, detail: () => `address ${where} is in none of the included locations` });
  }
  if (p.transferMethods) {
    const tm = f.request.transferMethod ?? null;
    const ok = tm !== null && p.transferMethods.has(tm);
    checks.push({ condition: 'authenticationFlows', satisfied: ok, detail: () => tm ? `transfer method ${tm} ${ok ? 'is' : 'is not'} targeted` : 'the sign-in used no transfer method' });
  }
  for (const r of p.risk) {
    const ok = r.levels.includes('none');
    checks.push({ condition: r.condition, satisfied: ok, detail: () => `Gatehouse has no risk detection, so ${r.condition} is always 'none', ${ok ? 'which is' : 'which is not'} among ${r.levels.join(', ')}` });
  }
  let firstUnmet: ConditionCheck | undefined;
  for (let i = 0; i < checks.length && !firstUnmet; i++) if (!checks[i]!.satisfied) firstUnmet = checks[i];
  return { applies: !firstUnmet, checks, firstUnmet };
}
