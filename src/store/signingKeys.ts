import { sql } from 'kysely';
import type { Db } from './database.ts';

export type SigningKey = { kid: string; alg: string; privateJwk: Record<string, unknown>; createdAt: Date; retiredAt: Date | null; publishUntil: Date | null };

/**
 * Keys a tenant publishes now: the active one (newest, not retired) first, then retired keys
 * whose tokens may still be alive.
 */
export async function publishedKeys(db: Db, tenantId: string, now: Date): Promise<SigningKey[]> {
  const rows = await db.selectFrom('signing_keys').selectAll().where('tenant_id', '=', tenantId)
    .where((eb) => eb.or([eb('retired_at', 'is', null), eb('publish_until', '>', now)]))
    .orderBy(sql`retired_at IS NULL`, 'desc').orderBy('created_at', 'desc').execute();
  return rows.map((r) => ({ kid: r.kid, alg: r.alg, privateJwk: r.private_jwk, createdAt: r.created_at, retiredAt: r.retired_at, publishUntil: r.publish_until }));
}

/** A cheap fingerprint of the published key set, so servers notice a rotation done elsewhere. */
export async function keySetVersion(db: Db, tenantId: string): Promise<string> {
  const r = await db.selectFrom('signing_keys').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('newest'), eb.fn.max('retired_at').as('retired')])
    .where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
  return `${r.n}:${r.newest ? new Date(r.newest as Date).toISOString() : ''}:${r.retired ? new Date(r.retired as Date).toISOString() : ''}`;
}

/**
 * Make `key` the active signing key. The previous active key is retired but stays published
 * until every token it signed has expired (`now + maxTokenLifetime`). Keys past that are deleted.
 */
export async function rotateIn(db: Db, tenantId: string, key: { kid: string; alg: string; privateJwk: Record<string, unknown> }, now: Date, maxTokenLifetimeSeconds: number): Promise<{ retired: string[]; deleted: string[] }> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${'gatehouse:keys:' + tenantId}))`.execute(db);
  const publishUntil = new Date(now.getTime() + maxTokenLifetimeSeconds * 1000);
  const retired = await db.updateTable('signing_keys').set({ retired_at: now, publish_until: publishUntil })
    .where('tenant_id', '=', tenantId).where('retired_at', 'is', null).returning('kid').execute();
  const deleted = await db.deleteFrom('signing_keys').where('tenant_id', '=', tenantId).where('publish_until', '<=', now).returning('kid').execute();
  await db.insertInto('signing_keys').values({ kid: key.kid, tenant_id: tenantId, alg: key.alg, private_jwk: JSON.stringify(key.privateJwk), created_at: now }).execute();
  return { retired: retired.map((r) => r.kid), deleted: deleted.map((r) => r.kid) };
}
