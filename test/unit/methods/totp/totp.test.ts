import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  base32Decode, base32Encode, generateTotp, generateTotpSecret, hotp, totpStep, totpUri, verifyTotp, type TotpAlgorithm,
} from '../../../../src/methods/totp/index.ts';

const ascii = (s: string) => new TextEncoder().encode(s);
const SEEDS: Record<TotpAlgorithm, string> = {
  SHA1: base32Encode(ascii('12345678901234567890')),
  SHA256: base32Encode(ascii('12345678901234567890123456789012')),
  SHA512: base32Encode(ascii('1234567890123456789012345678901234567890123456789012345678901234')),
};

// RFC 6238 Appendix B: time (s), T (hex), TOTP per algorithm, 8 digits.
const VECTORS: [number, string, Record<TotpAlgorithm, string>][] = [
  [59, '0000000000000001', { SHA1: '94287082', SHA256: '46119246', SHA512: '90693936' }],
  [1111111109, '00000000023523EC', { SHA1: '07081804', SHA256: '68084774', SHA512: '25091201' }],
  [1111111111, '00000000023523ED', { SHA1: '14050471', SHA256: '67062674', SHA512: '99943326' }],
  [1234567890, '000000000273EF07', { SHA1: '89005924', SHA256: '91819424', SHA512: '93441116' }],
  [2000000000, '0000000003F940AA', { SHA1: '69279037', SHA256: '90698825', SHA512: '38618901' }],
  [20000000000, '0000000027BC86AA', { SHA1: '65353130', SHA256: '77737706', SHA512: '47863826' }],
];

describe('MTH-4 TOTP (RFC 6238)', () => {
  for (const [seconds, stepHex, codes] of VECTORS) {
    it(`RFC 6238 Appendix B: SHA-1, 8 digits at ${seconds} s is ${codes.SHA1}`, () => {
      const now = new Date(seconds * 1000);
      assert.equal(totpStep(now), parseInt(stepHex, 16));
      assert.equal(generateTotp(SEEDS.SHA1, now, { digits: 8 }), codes.SHA1);
      assert.deepEqual(verifyTotp(codes.SHA1, SEEDS.SHA1, now, null, { digits: 8 }), { ok: true, step: parseInt(stepHex, 16) });
    });
  }

  it('RFC 6238 Appendix B: the SHA-256 and SHA-512 vectors also hold', () => {
    for (const [seconds, , codes] of VECTORS) {
      for (const algorithm of ['SHA256', 'SHA512'] as const) {
        assert.equal(generateTotp(SEEDS[algorithm], new Date(seconds * 1000), { digits: 8, algorithm }), codes[algorithm], `${algorithm} @ ${seconds}`);
      }
    }
  });

  it('RFC 4226 Appendix D: HOTP values for counters 0–9', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    assert.deepEqual(expected.map((_, c) => hotp(ascii('12345678901234567890'), c)), expected);
  });

  it('MTH-4: a code is accepted once; the same code again is Replayed', () => {
    const now = new Date(1111111111 * 1000);
    const code = generateTotp(SEEDS.SHA1, now);
    const first = verifyTotp(code, SEEDS.SHA1, now, null);
    assert.ok(first.ok);
    assert.deepEqual(verifyTotp(code, SEEDS.SHA1, now, first.step), { ok: false, reason: 'Replayed' });
  });

  it('MTH-4: after a newer code was accepted, an older (still in-window) code is Replayed', () => {
    const now = new Date(1111111111 * 1000);
    const previous = generateTotp(SEEDS.SHA1, new Date(now.getTime() - 30_000));
    assert.deepEqual(verifyTotp(previous, SEEDS.SHA1, now, totpStep(now)), { ok: false, reason: 'Replayed' });
  });

  it('MTH-4: the next step\'s code is still accepted after the current one was used', () => {
    const now = new Date(1111111111 * 1000);
    const next = generateTotp(SEEDS.SHA1, new Date(now.getTime() + 30_000));
    assert.deepEqual(verifyTotp(next, SEEDS.SHA1, now, totpStep(now)), { ok: true, step: totpStep(now) + 1 });
  });

  it('window: codes one step either side are accepted, two steps away are Invalid', () => {
    const now = new Date(1234567890 * 1000);
    const step = totpStep(now);
    for (const d of [-1, 0, 1]) {
      const code = generateTotp(SEEDS.SHA1, new Date(now.getTime() + d * 30_000));
      assert.deepEqual(verifyTotp(code, SEEDS.SHA1, now, null), { ok: true, step: step + d }, `offset ${d}`);
    }
    for (const d of [-2, 2]) {
      const code = generateTotp(SEEDS.SHA1, new Date(now.getTime() + d * 30_000));
      assert.deepEqual(verifyTotp(code, SEEDS.SHA1, now, null), { ok: false, reason: 'Invalid' }, `offset ${d}`);
    }
  });

  it('malformed codes are Invalid; spaces inside a code are allowed', () => {
    const now = new Date(1234567890 * 1000);
    const code = generateTotp(SEEDS.SHA1, now);
    assert.equal(verifyTotp(`${code.slice(0, 3)} ${code.slice(3)}`, SEEDS.SHA1, now, null).ok, true);
    for (const bad of ['', '12345', '1234567', 'abcdef', `${code}0`, '12345６']) {
      assert.deepEqual(verifyTotp(bad, SEEDS.SHA1, now, null), { ok: false, reason: 'Invalid' }, bad);
    }
  });

  it('defaults are SHA-1, 6 digits, 30 s', () => {
    const now = new Date(59 * 1000);
    assert.equal(generateTotp(SEEDS.SHA1, now), '287082');
    assert.equal(totpStep(new Date(29_999)), 0);
    assert.equal(totpStep(new Date(30_000)), 1);
  });

  it('base32 round-trips any bytes and matches RFC 4648 test vectors (property)', () => {
    const vectors: [string, string][] = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, encoded] of vectors) {
      assert.equal(base32Encode(ascii(plain)), encoded);
      assert.deepEqual(base32Decode(`${encoded.toLowerCase()}====`), ascii(plain));
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      assert.deepEqual(base32Decode(base32Encode(bytes)), bytes);
    }));
    assert.throws(() => base32Decode('MZXW1'), /Invalid base32 character "1"/);
  });

  it('a new secret is 20 random bytes in base32 (32 characters)', () => {
    const secret = generateTotpSecret((n) => new Uint8Array(n).fill(0xab));
    assert.equal(secret.length, 32);
    assert.deepEqual(base32Decode(secret), new Uint8Array(20).fill(0xab));
    assert.throws(() => generateTotpSecret((n) => new Uint8Array(n), 10), /below the minimum of 16/);
  });

  it('the otpauth URI names issuer, account and every parameter', () => {
    const uri = totpUri({ secret: 'JBSWY3DPEHPK3PXP', accountName: 'alice@contoso.com', issuer: 'Contoso Gatehouse' });
    assert.equal(uri, 'otpauth://totp/Contoso%20Gatehouse:alice%40contoso.com?secret=JBSWY3DPEHPK3PXP&issuer=Contoso%20Gatehouse&algorithm=SHA1&digits=6&period=30');
    const parsed = new URL(uri);
    assert.equal(parsed.protocol, 'otpauth:');
    assert.equal(parsed.searchParams.get('issuer'), 'Contoso Gatehouse');
    assert.throws(() => totpUri({ secret: 'A', accountName: 'a:b', issuer: 'x' }), /may not contain ':'/);
  });
});
