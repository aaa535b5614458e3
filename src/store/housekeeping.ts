import type { Db } from './database.ts';
import { purgeChallenges } from './challenges.ts';
import { purgeExpiredArtefacts } from './oidcArtefacts.ts';

/**
 * Deletes what has expired: OIDC artefacts, WebAuthn challenges, sign-in flows. Safe to run from
 * every server at once (plain deletes by time).
 */
export async function purgeExpired(db: Db, now: Date): Promise<{ artefacts: number }> {
  const artefacts = await purgeExpiredArtefacts(db, now);
  await purgeChallenges(db, now);
  await db.deleteFrom('sign_in_flows').where('expires_at', '<', now).execute();
  return { artefacts };
}
