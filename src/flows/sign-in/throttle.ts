import {
  checkTapThrottle, combineTapThrottleDecisions, EMPTY_TAP_THROTTLE_RECORD, recordTapFailure, recordTapSuccess, TAP_ADDRESS_THROTTLE, TAP_USER_THROTTLE,
  type TapThrottleDecision, type TapThrottleRecord,
} from '../../methods/tap/index.ts';
import type { Db } from '../../store/database.ts';
import { lockRecords, readRecord, saveRecord, saveRecordQuery } from '../../store/throttles.ts';

type Stored = { failures: number; windowStart: string | null; lockedUntil: string | null; lockouts: number };
const revive = (r: Stored | undefined): TapThrottleRecord => r ? {
  failures: r.failures, lockouts: r.lockouts, windowStart: r.windowStart ? new Date(r.windowStart) : null, lockedUntil: r.lockedUntil ? new Date(r.lockedUntil) : null,
} : { ...EMPTY_TAP_THROTTLE_RECORD };
const store = (r: TapThrottleRecord): Stored => ({
  failures: r.failures, lockouts: r.lockouts, windowStart: r.windowStart?.toISOString() ?? null, lockedUntil: r.lockedUntil?.toISOString() ?? null,
});

/**
 * TAP-10 guessing protection for a secret typed with a user name (a TAP code, a password):
 * one record per typed user name (row-locked for the step, so an unknown user is throttled
 * exactly like a known one) and one per client address (only failures touch it, and a success
 * does not reset it, so one valid secret can't clear the count while guessing others).
 */
export async function openGuessThrottle(trx: Db, tenantId: string, secretKind: 'tap' | 'password' | 'totp', userName: string, address: string | null, now: Date) {
  const userKey = `${secretKind}:user:${userName}`;
  const addressKey = `${secretKind}:address:${address ?? 'unknown'}`;
  const locked = await lockRecords(trx, tenantId, [userKey], store(EMPTY_TAP_THROTTLE_RECORD), now);
  const userRec = revive(locked.get(userKey) as Stored | undefined);
  const addressRec = revive(await readRecord(trx, tenantId, addressKey) as Stored | undefined);
  return {
    decision: combineTapThrottleDecisions(checkTapThrottle(userRec, now), checkTapThrottle(addressRec, now)) as TapThrottleDecision,
    /** Count a failed guess; returns a note for the sign-in log when it imposed a lock (and the lock). */
    async failed(): Promise<string> {
      return (await this.failedWithLock()).note;
    },
    async failedWithLock(): Promise<{ note: string; userLockedUntil: Date | null }> {
      const u = recordTapFailure(userRec, now, TAP_USER_THROTTLE);
      await saveRecord(trx, tenantId, userKey, store(u.record), now);
      // The address record is shared by every user name: re-read it under a row lock before counting.
      const fresh = await lockRecords(trx, tenantId, [addressKey], store(EMPTY_TAP_THROTTLE_RECORD), now);
      const a = recordTapFailure(revive(fresh.get(addressKey) as Stored | undefined), now, TAP_ADDRESS_THROTTLE);
      await saveRecord(trx, tenantId, addressKey, store(a.record), now);
      const until = u.lockImposed ? u.record.lockedUntil : a.lockImposed ? a.record.lockedUntil : null;
      return {
        note: until ? `; TAP-10 lock imposed on ${u.lockImposed ? 'the user name' : 'the client address'} until ${until.toISOString()}` : '',
        userLockedUntil: u.lockImposed ? u.record.lockedUntil : null,
      };
    },
    async succeeded(): Promise<void> {
      await this.succeededWrite().execute();
    },
    /** `succeeded` as a statement not yet run, to write with the step's sign-in record. */
    succeededWrite() {
      return saveRecordQuery(trx, tenantId, userKey, store(recordTapSuccess(userRec)), now);
    },
  };
}
