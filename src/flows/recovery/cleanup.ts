import { stepAllowed } from '../../domain/recovery.ts';
import { writeAudit, type AuditActor } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { deletePasskey } from '../../store/passkeys.ts';
import { deleteOathMethod } from '../../store/passwordsAndOath.ts';
import { claimCaseForCleanup, liftSuspensions, updateCase } from '../../store/recoveryCases.ts';
import { findUser } from '../../store/users.ts';
import { notifyCaseEvent } from './notify.ts';

const CLEANUP_ACTOR = { kind: 'operator', name: 'Gatehouse recovery clean-up' } as const satisfies AuditActor;

/**
 * RCV-3: after a completed case's grace period, delete the methods it still suspends ("Admin
 * deleted security info", under the case's correlation id). One transaction per case; the case is
 * claimed with FOR UPDATE SKIP LOCKED, so any number of processes may run this at once and each
 * method is deleted, and audited, once. `tenantId` limits it to one tenant.
 */
export async function cleanUpRecoveryCases(db: Db, now: Date, opts: { tenantId?: string; maxCases?: number } = {}): Promise<{ cases: string[]; deletedMethodIds: string[] }> {
  const cases: string[] = [];
  const deletedMethodIds: string[] = [];
  for (let i = 0; i < (opts.maxCases ?? 1000); i++) {
    const done = await db.transaction().execute(async (trx) => {
      const c = await claimCaseForCleanup(trx, now, opts.tenantId);
      if (!c || stepAllowed(c, 'cleanup', now)) return undefined;
      const user = await findUser(trx, c.tenantId, c.userId);
      const lifted = await liftSuspensions(trx, c.id);
      const deleted: string[] = [];
      for (const s of lifted) {
        if (!user) continue;
        // The lifted method deleted (one not there any more is skipped), with what its audit names.
        const details = s.methodType === 'softwareOath'
          ? (await deleteOathMethod(trx, c.tenantId, user.id, s.methodId) ? { 'Method': 'SoftwareOath', 'Method id': s.methodId } : undefined)
          : await deletePasskey(trx, c.tenantId, user.id, s.methodId).then((p) => (p ? { 'Method': 'Fido2', 'Method id': p.id, 'AAGUID': p.aaguid, 'Model': p.model } : undefined));
        if (!details) continue;
        deleted.push(s.methodId);
        await writeAudit(trx, c.tenantId, {
          activityDisplayName: 'Admin deleted security info', category: 'UserManagement', operationType: 'Delete', result: 'success',
          loggedByService: 'Authentication Methods', correlationId: c.correlationId, initiatedBy: CLEANUP_ACTOR,
          target: { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, type: 'User' },
          additionalDetails: { ...details, 'Recovery case id': c.id, 'Reason': 'RCV-3: grace period over' },
        }, now);
      }
      const cleaned = await updateCase(trx, c.id, { cleanedUpAt: now, deletedMethodIds: [...c.deletedMethodIds, ...deleted] }, now);
      if (user) {
        await writeAudit(trx, c.tenantId, {
          activityDisplayName: 'Cleaned up recovery case', category: 'UserManagement', operationType: 'Update', result: 'success',
          loggedByService: 'Gatehouse Recovery', correlationId: c.correlationId, initiatedBy: CLEANUP_ACTOR,
          target: { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, type: 'User' },
          additionalDetails: { 'Recovery case id': c.id, 'Deleted methods': deleted.join(',') || null, 'Grace period ended': c.gracePeriodEndsAt?.toISOString() },
        }, now);
        await notifyCaseEvent(trx, cleaned, 'cleanedUp', user, { kind: 'operator', name: CLEANUP_ACTOR.name }, now);
      }
      return { id: c.id, deleted };
    });
    if (!done) break;
    cases.push(done.id);
    deletedMethodIds.push(...done.deleted);
  }
  return { cases, deletedMethodIds };
}
