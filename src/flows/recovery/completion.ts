import { gracePeriodEnd, stepAllowed } from '../../domain/recovery.ts';
import { writeAudit } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { activeCaseWithTap, getRecoveryPolicy, updateCase } from '../../store/recoveryCases.ts';
import type { StoredFido2Method } from '../../store/passkeys.ts';
import type { User } from '../../domain/resources.ts';
import { auditActor, type MethodsContext } from '../methods/context.ts';
import { notifyCaseEvent } from './notify.ts';

/**
 * RCV-3: the first phishing-resistant method registered with a case's TAP completes the case.
 * Called by every passkey registration path in the registration's transaction, with the passes
 * the registering session signed in with; does nothing when none of them is an active case's TAP.
 * The case row is locked, so two registrations at once complete it once.
 */
export async function completeRecoveryCaseOnRegistration(
  trx: Db, ctx: MethodsContext, user: User, passkey: StoredFido2Method, sessionTapIds: readonly string[],
): Promise<void> {
  const c = await activeCaseWithTap(trx, ctx.tenantId, user.id, sessionTapIds);
  if (!c || stepAllowed(c, 'complete', ctx.now)) return;
  const policy = await getRecoveryPolicy(trx, ctx.tenantId);
  const ends = gracePeriodEnd(ctx.now, policy.gracePeriodInDays);
  const done = await updateCase(trx, c.id, { state: 'completed', completedAt: ctx.now, completedByMethodId: passkey.id, gracePeriodEndsAt: ends }, ctx.now);
  await writeAudit(trx, ctx.tenantId, {
    activityDisplayName: 'Completed recovery case', category: 'UserManagement', operationType: 'Update', result: 'success',
    loggedByService: 'Gatehouse Recovery', correlationId: c.correlationId, initiatedBy: auditActor(ctx.actor, ctx.ipAddress),
    target: { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, type: 'User' },
    modifiedProperties: [{ displayName: 'state', oldValue: 'active', newValue: 'completed' }],
    additionalDetails: {
      'Recovery case id': c.id, 'Method': 'Fido2', 'Method id': passkey.id, 'Temporary Access Pass id': c.tapId,
      'Suspended methods': c.suspendedMethodIds.join(',') || null, 'Grace period ends': ends.toISOString(),
      'Sign-in correlation id': ctx.correlationId ?? null,
    },
  }, ctx.now);
  await notifyCaseEvent(trx, done, 'completed', user, { kind: 'user', id: user.id, userPrincipalName: user.userPrincipalName }, ctx.now, { completedByMethodId: passkey.id });
}
