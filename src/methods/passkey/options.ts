/**
 * The options a browser passes to `navigator.credentials.create()` / `.get()` (PK-1, PK-6).
 * Pure: the challenge comes in (the caller stores it with the flow, PK-3).
 */
import type {
  AttestationConveyancePreference,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';

/**
 * ES256, EdDSA, RS256 — what real authenticators use. Set explicitly: simplewebauthn 14 on Node 24
 * would offer ML-DSA-44 first, which only virtual authenticators pick.
 */
export const SUPPORTED_ALGORITHM_IDS: readonly number[] = Object.freeze([-7, -8, -257]);

/** How long the browser waits for the user, in milliseconds (PK-3 challenges live 5 minutes). */
export const CEREMONY_TIMEOUT_MS = 300_000;

/** WebAuthn wants at least 16 random bytes. */
const MIN_CHALLENGE_BYTES = 16;
/** A user handle is at most 64 bytes (WebAuthn §5.4.3). */
const MAX_USER_HANDLE_BYTES = 64;

export interface RegistrationOptionsInput {
  rpId: string;
  rpName: string;
  user: {
    /** The user handle: opaque, no personal data, 1 to 64 bytes. Comes back as `userHandle` at sign-in. */
    id: Uint8Array;
    name: string;
    displayName: string;
  };
  challenge: Uint8Array;
  /** base64url ids of the user's existing passkeys, so the same authenticator is not registered twice. */
  excludeCredentialIds: readonly string[];
  /** `direct` when the policy enforces attestation, else `none`. */
  attestation: Extract<AttestationConveyancePreference, 'none' | 'direct'>;
}

function checkChallenge(challenge: Uint8Array): void {
  if (challenge.byteLength < MIN_CHALLENGE_BYTES) {
    throw new RangeError(`challenge has ${challenge.byteLength} bytes, expected at least ${MIN_CHALLENGE_BYTES}`);
  }
}

/** PK-1: a discoverable credential with user verification required. */
export function registrationOptions(input: RegistrationOptionsInput): PublicKeyCredentialCreationOptionsJSON {
  checkChallenge(input.challenge);
  const handle = input.user.id;
  if (handle.byteLength < 1 || handle.byteLength > MAX_USER_HANDLE_BYTES) {
    throw new RangeError(`user.id has ${handle.byteLength} bytes, expected 1 to ${MAX_USER_HANDLE_BYTES}`);
  }
  return {
    rp: { id: input.rpId, name: input.rpName },
    user: {
      id: Buffer.from(handle).toString('base64url'),
      name: input.user.name,
      displayName: input.user.displayName,
    },
    challenge: Buffer.from(input.challenge).toString('base64url'),
    pubKeyCredParams: SUPPORTED_ALGORITHM_IDS.map((alg) => ({ type: 'public-key', alg })),
    timeout: CEREMONY_TIMEOUT_MS,
    excludeCredentials: input.excludeCredentialIds.map((id) => ({ id, type: 'public-key' })),
    authenticatorSelection: {
      residentKey: 'required',
      requireResidentKey: true,
      userVerification: 'required',
    },
    attestation: input.attestation,
    extensions: { credProps: true },
  };
}

export interface AuthenticationOptionsInput {
  rpId: string;
  challenge: Uint8Array;
  /** Username-first sign-in: the user's passkeys. Empty or absent: usernameless (PK-6). */
  allowCredentialIds?: readonly string[];
}

/** PK-6: an empty allow list lets the authenticator offer any discoverable credential for the RP. */
export function authenticationOptions(input: AuthenticationOptionsInput): PublicKeyCredentialRequestOptionsJSON {
  checkChallenge(input.challenge);
  return {
    rpId: input.rpId,
    challenge: Buffer.from(input.challenge).toString('base64url'),
    timeout: CEREMONY_TIMEOUT_MS,
    userVerification: 'required',
    allowCredentials: (input.allowCredentialIds ?? []).map((id) => ({ id, type: 'public-key' })),
  };
}
