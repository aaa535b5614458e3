import { GatehouseError, NotFoundError } from '../../domain/errors.ts';
import { isGuid } from '../../domain/validation.ts';
import type { User } from '../../domain/resources.ts';
import { isMultifactor } from '../../domain/mfa.ts';
import { writeSignIn, writeSignInWith, type SignInRecord } from '../../store/signIns.ts';
import type { OperationNodeSource } from 'kysely';
import { SIGN_IN_ERRORS, type SignInErrorName } from '../../domain/signInErrors.ts';
import type { Db } from '../../store/database.ts';
import { isForeignKeyViolation } from '../../store/query.ts';
import { applicationForLog, loadSignInFacts, openPasskeyStep as openPasskeyStepQuery, type SignInFacts } from '../../store/signInFacts.ts';
import type { StoredFido2Method } from '../../store/passkeys.ts';
import { createFlow, lockFlow, saveFlow, saveFlowQuery, type FlowOptions, type PerformedMethod, type SignInFlow, type SignInFlowState } from '../../store/signInFlows.ts';
import { findTenant } from '../../store/tenants.ts';
import { FIRST_PARTY_APPS } from '../../domain/directory.ts';

const firstPartyAppId = (key: string) => FIRST_PARTY_APPS.find((a) => a.key === key)!.appId;
import { evaluateSignIn } from '../../engine/evaluateSignIn.ts';
import type { Decision, PolicySnapshot, SignInInput, SignInUser } from '../../engine/types.ts';
import type { DevicePlatform } from '../../domain/conditionalAccess.ts';
import { policySnapshotAt, policyVersionOf } from '../../store/policies.ts';
import { signInUserFrom, withCampaignState } from '../policies/signInUser.ts';

/**
 * The sign-in flow (flow API, docs/flows.md): a state machine kept in the database, one
 * transaction per step. After every factor the engine decides (SIG-1) in the same transaction,
 * and the step's sign-in record carries the decision's trace (LOG-1).
 */
export const FLOW_LIFETIME_MS = 15 * 60_000;

export type SignInContext = { db: Db; tenantId: string; now: Date; ipAddress: string | null; userAgent: string | null };

/** A refused step: the caller sees `publicMessage`; the sign-in log keeps the exact reason. */
export class SignInRefused extends GatehouseError {
  readonly errorName: SignInErrorName;
  readonly retryAfterSeconds: number | undefined;
  constructor(errorName: SignInErrorName, status: number, publicMessage: string, retryAfterSeconds?: number, extra: Record<string, unknown> = {}) {
    super(status, errorName, publicMessage, { extra: { errorCode: SIGN_IN_ERRORS[errorName].code, ...extra } });
    this.errorName = errorName;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type StartOptions = FlowOptions & { appId?: string | null };

export async function startSignIn(db: Db, tenantId: string, opts: StartOptions, now: Date,
  challenge?: { challenge: string; expiresAt: Date }): Promise<{ flowId: string; expiresDateTime: string }> {
  if (!isGuid(tenantId)) throw new NotFoundError('tenant', tenantId);
  const { appId: requested = null, ...options } = opts;
  // A user action happens in its first-party app, as What-If assumes too: security info in the
  // My Sign-Ins portal, device registration in the device registration app.
  const appId = requested ?? (options.userAction === 'urn:user:registersecurityinfo' ? firstPartyAppId('securityInfo') : options.userAction === 'urn:user:registerdevice' ? firstPartyAppId('deviceRegistration') : null);
  // The flow's foreign key checks the tenant: one statement on the hot path instead of a lookup first.
  // For an app, the app's lookup and the flow are that one statement; the app's name goes into the
  // flow, so the steps' records (stepLogger) don't read it again.
  try {
    const flow = await createFlow(db, tenantId, appId, now, FLOW_LIFETIME_MS, options, challenge);
    if (flow) return { flowId: flow.id, expiresDateTime: flow.expiresAt.toISOString() };
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new NotFoundError('tenant', tenantId);
    throw err;
  }
  // No such app in this tenant: an unknown tenant is reported as such, as before the application.
  if (!(await findTenant(db, tenantId))) throw new NotFoundError('tenant', tenantId);
  throw new NotFoundError('application', appId!);
}

export async function requireFlow(db: Db, tenantId: string, flowId: string, now: Date): Promise<SignInFlow> {
  const flow = await lockFlow(db, tenantId, flowId, now);
  if (!flow) throw new SignInRefused('FlowExpired', 404, 'This sign-in has expired or does not exist; start again.');
  return flow;
}

/** What a step returns on success: who signed in, what has been performed so far, and the decision. */
export function flowView(flow: SignInFlow, decision?: Decision) {
  return {
    flowId: flow.id, userId: flow.userId, performedMethods: flow.state.performed.map((p) => p.method), correlationId: flow.state.correlationId,
    ...(decision ? { decision: publicDecision(decision) } : {}),
  };
}

/**
 * The decision as the caller sees it, once a factor has proved who they are: what happens next
 * and why, which of their methods would meet each open requirement, what to register.
 */
export function publicDecision(d: Decision) {
  return {
    outcome: d.outcome, errorCode: d.errorCode, failureReason: d.failureReason,
    requirements: d.requirements.filter((r) => !r.satisfied).map((r) => ({
      id: r.id, source: r.source, description: r.description,
      candidates: r.candidates.map((c) => ({ methodId: c.methodId, type: c.type, displayName: c.displayName ?? null })),
    })),
    registration: d.registration ?? null, nudge: d.nudge ?? null, acr: d.acr,
    platformRules: d.platformRules.filter((p) => p.result === 'required' || p.result === 'fired').map((p) => ({ id: p.id, sentence: p.sentence })),
  };
}

/** The platform a user agent names (CA-2 `platforms`). */
export function platformOf(userAgent: string | null): DevicePlatform {
  if (!userAgent) return 'unknown';
  if (/Windows Phone/i.test(userAgent)) return 'windowsPhone';
  if (/Android/i.test(userAgent)) return 'android';
  if (/iPhone|iPad|iPod/i.test(userAgent)) return 'iOS';
  if (/Windows/i.test(userAgent)) return 'windows';
  if (/Mac OS X|Macintosh/i.test(userAgent)) return 'macOS';
  if (/Linux|X11|CrOS/i.test(userAgent)) return 'linux';
  return 'unknown';
}

/**
 * The engine's input for this flow now: the same shape What-If builds (SIG-1). One statement
 * when the cached policy snapshot is current: the user's facts and the policy version together.
 */
export async function signInInput(trx: Db, ctx: SignInContext, flow: SignInFlow, userId: string): Promise<SignInInput> {
  const { policies, user } = await loadDecisionFacts(trx, ctx, userId);
  if (!user) throw new NotFoundError('user', userId);
  return signInInputFrom(ctx, flow, policies, user);
}

/**
 * The tenant's policy snapshot and, when the user exists, their facts as stored (`facts`) and as
 * the engine sees them (`user`): one statement when the snapshot cache is current.
 */
export async function loadDecisionFacts(trx: Db, ctx: SignInContext, userRef: string): Promise<{ policies: PolicySnapshot; user: SignInUser | undefined; facts: SignInFacts | undefined }> {
  const loaded = await loadSignInFacts(trx, ctx.tenantId, userRef);
  const policies = await policySnapshotAt(trx, ctx.tenantId, loaded.policyVersion);
  return { policies, facts: loaded.facts, user: loaded.facts ? await withCampaignState(trx, ctx.tenantId, signInUserFrom(loaded.facts, policies.methodsPolicy, ctx.now), policies.methodsPolicy) : undefined };
}

/**
 * The start of a passkey step, in one statement (store/signInFacts.ts `openPasskeyStep`): the
 * flow locked as `requireFlow` locks it (FlowExpired when there is none), the challenge consumed
 * for it, and the passkey with its owner's facts and the policies.
 */
export async function openPasskeyStep(trx: Db, ctx: SignInContext, flowId: string, challenge: string | null, credentialId: string): Promise<{
  flow: SignInFlow; consumed: { userId: string | null } | undefined; policies: PolicySnapshot; passkey: StoredFido2Method | undefined; user: SignInUser | undefined; facts: SignInFacts | undefined;
}> {
  const opened = await openPasskeyStepQuery(trx, ctx.tenantId, flowId, ctx.now, challenge, credentialId);
  if (!opened.flow) throw new SignInRefused('FlowExpired', 404, 'This sign-in has expired or does not exist; start again.');
  const policies = await policySnapshotAt(trx, ctx.tenantId, opened.policyVersion);
  return {
    flow: opened.flow, consumed: opened.consumed, policies, passkey: opened.passkey, facts: opened.facts,
    user: opened.facts ? await withCampaignState(trx, ctx.tenantId, signInUserFrom(opened.facts, policies.methodsPolicy, ctx.now), policies.methodsPolicy) : undefined,
  };
}

/** The engine's input from facts already loaded in this step's transaction. */
export function signInInputFrom(ctx: SignInContext, flow: SignInFlow, policies: PolicySnapshot, user: SignInUser): SignInInput {
  const s = flow.state;
  return {
    policies, user,
    request: {
      at: ctx.now.toISOString(), appId: s.appId, userAction: s.userAction ?? null, authenticationContexts: s.authenticationContexts ?? [],
      clientAppType: 'browser', platform: platformOf(ctx.userAgent), ipAddress: ctx.ipAddress,
      capabilities: s.capabilities ?? { webauthn: false }, flowStartedAt: s.startedAt ?? null, transferMethod: s.transferMethod ?? null,
    },
    session: { performed: s.performed.map((p) => ({ mode: p.method, at: p.at, methodId: p.methodId, aaGuid: p.aaGuid ?? null })), ...(s.registeredMethodIds?.length ? { registeredMethodIds: s.registeredMethodIds } : {}) },
  };
}

const NAME_BY_CODE = new Map<number, SignInErrorName>(Object.entries(SIGN_IN_ERRORS).map(([name, e]) => [e.code, name as SignInErrorName]));

/**
 * A factor succeeded: record it on the flow, let the engine decide, and write the step's sign-in
 * record with the decision's trace, all in the step's transaction. A block is a refusal the
 * caller sees with its code and reason (the user has proved who they are by now).
 */
export async function factorSucceeded(
  trx: Db, ctx: SignInContext, flow: SignInFlow, userId: string, performed: PerformedMethod,
  log: (error: SignInErrorName | null, detail: string, decision?: Decision) => Promise<void>, detail: string,
  /**
   * The policies and the user's facts when the step already loaded them in this transaction and
   * nothing it wrote since changes them (e.g. a passkey's counter does not; a consumed one-time
   * pass does). Otherwise they are read here.
   */
  preloaded?: { policies: PolicySnapshot; user: SignInUser },
  /**
   * The step's own writes that nothing before the decision depends on (e.g. the passkey's new
   * counter), not yet run: they are written with the flow and the sign-in record, in one
   * statement when `log` comes from `stepLogger`, otherwise first, one by one.
   */
  writes: readonly PendingWrite[] = [],
): Promise<{ ok: ReturnType<typeof flowView> } | { refused: SignInRefused }> {
  flow.userId = userId;
  flow.state.performed.push(performed);
  const input = preloaded && preloaded.user.id === userId ? signInInputFrom(ctx, flow, preloaded.policies, preloaded.user) : await signInInput(trx, ctx, flow, userId);
  const decision = decide(input);
  flow.state.decision = { outcome: decision.outcome, errorCode: decision.errorCode, acr: decision.acr, at: ctx.now.toISOString(), registration: decision.registration ? { modes: decision.registration.modes, rule: decision.registration.rule } : null, ...(decision.outcome === 'block' ? { failureReason: decision.failureReason ?? null } : {}) };
  const recordOf = recordBuilders.get(log);
  if (recordOf) {
    // The step's writes, the flow and the sign-in record (LOG-1) in one statement of the step's transaction.
    await writeSignInWith(trx, ctx.tenantId, await recordOf(null, detail, decision), ctx.now, [...writes, saveFlowQuery(trx, flow)]);
  } else {
    for (const w of writes) await w.execute();
    await saveFlow(trx, flow);
    await log(null, detail, decision);
  }
  if (decision.outcome === 'block') {
    const name = NAME_BY_CODE.get(decision.errorCode ?? 0) ?? 'BlockedByConditionalAccess';
    return { refused: new SignInRefused(name, 403, decision.failureReason ?? SIGN_IN_ERRORS[name].text, undefined, { decision: publicDecision(decision) }) };
  }
  return { ok: flowView(flow, decision) };
}

/**
 * LOG-1: the sign-in record of one step, success (error null) or failure, written in the step's
 * transaction. `detail` is the exact reason, for the admin; the caller never sees it.
 */
export function stepLogger(
  trx: Db, ctx: SignInContext, flow: SignInFlow, user: Pick<User, 'id' | 'userPrincipalName' | 'displayName'> | undefined,
  step: { method: string; methodDetail?: string | null; attemptedUserPrincipalName?: string | null },
) {
  const recordOf = async (error: SignInErrorName | null, detail: string, decision?: Decision): Promise<SignInRecord> => {
    // The app's name as the flow's start found it (flows started before it was kept: read now).
    const app = !flow.state.appId ? undefined
      : typeof flow.state.appDisplayName === 'string' ? { appId: flow.state.appId.toLowerCase(), displayName: flow.state.appDisplayName }
        : await applicationForLog(trx, ctx.tenantId, flow.state.appId);
    // A factor that succeeded ends the attempt only when the decision grants; otherwise the
    // record carries the decision's code (interrupted for a challenge or registration, failed for a block).
    const interrupted = error === null && decision && decision.outcome !== 'grant';
    const s = flow.state;
    return {
      correlationId: flow.state.correlationId,
      user: user ? { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName } : null,
      attemptedUserPrincipalName: step.attemptedUserPrincipalName ?? null,
      app: app ? { appId: app.appId, displayName: app.displayName } : null,
      ipAddress: ctx.ipAddress, userAgent: ctx.userAgent,
      status: error
        ? { errorCode: SIGN_IN_ERRORS[error].code, failureReason: SIGN_IN_ERRORS[error].text, additionalDetails: detail }
        : interrupted
          ? { errorCode: decision.errorCode ?? 0, failureReason: decision.failureReason ?? decision.outcome, additionalDetails: `${detail}; decision: ${decision.outcome}` }
          : { errorCode: 0, failureReason: 'Other.', additionalDetails: detail },
      authenticationDetails: [{ authenticationMethod: step.method, authenticationMethodDetail: step.methodDetail ?? null, succeeded: error === null, authenticationStepResultDetail: detail }],
      authenticationRequirement: decision ? decision.authenticationRequirement : error === null && isMultifactor(flow.state.performed.map((p) => p.method)) ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
      ...(decision || s.transferMethod ? { extra: { ...transferFields(s), ...(decision ? decisionTrace(decision) : {}) } } : {}),
    };
  };
  const log = async (error: SignInErrorName | null, detail: string, decision?: Decision): Promise<void> => {
    await writeSignIn(trx, ctx.tenantId, await recordOf(error, detail, decision), ctx.now);
  };
  recordBuilders.set(log, recordOf);
  return log;
}

/** A statement built on the step's transaction and not yet run (a Kysely update builder). */
export type PendingWrite = OperationNodeSource & { execute(): Promise<unknown> };

/** The record a `stepLogger` log function would write, so `factorSucceeded` can write it with the step's other writes. */
const recordBuilders = new WeakMap<object, (error: SignInErrorName | null, detail: string, decision?: Decision) => Promise<SignInRecord>>();

/** The input each decision of `decide` was made from, until its record is written (WIF-2). */
const decisionInputs = new WeakMap<Decision, SignInInput>();

/** SIG-1: the engine's decision, remembering its input so the step's record can carry it for replay (WIF-2). */
export function decide(input: SignInInput): Decision {
  const decision = evaluateSignIn(input);
  decisionInputs.set(decision, input);
  return decision;
}

/**
 * LOG-1: the decision's part of a sign-in record: each CA policy's result in Graph's shape, the
 * CA and platform sources of the requirement, and the whole decision for replay (WIF-2) with the
 * engine's input minus the policies (`gatehouseInput`) and the policy version it was decided
 * under (`gatehousePolicyVersion`, whose snapshot store/policyHistory.ts keeps). `input`: the
 * input of a decision not made by `decide`.
 */
export function decisionTrace(d: Decision, input: SignInInput | undefined = decisionInputs.get(d)): Record<string, unknown> {
  const version = input ? policyVersionOf(input.policies) : undefined;
  return {
    conditionalAccessStatus: d.conditionalAccessStatus,
    appliedConditionalAccessPolicies: d.appliedConditionalAccessPolicies.map((p) => ({
      id: p.id, displayName: p.displayName, result: p.result, conditionsSatisfied: p.conditionsSatisfied, conditionsNotSatisfied: p.conditionsNotSatisfied,
      enforcedGrantControls: p.enforcedGrantControls, enforcedSessionControls: p.enforcedSessionControls,
      ...(p.authenticationStrength ? { authenticationStrength: p.authenticationStrength } : {}),
      ...(p.supersededBy ? { gatehouseSupersededBy: p.supersededBy } : {}),
      ...(p.firstUnmetCondition ? { gatehouseFirstUnmetCondition: p.firstUnmetCondition } : {}),
    })),
    authenticationRequirementPolicies: d.authenticationRequirementPolicies,
    gatehouseDecision: d,
    ...(input && version !== undefined ? { gatehouseInput: { user: input.user, request: input.request, session: input.session }, gatehousePolicyVersion: version } : {}),
  };
}

/**
 * LOG-1, CA-2: a sign-in that reached the browser through the OAuth device authorization grant
 * says so in every step's record, with Graph beta's fields (`originalTransferMethod`,
 * `authenticationProtocol`).
 */
export function transferFields(s: { transferMethod?: 'deviceCodeFlow' | null }): Record<string, string> {
  return s.transferMethod === 'deviceCodeFlow' ? { originalTransferMethod: 'deviceCodeFlow', authenticationProtocol: 'deviceCode' } : {};
}

/** OIDC `amr` values for the methods performed (RFC 8176 where it has one; `fido` and `tap` are Gatehouse's). */
export function amrOf(performed: readonly PerformedMethod[]): string[] {
  const map: Record<string, string> = { fido2: 'fido', temporaryAccessPassOneTime: 'tap', temporaryAccessPassMultiUse: 'tap', password: 'pwd', softwareOath: 'otp' };
  const out = [...new Set(performed.map((p) => map[p.method] ?? p.method))];
  if (isMultifactor(performed.map((p) => p.method))) out.push('mfa');
  return out;
}

/**
 * What `completedSignIn` runs on the locked flow before completing it, in the completion's
 * transaction (e.g. the OIDC request's checks, interactions.ts). A refusal it returns is thrown
 * once the transaction has committed without completing the flow, so what the check wrote (a
 * sign-in record) is kept. Throwing instead rolls its writes back.
 */
export type CompletionCheck = (trx: Db, flow: SignInFlow) => Promise<GatehouseError | undefined>;

/**
 * The hand-off to OIDC: a flow whose last decision granted is completed, once. Returns who signed
 * in, how (amr), the authentication contexts met (acr) and when. With `check`, the caller's own
 * checks run first on the flow as locked (an unknown or expired flow is refused before them), in
 * the same transaction: one lock, one read of the flow per completion.
 */
export async function completedSignIn(db: Db, tenantId: string, flowId: string, now: Date, check?: CompletionCheck): Promise<{
  userId: string; interactionUid: string | null; amr: string[]; acr: string[]; authTime: number; sessionNotAfter: string | null;
  /** What a later non-interactive sign-in (a refresh) is re-decided over: the request and the session of this one. */
  session: Pick<SignInFlowState, 'appId' | 'userAction' | 'authenticationContexts' | 'capabilities' | 'transferMethod' | 'performed' | 'correlationId'>;
}> {
  const out = await db.transaction().execute(async (trx) => {
    const flow = await requireFlow(trx, tenantId, flowId, now);
    const refused = check ? await check(trx, flow) : undefined;
    if (refused) return { refused };
    if (flow.state.completedAt) throw new SignInRefused('FlowExpired', 409, 'This sign-in was already completed; start again.');
    if (!flow.userId || flow.state.decision?.outcome !== 'grant') {
      throw new SignInRefused('FlowNotGranted', 409, `This sign-in is not complete: ${flow.state.decision ? `the last decision was '${flow.state.decision.outcome}'` : 'no factor has been performed'}.`);
    }
    flow.state.completedAt = now.toISOString();
    await saveFlow(trx, flow);
    // auth_time: the most recent authentication of this sign-in (a step-up moves it).
    const last = flow.state.performed.reduce((a, p) => (p.at > a ? p.at : a), flow.state.performed[0]!.at);
    return {
      done: {
        userId: flow.userId, interactionUid: flow.state.interactionUid ?? null, amr: amrOf(flow.state.performed), acr: flow.state.decision.acr,
        authTime: Math.floor(Date.parse(last) / 1000), sessionNotAfter: flow.state.sessionNotAfter ?? null,
        session: {
          appId: flow.state.appId, userAction: flow.state.userAction ?? null, authenticationContexts: flow.state.authenticationContexts ?? [],
          capabilities: flow.state.capabilities ?? { webauthn: false }, transferMethod: flow.state.transferMethod ?? null,
          performed: flow.state.performed, correlationId: flow.state.correlationId,
        },
      },
    };
  });
  if ('refused' in out) throw out.refused;
  return out.done;
}
