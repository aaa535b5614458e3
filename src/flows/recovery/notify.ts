import type { RecoveryEvent } from '../../domain/recovery.ts';
import type { Db } from '../../store/database.ts';
import { enqueueNotification } from '../../store/notifications.ts';
import { getRecoveryPolicy, type StoredCase } from '../../store/recoveryCases.ts';

/**
 * A webhook notification of a case step, into the outbox in the step's transaction (when the
 * tenant's recovery policy names a webhook). Never a secret: no TAP, no verification note.
 */
export async function notifyCaseEvent(
  trx: Db, c: StoredCase, event: RecoveryEvent, user: { id: string; userPrincipalName: string },
  actor: Record<string, unknown>, now: Date, extra: Record<string, unknown> = {},
): Promise<void> {
  const policy = await getRecoveryPolicy(trx, c.tenantId);
  if (!policy.webhookUrl) return;
  await enqueueNotification(trx, {
    tenantId: c.tenantId, caseId: c.id, correlationId: c.correlationId, event, url: policy.webhookUrl,
    payload: {
      type: `gatehouse.recovery.${event}`, occurredDateTime: now.toISOString(), tenantId: c.tenantId,
      case: {
        id: c.id, state: c.state, correlationId: c.correlationId,
        user: { id: user.id, userPrincipalName: user.userPrincipalName },
        verificationMethod: c.verification.method,
        suspendedMethodIds: c.suspendedMethodIds, restoredMethodIds: c.restoredMethodIds, deletedMethodIds: c.deletedMethodIds,
        gracePeriodEndDateTime: c.gracePeriodEndsAt?.toISOString() ?? null,
      },
      actor, ...extra,
    },
  }, now);
}
