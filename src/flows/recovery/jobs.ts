import type { Db } from '../../store/database.ts';
import { cleanUpRecoveryCases } from './cleanup.ts';
import { deliverRecoveryNotifications } from './notifications.ts';

/**
 * What every server runs periodically (src/cli/main.ts `serve`) and `gatehouse recovery cleanup`
 * runs once: the RCV-3 clean-up, then due webhook notifications. Both claim their rows with
 * FOR UPDATE SKIP LOCKED, so several servers may run this at the same time.
 */
export async function runRecoveryJobs(db: Db, now: Date) {
  const cleaned = await cleanUpRecoveryCases(db, now);
  const notifications = await deliverRecoveryNotifications(db, now);
  return { ...cleaned, notifications };
}
