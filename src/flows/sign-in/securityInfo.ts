import { z } from 'zod';
import { NotFoundError } from '../../domain/errors.ts';
import { parseInput, text } from '../../domain/validation.ts';
import type { Db } from '../../store/database.ts';
import { deletePasskey, renamePasskey } from '../../store/passkeys.ts';
import { deleteOathMethod } from '../../store/passwordsAndOath.ts';
import { findUser } from '../../store/users.ts';
import { auditUserMethod, loadTarget, type MethodsContext } from '../methods/context.ts';
import { listMethods } from '../methods/methods.ts';
import { publicDecision, requireFlow, SignInRefused, stepLogger, type SignInContext } from './flow.ts';
import { securityInfoGate } from './register.ts';

/**
 * The security-info portal's API (MTH-3 self-service, PLT-1..PLT-3): a signed-in user lists their
 * methods with usability and reason, renames a passkey, deletes a method. Every call is the
 * security-info action, decided by the engine for this flow (opening needs PLT-1/PLT-3 within
 * the 15-minute session; changes need PLT-2 freshness) in the call's transaction.
 */
async function gated<T>(ctx: SignInContext, flowId: string, operation: 'view' | 'change' | 'delete', work: (trx: Db, methods: MethodsContext, userId: string) => Promise<T>): Promise<T> {
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const flow = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
    const gate = await securityInfoGate(trx, ctx, flow, operation);
    const user = flow.userId ? await findUser(trx, ctx.tenantId, flow.userId) : undefined;
    if (gate.refusal || !user) {
      const refusal = gate.refusal ?? { name: 'FlowNotGranted' as const, message: 'Sign in first.' };
      if (user) await stepLogger(trx, ctx, flow, user, { method: 'Security info' })(refusal.name, refusal.message, gate.decision);
      return { refused: new SignInRefused(refusal.name, 403, refusal.message, undefined, gate.decision ? { decision: publicDecision(gate.decision) } : {}) };
    }
    const methods: MethodsContext = { db: trx, tenantId: ctx.tenantId, actor: { kind: 'operator', name: `security-info portal (${user.userPrincipalName})` }, now: ctx.now, ipAddress: ctx.ipAddress, correlationId: flow.state.correlationId };
    return { ok: await work(trx, methods, user.id) };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}

/** The audit of a self-service change names the user as the one who acted. */
const asUser = (m: MethodsContext, user: { id: string; userPrincipalName: string }): MethodsContext => ({ ...m, actor: { kind: 'user', id: user.id, userPrincipalName: user.userPrincipalName, roles: [] } });

export async function securityInfoMethods(ctx: SignInContext, flowId: string) {
  return gated(ctx, flowId, 'view', (_trx, m, userId) => listMethods(m, userId));
}

const renameBody = z.strictObject({ displayName: text(200) });

export async function renameSecurityInfoPasskey(ctx: SignInContext, flowId: string, methodId: string, raw: unknown) {
  const body = parseInput(renameBody, raw);
  return gated(ctx, flowId, 'change', async (trx, m, userId) => {
    const target = await loadTarget(trx, ctx.tenantId, userId);
    const before = /^[0-9a-fA-F-]{36}$/.test(methodId) ? await renamePasskey(trx, ctx.tenantId, userId, methodId.toLowerCase(), body.displayName) : undefined;
    if (!before) throw new NotFoundError('fido2AuthenticationMethod', methodId);
    await auditUserMethod(trx, asUser(m, target.user), target, { activity: 'User updated security info', operationType: 'Update', details: { 'Method': 'Fido2', 'Method id': before.id, 'Old display name': before.displayName, 'New display name': body.displayName } });
    return { id: before.id, displayName: body.displayName };
  });
}

export async function deleteSecurityInfoMethod(ctx: SignInContext, flowId: string, methodId: string): Promise<void> {
  await gated(ctx, flowId, 'delete', async (trx, m, userId) => {
    const target = await loadTarget(trx, ctx.tenantId, userId);
    const id = /^[0-9a-fA-F-]{36}$/.test(methodId) ? methodId.toLowerCase() : '';
    const passkey = id ? await deletePasskey(trx, ctx.tenantId, userId, id) : undefined;
    const oath = !passkey && id ? await deleteOathMethod(trx, ctx.tenantId, userId, id) : false;
    if (!passkey && !oath) throw new NotFoundError('authenticationMethod', methodId);
    await auditUserMethod(trx, asUser(m, target.user), target, { activity: 'User deleted security info', operationType: 'Delete', details: passkey ? { 'Method': 'Fido2', 'Method id': passkey.id, 'AAGUID': passkey.aaguid, 'Model': passkey.model } : { 'Method': 'SoftwareOath', 'Method id': id } });
  });
}
