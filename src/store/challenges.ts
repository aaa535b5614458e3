import { sql } from 'kysely';
import type { Db } from './database.ts';

/** PK-3: WebAuthn challenges are single use, bound to one flow, and expire. */
export async function saveChallenge(db: Db, c: { challenge: string; tenantId: string; flowId: string; userId: string | null; purpose: 'registration' | 'authentication'; expiresAt: Date }): Promise<void> {
  await db.insertInto('webauthn_challenges').values({
    challenge: c.challenge, tenant_id: c.tenantId, flow_id: c.flowId, user_id: c.userId, purpose: c.purpose, expires_at: c.expiresAt,
  }).execute();
}

/**
 * `saveChallenge` for a flow that is live (not expired) in the tenant, in one statement that also
 * row-locks the flow as `lockFlow` does. Returns false, and stores nothing, when there is no such flow.
 */
export async function saveChallengeForLiveFlow(db: Db, c: { challenge: string; tenantId: string; flowId: string; userId: string | null; purpose: 'registration' | 'authentication'; expiresAt: Date }, now: Date): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(c.flowId)) return false;
  const r = await sql`
    INSERT INTO webauthn_challenges (challenge, tenant_id, flow_id, user_id, purpose, expires_at)
    SELECT ${c.challenge}, f.tenant_id, f.id::text, ${c.userId}::uuid, ${c.purpose}, ${c.expiresAt}::timestamptz
    FROM sign_in_flows f WHERE f.tenant_id = ${c.tenantId} AND f.id = ${c.flowId.toLowerCase()}::uuid AND f.expires_at > ${now}::timestamptz
    FOR UPDATE`.execute(db);
  return Number(r.numAffectedRows ?? 0n) === 1;
}

export type ChallengeOutcome = { ok: true; userId: string | null } | { ok: false; reason: 'ChallengeUnknown' | 'ChallengeExpired' | 'ChallengeUsed' | 'ChallengeOtherFlow' };

/** Consume atomically: exactly one caller can use a challenge, and only within its flow and lifetime. */
export async function consumeChallenge(db: Db, tenantId: string, challenge: string, flowId: string, purpose: 'registration' | 'authentication', now: Date): Promise<ChallengeOutcome> {
  const used = await db.updateTable('webauthn_challenges').set({ consumed_at: now })
    .where('tenant_id', '=', tenantId).where('challenge', '=', challenge).where('flow_id', '=', flowId).where('purpose', '=', purpose)
    .where('consumed_at', 'is', null).where('expires_at', '>', now).returning('user_id').executeTakeFirst();
  if (used) return { ok: true, userId: used.user_id };
  return whyChallengeUnusable(db, tenantId, challenge, flowId, purpose);
}

/** Why a challenge could not be consumed (the conditional update matched nothing). */
export async function whyChallengeUnusable(db: Db, tenantId: string, challenge: string, flowId: string, purpose: 'registration' | 'authentication'): Promise<ChallengeOutcome & { ok: false }> {
  const row = await db.selectFrom('webauthn_challenges').selectAll().where('tenant_id', '=', tenantId).where('challenge', '=', challenge).executeTakeFirst();
  if (!row || row.purpose !== purpose) return { ok: false, reason: 'ChallengeUnknown' };
  if (row.flow_id !== flowId) return { ok: false, reason: 'ChallengeOtherFlow' };
  if (row.consumed_at) return { ok: false, reason: 'ChallengeUsed' };
  return { ok: false, reason: 'ChallengeExpired' };
}

export async function purgeChallenges(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<', before).execute();
}
