import { USER_ACTION_REGISTER_SECURITY_INFO } from '../../domain/conditionalAccess.ts';
import { FIRST_PARTY_APPS } from '../../domain/directory.ts';
import { SIGN_IN_ERRORS, type SignInErrorName } from '../../domain/signInErrors.ts';
import { parseInput } from '../../domain/validation.ts';
import type { Decision } from '../../engine/types.ts';
import type { Db } from '../../store/database.ts';
import { saveFlow, type SignInFlow } from '../../store/signInFlows.ts';
import { findUser } from '../../store/users.ts';
import { loadTarget } from '../methods/context.ts';
import { passkeyCreationOptions, passkeyRegistrationBody, registerPasskey, type RelyingParty } from '../methods/passkeys.ts';
import { decide, publicDecision, requireFlow, signInInput, SignInRefused, stepLogger, type SignInContext } from './flow.ts';

const PORTAL = FIRST_PARTY_APPS.find((a) => a.key === 'securityInfo')!.appId;
/** TAP-8: after a one-time pass, the passkey must be registered within this long. */
export const ONE_TIME_TAP_REGISTRATION_WINDOW_MS = 10 * 60_000;

/**
 * Registering a passkey from inside a sign-in (the PLT-4 interrupt, or a security-info visit) is
 * itself a security-info action: the engine decides it with this flow's performed methods, for the
 * My Sign-Ins portal and `urn:user:registersecurityinfo` (PLT-1..PLT-3, CA-6).
 */
export async function securityInfoGate(trx: Db, ctx: SignInContext, flow: SignInFlow, operation: 'view' | 'register' | 'change' | 'delete' = 'register'): Promise<{ decision: Decision; refusal?: { name: SignInErrorName; message: string } }> {
  if (!flow.userId) return { decision: undefined as never, refusal: { name: 'FlowNotGranted', message: 'Sign in with a first factor before registering a passkey.' } };
  const input = await signInInput(trx, ctx, flow, flow.userId);
  const decision = decide({ ...input, request: { ...input.request, appId: PORTAL, userAction: USER_ACTION_REGISTER_SECURITY_INFO, authenticationContexts: [], securityInfoOperation: operation } });
  const oneTime = flow.state.performed.find((p) => p.method === 'temporaryAccessPassOneTime');
  if (operation === 'register' && oneTime && ctx.now.getTime() - Date.parse(oneTime.at) > ONE_TIME_TAP_REGISTRATION_WINDOW_MS && !flow.state.performed.some((p) => p.method === 'fido2')) {
    return { decision, refusal: { name: 'SecurityInfoNotFresh', message: 'TAP-8: after a one-time Temporary Access Pass, the passkey must be registered within 10 minutes; ask an administrator for a new pass.' } };
  }
  if (decision.outcome !== 'grant') {
    const name = (Object.entries(SIGN_IN_ERRORS).find(([, e]) => e.code === decision.errorCode)?.[0] ?? 'BlockedFromRegistering') as SignInErrorName;
    return { decision, refusal: { name, message: decision.failureReason ?? SIGN_IN_ERRORS[name].text } };
  }
  return { decision };
}

/** `POST …/{flowId}/register/options`: creation options for a passkey, if security info may be changed now. */
export async function registrationOptionsInFlow(ctx: SignInContext, rp: RelyingParty, flowId: string) {
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const flow = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
    const gate = await securityInfoGate(trx, ctx, flow);
    if (gate.refusal) {
      if (flow.userId) {
        const user = await findUser(trx, ctx.tenantId, flow.userId);
        await stepLogger(trx, ctx, flow, user, { method: 'Security info registration' })(gate.refusal.name, gate.refusal.message, gate.decision);
      }
      return { refused: new SignInRefused(gate.refusal.name, 403, gate.refusal.message, undefined, gate.decision ? { decision: publicDecision(gate.decision) } : {}) };
    }
    const target = await loadTarget(trx, ctx.tenantId, flow.userId!);
    const options = await passkeyCreationOptions(trx, ctx.tenantId, rp, target, flow.id, ctx.now);
    return { ok: { ...options, decision: publicDecision(gate.decision) } };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}

/**
 * `POST …/{flowId}/register`: verify and store the passkey ("User registered security info",
 * success or failure with the precise reason, SC-8), re-deciding the security-info gate in the
 * same transaction. Afterwards the user uses it once through the passkey step (PLT-4).
 */
export async function registerPasskeyInFlow(ctx: SignInContext, rp: RelyingParty, flowId: string, rawBody: unknown) {
  const body = parseInput(passkeyRegistrationBody, rawBody);
  const flow = await requireFlow(ctx.db, ctx.tenantId, flowId, ctx.now);
  const user = flow.userId ? await findUser(ctx.db, ctx.tenantId, flow.userId) : undefined;
  if (!user) throw new SignInRefused('FlowNotGranted', 409, 'Sign in with a first factor before registering a passkey.');
  const passkey = await registerPasskey(
    { db: ctx.db, tenantId: ctx.tenantId, actor: { kind: 'user', id: user.id, userPrincipalName: user.userPrincipalName, roles: [] }, now: ctx.now, ipAddress: ctx.ipAddress, correlationId: flow.state.correlationId },
    rp, user.id, body,
    {
      activity: 'User registered security info',
      flowIdFor: () => flow.id,
      // PLT-3: the new passkey is this session's, not an existing method (the flow row is locked by `authorize`).
      onStored: async (methodId, trx) => {
        const locked = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
        locked.state.registeredMethodIds = [...(locked.state.registeredMethodIds ?? []), methodId];
        await saveFlow(trx, locked);
      },
      sessionTapIds: flow.state.performed.filter((p) => p.method.startsWith('temporaryAccessPass')).map((p) => p.methodId),
      authorize: async (target, trx) => {
        const locked = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
        if (locked.userId !== target.user.id) throw new SignInRefused('FlowNotGranted', 409, 'This sign-in belongs to another user.');
        const gate = await securityInfoGate(trx, ctx, locked);
        if (gate.refusal) throw new SignInRefused(gate.refusal.name, 403, gate.refusal.message, undefined, gate.decision ? { decision: publicDecision(gate.decision) } : {});
      },
    },
  );
  return { passkey, next: 'Use the new passkey once through the passkey step to finish signing in (PLT-4).' };
}
