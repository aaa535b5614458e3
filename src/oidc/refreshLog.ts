import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import { errors, type Account, type KoaContextWithOIDC } from 'oidc-provider';
import { SIGN_IN_ERRORS, type SignInErrorName } from '../domain/signInErrors.ts';
import { isGuid } from '../domain/validation.ts';
import { FIRST_PARTY_APPS } from '../domain/directory.ts';
import type { User } from '../domain/resources.ts';
import type { Decision } from '../engine/types.ts';
import { decide, decisionTrace, loadDecisionFacts, signInInputFrom, transferFields } from '../flows/sign-in/flow.ts';
import type { Db } from '../store/database.ts';
import { findArtefact, upsertArtefact } from '../store/oidcArtefacts.ts';
import { findArtefactIncludingExpired } from '../store/oidcTokenLookup.ts';
import type { PerformedMethod, SignInFlowState } from '../store/signInFlows.ts';
import { writeSignIn } from '../store/signIns.ts';
import { findUser } from '../store/users.ts';

type RefreshTokenLike = { accountId?: string; amr?: string[]; authTime?: number; iat?: number; exp?: number; grantId?: string; consumed?: unknown; kind?: string };
type GrantError = { error?: string; error_description?: string; error_detail?: string };

/**
 * What a refresh is re-decided over (PLT-6, SIG-1): the interactive sign-in that made the Grant,
 * its request (app, user action, authentication contexts, client capabilities, transfer method)
 * and its session (the methods performed, with their times). Saved by `finishInteraction` beside
 * the Grant (an oidc artefact of its own model, keyed and expiring with the Grant, removed with
 * it when the family is revoked); every sign-in gets its own Grant, so a Grant names one sign-in.
 * The same record names that sign-in's flow (`flowId`), which a delegated Graph token carries as
 * `gh_sif` so the security-info gate decides over the sign-in the token came from
 * (`signInFlowOfGrant`).
 */
export type SignInSession = Pick<SignInFlowState, 'appId' | 'userAction' | 'authenticationContexts' | 'capabilities' | 'transferMethod' | 'performed' | 'correlationId'>;
export const SIGN_IN_SESSION_MODEL = 'GatehouseSignInSession';

/** The Grant, its account and app, and the sign-in flow that made it. */
type GrantSignIn = { grantId: string; accountId: string; clientId: string; flowId: string };
/** What is saved per Grant; read back as partial (a Grant saved before `flowId` was kept has none). */
type SavedSignInSession = GrantSignIn & { session: SignInSession };

export async function rememberSignInSession(db: Db, tenantId: string, grant: GrantSignIn, session: SignInSession, expiresInSeconds: number, now: Date): Promise<void> {
  const saved: SavedSignInSession = { ...grant, flowId: grant.flowId.toLowerCase(), session };
  await upsertArtefact(db, tenantId, SIGN_IN_SESSION_MODEL, grant.grantId, saved, expiresInSeconds, now);
}

/**
 * The sign-in flow that made a Grant, for a delegated Graph token's `gh_sif`: only while the Grant's
 * saved session lives and only when it is the token's account's (else none, and the gate's 401).
 */
export async function signInFlowOfGrant(db: Db, tenantId: string, grantId: string, accountId: string | undefined, now: Date): Promise<string | undefined> {
  if (!accountId) return undefined;
  const found = await findArtefact(db, tenantId, SIGN_IN_SESSION_MODEL, grantId, now) as Partial<SavedSignInSession> | undefined;
  return found && found.accountId === accountId && typeof found.flowId === 'string' ? found.flowId : undefined;
}

/** `amr` back to the modes it stands for, for a Grant made before sessions were saved (no method ids: strengths with AAGUID restrictions fail closed). */
const MODE_OF_AMR: Record<string, string> = { fido: 'fido2', tap: 'temporaryAccessPassMultiUse', pwd: 'password', otp: 'softwareOath' };

async function sessionFor(db: Db, tenantId: string, token: RefreshTokenLike, clientId: string, now: Date): Promise<{ session: SignInSession; saved: boolean }> {
  const found = token.grantId ? await findArtefact(db, tenantId, SIGN_IN_SESSION_MODEL, token.grantId, now) as { accountId?: string; session?: SignInSession } | undefined : undefined;
  if (found?.session && found.accountId === token.accountId) return { session: found.session, saved: true };
  // auth_time has whole seconds; the factor happened within that second: its last millisecond (never
  // after now) keeps it from looking older than a revocation or a user created in the same second.
  const at = new Date(Math.min(((token.authTime ?? token.iat ?? 0) + 1) * 1000 - 1, now.getTime())).toISOString();
  const performed: PerformedMethod[] = (token.amr ?? []).filter((a) => MODE_OF_AMR[a]).map((a) => ({ method: MODE_OF_AMR[a]!, methodId: '', at }));
  const firstParty = FIRST_PARTY_APPS.find((a) => a.appId === clientId.toLowerCase())?.key;
  const userAction = firstParty === 'securityInfo' ? 'urn:user:registersecurityinfo' as const : firstParty === 'deviceRegistration' ? 'urn:user:registerdevice' as const : null;
  return { session: { appId: clientId, userAction, performed, correlationId: '' }, saved: false };
}

/** The re-decision of one refresh, kept for its sign-in record. */
type Recheck = { decision: Decision; session: SignInSession; saved: boolean; user: User };
const rechecks = new WeakMap<object, Recheck>();
/** Refreshes refused because the user's sessions were revoked after the sign-in's last factor, within its second. */
const revokedInSameSecond = new WeakSet<object>();

/** What refuses a refresh whose re-decision is not `grant`: its code and the text the app sees. */
const NAME_BY_CODE = new Map<number, SignInErrorName>(Object.entries(SIGN_IN_ERRORS).map(([name, e]) => [e.code, name as SignInErrorName]));

/**
 * PLT-6, SIG-1: a refresh is a non-interactive sign-in, and Conditional Access is decided again for
 * it by the same engine and the same input builder as the live flow (`signInInputFrom`): the
 * original sign-in's app, user action, contexts, capabilities and transfer method, and the
 * session's performed methods with their times, at `now`. A policy that now blocks (53003), a
 * sign-in frequency that has elapsed (70043), a revocation (50173) or any other outcome than
 * `grant` refuses the refresh with `invalid_grant`, before oidc-provider rotates anything.
 *
 * Called as oidc-provider's `findAccount` for the refresh_token grant (oidc-provider calls it
 * after checking the token's client, expiry and Grant, and before spending the token). A spent
 * token is left to oidc-provider's reuse detection. Reads: the saved session (one row) and the
 * user's facts with the policy version (one statement); the policy snapshot comes from the
 * in-process cache while the version is current.
 */
export async function refreshAccount(db: Db, tenantId: string, ctx: KoaContextWithOIDC, sub: string, token: RefreshTokenLike, now: Date): Promise<Account | undefined> {
  const context = { db, tenantId, now, ipAddress: ctx.ip || null, userAgent: ctx.get('user-agent')?.slice(0, 512) || null };
  const { policies, user, facts } = await loadDecisionFacts(db, context, sub);
  if (!facts || !user || !facts.user.accountEnabled || facts.user.id !== sub) return undefined;
  const since = token.authTime ?? token.iat;
  // PLT-6: refused as before the re-decision (the record says 50173), without reading the session.
  if (since !== undefined && since < Math.floor(Date.parse(facts.user.signInSessionsValidFromDateTime) / 1000)) return undefined;
  if (token.consumed) return accountOf(tenantId, facts.user);
  const clientId = ctx.oidc.client!.clientId;
  const { session, saved } = await sessionFor(db, tenantId, token, clientId, now);
  // PLT-6 to the millisecond: `auth_time` has whole seconds, so sessions revoked in the sign-in's
  // own second, after its last factor, pass the check above. The saved session's factor times don't.
  const lastFactor = saved ? Math.max(...session.performed.map((p) => Date.parse(p.at))) : Number.NaN;
  if (lastFactor < Date.parse(facts.user.signInSessionsValidFromDateTime)) {
    revokedInSameSecond.add(ctx);
    return undefined;
  }
  const pseudoFlow = {
    id: token.grantId ?? '', tenantId, userId: sub, expiresAt: now,
    // `startedAt` now: a sign-in frequency of `everyTime` is never met by a refresh.
    state: { ...session, appId: session.appId ?? clientId, startedAt: now.toISOString() },
  };
  const decision = decide(signInInputFrom(context, pseudoFlow, policies, user));
  rechecks.set(ctx, { decision, session, saved, user: facts.user });
  if (decision.outcome !== 'grant') {
    const name = NAME_BY_CODE.get(decision.errorCode ?? 0) ?? 'BlockedByConditionalAccess';
    const err = new errors.InvalidGrant(`refresh re-decided: ${decision.outcome} (${decision.errorCode}): ${decision.failureReason ?? ''}`);
    err.error_description = `AADSTS${SIGN_IN_ERRORS[name].code}: ${SIGN_IN_ERRORS[name].text} Conditional Access was evaluated again for this refresh and did not grant it (${decision.outcome}); sign the user in interactively.`;
    throw err;
  }
  return accountOf(tenantId, facts.user);
}

/** The account oidc-provider issues for, with the claims of Entra's ID tokens (as provider.ts `accountFor`). */
function accountOf(tenantId: string, user: User): Account {
  return {
    accountId: user.id,
    claims: () => ({
      sub: user.id, oid: user.id, tid: tenantId, name: user.displayName, preferred_username: user.userPrincipalName,
      ...(user.mail ? { email: user.mail } : {}),
    }),
  };
}

/**
 * LOG-1: a refresh is a non-interactive sign-in, and every attempt writes a `signIn` record
 * (`isInteractive: false`): the app, the user the refresh token belongs to, the outcome (0, or the
 * failure's code: 50173 revoked by revokeSignInSessions, 50057 disabled, 900107 deleted, 900103 a
 * TAP sign-in whose pass has ended, 70008 expired or revoked grant, 70000 otherwise, or the code of
 * the refresh's own decision: 53003, 70043, …) and a correlation id (the client's
 * `client-request-id` header when it is a GUID, as in Entra, else a new one). When the refresh was
 * re-decided (`refreshAccount`), the record carries that decision's trace (`decisionTrace`, with
 * the engine's input for replay), the original sign-in's correlation id
 * (`gatehouseOriginalCorrelationId`) and, for a device-flow sign-in, its transfer method.
 *
 * Installed as oidc-provider middleware around the token endpoint, so the record is written before
 * the response leaves. oidc-provider's own writes (the rotated refresh token, the new access token)
 * go through its adapter, each in its own statement; this record is one more statement and does
 * not share a transaction with them: oidc-provider has no hook for that. A failure to write the
 * record does not undo a refresh that already rotated the token (the client would lose it): it is
 * reported as oidc-provider's `server_error` event instead.
 */
export function installRefreshSignInLog(provider: Provider, db: Db, tenantId: string, clock: () => Date = () => new Date()): void {
  const errorsByCtx = new WeakMap<object, GrantError>();
  // Emitted synchronously by oidc-provider's error handler, inside the middleware's `next()`.
  provider.on('grant.error', (ctx: object, err: GrantError) => { errorsByCtx.set(ctx, err); });
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route !== 'token' || (oidc.params as { grant_type?: unknown } | undefined)?.grant_type !== 'refresh_token' || !oidc.client) return;
    try {
      await logRefresh(db, tenantId, ctx as KoaContextWithOIDC, errorsByCtx.get(ctx), clock());
    } catch (err) {
      provider.emit('server_error', ctx, err);
    }
  });
}

async function logRefresh(db: Db, tenantId: string, ctx: KoaContextWithOIDC, error: GrantError | undefined, now: Date): Promise<void> {
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
  const recheck = rechecks.get(ctx);
  const user = recheck?.user ?? (token?.accountId ? await findUser(db, tenantId, token.accountId) : undefined);
  const nowSeconds = Math.floor(now.getTime() / 1000);

  let failure: SignInErrorName | null = null;
  const detail = error ? `${error.error ?? 'error'}: ${error.error_detail ?? error.error_description ?? ''}` : 'refresh token redeemed';
  if (!ok && recheck && recheck.decision.outcome !== 'grant') {
    failure = NAME_BY_CODE.get(recheck.decision.errorCode ?? 0) ?? 'BlockedByConditionalAccess';
  } else if (!ok) {
    const since = token ? (token.authTime ?? token.iat) : undefined;
    if (token?.accountId && (!user || user.id !== token.accountId)) failure = 'UserNotFound';
    else if (user && !user.accountEnabled) failure = 'AccountDisabled';
    else if (revokedInSameSecond.has(ctx) || (user && since !== undefined && since < Math.floor(Date.parse(user.signInSessionsValidFromDateTime) / 1000))) failure = 'SessionRevoked';
    else if ((token?.exp !== undefined && token.exp <= nowSeconds) || /expired/.test(detail)) failure = token?.amr?.includes('tap') ? 'TapExpired' : 'ExpiredOrRevokedGrant';
    else if (/grant not found/.test(detail)) failure = 'ExpiredOrRevokedGrant';
    else failure = 'InvalidGrant';
  }
  const header = ctx.get('client-request-id');
  const mfa = token?.amr?.includes('mfa') ?? false;
  const refused = recheck && recheck.decision.outcome !== 'grant';
  await writeSignIn(db, tenantId, {
    correlationId: isGuid(header) ? header.toLowerCase() : randomUUID(),
    user: user ? { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName } : null,
    app: { appId: client!.clientId, displayName: client!.clientName ?? client!.clientId },
    ipAddress: ctx.ip || null,
    userAgent: ctx.get('user-agent') || null,
    status: failure
      ? {
        errorCode: SIGN_IN_ERRORS[failure].code, failureReason: refused ? recheck.decision.failureReason ?? SIGN_IN_ERRORS[failure].text : SIGN_IN_ERRORS[failure].text,
        additionalDetails: `refresh_token grant refused: ${detail}${failure === 'TapExpired' ? ' (TAP-8: tokens from a Temporary Access Pass sign-in end with the pass)' : ''}`,
      }
      : { errorCode: 0, failureReason: 'Other.', additionalDetails: detail },
    authenticationDetails: [{
      authenticationMethod: 'Previously satisfied', succeeded: failure === null,
      authenticationStepResultDetail: failure === null ? 'First factor requirement satisfied by the refresh token' : SIGN_IN_ERRORS[failure].text,
    }],
    authenticationRequirement: mfa || recheck?.decision.authenticationRequirement === 'multiFactorAuthentication' ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
    extra: {
      // PLT-6: the refresh's own decision (CA results, requirement sources, the whole decision for replay).
      ...(recheck ? { ...transferFields(recheck.session), ...decisionTrace(recheck.decision), ...(recheck.saved ? { gatehouseOriginalCorrelationId: recheck.session.correlationId } : {}), gatehouseSessionSource: recheck.saved ? 'signInSession' : 'refreshTokenAmr' } : {}),
      isInteractive: false,
      clientAppUsed: client!.clientAuthMethod === 'none' && client!.applicationType === 'native' ? 'Mobile Apps and Desktop clients' : 'Browser',
      gatehouseGrantType: 'refresh_token',
      ...(token?.authTime !== undefined ? { gatehouseOriginalAuthDateTime: new Date(token.authTime * 1000).toISOString() } : {}),
    },
  }, now);
}
