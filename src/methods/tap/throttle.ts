/**
 * TAP-10 lockout arithmetic: pure functions over a small record the caller stores. The caller
 * keeps two records per attempt — one keyed by user, one keyed by client address — and runs the
 * same functions over each with its own policy; an attempt proceeds only when both allow it
 * ({@link combineTapThrottleDecisions}).
 *
 * Numbers (per user): 5 failures within a 15-minute window (counted from the window's first
 * failure) lock TAP sign-in for 1 minute. Each further lock doubles — 1, 2, 4, 8, 16, 32 minutes —
 * and is capped at 1 hour. Once 24 hours have passed since the latest lock ended, earlier locks
 * are forgotten and the next lock is 1 minute again. Per address the threshold is 20 failures, since many users
 * can share one address (NAT, proxies); the growth is the same.
 *
 * Attempts refused while locked never reach the code check, so they are not counted and do not
 * extend the lock: an attacker can keep a user's TAP sign-in locked (as with any lockout), but at
 * the price of 5 guesses per lock, which bounds guessing to roughly 5 per hour once capped.
 *
 * Only the *user* record is reset by a successful sign-in. The address record must not be: an
 * attacker holding one valid pass could otherwise launder guesses at other users through it.
 */

export interface TapThrottleRecord {
  /** Failures counted in the current window. */
  failures: number;
  /** When the current window's first failure happened; null when no window is open. */
  windowStart: Date | null;
  /** End of the most recent lock; kept after it passes, to date it for forgetting. */
  lockedUntil: Date | null;
  /** Locks imposed since the last reset; decides the next lock's length. */
  lockouts: number;
}

export interface TapThrottlePolicy {
  /** Failures within one window that impose a lock. */
  maxFailures: number;
  windowMinutes: number;
  /** Length of the first lock; each further one doubles. */
  firstLockSeconds: number;
  maxLockSeconds: number;
  /** Locks are forgotten once the latest ended this long ago. */
  forgetLockoutsAfterHours: number;
}

export const TAP_USER_THROTTLE: Readonly<TapThrottlePolicy> = Object.freeze({
  maxFailures: 5,
  windowMinutes: 15,
  firstLockSeconds: 60,
  maxLockSeconds: 3600,
  forgetLockoutsAfterHours: 24,
});

export const TAP_ADDRESS_THROTTLE: Readonly<TapThrottlePolicy> = Object.freeze({
  ...TAP_USER_THROTTLE,
  maxFailures: 20,
});

export const EMPTY_TAP_THROTTLE_RECORD: Readonly<TapThrottleRecord> = Object.freeze({
  failures: 0,
  windowStart: null,
  lockedUntil: null,
  lockouts: 0,
});

export type TapThrottleDecision =
  | { allowed: true }
  | { allowed: false; lockedUntil: Date; retryAfterSeconds: number };

/** Whether a TAP attempt may be checked at `now`. */
export function checkTapThrottle(record: TapThrottleRecord, now: Date): TapThrottleDecision {
  if (record.lockedUntil === null || now.getTime() >= record.lockedUntil.getTime()) return { allowed: true };
  return {
    allowed: false,
    lockedUntil: record.lockedUntil,
    retryAfterSeconds: Math.ceil((record.lockedUntil.getTime() - now.getTime()) / 1000),
  };
}

/** Length of the `lockNumber`-th lock (1-based), in seconds: doubling from the first, capped. */
export function tapLockSeconds(lockNumber: number, policy: TapThrottlePolicy = TAP_USER_THROTTLE): number {
  const n = Math.max(1, Math.floor(lockNumber));
  // Cap the exponent so huge lock counts cannot overflow to Infinity before the min().
  return Math.min(policy.firstLockSeconds * 2 ** Math.min(n - 1, 52), policy.maxLockSeconds);
}

export interface TapFailureOutcome {
  /** The record to store. */
  record: TapThrottleRecord;
  /** True when this failure imposed a new lock (worth its own log line). */
  lockImposed: boolean;
  /** The state after this failure: what the next attempt would get right now. */
  decision: TapThrottleDecision;
}

/** The next record after a failed TAP attempt at `now`. */
export function recordTapFailure(
  record: TapThrottleRecord, now: Date, policy: TapThrottlePolicy = TAP_USER_THROTTLE,
): TapFailureOutcome {
  const t = now.getTime();
  const current = checkTapThrottle(record, now);
  if (!current.allowed) return { record, lockImposed: false, decision: current };

  let lockouts = record.lockouts;
  let lockedUntil = record.lockedUntil;
  if (lockedUntil !== null && t - lockedUntil.getTime() >= policy.forgetLockoutsAfterHours * 3_600_000) {
    lockouts = 0;
    lockedUntil = null;
  }

  const windowOpen = record.windowStart !== null && t - record.windowStart.getTime() < policy.windowMinutes * 60_000;
  const failures = windowOpen ? record.failures + 1 : 1;
  const windowStart = windowOpen && record.windowStart !== null ? record.windowStart : now;

  if (failures < policy.maxFailures) {
    const next = { failures, windowStart, lockedUntil, lockouts };
    return { record: next, lockImposed: false, decision: { allowed: true } };
  }
  lockouts += 1;
  const next: TapThrottleRecord = {
    failures: 0,
    windowStart: null,
    lockedUntil: new Date(t + tapLockSeconds(lockouts, policy) * 1000),
    lockouts,
  };
  return { record: next, lockImposed: true, decision: checkTapThrottle(next, now) };
}

/**
 * The next *user* record after a successful TAP sign-in: everything is forgiven. Do not apply
 * this to the address record (see the module comment).
 */
export function recordTapSuccess(_record: TapThrottleRecord): TapThrottleRecord {
  return { ...EMPTY_TAP_THROTTLE_RECORD };
}

/** Allowed only if every decision allows; otherwise the lock that ends last. */
export function combineTapThrottleDecisions(...decisions: TapThrottleDecision[]): TapThrottleDecision {
  let worst: TapThrottleDecision = { allowed: true };
  for (const d of decisions) {
    if (d.allowed) continue;
    if (worst.allowed || d.lockedUntil.getTime() > worst.lockedUntil.getTime()) worst = d;
  }
  return worst;
}
