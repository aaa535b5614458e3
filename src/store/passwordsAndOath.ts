import { randomUUID } from 'node:crypto';
import type { Db } from './database.ts';

/** MTH-4: a user's password hash (Argon2id, PHC string) and TOTP authenticators. */
export async function passwordOf(db: Db, userId: string): Promise<{ hash: string; createdAt: Date } | undefined> {
  const r = await db.selectFrom('password_methods').select(['hash', 'created_at']).where('user_id', '=', userId).executeTakeFirst();
  return r ? { hash: r.hash, createdAt: r.created_at } : undefined;
}

export async function setPassword(db: Db, tenantId: string, userId: string, hash: string, now: Date): Promise<void> {
  await db.insertInto('password_methods').values({ user_id: userId, tenant_id: tenantId, hash, created_at: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, created_at: now })).execute();
}

export type StoredOath = { id: string; secret: string; lastUsedStep: number | null; createdAt: Date };

/** The user's authenticator apps; `forUpdate` row-locks them for a sign-in step. */
export async function oathMethodsOf(db: Db, userId: string, opts: { forUpdate?: boolean } = {}): Promise<StoredOath[]> {
  let q = db.selectFrom('software_oath_methods').selectAll().where('user_id', '=', userId).orderBy('created_at');
  if (opts.forUpdate) q = q.forUpdate();
  return (await q.execute()).map((r) => ({ id: r.id, secret: r.secret, lastUsedStep: r.last_used_step === null ? null : Number(r.last_used_step), createdAt: r.created_at }));
}

export async function addOathMethod(db: Db, tenantId: string, userId: string, secret: string, now: Date): Promise<string> {
  const id = randomUUID();
  await db.insertInto('software_oath_methods').values({ id, tenant_id: tenantId, user_id: userId, secret, last_used_step: null, created_at: now }).execute();
  return id;
}

export async function deleteOathMethod(db: Db, tenantId: string, userId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('software_oath_methods').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('id', '=', id).returning('id').executeTakeFirst();
  return r !== undefined;
}

/** MTH-4: a TOTP time step is accepted once. The conditional update is the atomic claim. */
export async function claimOathStep(db: Db, id: string, step: number): Promise<boolean> {
  const r = await db.updateTable('software_oath_methods').set({ last_used_step: step }).where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)])).returning('id').executeTakeFirst();
  return r !== undefined;
}
