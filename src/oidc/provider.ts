import { timingSafeEqual } from 'node:crypto';
import Provider, { errors, type Account, type Client, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../store/database.ts';
import { hashClientSecret } from '../store/applications.ts';
import { findUser } from '../store/users.ts';
import { keySetVersion, publishedKeys } from '../store/signingKeys.ts';
import { findTenant } from '../store/tenants.ts';
import { serverSecret } from '../store/serverSecrets.ts';
import { adapterFor } from './adapter.ts';
import { AUTHENTICATION_CONTEXTS, REFRESH_TOKEN_FAMILY_SECONDS, signInPolicy } from './interactions.ts';
import { MAX_TOKEN_LIFETIME_SECONDS } from './keys.ts';
import { installRefreshSignInLog } from './refreshLog.ts';
import { cappedTtl } from './tokenLifetimes.ts';

export type OidcSettings = {
  /** Public base URL, e.g. http://localhost:8080 (no trailing slash). */
  publicBaseUrl: string;
  /** Whether X-Forwarded-* headers from a proxy are believed (GATEHOUSE_TRUST_PROXY). */
  trustProxy: boolean;
};

/** DIR-1: one issuer per tenant, under the public base URL. */
export const issuerFor = (base: string, tenantId: string) => `${base}/${tenantId}/v2.0`;
/** The audience of Graph-shaped admin API tokens. */
export const graphResource = (base: string) => `${base}/graph`;

type Entry = { provider: Provider; keyVersion: string; checkedAt: number };


/**
 * Refresh token lifetimes, as in Entra: 24 hours for public browser apps (SPA), never extended by
 * rotation; 14 days otherwise, renewed by each rotation up to the grant's 90 days. Never past the
 * grant's end, which is the pass's end for a TAP sign-in (TAP-8, tokenLifetimes.ts).
 */
export function refreshTokenTtl(ctx: KoaContextWithOIDC, _token: unknown, client: Client): number {
  const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
  if (client.clientAuthMethod === 'none' && client.applicationType === 'web') return cappedTtl(ctx, rotated ? rotated.remainingTTL : 24 * 3600);
  return cappedTtl(ctx, 14 * 24 * 3600);
}

/**
 * `findAccount`: the user behind a session, code or token, with the claims of Entra's ID tokens
 * (`oid`, `tid`, `name`, `preferred_username`, `email`). A deleted or disabled user (DIR-2) has
 * no account, so codes and refresh tokens stop working. PLT-6: a code or refresh token from a
 * sign-in older than the user's `signInSessionsValidFromDateTime` (revokeSignInSessions) has no
 * account either. Compared in whole seconds, the precision of `auth_time`.
 */
async function accountFor(db: Db, tenantId: string, sub: string, token: { authTime?: number; iat?: number } | undefined): Promise<Account | undefined> {
  const user = await findUser(db, tenantId, sub);
  if (!user || !user.accountEnabled || user.id !== sub) return undefined;
  const since = token ? (token.authTime ?? token.iat) : undefined;
  if (since !== undefined && since < Math.floor(Date.parse(user.signInSessionsValidFromDateTime) / 1000)) return undefined;
  return {
    accountId: user.id,
    claims: () => ({
      sub: user.id, oid: user.id, tid: tenantId, name: user.displayName, preferred_username: user.userPrincipalName,
      ...(user.mail ? { email: user.mail } : {}),
    }),
  };
}

/**
 * Builds and caches one oidc-provider instance per tenant. Signing keys come from the database;
 * a key rotation done by another process is noticed within KEY_RECHECK_MS and the tenant's
 * provider is rebuilt with the new key set.
 */
export class TenantProviders {
  static readonly KEY_RECHECK_MS = 10_000;
  readonly #db: Db;
  readonly #settings: OidcSettings;
  readonly #cache = new Map<string, Promise<Entry | undefined>>();

  constructor(db: Db, settings: OidcSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  async get(tenantId: string): Promise<Provider | undefined> {
    const now = Date.now();
    const cached = this.#cache.get(tenantId);
    if (cached) {
      const entry = await cached;
      if (!entry) {
        this.#cache.delete(tenantId);
      } else if (now - entry.checkedAt < TenantProviders.KEY_RECHECK_MS) {
        return entry.provider;
      } else {
        entry.checkedAt = now;
        if ((await keySetVersion(this.#db, tenantId)) === entry.keyVersion) return entry.provider;
        this.#cache.delete(tenantId);
      }
    }
    const building = this.#build(tenantId);
    this.#cache.set(tenantId, building);
    const entry = await building.catch((err: unknown) => {
      this.#cache.delete(tenantId);
      throw err;
    });
    return entry?.provider;
  }

  async #build(tenantId: string): Promise<Entry | undefined> {
    const tenant = await findTenant(this.#db, tenantId);
    if (!tenant) return undefined;
    const keyVersion = await keySetVersion(this.#db, tenant.id);
    const keys = await publishedKeys(this.#db, tenant.id, new Date());
    const cookieKey = await serverSecret(this.#db, 'cookie-key');
    const base = this.#settings.publicBaseUrl;
    const resource = graphResource(base);

    const db = this.#db;

    const configuration: Configuration = {
      adapter: adapterFor(db, tenant.id),
      jwks: { keys: keys.map((k) => k.privateJwk) as never },
      // The session cookie is per tenant: each tenant is its own OpenID provider on one host.
      cookies: {
        keys: [cookieKey],
        long: { httpOnly: true, sameSite: 'lax', path: `/${tenant.id}/v2.0` },
        short: { httpOnly: true, sameSite: 'lax' },
      },
      extraClientMetadata: { properties: ['gatehouse_secret_hashes', 'gatehouse_permissions'] },
      // CA-7: apps name authentication contexts c1..c99 in acr_values or the claims parameter.
      acrValues: [...AUTHENTICATION_CONTEXTS],
      // The ID token carries how the user signed in (CA-7) and who they are, as Entra's do;
      // conformIdTokenClaims off puts the profile claims in the ID token, not only in userinfo.
      claims: {
        acr: null, amr: null, auth_time: null, sid: null, iss: null,
        openid: ['sub', 'acr', 'amr', 'auth_time', 'tid', 'oid'],
        profile: ['name', 'preferred_username'],
        email: ['email'],
      },
      conformIdTokenClaims: false,
      features: {
        devInteractions: { enabled: false },
        claimsParameter: { enabled: true },
        clientCredentials: { enabled: true },
        introspection: { enabled: false },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          // The Graph API takes application tokens only: user sign-ins get opaque access tokens for userinfo.
          defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? resource : undefined) as string,
          useGrantedResource: () => true,
          getResourceServerInfo: (ctx, indicator) => {
            if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource '${indicator}'; this server's Graph API is '${resource}'`);
            if (ctx.oidc.params?.grant_type !== 'client_credentials') throw new errors.InvalidTarget(`the Graph API '${resource}' accepts application (client credentials) tokens only`);
            return {
              scope: '',
              audience: resource,
              accessTokenTTL: MAX_TOKEN_LIFETIME_SECONDS,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
      // PKCE (S256) is required of public clients (SPA and native apps, no secret).
      pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
      // Browsers may call the token endpoint cross-origin for public clients, and userinfo for any,
      // from the origin of one of the app's redirect URIs.
      clientBasedCORS: (ctx, origin, client) => (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none')
        && (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin),
      // Refresh tokens: for apps allowed the refresh_token grant that ask for offline_access
      // (which needs no prompt=consent here, see oidcMount.ts); rotated at every use.
      issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
      rotateRefreshToken: true,
      ttl: {
        ClientCredentials: MAX_TOKEN_LIFETIME_SECONDS,
        // TAP-8: user tokens end no later than their grant, which ends with the pass (tokenLifetimes.ts).
        AccessToken: (ctx) => cappedTtl(ctx, MAX_TOKEN_LIFETIME_SECONDS),
        IdToken: (ctx) => cappedTtl(ctx, MAX_TOKEN_LIFETIME_SECONDS),
        AuthorizationCode: 60,
        // As long as a sign-in flow lives (src/flows/sign-in/flow.ts).
        Interaction: 15 * 60,
        // Saved when an authorization resumes after a sign-in: capped like the tokens (TAP-8).
        Session: (ctx) => cappedTtl(ctx, 24 * 3600),
        Grant: REFRESH_TOKEN_FAMILY_SECONDS,
        RefreshToken: refreshTokenTtl,
      },
      // DIR-6: the app's Graph application permissions travel as `roles`, as in Entra tokens.
      extraTokenClaims: (ctx: KoaContextWithOIDC, token) => {
        if (token.kind !== 'ClientCredentials') return undefined;
        const client = ctx.oidc.client as unknown as { gatehouse_permissions?: string[]; clientId: string } | undefined;
        return { tid: tenant.id, azp: client?.clientId, idtyp: 'app', roles: client?.gatehouse_permissions ?? [] };
      },
      findAccount: (_ctx, sub, token) => accountFor(db, tenant.id, sub, token as { authTime?: number; iat?: number } | undefined),
      interactions: { url: (_ctx, interaction) => `/${tenant.id}/sign-in?uid=${interaction.uid}`, policy: signInPolicy() },
      renderError: (ctx, out) => {
        ctx.type = 'application/json';
        ctx.body = out;
      },
    };
    const provider = new Provider(issuerFor(base, tenant.id), configuration);
    provider.proxy = this.#settings.trustProxy;
    // LOG-1: every refresh (a non-interactive sign-in) writes a sign-in record.
    installRefreshSignInLog(provider, db, tenant.id);
    // Secrets are stored as SHA-256 hashes (see clients.ts): compare the hash of what was presented.
    const ClientProto = (provider.Client as unknown as { prototype: { compareClientSecret(this: { gatehouse_secret_hashes?: string[] }, actual: string): Promise<boolean> } }).prototype;
    ClientProto.compareClientSecret = async function compareClientSecret(actual: string) {
      const presented = Buffer.from(hashClientSecret(String(actual)));
      let ok = false;
      for (const h of this.gatehouse_secret_hashes ?? []) {
        const stored = Buffer.from(h);
        if (stored.length === presented.length && timingSafeEqual(stored, presented)) ok = true;
      }
      return ok;
    };
    return { provider, keyVersion, checkedAt: Date.now() };
  }
}
