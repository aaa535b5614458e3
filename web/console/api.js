/* global fetch, location, history, sessionStorage, crypto, btoa, URL, URLSearchParams, TextEncoder */
// The admin console's connection to the server (docs/admin-console.md): signing in through the
// tenant's issuer as the first-party public client "Gatehouse admin console" (authorization code
// + PKCE S256, `resource` = the Graph API), keeping the delegated access token for this tab only
// (sessionStorage), and calling the Graph API and /api/recovery with it. Every refusal becomes an
// ApiError whose message is the server's own (`error.message`), so a 403 says exactly which rule
// refused (TAP-9, RCV-1, ...). A 401 means the sign-in ended (tokens live 15 minutes).

export class ApiError extends Error {
  /** @param {string} message @param {number} status @param {string} code @param {unknown} body */
  constructor(message, status, code, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const toB64url = (buf) => {
  let bin = '';
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const randomString = (bytes) => toB64url(crypto.getRandomValues(new Uint8Array(bytes)).buffer);
const s256 = async (text) => toB64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** A Graph error body `{ error: { code, message } }` (or an OAuth one) → the message to show. */
export function messageOf(status, body) {
  const e = body && typeof body === 'object' ? body.error : null;
  if (e && typeof e === 'object' && typeof e.message === 'string') return e.message;
  if (body && typeof body.error_description === 'string') return body.error_description;
  if (typeof e === 'string') return e;
  if (status === 401) return 'Your sign-in to the admin console has ended. Sign in again.';
  if (status === 404) return 'Not found.';
  return `The server answered ${status}.`;
}

/**
 * @param {{ tenantId: string, issuer: string, clientId: string, resource: string, redirectUri: string }} cfg
 */
export function createApi(cfg) {
  const KEY = `gatehouse.console.${cfg.tenantId}`;
  const stored = (name) => {
    try {
      return JSON.parse(sessionStorage.getItem(`${KEY}.${name}`) || 'null');
    } catch {
      return null;
    }
  };
  const store = (name, value) => {
    if (value === null) sessionStorage.removeItem(`${KEY}.${name}`);
    else sessionStorage.setItem(`${KEY}.${name}`, JSON.stringify(value));
  };

  let discovered = null;
  async function discovery() {
    if (discovered) return discovered;
    const res = await fetch(`${cfg.issuer}/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new ApiError(`The sign-in service did not answer (${res.status}). Try again later.`, res.status, 'discovery', null);
    discovered = await res.json();
    return discovered;
  }

  /** Off to the organisation's sign-in page; it comes back to the console with a code. `returnTo`: the screen to reopen. */
  async function signIn(returnTo) {
    const d = await discovery();
    const verifier = randomString(32);
    const state = randomString(16);
    store('pending', { verifier, state, returnTo: returnTo || '' });
    const url = new URL(d.authorization_endpoint);
    const params = {
      client_id: cfg.clientId, response_type: 'code', redirect_uri: cfg.redirectUri, scope: 'openid', resource: cfg.resource,
      code_challenge: await s256(verifier), code_challenge_method: 'S256', state, nonce: randomString(16),
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    location.assign(url.href);
  }

  /** Back from the sign-in page with `code` (or `error`): exchange the code for the token. Returns the screen to reopen. */
  async function redeem(params) {
    history.replaceState(null, '', location.pathname);
    const pending = stored('pending');
    store('pending', null);
    if (params.get('error')) {
      throw new ApiError(`You were not signed in: ${params.get('error_description') || params.get('error')}.`, 401, params.get('error') || 'error', null);
    }
    if (!pending || pending.state !== params.get('state')) {
      throw new ApiError('This sign-in answer does not belong to this tab (it may be from another one). Sign in again.', 401, 'state', null);
    }
    const d = await discovery();
    const res = await fetch(d.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: params.get('code') || '', redirect_uri: cfg.redirectUri, client_id: cfg.clientId,
        code_verifier: pending.verifier, resource: cfg.resource,
      }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok || !body.access_token) throw new ApiError(`The sign-in could not be completed: ${body.error_description || body.error || res.status}.`, 401, 'token', body);
    store('token', { accessToken: body.access_token, expiresAt: Date.now() + (body.expires_in || 300) * 1000 });
    return pending.returnTo || '';
  }

  const signedIn = () => {
    const t = stored('token');
    return Boolean(t && t.expiresAt > Date.now());
  };
  /** A token that was here and ran out (15 minutes): the console says so and offers "Sign in again". */
  const expired = () => {
    const t = stored('token');
    return Boolean(t && t.expiresAt <= Date.now());
  };
  const signOut = () => store('token', null);

  /** One request with the bearer token; JSON in and out; an ApiError with the server's message on failure. */
  async function request(method, url, body) {
    const token = stored('token');
    if (!token || token.expiresAt <= Date.now()) {
      throw new ApiError('Your sign-in to the admin console has ended (it lasts 15 minutes). Sign in again.', 401, 'InvalidAuthenticationToken', null);
    }
    const headers = { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError('The server could not be reached. Check the connection and try again.', 0, 'network', null);
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const code = data && data.error && typeof data.error === 'object' ? String(data.error.code || '') : '';
      throw new ApiError(messageOf(res.status, data), res.status, code, data);
    }
    return data;
  }

  /** A Graph call: `path` under /graph/v1.0 (or an absolute @odata.nextLink on this server). */
  const graph = (method, path, body) => request(method, /^https?:/.test(path) ? sameOrigin(path) : `/graph/v1.0${path}`, body);
  /** An /api/recovery call. */
  const recovery = (method, path, body) => request(method, `/api/recovery${path}`, body);
  /** Who is signed in and what the console may offer them (src/http/pages/console.ts). */
  const session = () => request('GET', `/${cfg.tenantId}/admin/session`);

  /** Only this server's own links are followed (nextLink is absolute). */
  function sameOrigin(href) {
    const u = new URL(href, location.href);
    if (u.origin !== location.origin) throw new ApiError('The server sent a link to another site; it was not followed.', 0, 'nextLink', null);
    return `${u.pathname}${u.search}`;
  }

  /** Graph's `$filter` string literal: single quotes doubled. */
  const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;

  return { cfg, signIn, redeem, signedIn, expired, signOut, graph, recovery, session, quote };
}
