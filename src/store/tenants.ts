import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Tenant } from '../domain/resources.ts';
import { isGuid } from '../domain/validation.ts';
import type { Db } from './database.ts';

export async function createTenant(db: Db, displayName: string): Promise<Tenant> {
  const r = await db.insertInto('tenants').values({ id: randomUUID(), display_name: displayName }).returningAll().executeTakeFirstOrThrow();
  return { id: r.id, displayName: r.display_name, createdDateTime: r.created_at.toISOString() };
}

export async function findTenant(db: Db, id: string): Promise<Tenant | undefined> {
  if (!isGuid(id)) return undefined;
  const r = await db.selectFrom('tenants').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
  return r ? { id: r.id, displayName: r.display_name, createdDateTime: r.created_at.toISOString() } : undefined;
}

export async function listTenants(db: Db): Promise<Tenant[]> {
  const rows = await db.selectFrom('tenants').selectAll().orderBy('created_at').execute();
  return rows.map((r) => ({ id: r.id, displayName: r.display_name, createdDateTime: r.created_at.toISOString() }));
}

/** Serialises first-start set-up across processes sharing one database. Inside a transaction. */
export async function lockBootstrap(db: Db): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('gatehouse:bootstrap'))`.execute(db);
}
