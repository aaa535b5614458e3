import { NotFoundError, ConflictError, ValidationError } from '../domain/errors.ts';
import { ROLE_TEMPLATES, roleTemplate } from '../domain/directory.ts';
import type { RoleAssignmentCreate } from '../domain/graph.ts';
import type { CollectionQuery } from '../domain/odata.ts';
import type { Page, RoleAssignment } from '../domain/resources.ts';
import { isGuid } from '../domain/validation.ts';
import type { Db } from './database.ts';
import { decodeSkipToken, encodeSkipToken, filterSql, isUniqueViolation, type ColumnMap } from './query.ts';

export const ROLE_ASSIGNMENT_FILTER_COLUMNS: ColumnMap = {
  principalId: { column: 'principal_id', type: 'uuid' },
  roleDefinitionId: { column: 'role_definition_id', type: 'uuid' },
};

type Row = { id: string; role_definition_id: string; principal_id: string; directory_scope_id: string };
const toAssignment = (r: Row): RoleAssignment => ({
  id: r.id, roleDefinitionId: r.role_definition_id, principalId: r.principal_id, directoryScopeId: r.directory_scope_id,
});

export async function createRoleAssignment(db: Db, tenantId: string, input: RoleAssignmentCreate): Promise<RoleAssignment> {
  if (!roleTemplate(input.roleDefinitionId)) {
    throw new ValidationError('roleDefinitionId', 'knownRole', `Unknown roleDefinitionId '${input.roleDefinitionId}'; supported roles: ${ROLE_TEMPLATES.map((r) => `${r.displayName} (${r.id})`).join(', ')}.`);
  }
  const principal = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', input.principalId)
    .union(db.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', '=', input.principalId))
    .executeTakeFirst();
  if (!principal) throw new ValidationError('principalId', 'exists', `principalId '${input.principalId}' is not a user or group in this tenant.`);
  // Entra's assignment ids are opaque strings; ours are role and principal, unique per tenant.
  const id = `${input.roleDefinitionId}_${input.principalId}`;
  try {
    const row = await db.insertInto('role_assignments').values({
      id, tenant_id: tenantId, role_definition_id: input.roleDefinitionId, principal_id: input.principalId, directory_scope_id: input.directoryScopeId,
    }).returning(['id', 'role_definition_id', 'principal_id', 'directory_scope_id']).executeTakeFirstOrThrow();
    return toAssignment(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`The principal ${input.principalId} already holds role ${input.roleDefinitionId} at scope '/'.`);
    throw err;
  }
}

export async function getRoleAssignment(db: Db, tenantId: string, id: string): Promise<RoleAssignment> {
  const row = await db.selectFrom('role_assignments').select(['id', 'role_definition_id', 'principal_id', 'directory_scope_id'])
    .where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('roleAssignment', id);
  return toAssignment(row);
}

export async function listRoleAssignments(db: Db, tenantId: string, query: CollectionQuery): Promise<Page<RoleAssignment>> {
  let q = db.selectFrom('role_assignments').select(['id', 'role_definition_id', 'principal_id', 'directory_scope_id']).where('tenant_id', '=', tenantId);
  if (query.filter) {
    const f = filterSql(query.filter, ROLE_ASSIGNMENT_FILTER_COLUMNS);
    q = q.where(() => f);
  }
  if (query.skipToken) q = q.where('id', '>', decodeSkipToken(query.skipToken, false)[1]);
  const rows = await q.orderBy('id').limit(query.top + 1).execute();
  const items = rows.slice(0, query.top);
  const last = items.at(-1);
  return { items: items.map(toAssignment), nextSkipToken: rows.length > query.top && last ? encodeSkipToken('', last.id) : undefined };
}

export async function deleteRoleAssignment(db: Db, tenantId: string, id: string): Promise<RoleAssignment> {
  const a = await getRoleAssignment(db, tenantId, id);
  await db.deleteFrom('role_assignments').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  return a;
}

/** Role template ids held by a user directly or through (nested) groups. */
export async function rolesOf(db: Db, tenantId: string, principalIds: string[]): Promise<string[]> {
  const ids = principalIds.filter(isGuid);
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('role_assignments').select('role_definition_id').distinct()
    .where('tenant_id', '=', tenantId).where('principal_id', 'in', ids).execute();
  return rows.map((r) => r.role_definition_id);
}

/** DIR-4: a user holding any directory role (directly or through a group) is an admin. */
export async function isAdmin(db: Db, tenantId: string, principalIds: string[]): Promise<boolean> {
  return (await rolesOf(db, tenantId, principalIds)).length > 0;
}

/** The principals (users and groups) assigned one role template. */
export async function principalsWithRole(db: Db, tenantId: string, roleTemplateId: string): Promise<{ id: string; isGroup: boolean }[]> {
  const rows = await db.selectFrom('role_assignments').leftJoin('groups', (j) => j.onRef('groups.id', '=', 'role_assignments.principal_id').onRef('groups.tenant_id', '=', 'role_assignments.tenant_id'))
    .select(['role_assignments.principal_id as id', 'groups.id as groupId'])
    .where('role_assignments.tenant_id', '=', tenantId).where('role_assignments.role_definition_id', '=', roleTemplateId).execute();
  return rows.map((r) => ({ id: r.id, isGroup: r.groupId !== null }));
}
