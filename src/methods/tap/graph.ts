/**
 * A stored pass as Graph's `temporaryAccessPassAuthenticationMethod` (MTH-3, TAP-3, TAP-5).
 */
import { tapUsability, type TapUsabilityReason } from './usability.ts';

/** What the store keeps for a pass (the code itself only as a keyed hash, not needed here). */
export interface StoredTemporaryAccessPass {
  id: string;
  createdDateTime: Date;
  startDateTime: Date;
  lifetimeInMinutes: number;
  isUsableOnce: boolean;
  usedDateTime: Date | null;
}

export interface GraphTemporaryAccessPassMethod {
  '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod';
  id: string;
  /** The pass itself: only in the create response, `null` on every later read (TAP-3). */
  temporaryAccessPass: string | null;
  createdDateTime: string;
  startDateTime: string;
  lifetimeInMinutes: number;
  isUsableOnce: boolean;
  isUsable: boolean;
  methodUsabilityReason: TapUsabilityReason;
}

/**
 * A date as Graph writes `DateTimeOffset` values: ISO 8601 in UTC with `Z`, fractional seconds
 * only when there are any ("2022-06-05T00:00:00Z", "2022-06-02T16:21:09.765Z").
 */
export function graphDateTime(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

export interface ToGraphTapOptions {
  pass: StoredTemporaryAccessPass;
  /** Whether the methods policy enables TAP for the pass's user (MTH-2). */
  methodEnabledForUser: boolean;
  now: Date;
  /** The plain pass, given only when answering the create request. */
  temporaryAccessPass?: string;
}

export function toGraphTemporaryAccessPassMethod(o: ToGraphTapOptions): GraphTemporaryAccessPassMethod {
  const { pass } = o;
  const usability = tapUsability(pass, { methodEnabledForUser: o.methodEnabledForUser }, o.now);
  return {
    '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
    id: pass.id,
    temporaryAccessPass: o.temporaryAccessPass ?? null,
    createdDateTime: graphDateTime(pass.createdDateTime),
    startDateTime: graphDateTime(pass.startDateTime),
    lifetimeInMinutes: pass.lifetimeInMinutes,
    isUsableOnce: pass.isUsableOnce,
    isUsable: usability.isUsable,
    methodUsabilityReason: usability.methodUsabilityReason,
  };
}
