import { randomBytes, randomUUID } from 'node:crypto';
import { authorizeMethodAccess, type Actor } from '../../domain/actors.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import {
  approveCaseBody, approverRefusal, cancelCaseBody, caseActorOf, listCasesQuery, openCaseBody, requiresApproval, restoreMethodsBody,
  stepAllowed, type CaseActor, type RecoveryStep,
} from '../../domain/recovery.ts';
import { parseInput } from '../../domain/validation.ts';
import type { User } from '../../domain/resources.ts';
import { writeAudit } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { revokeSignInSessionsKeepingRefreshTraces } from '../../store/oidcTokenLookup.ts';
import { passkeysOf } from '../../store/passkeys.ts';
import { oathMethodsOf } from '../../store/passwordsAndOath.ts';
import { isUniqueViolation } from '../../store/query.ts';
import {
  caseById, getRecoveryPolicy, insertCase, insertSuspensions, liftSuspensions, listCases, suspensionsOfUser, updateCase, type StoredCase,
} from '../../store/recoveryCases.ts';
import { deletePass } from '../../store/temporaryAccessPasses.ts';
import { findUser } from '../../store/users.ts';
import type { GraphTemporaryAccessPassMethod } from '../../methods/tap/index.ts';
import { auditActor, authorizeTarget, loadTarget, type MethodsContext, type Target } from '../methods/context.ts';
import { issueWithin, tapHashKey } from '../methods/temporaryAccessPass.ts';
import { notifyCaseEvent } from './notify.ts';

/**
 * Recovery cases (RCV-1..RCV-3, docs/recovery.md): open, approve, cancel, restore, read. Every
 * step is one transaction and writes its audit records under the case's one correlation id
 * (LOG-2); webhook notifications go to the outbox in the same transaction.
 */
export type RecoveryContext = Omit<MethodsContext, 'correlationId'>;

type Random = (n: number) => Uint8Array;

/** The case as the API returns it. */
export function publicCase(c: StoredCase, user?: Pick<User, 'userPrincipalName' | 'displayName'>) {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: c.id, userId: c.userId, userPrincipalName: user?.userPrincipalName ?? null, userDisplayName: user?.displayName ?? null, state: c.state,
    verification: c.verification, openedBy: c.openedBy, approvedBy: c.approvedBy,
    requestedMethodIds: c.requestedMethodIds, suspendedMethodIds: c.suspendedMethodIds, restoredMethodIds: c.restoredMethodIds, deletedMethodIds: c.deletedMethodIds,
    temporaryAccessPassId: c.tapId, completedByMethodId: c.completedByMethodId, correlationId: c.correlationId,
    createdDateTime: iso(c.createdAt), effectiveDateTime: iso(c.effectiveAt), completedDateTime: iso(c.completedAt),
    cancelledDateTime: iso(c.cancelledAt), gracePeriodEndDateTime: iso(c.gracePeriodEndsAt), cleanedUpDateTime: iso(c.cleanedUpAt),
  };
}
export type PublicCase = ReturnType<typeof publicCase>;

/** What a step that made the case take effect returns: the case and, this once, its TAP (RCV-2). */
export type CaseResult = { case: PublicCase; temporaryAccessPass?: GraphTemporaryAccessPassMethod };

const userTarget = (u: User) => ({ id: u.id, displayName: u.displayName, userPrincipalName: u.userPrincipalName, type: 'User' as const });

async function caseAudit(
  trx: Db, ctx: RecoveryContext, c: StoredCase, user: User, activity: string,
  e: { operationType?: 'Add' | 'Update' | 'Delete'; result?: 'success' | 'failure'; resultReason?: string; details?: Record<string, string | number | boolean | null | undefined>; modified?: { displayName: string; oldValue: unknown; newValue: unknown }[] } = {},
): Promise<void> {
  await writeAudit(trx, ctx.tenantId, {
    activityDisplayName: activity, category: 'UserManagement', operationType: e.operationType ?? 'Update', result: e.result ?? 'success',
    ...(e.resultReason ? { resultReason: e.resultReason } : {}),
    loggedByService: 'Gatehouse Recovery', correlationId: c.correlationId, initiatedBy: auditActor(ctx.actor, ctx.ipAddress),
    target: userTarget(user), ...(e.modified ? { modifiedProperties: e.modified } : {}),
    additionalDetails: { 'Recovery case id': c.id, ...(e.details ?? {}) },
  }, ctx.now);
}

/** RCV-1: the caller may manage this user's passes (TAP-9), and is not the user (TAP-9: nobody for themselves). */
function authorizeCaseWrite(actor: Actor, target: Target): void {
  if (actor.kind === 'user' && actor.id === target.user.id) throw new ForbiddenError('RCV-1: nobody can open or act on a recovery case for themselves; ask another administrator.');
  authorizeMethodAccess(actor, { id: target.user.id, isAdmin: target.isAdmin, userType: target.user.userType }, 'write');
}

/** The methods a case may suspend: the user's MFA-capable methods not already suspended (RCV-2). */
async function suspendable(trx: Db, tenantId: string, userId: string, requested: readonly string[] | null): Promise<{ id: string; type: 'fido2' | 'softwareOath' }[]> {
  const held = [
    ...(await passkeysOf(trx, tenantId, userId)).map((p) => ({ id: p.id, type: 'fido2' as const })),
    ...(await oathMethodsOf(trx, userId)).map((o) => ({ id: o.id, type: 'softwareOath' as const })),
  ];
  const suspended = new Set((await suspensionsOfUser(trx, userId)).map((s) => s.methodId));
  if (!requested) return held.filter((m) => !suspended.has(m.id));
  const byId = new Map(held.map((m) => [m.id, m]));
  for (const id of requested) {
    if (!byId.has(id)) throw new ValidationError('methodIds', 'RCV-2', `RCV-2: method '${id}' is not one of this user's passkeys or authenticator apps.`);
    if (suspended.has(id)) throw new ValidationError('methodIds', 'RCV-2', `RCV-2: method '${id}' is already suspended by another recovery case.`);
  }
  return [...new Set(requested)].map((id) => byId.get(id)!);
}

/**
 * RCV-2, in the caller's transaction: suspend the chosen methods, revoke the user's sessions and
 * refresh tokens, issue a one-time TAP (returned once, to the caller whose step this is).
 */
async function takeEffect(trx: Db, ctx: RecoveryContext, c: StoredCase, target: Target, key: Uint8Array, random: Random, lifetimeInMinutes: number | undefined): Promise<CaseResult> {
  const user = target.user;
  const methods = await suspendable(trx, ctx.tenantId, user.id, c.requestedMethodIds);
  await insertSuspensions(trx, ctx.tenantId, user.id, c.id, methods, ctx.now);
  for (const m of methods) {
    await caseAudit(trx, ctx, c, user, 'Suspended security info', { details: { 'Method': m.type === 'fido2' ? 'Fido2' : 'SoftwareOath', 'Method id': m.id } });
  }
  await revokeSignInSessionsKeepingRefreshTraces(trx, ctx.tenantId, user.id, ctx.now);
  await caseAudit(trx, ctx, c, user, 'Invalidate all refresh tokens for user', { details: { 'Reason': 'RCV-2: recovery case took effect' } });
  const pass = await issueWithin({ ...ctx, db: trx, correlationId: c.correlationId }, target, { isUsableOnce: true, lifetimeInMinutes: lifetimeInMinutes ?? null }, key, random);
  const active = await updateCase(trx, c.id, { state: 'active', suspendedMethodIds: methods.map((m) => m.id), tapId: pass.id, effectiveAt: ctx.now }, ctx.now);
  return { case: publicCase(active, user), temporaryAccessPass: pass };
}

/**
 * RCV-1: open a case. With approval required (policy; by default when the target is an admin)
 * it waits in `pendingApproval` with nothing suspended; otherwise it takes effect at once (RCV-2).
 */
export async function openCase(ctx: RecoveryContext, rawBody: unknown, random: Random = randomBytes): Promise<CaseResult> {
  const input = parseInput(openCaseBody, rawBody);
  const key = await tapHashKey(ctx.db);
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const target = await loadTarget(trx, ctx.tenantId, input.userId);
      authorizeCaseWrite(ctx.actor, target);
      if (target.user.userType === 'Guest') throw new ValidationError('userId', 'TAP-9', 'TAP-9: external guests cannot be issued a Temporary Access Pass, so they cannot have a recovery case.');
      // Checked now for a clear 400; checked again when the case takes effect.
      await suspendable(trx, ctx.tenantId, target.user.id, input.methodIds ?? null);
      const policy = await getRecoveryPolicy(trx, ctx.tenantId);
      const approval = requiresApproval(policy, target.isAdmin);
      const c = await insertCase(trx, {
        id: randomUUID(), tenantId: ctx.tenantId, userId: target.user.id, state: approval ? 'pendingApproval' : 'active',
        verification: { method: input.verification.method, reference: input.verification.reference, note: input.verification.note ?? null },
        openedBy: caseActorOf(ctx.actor), requestedMethodIds: input.methodIds ?? null, correlationId: randomUUID(), createdAt: ctx.now,
      });
      await caseAudit(trx, ctx, c, target.user, 'Opened recovery case', {
        operationType: 'Add',
        details: {
          'Verification method': c.verification.method, 'Verification reference': c.verification.reference,
          'Approval required': approval, 'Target is admin': target.isAdmin, 'Requested methods': c.requestedMethodIds?.join(',') ?? 'all',
        },
      });
      const result = approval ? { case: publicCase(c, target.user) } : await takeEffect(trx, ctx, c, target, key, random, input.temporaryAccessPassLifetimeInMinutes);
      const stored = (await caseById(trx, ctx.tenantId, c.id))!;
      await notifyCaseEvent(trx, stored, 'opened', target.user, caseActorOf(ctx.actor), ctx.now);
      return result;
    });
  } catch (err) {
    if (isUniqueViolation(err, 'recovery_cases_one_open')) throw new ConflictError('RCV-1: this user already has an open recovery case (pendingApproval or active); cancel it or let it complete first.');
    throw err;
  }
}

/** A step on one case: the case locked, the target loaded, the state checked. */
async function onCase<T>(ctx: RecoveryContext, caseId: string, step: RecoveryStep, work: (trx: Db, c: StoredCase, target: Target) => Promise<T>): Promise<T> {
  return ctx.db.transaction().execute(async (trx) => {
    const c = await caseById(trx, ctx.tenantId, caseId, { forUpdate: true });
    if (!c) throw new NotFoundError('recoveryCase', caseId);
    const target = await loadTarget(trx, ctx.tenantId, c.userId);
    authorizeCaseWrite(ctx.actor, target);
    const refused = stepAllowed(c, step, ctx.now);
    if (refused) throw new ConflictError(refused.message, { gatehouseRule: refused.rule, state: c.state });
    return work(trx, c, target);
  });
}

/** RCV-1: a second admin (not the opener, not the target, allowed by TAP-9) approves; the case takes effect (RCV-2). */
export async function approveCase(ctx: RecoveryContext, caseId: string, rawBody: unknown, random: Random = randomBytes): Promise<CaseResult> {
  const input = parseInput(approveCaseBody, rawBody ?? {});
  const key = await tapHashKey(ctx.db);
  return onCase(ctx, caseId, 'approve', async (trx, c, target) => {
    const approver: CaseActor = caseActorOf(ctx.actor);
    const refusal = approverRefusal(approver, c.openedBy, c.userId);
    if (refusal) throw new ForbiddenError(refusal.message);
    const approved = await updateCase(trx, c.id, { approvedBy: approver }, ctx.now);
    await caseAudit(trx, ctx, approved, target.user, 'Approved recovery case', { details: { 'Note': input.note ?? null } });
    const result = await takeEffect(trx, ctx, approved, target, key, random, undefined);
    await notifyCaseEvent(trx, (await caseById(trx, ctx.tenantId, c.id))!, 'approved', target.user, approver, ctx.now);
    return result;
  });
}

/** RCV-3: cancel an open case: its suspended methods are restored and its TAP deleted. */
export async function cancelCase(ctx: RecoveryContext, caseId: string, rawBody: unknown): Promise<CaseResult> {
  const input = parseInput(cancelCaseBody, rawBody ?? {});
  return onCase(ctx, caseId, 'cancel', async (trx, c, target) => {
    const user = target.user;
    const lifted = await liftSuspensions(trx, c.id);
    for (const s of lifted) await caseAudit(trx, ctx, c, user, 'Restored security info', { details: { 'Method': 'Fido2', 'Method id': s.methodId } });
    if (c.tapId) {
      const removed = await deletePass(trx, ctx.tenantId, user.id, c.tapId);
      if (removed) await caseAudit(trx, ctx, c, user, 'Admin deleted security info', { operationType: 'Delete', details: { 'Method': 'TemporaryAccessPass', 'Method id': removed.id } });
    }
    const cancelled = await updateCase(trx, c.id, { state: 'cancelled', cancelledAt: ctx.now, restoredMethodIds: [...c.restoredMethodIds, ...lifted.map((s) => s.methodId)] }, ctx.now);
    await caseAudit(trx, ctx, cancelled, user, 'Cancelled recovery case', {
      modified: [{ displayName: 'state', oldValue: c.state, newValue: 'cancelled' }], details: { 'Reason': input.reason ?? null, 'Restored methods': lifted.map((s) => s.methodId).join(',') || null },
    });
    await notifyCaseEvent(trx, cancelled, 'cancelled', user, caseActorOf(ctx.actor), ctx.now);
    return { case: publicCase(cancelled, user) };
  });
}

/** RCV-3: restore some suspended methods, while the case is active or during its grace period. */
export async function restoreMethods(ctx: RecoveryContext, caseId: string, rawBody: unknown): Promise<CaseResult> {
  const input = parseInput(restoreMethodsBody, rawBody);
  return onCase(ctx, caseId, 'restore', async (trx, c, target) => {
    const user = target.user;
    const unknown = input.methodIds.find((id) => !c.suspendedMethodIds.includes(id) || c.restoredMethodIds.includes(id));
    if (unknown) throw new ValidationError('methodIds', 'RCV-3', `RCV-3: method '${unknown}' is not suspended by this case.`);
    const lifted = await liftSuspensions(trx, c.id, input.methodIds);
    for (const s of lifted) await caseAudit(trx, ctx, c, user, 'Restored security info', { details: { 'Method': 'Fido2', 'Method id': s.methodId } });
    const restored = await updateCase(trx, c.id, { restoredMethodIds: [...c.restoredMethodIds, ...lifted.map((s) => s.methodId)] }, ctx.now);
    await notifyCaseEvent(trx, restored, 'restored', user, caseActorOf(ctx.actor), ctx.now, { methodIds: lifted.map((s) => s.methodId) });
    return { case: publicCase(restored, user) };
  });
}

/** One case; readers allowed by TAP-9 to see the user's methods may read it. */
export async function getCase(ctx: RecoveryContext, caseId: string): Promise<PublicCase> {
  const c = await caseById(ctx.db, ctx.tenantId, caseId);
  if (!c) throw new NotFoundError('recoveryCase', caseId);
  const target = await loadTarget(ctx.db, ctx.tenantId, c.userId);
  authorizeTarget({ ...ctx }, target, 'read');
  return publicCase(c, target.user);
}

/** Cases of the tenant, newest first, by state and/or user. Needs TAP-9 read access to members' methods. */
export async function listRecoveryCases(ctx: RecoveryContext, rawQuery: unknown): Promise<PublicCase[]> {
  const q = parseInput(listCasesQuery, rawQuery ?? {}, 'query');
  authorizeMethodAccess(ctx.actor, { id: '', isAdmin: false, userType: 'Member' }, 'read');
  const cases = await listCases(ctx.db, ctx.tenantId, q);
  const out: PublicCase[] = [];
  for (const c of cases) out.push(publicCase(c, await findUser(ctx.db, ctx.tenantId, c.userId)));
  return out;
}
