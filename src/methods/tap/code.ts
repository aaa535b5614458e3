/**
 * Generating, normalising, hashing and comparing Temporary Access Pass codes (TAP-3).
 *
 * Alphabet: the digits 2–9 and the capital letters A–Z without I, L and O — 31 symbols, none of
 * which can be mistaken for another (0/O, 1/I/l are all gone). A pass is read aloud over the
 * phone and typed on unfamiliar keyboards, so codes are case-insensitive: input is upper-cased
 * before it is hashed. Each symbol carries log2(31) ≈ 4.95 bits; the default 8-character pass
 * carries ≈ 39.6 bits, which the TAP-10 throttle keeps far out of reach of online guessing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TAP_LENGTH_LIMITS } from './policy.ts';

export const TAP_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** Source of cryptographically strong random bytes, e.g. `crypto.randomBytes`. */
export type RandomBytes = (n: number) => Uint8Array;

/** Minimum HMAC key size: the SHA-256 output size, as RFC 2104 recommends. */
export const TAP_HASH_KEY_MIN_BYTES = 32;

// Largest multiple of the alphabet size that fits in a byte (31 × 8 = 248). Bytes at or above it
// are discarded: folding them in with `% 31` would make the first 8 symbols more likely.
const ACCEPT_BELOW = 256 - (256 % TAP_ALPHABET.length);

/**
 * A new pass of `length` symbols (TAP-1: 8–48), each drawn uniformly from {@link TAP_ALPHABET}
 * by rejection sampling over the bytes `randomBytes` returns.
 */
export function generateTapCode(length: number, randomBytes: RandomBytes): string {
  if (!Number.isInteger(length) || length < TAP_LENGTH_LIMITS.min || length > TAP_LENGTH_LIMITS.max) {
    throw new RangeError(
      `TAP length ${length} is outside ${TAP_LENGTH_LIMITS.min}–${TAP_LENGTH_LIMITS.max} (TAP-1)`);
  }
  let code = '';
  // 248/256 of bytes are kept; asking for ~6% more than needed rarely takes a second round.
  for (let rounds = 0; code.length < length; rounds++) {
    if (rounds > 1000) throw new Error('randomBytes keeps returning bytes that are all rejected; is it random?');
    const needed = length - code.length;
    const bytes = randomBytes(needed + Math.ceil(needed / 16) + 2);
    for (const b of bytes) {
      if (b >= ACCEPT_BELOW) continue;
      code += TAP_ALPHABET[b % TAP_ALPHABET.length];
      if (code.length === length) break;
    }
  }
  return code;
}

/**
 * What the user typed, in canonical form: Unicode compatibility-normalised (full-width letters
 * become ASCII), with whitespace and dashes removed anywhere (so "ABCD-EFGH" and " abcd efgh "
 * both work), upper-cased. Characters outside the alphabet are kept: they simply won't match.
 */
export function normalizeTapInput(input: string): string {
  return input.normalize('NFKC').replace(/[\s\p{Pd}]+/gu, '').toUpperCase();
}

/** True when `code` (already normalised) uses only the alphabet. */
export function isWellFormedTapCode(code: string): boolean {
  return code.length >= TAP_LENGTH_LIMITS.min && code.length <= TAP_LENGTH_LIMITS.max &&
    [...code].every((c) => TAP_ALPHABET.includes(c));
}

/**
 * The value stored in place of the pass: HMAC-SHA-256 of the normalised code under a server
 * key, base64url (43 characters). A keyed hash, not a plain one: with only ~40 bits in a pass,
 * anyone holding a database copy could brute-force an unkeyed hash in minutes.
 */
export function hashTapCode(code: string, key: Uint8Array): string {
  if (key.byteLength < TAP_HASH_KEY_MIN_BYTES) {
    throw new RangeError(`TAP hash key is ${key.byteLength} bytes; it must be at least ${TAP_HASH_KEY_MIN_BYTES}`);
  }
  return createHmac('sha256', key).update(normalizeTapInput(code), 'utf8').digest('base64url');
}

/**
 * Whether `input` (as typed) is the pass whose hash is `storedHash`. The comparison takes the
 * same time wherever the first difference lies (TAP-3).
 */
export function tapCodeMatches(input: string, storedHash: string, key: Uint8Array): boolean {
  const presented = Buffer.from(hashTapCode(input, key), 'base64url');
  const stored = Buffer.from(storedHash, 'base64url');
  if (stored.length !== presented.length) {
    // A malformed stored hash: still spend the comparison so timing is uniform, then refuse.
    timingSafeEqual(presented, presented);
    return false;
  }
  return timingSafeEqual(presented, stored);
}
