/**
 * Verify a passkey sign-in (WebAuthn L3 §7.2) under the Fido2 policy (PK-1, PK-2, PK-4).
 *
 * Order: response shape and credential id → clientDataJSON (type, challenge, origin) → rpIdHash →
 * flags (UP, UV) → signature → BE unchanged → counter (PK-4) → key restrictions and passkey type,
 * re-checked at every sign-in (PK-2). Everything about the credential comes after the signature,
 * so a counter, BE or policy refusal is only ever recorded for a genuine assertion. The first failing step decides the
 * reason. Bad input never throws.
 *
 * The signature is checked by simplewebauthn's `verifySignature` (the same call its
 * `verifyAuthenticationResponse` makes); the other checks are ours because its counter rule is
 * stricter than PK-4 (it rejects a stored 100 followed by 0) and its errors carry no codes.
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { cose, decodeCredentialPublicKey, verifySignature } from '@simplewebauthn/server/helpers';
import { normalizeAaguid } from './aaguid.ts';
import {
  bytesEqual,
  checkClientData,
  checkFlags,
  checkRpIdHash,
  fromBase64Url,
  parseAuthData,
  type CrossOriginRule,
  checkCredentialEnvelope,
} from './ceremony.ts';
import { checkKeyRestrictions, checkPasskeyType, checkSignCounter, type Fido2Policy } from './policy.ts';
import { fail, type PasskeyFailure } from './result.ts';

/** The stored passkey the response claims to be. */
export interface StoredPasskey {
  /** base64url */
  credentialId: string;
  /** COSE_Key bytes as returned at registration. */
  publicKey: Uint8Array;
  counter: number;
  aaguid: string;
  /** BE flag at registration (device-bound = false). */
  backupEligible: boolean;
}

export interface VerifyPasskeyAuthenticationInput {
  response: AuthenticationResponseJSON;
  expectedChallenge: Uint8Array;
  expectedOrigins: readonly string[];
  expectedRpId: string;
  credential: StoredPasskey;
  policy: Fido2Policy;
  /** Sign-in time. No check depends on it today; taken so callers pass one clock everywhere. */
  now: Date;
  /** Only shapes the detail of a key-restriction refusal. */
  modelName?: string;
}

export type PasskeyAuthenticationResult =
  | {
      ok: true;
      /** Persist this: never lower than the stored counter (PK-4). */
      newCounter: number;
      /** BS flag now: a device-bound passkey never is; a synced one may change. */
      backedUp: boolean;
      userVerified: boolean;
      /** base64url user handle when the authenticator sent one (always for discoverable credentials). */
      userHandle: string | null;
    }
  | PasskeyFailure;

export interface AuthenticationRules {
  requireUserVerification: boolean;
  crossOrigin: CrossOriginRule;
}

export const GATEHOUSE_AUTHENTICATION_RULES: Readonly<AuthenticationRules> = Object.freeze({
  requireUserVerification: true,
  crossOrigin: Object.freeze({ allow: false as const }),
});

/** COSE algorithms simplewebauthn can verify (ML-DSA only where the runtime has it). */
const VERIFIABLE_ALGS = new Set<number>(
  Object.values(cose.COSEALG).filter((v): v is number => typeof v === 'number'),
);

export function verifyPasskeyAuthentication(input: VerifyPasskeyAuthenticationInput): Promise<PasskeyAuthenticationResult> {
  return verifyAuthenticationWithRules(input, GATEHOUSE_AUTHENTICATION_RULES);
}

/**
 * {@link verifyPasskeyAuthentication} with the relying-party rules spelled out, so tests can relax
 * UV or cross-origin to reach the signature check. Not exported from the method's index.
 */
export async function verifyAuthenticationWithRules(
  input: VerifyPasskeyAuthenticationInput,
  rules: AuthenticationRules,
): Promise<PasskeyAuthenticationResult> {
  try {
    return await verify(input, rules);
  } catch (err) {
    return fail('MalformedResponse', `assertion could not be verified: ${(err as Error)?.message ?? String(err)}`);
  }
}

async function verify(input: VerifyPasskeyAuthenticationInput, rules: AuthenticationRules): Promise<PasskeyAuthenticationResult> {
  const { response, credential, policy } = input;
  const envelope = checkCredentialEnvelope(response);
  if (!envelope.ok) return envelope;
  const { id, inner: assertion } = envelope;
  const presentedId = fromBase64Url(id);
  const storedId = fromBase64Url(credential.credentialId);
  if (!presentedId || !storedId || !bytesEqual(presentedId, storedId)) {
    return fail('CredentialMismatch', `assertion for credential ${id}, expected ${credential.credentialId}`);
  }

  const clientData = checkClientData(assertion.clientDataJSON, {
    type: 'webauthn.get',
    challenge: input.expectedChallenge,
    origins: input.expectedOrigins,
    crossOrigin: rules.crossOrigin,
  });
  if (!clientData.ok) return clientData;

  const authDataBytes = fromBase64Url(assertion.authenticatorData);
  if (!authDataBytes) return fail('MalformedResponse', 'authenticatorData is missing or not base64url');
  const signature = fromBase64Url(assertion.signature);
  if (!signature || signature.byteLength === 0) return fail('MalformedResponse', 'signature is missing or not base64url');
  let userHandle: string | null = null;
  if (assertion.userHandle !== undefined && assertion.userHandle !== null) {
    if (fromBase64Url(assertion.userHandle) === undefined) return fail('MalformedResponse', 'userHandle is not base64url');
    userHandle = assertion.userHandle;
  }

  const parsed = parseAuthData(authDataBytes);
  if (!parsed.ok) return parsed;
  const { authData } = parsed;
  const rpFailure = checkRpIdHash(authData.rpIdHash, input.expectedRpId);
  if (rpFailure) return rpFailure;
  const flagFailure = checkFlags(authData.flags, rules.requireUserVerification);
  if (flagFailure) return flagFailure;

  let alg: unknown;
  let kty: unknown;
  try {
    const key = decodeCredentialPublicKey(Uint8Array.from(credential.publicKey));
    alg = key.get(cose.COSEKEYS.alg);
    kty = key.get(cose.COSEKEYS.kty);
  } catch (err) {
    return fail('UnsupportedAlgorithm', `stored public key is not a COSE key: ${(err as Error).message}`);
  }
  if (typeof alg !== 'number' || !VERIFIABLE_ALGS.has(alg)) {
    return fail('UnsupportedAlgorithm', `stored public key algorithm ${String(alg)} cannot be verified`);
  }
  // simplewebauthn's DER reader ignores bytes after the ECDSA signature, so one assertion would
  // verify in many byte forms. Insist on exact DER.
  if (kty === cose.COSEKTY.EC2 && !isStrictDerEcdsaSignature(signature)) {
    return fail('SignatureInvalid', `signature is not a strict DER ECDSA signature (${signature.byteLength} bytes)`);
  }

  let valid: boolean;
  try {
    valid = await verifySignature({
      signature,
      data: new Uint8Array(Buffer.concat([authDataBytes, clientData.clientDataHash])),
      credentialPublicKey: Uint8Array.from(credential.publicKey),
    });
  } catch (err) {
    // A signature that is not even well-formed (bad DER, wrong length) is just not valid.
    return fail('SignatureInvalid', `signature does not verify under the stored public key (alg ${alg}): ${(err as Error).message}`);
  }
  if (!valid) return fail('SignatureInvalid', `signature does not verify under the stored public key (alg ${alg})`);

  if (authData.flags.be !== credential.backupEligible) {
    // BE is fixed when the credential is created; a change means another authenticator.
    return fail(
      'BackupEligibilityMismatch',
      `BE flag ${authData.flags.be ? 1 : 0}, expected ${credential.backupEligible ? 1 : 0} as at registration`,
    );
  }
  const counter = checkSignCounter(credential.counter, authData.counter);
  if (!counter.ok) return counter;

  const restriction = checkKeyRestrictions(normalizeAaguid(credential.aaguid), policy, input.modelName);
  if (!restriction.ok) return restriction;
  const typeCheck = checkPasskeyType({ backupEligible: credential.backupEligible }, policy);
  if (!typeCheck.ok) return typeCheck;

  return {
    ok: true,
    newCounter: counter.newCounter,
    backedUp: authData.flags.bs,
    userVerified: authData.flags.uv,
    userHandle,
  };
}

/** Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } in DER: definite minimal lengths, no trailing bytes. */
export function isStrictDerEcdsaSignature(sig: Uint8Array): boolean {
  let at = 0;
  const length = (): number | undefined => {
    const first = sig[at++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    if (first !== 0x81) return undefined; // ECDSA signatures up to P-521 fit in 255 bytes
    const n = sig[at++];
    return n !== undefined && n >= 0x80 ? n : undefined;
  };
  const integer = (): boolean => {
    if (sig[at++] !== 0x02) return false;
    const len = length();
    if (len === undefined || len === 0 || at + len > sig.length) return false;
    const first = sig[at]!;
    if (first & 0x80) return false; // negative
    if (first === 0 && len > 1 && !(sig[at + 1]! & 0x80)) return false; // non-minimal
    at += len;
    return true;
  };
  if (sig[at++] !== 0x30) return false;
  const seqLength = length();
  if (seqLength === undefined || at + seqLength !== sig.length) return false;
  return integer() && integer() && at === sig.length;
}
