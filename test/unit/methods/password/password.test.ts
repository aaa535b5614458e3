import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hash as argon2Hash } from '@node-rs/argon2';
import {
  ARGON2ID_PARAMETERS, hashPassword, passwordNeedsRehash, passwordPolicyViolations, verifyPassword,
} from '../../../../src/methods/password/index.ts';

describe('MTH-4 passwords', () => {
  it('MTH-4: a password is hashed with Argon2id m=19456 KiB, t=2, p=1 in PHC format', async () => {
    const h = await hashPassword('correct horse battery staple');
    assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(passwordNeedsRehash(h), false);
    assert.deepEqual({ ...ARGON2ID_PARAMETERS }, { memoryCost: 19456, timeCost: 2, parallelism: 1, outputLen: 32 });
  });

  it('MTH-4: the right password verifies, a wrong one does not, and each hash has its own salt', async () => {
    const h1 = await hashPassword('correct horse battery staple');
    const h2 = await hashPassword('correct horse battery staple');
    assert.notEqual(h1, h2);
    assert.equal(await verifyPassword('correct horse battery staple', h1), true);
    assert.equal(await verifyPassword('correct horse battery stapl', h1), false);
    assert.equal(await verifyPassword('Correct horse battery staple', h1), false);
  });

  it('MTH-4: passwords are NFKC-normalised, so composed and decomposed accents match', async () => {
    const h = await hashPassword('caf\u00e9-au-lait');
    assert.equal(await verifyPassword('cafe\u0301-au-lait', h), true);
  });

  it('MTH-4: a hash made with weaker parameters still verifies and is flagged for rehash', async () => {
    const h = await argon2Hash('hunter2hunter2', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    assert.equal(await verifyPassword('hunter2hunter2', h), true);
    assert.equal(passwordNeedsRehash(h), true);
  });

  it('MTH-4: a stored value that is not an Argon2 hash is an error, not a wrong password', async () => {
    await assert.rejects(verifyPassword('whatever1', 'plaintext'), /not an Argon2 PHC string/);
  });

  it('passwords of 8 to 256 characters are accepted', () => {
    assert.deepEqual(passwordPolicyViolations('12345678'), []);
    assert.deepEqual(passwordPolicyViolations('x'.repeat(256)), []);
  });

  it('a password of 7 characters is refused naming the minimum 8', () => {
    assert.deepEqual(passwordPolicyViolations('1234567'), [
      { field: 'password', rule: 'MTH-4', message: 'The password has 7 characters; it must have at least 8.' }]);
    assert.match(passwordPolicyViolations('')[0]!.message, /has 0 characters; it must have at least 8/);
  });

  it('a password of 257 characters is refused naming the maximum 256', () => {
    assert.deepEqual(passwordPolicyViolations('x'.repeat(257)), [
      { field: 'password', rule: 'MTH-4', message: 'The password has 257 characters; it may have at most 256.' }]);
  });

  it('length counts characters, not UTF-16 units: 8 emoji are 8 characters', () => {
    assert.deepEqual(passwordPolicyViolations('🔑'.repeat(8)), []);
    assert.equal(passwordPolicyViolations('🔑'.repeat(7)).length, 1);
  });
});
