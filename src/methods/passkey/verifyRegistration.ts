/**
 * Verify a passkey registration (WebAuthn L3 §7.1) under the Fido2 policy (PK-1, PK-2).
 *
 * Order: response shape → clientDataJSON (type, challenge, origin) → rpIdHash → flags (UP, UV) →
 * attested credential data → algorithm → key restrictions → passkey type → attestation.
 * The first failing step decides the reason. Bad input never throws.
 *
 * Attestation. The statement itself (signature, format rules, AAGUID extension) is checked by
 * simplewebauthn's `verifyRegistrationResponse`, run only after every relying-party check above
 * has passed, so anything it rejects is the statement's fault. Its trust store (`SettingsService`)
 * is kept empty so that it never builds certificate paths: trust is decided by our own chain check
 * against the configured anchors at `now` (attestationTrust.ts).
 * - Enforced (`isAttestationEnforced`): `none` and self attestation are `AttestationUntrusted`;
 *   a statement that does not verify is `AttestationInvalid`; one that verifies but does not chain
 *   to an anchor valid at `now` is `AttestationUntrusted`. `android-safetynet` (retired by Google)
 *   and unknown formats are `AttestationUntrusted`.
 * - Not enforced: the passkey registers whatever the statement says; `attestationVerified` and
 *   `attestationDetail` record the outcome (PK-5), as Entra does when attestation is off.
 *
 * Clock. simplewebauthn 14 takes no time parameter and `SettingsService`/`MetadataService` have
 * no clock hook. Inside the statement check it reads the wall clock in three places: the packed
 * and tpm leaf certificate validity, and android-key's check of x5c against its own last
 * certificate. Everything Gatehouse decides (chain validity, trust) uses `now`. In production `now`
 * is the request time, so the two agree; tests replaying old statements pin both.
 */
import { verifyRegistrationResponse, SettingsService, SimpleWebAuthnError } from '@simplewebauthn/server';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { decodeAttestationObject, decodeCredentialPublicKey, convertAAGUIDToString, cose } from '@simplewebauthn/server/helpers';
import { X509Certificate } from 'node:crypto';
import { modelName as lookupModelName, type AaguidNames, type TrustAnchors } from './aaguid.ts';
import { anchorsFor, validateAttestationChain } from './attestationTrust.ts';
import {
  bytesEqual,
  checkClientData,
  checkFlags,
  checkRpIdHash,
  fromBase64Url,
  parseAuthData,
  toBase64Url,
  type CheckedClientData,
  type CrossOriginRule,
  checkCredentialEnvelope,
} from './ceremony.ts';
import { SUPPORTED_ALGORITHM_IDS } from './options.ts';
import { checkKeyRestrictions, checkPasskeyType, passkeyTypeOf, type Fido2Policy, type PasskeyType } from './policy.ts';
import { fail, type PasskeyFailure } from './result.ts';

export interface VerifyPasskeyRegistrationInput {
  /** The browser's `PublicKeyCredential.toJSON()`, as received: it is checked, not trusted. */
  response: RegistrationResponseJSON;
  /** The challenge issued for this flow (PK-3). */
  expectedChallenge: Uint8Array;
  /** Configured origins, e.g. `https://login.example.com` (PK-1). */
  expectedOrigins: readonly string[];
  /** Configured RP ID (PK-1). */
  expectedRpId: string;
  policy: Fido2Policy;
  trustAnchors: TrustAnchors;
  aaguidNames: AaguidNames;
  /** The time certificates must be valid at. */
  now: Date;
}

/** What to persist (PK-5). */
export interface RegisteredPasskey {
  /** base64url */
  credentialId: string;
  /** COSE_Key bytes. */
  publicKey: Uint8Array;
  counter: number;
  /** Lowercase, with dashes; all zeros when the authenticator does not say. */
  aaguid: string;
  /** From the AAGUID list; null when unknown. */
  modelName: string | null;
  /** From the BE flag; fixed for the life of the credential. */
  deviceType: PasskeyType;
  /** BS flag at registration. */
  backedUp: boolean;
  transports: string[];
  attestationFormat: string;
  /** The statement verified and chains to a trust anchor valid at `now`. */
  attestationVerified: boolean;
  /** Why `attestationVerified` is what it is, for the record. */
  attestationDetail: string;
}

export type PasskeyRegistrationResult = { ok: true; credential: RegisteredPasskey } | PasskeyFailure;

/** Relying-party rules. Production always uses {@link GATEHOUSE_REGISTRATION_RULES}. */
export interface RegistrationRules {
  requireUserVerification: boolean;
  supportedAlgorithmIDs: readonly number[];
  crossOrigin: CrossOriginRule;
}

export const GATEHOUSE_REGISTRATION_RULES: Readonly<RegistrationRules> = Object.freeze({
  requireUserVerification: true,
  supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
  crossOrigin: Object.freeze({ allow: false as const }),
});

/** Formats PK-2 verifies against trust anchors. */
const VERIFIABLE_FORMATS = new Set(['packed', 'tpm', 'android-key', 'apple', 'fido-u2f']);
const LIBRARY_FORMATS = ['packed', 'tpm', 'android-key', 'android-safetynet', 'apple', 'fido-u2f'] as const;
/** WebAuthn L3 §7.1 step 24 (credentialIdLength). */
const MAX_CREDENTIAL_ID_BYTES = 1023;

export function verifyPasskeyRegistration(input: VerifyPasskeyRegistrationInput): Promise<PasskeyRegistrationResult> {
  return verifyRegistrationWithRules(input, GATEHOUSE_REGISTRATION_RULES);
}

/**
 * {@link verifyPasskeyRegistration} with the relying-party rules spelled out. Exists so tests can
 * relax one rule (UV, algorithms, cross-origin) to reach the steps behind it; not exported from
 * the method's index.
 */
export async function verifyRegistrationWithRules(
  input: VerifyPasskeyRegistrationInput,
  rules: RegistrationRules,
): Promise<PasskeyRegistrationResult> {
  try {
    return await verify(input, rules);
  } catch (err) {
    // Every step catches what it expects; this is the net under the net.
    return fail('MalformedResponse', `registration could not be verified: ${(err as Error)?.message ?? String(err)}`);
  }
}

async function verify(input: VerifyPasskeyRegistrationInput, rules: RegistrationRules): Promise<PasskeyRegistrationResult> {
  const { response, policy } = input;
  const envelope = checkCredentialEnvelope(response);
  if (!envelope.ok) return envelope;
  const { id, inner: attestationResponse } = envelope;
  if (fromBase64Url(id) === undefined) return fail('MalformedResponse', 'credential id is not base64url');

  const clientData = checkClientData(attestationResponse.clientDataJSON, {
    type: 'webauthn.create',
    challenge: input.expectedChallenge,
    origins: input.expectedOrigins,
    crossOrigin: rules.crossOrigin,
  });
  if (!clientData.ok) return clientData;

  const attestationObjectBytes = fromBase64Url(attestationResponse.attestationObject);
  if (!attestationObjectBytes || attestationObjectBytes.byteLength === 0) {
    return fail('MalformedResponse', 'attestationObject is missing or not base64url');
  }
  let fmt: unknown;
  let authDataBytes: unknown;
  let attStmt: unknown;
  try {
    const decoded = decodeAttestationObject(attestationObjectBytes);
    fmt = decoded.get('fmt');
    authDataBytes = decoded.get('authData');
    attStmt = decoded.get('attStmt');
  } catch (err) {
    return fail('MalformedResponse', `attestationObject is not valid CBOR: ${(err as Error).message}`);
  }
  if (typeof fmt !== 'string' || !(authDataBytes instanceof Uint8Array) || !(attStmt instanceof Map)) {
    return fail('MalformedResponse', 'attestationObject lacks fmt, authData or attStmt');
  }

  const parsed = parseAuthData(authDataBytes);
  if (!parsed.ok) return parsed;
  const { authData } = parsed;

  const rpFailure = checkRpIdHash(authData.rpIdHash, input.expectedRpId);
  if (rpFailure) return rpFailure;
  const flagFailure = checkFlags(authData.flags, rules.requireUserVerification);
  if (flagFailure) return flagFailure;

  const { credentialID, credentialPublicKey, aaguid: aaguidBytes } = authData;
  if (!authData.flags.at || !credentialID || !credentialPublicKey || !aaguidBytes) {
    return fail('MalformedResponse', 'authenticator data carries no attested credential data (AT flag)');
  }
  if (credentialID.byteLength > MAX_CREDENTIAL_ID_BYTES) {
    return fail('MalformedResponse', `credential id is ${credentialID.byteLength} bytes, at most ${MAX_CREDENTIAL_ID_BYTES} allowed`);
  }
  const credentialId = toBase64Url(credentialID);
  if (!bytesEqual(fromBase64Url(id) ?? new Uint8Array(), credentialID)) {
    return fail('MalformedResponse', `response id ${id} differs from the credential id ${credentialId} in authenticator data`);
  }

  let alg: unknown;
  try {
    alg = decodeCredentialPublicKey(credentialPublicKey).get(cose.COSEKEYS.alg);
  } catch (err) {
    return fail('MalformedResponse', `credential public key is not a COSE key: ${(err as Error).message}`);
  }
  if (typeof alg !== 'number') return fail('MalformedResponse', 'credential public key has no numeric alg');
  if (!rules.supportedAlgorithmIDs.includes(alg)) {
    return fail('UnsupportedAlgorithm', `credential algorithm ${alg}, expected one of: ${rules.supportedAlgorithmIDs.join(', ')}`);
  }

  const aaguid = convertAAGUIDToString(aaguidBytes);
  const model = lookupModelName(aaguid, input.aaguidNames);

  const restriction = checkKeyRestrictions(aaguid, policy, model);
  if (!restriction.ok) return restriction;
  const flags = { backupEligible: authData.flags.be, backedUp: authData.flags.bs };
  const typeCheck = checkPasskeyType(flags, policy);
  if (!typeCheck.ok) return typeCheck;

  const attestation = await assessAttestation({
    // simplewebauthn decodes base64url strictly: hand it canonical encodings of the same bytes.
    response: {
      ...response,
      id: credentialId,
      rawId: credentialId,
      response: {
        ...attestationResponse,
        clientDataJSON: toBase64Url(clientData.raw),
        attestationObject: toBase64Url(attestationObjectBytes),
      },
    },
    clientData,
    rpId: input.expectedRpId,
    fmt,
    attStmt: attStmt as Map<string, unknown>,
    alg,
    aaguid,
    trustAnchors: input.trustAnchors,
    now: input.now,
  });
  if (policy.isAttestationEnforced && !attestation.trusted) {
    return fail(attestation.statementFailed ? 'AttestationInvalid' : 'AttestationUntrusted', attestation.detail);
  }

  const transports = Array.isArray(attestationResponse.transports)
    ? attestationResponse.transports.filter((t): t is string => typeof t === 'string')
    : [];
  return {
    ok: true,
    credential: {
      credentialId,
      publicKey: credentialPublicKey,
      counter: authData.counter,
      aaguid,
      modelName: model ?? null,
      deviceType: passkeyTypeOf(flags),
      backedUp: flags.backedUp,
      transports,
      attestationFormat: fmt,
      attestationVerified: attestation.trusted,
      attestationDetail: attestation.detail,
    },
  };
}

interface AttestationAssessment {
  trusted: boolean;
  /** The statement itself is broken (as opposed to merely not trusted). */
  statementFailed: boolean;
  detail: string;
}

async function assessAttestation(a: {
  response: RegistrationResponseJSON;
  clientData: CheckedClientData;
  rpId: string;
  fmt: string;
  attStmt: Map<string, unknown>;
  alg: number;
  aaguid: string;
  trustAnchors: TrustAnchors;
  now: Date;
}): Promise<AttestationAssessment> {
  const { fmt } = a;
  if (fmt === 'none') {
    if (a.attStmt.size > 0) return { trusted: false, statementFailed: true, detail: 'format none with a non-empty attestation statement' };
    return { trusted: false, statementFailed: false, detail: 'no attestation (format none)' };
  }
  if (!VERIFIABLE_FORMATS.has(fmt)) {
    const why = fmt === 'android-safetynet' ? 'retired by Google and not verified' : 'not supported';
    return { trusted: false, statementFailed: false, detail: `attestation format ${fmt} is ${why}` };
  }

  const statement = await verifyStatement(a);
  if (!statement.ok) return { trusted: false, statementFailed: true, detail: `${fmt} attestation statement does not verify: ${statement.detail}` };

  const x5c = a.attStmt.get('x5c');
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => c instanceof Uint8Array)) {
    return { trusted: false, statementFailed: false, detail: `${fmt} self attestation (no certificate) proves nothing about the model` };
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(x5c[0] as Uint8Array);
  } catch {
    return { trusted: false, statementFailed: true, detail: `${fmt} attestation certificate does not parse` };
  }
  const anchors = anchorsFor(a.trustAnchors, { fmt, aaguid: a.aaguid, leaf });
  if (!anchors) {
    return { trusted: false, statementFailed: false, detail: `no trust anchor is configured for AAGUID ${a.aaguid} or format ${fmt}` };
  }
  const chain = validateAttestationChain(x5c as Uint8Array[], anchors.roots, a.now);
  if (!chain.ok) return { trusted: false, statementFailed: false, detail: `${fmt} attestation: ${chain.detail} (anchors: ${anchors.description})` };
  return { trusted: true, statementFailed: false, detail: `${fmt} attestation chains to ${anchors.description}` };
}

function libraryErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof SimpleWebAuthnError) return e.code;
  }
  return undefined;
}

function emptyLibraryTrustStore(): void {
  // Path validation in simplewebauthn is skipped when it has no roots for a format; we validate
  // chains ourselves at `now`. Always the same value, so concurrent calls cannot race.
  for (const identifier of LIBRARY_FORMATS) {
    if (SettingsService.getRootCertificates({ identifier }).length > 0) {
      SettingsService.setRootCertificates({ identifier, certificates: [] });
    }
  }
}

async function verifyStatement(a: {
  response: RegistrationResponseJSON;
  clientData: CheckedClientData;
  rpId: string;
  alg: number;
}): Promise<{ ok: true } | { ok: false; detail: string }> {
  emptyLibraryTrustStore();
  try {
    // Every check the library repeats has passed already: pass it the values it will find.
    const result = await verifyRegistrationResponse({
      response: a.response,
      expectedChallenge: a.clientData.challenge,
      expectedOrigin: a.clientData.origin,
      expectedRPID: a.rpId,
      requireUserPresence: false,
      requireUserVerification: false,
      supportedAlgorithmIDs: [a.alg],
    });
    return result.verified ? { ok: true } : { ok: false, detail: 'signature does not verify' };
  } catch (err) {
    // Plain Errors mostly; SimpleWebAuthnError carries a code worth keeping in the record.
    const code = libraryErrorCode(err);
    const message = (err as Error)?.message ?? String(err);
    return { ok: false, detail: code ? `${message} [${code}]` : message };
  }
}
