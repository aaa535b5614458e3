import { sql } from 'kysely';
import type { CaPolicy, NamedLocation } from '../domain/conditionalAccess.ts';
import { DEFAULT_PLATFORM_SETTINGS, type PlatformSettings } from '../domain/platformRules.ts';
import { BUILT_IN_STRENGTHS, type AuthenticationStrength } from '../domain/strengths.ts';
import type { PolicySnapshot } from '../engine/types.ts';
import type { Db } from './database.ts';
import { getMethodsPolicy } from './methodsPolicy.ts';
import { recordPolicySnapshot } from './policyHistory.ts';

/**
 * Strengths, Conditional Access policies, named locations and platform settings. Each is kept as
 * its Graph document (validated before it gets here). Every write bumps the tenant's policy
 * version in the same transaction, so `loadPolicySnapshot` can serve sign-ins from a cache and
 * still see a change made by another server process at once.
 */

/** Serialise policy writes per tenant (the CA-1 cap, STR-2 usage and the WIF-3 guard read-then-write). */
export async function lockPolicies(db: Db, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${'gatehouse:policies:' + tenantId}))`.execute(db);
}

/**
 * A new version from the sequence (migration 4): never reused, even by a write that rolls back.
 * WIF-2: the snapshot as it now stands (this transaction's writes included) is stored under the
 * new version in the same transaction (store/policyHistory.ts), and cached, so the WIF-3 guard's
 * read that follows most writes costs nothing.
 */
export async function bumpPolicyVersion(db: Db, tenantId: string): Promise<void> {
  const r = await db.insertInto('policy_versions').values({ tenant_id: tenantId, version: sql<string>`nextval('policy_version_seq')` })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ version: sql<string>`nextval('policy_version_seq')` })).returning('version').executeTakeFirstOrThrow();
  const version = String(r.version);
  // A transaction that writes several times (an import) commits only its last version: no other
  // transaction ever sees the ones before, so their snapshots are dropped instead of kept.
  const earlier = db.isTransaction ? versionsWrittenIn.get(db)?.get(tenantId) : undefined;
  if (earlier !== undefined) await db.deleteFrom('policy_history').where('tenant_id', '=', tenantId).where('version', '=', earlier).execute();
  if (db.isTransaction) {
    let perTrx = versionsWrittenIn.get(db);
    if (!perTrx) versionsWrittenIn.set(db, (perTrx = new Map()));
    perTrx.set(tenantId, version);
  }
  await recordPolicySnapshot(db, tenantId, version, await policySnapshotAt(db, tenantId, version));
}
/** The last version each open transaction took, per tenant (keyed by the transaction object). */
const versionsWrittenIn = new WeakMap<Db, Map<string, string>>();

type Row = { id: string; document: Record<string, unknown>; created_at: Date; modified_at: Date };
const withDates = <T>(r: Row, keys: { created: string; modified: string }): T =>
  ({ ...r.document, id: r.id, [keys.created]: r.created_at.toISOString(), [keys.modified]: r.modified_at.toISOString() }) as T;

// Authentication strengths (STR-1, STR-2): built-ins are constants, custom ones are rows.
const STRENGTH_DATES = { created: 'createdDateTime', modified: 'modifiedDateTime' };

export async function customStrengths(db: Db, tenantId: string): Promise<AuthenticationStrength[]> {
  const rows = await db.selectFrom('authentication_strengths').select(['id', 'document', 'created_at', 'modified_at']).where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => withDates<AuthenticationStrength>(r, STRENGTH_DATES));
}
export async function allStrengths(db: Db, tenantId: string): Promise<AuthenticationStrength[]> {
  return [...BUILT_IN_STRENGTHS, ...await customStrengths(db, tenantId)];
}
export async function findStrength(db: Db, tenantId: string, id: string): Promise<AuthenticationStrength | undefined> {
  const builtIn = BUILT_IN_STRENGTHS.find((s) => s.id === id.toLowerCase());
  if (builtIn) return builtIn;
  if (!isUuid(id)) return undefined;
  const r = await db.selectFrom('authentication_strengths').select(['id', 'document', 'created_at', 'modified_at']).where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
  return r ? withDates<AuthenticationStrength>(r, STRENGTH_DATES) : undefined;
}
/** Insert or replace a custom strength (the caller validated it and holds `lockPolicies`). */
export async function saveStrength(db: Db, tenantId: string, s: AuthenticationStrength): Promise<void> {
  const { id, createdDateTime, modifiedDateTime, ...document } = s;
  await db.insertInto('authentication_strengths').values({ tenant_id: tenantId, id, display_name: s.displayName, document: JSON.stringify(document), created_at: createdDateTime, modified_at: modifiedDateTime })
    .onConflict((oc) => oc.columns(['tenant_id', 'id']).doUpdateSet({ display_name: s.displayName, document: JSON.stringify(document), modified_at: modifiedDateTime })).execute();
  await bumpPolicyVersion(db, tenantId);
}
export async function deleteStrength(db: Db, tenantId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('authentication_strengths').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (r.numDeletedRows > 0n) await bumpPolicyVersion(db, tenantId);
  return r.numDeletedRows > 0n;
}

// Conditional Access policies (CA-1).
const CA_DATES = { created: 'createdDateTime', modified: 'modifiedDateTime' };

export async function conditionalAccessPolicies(db: Db, tenantId: string): Promise<CaPolicy[]> {
  const rows = await db.selectFrom('conditional_access_policies').select(['id', 'document', 'created_at', 'modified_at']).where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => withDates<CaPolicy>(r, CA_DATES));
}
export async function findConditionalAccessPolicy(db: Db, tenantId: string, id: string): Promise<CaPolicy | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await db.selectFrom('conditional_access_policies').select(['id', 'document', 'created_at', 'modified_at']).where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
  return r ? withDates<CaPolicy>(r, CA_DATES) : undefined;
}
export async function countConditionalAccessPolicies(db: Db, tenantId: string): Promise<number> {
  const r = await db.selectFrom('conditional_access_policies').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
  return Number(r.n);
}
/** Insert or replace a policy (validated; the caller holds `lockPolicies` and enforced CA-1's cap). */
export async function saveConditionalAccessPolicy(db: Db, tenantId: string, p: CaPolicy): Promise<void> {
  const { id, createdDateTime, modifiedDateTime, ...document } = p;
  await db.insertInto('conditional_access_policies').values({ tenant_id: tenantId, id, display_name: p.displayName, state: p.state, document: JSON.stringify(document), created_at: createdDateTime!, modified_at: modifiedDateTime! })
    .onConflict((oc) => oc.columns(['tenant_id', 'id']).doUpdateSet({ display_name: p.displayName, state: p.state, document: JSON.stringify(document), modified_at: modifiedDateTime! })).execute();
  await bumpPolicyVersion(db, tenantId);
}
export async function deleteConditionalAccessPolicy(db: Db, tenantId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('conditional_access_policies').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (r.numDeletedRows > 0n) await bumpPolicyVersion(db, tenantId);
  return r.numDeletedRows > 0n;
}

// Named locations (CA-2).
export async function namedLocations(db: Db, tenantId: string): Promise<NamedLocation[]> {
  const rows = await db.selectFrom('named_locations').select(['id', 'document', 'created_at', 'modified_at']).where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => withDates<NamedLocation>(r, CA_DATES));
}
export async function findNamedLocation(db: Db, tenantId: string, id: string): Promise<NamedLocation | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await db.selectFrom('named_locations').select(['id', 'document', 'created_at', 'modified_at']).where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
  return r ? withDates<NamedLocation>(r, CA_DATES) : undefined;
}
export async function saveNamedLocation(db: Db, tenantId: string, l: NamedLocation): Promise<void> {
  const { id, createdDateTime, modifiedDateTime, ...document } = l;
  await db.insertInto('named_locations').values({ tenant_id: tenantId, id, display_name: l.displayName, document: JSON.stringify(document), created_at: createdDateTime, modified_at: modifiedDateTime })
    .onConflict((oc) => oc.columns(['tenant_id', 'id']).doUpdateSet({ display_name: l.displayName, document: JSON.stringify(document), modified_at: modifiedDateTime })).execute();
  await bumpPolicyVersion(db, tenantId);
}
export async function deleteNamedLocation(db: Db, tenantId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('named_locations').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (r.numDeletedRows > 0n) await bumpPolicyVersion(db, tenantId);
  return r.numDeletedRows > 0n;
}

// Platform-rule settings (PLT-1..5).
export async function getPlatformSettings(db: Db, tenantId: string): Promise<{ settings: PlatformSettings; modifiedDateTime: string | null }> {
  const r = await db.selectFrom('platform_settings').select(['document', 'modified_at']).where('tenant_id', '=', tenantId).executeTakeFirst();
  return { settings: { ...DEFAULT_PLATFORM_SETTINGS, ...(r?.document as Partial<PlatformSettings> | undefined) }, modifiedDateTime: r?.modified_at.toISOString() ?? null };
}
export async function savePlatformSettings(db: Db, tenantId: string, settings: PlatformSettings, now: Date): Promise<void> {
  await db.insertInto('platform_settings').values({ tenant_id: tenantId, document: JSON.stringify(settings), modified_at: now })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ document: JSON.stringify(settings), modified_at: now })).execute();
  await bumpPolicyVersion(db, tenantId);
}

/**
 * Cached snapshots per database and tenant. Keyed by the Kysely adapter, which a database handle
 * shares with every transaction opened from it (a transaction is a new Kysely object each time,
 * so keying by the handle itself would cache per transaction only).
 */
const snapshots = new WeakMap<object, Map<string, { version: string; snapshot: PolicySnapshot }>>();
const cacheKey = (db: Db): object => db.getExecutor().adapter;
/** WIF-2: the version each loaded snapshot was loaded for, so a sign-in record can name it without another read. */
const versionsOf = new WeakMap<PolicySnapshot, string>();

/** The policy version a snapshot from `policySnapshotAt`/`loadPolicySnapshot` belongs to (undefined for one built elsewhere, e.g. a proposed set). */
export function policyVersionOf(snapshot: PolicySnapshot): string | undefined {
  return versionsOf.get(snapshot);
}

/** The tenant's policy version: '0' until the first policy write. */
export async function policyVersion(db: Db, tenantId: string): Promise<string> {
  const v = await db.selectFrom('policy_versions').select('version').where('tenant_id', '=', tenantId).executeTakeFirst();
  return String(v?.version ?? '0');
}

/**
 * Everything the engine needs about a tenant's policies (SIG-1). Cached per database and tenant,
 * keyed by the policy version every write takes from a sequence, so a sign-in costs one small
 * read unless something changed. Snapshots are frozen: callers never mutate them.
 */
export async function loadPolicySnapshot(db: Db, tenantId: string): Promise<PolicySnapshot> {
  return policySnapshotAt(db, tenantId, await policyVersion(db, tenantId));
}

/**
 * The snapshot for a version the caller has just read in this transaction (e.g. with other facts
 * in one query): from the cache when it matches, otherwise loaded and cached. Versions are never
 * reused (migration 4), so a snapshot read inside a writing transaction that later rolls back is
 * only ever served for its own, never-committed version.
 */
export async function policySnapshotAt(db: Db, tenantId: string, version: string): Promise<PolicySnapshot> {
  const key = cacheKey(db);
  let perDb = snapshots.get(key);
  if (!perDb) snapshots.set(key, (perDb = new Map()));
  const cached = perDb.get(tenantId);
  if (cached && cached.version === version) return cached.snapshot;
  const [methodsPolicy, strengths, caPolicies, locations, platform] = [
    await getMethodsPolicy(db, tenantId), await allStrengths(db, tenantId), await conditionalAccessPolicies(db, tenantId),
    await namedLocations(db, tenantId), await getPlatformSettings(db, tenantId),
  ];
  const snapshot: PolicySnapshot = Object.freeze({
    methodsPolicy, strengths, conditionalAccessPolicies: caPolicies, namedLocations: locations, platform: platform.settings,
  });
  perDb.set(tenantId, { version, snapshot });
  versionsOf.set(snapshot, version);
  return snapshot;
}

function isUuid(s: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s);
}

/** Which of these ids name a user, a group or an application (by appId) of the tenant. */
export async function existingDirectoryIds(db: Db, tenantId: string, ids: { users: string[]; groups: string[]; appIds: string[] }): Promise<Set<string>> {
  const known = new Set<string>();
  if (ids.users.length) for (const r of await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids.users).execute()) known.add(`user:${r.id}`);
  if (ids.groups.length) for (const r of await db.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids.groups).execute()) known.add(`group:${r.id}`);
  if (ids.appIds.length) for (const r of await db.selectFrom('applications').select('app_id').where('tenant_id', '=', tenantId).where('app_id', 'in', ids.appIds).execute()) known.add(`application:${r.app_id.toLowerCase()}`);
  return known;
}
