/* global fetch, location, history, sessionStorage, crypto, URL, URLSearchParams, TextEncoder, atob */
// The OIDC public client of the first-party pages that sign in through the tenant's own issuer:
// the security-info portal (web/portal.js) and the admin console (web/console/api.js). Only the
// protocol lives here: authorization code + PKCE (S256) with `resource` = the Graph API, state and
// nonce; the pending request waits in sessionStorage (this tab only) until the browser comes back
// with `code` (or `error`); the code is exchanged at the token endpoint with the verifier. Each
// caller keeps its own UI, its own wording and its own token storage.
//
// `cfg`: { issuer, clientId, resource, redirectUri } (the page's data attributes).
// `storageKey`: the caller's sessionStorage prefix; the pending request is `${storageKey}.pending`.

import { toB64url } from './webauthn.js';

/** JSON values in sessionStorage under `${prefix}.${name}`: this tab only, gone when it closes. `set(name, null)` removes. */
export function tabStorage(prefix) {
  return {
    get(name) {
      try {
        return JSON.parse(sessionStorage.getItem(`${prefix}.${name}`) || 'null');
      } catch {
        return null;
      }
    },
    set(name, value) {
      if (value === null) sessionStorage.removeItem(`${prefix}.${name}`);
      else sessionStorage.setItem(`${prefix}.${name}`, JSON.stringify(value));
    },
  };
}

const randomString = (bytes) => toB64url(crypto.getRandomValues(new Uint8Array(bytes)).buffer);
const s256 = async (text) => toB64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** An Error whose `status` and `code` say what failed, as the console's ApiError does. */
const failure = (message, status, code) => Object.assign(new Error(message), { status, code });

/** The `nonce` claim of an ID token (decoded, not verified), or undefined. */
function idTokenNonce(idToken) {
  try {
    const part = String(idToken).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '='))).nonce;
  } catch {
    return undefined;
  }
}

const discovered = new Map();
/** The issuer's discovery document, fetched once per page load. */
async function discovery(issuer) {
  if (discovered.has(issuer)) return discovered.get(issuer);
  const res = await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
  if (!res.ok) throw failure(`The sign-in service did not answer (${res.status}). Try again later.`, res.status, 'discovery');
  const doc = await res.json();
  discovered.set(issuer, doc);
  return doc;
}

/**
 * Off to the organisation's sign-in page; it comes back to `cfg.redirectUri` with a code.
 * `loginHint`: sent as `login_hint` when given. `returnTo`: kept with the pending request and
 * handed back by finishSignIn (the console's screen to reopen). Throws (message for the user) when
 * the issuer cannot be discovered; otherwise the page navigates away.
 */
export async function beginSignIn(cfg, storageKey, { loginHint, returnTo } = {}) {
  const d = await discovery(cfg.issuer);
  const verifier = randomString(32);
  const state = randomString(16);
  const nonce = randomString(16);
  tabStorage(storageKey).set('pending', { verifier, state, nonce, returnTo: returnTo || '' });
  const url = new URL(d.authorization_endpoint);
  const params = {
    client_id: cfg.clientId, response_type: 'code', redirect_uri: cfg.redirectUri, scope: 'openid', resource: cfg.resource,
    code_challenge: await s256(verifier), code_challenge_method: 'S256', state, nonce,
  };
  if (loginHint) params.login_hint = loginHint;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  location.assign(url.href);
}

/**
 * Back from the sign-in page. `params`: the redirect's query (default: this page's). Resolves to
 * - undefined: no `code` and no `error` in it (nothing touched);
 * - `{ accessToken, expiresAt, idToken, returnTo }`: signed in (`expiresAt` in ms since the epoch;
 *   `idToken` as received, not verified: for display only, the Graph API checks the access token);
 * - `{ step, error, description, message }`: not signed in. `step`: 'authorize' (the issuer
 *   answered with `error`), 'state' (the answer belongs to no request of this tab: none pending, or
 *   another one), 'token' (the token endpoint refused; `error`/`description` are its own, `body` its
 *   whole answer). `message` is the sentence to show.
 * `code` and `state` leave the address bar and the pending request is forgotten in every case
 * but the first. Throws (message for the user) when the issuer cannot be discovered.
 */
export async function finishSignIn(cfg, storageKey, params = new URLSearchParams(location.search)) {
  if (!params.has('code') && !params.has('error')) return undefined;
  history.replaceState(null, '', location.pathname);
  const storage = tabStorage(storageKey);
  const pending = storage.get('pending');
  storage.set('pending', null);
  if (params.get('error')) {
    const error = params.get('error');
    const description = params.get('error_description') || undefined;
    return { step: 'authorize', error, description, message: `You were not signed in: ${description || error}.` };
  }
  if (!pending || pending.state !== params.get('state')) {
    return { step: 'state', error: 'state', description: undefined, message: 'This sign-in answer does not belong to this tab (it may be from another one). Sign in again.' };
  }
  const d = await discovery(cfg.issuer);
  const res = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: params.get('code') || '', redirect_uri: cfg.redirectUri, client_id: cfg.clientId,
      code_verifier: pending.verifier, resource: cfg.resource,
    }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.access_token) {
    return {
      step: 'token', error: body.error || 'token', description: body.error_description || undefined, body,
      message: `The sign-in could not be completed: ${body.error_description || body.error || res.status}.`,
    };
  }
  // The ID token must answer this request: its nonce is the one sent (it is not otherwise verified here).
  if (idTokenNonce(body.id_token) !== pending.nonce) {
    return { step: 'token', error: 'nonce', description: undefined, body, message: 'The sign-in answer does not match this sign-in (nonce). Sign in again.' };
  }
  return {
    accessToken: body.access_token, expiresAt: Date.now() + (body.expires_in || 300) * 1000,
    idToken: body.id_token, returnTo: pending.returnTo || '',
  };
}
