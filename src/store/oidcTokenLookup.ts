import type { User } from '../domain/resources.ts';
import type { Db } from './database.ts';
import { getUser } from './users.ts';

/**
 * An oidc-provider artefact by id even after it has expired (the adapter's `find` hides expired
 * ones, as oidc-provider expects). For the sign-in log only: a refused refresh names the user and
 * why (LOG-1, src/oidc/refreshLog.ts). Expired rows live until housekeeping purges them.
 */
export async function findArtefactIncludingExpired(db: Db, tenantId: string, model: string, id: string): Promise<Record<string, unknown> | undefined> {
  const r = await db.selectFrom('oidc_artefacts').select('payload').where('tenant_id', '=', tenantId).where('model', '=', model).where('id', '=', id).executeTakeFirst();
  return r ? r.payload as Record<string, unknown> : undefined;
}

/**
 * PLT-6 `revokeSignInSessions`, keeping a trace of the refresh tokens for the sign-in log: like
 * `revokeSignInSessions` (users.ts), sessions, grants, codes and access tokens issued before `now`
 * are deleted, but the refresh tokens are expired at `now` instead, so that a later attempt to
 * use one is refused by oidc-provider (unknown token; the grant is gone too) and logged with the
 * user and 50173 (LOG-1, src/oidc/refreshLog.ts). Housekeeping purges them like any expired
 * artefact, after which a refusal is logged without the user (70000).
 */
export async function revokeSignInSessionsKeepingRefreshTraces(db: Db, tenantId: string, idOrUpn: string, now: Date): Promise<User> {
  const user = await getUser(db, tenantId, idOrUpn);
  await db.updateTable('users').set({ sign_in_sessions_valid_from: now }).where('id', '=', user.id).execute();
  await db.deleteFrom('oidc_artefacts').where('tenant_id', '=', tenantId).where('account_id', '=', user.id)
    .where('model', 'in', ['Session', 'AccessToken', 'Grant', 'AuthorizationCode']).execute();
  await db.updateTable('oidc_artefacts').set({ expires_at: now }).where('tenant_id', '=', tenantId).where('account_id', '=', user.id)
    .where('model', '=', 'RefreshToken').where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])).execute();
  return { ...user, signInSessionsValidFromDateTime: now.toISOString() };
}
