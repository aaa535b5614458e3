import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { FIRST_PARTY_APPS, permissionsOfRoles } from '../domain/directory.ts';
import { UnauthorizedError } from '../domain/errors.ts';
import { transitiveGroupIdsOf } from '../store/groups.ts';
import { rolesOf } from '../store/roles.ts';
import { findUser } from '../store/users.ts';
import { isGuid } from '../domain/validation.ts';
import type { Db } from '../store/database.ts';
import { keySetVersion, publishedKeys } from '../store/signingKeys.ts';
import { findTenant } from '../store/tenants.ts';
import { publicJwk } from './keys.ts';
import { graphResource, issuerFor } from './provider.ts';

/**
 * Who calls the Graph API: an automation app with application permissions (client credentials,
 * DIR-6), or a user through a first-party app (a delegated token): the admin console acts with
 * the permissions of the user's directory roles (DIR-4); the security-info portal only on the
 * user's own security info (`/me`). `flowId` is the sign-in the token came from, over which the
 * security-info gate (PLT-1..PLT-3) decides.
 */
export type GraphCaller =
  | { kind: 'app'; tenantId: string; appId: string; permissions: string[] }
  | { kind: 'user'; tenantId: string; appId: string; id: string; userPrincipalName: string; roles: string[]; permissions: string[]; flowId: string | null };

type KeyEntry = { jwks: ReturnType<typeof createLocalJWKSet>; version: string; checkedAt: number };

/**
 * Checks bearer tokens for the admin API: signature by one of the tenant's published keys,
 * issuer = the tenant's issuer, audience = this server's Graph resource, not expired.
 */
export class GraphTokenVerifier {
  readonly #db: Db;
  readonly #base: string;
  readonly #keys = new Map<string, KeyEntry>();

  constructor(db: Db, publicBaseUrl: string) {
    this.#db = db;
    this.#base = publicBaseUrl;
  }

  async verify(authorization: string | undefined): Promise<GraphCaller> {
    if (!authorization) throw new UnauthorizedError('Access token is empty: send Authorization: Bearer <token> from the tenant\'s token endpoint.');
    const m = /^Bearer ([A-Za-z0-9_.-]{10,8192})$/i.exec(authorization.trim());
    if (!m) throw new UnauthorizedError('Authorization header must be "Bearer <JWT access token>".');
    const token = m[1]!;
    let tid: unknown;
    try {
      tid = decodeJwt(token).tid;
    } catch {
      throw new UnauthorizedError('Access token is not a JWT.');
    }
    if (typeof tid !== 'string' || !isGuid(tid)) throw new UnauthorizedError('Access token has no tenant (tid) claim.');
    const jwks = await this.#jwks(tid);
    if (!jwks) throw new UnauthorizedError('Access token names a tenant this server does not have.');
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: issuerFor(this.#base, tid),
        audience: graphResource(this.#base),
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        requiredClaims: ['exp', 'iat'],
      });
      const appId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : '';
      if (payload.idtyp === 'user' && appId && typeof payload.sub === 'string') return await this.#delegated(tid, appId, payload.sub, typeof payload.gh_iat_ms === 'number' ? payload.gh_iat_ms : payload.iat! * 1000, payload.gh_sif);
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
      if (payload.idtyp !== 'app' || !appId) throw new UnauthorizedError('Access token is neither an application token (client credentials) nor a delegated token of a first-party app.');
      return { kind: 'app', tenantId: tid, appId, permissions: roles };
    } catch (err) {
      if (err instanceof UnauthorizedError) throw err;
      const code = (err as { code?: string }).code ?? '';
      const reason = code === 'ERR_JWT_EXPIRED' ? 'Lifetime validation failed, the token is expired.'
        : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `Access token claim check failed: ${(err as Error).message}.`
          : 'Access token validation failure: signature or key unknown.';
      throw new UnauthorizedError(reason, (err as Error).message);
    }
  }

  /**
   * A delegated token: the user must still exist and be enabled, and the token must be newer than
   * the user's revocation (PLT-6), compared to the millisecond (`gh_iat_ms`). The admin console acts with the roles' permissions; the
   * portal has none beyond `/me`.
   */
  async #delegated(tenantId: string, appId: string, userId: string, issuedAtMs: number, flowId: unknown): Promise<GraphCaller> {
    const key = FIRST_PARTY_APPS.find((a) => a.appId === appId.toLowerCase())?.key;
    if (key !== 'securityInfo' && key !== 'adminConsole') throw new UnauthorizedError('Delegated Graph tokens are accepted from the security-info portal and the admin console only.');
    const user = isGuid(userId) ? await findUser(this.#db, tenantId, userId) : undefined;
    if (!user || user.id !== userId.toLowerCase()) throw new UnauthorizedError('The user this token was issued to no longer exists.');
    if (!user.accountEnabled) throw new UnauthorizedError('The user this token was issued to is disabled (DIR-2).');
    if (issuedAtMs < Date.parse(user.signInSessionsValidFromDateTime)) throw new UnauthorizedError("The user's sessions were revoked after this token was issued (PLT-6): sign in again.");
    const roles = key === 'adminConsole' ? await rolesOf(this.#db, tenantId, [user.id, ...await transitiveGroupIdsOf(this.#db, tenantId, user.id)]) : [];
    return {
      kind: 'user', tenantId, appId: appId.toLowerCase(), id: user.id, userPrincipalName: user.userPrincipalName, roles,
      permissions: permissionsOfRoles(roles), flowId: typeof flowId === 'string' && isGuid(flowId) ? flowId : null,
    };
  }

  async #jwks(tenantId: string): Promise<KeyEntry['jwks'] | undefined> {
    const now = Date.now();
    const hit = this.#keys.get(tenantId);
    if (hit && now - hit.checkedAt < 10_000) return hit.jwks;
    const version = await keySetVersion(this.#db, tenantId);
    if (hit && hit.version === version) {
      hit.checkedAt = now;
      return hit.jwks;
    }
    if (!(await findTenant(this.#db, tenantId))) return undefined;
    const keys = await publishedKeys(this.#db, tenantId, new Date());
    const set: JSONWebKeySet = { keys: keys.map((k) => publicJwk(k.privateJwk)) as JSONWebKeySet['keys'] };
    const entry = { jwks: createLocalJWKSet(set), version, checkedAt: now };
    this.#keys.set(tenantId, entry);
    return entry.jwks;
  }
}
