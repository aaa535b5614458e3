/**
 * Passwords (MTH-4): Argon2id hashing and the length policy.
 *
 * Parameters are OWASP's Password Storage Cheat Sheet minimum for Argon2id: m = 19456 KiB
 * (19 MiB), t = 2 passes, p = 1 lane, with a 16-byte random salt and a 32-byte tag, stored as a
 * PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`). One hash takes tens of milliseconds
 * and 19 MiB; the string carries its own parameters, so raising them later only needs
 * {@link passwordNeedsRehash} at the next successful sign-in.
 *
 * Passwords are Unicode NFKC-normalised before hashing and counting (NIST SP 800-63B §5.1.1.2),
 * so the same password typed on different keyboards or OSes hashes the same.
 */
import { hash, verify, parseOptions, type Algorithm, type Options } from '@node-rs/argon2';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

// `Algorithm` is an ambient const enum, which isolated modules cannot read; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export const ARGON2ID_PARAMETERS = Object.freeze({
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
});

const OPTIONS: Options = { ...ARGON2ID_PARAMETERS, algorithm: ARGON2ID };

export interface PasswordViolation {
  field: 'password';
  rule: 'MTH-4';
  message: string;
}

function normalize(password: string): string {
  return password.normalize('NFKC');
}

/** Length in characters (Unicode code points, after normalisation), as a person counts them. */
export function passwordLength(password: string): number {
  return [...normalize(password)].length;
}

/** Every way `password` breaks the policy; empty when it may be set. */
export function passwordPolicyViolations(password: string): PasswordViolation[] {
  const length = passwordLength(password);
  if (length < PASSWORD_MIN_LENGTH) {
    return [{ field: 'password', rule: 'MTH-4',
      message: `The password has ${length} characters; it must have at least ${PASSWORD_MIN_LENGTH}.` }];
  }
  if (length > PASSWORD_MAX_LENGTH) {
    return [{ field: 'password', rule: 'MTH-4',
      message: `The password has ${length} characters; it may have at most ${PASSWORD_MAX_LENGTH}.` }];
  }
  return [];
}

/** An Argon2id PHC string for `password`. Does not apply the policy; call that first. */
export async function hashPassword(password: string): Promise<string> {
  return hash(normalize(password), OPTIONS);
}

/**
 * Whether `password` matches `storedHash`. Uses the parameters recorded in the hash, so older
 * hashes keep verifying after the parameters change. Throws when `storedHash` is not an Argon2
 * PHC string: that is corrupt data, not a wrong password.
 */
export async function verifyPassword(password: string, storedHash: string): Promise<boolean> {
  if (!storedHash.startsWith('$argon2')) {
    throw new Error('Stored password hash is not an Argon2 PHC string');
  }
  return verify(storedHash, normalize(password));
}

/** True when `storedHash` was made with other parameters than today's and should be replaced. */
export function passwordNeedsRehash(storedHash: string): boolean {
  const o = parseOptions(storedHash);
  return o.algorithm !== ARGON2ID ||
    o.memoryCost !== ARGON2ID_PARAMETERS.memoryCost ||
    o.timeCost !== ARGON2ID_PARAMETERS.timeCost ||
    o.parallelism !== ARGON2ID_PARAMETERS.parallelism ||
    o.outputLen !== ARGON2ID_PARAMETERS.outputLen;
}
