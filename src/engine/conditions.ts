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
  };
}

/** `detail` is built only when someone reads it: deciding stays cheap at 195 policies. */
export type ConditionCheck = { condition: ConditionName; satisfied: boolean; detail: () => string };
export type ConditionsResult = { applies: boolean; checks: ConditionCheck[]; firstUnmet: ConditionCheck | undefined };

const firstIn = (list: readonly string[], set: ReadonlySet<string>) => list.find((x) => set.has(x));

/** CA-2, CA-5: users, with exclusions beating inclusions. */
function usersCheck(p: CompiledPolicy, f: ConditionFacts): ConditionCheck {
  const u = p.users;
  const excludedBy = u.excludeUsers.has(f.userId) ? 'the user is excluded by id'
    : firstIn(u.excludeGroups, f.groupIds) ? `the user is in excluded group ${firstIn(u.excludeGroups, f.groupIds)}`
      : firstIn(u.excludeRoles, f.roleIds) ? `the user holds excluded role ${firstIn(u.excludeRoles, f.roleIds)}`
        : u.excludeGuests && f.isGuest ? 'guests are excluded' : undefined;
  if (excludedBy) return { condition: 'users', satisfied: false, detail: () => `${excludedBy} (exclusion beats inclusion, CA-5)` };
  const includedBy = u.none ? undefined
    : u.all ? 'all users are included'
      : u.includeUsers.has(f.userId) ? 'the user is included by id'
        : firstIn(u.includeGroups, f.groupIds) ? `the user is in included group ${firstIn(u.includeGroups, f.groupIds)}`
          : firstIn(u.includeRoles, f.roleIds) ? `the user holds included role ${firstIn(u.includeRoles, f.roleIds)}`
            : u.includeGuests && f.isGuest ? 'guests are included' : undefined;
  return includedBy ? { condition: 'users', satisfied: true, detail: () => includedBy } : { condition: 'users', satisfied: false, detail: () => u.none ? "the policy includes no users ('None')" : 'the user is not in any included user, group or role' };
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
  if (!f.appId) return { condition: 'application', satisfied: false, detail: () => 'the sign-in names no application' };
  if (t.exclude.has(f.appId)) return { condition: 'application', satisfied: false, detail: () => `application ${f.appId} is excluded` };
  if (t.all) return { condition: 'application', satisfied: true, detail: () => 'all resources are included' };
  if (t.include.has(f.appId)) return { condition: 'application', satisfied: true, detail: () => `application ${f.appId} is included` };
  return { condition: 'application', satisfied: false, detail: () => `application ${f.appId} is not among the included applications` };
}

function locationMatches(ref: string, s: CompiledSnapshot, f: ConditionFacts): boolean {
  if (ref === 'All') return true;
  if (!f.ip) return false;
  const ip = f.ip;
  if (ref === 'AllTrusted') return [...s.locations.values()].some((l) => l.trusted && l.ranges.some((r) => cidrContains(r, ip)));
  const l = s.locations.get(ref.toLowerCase());
  return !!l && l.ranges.some((r) => cidrContains(r, ip));
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
  const firstUnmet = checks.find((c) => !c.satisfied);
  return { applies: !firstUnmet, checks, firstUnmet };
}
