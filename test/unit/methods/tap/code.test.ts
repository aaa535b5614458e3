import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  TAP_ALPHABET, generateTapCode, hashTapCode, isWellFormedTapCode, normalizeTapInput, tapCodeMatches,
} from '../../../../src/methods/tap/code.ts';

const KEY = new Uint8Array(32).fill(7);
const OTHER_KEY = new Uint8Array(32).fill(8);

/** A byte source that plays `bytes` over and over, across calls. */
function cycling(bytes: readonly number[]): (n: number) => Uint8Array {
  let i = 0;
  return (n) => Uint8Array.from({ length: n }, () => bytes[i++ % bytes.length]!);
}

describe('TAP-3 pass codes: alphabet and generation', () => {
  it('the alphabet has 31 distinct symbols and none of 0 O 1 I L l', () => {
    assert.equal(TAP_ALPHABET.length, 31);
    assert.equal(new Set(TAP_ALPHABET).size, 31);
    for (const ambiguous of '0O1IlL') assert.ok(!TAP_ALPHABET.includes(ambiguous), ambiguous);
    assert.equal(TAP_ALPHABET, TAP_ALPHABET.toUpperCase());
  });

  it('TAP-1: codes of every allowed length 8–48 have that length and use only the alphabet (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 8, max: 48 }), fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((a) => a.some((b) => b < 248)), (length, bytes) => {
      const code = generateTapCode(length, cycling([...bytes]));
      assert.equal(code.length, length);
      assert.ok([...code].every((c) => TAP_ALPHABET.includes(c)), code);
      assert.ok(isWellFormedTapCode(code));
    }));
  });

  it('rejection sampling is exactly uniform: each symbol has 8 of the bytes 0–247 as preimages, 248–255 are skipped', () => {
    const counts = new Map<string, number>();
    for (let b = 0; b < 256; b++) {
      // The byte under test first, then zeros (which map to the first symbol).
      const code = generateTapCode(8, (n) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? b : 0)));
      if (b >= 248) {
        assert.equal(code, TAP_ALPHABET[0]!.repeat(8), `byte ${b} must be skipped`);
        continue;
      }
      assert.equal(code[0], TAP_ALPHABET[b % 31]);
      counts.set(code[0]!, (counts.get(code[0]!) ?? 0) + 1);
    }
    assert.equal(counts.size, 31);
    for (const [c, n] of counts) assert.equal(n, 8, `symbol ${c}`);
  });

  it('a source of only rejected bytes is reported rather than looping forever', () => {
    assert.throws(() => generateTapCode(8, () => new Uint8Array(16).fill(255)), /all rejected/);
  });

  it('TAP-1: lengths outside 8–48 are refused', () => {
    for (const bad of [7, 49, 8.5, 0]) assert.throws(() => generateTapCode(bad, randomBytes), /outside 8–48/);
  });

  it('codes from crypto.randomBytes are uniform-ish: chi-square over 62,000 symbols stays under the 1e-6 critical value', () => {
    const counts = new Map<string, number>([...TAP_ALPHABET].map((c) => [c, 0]));
    for (let i = 0; i < 62_000 / 40; i++) for (const c of generateTapCode(40, randomBytes)) counts.set(c, counts.get(c)! + 1);
    const expected = 62_000 / 31;
    const chi2 = [...counts.values()].reduce((s, n) => s + (n - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 80, `chi-square ${chi2.toFixed(1)} with 30 degrees of freedom`);
  });
});

describe('TAP-3 pass codes: normalisation, keyed hash, constant-time comparison', () => {
  it('input is trimmed, spaces and dashes removed, upper-cased and NFKC-normalised', () => {
    assert.equal(normalizeTapInput('  abcd-efgh  '), 'ABCDEFGH');
    assert.equal(normalizeTapInput('AB CD\tEF–GH'), 'ABCDEFGH');
    assert.equal(normalizeTapInput('ＡＢＣＤ２３４５'), 'ABCD2345');
  });

  it('TAP-3: the stored value is an HMAC-SHA-256 in base64url, never the code', () => {
    const h = hashTapCode('ABCD2345', KEY);
    assert.match(h, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!h.includes('ABCD2345'));
    assert.notEqual(hashTapCode('ABCD2345', OTHER_KEY), h);
  });

  it('TAP-3: the code matches its hash however the user types it', () => {
    const code = generateTapCode(8, randomBytes);
    const stored = hashTapCode(code, KEY);
    assert.ok(tapCodeMatches(code, stored, KEY));
    assert.ok(tapCodeMatches(` ${code.toLowerCase().slice(0, 4)}-${code.slice(4)} `, stored, KEY));
  });

  it('TAP-3: a different code, a different key or a malformed stored hash does not match (property)', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...TAP_ALPHABET), minLength: 8, maxLength: 48 }), fc.string({ minLength: 1 }), (code, other) => {
      const stored = hashTapCode(code, KEY);
      assert.ok(tapCodeMatches(code, stored, KEY));
      assert.ok(!tapCodeMatches(code, stored, OTHER_KEY));
      if (normalizeTapInput(other) !== code) assert.ok(!tapCodeMatches(other, stored, KEY));
      assert.ok(!tapCodeMatches(code, stored.slice(0, 20), KEY));
      assert.ok(!tapCodeMatches(code, '', KEY));
    }));
  });

  it('a hash key shorter than 32 bytes is refused', () => {
    assert.throws(() => hashTapCode('ABCD2345', new Uint8Array(16)), /16 bytes; it must be at least 32/);
  });
});
