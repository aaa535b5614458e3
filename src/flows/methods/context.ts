import { authorizeMethodAccess, type Actor } from '../../domain/actors.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { writeAudit, type AuditActor, type AuditEntry } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { isAdmin } from '../../store/roles.ts';
import { getUser } from '../../store/users.ts';
import type { User } from '../../domain/resources.ts';
import { transitiveGroupIdsOf } from '../../store/groups.ts';

/** What every method-management step gets: the database, the tenant, who acts, and the clock. */
export type MethodsContext = {
  db: Db;
  tenantId: string;
  actor: Actor;
  now: Date;
  ipAddress?: string | null;
  correlationId?: string;
};

export function auditActor(actor: Actor, ipAddress?: string | null): AuditActor {
  if (actor.kind === 'app') return { kind: 'app', appId: actor.appId };
  if (actor.kind === 'user') return { kind: 'user', id: actor.id, userPrincipalName: actor.userPrincipalName, ipAddress: ipAddress ?? null };
  return { kind: 'operator', name: actor.name };
}

/** The target user with what authorization and policy scoping need. */
export async function loadTarget(db: Db, tenantId: string, idOrUpn: string): Promise<{ user: User; isAdmin: boolean; groupIds: string[] }> {
  const user = await getUser(db, tenantId, idOrUpn);
  const groupIds = await transitiveGroupIdsOf(db, tenantId, user.id);
  return { user, isAdmin: await isAdmin(db, tenantId, [user.id, ...groupIds]), groupIds };
}

/** LOG-2: the directoryAudit record of a change to one user's methods, in the change's transaction. */
export async function auditUserMethod(
  db: Db, ctx: MethodsContext, target: { user: User },
  e: { activity: string; operationType: 'Add' | 'Update' | 'Delete'; result?: 'success' | 'failure'; resultReason?: string; loggedByService?: string; details: AuditEntry['additionalDetails'] },
): Promise<void> {
  await writeAudit(db, ctx.tenantId, {
    activityDisplayName: e.activity, category: 'UserManagement', operationType: e.operationType, result: e.result ?? 'success',
    ...(e.resultReason ? { resultReason: e.resultReason } : {}),
    loggedByService: e.loggedByService ?? 'Authentication Methods', correlationId: ctx.correlationId, initiatedBy: auditActor(ctx.actor, ctx.ipAddress),
    target: { id: target.user.id, displayName: target.user.displayName, userPrincipalName: target.user.userPrincipalName, type: 'User' },
    additionalDetails: e.details,
  }, ctx.now);
}

export type Target = Awaited<ReturnType<typeof loadTarget>>;

/** TAP-9: may this caller read or change this user's methods? */
export function authorizeTarget(ctx: MethodsContext, target: Target, access: 'read' | 'write'): void {
  authorizeMethodAccess(ctx.actor, { id: target.user.id, isAdmin: target.isAdmin, userType: target.user.userType }, access);
}

/** The target user, once the caller is allowed `access` to their methods. */
export async function authorizedTarget(db: Db, ctx: MethodsContext, userRef: string, access: 'read' | 'write'): Promise<Target> {
  const target = await loadTarget(db, ctx.tenantId, userRef);
  authorizeTarget(ctx, target, access);
  return target;
}

/**
 * Delete one of a user's methods by id (an admin action): authorize, remove, audit "Admin deleted
 * security info", in one transaction. `remove` returns what it deleted, or undefined.
 */
export async function deleteUserMethod<T>(
  ctx: MethodsContext, userRef: string, id: string,
  spec: { resource: string; remove: (trx: Db, userId: string, id: string) => Promise<T | undefined>; details: (removed: T) => AuditEntry['additionalDetails'] },
): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const target = await authorizedTarget(trx, ctx, userRef, 'write');
    const removed = /^[0-9a-fA-F-]{36}$/.test(id) ? await spec.remove(trx, target.user.id, id.toLowerCase()) : undefined;
    if (removed === undefined) throw new NotFoundError(spec.resource, id);
    await auditUserMethod(trx, ctx, target, { activity: 'Admin deleted security info', operationType: 'Delete', details: spec.details(removed) });
  });
}
