import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { FIRST_PARTY_APPS } from '../domain/directory.ts';
import { GatehouseError } from '../domain/errors.ts';
import { completedSignIn, SignInRefused } from '../flows/sign-in/flow.ts';
import { delegatedGraphScope } from './clients.ts';
import { SIGN_IN_ERRORS } from '../domain/signInErrors.ts';
import type { Db } from '../store/database.ts';
import { applicationForLog } from '../store/signInFacts.ts';
import { lockFlow, type SignInFlow } from '../store/signInFlows.ts';
import { writeSignIn } from '../store/signIns.ts';
import { findUser } from '../store/users.ts';
import { rememberSignInSession } from './refreshLog.ts';
import { grantTtlFor } from './tokenLifetimes.ts';

/** How long a grant (and so any refresh token from it) lives at most, rotations included. */
export const REFRESH_TOKEN_FAMILY_SECONDS = 90 * 24 * 3600;

/**
 * The hand-off between oidc-provider's authorization endpoint and Gatehouse's sign-in flow
 * (docs/flows.md, "Signing in for an app"). oidc-provider redirects every authorization request
 * to the sign-in page with an interaction uid (and a cookie naming it); the page runs a flow
 * bound to that uid; once the flow's decision grants, `finishInteraction` turns it into
 * oidc-provider's login and consent result, and the browser resumes the authorization.
 */

/** CA-2 / CA-7: the authentication context class references an app may ask for. */
export const AUTHENTICATION_CONTEXTS: readonly string[] = Array.from({ length: 99 }, (_, i) => `c${i + 1}`);
const CONTEXT = /^c([1-9]|[1-9][0-9])$/;

/** The user action an app's sign-ins carry: the first-party security-info and device registration apps (DIR-5, CA-2). */
export function userActionFor(appId: string): 'urn:user:registersecurityinfo' | 'urn:user:registerdevice' | null {
  const key = FIRST_PARTY_APPS.find((a) => a.appId === appId.toLowerCase())?.key;
  return key === 'securityInfo' ? 'urn:user:registersecurityinfo' : key === 'deviceRegistration' ? 'urn:user:registerdevice' : null;
}

type AcrRequest = { essential?: boolean; value?: unknown; values?: unknown } | null | undefined;

function parseClaims(claims: unknown): { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> } {
  if (typeof claims === 'string') {
    try {
      return parseClaims(JSON.parse(claims));
    } catch {
      return {};
    }
  }
  return claims && typeof claims === 'object' ? claims as { id_token?: Record<string, unknown> } : {};
}

function acrValuesOf(request: AcrRequest): string[] {
  if (!request || typeof request !== 'object') return [];
  const out: unknown[] = [];
  if (typeof request.value === 'string') out.push(request.value);
  if (Array.isArray(request.values)) out.push(...request.values);
  return out.filter((v): v is string => typeof v === 'string');
}

/**
 * CA-7: the authentication contexts an authorization request names, from `acr_values` and from
 * the `claims` parameter's `id_token.acr` (`value` or `values`). Values other than c1..c99 are
 * not contexts and are ignored.
 */
export function requestedContexts(params: { acr_values?: unknown; claims?: unknown }): string[] {
  const fromAcrValues = typeof params.acr_values === 'string' ? params.acr_values.split(' ') : [];
  const fromClaims = acrValuesOf(parseClaims(params.claims).id_token?.acr as AcrRequest);
  return [...new Set([...fromAcrValues, ...fromClaims].filter((c) => CONTEXT.test(c)))].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

/** The claim names a `claims` parameter asks for, so the grant covers them (no consent screen). */
function requestedClaimNames(claims: unknown): string[] {
  const c = parseClaims(claims);
  return [...new Set([...Object.keys(c.id_token ?? {}), ...Object.keys(c.userinfo ?? {})])];
}

/**
 * The authorization endpoint's interaction policy:
 * - `gatehouse_sign_in`: every authorization request is decided by a Gatehouse sign-in flow
 *   (SIG-1), so Conditional Access is evaluated for this app, this request's contexts and this
 *   client, never skipped because a browser session exists for another app. An existing
 *   oidc-provider session alone therefore never completes a request: `prompt=none` gets
 *   `login_required`.
 * - `essential_acr`: the token's `acr` is the space-separated set of contexts the sign-in met
 *   (CA-7). A context requested as essential (`claims.id_token.acr` with `essential: true`) that
 *   the sign-in did not meet fails the request with `access_denied` (OpenID Connect Core
 *   5.5.1.1), instead of oidc-provider's exact-string comparison, which would ask for a new
 *   sign-in forever.
 */
export function signInPolicy(): interactionPolicy.DefaultPolicy {
  const { Check } = interactionPolicy;
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(new Check('gatehouse_sign_in', 'End-User authentication is required: Gatehouse decides every authorization request with a sign-in', 'login_required', (ctx) => (
    ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT
  )));
  login.checks.add(new Check('essential_acr', 'none of the essential authentication contexts could be satisfied', (ctx: KoaContextWithOIDC) => {
    if (!ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT; // the sign-in about to happen asks for them
    const request = (ctx.oidc.claims as { id_token?: { acr?: AcrRequest } } | undefined)?.id_token?.acr;
    if (!request?.essential) return Check.NO_NEED_TO_PROMPT;
    const wanted = acrValuesOf(request);
    if (wanted.length === 0) return Check.NO_NEED_TO_PROMPT;
    const met = new Set((ctx.oidc.acr ?? '').split(' ').filter(Boolean));
    if (wanted.some((v) => met.has(v))) return Check.NO_NEED_TO_PROMPT;
    throw new errors.AccessDenied(`the sign-in did not satisfy any of the essential authentication contexts ${wanted.join(', ')} (CA-7); satisfied: ${[...met].join(', ') || 'none'}`);
  }));
  return policy;
}

/**
 * Registered apps are consented by their administrator (Entra's model), so `offline_access`
 * needs no `prompt=consent` from the app: an authorization request (query form) that asks for it
 * without a prompt gets `prompt=consent` added, which is what oidc-provider requires to keep the
 * scope (OpenID Connect Core 11). No consent screen is shown: the sign-in grants the scopes.
 * `prompt=none` is left alone. Returns the (possibly rewritten) path and query.
 */
export function withOfflineAccessConsent(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  if (q === -1) return pathAndQuery;
  const params = new URLSearchParams(pathAndQuery.slice(q + 1));
  const scope = params.get('scope');
  if (!scope || !scope.split(' ').includes('offline_access') || params.getAll('scope').length !== 1) return pathAndQuery;
  const prompts = params.getAll('prompt');
  if (prompts.length > 1) return pathAndQuery; // oidc-provider refuses duplicates itself
  const prompt = prompts[0]?.split(' ').filter(Boolean) ?? [];
  if (prompt.includes('none') || prompt.includes('consent')) return pathAndQuery;
  params.set('prompt', [...prompt, 'consent'].join(' '));
  return `${pathAndQuery.slice(0, q)}?${params.toString()}`;
}

/** A sign-in page or completion that doesn't match the browser's pending authorization request. */
export class InteractionRefused extends GatehouseError {
  constructor(status: number, code: 'InteractionNotFound' | 'InteractionMismatch', message: string, detail?: string) {
    super(status, code, message, detail ? { detail } : {});
  }
}

type Raw = { req: IncomingMessage; res: ServerResponse };

/**
 * The browser's pending authorization request, from oidc-provider's interaction cookie, checked
 * against the uid in the URL (a stale tab or a link opened elsewhere doesn't match).
 */
export async function pendingInteraction(provider: Provider, raw: Raw, uid: string) {
  let details: Awaited<ReturnType<Provider['interactionDetails']>>;
  try {
    details = await provider.interactionDetails(raw.req, raw.res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      throw new InteractionRefused(400, 'InteractionNotFound', 'This sign-in has expired or was opened in another browser. Go back to the app and sign in again.', err.error_description);
    }
    throw err;
  }
  if (details.uid !== uid) {
    throw new InteractionRefused(400, 'InteractionNotFound', 'This sign-in page is out of date: another sign-in was started in this browser. Go back to the app and sign in again.', `cookie names interaction ${details.uid}, the URL ${uid}`);
  }
  const params = details.params as { client_id: string; scope?: string; claims?: string; acr_values?: string; login_hint?: string };
  return {
    uid: details.uid,
    clientId: params.client_id,
    loginHint: typeof params.login_hint === 'string' ? params.login_hint.slice(0, 256) : null,
    authenticationContexts: requestedContexts(params),
    userAction: userActionFor(params.client_id),
    // CA-2, SC-5: an interaction for a device code (oidc-provider's device flow names its code).
    transferMethod: (details as { deviceCode?: string }).deviceCode ? 'deviceCodeFlow' as const : null,
    details,
  };
}

/**
 * Completes the pending authorization request with a granted sign-in flow. The flow must have
 * been started for this very request: same interaction uid, same app, the same user action, the
 * same transfer method (a device code's interaction, SC-5) and at least the contexts the app
 * asked for, so that a flow decided for a laxer app or context can't be spent on this one. Then
 * the flow is completed (single use), a new Grant for the requested scopes and claims is saved
 * (registered apps need no consent screen; one Grant per sign-in) with the sign-in's request and
 * performed methods beside it (refreshLog.ts `rememberSignInSession`: every refresh is decided
 * again over them, PLT-6), and oidc-provider stores the login: `amr`, `acr` (the contexts met,
 * space-separated) and `auth_time` come from the flow. Returns the URL that resumes the
 * authorization request (or, for a device code, the device page's success).
 *
 * `max_age`: when the request carries it, the sign-in's last factor must be at most `max_age`
 * seconds old at completion (`now - auth_time <= max_age`, whole seconds, the rule oidc-provider
 * and openid-client apply to `auth_time`; so `max_age=0` is met by a factor in the same second).
 * Otherwise the completion is refused (409, `SignInFrequency`, 70043) before the flow is spent,
 * with a sign-in record, and the page must sign the user in again.
 *
 * TAP-8: the Grant of a sign-in that used a pass expires when the pass does
 * (`sessionNotAfter`); the tokens' lifetimes are capped at the Grant's end (tokenLifetimes.ts).
 */
export async function finishInteraction(provider: Provider, db: Db, tenantId: string, raw: Raw, uid: string, flowId: string, now: Date): Promise<string> {
  const pending = await pendingInteraction(provider, raw, uid);
  // The request's checks run on the flow as completedSignIn locks it, in its transaction (an
  // unknown, expired or completed flow: completedSignIn refuses it with its own code).
  const done = await completedSignIn(db, tenantId, flowId, now, async (trx, flow) => {
    const s = flow.state;
    const problems = [
      s.interactionUid !== uid ? `it was started for interaction ${s.interactionUid ?? '(none)'}` : '',
      (s.appId ?? '').toLowerCase() !== pending.clientId.toLowerCase() ? `it is for app ${s.appId ?? '(none)'}, the request for ${pending.clientId}` : '',
      (s.userAction ?? null) !== pending.userAction ? `its user action is ${s.userAction ?? 'none'}, the app's ${pending.userAction ?? 'none'}` : '',
      pending.authenticationContexts.some((c) => !(s.authenticationContexts ?? []).includes(c))
        ? `it was started for contexts [${(s.authenticationContexts ?? []).join(', ')}], the request asks for [${pending.authenticationContexts.join(', ')}]` : '',
      // A device code's sign-in must have been decided as one (CA-2 transferMethods), and only it may use that decision.
      (s.transferMethod ?? null) !== pending.transferMethod ? `its transfer method is ${s.transferMethod ?? 'none'}, the request's ${pending.transferMethod ?? 'none'}` : '',
    ].filter(Boolean);
    if (problems.length) {
      return new InteractionRefused(400, 'InteractionMismatch', 'This sign-in was started for a different request; start again from the app.', problems.join('; '));
    }
    return maxAgeRefusal(trx, tenantId, flow, pending.details.params as { max_age?: unknown; client_id: string }, now);
  });
  if (done.interactionUid !== uid) {
    throw new InteractionRefused(400, 'InteractionMismatch', 'This sign-in was started for a different request; start again from the app.', `flow ${flowId} is bound to interaction ${done.interactionUid ?? '(none)'}, not ${uid}`);
  }

  const { details } = pending;
  // Another user signed in in this browser before: that oidc-provider session ends here, instead
  // of oidc-provider asking the user to confirm a logout when the authorization resumes.
  if (details.session?.accountId && details.session.accountId !== done.userId) {
    const previous = await provider.Session.findByUid(details.session.uid);
    details.session = undefined;
    details.grantId = undefined;
    await details.save(Math.max(details.exp - Math.floor(now.getTime() / 1000), 1));
    await previous?.destroy();
  }
  const params = details.params as { client_id: string; scope?: string; claims?: string };
  // One Grant per sign-in, never shared: its refresh tokens are re-decided over this sign-in's
  // methods (PLT-6, refreshLog.ts), a first-party app's Graph token is decided over the sign-in it
  // came from, and a Grant that ends early ends with its pass (TAP-8).
  const delegatedScope = delegatedGraphScope(params.client_id);
  // TAP-8: oidc-provider stamps the Grant's `iat` from the wall clock, in whole seconds, when it
  // saves it, and a refresh token's stored expiry may lie up to a second past its `exp`: measure
  // the pass's remaining time from two seconds ahead, so neither ends after the pass.
  const grantTtl = grantTtlFor(done.sessionNotAfter, REFRESH_TOKEN_FAMILY_SECONDS, new Date((Math.floor(Date.now() / 1000) + 2) * 1000));
  // BaseToken takes `expiresIn` (seconds) in place of ttl.Grant; the typings leave it out.
  const grant = new provider.Grant({ accountId: done.userId, clientId: params.client_id, expiresIn: grantTtl } as ConstructorParameters<typeof provider.Grant>[0]);
  if (params.scope) grant.addOIDCScope(params.scope);
  const claims = requestedClaimNames(params.claims);
  if (claims.length) grant.addOIDCClaims(claims);
  const resource = (params as { resource?: unknown }).resource;
  if (delegatedScope && typeof resource === 'string') grant.addResourceScope(resource, delegatedScope);
  const grantId = await grant.save();
  // One record per Grant: the refresh re-decision's session and the flow a delegated Graph token names (gh_sif).
  await rememberSignInSession(db, tenantId, { grantId, accountId: done.userId, clientId: params.client_id, flowId }, done.session, grantTtl, now);

  return provider.interactionResult(raw.req, raw.res, {
    login: { accountId: done.userId, amr: done.amr, acr: done.acr.join(' ') || undefined, ts: done.authTime, remember: false },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

/**
 * Ends the pending authorization request without a sign-in (`access_denied` to the app): the user
 * cancelled, or (SC-5) the sign-in for a device code was refused. With `flowId`, a flow bound to
 * this interaction whose last decision was a block ends it with the decision's code and reason,
 * which the polling device receives as `access_denied`'s description and the page shows; the
 * step's sign-in record already carries both. Returns the URL that resumes the request.
 */
export async function abortInteraction(provider: Provider, db: Db, tenantId: string, raw: Raw, uid: string, flowId: string | undefined, now: Date): Promise<string> {
  await pendingInteraction(provider, raw, uid);
  let description = 'The user cancelled the sign-in.';
  if (flowId) {
    const flow = await lockFlow(db, tenantId, flowId, now);
    const d = flow?.state.decision;
    if (flow && flow.state.interactionUid === uid && d?.outcome === 'block') {
      description = `AADSTS${d.errorCode ?? SIGN_IN_ERRORS.BlockedByConditionalAccess.code}: ${d.failureReason ?? SIGN_IN_ERRORS.BlockedByConditionalAccess.text}`;
    }
  }
  return provider.interactionResult(raw.req, raw.res, { error: 'access_denied', error_description: description }, { mergeWithLastSubmission: false });
}

/**
 * The `max_age` check of `finishInteraction`, on the flow as locked in the completion's
 * transaction (before completing it): a sign-in whose last factor is too old gets its sign-in
 * record, written in that transaction, and the refusal to throw once it has committed.
 */
async function maxAgeRefusal(trx: Db, tenantId: string, flow: SignInFlow, params: { max_age?: unknown; client_id: string }, now: Date): Promise<SignInRefused | undefined> {
  const raw = params.max_age;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const maxAge = Number(raw);
  const performed = flow.state.performed;
  if (!Number.isFinite(maxAge) || maxAge < 0 || performed.length === 0) return undefined; // oidc-provider validates max_age; no factor: completedSignIn refuses
  const last = performed.reduce((a, p) => (p.at > a ? p.at : a), performed[0]!.at);
  const age = Math.floor(now.getTime() / 1000) - Math.floor(Date.parse(last) / 1000);
  if (age <= maxAge) return undefined;
  const user = flow.userId ? await findUser(trx, tenantId, flow.userId) : undefined;
  // The flow is this app's (checked before): its name as the flow keeps it, or as stored.
  const app = flow.state.appDisplayName ?? (await applicationForLog(trx, tenantId, params.client_id))?.displayName;
  const detail = `max_age: the app asked for an authentication at most ${maxAge} s old; the sign-in's last factor is ${age} s old (${last})`;
  await writeSignIn(trx, tenantId, {
    correlationId: flow.state.correlationId,
    user: user ? { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName } : null,
    app: { appId: params.client_id, displayName: app ?? params.client_id },
    ipAddress: null,
    status: { errorCode: SIGN_IN_ERRORS.SignInFrequency.code, failureReason: SIGN_IN_ERRORS.SignInFrequency.text, additionalDetails: detail },
    authenticationDetails: [{ authenticationMethod: 'Previously satisfied', succeeded: false, authenticationStepResultDetail: detail }],
  }, now);
  return new SignInRefused('SignInFrequency', 409, `The app asks for a sign-in within the last ${maxAge} seconds, and this one is ${age} seconds old. Sign in again.`, undefined, { maxAge, authAgeSeconds: age });
}
