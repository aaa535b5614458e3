/**
 * TAP-5: whether a stored pass can be used right now, with Graph's `methodUsabilityReason`.
 *
 * A pass is valid on the half-open interval [startDateTime, startDateTime + lifetime): at the
 * exact end instant it is already `Expired`.
 *
 * When several reasons apply, the first of these wins:
 *   1. `DisabledByPolicy` — the method is off or the user is out of scope. It is what an admin
 *      must change before anything else matters, and it is the reason sign-in reports (TAP-6).
 *   2. `OneTimeUsed` — a one-time pass that has been used. Permanent, and the event that
 *      actually ended the pass even if it has since also expired.
 *   3. `Expired` — permanent.
 *   4. `NotYetValid` — transient; it will become usable by itself.
 *   5. `EnabledByPolicy` — usable.
 * (`Expired` and `NotYetValid` cannot both hold, since a lifetime is positive.)
 */

export type TapUsabilityReason = 'NotYetValid' | 'Expired' | 'OneTimeUsed' | 'DisabledByPolicy' | 'EnabledByPolicy';

/** The parts of a stored pass that decide its usability. */
export interface TapValidity {
  startDateTime: Date;
  lifetimeInMinutes: number;
  isUsableOnce: boolean;
  /** When the pass was first used successfully; only consulted for one-time passes. */
  usedDateTime: Date | null;
}

export interface TapUsability {
  isUsable: boolean;
  methodUsabilityReason: TapUsabilityReason;
}

/** The instant the pass stops working (exclusive). Sessions obtained with it end by then (TAP-8). */
export function tapEndDateTime(pass: Pick<TapValidity, 'startDateTime' | 'lifetimeInMinutes'>): Date {
  return new Date(pass.startDateTime.getTime() + pass.lifetimeInMinutes * 60_000);
}

/** TAP-5 usability of `pass` at `now`; see the module comment for the precedence of reasons. */
export function tapUsability(pass: TapValidity, scope: { methodEnabledForUser: boolean }, now: Date): TapUsability {
  const t = now.getTime();
  let reason: TapUsabilityReason;
  if (!scope.methodEnabledForUser) reason = 'DisabledByPolicy';
  else if (pass.isUsableOnce && pass.usedDateTime !== null) reason = 'OneTimeUsed';
  else if (t >= tapEndDateTime(pass).getTime()) reason = 'Expired';
  else if (t < pass.startDateTime.getTime()) reason = 'NotYetValid';
  else reason = 'EnabledByPolicy';
  return { isUsable: reason === 'EnabledByPolicy', methodUsabilityReason: reason };
}
