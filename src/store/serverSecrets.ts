import { randomBytes } from 'node:crypto';
import type { Db } from './database.ts';

/** Secrets never change once made, so each process reads each one once per database handle. */
const cache = new WeakMap<object, Map<string, Promise<string>>>();

/**
 * Deployment-wide secrets (cookie signing key, TAP hash key) shared by every server process:
 * created once, by whichever process gets there first.
 */
export function serverSecret(db: Db, name: string): Promise<string> {
  let forDb = cache.get(db);
  if (!forDb) {
    forDb = new Map();
    cache.set(db, forDb);
  }
  let value = forDb.get(name);
  if (!value) {
    value = readOrCreate(db, name);
    forDb.set(name, value);
    value.catch(() => forDb.delete(name));
  }
  return value;
}

async function readOrCreate(db: Db, name: string): Promise<string> {
  const existing = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirst();
  if (existing) return existing.value;
  await db.insertInto('server_secrets').values({ name, value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('name').doNothing()).execute();
  const r = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return r.value;
}
