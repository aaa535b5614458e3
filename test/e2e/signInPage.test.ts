import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import {
  createCredential, openAuthorization, replayCheckThenClose, startServerAndBrowser, startStandInApp, tapOnSignInPage, tokensAtRedirect, type AuthorizationRequest, type WebAuthnBrowser,
} from '../support/browser.ts';
import { issueTap } from '../support/commonTenant.ts';
import { createWebApp, type Harness } from '../support/harness.ts';

/**
 * The OIDC sign-in page (src/http/pages/signIn.ts, web/sign-in.js) in a real Chromium: the app
 * (openid-client) sends the browser to the authorization endpoint, the user signs in on the page
 * with a TAP or with a passkey from a CDP virtual authenticator, and the browser lands on the
 * app's redirect URI with a code whose ID token says how the user signed in (CA-7).
 */
describe('The sign-in page in Chromium: TAP and passkey for an OIDC app (CA-7, PK-6, TAP-8)', { timeout: 90_000 }, () => {
  let h: Harness;
  let b: WebAuthnBrowser;
  let redirectUri: string;
  let config: client.Configuration;
  let appServer: Server;
  let seq = 0;

  before(async () => {
    await startServerAndBrowser((p) => { if (p.h) h = p.h; if (p.b) b = p.b; });
    // The app: a stand-in page at its redirect URI (the test reads the code from the URL).
    ({ redirectUri, server: appServer } = await startStandInApp('text/plain', 'the app'));
    const app = await createWebApp(h, 'Chat', redirectUri);
    config = await client.discovery(new URL(h.tenant.issuer), app.appId, undefined, client.ClientSecretPost(app.secret), { execute: [client.allowInsecureRequests] });
  });
  after(() => replayCheckThenClose({ h, b, app: appServer })); // WIF-2: every sign-in of these tests replays to its recorded decision

  const newUser = async () => {
    const n = ++seq;
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Page user ${n}`, userPrincipalName: `page${n}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    return u.body as { id: string; userPrincipalName: string };
  };
  const openSignIn = () => openAuthorization(b.page, h.tenant.tenantId, config, redirectUri);
  const tokensAtApp = (a: AuthorizationRequest) => tokensAtRedirect(b.page, redirectUri, a);

  test('TAP: user name, "Use a Temporary Access Pass", the code; the app gets an ID token whose amr names the TAP', async () => {
    const user = await newUser();
    const code = await issueTap(h, user.id, 60);
    const a = await openSignIn();
    assert.equal(await b.page.getAttribute('html', 'lang'), 'en');
    assert.equal(await b.page.title(), 'Sign in to Chat');
    // The user name field has focus on arrival.
    assert.equal(await b.page.evaluate(() => (globalThis as any).document.activeElement?.id), 'username');
    await b.page.getByLabel('User name').fill(user.userPrincipalName);
    await b.page.getByRole('button', { name: 'Use a Temporary Access Pass' }).click();
    const codeField = b.page.getByRole('textbox', { name: 'Temporary Access Pass' });
    await codeField.waitFor();
    assert.equal(await b.page.evaluate(() => (globalThis as any).document.activeElement?.id), 'tap-code', 'focus moves to the code');
    await codeField.fill(code);
    await b.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const tokens = await tokensAtApp(a);
    const claims = tokens.claims()!;
    assert.equal(claims.sub, user.id);
    assert.ok((claims.amr as string[]).includes('tap'), JSON.stringify(claims.amr));
    assert.equal(typeof claims.auth_time, 'number');
  });

  test('a wrong TAP: the alert region says so and the code field is marked invalid and focused', async () => {
    const user = await newUser();
    await issueTap(h, user.id, 60);
    await openSignIn();
    await tapOnSignInPage(b.page, user.userPrincipalName, 'WRONG-CODE');
    const alert = b.page.getByRole('alert');
    await alert.filter({ hasText: 'not valid' }).waitFor();
    assert.match(await alert.innerText(), /The user name or Temporary Access Pass is not valid\. \(error 50126\)/);
    assert.equal(await b.page.getAttribute('#tap-code', 'aria-invalid'), 'true');
    assert.equal(await b.page.evaluate(() => (globalThis as any).document.activeElement?.id), 'tap-code');
  });

  test('passkey: "Sign in with a passkey" runs navigator.credentials.get; the ID token amr names the passkey', async () => {
    const user = await newUser();
    // An admin provisions a passkey with Chromium's platform authenticator (on the server's origin).
    await b.page.goto(`${h.baseUrl}/healthz`);
    const opts = await h.call('GET', `/graph/v1.0/users/${user.id}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`);
    assert.equal(opts.status, 200, JSON.stringify(opts.body));
    const registration = await createCredential(b.page, opts.body.publicKey);
    const created = await h.call('POST', `/graph/v1.0/users/${user.id}/authentication/fido2Methods`, { body: { displayName: 'Laptop', publicKeyCredential: registration } });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    const a = await openSignIn();
    await b.page.getByLabel('User name').fill(user.userPrincipalName);
    await b.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const tokens = await tokensAtApp(a);
    const claims = tokens.claims()!;
    assert.equal(claims.sub, user.id);
    assert.ok((claims.amr as string[]).includes('fido'), JSON.stringify(claims.amr));
    const records = (await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', user.id).execute()).map((r) => r.record as any);
    assert.ok(records.some((r) => r.status.errorCode === 0 && r.appDisplayName === 'Chat'), JSON.stringify(records.map((r) => [r.appDisplayName, r.status])));
  });
});
