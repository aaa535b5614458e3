import { randomUUID } from 'node:crypto';
import { sql, type Selectable, type Updateable } from 'kysely';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { GroupCreate, GroupUpdate } from '../domain/graph.ts';
import type { CollectionQuery } from '../domain/odata.ts';
import type { DirectoryObjectRef, Group, Page } from '../domain/resources.ts';
import { isGuid } from '../domain/validation.ts';
import type { Db } from './database.ts';
import { isUniqueViolation, pageByDisplayName, type ColumnMap } from './query.ts';
import type { GroupTable } from './schema.ts';

export const GROUP_FILTER_COLUMNS: ColumnMap = {
  id: { column: 'id', type: 'uuid' },
  displayName: { column: 'display_name', type: 'ci-text' },
  mailNickname: { column: 'mail_nickname', type: 'ci-text' },
};

export function toGroup(r: Selectable<GroupTable>): Group {
  return {
    id: r.id,
    displayName: r.display_name,
    description: r.description,
    mailNickname: r.mail_nickname,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    createdDateTime: r.created_at.toISOString(),
  };
}

export async function createGroup(db: Db, tenantId: string, input: GroupCreate): Promise<Group> {
  const row = await db.insertInto('groups').values({
    id: randomUUID(),
    tenant_id: tenantId,
    display_name: input.displayName,
    description: input.description ?? null,
    mail_nickname: input.mailNickname ?? (input.displayName.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || 'group'),
  }).returningAll().executeTakeFirstOrThrow();
  return toGroup(row);
}

export async function getGroup(db: Db, tenantId: string, id: string): Promise<Group> {
  if (!isGuid(id)) throw new NotFoundError('group', id);
  const row = await db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
  if (!row) throw new NotFoundError('group', id);
  return toGroup(row);
}

export async function listGroups(db: Db, tenantId: string, query: CollectionQuery): Promise<Page<Group>> {
  const page = await pageByDisplayName(db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId), query, GROUP_FILTER_COLUMNS);
  return { items: page.rows.map(toGroup), nextSkipToken: page.nextSkipToken };
}

export async function updateGroup(db: Db, tenantId: string, id: string, patch: GroupUpdate): Promise<Group> {
  const current = await getGroup(db, tenantId, id);
  const values: Updateable<GroupTable> = {};
  if (patch.displayName !== undefined) values.display_name = patch.displayName;
  if (patch.description !== undefined) values.description = patch.description;
  if (patch.mailNickname !== undefined) values.mail_nickname = patch.mailNickname;
  if (Object.keys(values).length === 0) return current;
  const row = await db.updateTable('groups').set(values).where('id', '=', current.id).returningAll().executeTakeFirstOrThrow();
  return toGroup(row);
}

export async function deleteGroup(db: Db, tenantId: string, id: string): Promise<Group> {
  const g = await getGroup(db, tenantId, id);
  await db.deleteFrom('group_members').where('tenant_id', '=', tenantId).where('member_id', '=', g.id).execute();
  await db.deleteFrom('role_assignments').where('tenant_id', '=', tenantId).where('principal_id', '=', g.id).execute();
  await db.deleteFrom('groups').where('id', '=', g.id).execute();
  return g;
}

/** Serialises membership changes per tenant so two concurrent additions can't form a cycle. */
async function lockMemberships(db: Db, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${'gatehouse:groups:' + tenantId}))`.execute(db);
}

/** DIR-3: add a user or group; a group may not (transitively) contain itself. Call inside a transaction. */
export async function addMember(db: Db, tenantId: string, groupId: string, memberId: string): Promise<void> {
  const group = await getGroup(db, tenantId, groupId);
  await lockMemberships(db, tenantId);
  const user = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', memberId).executeTakeFirst();
  const memberGroup = user ? undefined : await db.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', '=', memberId).executeTakeFirst();
  if (!user && !memberGroup) throw new NotFoundError('directoryObject', memberId);
  if (memberGroup) {
    if (memberGroup.id === group.id) {
      throw new ValidationError('@odata.id', 'noCycles', 'A group cannot be a member of itself (DIR-3).');
    }
    // Would the new edge close a loop? It does when `group` already sits inside `memberGroup`.
    const inside = await transitiveMemberGroupIds(db, tenantId, memberGroup.id);
    if (inside.includes(group.id)) {
      throw new ValidationError('@odata.id', 'noCycles', `Adding group ${memberGroup.id} to ${group.id} would create a membership cycle (DIR-3): ${group.id} is already a member of ${memberGroup.id}.`);
    }
  }
  try {
    await db.insertInto('group_members').values({ tenant_id: tenantId, group_id: group.id, member_id: memberId, member_type: user ? 'user' : 'group' }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError('One or more added object references already exist for the following modified properties: \'members\'.');
    throw err;
  }
}

export async function removeMember(db: Db, tenantId: string, groupId: string, memberId: string): Promise<void> {
  const group = await getGroup(db, tenantId, groupId);
  if (!isGuid(memberId)) throw new NotFoundError('member', memberId);
  const res = await db.deleteFrom('group_members').where('group_id', '=', group.id).where('member_id', '=', memberId.toLowerCase()).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw new NotFoundError('member', memberId);
}

/** Groups nested (at any depth) inside `groupId`. */
async function transitiveMemberGroupIds(db: Db, tenantId: string, groupId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    WITH RECURSIVE inner_groups(id) AS (
      SELECT member_id FROM group_members WHERE tenant_id = ${tenantId} AND group_id = ${groupId} AND member_type = 'group'
      UNION
      SELECT gm.member_id FROM group_members gm JOIN inner_groups ig ON gm.group_id = ig.id WHERE gm.member_type = 'group'
    ) SELECT id FROM inner_groups`.execute(db);
  return rows.rows.map((r) => r.id);
}

/** Every group the principal belongs to, directly or through nesting (used by policy targeting). */
export async function transitiveGroupIdsOf(db: Db, tenantId: string, principalId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    WITH RECURSIVE outer_groups(id) AS (
      SELECT group_id FROM group_members WHERE tenant_id = ${tenantId} AND member_id = ${principalId}
      UNION
      SELECT gm.group_id FROM group_members gm JOIN outer_groups og ON gm.member_id = og.id
    ) SELECT id FROM outer_groups`.execute(db);
  return rows.rows.map((r) => r.id);
}

export async function listMembers(db: Db, tenantId: string, groupId: string, transitive: boolean): Promise<DirectoryObjectRef[]> {
  const group = await getGroup(db, tenantId, groupId);
  const ids = transitive
    ? (await sql<{ member_id: string }>`
        WITH RECURSIVE m(member_id, member_type) AS (
          SELECT member_id, member_type FROM group_members WHERE tenant_id = ${tenantId} AND group_id = ${group.id}
          UNION
          SELECT gm.member_id, gm.member_type FROM group_members gm JOIN m ON gm.group_id = m.member_id WHERE m.member_type = 'group'
        ) SELECT DISTINCT member_id FROM m`.execute(db)).rows.map((r) => r.member_id)
    : (await db.selectFrom('group_members').select('member_id').where('group_id', '=', group.id).execute()).map((r) => r.member_id);
  return refsFor(db, tenantId, ids);
}

export async function listMemberOf(db: Db, tenantId: string, principalId: string, transitive: boolean): Promise<DirectoryObjectRef[]> {
  const ids = transitive
    ? await transitiveGroupIdsOf(db, tenantId, principalId)
    : (await db.selectFrom('group_members').select('group_id').where('tenant_id', '=', tenantId).where('member_id', '=', principalId).execute()).map((r) => r.group_id);
  return refsFor(db, tenantId, ids);
}

async function refsFor(db: Db, tenantId: string, ids: string[]): Promise<DirectoryObjectRef[]> {
  if (ids.length === 0) return [];
  const users = await db.selectFrom('users').select(['id', 'display_name', 'user_principal_name']).where('tenant_id', '=', tenantId).where('id', 'in', ids).orderBy('display_name').execute();
  const groups = await db.selectFrom('groups').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('id', 'in', ids).orderBy('display_name').execute();
  return [
    ...users.map((u): DirectoryObjectRef => ({ '@odata.type': '#microsoft.graph.user', id: u.id, displayName: u.display_name, userPrincipalName: u.user_principal_name })),
    ...groups.map((g): DirectoryObjectRef => ({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.display_name })),
  ];
}
