/**
 * The sign-in flow API (`/api/flows/{tenant}/sign-in…`) as the sign-in page's script calls it,
 * headless: start a flow, register a passkey in it, use a passkey, SC-1's TAP then passkey. Made
 * once per describe with a getter for the harness (which before() assigns later):
 * `const { api, start, registerIn, usePasskey } = signInFlowApi(() => h);`
 */
import assert from 'node:assert/strict';
import type { Harness } from './harness.ts';
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
