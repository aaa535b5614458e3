import { methodEnabledFor } from '../../domain/methodsPolicy.ts';
import { graphDateTime, toGraphTemporaryAccessPassMethod } from '../../methods/tap/index.ts';
import { getMethodsPolicy } from '../../store/methodsPolicy.ts';
import { passkeysOf } from '../../store/passkeys.ts';
import { passOf } from '../../store/temporaryAccessPasses.ts';
import { deleteOathMethod, oathMethodsOf, passwordOf } from '../../store/passwordsAndOath.ts';
import { type MethodsContext, authorizeTarget, authorizedTarget, deleteUserMethod, loadTarget, type Target } from './context.ts';
import { passkeyUsability, SUSPENDED_BY_RECOVERY_CASE, toGraphPasskey } from './passkeys.ts';
import { suspensionsOfUser } from '../../store/recoveryCases.ts';

/** Entra's fixed id of the password method. */
export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

/** MTH-3: every method the user holds, with its type, usability and reason. */
export async function listMethods(ctx: MethodsContext, userRef: string) {
  const target = await authorizedTarget(ctx.db, ctx, userRef, 'read');
  const policy = await getMethodsPolicy(ctx.db, ctx.tenantId);
  const out: Record<string, unknown>[] = [];
  for (const m of await passkeysOf(ctx.db, ctx.tenantId, target.user.id)) out.push(toGraphPasskey(m, passkeyUsability(m, policy, target.groupIds)));
  const pass = await passOf(ctx.db, ctx.tenantId, target.user.id);
  if (pass) out.push({ ...toGraphTemporaryAccessPassMethod({ pass, methodEnabledForUser: methodEnabledFor(policy, 'TemporaryAccessPass', target.groupIds).enabled, now: ctx.now }) });
  out.push(...await passwordMethods(ctx, userRef, target));
  out.push(...await softwareOathMethods(ctx, userRef, target));
  return out;
}

function usability(enabled: boolean) {
  return enabled ? { isUsable: true, methodUsabilityReason: 'EnabledByPolicy' } : { isUsable: false, methodUsabilityReason: 'DisabledByPolicy' };
}

export async function passwordMethods(ctx: MethodsContext, userRef: string, loaded?: Target) {
  const target = loaded ?? await loadTarget(ctx.db, ctx.tenantId, userRef);
  if (!loaded) authorizeTarget(ctx, target, 'read');
  const row = await passwordOf(ctx.db, target.user.id);
  if (!row) return [];
  const policy = await getMethodsPolicy(ctx.db, ctx.tenantId);
  return [{ '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: graphDateTime(row.createdAt), ...usability(methodEnabledFor(policy, 'Password', target.groupIds).enabled) }];
}

export async function softwareOathMethods(ctx: MethodsContext, userRef: string, loaded?: Target) {
  const target = loaded ?? await loadTarget(ctx.db, ctx.tenantId, userRef);
  if (!loaded) authorizeTarget(ctx, target, 'read');
  const rows = await oathMethodsOf(ctx.db, target.user.id);
  const policy = await getMethodsPolicy(ctx.db, ctx.tenantId);
  const u = usability(methodEnabledFor(policy, 'SoftwareOath', target.groupIds).enabled);
  const suspensions = await suspensionsOfUser(ctx.db, target.user.id);
  return rows.map((r) => {
    const caseId = suspensions.find((s) => s.methodId === r.id)?.caseId;
    return {
      '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod', id: r.id, secretKey: null, createdDateTime: graphDateTime(r.createdAt),
      ...(caseId ? { isUsable: false, methodUsabilityReason: SUSPENDED_BY_RECOVERY_CASE, gatehouseSuspendedByRecoveryCaseId: caseId } : u),
    };
  });
}

export async function deleteSoftwareOathMethod(ctx: MethodsContext, userRef: string, id: string): Promise<void> {
  await deleteUserMethod(ctx, userRef, id, {
    resource: 'softwareOathAuthenticationMethod',
    remove: async (trx, userId, methodId) => ((await deleteOathMethod(trx, ctx.tenantId, userId, methodId)) ? methodId : undefined),
    details: (removed) => ({ 'Method': 'SoftwareOath', 'Method id': removed }),
  });
}
