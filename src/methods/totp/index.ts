/**
 * TOTP (RFC 6238) over HOTP (RFC 4226), with RFC 4648 base32 secrets (method `softwareOath`).
 *
 * Defaults match every authenticator app: HMAC-SHA-1, 6 digits, 30-second steps. A code is
 * accepted for its own step and one step either side (±30 s of clock drift). MTH-4 replay
 * protection: the caller stores the step of the last accepted code, and a code whose step is not
 * later than that one is `Replayed` — so each code works once, and an older code cannot be used
 * after a newer one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface TotpOptions {
  /** Default `SHA1`. */
  algorithm?: TotpAlgorithm;
  /** Default 6; 6–8. */
  digits?: number;
  /** Step length in seconds; default 30. */
  period?: number;
  /** Steps accepted either side of the current one; default 1. */
  window?: number;
}

const DEFAULTS = { algorithm: 'SHA1', digits: 6, period: 30, window: 1 } as const;

/** Source of cryptographically strong random bytes, e.g. `crypto.randomBytes`. */
export type RandomBytes = (n: number) => Uint8Array;

// ---------------------------------------------------------------------------------------------
// Base32 (RFC 4648 §6): the encoding authenticator apps expect for secrets.

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without `=` padding (as otpauth URIs carry secrets). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32, ignoring case, spaces, dashes and trailing `=` padding (secrets are often
 * shown in groups for manual entry). Throws on any other character.
 */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/[\s-]+/g, '').replace(/=+$/, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = BASE32_ALPHABET.indexOf(ch);
    if (value < 0) throw new SyntaxError(`Invalid base32 character ${JSON.stringify(ch)}`);
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >>> bits) & 0xff);
    }
    buffer &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// HOTP / TOTP

/** RFC 4226 HOTP value of `counter` under `key`, zero-padded to `digits`. */
export function hotp(key: Uint8Array, counter: number | bigint, digits = 6, algorithm: TotpAlgorithm = 'SHA1'): string {
  checkDigits(digits);
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm.toLowerCase(), key).update(message).digest();
  // Dynamic truncation (RFC 4226 §5.3): the low nibble of the last byte picks 4 bytes.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The RFC 6238 time step containing `now`. */
export function totpStep(now: Date, period: number = DEFAULTS.period): number {
  return Math.floor(now.getTime() / 1000 / period);
}

/** The code an authenticator shows at `now` for the base32 `secret`. */
export function generateTotp(secret: string, now: Date, options: TotpOptions = {}): string {
  const o = { ...DEFAULTS, ...options };
  return hotp(base32Decode(secret), totpStep(now, o.period), o.digits, o.algorithm);
}

/** A new base32 secret of `byteLength` random bytes (default 20 = 160 bits, RFC 4226 §4). */
export function generateTotpSecret(randomBytes: RandomBytes, byteLength = 20): string {
  if (!Number.isInteger(byteLength) || byteLength < 16) {
    throw new RangeError(`TOTP secret length ${byteLength} bytes is below the minimum of 16 (128 bits, RFC 4226 §4)`);
  }
  const bytes = randomBytes(byteLength);
  if (bytes.length !== byteLength) {
    throw new RangeError(`randomBytes returned ${bytes.length} bytes, expected ${byteLength}`);
  }
  return base32Encode(bytes);
}

export interface TotpUriOptions {
  /** Base32 secret. */
  secret: string;
  /** Shown in the app under the issuer, typically the userPrincipalName. */
  accountName: string;
  /** Shown in the app; also the label prefix. */
  issuer: string;
  algorithm?: TotpAlgorithm;
  digits?: number;
  period?: number;
}

/**
 * An `otpauth://totp/...` URI (Google Authenticator key URI format) for a QR code. All
 * parameters are written out, even defaults, so apps that guess differently are not misled.
 */
export function totpUri(o: TotpUriOptions): string {
  for (const [name, value] of [['issuer', o.issuer], ['accountName', o.accountName]] as const) {
    if (value.includes(':')) throw new RangeError(`TOTP ${name} ${JSON.stringify(value)} may not contain ':'`);
  }
  const digits = o.digits ?? DEFAULTS.digits;
  checkDigits(digits);
  const label = `${encodeURIComponent(o.issuer)}:${encodeURIComponent(o.accountName)}`;
  const params = new URLSearchParams({
    secret: o.secret.replace(/[\s-]+/g, '').replace(/=+$/, '').toUpperCase(),
    issuer: o.issuer,
    algorithm: o.algorithm ?? DEFAULTS.algorithm,
    digits: String(digits),
    period: String(o.period ?? DEFAULTS.period),
  });
  // URLSearchParams writes spaces as '+', which some apps show literally; use %20.
  return `otpauth://totp/${label}?${params.toString().replace(/\+/g, '%20')}`;
}

export type TotpVerification =
  | { ok: true; step: number }
  | { ok: false; reason: 'Invalid' | 'Replayed' };

/**
 * Checks `code` (spaces allowed, as apps show "123 456") against `secret` at `now`.
 * `lastUsedStep` is the step of the last code this secret accepted, or null; on success the
 * caller stores the returned `step` in its place (atomically, if sign-ins can race).
 *
 * Every step in the window is computed and compared in constant time, whatever matches. When a
 * code happens to match two steps, the later one is taken, so that it cannot be used twice.
 */
export function verifyTotp(
  code: string, secret: string, now: Date, lastUsedStep: number | null, options: TotpOptions = {},
): TotpVerification {
  const o = { ...DEFAULTS, ...options };
  const presented = code.replace(/\s+/g, '');
  if (presented.length !== o.digits || !/^\d+$/.test(presented)) return { ok: false, reason: 'Invalid' };

  const key = base32Decode(secret);
  const current = totpStep(now, o.period);
  const given = Buffer.from(presented, 'ascii');
  let matched: number | null = null;
  for (let step = current - o.window; step <= current + o.window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(hotp(key, step, o.digits, o.algorithm), 'ascii');
    if (timingSafeEqual(expected, given)) matched = step;
  }
  if (matched === null) return { ok: false, reason: 'Invalid' };
  if (lastUsedStep !== null && matched <= lastUsedStep) return { ok: false, reason: 'Replayed' };
  return { ok: true, step: matched };
}

function checkDigits(digits: number): void {
  if (!Number.isInteger(digits) || digits < 6 || digits > 8) {
    throw new RangeError(`TOTP digits ${digits} is outside 6–8`);
  }
}
