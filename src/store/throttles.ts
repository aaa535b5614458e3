import type { Db } from './database.ts';

/**
 * Rate-limit records shared by every server process (TAP-10). `lockRecords` takes row locks so
 * the read-decide-write of one sign-in step is not interleaved with another's. Inside a transaction.
 */
export async function lockRecords<T extends Record<string, unknown>>(db: Db, tenantId: string, keys: string[], empty: T, now: Date): Promise<Map<string, T>> {
  const sorted = [...new Set(keys)].sort(); // fixed order: no deadlocks between two steps
  await db.insertInto('throttles').values(sorted.map((key) => ({ tenant_id: tenantId, key, record: JSON.stringify(empty), updated_at: now })))
    .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing()).execute();
  const rows = await db.selectFrom('throttles').select(['key', 'record']).where('tenant_id', '=', tenantId).where('key', 'in', sorted).orderBy('key').forUpdate().execute();
  return new Map(rows.map((r) => [r.key, r.record as T]));
}

export async function saveRecord(db: Db, tenantId: string, key: string, record: Record<string, unknown>, now: Date): Promise<void> {
  await saveRecordQuery(db, tenantId, key, record, now).execute();
}

/** `saveRecord` as a statement not yet run, e.g. for `writeSignInWith`. */
export function saveRecordQuery(db: Db, tenantId: string, key: string, record: Record<string, unknown>, now: Date) {
  return db.updateTable('throttles').set({ record: JSON.stringify(record), updated_at: now }).where('tenant_id', '=', tenantId).where('key', '=', key);
}

export async function readRecord(db: Db, tenantId: string, key: string): Promise<Record<string, unknown> | undefined> {
  const r = await db.selectFrom('throttles').select('record').where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst();
  return r?.record;
}

