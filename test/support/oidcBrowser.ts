/**
 * A browser for OIDC tests without Chromium: fetch with a cookie jar and manual redirects, so a
 * test sees every hop of an authorization request.
 */
import assert from 'node:assert/strict';
import * as client from 'openid-client';

/** A browser's cookies, enough for oidc-provider: name, value and path; expired ones removed. */
export class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) || '/';
      const expired = attrs.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()) || attrs.some((a) => /^max-age=0$/i.test(a));
      const key = `${name};${path}`;
      if (expired || value === '') this.#cookies.delete(key);
      else this.#cookies.set(key, { value, path });
    }
  }

  header(url: URL): string {
    return [...this.#cookies.entries()]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([k, c]) => `${k.split(';')[0]}=${c.value}`).join('; ');
  }
}

/** A browser: follows nothing by itself, keeps cookies. */
export class Browser {
  readonly jar = new CookieJar();

  async request(url: string | URL, init: { method?: string; body?: unknown } = {}): Promise<Response> {
    const u = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html,application/json' };
    const cookie = this.jar.header(u);
    if (cookie) headers.cookie = cookie;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(u, { method: init.method ?? 'GET', headers, redirect: 'manual', body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    this.jar.store(res);
    return res;
  }

  /** Follows redirects from `url` until one leaves the server (the app's redirect URI) or a page answers. */
  async follow(url: string | URL, stopAt: string): Promise<{ res: Response; url: URL }> {
    let current = new URL(url);
    for (let i = 0; i < 10; i++) {
      if (current.href.startsWith(stopAt)) return { res: new Response(null, { status: 200 }), url: current };
      const res = await this.request(current);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res, url: current };
      await res.body?.cancel();
      current = new URL(location, current);
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

/**
 * The app's authorization request (code + PKCE S256, a fresh state; `params` add to or override
 * them: redirect_uri, scope, nonce, …) sent by `browser`: a 303 to the tenant's sign-in page.
 * Returns what redeeming the code needs, the sign-in page's URL and its interaction uid.
 */
export async function authorize(browser: Browser, config: client.Configuration, params: Record<string, string>): Promise<{ verifier: string; state: string; page: URL; uid: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, { state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params });
  const res = await browser.request(url);
  assert.equal(res.status, 303, await res.text());
  const page = new URL(res.headers.get('location')!, url);
  return { verifier, state, page, uid: page.searchParams.get('uid')! };
}
