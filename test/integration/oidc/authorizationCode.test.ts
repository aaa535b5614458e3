import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { createWebApp, freePort, startHarness, type Harness } from '../../support/harness.ts';
import { authorize as authorizeIn, Browser } from '../../support/oidcBrowser.ts';

/**
 * An app signs a user in over OIDC authorization code + PKCE, and the interaction is a Gatehouse
 * sign-in flow (SIG-1), so the tokens say how the user authenticated (CA-7: `amr`, `acr`,
 * `auth_time`). openid-client 6 is the relying party; the browser is fetch with a cookie jar and
 * manual redirects; the sign-in page's steps are the flow API calls its script makes.
 */

describe('OIDC authorization code + PKCE with the Gatehouse sign-in flow (CA-7, SIG-1, TAP-8)', () => {
  let h: Harness;
  let redirectUri: string;
  let seq = 0;
  const web = { appId: '', secret: '' };
  const spa = { appId: '' };

  before(async () => {
    h = await startHarness();
    // Nobody listens there: the test reads the code from the redirect's Location.
    redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    Object.assign(web, await createWebApp(h, 'Chat', redirectUri));
    const s = await h.call('POST', '/graph/v1.0/applications', { body: { displayName: 'Chat SPA', spa: { redirectUris: [redirectUri] } } });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    spa.appId = s.body.appId;
  });
  after(async () => { await h.close(); });

  const discoverWeb = () => client.discovery(new URL(h.tenant.issuer), web.appId, undefined, client.ClientSecretPost(web.secret), { execute: [client.allowInsecureRequests] });
  const discoverSpa = () => client.discovery(new URL(h.tenant.issuer), spa.appId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const flowApi = (path: string, body: unknown) => h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in${path}`, { token: null, body });

  const newUserWithTap = async () => {
    seq++;
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Code flow user ${seq}`, userPrincipalName: `code${seq}@contoso.test`, mail: `code${seq}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    const pass = await h.call('POST', `/graph/v1.0/users/${u.body.id}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes: 240, isUsableOnce: false } });
    assert.equal(pass.status, 201, JSON.stringify(pass.body));
    return { id: u.body.id as string, upn: u.body.userPrincipalName as string, displayName: u.body.displayName as string, code: pass.body.temporaryAccessPass as string };
  };

  /** The app sends the browser to the authorization endpoint; the browser lands on the sign-in page. */
  const authorize = async (config: client.Configuration, browser: Browser, extra: Record<string, string> = {}) => {
    const nonce = client.randomNonce();
    return { ...(await authorizeIn(browser, config, { redirect_uri: redirectUri, scope: 'openid profile email offline_access', nonce, ...extra })), nonce };
  };

  /** What the page's script does: start a flow for the interaction, sign in with the TAP. */
  const signInWithTap = async (uid: string, user: { upn: string; code: string }, appId: string, extra: Record<string, unknown> = {}) => {
    const started = await flowApi('', { clientId: appId, interactionUid: uid, capabilities: { webauthn: false }, ...extra });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const step = await flowApi(`/${started.body.flowId}/tap`, { username: user.upn, code: user.code });
    assert.equal(step.status, 200, JSON.stringify(step.body));
    return { flowId: started.body.flowId as string, decision: step.body.decision };
  };

  const complete = (browser: Browser, uid: string, flowId: string) =>
    browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/complete`, { method: 'POST', body: { flowId } });

  /** Completes the interaction and follows the redirects back to the app. */
  const completeAndReturn = async (browser: Browser, uid: string, flowId: string) => {
    const done = await complete(browser, uid, flowId);
    const body = await done.json() as { redirectTo: string };
    assert.equal(done.status, 200, JSON.stringify(body));
    const { url } = await browser.follow(body.redirectTo, redirectUri);
    assert.ok(url.href.startsWith(redirectUri), `ended at ${url.href}`);
    return url;
  };

  test('a web app signs a user in with a TAP: ID token with sub, amr, auth_time and profile; refresh tokens rotate', async () => {
    const user = await newUserWithTap();
    const config = await discoverWeb();
    const browser = new Browser();
    const a = await authorize(config, browser);
    assert.equal(a.page.pathname, `/${h.tenant.tenantId}/sign-in`);

    // The sign-in page: accessible HTML with the form, for this interaction and app.
    const page = await browser.request(a.page);
    const html = await page.text();
    assert.equal(page.status, 200, html);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<form id="start"/);
    assert.match(html, /<label for="username">User name<\/label>/);
    assert.match(html, /Sign in with a passkey/);
    assert.match(html, /Use a Temporary Access Pass/);
    assert.match(html, /role="alert"/);
    assert.ok(html.includes(`data-uid="${a.uid}"`) && html.includes(`data-client-id="${web.appId}"`));
    assert.match(html, /to <strong>Chat<\/strong>/);
    const script = await fetch(`${h.baseUrl}/assets/sign-in.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    assert.match(await script.text(), /navigator\.credentials\.get/);

    // A tenant with no Conditional Access policy grants a TAP sign-in.
    const { flowId, decision } = await signInWithTap(a.uid, user, web.appId);
    assert.equal(decision.outcome, 'grant');

    const callback = await completeAndReturn(browser, a.uid, flowId);
    assert.equal(callback.searchParams.get('state'), a.state);
    // LOG-1: the sign-in record names the app the interaction was for.
    const records = (await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', user.id).execute()).map((r) => r.record as any);
    assert.ok(records.some((r) => r.status.errorCode === 0 && r.appId === web.appId && r.appDisplayName === 'Chat'), JSON.stringify(records));
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce });
    const claims = tokens.claims()!;
    assert.equal(claims.sub, user.id);
    assert.equal(claims.iss, h.tenant.issuer);
    assert.equal(claims.aud, web.appId);
    assert.ok(Array.isArray(claims.amr) && claims.amr.length > 0, `amr: ${JSON.stringify(claims.amr)}`);
    assert.ok(claims.amr.includes('tap'), `amr names the TAP: ${JSON.stringify(claims.amr)}`);
    assert.equal(typeof claims.auth_time, 'number');
    assert.ok(Math.abs(claims.auth_time! - Date.now() / 1000) < 120);
    assert.equal(claims.acr, undefined, 'no authentication context was asked for');
    assert.equal(claims.name, user.displayName);
    assert.equal(claims.preferred_username, user.upn);
    assert.equal(claims.email, user.upn);
    assert.equal(claims.tid, h.tenant.tenantId);
    assert.equal(claims.oid, user.id);

    // userinfo with the (opaque) access token
    const info = await client.fetchUserInfo(config, tokens.access_token, user.id);
    assert.equal(info.preferred_username, user.upn);

    // Refresh tokens rotate: the new one works, the old one is spent.
    assert.ok(tokens.refresh_token, 'offline_access without prompt=consent gets a refresh token');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'rotated');
    assert.equal(refreshed.claims()?.sub, user.id);
    assert.deepEqual(refreshed.claims()?.amr, claims.amr, 'the refreshed ID token keeps how the user signed in');
    const again = await client.refreshTokenGrant(config, refreshed.refresh_token!);
    assert.ok(again.refresh_token && again.refresh_token !== refreshed.refresh_token);
    // Replaying a spent refresh token is refused and ends the whole family (reuse detection).
    const invalidGrant = (e: unknown) => (e as { error?: string }).error === 'invalid_grant';
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), invalidGrant);
    await assert.rejects(client.refreshTokenGrant(config, again.refresh_token!), invalidGrant);
  });

  test('a SPA (public client) must use PKCE; with it, it gets tokens and rotating refresh tokens without a secret', async () => {
    const user = await newUserWithTap();
    const config = await discoverSpa();
    const browser = new Browser();
    // Without PKCE: refused, back to the app's redirect URI.
    const noPkce = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', state: 's' });
    const refused = await browser.request(noPkce);
    const loc = new URL(refused.headers.get('location') ?? 'http://x/');
    assert.ok(loc.href.startsWith(redirectUri), loc.href);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.match(loc.searchParams.get('error_description') ?? '', /PKCE/);

    const a = await authorize(config, browser);
    const { flowId, decision } = await signInWithTap(a.uid, user, spa.appId);
    assert.equal(decision.outcome, 'grant');
    const callback = await completeAndReturn(browser, a.uid, flowId);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce });
    assert.equal(tokens.claims()?.sub, user.id);
    assert.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    // The browser app calls the token endpoint cross-origin, from its redirect URI's origin.
    const origin = new URL(redirectUri).origin;
    const cors = await fetch(`${h.tenant.issuer}/token`, {
      method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: spa.appId, refresh_token: refreshed.refresh_token! }),
    });
    assert.equal(cors.status, 200, await cors.text());
    assert.equal(cors.headers.get('access-control-allow-origin'), origin);
  });

  test('a native app (publicClient redirect URIs: a custom scheme, loopback) reaches the sign-in page', async () => {
    const made = await h.call('POST', '/graph/v1.0/applications', { body: { displayName: 'Chat desktop', publicClient: { redirectUris: ['com.example.chat:/callback', 'http://127.0.0.1/callback'] } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const config = await client.discovery(new URL(h.tenant.issuer), made.body.appId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'com.example.chat:/callback', scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    const res = await new Browser().request(url);
    assert.equal(res.status, 303, await res.text());
    assert.equal(new URL(res.headers.get('location')!, url).pathname, `/${h.tenant.tenantId}/sign-in`);
  });

  test('completing before the decision grants is 409; the flow can still be finished afterwards', async () => {
    const user = await newUserWithTap();
    const config = await discoverWeb();
    const browser = new Browser();
    const a = await authorize(config, browser);
    const started = await flowApi('', { clientId: web.appId, interactionUid: a.uid, capabilities: { webauthn: false } });
    const early = await complete(browser, a.uid, started.body.flowId);
    const body = await early.json() as { error: { code: string } };
    assert.equal(early.status, 409, JSON.stringify(body));
    assert.equal(body.error.code, 'FlowNotGranted');
    const step = await flowApi(`/${started.body.flowId}/tap`, { username: user.upn, code: user.code });
    assert.equal(step.body.decision.outcome, 'grant');
    await completeAndReturn(browser, a.uid, started.body.flowId);
    // A completed flow is spent.
    const twice = await complete(browser, a.uid, started.body.flowId);
    assert.ok([400, 404, 409].includes(twice.status), String(twice.status));
  });

  test("a flow can't complete someone else's interaction, nor one it wasn't started for (app, uid)", async () => {
    const user = await newUserWithTap();
    const config = await discoverWeb();
    const mine = new Browser();
    const theirs = new Browser();
    const a = await authorize(config, mine);
    const b = await authorize(config, theirs);
    const granted = await signInWithTap(a.uid, user, web.appId);

    // Another browser's interaction, with its own cookie: the flow is bound to a.uid.
    const stolen = await complete(theirs, b.uid, granted.flowId);
    const stolenBody = await stolen.json() as { error: { code: string } };
    assert.equal(stolen.status, 400, JSON.stringify(stolenBody));
    assert.equal(stolenBody.error.code, 'InteractionMismatch');
    // This browser's cookie names a.uid, not b.uid.
    const wrongUrl = await complete(mine, b.uid, granted.flowId);
    assert.equal(wrongUrl.status, 400);
    assert.equal((await wrongUrl.json() as { error: { code: string } }).error.code, 'InteractionNotFound');
    // Without the interaction cookie at all.
    const noCookie = await complete(new Browser(), a.uid, granted.flowId);
    assert.equal(noCookie.status, 400);

    // A flow decided for another app (here the automation app, which no policy may protect less) is not spent on this one.
    const other = await authorize(config, theirs);
    const forOtherApp = await signInWithTap(other.uid, user, h.tenant.automation.clientId);
    const mismatch = await complete(theirs, other.uid, forOtherApp.flowId);
    assert.equal(mismatch.status, 400);
    assert.equal((await mismatch.json() as { error: { code: string } }).error.code, 'InteractionMismatch');

    // None of that spent the right flow.
    await completeAndReturn(mine, a.uid, granted.flowId);
  });

  test('prompt=none without a session: login_required at the redirect URI; a sign-in page link without its cookie explains itself', async () => {
    const config = await discoverWeb();
    const browser = new Browser();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', prompt: 'none', state });
    const res = await browser.request(url);
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.ok(loc.href.startsWith(redirectUri), loc.href);
    assert.equal(loc.searchParams.get('error'), 'login_required');
    assert.equal(loc.searchParams.get('state'), state);

    const a = await authorize(config, browser);
    const elsewhere = await new Browser().request(a.page);
    assert.equal(elsewhere.status, 400);
    const html = await elsewhere.text();
    assert.match(html, /<html lang="en">/);
    assert.match(html, /opened in another browser/);
  });

  test('another user signing in in the same browser replaces the first one', async () => {
    const first = await newUserWithTap();
    const second = await newUserWithTap();
    const config = await discoverWeb();
    const browser = new Browser();
    for (const user of [first, second]) {
      const a = await authorize(config, browser);
      const { flowId } = await signInWithTap(a.uid, user, web.appId);
      const done = await complete(browser, a.uid, flowId);
      const { redirectTo } = await done.json() as { redirectTo: string };
      const { url } = await browser.follow(redirectTo, redirectUri);
      assert.ok(url.href.startsWith(redirectUri), `ended at ${url.href}: no logout confirmation in between`);
      const tokens = await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce });
      assert.equal(tokens.claims()?.sub, user.id);
    }
  });

  test('prompt=none with a session still needs a sign-in: every authorization is decided by a flow', async () => {
    const user = await newUserWithTap();
    const config = await discoverWeb();
    const browser = new Browser();
    const a = await authorize(config, browser);
    const { flowId } = await signInWithTap(a.uid, user, web.appId);
    await completeAndReturn(browser, a.uid, flowId);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', prompt: 'none', state: 'x' });
    const res = await browser.request(url);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('error'), 'login_required');
  });

  test('CA-7: a context asked for in acr_values reaches the flow; a policy on it that the TAP meets puts it in acr', async () => {
    const policy = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/policies', { body: {
      displayName: 'Context c7 needs MFA', state: 'enabled',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeAuthenticationContextClassReferences: ['c7'] }, clientAppTypes: ['all'] },
      grantControls: { operator: 'OR', builtInControls: ['mfa'] },
    } });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    try {
      const user = await newUserWithTap();
      const config = await discoverWeb();
      const browser = new Browser();
      const a = await authorize(config, browser, { acr_values: 'c7 urn:other' });
      const html = await (await browser.request(a.page)).text();
      assert.ok(html.includes('data-contexts="[&quot;c7&quot;]"'), 'the page starts its flow with the context');
      // A flow that leaves the context out is not spent on this request.
      const without = await signInWithTap(a.uid, user, web.appId);
      const refused = await complete(browser, a.uid, without.flowId);
      assert.equal(refused.status, 400);
      const { flowId, decision } = await signInWithTap(a.uid, user, web.appId, { authenticationContexts: ['c7'] });
      assert.equal(decision.outcome, 'grant');
      assert.deepEqual(decision.acr, ['c7']);
      const callback = await completeAndReturn(browser, a.uid, flowId);
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce });
      assert.equal(tokens.claims()?.acr, 'c7');

      // Essential and not met (no policy targets c8, so the sign-in doesn't satisfy it): access_denied, no code.
      const b = await authorize(config, browser, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['c8'] } } }) });
      const second = await signInWithTap(b.uid, user, web.appId, { authenticationContexts: ['c8'] });
      const denied = await completeAndReturn(browser, b.uid, second.flowId);
      assert.equal(denied.searchParams.get('error'), 'access_denied', denied.href);
      assert.equal(denied.searchParams.get('code'), null);
    } finally {
      await h.call('DELETE', `/graph/v1.0/identity/conditionalAccess/policies/${policy.body.id}`);
    }
  });

  test('PLT-6: after revokeSignInSessions, refresh tokens from earlier sign-ins stop working', async () => {
    const user = await newUserWithTap();
    const config = await discoverWeb();
    const browser = new Browser();
    const a = await authorize(config, browser);
    const { flowId } = await signInWithTap(a.uid, user, web.appId);
    const tokens = await client.authorizationCodeGrant(config, await completeAndReturn(browser, a.uid, flowId), { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce });
    await new Promise((r) => setTimeout(r, 1100)); // auth_time has whole seconds
    const revoked = await h.call('POST', `/graph/v1.0/users/${user.id}/revokeSignInSessions`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (e: unknown) => (e as { error?: string }).error === 'invalid_grant');
  });

  test('cancelling on the sign-in page returns access_denied to the app', async () => {
    const config = await discoverWeb();
    const browser = new Browser();
    const a = await authorize(config, browser);
    const r = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${a.uid}/abort`, { method: 'POST', body: {} });
    const body = await r.json() as { redirectTo: string };
    assert.equal(r.status, 200, JSON.stringify(body));
    const { url } = await browser.follow(body.redirectTo, redirectUri);
    assert.equal(url.searchParams.get('error'), 'access_denied');
    assert.equal(url.searchParams.get('state'), a.state);
  });
});
