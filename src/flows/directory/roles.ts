import type { Actor } from '../../domain/actors.ts';
import { roleTemplate } from '../../domain/directory.ts';
import type { RoleAssignmentCreate } from '../../domain/graph.ts';
import type { RoleAssignment } from '../../domain/resources.ts';
import { writeAudit } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { createRoleAssignment, deleteRoleAssignment } from '../../store/roles.ts';
import { auditActor } from '../methods/context.ts';

/** LOG-2: role changes are audited with Entra's activity names, in the same transaction. */
async function audit(db: Db, tenantId: string, actor: Actor, a: RoleAssignment, activity: 'Add member to role' | 'Remove member from role', now: Date) {
  const role = roleTemplate(a.roleDefinitionId);
  await writeAudit(db, tenantId, {
    activityDisplayName: activity, category: 'RoleManagement', operationType: activity.startsWith('Add') ? 'Add' : 'Delete', result: 'success',
    loggedByService: 'Core Directory', initiatedBy: auditActor(actor),
    target: { id: a.principalId, type: 'User' },
    modifiedProperties: [{ displayName: 'Role.DisplayName', oldValue: activity.startsWith('Add') ? null : role?.displayName, newValue: activity.startsWith('Add') ? role?.displayName : null }],
    additionalDetails: { 'Role template id': a.roleDefinitionId, 'Assignment id': a.id },
  }, now);
}

export async function assignRole(db: Db, tenantId: string, actor: Actor, input: RoleAssignmentCreate, now: Date): Promise<RoleAssignment> {
  return db.transaction().execute((trx) => assignRoleWithin(trx, tenantId, actor, input, now));
}

/** Inside the caller's transaction (also used by `gatehouse init`). */
export async function assignRoleWithin(trx: Db, tenantId: string, actor: Actor, input: RoleAssignmentCreate, now: Date): Promise<RoleAssignment> {
  const a = await createRoleAssignment(trx, tenantId, input);
  await audit(trx, tenantId, actor, a, 'Add member to role', now);
  return a;
}

export async function removeRole(db: Db, tenantId: string, actor: Actor, id: string, now: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const a = await deleteRoleAssignment(trx, tenantId, id);
    await audit(trx, tenantId, actor, a, 'Remove member from role', now);
  });
}
