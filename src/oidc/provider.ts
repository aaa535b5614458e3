import { timingSafeEqual } from 'node:crypto';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../store/database.ts';
import { hashClientSecret } from '../store/applications.ts';
import { keySetVersion, publishedKeys } from '../store/signingKeys.ts';
import { findTenant } from '../store/tenants.ts';
import { serverSecret } from '../store/serverSecrets.ts';
import { adapterFor } from './adapter.ts';
import { MAX_TOKEN_LIFETIME_SECONDS } from './keys.ts';

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

    const configuration: Configuration = {
      adapter: adapterFor(this.#db, tenant.id),
      jwks: { keys: keys.map((k) => k.privateJwk) as never },
      cookies: { keys: [cookieKey] },
      extraClientMetadata: { properties: ['gatehouse_secret_hashes', 'gatehouse_permissions'] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: false },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => resource,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource '${indicator}'; this server's Graph API is '${resource}'`);
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
      ttl: {
        ClientCredentials: MAX_TOKEN_LIFETIME_SECONDS,
        AccessToken: MAX_TOKEN_LIFETIME_SECONDS,
        IdToken: MAX_TOKEN_LIFETIME_SECONDS,
      },
      // DIR-6: the app's Graph application permissions travel as `roles`, as in Entra tokens.
      extraTokenClaims: (ctx: KoaContextWithOIDC, token) => {
        if (token.kind !== 'ClientCredentials') return undefined;
        const client = ctx.oidc.client as unknown as { gatehouse_permissions?: string[]; clientId: string } | undefined;
        return { tid: tenant.id, azp: client?.clientId, idtyp: 'app', roles: client?.gatehouse_permissions ?? [] };
      },
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
      interactions: { url: (_ctx, interaction) => `/${tenant.id}/sign-in?uid=${interaction.uid}` },
      renderError: (ctx, out) => {
        ctx.type = 'application/json';
        ctx.body = out;
      },
    };
    const provider = new Provider(issuerFor(base, tenant.id), configuration);
    provider.proxy = this.#settings.trustProxy;
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
