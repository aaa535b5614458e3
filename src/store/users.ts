import { randomUUID } from 'node:crypto';
import type { Selectable, Updateable } from 'kysely';
import { ConflictError, NotFoundError } from '../domain/errors.ts';
import type { UserCreate, UserUpdate } from '../domain/graph.ts';
import type { CollectionQuery } from '../domain/odata.ts';
import type { Page, User } from '../domain/resources.ts';
import { isCleanText, isGuid } from '../domain/validation.ts';
import type { Db } from './database.ts';
import { isUniqueViolation, pageByDisplayName, type ColumnMap } from './query.ts';
import type { UserTable } from './schema.ts';

export const USER_FILTER_COLUMNS: ColumnMap = {
  id: { column: 'id', type: 'uuid' },
  userPrincipalName: { column: 'user_principal_name', type: 'ci-text' },
  displayName: { column: 'display_name', type: 'ci-text' },
  accountEnabled: { column: 'account_enabled', type: 'bool' },
  userType: { column: 'user_type', type: 'text' },
  mail: { column: 'mail', type: 'ci-text' },
};

export function toUser(r: Selectable<UserTable>): User {
  return {
    id: r.id,
    userPrincipalName: r.user_principal_name,
    displayName: r.display_name,
    accountEnabled: r.account_enabled,
    userType: r.user_type === 'Guest' ? 'Guest' : 'Member',
    mail: r.mail,
    mailNickname: r.mail_nickname,
    signInSessionsValidFromDateTime: r.sign_in_sessions_valid_from.toISOString(),
    createdDateTime: r.created_at.toISOString(),
  };
}

const upnTaken = (upn: string) =>
  new ConflictError(`Another object with the same value for property userPrincipalName already exists: '${upn}'.`);

export async function createUser(db: Db, tenantId: string, input: UserCreate): Promise<User> {
  try {
    const row = await db.insertInto('users').values({
      id: randomUUID(),
      tenant_id: tenantId,
      user_principal_name: input.userPrincipalName,
      display_name: input.displayName,
      account_enabled: input.accountEnabled,
      user_type: input.userType,
      mail: input.mail ?? null,
      mail_nickname: input.mailNickname ?? input.userPrincipalName.split('@')[0]!,
      sign_in_sessions_valid_from: new Date(),
    }).returningAll().executeTakeFirstOrThrow();
    return toUser(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw upnTaken(input.userPrincipalName);
    throw err;
  }
}

/** Find by object id or by userPrincipalName, as Graph's /users/{id | userPrincipalName} does. */
export async function findUser(db: Db, tenantId: string, idOrUpn: string): Promise<User | undefined> {
  if (!isCleanText(idOrUpn) || idOrUpn.length > 256) return undefined;
  const q = db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
  const row = isGuid(idOrUpn)
    ? await q.where('id', '=', idOrUpn.toLowerCase()).executeTakeFirst()
    : await q.where('user_principal_name', '=', idOrUpn.toLowerCase()).executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function getUser(db: Db, tenantId: string, idOrUpn: string): Promise<User> {
  const u = await findUser(db, tenantId, idOrUpn);
  if (!u) throw new NotFoundError('user', idOrUpn);
  return u;
}

export async function listUsers(db: Db, tenantId: string, query: CollectionQuery): Promise<Page<User>> {
  const page = await pageByDisplayName(db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId), query, USER_FILTER_COLUMNS);
  return { items: page.rows.map(toUser), nextSkipToken: page.nextSkipToken };
}

export async function updateUser(db: Db, tenantId: string, idOrUpn: string, patch: UserUpdate): Promise<User> {
  const current = await getUser(db, tenantId, idOrUpn);
  const values: Updateable<UserTable> = {};
  if (patch.accountEnabled !== undefined) values.account_enabled = patch.accountEnabled;
  if (patch.displayName !== undefined) values.display_name = patch.displayName;
  if (patch.userPrincipalName !== undefined) values.user_principal_name = patch.userPrincipalName;
  if (patch.mailNickname !== undefined) values.mail_nickname = patch.mailNickname;
  if (patch.mail !== undefined) values.mail = patch.mail;
  if (patch.userType !== undefined) values.user_type = patch.userType;
  if (Object.keys(values).length === 0) return current;
  try {
    const row = await db.updateTable('users').set(values).where('id', '=', current.id).returningAll().executeTakeFirstOrThrow();
    return toUser(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw upnTaken(patch.userPrincipalName ?? '');
    throw err;
  }
}

/** Deletes the user with their memberships, role assignments and OIDC artefacts. */
export async function deleteUser(db: Db, tenantId: string, idOrUpn: string): Promise<User> {
  const user = await getUser(db, tenantId, idOrUpn);
  await db.deleteFrom('group_members').where('tenant_id', '=', tenantId).where('member_id', '=', user.id).execute();
  await db.deleteFrom('role_assignments').where('tenant_id', '=', tenantId).where('principal_id', '=', user.id).execute();
  await db.deleteFrom('oidc_artefacts').where('tenant_id', '=', tenantId).where('account_id', '=', user.id).execute();
  await db.deleteFrom('users').where('id', '=', user.id).execute();
  return user;
}

/** PLT-6: sessions and refresh tokens issued before `now` stop working. */
export async function revokeSignInSessions(db: Db, tenantId: string, idOrUpn: string, now: Date): Promise<User> {
  const user = await getUser(db, tenantId, idOrUpn);
  await db.updateTable('users').set({ sign_in_sessions_valid_from: now }).where('id', '=', user.id).execute();
  await db.deleteFrom('oidc_artefacts').where('tenant_id', '=', tenantId).where('account_id', '=', user.id)
    .where('model', 'in', ['Session', 'RefreshToken', 'AccessToken', 'Grant', 'AuthorizationCode']).execute();
  return { ...user, signInSessionsValidFromDateTime: now.toISOString() };
}
