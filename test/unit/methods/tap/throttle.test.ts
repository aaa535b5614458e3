import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EMPTY_TAP_THROTTLE_RECORD, TAP_ADDRESS_THROTTLE, TAP_USER_THROTTLE, checkTapThrottle, combineTapThrottleDecisions,
  recordTapFailure, recordTapSuccess, tapLockSeconds, type TapThrottlePolicy, type TapThrottleRecord,
} from '../../../../src/methods/tap/throttle.ts';

const T0 = new Date('2025-03-01T12:00:00Z');
const after = (seconds: number, from = T0) => new Date(from.getTime() + seconds * 1000);

/** `n` failures, one a second from `from`; returns the record and the last outcome's lock state. */
function fail(n: number, record: TapThrottleRecord = EMPTY_TAP_THROTTLE_RECORD, from = T0, policy: TapThrottlePolicy = TAP_USER_THROTTLE) {
  let r = record;
  let locks = 0;
  for (let i = 0; i < n; i++) {
    const o = recordTapFailure(r, after(i, from), policy);
    r = o.record;
    if (o.lockImposed) locks++;
  }
  return { record: r, locks };
}

describe('TAP-10 guessing throttle', () => {
  it('TAP-10: a fresh record allows attempts', () => {
    assert.deepEqual(checkTapThrottle(EMPTY_TAP_THROTTLE_RECORD, T0), { allowed: true });
  });

  it('TAP-10: 4 failures within 15 minutes do not lock; the 5th locks for 1 minute', () => {
    const four = fail(4);
    assert.equal(four.locks, 0);
    assert.deepEqual(checkTapThrottle(four.record, after(4)), { allowed: true });
    const o = recordTapFailure(four.record, after(4));
    assert.equal(o.lockImposed, true);
    assert.deepEqual(o.record.lockedUntil, after(64));
    assert.deepEqual(o.decision, { allowed: false, lockedUntil: after(64), retryAfterSeconds: 60 });
    assert.deepEqual(checkTapThrottle(o.record, after(63)), { allowed: false, lockedUntil: after(64), retryAfterSeconds: 1 });
    assert.deepEqual(checkTapThrottle(o.record, after(64)), { allowed: true });
  });

  it('TAP-10: failures spread beyond the 15-minute window do not lock', () => {
    let r: TapThrottleRecord = EMPTY_TAP_THROTTLE_RECORD;
    for (let i = 0; i < 50; i++) {
      const o = recordTapFailure(r, after(i * 4 * 60));  // one every 4 minutes: at most 4 per window
      assert.equal(o.lockImposed, false, `failure ${i}`);
      r = o.record;
    }
  });

  it('TAP-10: locks grow 1, 2, 4, 8, 16, 32 minutes, then stay at the 1-hour cap', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 100, 10_000].map((n) => tapLockSeconds(n)), [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]);
    let r: TapThrottleRecord = EMPTY_TAP_THROTTLE_RECORD;
    let from = T0;
    const lengths: number[] = [];
    for (let lock = 0; lock < 8; lock++) {
      const { record, locks } = fail(5, r, from);
      assert.equal(locks, 1);
      const lockStart = after(4, from);
      lengths.push((record.lockedUntil!.getTime() - lockStart.getTime()) / 1000);
      r = record;
      from = record.lockedUntil!;  // the attacker resumes as soon as the lock ends
    }
    assert.deepEqual(lengths, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
  });

  it('TAP-10: attempts during a lock are neither counted nor extend it', () => {
    const { record } = fail(5);
    const o = recordTapFailure(record, after(30));
    assert.equal(o.lockImposed, false);
    assert.equal(o.record, record);
    assert.equal(o.decision.allowed, false);
  });

  it('TAP-10: a successful sign-in resets the user record', () => {
    const { record } = fail(5);
    assert.deepEqual(recordTapSuccess(record), EMPTY_TAP_THROTTLE_RECORD);
  });

  it('TAP-10: locks are forgotten 24 hours after the latest one ended', () => {
    const first = fail(5).record;
    const second = fail(5, first, first.lockedUntil!).record;
    assert.equal(second.lockouts, 2);
    const nextDay = after(24 * 3600, second.lockedUntil!);
    const third = fail(5, second, nextDay).record;
    assert.equal(third.lockouts, 1);
    assert.deepEqual(third.lockedUntil, after(4 + 60, nextDay));
  });

  it('TAP-10: the per-address policy tolerates 19 failures and locks on the 20th', () => {
    assert.equal(fail(19, EMPTY_TAP_THROTTLE_RECORD, T0, TAP_ADDRESS_THROTTLE).locks, 0);
    assert.equal(fail(20, EMPTY_TAP_THROTTLE_RECORD, T0, TAP_ADDRESS_THROTTLE).locks, 1);
  });

  it('TAP-10: user and address decisions combine to the lock that ends last', () => {
    const a = { allowed: false as const, lockedUntil: after(60), retryAfterSeconds: 60 };
    const b = { allowed: false as const, lockedUntil: after(120), retryAfterSeconds: 120 };
    assert.deepEqual(combineTapThrottleDecisions({ allowed: true }, { allowed: true }), { allowed: true });
    assert.deepEqual(combineTapThrottleDecisions({ allowed: true }, a), a);
    assert.deepEqual(combineTapThrottleDecisions(b, a), b);
  });

  it('TAP-10: between locks, at most 8 failures (4 per fixed window) fit into any 15 minutes, and lock counts never shrink (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 60 }), (gaps) => {
      let r: TapThrottleRecord = EMPTY_TAP_THROTTLE_RECORD;
      let t = T0.getTime();
      const checked: number[] = [];
      let previousLockouts = 0;
      for (const gap of gaps) {
        t += gap * 1000;
        const now = new Date(t);
        if (!checkTapThrottle(r, now).allowed) continue;
        checked.push(t);
        r = recordTapFailure(r, now).record;
        assert.ok(r.lockouts >= previousLockouts);
        previousLockouts = r.lockouts;
        if (r.lockedUntil !== null && r.lockedUntil.getTime() > t) checked.length = 0;  // a lock starts a new count
      }
      // Between locks, the checked failures inside any 15-minute span number at most 4 + 4
      // (two adjacent fixed windows); a 5th within one window would have locked.
      for (let i = 0; i < checked.length; i++) {
        const inSpan = checked.filter((x) => x >= checked[i]! && x < checked[i]! + 15 * 60_000).length;
        assert.ok(inSpan <= 8, `${inSpan} unlocked failures within 15 minutes`);
      }
    }));
  });
});
