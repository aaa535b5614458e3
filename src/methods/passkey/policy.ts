/**
 * The Fido2 method policy (PK-2) as plain data, and the pure checks the ceremonies run against it.
 *
 * Field names follow Graph's `fido2AuthenticationMethodConfiguration`, so an exported Entra policy
 * loads unchanged. `state`, `includeTargets`, `excludeTargets` (MTH-2) and
 * `isSelfServiceRegistrationAllowed` are decided by the caller before a ceremony starts.
 */
import type { PasskeyFailure } from './result.ts';
import { fail } from './result.ts';

export type PasskeyType = 'deviceBound' | 'synced';

export interface Fido2KeyRestrictions {
  /** `false`: the AAGUID list is ignored. */
  isEnforced: boolean;
  /** `allow`: only listed AAGUIDs may be used. `block`: listed AAGUIDs may not. */
  enforcementType: 'allow' | 'block';
  /** AAGUIDs in any case, with dashes (`cb69481e-8ff7-4039-93ec-0a2729a154a8`). */
  aaGuids: readonly string[];
}

export interface Fido2Policy {
  /** Registration must carry an attestation that verifies against a trust anchor (registration only). */
  isAttestationEnforced: boolean;
  /** Checked at registration and at every sign-in (PK-2). */
  keyRestrictions: Fido2KeyRestrictions;
  /** Which passkeys may be used, from the BE flag; checked at registration and every sign-in. */
  passkeyTypes: PasskeyType | 'both';
}

/** A new tenant's policy: no attestation, no key restrictions, device-bound and synced passkeys. */
export const DEFAULT_FIDO2_POLICY: Readonly<Fido2Policy> = Object.freeze({
  isAttestationEnforced: false,
  keyRestrictions: Object.freeze({ isEnforced: false, enforcementType: 'block', aaGuids: Object.freeze([]) }),
  passkeyTypes: 'both',
});

export type PolicyCheck<R extends PasskeyFailure['reason']> = { ok: true } | (PasskeyFailure & { reason: R });

function describe(aaguid: string, modelName: string | undefined): string {
  return modelName ? `AAGUID ${aaguid} (${modelName})` : `AAGUID ${aaguid}`;
}

/**
 * PK-2 key restrictions. `modelName` only makes the detail readable. The all-zero AAGUID (U2F keys,
 * many platform authenticators) is an ordinary value here: an allow list must name it to let it in.
 */
export function checkKeyRestrictions(
  aaguid: string,
  policy: Pick<Fido2Policy, 'keyRestrictions'>,
  modelName?: string,
): PolicyCheck<'AaguidBlocked' | 'AaguidNotAllowed'> {
  const { isEnforced, enforcementType, aaGuids } = policy.keyRestrictions;
  if (!isEnforced) return { ok: true };
  const wanted = aaguid.toLowerCase();
  const listed = aaGuids.some((g) => g.toLowerCase() === wanted);
  if (enforcementType === 'block' && listed) {
    return fail('AaguidBlocked', `${describe(wanted, modelName)} is blocked by key restrictions`);
  }
  if (enforcementType === 'allow' && !listed) {
    return fail(
      'AaguidNotAllowed',
      `${describe(wanted, modelName)} is not in the key restrictions allow list (${aaGuids.length} AAGUIDs)`,
    );
  }
  return { ok: true };
}

/** Device-bound = BE flag false; synced = BE true (the BS flag only says whether it is backed up now). */
export function passkeyTypeOf(flags: { backupEligible: boolean }): PasskeyType {
  return flags.backupEligible ? 'synced' : 'deviceBound';
}

/** PK-2 passkey types. `backedUp` (BS) does not change the type; it is accepted for the record. */
export function checkPasskeyType(
  flags: { backupEligible: boolean; backedUp?: boolean },
  policy: Pick<Fido2Policy, 'passkeyTypes'>,
): PolicyCheck<'PasskeyTypeNotAllowed'> {
  const type = passkeyTypeOf(flags);
  if (policy.passkeyTypes === 'both' || policy.passkeyTypes === type) return { ok: true };
  return fail(
    'PasskeyTypeNotAllowed',
    `${type} passkey (BE=${flags.backupEligible ? 1 : 0}) is not allowed; the policy allows only ${policy.passkeyTypes} passkeys`,
  );
}

export type CounterCheck = { ok: true; newCounter: number } | (PasskeyFailure & { reason: 'CounterRegression' });

/**
 * PK-4 signature counter. A counter that does not grow means two authenticators hold the same key
 * (a clone) or an assertion was replayed: the caller flags the credential. Authenticators without
 * a counter always send 0 (synced passkeys do), so 0 on either side is never a regression.
 *
 * `newCounter` never goes down: an authenticator that once counted and now sends 0 keeps the stored
 * value, so a later low non-zero counter from a clone is still caught.
 */
export function checkSignCounter(stored: number, presented: number): CounterCheck {
  if (stored > 0 && presented > 0 && presented <= stored) {
    return fail(
      'CounterRegression',
      `signature counter ${presented} is not greater than the stored ${stored}: possibly cloned authenticator or replayed assertion`,
    );
  }
  return { ok: true, newCounter: Math.max(stored, presented) };
}
