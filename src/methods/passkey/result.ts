/**
 * Failure codes shared by the passkey ceremonies. Each is a stable code that sign-in and audit
 * records keep; `detail` is for logs and names the value received and the value expected.
 */

export type PasskeyFailureReason =
  /** clientDataJSON.challenge is not the challenge this flow issued. */
  | 'ChallengeMismatch'
  /** clientDataJSON.origin is not one of the configured origins, or the ceremony ran cross-origin. */
  | 'OriginMismatch'
  /** authenticatorData.rpIdHash is not SHA-256 of the configured RP ID. */
  | 'RpIdMismatch'
  /** The UP flag is not set: nobody touched the authenticator. */
  | 'UserPresenceRequired'
  /** The UV flag is not set (PK-1: user verification is always required). */
  | 'UserVerificationRequired'
  /** With attestation enforced: the attestation statement does not verify. */
  | 'AttestationInvalid'
  /** With attestation enforced: the statement verifies but does not chain to a trust anchor, or there is none. */
  | 'AttestationUntrusted'
  /** Key restrictions (block list) name this AAGUID. */
  | 'AaguidBlocked'
  /** Key restrictions (allow list) do not name this AAGUID. */
  | 'AaguidNotAllowed'
  /** The passkey is device-bound or synced and the policy allows only the other kind. */
  | 'PasskeyTypeNotAllowed'
  /** The response is not a well-formed WebAuthn response. */
  | 'MalformedResponse'
  /** The credential's COSE algorithm is not one this RP offers or can verify. */
  | 'UnsupportedAlgorithm'
  /** PK-4: stored and presented counters are both non-zero and the presented one is not greater. */
  | 'CounterRegression'
  /** The assertion signature does not verify under the stored public key. */
  | 'SignatureInvalid'
  /** The assertion is for another credential than the stored one the caller passed. */
  | 'CredentialMismatch'
  /** The BE flag differs from the value recorded at registration (WebAuthn L3 §7.2). */
  | 'BackupEligibilityMismatch';

export interface PasskeyFailure {
  ok: false;
  reason: PasskeyFailureReason;
  /** For logs and audit only: names the value received and the value expected. */
  detail: string;
}

export function fail<R extends PasskeyFailureReason>(reason: R, detail: string): PasskeyFailure & { reason: R } {
  return { ok: false, reason, detail };
}
