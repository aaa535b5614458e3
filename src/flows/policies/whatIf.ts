import { z } from 'zod';
import { CLIENT_APP_TYPES, DEVICE_PLATFORMS, USER_ACTION_REGISTER_DEVICE, USER_ACTION_REGISTER_SECURITY_INFO, AUTH_CONTEXT_PATTERN, type CaPolicy, type ClientAppType, type DevicePlatform, type UserAction } from '../../domain/conditionalAccess.ts';
import { FIRST_PARTY_APPS, permissionsOfRoles, permits } from '../../domain/directory.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import type { Actor } from '../../domain/actors.ts';
import { parseInput } from '../../domain/validation.ts';
import { AUTHENTICATION_METHOD_MODES } from '../../domain/strengths.ts';
import { evaluateSignIn } from '../../engine/evaluateSignIn.ts';
import type { AppliedPolicy, Decision, PerformedMethod, PolicySnapshot, SignInInput, SignInRequest } from '../../engine/types.ts';
import type { Db } from '../../store/database.ts';
import { loadPolicySnapshot } from '../../store/policies.ts';
import { loadSignInUser } from './signInUser.ts';

const appId = (key: string) => FIRST_PARTY_APPS.find((a) => a.key === key)!.appId;

/**
 * WIF-1: Graph's What-If (`POST /identity/conditionalAccess/evaluate`) request, with Gatehouse's
 * extension `gatehouse` (methods already performed, client capabilities, the instant, the
 * security-info operation). Unknown risk inputs are accepted and shown as ignored: Gatehouse has
 * no risk detection, risk is always none (CA-2).
 */
export const whatIfRequest = z.looseObject({
  signInIdentity: z.looseObject({
    '@odata.type': z.literal('#microsoft.graph.userSignIn', "must be '#microsoft.graph.userSignIn' (service principal sign-ins are not evaluated)").optional(),
    userId: z.string().min(1, 'is required').max(320),
  }),
  signInContext: z.looseObject({
    '@odata.type': z.enum(['#microsoft.graph.applicationContext', '#microsoft.graph.userActionContext', '#microsoft.graph.authContext'], "must be '#microsoft.graph.applicationContext', '#microsoft.graph.userActionContext' or '#microsoft.graph.authContext'"),
    includeApplications: z.array(z.string().max(100)).max(1, 'Gatehouse evaluates one application per What-If request').optional(),
    userAction: z.enum(['registerSecurityInformation', 'registerOrJoinDevices', USER_ACTION_REGISTER_SECURITY_INFO, USER_ACTION_REGISTER_DEVICE], "must be 'registerSecurityInformation' or 'registerOrJoinDevices'").optional(),
    authenticationContextValue: z.string().regex(AUTH_CONTEXT_PATTERN, 'must be an authentication context c1-c99').optional(),
  }),
  signInConditions: z.looseObject({
    devicePlatform: z.enum([...DEVICE_PLATFORMS, 'unknown'], `must be one of ${DEVICE_PLATFORMS.join(', ')}`).optional(),
    clientAppType: z.enum(CLIENT_APP_TYPES.filter((c) => c !== 'all') as [string, ...string[]], 'must be a client app type').optional(),
    ipAddress: z.string().max(64).optional(),
    authenticationFlow: z.looseObject({ transferMethod: z.enum(['deviceCodeFlow', 'authenticationTransfer', 'none'], "must be 'deviceCodeFlow', 'authenticationTransfer' or 'none'") }).nullish(),
  }).default({}),
  appliedPoliciesOnly: z.boolean().default(false),
  gatehouse: z.strictObject({
    performedMethods: z.array(z.strictObject({
      mode: z.enum(AUTHENTICATION_METHOD_MODES, 'must be an authentication method mode'),
      methodId: z.string().max(100).optional(),
      minutesAgo: z.number().min(0).max(60 * 24 * 90).optional(),
    })).max(10).default([]),
    clientCapabilities: z.strictObject({ webauthn: z.boolean() }).default({ webauthn: true }),
    dateTime: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time' }).optional(),
    securityInfoOperation: z.enum(['view', 'register', 'change', 'delete']).optional(),
    authenticationContexts: z.array(z.string().regex(AUTH_CONTEXT_PATTERN, 'must be c1-c99')).max(10).optional(),
  }).default({ performedMethods: [], clientCapabilities: { webauthn: true } }),
});
export type WhatIfRequest = z.output<typeof whatIfRequest>;

const ANALYSIS_REASON: Record<string, string> = {
  users: 'users', clientType: 'clientApps', devicePlatform: 'devicePlatform', location: 'location', authenticationFlows: 'authenticationFlow',
  signInRisk: 'signInRisk', userRisk: 'userRisk', servicePrincipalRisk: 'workloadIdentities', insiderRisk: 'insiderRisk',
};

/** One Graph whatIfAnalysisResult: the policy as stored plus policyApplies and analysisReasons. */
export function whatIfAnalysisResult(policy: CaPolicy, applied: AppliedPolicy) {
  let analysisReasons = 'notSet';
  if (policy.state === 'disabled') analysisReasons = 'policyNotEnabled';
  else if (!applied.applies && applied.firstUnmetCondition) {
    const c = applied.firstUnmetCondition.condition;
    analysisReasons = c === 'application'
      ? policy.conditions.applications.includeUserActions.length ? 'userActions' : policy.conditions.applications.includeAuthenticationContextClassReferences.length ? 'authenticationContext' : 'application'
      : ANALYSIS_REASON[c] ?? 'notEnoughInformation';
  }
  return {
    '@odata.type': '#microsoft.graph.whatIfAnalysisResult',
    ...policy,
    policyApplies: policy.state !== 'disabled' && applied.applies,
    analysisReasons,
    gatehouseResult: { result: applied.result, conditionsSatisfied: applied.conditionsSatisfied, conditionsNotSatisfied: applied.conditionsNotSatisfied, firstUnmetCondition: applied.firstUnmetCondition ?? null, explanation: applied.explanation },
  };
}

/** Turn a What-If request into the engine's input: the same input shape the live sign-in builds. */
export async function whatIfInput(db: Db, tenantId: string, body: WhatIfRequest, now: Date, policies?: PolicySnapshot): Promise<SignInInput> {
  const snapshot = policies ?? await loadPolicySnapshot(db, tenantId);
  const user = await loadSignInUser(db, tenantId, body.signInIdentity.userId, snapshot.methodsPolicy, now);
  if (!user) throw new NotFoundError('user', body.signInIdentity.userId);
  const ctx = body.signInContext;
  let userAction: UserAction | null = null;
  let app: string | null = null;
  if (ctx['@odata.type'] === '#microsoft.graph.applicationContext') {
    app = ctx.includeApplications?.[0] ?? null;
    if (!app) throw new ValidationError('signInContext.includeApplications', 'WIF-1', 'An applicationContext names the application (appId) in includeApplications.');
  } else if (ctx['@odata.type'] === '#microsoft.graph.userActionContext') {
    if (!ctx.userAction) throw new ValidationError('signInContext.userAction', 'WIF-1', "A userActionContext names the userAction: 'registerSecurityInformation' or 'registerOrJoinDevices'.");
    // Security info is registered in the My Sign-Ins portal and devices through device registration:
    // the live flows sign in to those apps for the action, so What-If does the same.
    userAction = ctx.userAction === 'registerSecurityInformation' || ctx.userAction === USER_ACTION_REGISTER_SECURITY_INFO ? USER_ACTION_REGISTER_SECURITY_INFO : USER_ACTION_REGISTER_DEVICE;
    app = appId(userAction === USER_ACTION_REGISTER_SECURITY_INFO ? 'securityInfo' : 'deviceRegistration');
  } else if (!ctx.authenticationContextValue) {
    throw new ValidationError('signInContext.authenticationContextValue', 'WIF-1', 'An authContext names the authenticationContextValue (c1-c99).');
  }
  const at = body.gatehouse.dateTime ? new Date(body.gatehouse.dateTime) : now;
  const performed: PerformedMethod[] = body.gatehouse.performedMethods.map((p, i) => {
    const method = p.methodId ? user.methods.find((m) => m.id === p.methodId) : user.methods.find((m) => m.modes.includes(p.mode) && m.usable) ?? user.methods.find((m) => m.modes.includes(p.mode));
    if (p.methodId && !method) throw new ValidationError(`gatehouse.performedMethods.${i}.methodId`, 'WIF-1', `The user holds no method ${p.methodId.slice(0, 100)}.`);
    return { mode: p.mode, at: new Date(at.getTime() - (p.minutesAgo ?? 0) * 60_000).toISOString(), methodId: method?.id ?? null, aaGuid: method?.aaGuid ?? null };
  });
  const cond = body.signInConditions;
  const request: SignInRequest = {
    at: at.toISOString(),
    appId: app,
    userAction,
    authenticationContexts: [...(ctx.authenticationContextValue ? [ctx.authenticationContextValue] : []), ...(body.gatehouse.authenticationContexts ?? [])],
    clientAppType: (cond.clientAppType ?? 'browser') as ClientAppType,
    platform: (cond.devicePlatform ?? 'unknown') as DevicePlatform,
    ipAddress: cond.ipAddress ?? null,
    transferMethod: cond.authenticationFlow && cond.authenticationFlow.transferMethod !== 'none' ? cond.authenticationFlow.transferMethod : null,
    capabilities: body.gatehouse.clientCapabilities,
    securityInfoOperation: body.gatehouse.securityInfoOperation ?? null,
    flowStartedAt: at.toISOString(),
  };
  return { policies: snapshot, user, request, session: { performed } };
}

export type WhatIfResponse = { value: ReturnType<typeof whatIfAnalysisResult>[]; gatehouseDecision: Decision; gatehouseInput: { request: SignInRequest; performed: readonly PerformedMethod[] } };

/** WIF-1: What-If, through the same engine call as the live sign-in (SIG-1). */
export async function whatIf(db: Db, tenantId: string, actor: Actor, raw: unknown, now: Date): Promise<WhatIfResponse> {
  if (actor.kind === 'app' && !permits(actor.permissions, 'policy.read')) throw new ForbiddenError('Insufficient privileges: What-If needs Policy.Read.All or Policy.ReadWrite.ConditionalAccess.');
  if (actor.kind === 'user' && !permits(permissionsOfRoles(actor.roles), 'policy.read')) throw new ForbiddenError('Insufficient privileges: What-If needs a role that reads policies (for example Security Reader, Conditional Access Administrator or Global Reader).');
  const body = parseInput(whatIfRequest, raw);
  if (body.signInConditions.ipAddress !== undefined && !/^[0-9a-fA-F:.%]+$/.test(body.signInConditions.ipAddress)) {
    throw new ValidationError('signInConditions.ipAddress', 'WIF-1', 'ipAddress must be an IPv4 or IPv6 address.');
  }
  const input = await whatIfInput(db, tenantId, body, now);
  const decision = evaluateSignIn(input);
  const byId = new Map(input.policies.conditionalAccessPolicies.map((p) => [p.id, p]));
  const value = decision.appliedConditionalAccessPolicies.map((a) => whatIfAnalysisResult(byId.get(a.id)!, a)).filter((r) => !body.appliedPoliciesOnly || r.policyApplies);
  return { value, gatehouseDecision: decision, gatehouseInput: { request: input.request, performed: input.session.performed } };
}
