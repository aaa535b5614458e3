import type { Application } from '../domain/resources.ts';

/**
 * An application as oidc-provider client metadata. Secrets are stored hashed, so the metadata
 * carries their hashes (`gatehouse_secret_hashes`) and `compareClientSecret` is replaced to
 * compare hashes (see provider.ts); `client_secret` holds a non-secret placeholder only so that
 * oidc-provider accepts a secret-based auth method.
 */
export function clientMetadata(rec: { app: Application; secretHashes: { hash: string; endDateTime: Date }[] }, now: Date): Record<string, unknown> {
  const { app } = rec;
  const live = rec.secretHashes.filter((s) => s.endDateTime.getTime() > now.getTime()).map((s) => s.hash);
  const redirectUris = [...app.web.redirectUris, ...app.spa.redirectUris, ...app.publicClient.redirectUris];
  const confidential = live.length > 0;
  const grantTypes: string[] = [];
  if (redirectUris.length > 0) grantTypes.push('authorization_code', 'refresh_token');
  if (confidential && app.gatehouseKind === 'automation') grantTypes.push('client_credentials');
  return {
    client_id: app.appId,
    client_name: app.displayName,
    redirect_uris: redirectUris,
    grant_types: grantTypes,
    response_types: redirectUris.length > 0 ? ['code'] : [],
    token_endpoint_auth_method: confidential ? 'client_secret_post' : 'none',
    ...(confidential ? { client_secret: `hashed:${live[0]}` } : {}),
    gatehouse_secret_hashes: live,
    gatehouse_permissions: app.gatehouseGraphPermissions,
  };
}
