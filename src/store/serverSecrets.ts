import { randomBytes } from 'node:crypto';
import type { Db } from './database.ts';

/**
 * Deployment-wide secrets (cookie signing keys) shared by every server process: created once,
 * by whichever process gets there first.
 */
export async function serverSecret(db: Db, name: string): Promise<string> {
  await db.insertInto('server_secrets').values({ name, value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('name').doNothing()).execute();
  const r = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return r.value;
}
