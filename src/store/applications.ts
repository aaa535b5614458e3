import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql, type Selectable, type Updateable } from 'kysely';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { ApplicationCreate, ApplicationUpdate } from '../domain/graph.ts';
import type { CollectionQuery } from '../domain/odata.ts';
import type { Application, Page, PasswordCredential } from '../domain/resources.ts';
import { isGuid } from '../domain/validation.ts';
import type { Db } from './database.ts';
import { isUniqueViolation, pageByDisplayName, type ColumnMap } from './query.ts';
import type { ApplicationSecretTable, ApplicationTable } from './schema.ts';

export const APPLICATION_FILTER_COLUMNS: ColumnMap = {
  id: { column: 'id', type: 'uuid' },
  appId: { column: 'app_id', type: 'uuid' },
  displayName: { column: 'display_name', type: 'ci-text' },
};

/** Client secrets are 256-bit random strings; a plain SHA-256 suffices for such entropy. */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

function toCredential(r: Selectable<ApplicationSecretTable>): PasswordCredential {
  return {
    keyId: r.key_id, displayName: r.display_name, hint: r.hint,
    startDateTime: r.start_date_time.toISOString(), endDateTime: r.end_date_time.toISOString(), secretText: null,
  };
}

async function hydrate(db: Db, rows: Selectable<ApplicationTable>[]): Promise<Application[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const secrets = await db.selectFrom('application_secrets').selectAll().where('application_id', 'in', ids).orderBy('start_date_time').execute();
  const perms = await db.selectFrom('application_permissions').selectAll().where('application_id', 'in', ids).orderBy('permission').execute();
  return rows.map((r) => ({
    id: r.id,
    appId: r.app_id,
    displayName: r.display_name,
    signInAudience: 'AzureADMyOrg',
    web: { redirectUris: r.web_redirect_uris },
    spa: { redirectUris: r.spa_redirect_uris },
    publicClient: { redirectUris: r.public_client_redirect_uris },
    passwordCredentials: secrets.filter((s) => s.application_id === r.id).map(toCredential),
    gatehouseKind: r.kind as Application['gatehouseKind'],
    gatehouseGraphPermissions: perms.filter((p) => p.application_id === r.id).map((p) => p.permission),
    createdDateTime: r.created_at.toISOString(),
  }));
}

export async function createApplication(
  db: Db, tenantId: string, input: ApplicationCreate, kind: Application['gatehouseKind'] = 'registered',
): Promise<Application> {
  try {
    const row = await db.insertInto('applications').values({
      id: randomUUID(),
      tenant_id: tenantId,
      app_id: input.appId ?? randomUUID(),
      display_name: input.displayName,
      kind,
      web_redirect_uris: JSON.stringify(input.web?.redirectUris ?? []),
      spa_redirect_uris: JSON.stringify(input.spa?.redirectUris ?? []),
      public_client_redirect_uris: JSON.stringify(input.publicClient?.redirectUris ?? []),
    }).returningAll().executeTakeFirstOrThrow();
    return (await hydrate(db, [row]))[0]!;
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`An application with appId '${input.appId}' already exists in this tenant.`);
    throw err;
  }
}

async function row(db: Db, tenantId: string, id: string): Promise<Selectable<ApplicationTable>> {
  if (!isGuid(id)) throw new NotFoundError('application', id);
  const r = await db.selectFrom('applications').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
  if (!r) throw new NotFoundError('application', id);
  return r;
}

export async function getApplication(db: Db, tenantId: string, id: string): Promise<Application> {
  return (await hydrate(db, [await row(db, tenantId, id)]))[0]!;
}

export async function findApplicationByAppId(db: Db, tenantId: string, appId: string): Promise<Application | undefined> {
  if (!isGuid(appId)) return undefined;
  const r = await db.selectFrom('applications').selectAll().where('tenant_id', '=', tenantId).where('app_id', '=', appId.toLowerCase()).executeTakeFirst();
  return r ? (await hydrate(db, [r]))[0] : undefined;
}

export async function listApplications(db: Db, tenantId: string, query: CollectionQuery): Promise<Page<Application>> {
  const page = await pageByDisplayName(db.selectFrom('applications').selectAll().where('tenant_id', '=', tenantId), query, APPLICATION_FILTER_COLUMNS);
  return { items: await hydrate(db, page.rows), nextSkipToken: page.nextSkipToken };
}

export async function updateApplication(db: Db, tenantId: string, id: string, patch: ApplicationUpdate): Promise<Application> {
  const current = await row(db, tenantId, id);
  const values: Updateable<ApplicationTable> = {};
  if (patch.displayName !== undefined) values.display_name = patch.displayName;
  if (patch.web) values.web_redirect_uris = JSON.stringify(patch.web.redirectUris);
  if (patch.spa) values.spa_redirect_uris = JSON.stringify(patch.spa.redirectUris);
  if (patch.publicClient) values.public_client_redirect_uris = JSON.stringify(patch.publicClient.redirectUris);
  if (Object.keys(values).length > 0) await db.updateTable('applications').set(values).where('id', '=', current.id).execute();
  return getApplication(db, tenantId, current.id);
}

export async function deleteApplication(db: Db, tenantId: string, id: string): Promise<Application> {
  const app = await getApplication(db, tenantId, id);
  if (app.gatehouseKind === 'firstParty') {
    throw new ValidationError('id', 'firstParty', `'${app.displayName}' is a first-party application (DIR-5) and can't be deleted.`);
  }
  await db.deleteFrom('oidc_artefacts').where('tenant_id', '=', tenantId).where(sql<boolean>`payload->>'clientId' = ${app.appId}`).execute();
  await db.deleteFrom('applications').where('id', '=', app.id).execute();
  return app;
}

/** Graph's addPassword: the secret is in this response only; a hash is stored. */
export async function addPassword(
  db: Db, tenantId: string, id: string, opts: { displayName?: string | undefined; endDateTime?: string | undefined }, now: Date,
): Promise<PasswordCredential> {
  const app = await row(db, tenantId, id);
  const count = await db.selectFrom('application_secrets').select((eb) => eb.fn.countAll<number>().as('n')).where('application_id', '=', app.id).executeTakeFirstOrThrow();
  if (Number(count.n) >= 10) throw new ValidationError('passwordCredential', 'maxSecrets', 'An application can hold at most 10 client secrets; remove one first.');
  const end = opts.endDateTime ? new Date(opts.endDateTime) : new Date(now.getTime() + 2 * 365 * 24 * 3600 * 1000);
  if (end.getTime() <= now.getTime()) throw new ValidationError('passwordCredential.endDateTime', 'future', 'endDateTime must be in the future.');
  const secret = randomBytes(32).toString('base64url');
  const r = await db.insertInto('application_secrets').values({
    key_id: randomUUID(), tenant_id: tenantId, application_id: app.id, display_name: opts.displayName ?? null,
    hint: secret.slice(0, 3), secret_hash: hashClientSecret(secret), start_date_time: now, end_date_time: end,
  }).returningAll().executeTakeFirstOrThrow();
  return { ...toCredential(r), secretText: secret };
}

export async function removePassword(db: Db, tenantId: string, id: string, keyId: string): Promise<void> {
  const app = await row(db, tenantId, id);
  if (!isGuid(keyId)) throw new ValidationError('keyId', 'format', 'keyId must be a GUID.');
  const res = await db.deleteFrom('application_secrets').where('application_id', '=', app.id).where('key_id', '=', keyId.toLowerCase()).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw new NotFoundError('passwordCredential', keyId);
}

export async function grantPermissions(db: Db, tenantId: string, id: string, permissions: readonly string[]): Promise<void> {
  const app = await row(db, tenantId, id);
  if (permissions.length === 0) return;
  await db.insertInto('application_permissions')
    .values(permissions.map((permission) => ({ tenant_id: tenantId, application_id: app.id, permission })))
    .onConflict((oc) => oc.doNothing()).execute();
}

/**
 * What the OIDC layer needs to authenticate a client: the app, its secrets' hashes and its
 * permissions, in one statement (the secrets and permissions as JSON aggregates). oidc-provider
 * looks the client up on the authorization, resume and token requests of every sign-in, so this
 * was 12 of an OIDC sign-in's 43 statements (docs/performance.md, "OIDC sign-ins").
 */
export async function clientRecord(db: Db, tenantId: string, appId: string): Promise<{ app: Application; secretHashes: { hash: string; endDateTime: Date }[] } | undefined> {
  if (!isGuid(appId)) return undefined;
  type Secret = { key_id: string; display_name: string | null; hint: string; secret_hash: string; start_date_time: string; end_date_time: string };
  const r = await db.selectFrom('applications as a').selectAll('a')
    .select((eb) => [
      sql<Secret[]>`COALESCE((SELECT json_agg(json_build_object('key_id', s.key_id, 'display_name', s.display_name, 'hint', s.hint, 'secret_hash', s.secret_hash, 'start_date_time', s.start_date_time, 'end_date_time', s.end_date_time) ORDER BY s.start_date_time) FROM application_secrets s WHERE s.application_id = ${eb.ref('a.id')}), '[]'::json)`.as('secrets'),
      sql<string[]>`COALESCE((SELECT json_agg(p.permission ORDER BY p.permission) FROM application_permissions p WHERE p.application_id = ${eb.ref('a.id')}), '[]'::json)`.as('permissions'),
    ])
    .where('a.tenant_id', '=', tenantId).where('a.app_id', '=', appId.toLowerCase()).executeTakeFirst();
  if (!r) return undefined;
  const secrets = r.secrets.map((x) => ({ ...x, tenant_id: tenantId, application_id: r.id, start_date_time: new Date(x.start_date_time), end_date_time: new Date(x.end_date_time) }));
  const app: Application = {
    id: r.id, appId: r.app_id, displayName: r.display_name, signInAudience: 'AzureADMyOrg',
    web: { redirectUris: r.web_redirect_uris }, spa: { redirectUris: r.spa_redirect_uris }, publicClient: { redirectUris: r.public_client_redirect_uris },
    passwordCredentials: secrets.map(toCredential), gatehouseKind: r.kind as Application['gatehouseKind'], gatehouseGraphPermissions: r.permissions,
    createdDateTime: r.created_at.toISOString(),
  };
  return { app, secretHashes: secrets.map((x) => ({ hash: x.secret_hash, endDateTime: x.end_date_time })) };
}
