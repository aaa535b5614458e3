import type { Db } from './database.ts';

/**
 * Which sign-in flow made an OIDC Grant, so a delegated Graph token (which names its Grant) can be
 * decided by the security-info gate over exactly the methods that sign-in performed.
 */
export async function recordGrantSignIn(db: Db, tenantId: string, grantId: string, flowId: string, expiresAt: Date): Promise<void> {
  await db.insertInto('oidc_grant_sign_ins').values({ tenant_id: tenantId, grant_id: grantId, flow_id: flowId, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['tenant_id', 'grant_id']).doUpdateSet({ flow_id: flowId, expires_at: expiresAt })).execute();
}

export async function flowOfGrant(db: Db, tenantId: string, grantId: string, now: Date): Promise<string | undefined> {
  const row = await db.selectFrom('oidc_grant_sign_ins').select('flow_id').where('tenant_id', '=', tenantId).where('grant_id', '=', grantId).where('expires_at', '>', now).executeTakeFirst();
  return row?.flow_id;
}

export async function purgeGrantSignIns(db: Db, now: Date): Promise<void> {
  await db.deleteFrom('oidc_grant_sign_ins').where('expires_at', '<', now).execute();
}
