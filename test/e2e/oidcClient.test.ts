/**
 * web/oidcClient.js, the OIDC public client the security-info portal and the admin console share,
 * in Chromium: how it is served, the authorization request it makes (PKCE S256, `resource`, state,
 * nonce) and what it keeps in sessionStorage, and its refusals, which the portal and console
 * suites don't reach: a code the token endpoint refuses, an error answer, an answer of another
 * tab, and an ID token whose nonce is not the request's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServerAndBrowser, type WebAuthnBrowser } from '../support/browser.ts';
import type { Harness } from '../support/harness.ts';

describe('oidcClient.js in the portal and the console', { timeout: 180_000 }, () => {
  let h: Harness;
  let b: WebAuthnBrowser;
  before(async () => {
    await startServerAndBrowser((p) => { if (p.h) h = p.h; if (p.b) b = p.b; });
  });
  after(async () => {
    await b?.close();
    await h?.close();
  });

  test('served like webauthn.js: same content type, caching and security headers', async () => {
    const [a, w] = await Promise.all([fetch(`${h.baseUrl}/assets/oidcClient.js`), fetch(`${h.baseUrl}/assets/webauthn.js`)]);
    assert.equal(a.status, 200);
    for (const k of ['content-type', 'cache-control', 'content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy']) {
      assert.equal(a.headers.get(k), w.headers.get(k), k);
    }
    assert.match(await a.text(), /export async function beginSignIn/);
  });

  const apps = [
    { name: 'portal', path: 'my-sign-ins', key: 'portal', alert: '#alert', otherTab: 'This sign-in answer does not belong to this page (it may be from another tab). Sign in again.' },
    { name: 'console', path: 'admin', key: 'console', alert: '#content [role=alert]', otherTab: 'This sign-in answer does not belong to this tab (it may be from another one). Sign in again.' },
  ];
  for (const app of apps) {
    const url = () => `${h.baseUrl}/${h.tenant.tenantId}/${app.path}`;
    const alertText = async () => {
      const el = b.page.locator(app.alert);
      await el.filter({ hasText: /\S/ }).waitFor();
      return (await el.innerText()).trim();
    };

    test(`${app.name}: the authorization request (PKCE S256, resource, state, nonce) and the pending request in sessionStorage`, async () => {
      await b.page.goto(url());
      await b.page.evaluate(() => (globalThis as any).sessionStorage.clear());
      await b.page.goto(url());
      const req = b.page.waitForRequest((r) => r.url().includes('/auth?') || r.url().includes('/authorize?') || new URL(r.url()).searchParams.has('code_challenge'));
      await b.page.locator('#sign-in').click();
      const u = new URL((await req).url());
      const p = Object.fromEntries(u.searchParams);
      assert.equal(p.response_type, 'code');
      assert.equal(p.scope, 'openid');
      assert.equal(p.code_challenge_method, 'S256');
      assert.equal(p.resource, `${h.baseUrl}/graph`);
      assert.equal(p.redirect_uri, url());
      assert.ok(p.state && p.nonce && p.code_challenge);
      assert.equal(p.login_hint, undefined);
      await b.page.waitForURL((x) => x.pathname.endsWith('/sign-in'));
      const pending = await b.page.evaluate((k) => JSON.parse((globalThis as any).sessionStorage.getItem(k)), `gatehouse.${app.key}.${h.tenant.tenantId}.pending`);
      assert.equal(pending.state, p.state);
      const challenge = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(pending.verifier))).toString('base64url');
      assert.equal(challenge, p.code_challenge);

      // Back with a code that is not one: the token endpoint refuses; the pending request is gone and the address is clean.
      await b.page.goto(`${url()}?code=not-a-code&state=${encodeURIComponent(p.state!)}`);
      assert.match(await alertText(), /^The sign-in could not be completed: .+\.$/);
      assert.equal(new URL(b.page.url()).search, '');
      assert.equal(await b.page.evaluate((k) => (globalThis as any).sessionStorage.getItem(k), `gatehouse.${app.key}.${h.tenant.tenantId}.pending`), null);
    });

    test(`${app.name}: an ID token whose nonce is not the request's is refused, and nothing is kept`, async () => {
      await b.page.goto(url());
      const storageKey = `gatehouse.${app.key}.${h.tenant.tenantId}`;
      await b.page.evaluate((k) => (globalThis as any).sessionStorage.setItem(`${k}.pending`, JSON.stringify({ verifier: 'v'.repeat(43), state: 'st-1', nonce: 'nonce-sent', returnTo: '' })), storageKey);
      // The token endpoint's answer, with an ID token for another request (signature irrelevant: the nonce is checked first).
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const idToken = `${part({ alg: 'RS256' })}.${part({ sub: 'x', nonce: 'nonce-of-another-request' })}.sig`;
      await b.page.route(`${h.tenant.issuer}/token`, (route) => route.fulfill({ json: { access_token: 'not-used', token_type: 'Bearer', expires_in: 300, id_token: idToken } }));
      try {
        await b.page.goto(`${url()}?code=abc&state=st-1`);
        assert.equal(await alertText(), 'The sign-in answer does not match this sign-in (nonce). Sign in again.');
        assert.equal(new URL(b.page.url()).search, '');
        const kept = await b.page.evaluate((k) => Object.keys((globalThis as any).sessionStorage).filter((n: string) => n.startsWith(k)), storageKey);
        assert.deepEqual(kept, [], 'neither the pending request nor a token is kept');
      } finally {
        await b.page.unroute(`${h.tenant.issuer}/token`);
      }
    });

    test(`${app.name}: an error answer and an answer of another tab`, async () => {
      await b.page.goto(`${url()}?error=access_denied&error_description=End-User%20aborted%20interaction&state=x`);
      assert.equal(await alertText(), 'You were not signed in: End-User aborted interaction.');
      assert.equal(new URL(b.page.url()).search, '');
      await b.page.goto(`${url()}?code=abc&state=not-this-tab`);
      assert.equal(await alertText(), app.otherTab);
    });
  }
});
