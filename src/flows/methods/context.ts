import type { Actor } from '../../domain/actors.ts';
import type { AuditActor } from '../../store/audit.ts';
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
