import { sql, type Selectable } from 'kysely';
import { DEFAULT_RECOVERY_POLICY, type CaseActor, type RecoveryPolicy, type RecoveryState, type Verification } from '../domain/recovery.ts';
import type { Db } from './database.ts';
import type { RecoveryCaseTable } from './schema.ts';

/** RCV-1..RCV-3: recovery cases, the methods they suspend, and the tenant's recovery policy (migration 9). */
export type StoredCase = {
  id: string; tenantId: string; userId: string; state: RecoveryState; verification: Verification;
  openedBy: CaseActor; approvedBy: CaseActor | null; requestedMethodIds: string[] | null;
  suspendedMethodIds: string[]; restoredMethodIds: string[]; deletedMethodIds: string[];
  tapId: string | null; correlationId: string; gracePeriodEndsAt: Date | null; completedByMethodId: string | null;
  createdAt: Date; modifiedAt: Date; effectiveAt: Date | null; completedAt: Date | null; cancelledAt: Date | null; cleanedUpAt: Date | null;
};

const toCase = (r: Selectable<RecoveryCaseTable>): StoredCase => ({
  id: r.id, tenantId: r.tenant_id, userId: r.user_id, state: r.state, verification: { ...r.verification, note: r.verification.note ?? null } as Verification,
  openedBy: r.opened_by as CaseActor, approvedBy: r.approved_by as CaseActor | null, requestedMethodIds: r.requested_method_ids,
  suspendedMethodIds: r.suspended_method_ids, restoredMethodIds: r.restored_method_ids, deletedMethodIds: r.deleted_method_ids,
  tapId: r.tap_id, correlationId: r.correlation_id, gracePeriodEndsAt: r.grace_period_ends_at, completedByMethodId: r.completed_by_method_id,
  createdAt: r.created_at, modifiedAt: r.modified_at, effectiveAt: r.effective_at, completedAt: r.completed_at, cancelledAt: r.cancelled_at, cleanedUpAt: r.cleaned_up_at,
});

export async function insertCase(db: Db, c: Pick<StoredCase, 'id' | 'tenantId' | 'userId' | 'state' | 'verification' | 'openedBy' | 'requestedMethodIds' | 'correlationId' | 'createdAt'>): Promise<StoredCase> {
  const r = await db.insertInto('recovery_cases').values({
    id: c.id, tenant_id: c.tenantId, user_id: c.userId, state: c.state, verification: JSON.stringify(c.verification), opened_by: JSON.stringify(c.openedBy),
    requested_method_ids: c.requestedMethodIds ? JSON.stringify(c.requestedMethodIds) : null, correlation_id: c.correlationId, created_at: c.createdAt, modified_at: c.createdAt,
  }).returningAll().executeTakeFirstOrThrow();
  return toCase(r);
}

/** One case of the tenant; `forUpdate` row-locks it for a step. */
export async function caseById(db: Db, tenantId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<StoredCase | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  let q = db.selectFrom('recovery_cases').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase());
  if (opts.forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r ? toCase(r) : undefined;
}

export async function listCases(db: Db, tenantId: string, filter: { state?: RecoveryState; userId?: string }, limit = 200): Promise<StoredCase[]> {
  let q = db.selectFrom('recovery_cases').selectAll().where('tenant_id', '=', tenantId);
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  return (await q.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute()).map(toCase);
}

export type CaseUpdate = Partial<Pick<StoredCase, 'state' | 'approvedBy' | 'suspendedMethodIds' | 'restoredMethodIds' | 'deletedMethodIds' | 'tapId'
  | 'gracePeriodEndsAt' | 'completedByMethodId' | 'effectiveAt' | 'completedAt' | 'cancelledAt' | 'cleanedUpAt'>>;

export async function updateCase(db: Db, id: string, u: CaseUpdate, now: Date): Promise<StoredCase> {
  const json = (v: unknown) => JSON.stringify(v);
  const r = await db.updateTable('recovery_cases').set({
    modified_at: now,
    ...(u.state !== undefined ? { state: u.state } : {}),
    ...(u.approvedBy !== undefined ? { approved_by: u.approvedBy ? json(u.approvedBy) : null } : {}),
    ...(u.suspendedMethodIds !== undefined ? { suspended_method_ids: json(u.suspendedMethodIds) } : {}),
    ...(u.restoredMethodIds !== undefined ? { restored_method_ids: json(u.restoredMethodIds) } : {}),
    ...(u.deletedMethodIds !== undefined ? { deleted_method_ids: json(u.deletedMethodIds) } : {}),
    ...(u.tapId !== undefined ? { tap_id: u.tapId } : {}),
    ...(u.gracePeriodEndsAt !== undefined ? { grace_period_ends_at: u.gracePeriodEndsAt } : {}),
    ...(u.completedByMethodId !== undefined ? { completed_by_method_id: u.completedByMethodId } : {}),
    ...(u.effectiveAt !== undefined ? { effective_at: u.effectiveAt } : {}),
    ...(u.completedAt !== undefined ? { completed_at: u.completedAt } : {}),
    ...(u.cancelledAt !== undefined ? { cancelled_at: u.cancelledAt } : {}),
    ...(u.cleanedUpAt !== undefined ? { cleaned_up_at: u.cleanedUpAt } : {}),
  }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  return toCase(r);
}

/**
 * RCV-3: the user's active case whose TAP is one of `tapIds` (the passes this session signed in
 * with), row-locked so that only the first registration completes it.
 */
export async function activeCaseWithTap(db: Db, tenantId: string, userId: string, tapIds: readonly string[]): Promise<StoredCase | undefined> {
  if (tapIds.length === 0) return undefined;
  const r = await db.selectFrom('recovery_cases').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId)
    .where('state', '=', 'active').where('tap_id', 'in', [...tapIds]).forUpdate().executeTakeFirst();
  return r ? toCase(r) : undefined;
}

/**
 * RCV-3 with TAP-4: a pass issued while the user's case is active replaces the case's pass (a user
 * holds one), so it becomes the case's pass: registering a passkey with it completes the case.
 * Returns the case it now belongs to, if any.
 */
export async function movePassToActiveCase(db: Db, tenantId: string, userId: string, passId: string): Promise<{ id: string; correlationId: string; previousTapId: string | null } | undefined> {
  const r = await sql<{ id: string; correlation_id: string; previous: string | null }>`
    UPDATE recovery_cases c SET tap_id = ${passId}::uuid FROM (
      SELECT id, tap_id AS previous FROM recovery_cases WHERE tenant_id = ${tenantId}::uuid AND user_id = ${userId}::uuid AND state = 'active' FOR UPDATE) old
    WHERE c.id = old.id RETURNING c.id, c.correlation_id, old.previous`.execute(db);
  const row = r.rows[0];
  return row ? { id: row.id, correlationId: row.correlation_id, previousTapId: row.previous } : undefined;
}

/** The clean-up's claim: one completed case past its grace period, locked; a case another process holds is skipped. */
export async function claimCaseForCleanup(db: Db, now: Date, tenantId?: string): Promise<StoredCase | undefined> {
  let q = db.selectFrom('recovery_cases').selectAll().where('state', '=', 'completed').where('cleaned_up_at', 'is', null).where('grace_period_ends_at', '<=', now);
  if (tenantId) q = q.where('tenant_id', '=', tenantId);
  const r = await q.orderBy('grace_period_ends_at').limit(1).forUpdate().skipLocked().executeTakeFirst();
  return r ? toCase(r) : undefined;
}

export type Suspension = { methodId: string; methodType: 'fido2' | 'softwareOath'; caseId: string };

export async function insertSuspensions(db: Db, tenantId: string, userId: string, caseId: string, methods: readonly { id: string; type: 'fido2' | 'softwareOath' }[], now: Date): Promise<void> {
  if (methods.length === 0) return;
  await db.insertInto('method_suspensions').values(methods.map((m) => ({ method_id: m.id, tenant_id: tenantId, user_id: userId, method_type: m.type, case_id: caseId, suspended_at: now }))).execute();
}

/** The user's current suspensions (any case). */
export async function suspensionsOfUser(db: Db, userId: string): Promise<Suspension[]> {
  const rows = await db.selectFrom('method_suspensions').select(['method_id', 'method_type', 'case_id']).where('user_id', '=', userId).execute();
  return rows.map((r) => ({ methodId: r.method_id, methodType: r.method_type, caseId: r.case_id }));
}

/** Lifts a case's suspensions (all, or those of `methodIds`); returns the lifted ones. */
export async function liftSuspensions(db: Db, caseId: string, methodIds?: readonly string[]): Promise<Suspension[]> {
  let q = db.deleteFrom('method_suspensions').where('case_id', '=', caseId);
  if (methodIds) {
    if (methodIds.length === 0) return [];
    q = q.where('method_id', 'in', [...methodIds]);
  }
  const rows = await q.returning(['method_id', 'method_type', 'case_id']).execute();
  return rows.map((r) => ({ methodId: r.method_id, methodType: r.method_type, caseId: r.case_id }));
}

export async function getRecoveryPolicy(db: Db, tenantId: string): Promise<RecoveryPolicy> {
  const r = await db.selectFrom('recovery_policies').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!r) return { ...DEFAULT_RECOVERY_POLICY };
  return {
    requireApprovalForAdmins: r.require_approval_for_admins, requireApprovalForAll: r.require_approval_for_all,
    gracePeriodInDays: r.grace_period_in_days, webhookUrl: r.webhook_url, webhookSecret: r.webhook_secret,
  };
}

/** Upsert; the row is locked by the write, so concurrent PATCHes apply one after the other. */
export async function saveRecoveryPolicy(db: Db, tenantId: string, p: RecoveryPolicy, now: Date): Promise<void> {
  const values = {
    require_approval_for_admins: p.requireApprovalForAdmins, require_approval_for_all: p.requireApprovalForAll,
    grace_period_in_days: p.gracePeriodInDays, webhook_url: p.webhookUrl, webhook_secret: p.webhookSecret, modified_at: now,
  };
  await db.insertInto('recovery_policies').values({ tenant_id: tenantId, ...values })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values)).execute();
}

/** Serialises policy PATCHes of one tenant (read-modify-write) inside the caller's transaction. */
export async function lockRecoveryPolicy(db: Db, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`recovery-policy:${tenantId}`}))`.execute(db);
}
