import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { Db } from '../store/database.ts';
import { rotateIn } from '../store/signingKeys.ts';

/** The longest any token signed by a tenant key lives (access tokens: 1 h; ID tokens: 1 h). */
export const MAX_TOKEN_LIFETIME_SECONDS = 3600;

export async function newSigningKey(): Promise<{ kid: string; alg: string; privateJwk: Record<string, unknown> }> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = randomUUID();
  return { kid, alg: 'RS256', privateJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

/** `gatehouse keys rotate`: a new key signs from now on; the old one stays published until its tokens expire. */
export async function rotateSigningKey(db: Db, tenantId: string, now: Date): Promise<{ kid: string; retired: string[]; deleted: string[] }> {
  const key = await newSigningKey();
  const r = await db.transaction().execute((trx) => rotateIn(trx, tenantId, key, now, MAX_TOKEN_LIFETIME_SECONDS));
  return { kid: key.kid, ...r };
}

export function publicJwk(privateJwk: Record<string, unknown>): Record<string, unknown> {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = privateJwk;
  return pub;
}
