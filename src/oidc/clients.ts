import { FIRST_PARTY_APPS } from '../domain/directory.ts';
import type { Application } from '../domain/resources.ts';

/**
 * Where the first-party web apps live (DIR-5): the security-info portal and the admin console are
 * pages of this server that sign in through the tenant's own issuer as public (SPA) clients, with
 * PKCE, and call the Graph API with delegated tokens (graphTokens.ts).
 */
export function firstPartyRedirectUris(appId: string, base: string, tenantId: string): string[] {
  const key = FIRST_PARTY_APPS.find((a) => a.appId === appId.toLowerCase())?.key;
  if (key === 'securityInfo') return [`${base}/${tenantId}/my-sign-ins`];
  if (key === 'adminConsole') return [`${base}/${tenantId}/admin`];
  return [];
}

/**
 * An application as oidc-provider client metadata. Secrets are stored hashed, so the metadata
 * carries their hashes (`gatehouse_secret_hashes`) and `compareClientSecret` is replaced to
 * compare hashes (see provider.ts); `client_secret` holds a non-secret placeholder only so that
 * oidc-provider accepts a secret-based auth method.
 *
 * How an app authenticates at the token endpoint follows its platforms, as in Entra:
 * - `web` redirect URIs with a live secret, or an automation app: a confidential client
 *   (`client_secret_post`);
 * - otherwise (`spa` or `publicClient` redirect URIs only, or no secret): a public client
 *   (`none`), which must use PKCE (provider.ts). A SPA's secret, if it has one, is not used.
 * Apps with redirect URIs may use the authorization code and refresh token grants; automation
 * apps with a secret, client credentials.
 */
/** The delegated scope the first-party apps get on the Graph API; other apps get none. */
export function delegatedGraphScope(clientId: string): string | undefined {
  const key = FIRST_PARTY_APPS.find((a) => a.appId === clientId.toLowerCase())?.key;
  return key === 'securityInfo' ? 'UserAuthenticationMethod.ReadWrite' : key === 'adminConsole' ? 'Directory.AccessAsUser.All' : undefined;
}

export function clientMetadata(rec: { app: Application; secretHashes: { hash: string; endDateTime: Date }[] }, now: Date, where?: { base: string; tenantId: string }): Record<string, unknown> {
  const app = rec.app.gatehouseKind === 'firstParty' && where
    ? { ...rec.app, spa: { redirectUris: [...rec.app.spa.redirectUris, ...firstPartyRedirectUris(rec.app.appId, where.base, where.tenantId)] } }
    : rec.app;
  const live = rec.secretHashes.filter((s) => s.endDateTime.getTime() > now.getTime()).map((s) => s.hash);
  const redirectUris = [...app.web.redirectUris, ...app.spa.redirectUris, ...app.publicClient.redirectUris];
  const confidential = live.length > 0 && (app.web.redirectUris.length > 0 || app.gatehouseKind === 'automation' || redirectUris.length === 0);
  const grantTypes: string[] = [];
  if (redirectUris.length > 0) grantTypes.push('authorization_code', 'refresh_token');
  if (confidential && app.gatehouseKind === 'automation') grantTypes.push('client_credentials');
  // Native apps (publicClient redirect URIs only) may use custom schemes and loopback ports.
  const native = app.publicClient.redirectUris.length > 0 && app.web.redirectUris.length === 0 && app.spa.redirectUris.length === 0;
  return {
    client_id: app.appId,
    client_name: app.displayName,
    application_type: native ? 'native' : 'web',
    redirect_uris: redirectUris,
    grant_types: grantTypes,
    response_types: redirectUris.length > 0 ? ['code'] : [],
    token_endpoint_auth_method: confidential ? 'client_secret_post' : 'none',
    // CA-7: every ID token says when the user authenticated.
    require_auth_time: true,
    ...(confidential ? { client_secret: `hashed:${live[0]}` } : {}),
    gatehouse_secret_hashes: confidential ? live : [],
    gatehouse_permissions: app.gatehouseGraphPermissions,
  };
}
