/**
 * What the server wrote about a user, read straight from the database in the order it was written
 * (ties broken by id): the sign-in records (LOG-1) and the directory audit records (LOG-2).
 */
import type { Harness } from './harness.ts';

/** The user's sign-in records, oldest first. */
export async function signInsOf(h: Harness, userId: string): Promise<any[]> {
  const rows = await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', userId)
    .orderBy('created_date_time').orderBy('id').execute();
  return rows.map((r) => r.record);
}

/** The directory audit records whose target is the user, oldest first. */
export async function auditsOf(h: Harness, userId: string): Promise<any[]> {
  const rows = await h.database.db.selectFrom('directory_audits').select('record').where('target_user_id', '=', userId)
    .orderBy('activity_date_time').orderBy('id').execute();
  return rows.map((r) => r.record);
}
