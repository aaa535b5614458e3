import type { Db } from '../../store/database.ts';
import type { PolicySnapshot } from '../../engine/types.ts';

export type LockoutVerdict = { ok: true } | { ok: false; reason: string; globalAdministrators: string[] };

/**
 * WIF-3: would this policy set leave no enabled Global Administrator able to sign in to the
 * admin console? (Implementation in progress: see the lead's engine work.)
 */
export async function guardAgainstLockout(_db: Db, _tenantId: string, _proposed: PolicySnapshot, _now: Date): Promise<LockoutVerdict> {
  return { ok: true };
}
