/**
 * A software WebAuthn authenticator plus the client half of the browser: it takes the options
 * JSON a relying party sends and returns the `PublicKeyCredential.toJSON()` a browser would post
 * back. ES256 (P-256) keys from node:crypto, discoverable credentials, UP and UV set.
 *
 * Usable from unit tests and from integration tests over HTTP (it needs nothing but the JSON).
 * It plays the browser's part too: the origin must be the RP ID or a subdomain of it.
 */
import { createHash, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

export interface SoftAuthenticatorOptions {
  /** Default: all zeros (the authenticator does not say). */
  aaguid?: string;
  /** BE flag: true makes it a synced passkey. Default false (device-bound). */
  backupEligible?: boolean;
  /** BS flag. Default: same as backupEligible. */
  backedUp?: boolean;
  /** `increment` (security keys; the default) or `zero` (synced passkeys never count). */
  signCountMode?: 'zero' | 'increment';
  /** `none` (default) or packed self attestation. */
  attestation?: 'none' | 'packed';
  /** Whether the UV flag is set. Default true. */
  userVerification?: boolean;
  /** Reported transports. Default `['internal', 'hybrid']`. */
  transports?: string[];
}

export interface SoftCredential {
  /** base64url */
  id: string;
  rpId: string;
  /** base64url user handle */
  userHandle: string;
  userName: string;
  signCount: number;
  privateKey: KeyObject;
  /** COSE_Key bytes */
  publicKeyCose: Uint8Array;
}

export interface SoftAuthenticator {
  readonly aaguid: string;
  /** `navigator.credentials.create()`: throws like a browser would (DOMException names in the message). */
  register(options: PublicKeyCredentialCreationOptionsJSON, origin: string): RegistrationResponseJSON;
  /** `navigator.credentials.get()`: an empty allow list picks the newest resident credential for the RP ID. */
  authenticate(options: PublicKeyCredentialRequestOptionsJSON, origin: string): AuthenticationResponseJSON;
  /** The credentials it holds, newest last. */
  credentials(): readonly SoftCredential[];
}

// ---------------------------------------------------------------------------------------------
// Minimal CBOR encoder (RFC 8949): unsigned and negative integers, byte and text strings,
// arrays and maps. Map keys keep insertion order; COSE and attestation objects need no more.

export type CborValue = number | string | Uint8Array | CborValue[] | Map<number | string, CborValue>;

function cborHead(major: number, length: number | bigint): Uint8Array {
  const n = BigInt(length);
  const m = major << 5;
  if (n < 24n) return Uint8Array.of(m | Number(n));
  if (n < 0x100n) return Uint8Array.of(m | 24, Number(n));
  if (n < 0x10000n) return Uint8Array.of(m | 25, Number(n >> 8n), Number(n & 0xffn));
  const out = new DataView(new ArrayBuffer(n < 0x100000000n ? 5 : 9));
  if (n < 0x100000000n) {
    out.setUint8(0, m | 26);
    out.setUint32(1, Number(n));
  } else {
    out.setUint8(0, m | 27);
    out.setBigUint64(1, n);
  }
  return new Uint8Array(out.buffer);
}

export function cborEncode(value: CborValue): Uint8Array {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`CBOR: only integers are supported, got ${value}`);
    return value >= 0 ? cborHead(0, value) : cborHead(1, -1n - BigInt(value));
  }
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    return concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return concat([cborHead(2, value.length), value]);
  if (Array.isArray(value)) return concat([cborHead(4, value.length), ...value.map(cborEncode)]);
  const parts = [cborHead(5, value.size)];
  for (const [k, v] of value) parts.push(cborEncode(k), cborEncode(v));
  return concat(parts);
}

// ---------------------------------------------------------------------------------------------

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => new Uint8Array(createHash('sha256').update(data).digest());

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

function aaguidBytes(aaguid: string): Uint8Array {
  const hex = aaguid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`not an AAGUID: ${aaguid}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** What a browser checks before talking to the authenticator. */
function checkOrigin(origin: string, rpId: string): void {
  const { hostname, protocol } = new URL(origin);
  const secure = protocol === 'https:' || hostname === 'localhost';
  if (!secure || (hostname !== rpId && !hostname.endsWith(`.${rpId}`))) {
    throw new Error(`SecurityError: RP ID "${rpId}" is not valid for origin ${origin}`);
  }
}

function coseEs256(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  return cborEncode(
    new Map<number, CborValue>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
    ]),
  );
}

function signEs256(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  // DER-encoded ECDSA signature, as authenticators produce.
  return new Uint8Array(createSign('sha256').update(data).sign(privateKey));
}

export function createSoftAuthenticator(options: SoftAuthenticatorOptions = {}): SoftAuthenticator {
  const aaguid = (options.aaguid ?? '00000000-0000-0000-0000-000000000000').toLowerCase();
  const aaguidRaw = aaguidBytes(aaguid);
  const backupEligible = options.backupEligible ?? false;
  const backedUp = options.backedUp ?? backupEligible;
  const mode = options.signCountMode ?? 'increment';
  const uv = options.userVerification ?? true;
  const transports = options.transports ?? ['internal', 'hybrid'];
  const store: SoftCredential[] = [];

  function flags(extra: number): number {
    return FLAG_UP | (uv ? FLAG_UV : 0) | (backupEligible ? FLAG_BE : 0) | (backedUp ? FLAG_BS : 0) | extra;
  }
  function nextCount(cred: SoftCredential): number {
    if (mode === 'increment') cred.signCount += 1;
    return cred.signCount;
  }
  function counterBytes(n: number): Uint8Array {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return new Uint8Array(b);
  }

  return {
    aaguid,
    credentials: () => store,

    register(opts, origin) {
      const rpId = opts.rp.id ?? new URL(origin).hostname;
      checkOrigin(origin, rpId);
      if (!opts.pubKeyCredParams.some((p) => p.type === 'public-key' && p.alg === -7)) {
        throw new Error('NotSupportedError: ES256 (-7) was not offered in pubKeyCredParams');
      }
      const held = new Set(store.filter((c) => c.rpId === rpId).map((c) => c.id));
      if ((opts.excludeCredentials ?? []).some((d) => held.has(d.id))) {
        throw new Error('InvalidStateError: this authenticator already holds an excluded credential');
      }

      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const idBytes = new Uint8Array(randomBytes(32));
      const cred: SoftCredential = {
        id: b64u(idBytes),
        rpId,
        userHandle: opts.user.id,
        userName: opts.user.name,
        signCount: 0,
        privateKey,
        publicKeyCose: coseEs256(publicKey),
      };
      // A resident credential for the same RP and user handle replaces the old one.
      const replaced = store.findIndex((c) => c.rpId === rpId && c.userHandle === cred.userHandle);
      if (replaced >= 0) store.splice(replaced, 1);
      store.push(cred);

      const clientDataJSON = new TextEncoder().encode(
        JSON.stringify({ type: 'webauthn.create', challenge: opts.challenge, origin, crossOrigin: false }),
      );
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(idBytes.length);
      const authData = concat([
        sha256(rpId),
        Uint8Array.of(flags(FLAG_AT)),
        counterBytes(nextCount(cred)),
        aaguidRaw,
        new Uint8Array(idLength),
        idBytes,
        cred.publicKeyCose,
      ]);
      const attStmt =
        options.attestation === 'packed'
          ? new Map<string, CborValue>([
              ['alg', -7],
              ['sig', signEs256(privateKey, concat([authData, sha256(clientDataJSON)]))],
            ])
          : new Map<string, CborValue>();
      const attestationObject = cborEncode(
        new Map<string, CborValue>([
          ['fmt', options.attestation === 'packed' ? 'packed' : 'none'],
          ['attStmt', attStmt],
          ['authData', authData],
        ]),
      );
      return {
        id: cred.id,
        rawId: cred.id,
        type: 'public-key',
        response: {
          clientDataJSON: b64u(clientDataJSON),
          attestationObject: b64u(attestationObject),
          authenticatorData: b64u(authData),
          transports,
          publicKeyAlgorithm: -7,
          publicKey: b64u(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))),
        },
        authenticatorAttachment: transports.includes('internal') ? 'platform' : 'cross-platform',
        clientExtensionResults: { credProps: { rk: true } },
      };
    },

    authenticate(opts, origin) {
      const rpId = opts.rpId ?? new URL(origin).hostname;
      checkOrigin(origin, rpId);
      const allowed = new Set((opts.allowCredentials ?? []).map((d) => d.id));
      const candidates = store.filter((c) => c.rpId === rpId && (allowed.size === 0 || allowed.has(c.id)));
      const cred = candidates.at(-1);
      if (!cred) throw new Error(`NotAllowedError: no credential for RP ID "${rpId}"`);

      const clientDataJSON = new TextEncoder().encode(
        JSON.stringify({ type: 'webauthn.get', challenge: opts.challenge, origin, crossOrigin: false }),
      );
      const authData = concat([sha256(rpId), Uint8Array.of(flags(0)), counterBytes(nextCount(cred))]);
      const signature = signEs256(cred.privateKey, concat([authData, sha256(clientDataJSON)]));
      return {
        id: cred.id,
        rawId: cred.id,
        type: 'public-key',
        response: {
          clientDataJSON: b64u(clientDataJSON),
          authenticatorData: b64u(authData),
          signature: b64u(signature),
          userHandle: cred.userHandle,
        },
        authenticatorAttachment: transports.includes('internal') ? 'platform' : 'cross-platform',
        clientExtensionResults: {},
      };
    },
  };
}
