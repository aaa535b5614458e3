import { sql } from 'kysely';
import { effectivePolicy } from '../domain/methodsPolicy.ts';
import { DEFAULT_PLATFORM_SETTINGS } from '../domain/platformRules.ts';
import { BUILT_IN_STRENGTHS } from '../domain/strengths.ts';
import type { PolicySnapshot } from '../engine/types.ts';
import type { Db } from './database.ts';
import { policySnapshotAt } from './policies.ts';

/**
 * WIF-2: every policy version's snapshot (migration 7), so the policies any sign-in was decided
 * under can be loaded again. Written by `bumpPolicyVersion` in the writing transaction; read by
 * replay and impact analysis (never on the sign-in hot path).
 */

/** Store the snapshot of a version just taken (inside the write's transaction). */
export async function recordPolicySnapshot(db: Db, tenantId: string, version: string, snapshot: PolicySnapshot): Promise<void> {
  await db.insertInto('policy_history').values({ tenant_id: tenantId, version, snapshot: JSON.stringify(snapshot) })
    .onConflict((oc) => oc.columns(['tenant_id', 'version']).doNothing()).execute();
}

/** Why a version's policies can't be loaded. */
export type MissingVersion = { version: string; reason: string };

/**
 * The snapshot stored under `version` (version '0', before any policy write: the defaults). A
 * tenant whose current version has no snapshot (created before migration 7) gets it stored first: the
 * tenant's version row is share-locked while the tables are read, so no policy write can commit
 * in between and the stored snapshot is exactly that version's. An older version without a
 * snapshot (superseded before migration 7) can't be loaded: `MissingVersion` says so.
 */
export async function policySnapshotOfVersion(db: Db, tenantId: string, version: string): Promise<PolicySnapshot | MissingVersion> {
  const stored = await db.selectFrom('policy_history').select('snapshot').where('tenant_id', '=', tenantId).where('version', '=', version).executeTakeFirst();
  if (stored) return Object.freeze(stored.snapshot) as unknown as PolicySnapshot;
  if (version === '0') return initialSnapshot(db, tenantId);
  return db.transaction().execute(async (trx) => {
    const current = await sql<{ version: string | number }>`SELECT version FROM policy_versions WHERE tenant_id = ${tenantId} FOR SHARE`.execute(trx);
    const now = String(current.rows[0]?.version ?? '0');
    if (now !== version) {
      return { version, reason: `the policies of version ${version} were replaced (the tenant is at version ${now}) before policy history was kept (migration 7), so they can't be loaded again` };
    }
    const again = await trx.selectFrom('policy_history').select('snapshot').where('tenant_id', '=', tenantId).where('version', '=', version).executeTakeFirst();
    if (again) return Object.freeze(again.snapshot) as unknown as PolicySnapshot;
    const snapshot = await policySnapshotAt(trx, tenantId, version);
    await recordPolicySnapshot(trx, tenantId, version, snapshot);
    // What the caller gets is what a later read gets: the stored JSON.
    return Object.freeze(JSON.parse(JSON.stringify(snapshot))) as PolicySnapshot;
  });
}

/**
 * Version '0' is a tenant before its first policy write (every write takes a new version): the
 * defaults, the same whatever happened since. The methods policy's default says it has been in
 * force since the tenant was created, as `getMethodsPolicy` says for a tenant without a row.
 */
async function initialSnapshot(db: Db, tenantId: string): Promise<PolicySnapshot | MissingVersion> {
  const tenant = await db.selectFrom('tenants').select('created_at').where('id', '=', tenantId).executeTakeFirst();
  if (!tenant) return { version: '0', reason: 'the tenant does not exist' };
  return Object.freeze(JSON.parse(JSON.stringify({
    methodsPolicy: effectivePolicy(undefined, tenant.created_at), strengths: BUILT_IN_STRENGTHS, conditionalAccessPolicies: [], namedLocations: [], platform: DEFAULT_PLATFORM_SETTINGS,
  } satisfies PolicySnapshot))) as PolicySnapshot;
}

/** A reader that loads each version once (impact analysis walks many records under few versions). */
export function policyHistoryReader(db: Db, tenantId: string): (version: string) => Promise<PolicySnapshot | MissingVersion> {
  const seen = new Map<string, Promise<PolicySnapshot | MissingVersion>>();
  return (version) => {
    let p = seen.get(version);
    if (!p) seen.set(version, (p = policySnapshotOfVersion(db, tenantId, version)));
    return p;
  };
}

export const isMissingVersion = (x: PolicySnapshot | MissingVersion): x is MissingVersion => 'reason' in x && typeof (x as MissingVersion).reason === 'string' && !('strengths' in x);
