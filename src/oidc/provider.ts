import { timingSafeEqual } from 'node:crypto';
import Provider, { errors, type Account, type Adapter, type AdapterPayload, type Client, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { FIRST_PARTY_APPS } from '../domain/directory.ts';
import type { Db } from '../store/database.ts';
import { hashClientSecret } from '../store/applications.ts';
import { findUser } from '../store/users.ts';
import { keySetVersion, publishedKeys } from '../store/signingKeys.ts';
import { findTenant } from '../store/tenants.ts';
import { serverSecret } from '../store/serverSecrets.ts';
import { adapterFor } from './adapter.ts';
import { delegatedGraphScope } from './clients.ts';
import { AUTHENTICATION_CONTEXTS, REFRESH_TOKEN_FAMILY_SECONDS, signInPolicy } from './interactions.ts';
import { MAX_TOKEN_LIFETIME_SECONDS } from './keys.ts';
import { installRefreshSignInLog, refreshAccount, signInFlowOfGrant } from './refreshLog.ts';
import { cappedTtl } from './tokenLifetimes.ts';

export type OidcSettings = {
  /** Public base URL, e.g. http://localhost:8080 (no trailing slash). */
  publicBaseUrl: string;
  /** Whether X-Forwarded-* headers from a proxy are believed (GATEHOUSE_TRUST_PROXY). */
  trustProxy: boolean;
  /** The device code flow's pages (src/http/pages/device.ts); oidc-provider's plain defaults without. */
  devicePages?: DevicePages;
  /**
   * The instant a refresh is re-decided at (PLT-6, refreshLog.ts). The wall clock unless a test
   * sets one (`buildServer`'s `now`) to let a sign-in frequency elapse without waiting.
   */
  now?: () => Date;
};

type DeviceFlowFeature = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>;
/** The device authorization grant's three pages, in oidc-provider's `features.deviceFlow` shape. */
export type DevicePages = Required<Pick<DeviceFlowFeature, 'userCodeInputSource' | 'userCodeConfirmSource' | 'successSource'>>;

/** RFC 8628's grant type. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DEVICE_REGISTRATION_APP = FIRST_PARTY_APPS.find((a) => a.key === 'deviceRegistration')!.appId;

/**
 * SC-5, CA-2: who may use the OAuth device authorization grant. The first-party device
 * registration app (DIR-5: a device enrolling, its sign-ins carry `urn:user:registerdevice`) as a
 * public native client, and any app registered as a native public client: `publicClient`
 * redirect URIs, no `web` or `spa` ones and no secret (Entra's "mobile and desktop
 * applications" platform). Both may also refresh.
 */
export function withDeviceFlowGrant(metadata: Record<string, unknown>): Record<string, unknown> {
  const grantTypes = (metadata.grant_types as string[] | undefined) ?? [];
  if (String(metadata.client_id).toLowerCase() === DEVICE_REGISTRATION_APP) {
    return { ...metadata, application_type: 'native', token_endpoint_auth_method: 'none', grant_types: [...new Set([...grantTypes, DEVICE_CODE_GRANT, 'refresh_token'])] };
  }
  if (metadata.token_endpoint_auth_method === 'none' && metadata.application_type === 'native') {
    return { ...metadata, grant_types: [...new Set([...grantTypes, DEVICE_CODE_GRANT])] };
  }
  return metadata;
}

/** The adapter with clients' metadata as `withDeviceFlowGrant` makes it. */
function withDeviceClients(Base: new (model: string) => Adapter): new (model: string) => Adapter {
  return class extends Base {
    readonly #model: string;
    constructor(model: string) {
      super(model);
      this.#model = model;
    }

    override async find(id: string): Promise<AdapterPayload | undefined> {
      const found = (await super.find(id)) ?? undefined;
      return found && this.#model === 'Client' ? withDeviceFlowGrant(found as Record<string, unknown>) as AdapterPayload : found;
    }
  };
}

/** DIR-1: one issuer per tenant, under the public base URL. */
export const issuerFor = (base: string, tenantId: string) => `${base}/${tenantId}/v2.0`;
/** The audience of Graph-shaped admin API tokens. */
export const graphResource = (base: string) => `${base}/graph`;

/** Delegated Graph tokens live as long as a security-info session (PLT-2). */
export const DELEGATED_GRAPH_TOKEN_SECONDS = 15 * 60;


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
    const clock = this.#settings.now ?? (() => new Date());

    const configuration: Configuration = {
      adapter: withDeviceClients(adapterFor(db, tenant.id, base)),
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
        // SC-5: the OAuth device authorization grant (RFC 8628). The user enters the code at
        // {issuer}/device (linked from /{tenantId}/device), confirms, and signs in on the sign-in
        // page like any authorization request, with `transferMethod: deviceCodeFlow` (CA-2).
        deviceFlow: { enabled: true, charset: 'base-20', mask: '****-****', ...(this.#settings.devicePages ?? {}) },
        claimsParameter: { enabled: true },
        clientCredentials: { enabled: true },
        introspection: { enabled: false },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          // The Graph API takes application tokens (client credentials) and delegated tokens of the
          // first-party security-info portal and admin console (graphTokens.ts); other apps' user
          // sign-ins get opaque access tokens for userinfo.
          defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? resource : undefined) as string,
          useGrantedResource: () => true,
          getResourceServerInfo: (ctx, indicator, client) => {
            if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource '${indicator}'; this server's Graph API is '${resource}'`);
            if (ctx.oidc.params?.grant_type === 'client_credentials') {
              return { scope: '', audience: resource, accessTokenTTL: MAX_TOKEN_LIFETIME_SECONDS, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
            }
            const scope = delegatedGraphScope(client.clientId);
            if (!scope) throw new errors.InvalidTarget(`the Graph API '${resource}' accepts application (client credentials) tokens, and delegated tokens of the first-party security-info portal and admin console only`);
            return { scope, audience: resource, accessTokenTTL: DELEGATED_GRAPH_TOKEN_SECONDS, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
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
        // A resource server's own lifetime (delegated Graph tokens: 15 minutes) is capped the same way.
        AccessToken: (ctx, token) => cappedTtl(ctx, (token as { resourceServer?: { accessTokenTTL?: number } }).resourceServer?.accessTokenTTL ?? MAX_TOKEN_LIFETIME_SECONDS),
        IdToken: (ctx) => cappedTtl(ctx, MAX_TOKEN_LIFETIME_SECONDS),
        AuthorizationCode: 60,
        // SC-5: a device's user code is valid for 10 minutes (the device page says so).
        DeviceCode: 600,
        // As long as a sign-in flow lives (src/flows/sign-in/flow.ts).
        Interaction: 15 * 60,
        // Saved when an authorization resumes after a sign-in: capped like the tokens (TAP-8).
        Session: (ctx) => cappedTtl(ctx, 24 * 3600),
        Grant: REFRESH_TOKEN_FAMILY_SECONDS,
        RefreshToken: refreshTokenTtl,
      },
      // DIR-6: the app's Graph application permissions travel as `roles`, as in Entra tokens.
      extraTokenClaims: async (ctx: KoaContextWithOIDC, token) => {
        if (token.kind === 'AccessToken' && (token as { resourceServer?: { audience?: string } }).resourceServer?.audience === resource) {
          // A delegated Graph token names the sign-in it came from (the security-info gate decides over it):
          // the flow saved with its Grant's sign-in session (refreshLog.ts), when that is the token's account's.
          const { grantId, accountId } = token as { grantId?: string; accountId?: string };
          const flowId = grantId ? await signInFlowOfGrant(db, tenant.id, grantId, accountId, clock()) : undefined;
          // gh_iat_ms: when it was issued, to the millisecond, so revocation (PLT-6) is exact, not rounded to iat's second.
          return { tid: tenant.id, idtyp: 'user', oid: accountId, gh_iat_ms: Date.now(), ...(flowId ? { gh_sif: flowId } : {}) };
        }
        if (token.kind !== 'ClientCredentials') return undefined;
        const client = ctx.oidc.client as unknown as { gatehouse_permissions?: string[]; clientId: string } | undefined;
        return { tid: tenant.id, azp: client?.clientId, idtyp: 'app', roles: client?.gatehouse_permissions ?? [] };
      },
      findAccount: async (ctx, sub, token) => {
        // PLT-6: a refresh is decided again (refreshLog.ts); everything else finds the account as before.
        const t = token as { kind?: string; authTime?: number; iat?: number } | undefined;
        if (ctx?.oidc?.route === 'token' && (ctx.oidc.params as { grant_type?: unknown } | undefined)?.grant_type === 'refresh_token' && t?.kind === 'RefreshToken') {
          return refreshAccount(db, tenant.id, ctx, sub, t, clock());
        }
        const account = await accountFor(db, tenant.id, sub, t);
        // DIR-2, PLT-6: a user disabled, deleted or revoked between completing the sign-in and
        // resuming the authorization gets access_denied at the app, not a server error (without
        // an account oidc-provider cannot issue the code).
        if (!account && (ctx?.oidc?.route === 'resume' || ctx?.oidc?.route === 'device_resume')) throw new errors.AccessDenied('the account is disabled or deleted, or its sign-in sessions were revoked; sign in again');
        return account;
      },
      interactions: { url: (_ctx, interaction) => `/${tenant.id}/sign-in?uid=${interaction.uid}`, policy: signInPolicy() },
      renderError: (ctx, out) => {
        ctx.type = 'application/json';
        ctx.body = out;
      },
    };
    const provider = new Provider(issuerFor(base, tenant.id), configuration);
    provider.proxy = this.#settings.trustProxy;
    // LOG-1: every refresh (a non-interactive sign-in) writes a sign-in record.
    installRefreshSignInLog(provider, db, tenant.id, clock);
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
