/**
 * The Temporary Access Pass method configuration (TAP-1) and the rules a new pass must satisfy
 * (TAP-2). Pure: the clock comes in as `now`.
 *
 * Field names are Graph's `temporaryAccessPassAuthenticationMethodConfiguration`, so an exported
 * Entra policy loads unchanged. `state`, `includeTargets` and `excludeTargets` belong to the
 * methods policy as a whole (MTH-2) and are not handled here.
 */

/** One broken rule. `field` is the request or policy field, `rule` the spec id it breaks. */
export interface TapViolation {
  field: string;
  rule: 'TAP-1' | 'TAP-2';
  message: string;
}

export interface TemporaryAccessPassPolicy {
  /** Shortest lifetime an issuer may choose, in minutes. */
  minimumLifetimeInMinutes: number;
  /** Longest lifetime an issuer may choose, in minutes. */
  maximumLifetimeInMinutes: number;
  /** Lifetime used when the issuer does not choose one, in minutes. */
  defaultLifetimeInMinutes: number;
  /** Number of characters in a generated pass. */
  defaultLength: number;
  /** `true`: every pass is one-time. `false`: the issuer chooses per pass. */
  isUsableOnce: boolean;
}

/** TAP-1 defaults, the same as a new Entra tenant's. */
export const DEFAULT_TAP_POLICY: Readonly<TemporaryAccessPassPolicy> = Object.freeze({
  minimumLifetimeInMinutes: 60,
  maximumLifetimeInMinutes: 480,
  defaultLifetimeInMinutes: 60,
  defaultLength: 8,
  isUsableOnce: false,
});

/** TAP-1: every lifetime setting lies within 10 minutes and 30 days. */
export const TAP_LIFETIME_LIMITS = Object.freeze({ min: 10, max: 43_200 });
/** TAP-1: a pass has 8 to 48 characters. */
export const TAP_LENGTH_LIMITS = Object.freeze({ min: 8, max: 48 });

/**
 * How far in the past a requested `startDateTime` may lie. Callers compute "now" on their own
 * clock and send it a moment later; five minutes absorbs that and ordinary clock drift without
 * letting an issuer back-date a pass meaningfully. Such a start is kept as sent (the Graph
 * response echoes it), so the pass may be valid for up to five minutes less than its lifetime.
 */
export const TAP_START_SKEW_MINUTES = 5;

const LIFETIME_FIELDS = ['minimumLifetimeInMinutes', 'defaultLifetimeInMinutes', 'maximumLifetimeInMinutes'] as const;

/** TAP-1: every way `p` breaks the policy rules; empty when the policy is valid. */
export function validateTapPolicy(p: TemporaryAccessPassPolicy): TapViolation[] {
  const violations: TapViolation[] = [];
  const v = (field: string, message: string) => violations.push({ field, rule: 'TAP-1', message });

  for (const field of LIFETIME_FIELDS) {
    const value = p[field];
    if (!Number.isInteger(value)) {
      v(field, `${field} ${String(value)} is not a whole number of minutes`);
    } else if (value < TAP_LIFETIME_LIMITS.min) {
      v(field, `${field} ${value} is below the allowed minimum of ${TAP_LIFETIME_LIMITS.min} minutes`);
    } else if (value > TAP_LIFETIME_LIMITS.max) {
      v(field, `${field} ${value} is above the allowed maximum of ${TAP_LIFETIME_LIMITS.max} minutes`);
    }
  }

  const { minimumLifetimeInMinutes: min, defaultLifetimeInMinutes: def, maximumLifetimeInMinutes: max } = p;
  // Ordering is only meaningful between numbers; non-numbers were reported above.
  if (Number.isFinite(min) && Number.isFinite(max) && min > max) {
    v('minimumLifetimeInMinutes', `minimumLifetimeInMinutes ${min} is greater than maximumLifetimeInMinutes ${max}`);
  }
  if (Number.isFinite(min) && Number.isFinite(def) && def < min) {
    v('defaultLifetimeInMinutes', `defaultLifetimeInMinutes ${def} is below minimumLifetimeInMinutes ${min}`);
  }
  if (Number.isFinite(max) && Number.isFinite(def) && def > max) {
    v('defaultLifetimeInMinutes', `defaultLifetimeInMinutes ${def} is above maximumLifetimeInMinutes ${max}`);
  }

  if (!Number.isInteger(p.defaultLength)) {
    v('defaultLength', `defaultLength ${String(p.defaultLength)} is not a whole number`);
  } else if (p.defaultLength < TAP_LENGTH_LIMITS.min) {
    v('defaultLength', `defaultLength ${p.defaultLength} is below the allowed minimum of ${TAP_LENGTH_LIMITS.min} characters`);
  } else if (p.defaultLength > TAP_LENGTH_LIMITS.max) {
    v('defaultLength', `defaultLength ${p.defaultLength} is above the allowed maximum of ${TAP_LENGTH_LIMITS.max} characters`);
  }

  if (typeof p.isUsableOnce !== 'boolean') {
    v('isUsableOnce', `isUsableOnce ${String(p.isUsableOnce)} is not true or false`);
  }
  return violations;
}

/** The body of `POST .../temporaryAccessPassMethods`; absent or null fields take defaults. */
export interface TapRequest {
  /** ISO 8601 string or Date; defaults to `now`. */
  startDateTime?: string | Date | null;
  /** Defaults to the policy's `defaultLifetimeInMinutes`. */
  lifetimeInMinutes?: number | null;
  /** Defaults to the policy's `isUsableOnce`. */
  isUsableOnce?: boolean | null;
}

export type TapRequestResolution =
  | { ok: true; startDateTime: Date; lifetimeInMinutes: number; isUsableOnce: boolean }
  | { ok: false; violations: TapViolation[] };

/**
 * TAP-2: fill in the defaults of a create request and check it against `policy`. Every
 * violation is reported, each message naming the value received and the bound it breaks.
 */
export function resolveTapRequest(request: TapRequest, policy: TemporaryAccessPassPolicy, now: Date): TapRequestResolution {
  const violations: TapViolation[] = [];
  const v = (field: string, message: string) => violations.push({ field, rule: 'TAP-2', message });

  const lifetimeInMinutes = request.lifetimeInMinutes ?? policy.defaultLifetimeInMinutes;
  if (!Number.isInteger(lifetimeInMinutes)) {
    v('lifetimeInMinutes', `lifetimeInMinutes ${String(lifetimeInMinutes)} is not a whole number of minutes`);
  } else if (lifetimeInMinutes < policy.minimumLifetimeInMinutes) {
    v('lifetimeInMinutes',
      `lifetimeInMinutes ${lifetimeInMinutes} is below the policy's minimumLifetimeInMinutes ${policy.minimumLifetimeInMinutes}`);
  } else if (lifetimeInMinutes > policy.maximumLifetimeInMinutes) {
    v('lifetimeInMinutes',
      `lifetimeInMinutes ${lifetimeInMinutes} is above the policy's maximumLifetimeInMinutes ${policy.maximumLifetimeInMinutes}`);
  }

  const isUsableOnce = request.isUsableOnce ?? policy.isUsableOnce;
  if (typeof isUsableOnce !== 'boolean') {
    v('isUsableOnce', `isUsableOnce ${String(isUsableOnce)} is not true or false`);
  } else if (policy.isUsableOnce && !isUsableOnce) {
    v('isUsableOnce',
      "isUsableOnce false is not allowed: the policy's isUsableOnce is true, so every pass must be one-time");
  }

  const startDateTime = parseStart(request.startDateTime, now);
  if (startDateTime === null) {
    v('startDateTime', `startDateTime ${JSON.stringify(request.startDateTime)} is not an ISO 8601 date and time`);
  } else {
    const earliest = now.getTime() - TAP_START_SKEW_MINUTES * 60_000;
    if (startDateTime.getTime() < earliest) {
      v('startDateTime',
        `startDateTime ${startDateTime.toISOString()} is in the past: it may be at most ${TAP_START_SKEW_MINUTES} minutes ` +
        `before the current time ${now.toISOString()}`);
    }
  }

  if (violations.length > 0 || startDateTime === null) return { ok: false, violations };
  return { ok: true, startDateTime, lifetimeInMinutes, isUsableOnce };
}

/** A strict-enough ISO 8601 check: a date, a time and an explicit offset or `Z`. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function parseStart(value: string | Date | null | undefined, now: Date): Date | null {
  if (value === undefined || value === null) return new Date(now.getTime());
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : new Date(value.getTime());
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) return null;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}
