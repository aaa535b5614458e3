import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { createWebApp, freePort, startHarness, type Harness } from '../../support/harness.ts';
import { Browser } from '../../support/oidcBrowser.ts';
import { tapSignInForAuthorization } from '../../support/flowApi.ts';
import { cappedTtl, grantTtlFor } from '../../../src/oidc/tokenLifetimes.ts';

/**
 * Tokens of user sign-ins: TAP-8 (tokens obtained with a pass end no later than the pass), LOG-1
 * (a refresh is a non-interactive sign-in with its own record) and `max_age` at completion.
 * The browser is fetch with a cookie jar (test/support/oidcBrowser.ts).
 */

type SignInRow = { record: any };

describe('user tokens: TAP-8 lifetimes, LOG-1 refresh records, max_age', () => {
  let h: Harness;
  let redirectUri: string;
  let seq = 0;
  const web = { appId: '', secret: '' };

  before(async () => {
    h = await startHarness();
    redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    Object.assign(web, await createWebApp(h, 'Tokens app', redirectUri));
  });
  after(async () => { await h.close(); });

  const discover = () => client.discovery(new URL(h.tenant.issuer), web.appId, undefined, client.ClientSecretPost(web.secret), { execute: [client.allowInsecureRequests] });
  const flowApi = (path: string, body: unknown) => h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in${path}`, { token: null, body });
  const invalidGrant = (e: unknown) => (e as { error?: string }).error === 'invalid_grant';

  const newUserWithTap = async (lifetimeInMinutes: number) => {
    seq++;
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Token user ${seq}`, userPrincipalName: `tokens${seq}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    const pass = await h.call('POST', `/graph/v1.0/users/${u.body.id}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes, isUsableOnce: false } });
    assert.equal(pass.status, 201, JSON.stringify(pass.body));
    const passEnd = Date.parse(pass.body.startDateTime) + pass.body.lifetimeInMinutes * 60_000;
    return { id: u.body.id as string, upn: u.body.userPrincipalName as string, code: pass.body.temporaryAccessPass as string, passEnd };
  };

  /** Authorization request → sign-in page → TAP step; returns what completing needs. */
  const signIn = (config: client.Configuration, browser: Browser, user: { upn: string; code: string }, extra: Record<string, string> = {}) =>
    tapSignInForAuthorization(h, browser, config, { appId: web.appId, redirectUri, scope: 'openid profile offline_access' }, user, extra);

  const complete = (browser: Browser, uid: string, flowId: string) =>
    browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/complete`, { method: 'POST', body: { flowId } });

  const tokensFor = async (config: client.Configuration, browser: Browser, s: Awaited<ReturnType<typeof signIn>>, maxAge?: number) => {
    const done = await complete(browser, s.uid, s.flowId);
    const body = await done.json() as { redirectTo: string };
    assert.equal(done.status, 200, JSON.stringify(body));
    const callback = await browser.follow(body.redirectTo, redirectUri);
    assert.ok(callback.url.href.startsWith(redirectUri), `stopped at ${callback.url.href} with ${callback.res.status}`);
    return client.authorizationCodeGrant(config, callback.url, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce, ...(maxAge !== undefined ? { maxAge } : {}) });
  };

  const artefact = async (model: string, id: string) => h.database.db.selectFrom('oidc_artefacts').select(['payload', 'expires_at', 'grant_id'])
    .where('model', '=', model).where('id', '=', id).executeTakeFirstOrThrow();
  const refreshRecords = async (userId: string) => (await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', userId).orderBy('created_date_time').execute() as SignInRow[])
    .map((r) => r.record).filter((r) => r.isInteractive === false);

  test('TAP-8: tokens from a TAP sign-in end no later than the pass; after the pass ends, a refresh is refused and logged', async () => {
    const user = await newUserWithTap(60);
    const passEndSeconds = Math.floor(user.passEnd / 1000);
    const config = await discover();
    const browser = new Browser();
    const tokens = await tokensFor(config, browser, await signIn(config, browser, user));
    const claims = tokens.claims()!;
    assert.ok((claims.amr as string[]).includes('tap'));
    assert.ok(claims.exp <= passEndSeconds, `ID token exp ${claims.exp} ≤ pass end ${passEndSeconds}`);
    assert.ok(Date.now() / 1000 + (tokens.expires_in ?? 0) <= passEndSeconds + 1, `access token expires_in ${tokens.expires_in}`);

    // The refresh token would live 14 days; it ends with the pass, and so does its grant.
    const rt = await artefact('RefreshToken', tokens.refresh_token!);
    assert.ok((rt.payload as { exp: number }).exp <= passEndSeconds, `refresh token exp ${(rt.payload as { exp: number }).exp} ≤ ${passEndSeconds}`);
    assert.ok(rt.expires_at!.getTime() <= user.passEnd);
    const grant = await artefact('Grant', rt.grant_id!);
    const grantExp = (grant.payload as { exp: number }).exp;
    assert.ok(grantExp <= passEndSeconds && grantExp >= passEndSeconds - 2, `grant exp ${grantExp} at the pass end ${passEndSeconds}`);

    // Rotation keeps the cap.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.claims()!.exp <= passEndSeconds);
    const rotated = await artefact('RefreshToken', refreshed.refresh_token!);
    assert.ok((rotated.payload as { exp: number }).exp <= passEndSeconds);

    // The pass ends (simulated: the grant's and the refresh token's stored expiry reach it).
    const ended = new Date(Date.now() - 1000);
    const endedPayload = { ...(rotated.payload as object), exp: Math.floor(ended.getTime() / 1000) };
    await h.database.db.updateTable('oidc_artefacts').set({ expires_at: ended, payload: JSON.stringify(endedPayload) })
      .where('model', '=', 'RefreshToken').where('id', '=', refreshed.refresh_token!).execute();
    await h.database.db.updateTable('oidc_artefacts').set({ expires_at: ended }).where('model', '=', 'Grant').where('id', '=', rt.grant_id!).execute();
    await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token!), invalidGrant);
    const records = await refreshRecords(user.id);
    assert.equal(records.length, 2, JSON.stringify(records));
    assert.equal(records[0].status.errorCode, 0);
    assert.equal(records[1].status.errorCode, 900103, JSON.stringify(records[1].status));
    assert.match(records[1].status.additionalDetails, /TAP-8/);
  });

  test('TAP-8: the ttl cap at the grant end (fake context), and the grant lifetime from sessionNotAfter', () => {
    const now = 1_800_000_000;
    const ctx = (exp?: number) => ({ oidc: { entities: { Grant: exp === undefined ? {} : { exp } } } }) as unknown as KoaContextWithOIDC;
    assert.equal(cappedTtl(undefined, 3600, now), 3600, 'no context (client credentials, housekeeping): no cap');
    assert.equal(cappedTtl(ctx(), 3600, now), 3600, 'a grant not saved yet: no cap');
    assert.equal(cappedTtl(ctx(now + 90 * 86400), 14 * 86400, now), 14 * 86400, 'a 90-day grant leaves 14 days alone');
    assert.equal(cappedTtl(ctx(now + 600), 14 * 86400, now), 600, 'a pass ending in 10 minutes caps a refresh token');
    assert.equal(cappedTtl(ctx(now - 5), 3600, now), 1, 'past the end: 1 s (oidc-provider refuses an expired grant before asking)');
    const at = new Date(now * 1000);
    assert.equal(grantTtlFor(null, 90 * 86400, at), 90 * 86400);
    assert.equal(grantTtlFor(new Date((now + 3600) * 1000 + 999).toISOString(), 90 * 86400, at), 3600);
    assert.equal(grantTtlFor(new Date((now - 60) * 1000).toISOString(), 90 * 86400, at), 1);
  });

  test('LOG-1: a refresh writes a non-interactive sign-in record; after revokeSignInSessions the refusal is logged with 50173', async () => {
    const user = await newUserWithTap(480);
    const config = await discover();
    const browser = new Browser();
    const tokens = await tokensFor(config, browser, await signIn(config, browser, user));
    const correlationId = crypto.randomUUID();
    // The app names the attempt with Entra's client-request-id header.
    const res = await fetch(`${h.tenant.issuer}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': correlationId },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: web.appId, client_secret: web.secret, refresh_token: tokens.refresh_token! }),
    });
    const refreshed = await res.json() as { refresh_token?: string };
    assert.equal(res.status, 200, JSON.stringify(refreshed));
    let records = await refreshRecords(user.id);
    assert.equal(records.length, 1, JSON.stringify(records));
    const ok = records[0];
    assert.equal(ok.isInteractive, false);
    assert.equal(ok.status.errorCode, 0);
    assert.equal(ok.appId, web.appId);
    assert.equal(ok.appDisplayName, 'Tokens app');
    assert.equal(ok.userId, user.id);
    assert.equal(ok.userPrincipalName, user.upn);
    assert.equal(ok.correlationId, correlationId);
    assert.equal(ok.authenticationRequirement, 'multiFactorAuthentication', 'a TAP counts as MFA (TAP-8)');
    assert.equal(ok.authenticationDetails[0].authenticationMethod, 'Previously satisfied');

    await new Promise((r) => setTimeout(r, 1100)); // auth_time has whole seconds
    const revoked = await h.call('POST', `/graph/v1.0/users/${user.id}/revokeSignInSessions`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token!), invalidGrant);
    records = await refreshRecords(user.id);
    assert.equal(records.length, 2, JSON.stringify(records));
    const refused = records[1];
    assert.equal(refused.isInteractive, false);
    assert.equal(refused.status.errorCode, 50173, JSON.stringify(refused.status));
    assert.equal(refused.userId, user.id);
    assert.equal(refused.appId, web.appId);
    assert.equal(refused.authenticationDetails[0].succeeded, false);
    assert.match(refused.correlationId, /^[0-9a-f-]{36}$/);

    // A spent refresh token (reuse) is logged as well, with 70000.
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), invalidGrant);
    records = await refreshRecords(user.id);
    assert.equal(records.length, 3);
    assert.ok([70000, 50173].includes(records[2].status.errorCode), JSON.stringify(records[2].status));
  });

  test('max_age: a sign-in whose last factor is older than max_age is refused at completion with 70043; a fresh one passes openid-client\'s check', async () => {
    const user = await newUserWithTap(480);
    const config = await discover();
    const browser = new Browser();
    const stale = await signIn(config, browser, user, { max_age: '1' });
    await new Promise((r) => setTimeout(r, 2100));
    const refused = await complete(browser, stale.uid, stale.flowId);
    const body = await refused.json() as { error: { code: string; message: string; errorCode?: number } };
    assert.equal(refused.status, 409, JSON.stringify(body));
    assert.equal(body.error.code, 'SignInFrequency');
    assert.match(body.error.message, /Sign in again/);
    const logged = (await h.database.db.selectFrom('sign_ins').select('record').where('correlation_id', '=', stale.correlationId).execute() as SignInRow[]).map((r) => r.record);
    assert.ok(logged.some((r) => r.status.errorCode === 70043 && r.userId === user.id), JSON.stringify(logged.map((r) => r.status)));

    // A new sign-in for the same request (a new flow on the same interaction) satisfies it.
    const again = await flowApi('', { clientId: web.appId, interactionUid: stale.uid, capabilities: { webauthn: false } });
    const step = await flowApi(`/${again.body.flowId}/tap`, { username: user.upn, code: user.code });
    assert.equal(step.body.decision.outcome, 'grant');
    const tokens = await tokensFor(config, browser, { ...stale, flowId: again.body.flowId }, 1);
    assert.ok(Math.floor(Date.now() / 1000) - tokens.claims()!.auth_time! <= 1);

    // max_age=0: a factor in the same second still counts (now - auth_time <= max_age).
    const zero = await signIn(config, browser, user, { max_age: '0' });
    const z = await complete(browser, zero.uid, zero.flowId);
    assert.ok([200, 409].includes(z.status), 'whole seconds: 200 unless the second changed in between');
  });
});
