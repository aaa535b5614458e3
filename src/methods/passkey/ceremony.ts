/**
 * The relying-party checks both ceremonies share (WebAuthn L3 §7.1 / §7.2): clientDataJSON,
 * rpIdHash and flags. Each returns a typed failure naming what was received and what was expected.
 * Nothing here throws for bad input.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { parseAuthenticatorData, type ParsedAuthenticatorData } from '@simplewebauthn/server/helpers';
import { fail, type PasskeyFailure } from './result.ts';

// base64url; the standard alphabet is tolerated as simplewebauthn (Node's decoder) does.
const B64URL_RE = /^[A-Za-z0-9_\-+/]*={0,2}$/;

/** Strict base64url (padding tolerated): Buffer alone would skip invalid characters silently. */
export function fromBase64Url(value: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (typeof value !== 'string' || !B64URL_RE.test(value)) return undefined;
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export function sha256(data: Uint8Array | string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** Whether a ceremony run inside a cross-origin iframe is acceptable. Gatehouse pages never are. */
export type CrossOriginRule = { allow: false } | { allow: true; topOrigins: readonly string[] | 'any' };

export interface ClientDataExpectation {
  type: 'webauthn.create' | 'webauthn.get';
  challenge: Uint8Array;
  origins: readonly string[];
  crossOrigin: CrossOriginRule;
}

export interface CheckedClientData {
  ok: true;
  /** The exact challenge and origin strings the client signed. */
  challenge: string;
  origin: string;
  crossOrigin: boolean;
  topOrigin: string | undefined;
  /** The decoded clientDataJSON bytes. */
  raw: Uint8Array<ArrayBuffer>;
  clientDataHash: Uint8Array;
}

function shown(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(JSON.stringify(value));
}

/**
 * The PublicKeyCredential envelope both ceremonies share: an object with a non-empty `id`, the
 * same `rawId`, type `public-key` and an inner `response` object.
 */
export function checkCredentialEnvelope<R>(response: { id?: unknown; rawId?: unknown; type?: unknown; response?: R } | null | undefined):
  { ok: true; id: string; inner: NonNullable<R> } | PasskeyFailure {
  if (typeof response !== 'object' || response === null) return fail('MalformedResponse', 'response is not an object');
  const { id, rawId, type, response: inner } = response;
  if (typeof id !== 'string' || id === '') return fail('MalformedResponse', 'credential id is missing');
  if (rawId !== id) return fail('MalformedResponse', `rawId ${String(rawId)} differs from id ${id}`);
  if (type !== 'public-key') return fail('MalformedResponse', `credential type ${String(type)}, expected "public-key"`);
  if (typeof inner !== 'object' || inner === null) return fail('MalformedResponse', 'response.response is missing');
  return { ok: true, id, inner: inner as NonNullable<R> };
}

/** §7.1 steps 5–11 / §7.2 steps 10–14. */
export function checkClientData(
  clientDataJSON: unknown,
  expected: ClientDataExpectation,
): CheckedClientData | PasskeyFailure {
  const raw = fromBase64Url(clientDataJSON);
  if (!raw) return fail('MalformedResponse', 'clientDataJSON is not a base64url string');
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return fail('MalformedResponse', 'clientDataJSON is not UTF-8 JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return fail('MalformedResponse', 'clientDataJSON is not a JSON object');
  }
  const c = data as Record<string, unknown>;

  if (c.type !== expected.type) {
    return fail('MalformedResponse', `clientDataJSON.type ${shown(c.type)}, expected "${expected.type}"`);
  }
  const expectedChallenge = toBase64Url(expected.challenge);
  const challenge = fromBase64Url(c.challenge);
  if (!challenge || !bytesEqual(challenge, expected.challenge)) {
    return fail('ChallengeMismatch', `challenge ${shown(c.challenge)}, expected "${expectedChallenge}"`);
  }
  if (typeof c.origin !== 'string' || !expected.origins.includes(c.origin)) {
    return fail('OriginMismatch', `origin ${shown(c.origin)}, expected one of: ${expected.origins.join(', ')}`);
  }

  const crossOrigin = c.crossOrigin === true;
  if (c.crossOrigin !== undefined && typeof c.crossOrigin !== 'boolean') {
    return fail('MalformedResponse', `clientDataJSON.crossOrigin ${shown(c.crossOrigin)} is not a boolean`);
  }
  if (c.topOrigin !== undefined && typeof c.topOrigin !== 'string') {
    return fail('MalformedResponse', `clientDataJSON.topOrigin ${shown(c.topOrigin)} is not a string`);
  }
  const topOrigin = c.topOrigin as string | undefined;
  if (crossOrigin) {
    const rule = expected.crossOrigin;
    if (!rule.allow) {
      return fail(
        'OriginMismatch',
        `cross-origin ceremony (crossOrigin=true${topOrigin ? `, topOrigin "${topOrigin}"` : ''}) is not accepted; the ceremony must run in a top-level page of ${expected.origins.join(', ')}`,
      );
    }
    if (topOrigin !== undefined && rule.topOrigins !== 'any' && !rule.topOrigins.includes(topOrigin)) {
      return fail('OriginMismatch', `topOrigin "${topOrigin}", expected one of: ${rule.topOrigins.join(', ')}`);
    }
  } else if (topOrigin !== undefined) {
    // L3 §5.8.1: topOrigin is only present in cross-origin ceremonies.
    return fail('MalformedResponse', `topOrigin "${topOrigin}" in a ceremony that is not cross-origin`);
  }

  // Token Binding is gone from browsers and from WebAuthn L3. An object must still carry a valid
  // L2 status; other values (old Edge sent the string "unused") are ignored, as py_webauthn does.
  const tb = c.tokenBinding;
  if (typeof tb === 'object' && tb !== null) {
    const status = (tb as { status?: unknown }).status;
    if (status !== 'present' && status !== 'supported') {
      return fail('MalformedResponse', `tokenBinding.status ${shown(status)}, expected "present" or "supported"`);
    }
  }

  return { ok: true, challenge: c.challenge as string, origin: c.origin, crossOrigin, topOrigin, raw, clientDataHash: sha256(raw) };
}

export function parseAuthData(bytes: Uint8Array): { ok: true; authData: ParsedAuthenticatorData } | PasskeyFailure {
  try {
    // parseAuthenticatorData patches a Firefox CBOR quirk in place: give it a copy.
    return { ok: true, authData: parseAuthenticatorData(Uint8Array.from(bytes)) };
  } catch (err) {
    return fail('MalformedResponse', `authenticator data does not parse: ${(err as Error).message}`);
  }
}

export function checkRpIdHash(rpIdHash: Uint8Array, rpId: string): PasskeyFailure | undefined {
  if (bytesEqual(rpIdHash, sha256(rpId))) return undefined;
  return fail(
    'RpIdMismatch',
    `rpIdHash ${Buffer.from(rpIdHash).toString('hex')} is not SHA-256 of the RP ID "${rpId}" (${Buffer.from(sha256(rpId)).toString('hex')})`,
  );
}

/** UP always; UV when required (PK-1); BS without BE is invalid (L3 §6.1). */
export function checkFlags(
  flags: ParsedAuthenticatorData['flags'],
  requireUserVerification: boolean,
): PasskeyFailure | undefined {
  if (!flags.up) return fail('UserPresenceRequired', 'authenticator data UP flag is 0, expected 1');
  if (requireUserVerification && !flags.uv) {
    return fail('UserVerificationRequired', 'authenticator data UV flag is 0, expected 1 (user verification is required)');
  }
  if (flags.bs && !flags.be) {
    return fail('MalformedResponse', 'authenticator data has BS=1 with BE=0');
  }
  return undefined;
}
