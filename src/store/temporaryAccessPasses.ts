import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db } from './database.ts';
import type { TemporaryAccessPassTable } from './schema.ts';

export type StoredPass = {
  id: string; userId: string; codeHash: string; createdDateTime: Date; startDateTime: Date; lifetimeInMinutes: number; isUsableOnce: boolean; usedDateTime: Date | null;
};

export const toPass = (r: Selectable<TemporaryAccessPassTable>): StoredPass => ({
  id: r.id, userId: r.user_id, codeHash: r.code_hash, createdDateTime: r.created_at, startDateTime: r.start_at,
  lifetimeInMinutes: r.lifetime_minutes, isUsableOnce: r.is_usable_once, usedDateTime: r.used_at,
});

/** TAP-4: one pass per user; a new one replaces the old, valid or not. Returns the replaced pass. */
export async function replacePass(db: Db, tenantId: string, userId: string, p: Omit<StoredPass, 'id' | 'userId' | 'usedDateTime'>): Promise<{ pass: StoredPass; replaced: StoredPass | undefined }> {
  const old = await db.deleteFrom('temporary_access_passes').where('tenant_id', '=', tenantId).where('user_id', '=', userId).returningAll().executeTakeFirst();
  const row = await db.insertInto('temporary_access_passes').values({
    id: randomUUID(), tenant_id: tenantId, user_id: userId, code_hash: p.codeHash, created_at: p.createdDateTime, start_at: p.startDateTime,
    lifetime_minutes: p.lifetimeInMinutes, is_usable_once: p.isUsableOnce,
  }).returningAll().executeTakeFirstOrThrow();
  return { pass: toPass(row), replaced: old ? toPass(old) : undefined };
}

export async function passOf(db: Db, tenantId: string, userId: string): Promise<StoredPass | undefined> {
  const r = await db.selectFrom('temporary_access_passes').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
  return r ? toPass(r) : undefined;
}

export async function deletePass(db: Db, tenantId: string, userId: string, id: string): Promise<StoredPass | undefined> {
  const r = await db.deleteFrom('temporary_access_passes').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('id', '=', id).returningAll().executeTakeFirst();
  return r ? toPass(r) : undefined;
}

/**
 * TAP-7: mark a one-time pass used. The conditional UPDATE is the atomic step: under any
 * concurrency, across processes sharing the database, exactly one caller gets `true`.
 */
export async function consumeOneTimePass(db: Db, passId: string, now: Date): Promise<boolean> {
  const r = await db.updateTable('temporary_access_passes').set({ used_at: now }).where('id', '=', passId).where('used_at', 'is', null).returning('id').executeTakeFirst();
  return r !== undefined;
}
