import type { Db } from './database.ts';

/**
 * oidc-provider's storage (sessions, codes, tokens, grants, interactions) in our database, so
 * any number of server processes share it. One row per artefact, keyed by model and id.
 */
export type ArtefactPayload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; accountId?: string; consumed?: number };

export async function upsertArtefact(db: Db, tenantId: string, model: string, id: string, payload: ArtefactPayload, expiresInSeconds: number | undefined, now: Date): Promise<void> {
  const row = {
    model, id, tenant_id: tenantId, payload: JSON.stringify(payload),
    grant_id: payload.grantId ?? null, user_code: payload.userCode ?? null, uid: payload.uid ?? null,
    account_id: payload.accountId ?? null,
    expires_at: expiresInSeconds ? new Date(now.getTime() + expiresInSeconds * 1000) : null,
    consumed_at: null,
  };
  await db.insertInto('oidc_artefacts').values(row)
    .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({
      payload: row.payload, grant_id: row.grant_id, user_code: row.user_code, uid: row.uid, account_id: row.account_id, expires_at: row.expires_at,
    })).execute();
}

async function findWhere(db: Db, tenantId: string, model: string, column: 'id' | 'uid' | 'user_code', value: string, now: Date): Promise<ArtefactPayload | undefined> {
  const r = await db.selectFrom('oidc_artefacts').select(['payload', 'consumed_at']).where('tenant_id', '=', tenantId).where('model', '=', model).where(column, '=', value)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])).executeTakeFirst();
  if (!r) return undefined;
  return r.consumed_at ? { ...r.payload, consumed: Math.floor(r.consumed_at.getTime() / 1000) } : r.payload;
}

export const findArtefact = (db: Db, t: string, model: string, id: string, now: Date) => findWhere(db, t, model, 'id', id, now);
export const findArtefactByUid = (db: Db, t: string, model: string, uid: string, now: Date) => findWhere(db, t, model, 'uid', uid, now);
export const findArtefactByUserCode = (db: Db, t: string, model: string, code: string, now: Date) => findWhere(db, t, model, 'user_code', code, now);

export async function consumeArtefact(db: Db, tenantId: string, model: string, id: string, now: Date): Promise<void> {
  await db.updateTable('oidc_artefacts').set({ consumed_at: now }).where('tenant_id', '=', tenantId).where('model', '=', model).where('id', '=', id).execute();
}

export async function destroyArtefact(db: Db, tenantId: string, model: string, id: string): Promise<void> {
  await db.deleteFrom('oidc_artefacts').where('tenant_id', '=', tenantId).where('model', '=', model).where('id', '=', id).execute();
}

export async function revokeArtefactsByGrant(db: Db, tenantId: string, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_artefacts').where('tenant_id', '=', tenantId).where('grant_id', '=', grantId).execute();
}

/** Housekeeping: drop expired artefacts. */
export async function purgeExpiredArtefacts(db: Db, now: Date): Promise<number> {
  const r = await db.deleteFrom('oidc_artefacts').where('expires_at', '<', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
