/* global fetch, location, URL */
// The admin console's connection to the server (docs/admin-console.md): signing in through the
// tenant's issuer as the first-party public client "Gatehouse admin console" (authorization code
// + PKCE S256, `resource` = the Graph API), keeping the delegated access token for this tab only
// (sessionStorage), and calling the Graph API and /api/recovery with it. Every refusal becomes an
// ApiError whose message is the server's own (`error.message`), so a 403 says exactly which rule
// refused (TAP-9, RCV-1, ...). A 401 means the sign-in ended (tokens live 15 minutes). The OIDC
// protocol itself is web/oidcClient.js, shared with the security-info portal.

import { beginSignIn, finishSignIn, tabStorage } from '../oidcClient.js';

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
  const { get: stored, set: store } = tabStorage(KEY);

  /** Off to the organisation's sign-in page; it comes back to the console with a code. `returnTo`: the screen to reopen. */
  const signIn = (returnTo) => beginSignIn(cfg, KEY, { returnTo });

  /** Back from the sign-in page with `code` (or `error`): exchange the code for the token. Returns the screen to reopen. */
  async function redeem(params) {
    const r = await finishSignIn(cfg, KEY, params);
    if (!r) return '';
    if (r.step) throw new ApiError(r.message, 401, r.step === 'authorize' ? r.error : r.step, r.body ?? null);
    store('token', { accessToken: r.accessToken, expiresAt: r.expiresAt });
    return r.returnTo;
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
