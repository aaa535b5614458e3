/**
 * The sign-in flow API (`/api/flows/{tenant}/sign-in…`) as the sign-in page's script calls it,
 * headless: start a flow, register a passkey in it, use a passkey, SC-1's TAP then passkey. Made
 * once per describe with a getter for the harness (which before() assigns later):
 * `const { api, start, registerIn, usePasskey } = signInFlowApi(() => h);`
 */
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { Harness } from './harness.ts';
import { authorize, type Browser } from './oidcBrowser.ts';
import { createSoftAuthenticator, type SoftAuthenticator } from './softAuthenticator.ts';

/** A desktop Chrome, so the records' device detail and client app type are those of a browser. */
export const CHROME_UA = { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0' };

export function signInFlowApi(harness: () => Harness, headers: Record<string, string> = CHROME_UA) {
  /** POST `/api/flows/{tenant}/sign-in{path}`, unauthenticated; returns the response as it is. */
  const api = (path: string, body: unknown = {}) => {
    const h = harness();
    return h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in${path}`, { token: null, body, headers });
  };
  /** Starts a flow from a browser that can use WebAuthn (unless `body` says otherwise); 201, returns its id. */
  const start = async (body: Record<string, unknown>) => {
    const r = await api('', { capabilities: { webauthn: true }, ...body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.flowId as string;
  };
  /** Registers a passkey from `auth` in the flow (options 200); returns the register step's response. */
  const registerIn = async (flowId: string, auth: SoftAuthenticator, displayName = 'My key') => {
    const o = await api(`/${flowId}/register/options`);
    assert.equal(o.status, 200, JSON.stringify(o.body));
    return api(`/${flowId}/register`, { displayName, publicKeyCredential: auth.register(o.body.publicKey, harness().baseUrl) });
  };
  /** Signs in with a passkey from `auth` (options 200); returns the passkey step's response. */
  const usePasskey = async (flowId: string, auth: SoftAuthenticator, username: string) => {
    const o = await api(`/${flowId}/passkey/options`, { username });
    assert.equal(o.status, 200, JSON.stringify(o.body));
    return api(`/${flowId}/passkey`, { credential: auth.authenticate(o.body, harness().baseUrl) });
  };
  /** SC-1: the user signs in to the security-info portal with their TAP (200) and registers a passkey from `auth` (201); returns `auth`. */
  const registerWithTap = async (user: { upn: string; code: string }, auth = createSoftAuthenticator()) => {
    const flowId = await start({ userAction: 'registerSecurityInformation' });
    const tap = await api(`/${flowId}/tap`, { username: user.upn, code: user.code });
    assert.equal(tap.status, 200, JSON.stringify(tap.body));
    const reg = await registerIn(flowId, auth);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    return auth;
  };
  return { api, start, registerIn, usePasskey, registerWithTap };
}

/**
 * An app's authorization request (`authorize`: code + PKCE, a nonce, `scope`) answered headless: a
 * flow started for its interaction from a browser without WebAuthn, then a TAP step that must be
 * granted. Returns what completing and redeeming need (the step's correlation id too).
 */
export async function tapSignInForAuthorization(
  h: Harness, browser: Browser, config: client.Configuration, app: { appId: string; redirectUri: string; scope: string },
  user: { upn: string; code: string }, extra: Record<string, string> = {},
) {
  const api = (path: string, body: unknown) => h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in${path}`, { token: null, body });
  const nonce = client.randomNonce();
  const { verifier, state, uid } = await authorize(browser, config, { redirect_uri: app.redirectUri, scope: app.scope, nonce, ...extra });
  const started = await api('', { clientId: app.appId, interactionUid: uid, capabilities: { webauthn: false } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const step = await api(`/${started.body.flowId}/tap`, { username: user.upn, code: user.code });
  assert.equal(step.status, 200, JSON.stringify(step.body));
  assert.equal(step.body.decision.outcome, 'grant');
  return { verifier, state, nonce, uid, flowId: started.body.flowId as string, correlationId: step.body.correlationId as string };
}
