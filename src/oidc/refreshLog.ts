import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { SIGN_IN_ERRORS, type SignInErrorName } from '../domain/signInErrors.ts';
import { isGuid } from '../domain/validation.ts';
import type { Db } from '../store/database.ts';
import { findArtefactIncludingExpired } from '../store/oidcTokenLookup.ts';
import { writeSignIn } from '../store/signIns.ts';
import { findUser } from '../store/users.ts';

type RefreshTokenLike = { accountId?: string; amr?: string[]; authTime?: number; iat?: number; exp?: number; grantId?: string };
type GrantError = { error?: string; error_description?: string; error_detail?: string };

/**
 * LOG-1: a refresh is a non-interactive sign-in, and every attempt writes a `signIn` record
 * (`isInteractive: false`): the app, the user the refresh token belongs to, the outcome (0, or the
 * failure's code: 50173 revoked by revokeSignInSessions, 50057 disabled, 900107 deleted, 900103 a
 * TAP sign-in whose pass has ended, 70008 expired or revoked grant, 70000 otherwise) and a
 * correlation id (the client's `client-request-id` header when it is a GUID, as in Entra, else a
 * new one).
 *
 * Installed as oidc-provider middleware around the token endpoint, so the record is written before
 * the response leaves. oidc-provider's own writes (the rotated refresh token, the new access token)
 * go through its adapter, each in its own statement; this record is one more statement and does
 * not share a transaction with them: oidc-provider has no hook for that. A failure to write the
 * record does not undo a refresh that already rotated the token (the client would lose it): it is
 * reported as oidc-provider's `server_error` event instead.
 */
export function installRefreshSignInLog(provider: Provider, db: Db, tenantId: string): void {
  const errorsByCtx = new WeakMap<object, GrantError>();
  // Emitted synchronously by oidc-provider's error handler, inside the middleware's `next()`.
  provider.on('grant.error', (ctx: object, err: GrantError) => { errorsByCtx.set(ctx, err); });
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route !== 'token' || (oidc.params as { grant_type?: unknown } | undefined)?.grant_type !== 'refresh_token' || !oidc.client) return;
    try {
      await logRefresh(db, tenantId, ctx as KoaContextWithOIDC, errorsByCtx.get(ctx));
    } catch (err) {
      provider.emit('server_error', ctx, err);
    }
  });
}

async function logRefresh(db: Db, tenantId: string, ctx: KoaContextWithOIDC, error: GrantError | undefined): Promise<void> {
  const now = new Date();
  const { client } = ctx.oidc;
  const entities = ctx.oidc.entities as { RefreshToken?: RefreshTokenLike; RotatedRefreshToken?: RefreshTokenLike };
  const ok = ctx.status === 200 && !error;
  let token: RefreshTokenLike | undefined = entities.RotatedRefreshToken ?? entities.RefreshToken;
  if (!token) {
    // Refused before oidc-provider kept the token (e.g. its grant is gone): read it for the record.
    const value = (ctx.oidc.params as { refresh_token?: unknown }).refresh_token;
    const found = typeof value === 'string' && value.length <= 256 ? await findArtefactIncludingExpired(db, tenantId, 'RefreshToken', value) : undefined;
    token = found && found.clientId === client!.clientId ? found as RefreshTokenLike : undefined;
  }
  const user = token?.accountId ? await findUser(db, tenantId, token.accountId) : undefined;
  const nowSeconds = Math.floor(now.getTime() / 1000);

  let failure: SignInErrorName | null = null;
  const detail = error ? `${error.error ?? 'error'}: ${error.error_detail ?? error.error_description ?? ''}` : 'refresh token redeemed';
  if (!ok) {
    const since = token ? (token.authTime ?? token.iat) : undefined;
    if (token?.accountId && (!user || user.id !== token.accountId)) failure = 'UserNotFound';
    else if (user && !user.accountEnabled) failure = 'AccountDisabled';
    else if (user && since !== undefined && since < Math.floor(Date.parse(user.signInSessionsValidFromDateTime) / 1000)) failure = 'SessionRevoked';
    else if ((token?.exp !== undefined && token.exp <= nowSeconds) || /expired/.test(detail)) failure = token?.amr?.includes('tap') ? 'TapExpired' : 'ExpiredOrRevokedGrant';
    else if (/grant not found/.test(detail)) failure = 'ExpiredOrRevokedGrant';
    else failure = 'InvalidGrant';
  }
  const header = ctx.get('client-request-id');
  const mfa = token?.amr?.includes('mfa') ?? false;
  await writeSignIn(db, tenantId, {
    correlationId: isGuid(header) ? header.toLowerCase() : randomUUID(),
    user: user ? { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName } : null,
    app: { appId: client!.clientId, displayName: client!.clientName ?? client!.clientId },
    ipAddress: ctx.ip || null,
    userAgent: ctx.get('user-agent') || null,
    status: failure
      ? { errorCode: SIGN_IN_ERRORS[failure].code, failureReason: SIGN_IN_ERRORS[failure].text, additionalDetails: `refresh_token grant refused: ${detail}${failure === 'TapExpired' ? ' (TAP-8: tokens from a Temporary Access Pass sign-in end with the pass)' : ''}` }
      : { errorCode: 0, failureReason: 'Other.', additionalDetails: detail },
    authenticationDetails: [{
      authenticationMethod: 'Previously satisfied', succeeded: failure === null,
      authenticationStepResultDetail: failure === null ? 'First factor requirement satisfied by the refresh token' : SIGN_IN_ERRORS[failure].text,
    }],
    authenticationRequirement: mfa ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
    extra: {
      isInteractive: false,
      clientAppUsed: client!.clientAuthMethod === 'none' && client!.applicationType === 'native' ? 'Mobile Apps and Desktop clients' : 'Browser',
      gatehouseGrantType: 'refresh_token',
      ...(token?.authTime !== undefined ? { gatehouseOriginalAuthDateTime: new Date(token.authTime * 1000).toISOString() } : {}),
    },
  }, now);
}
