import { GatehouseError, NotFoundError } from '../../domain/errors.ts';
import type { User } from '../../domain/resources.ts';
import { isMultifactor } from '../../domain/mfa.ts';
import { writeSignIn } from '../../store/signIns.ts';
import { SIGN_IN_ERRORS, type SignInErrorName } from '../../domain/signInErrors.ts';
import { findApplicationByAppId } from '../../store/applications.ts';
import type { Db } from '../../store/database.ts';
import { createFlow, lockFlow, type SignInFlow } from '../../store/signInFlows.ts';
import { findTenant } from '../../store/tenants.ts';

/**
 * The sign-in flow (flow API, docs/flows.md): a state machine kept in the database, one
 * transaction per step. This stage has the first-factor steps (TAP, passkey); policy
 * evaluation and the OIDC hand-off join it later.
 */
export const FLOW_LIFETIME_MS = 15 * 60_000;

export type SignInContext = { db: Db; tenantId: string; now: Date; ipAddress: string | null; userAgent: string | null };

/** A refused step: the caller sees `publicMessage`; the sign-in log keeps the exact reason. */
export class SignInRefused extends GatehouseError {
  readonly errorName: SignInErrorName;
  readonly retryAfterSeconds: number | undefined;
  constructor(errorName: SignInErrorName, status: number, publicMessage: string, retryAfterSeconds?: number) {
    super(status, errorName, publicMessage, { extra: { errorCode: SIGN_IN_ERRORS[errorName].code } });
    this.errorName = errorName;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export async function startSignIn(db: Db, tenantId: string, appId: string | null, now: Date): Promise<{ flowId: string; expiresDateTime: string }> {
  if (!(await findTenant(db, tenantId))) throw new NotFoundError('tenant', tenantId);
  if (appId && !(await findApplicationByAppId(db, tenantId, appId))) throw new NotFoundError('application', appId);
  const flow = await createFlow(db, tenantId, appId, now, FLOW_LIFETIME_MS);
  return { flowId: flow.id, expiresDateTime: flow.expiresAt.toISOString() };
}

export async function requireFlow(db: Db, tenantId: string, flowId: string, now: Date): Promise<SignInFlow> {
  const flow = await lockFlow(db, tenantId, flowId, now);
  if (!flow) throw new SignInRefused('FlowExpired', 404, 'This sign-in has expired or does not exist; start again.');
  return flow;
}

/** What a step returns on success: who signed in and what has been performed so far. */
export function flowView(flow: SignInFlow) {
  return { flowId: flow.id, userId: flow.userId, performedMethods: flow.state.performed.map((p) => p.method), correlationId: flow.state.correlationId };
}

/**
 * LOG-1: the sign-in record of one step, success (error null) or failure, written in the step's
 * transaction. `detail` is the exact reason, for the admin; the caller never sees it.
 */
export function stepLogger(
  trx: Db, ctx: SignInContext, flow: SignInFlow, user: Pick<User, 'id' | 'userPrincipalName' | 'displayName'> | undefined,
  step: { method: string; methodDetail?: string | null; attemptedUserPrincipalName?: string | null },
) {
  return async (error: SignInErrorName | null, detail: string): Promise<void> => {
    const app = flow.state.appId ? await findApplicationByAppId(trx, ctx.tenantId, flow.state.appId) : undefined;
    await writeSignIn(trx, ctx.tenantId, {
      correlationId: flow.state.correlationId,
      user: user ? { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName } : null,
      attemptedUserPrincipalName: step.attemptedUserPrincipalName ?? null,
      app: app ? { appId: app.appId, displayName: app.displayName } : null,
      ipAddress: ctx.ipAddress, userAgent: ctx.userAgent,
      status: error
        ? { errorCode: SIGN_IN_ERRORS[error].code, failureReason: SIGN_IN_ERRORS[error].text, additionalDetails: detail }
        : { errorCode: 0, failureReason: 'Other.', additionalDetails: detail },
      authenticationDetails: [{ authenticationMethod: step.method, authenticationMethodDetail: step.methodDetail ?? null, succeeded: error === null, authenticationStepResultDetail: detail }],
      authenticationRequirement: error === null && isMultifactor(flow.state.performed.map((p) => p.method)) ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
    }, ctx.now);
  };
}
