/**
 * The browser tier: a real Chromium (Debian's, through playwright-core) with CDP virtual WebAuthn
 * authenticators, so passkey ceremonies run through `navigator.credentials` exactly as a user's
 * browser would run them against the server's origin (http://localhost:PORT is a secure context).
 *
 * CI installs Chromium and exports CHROMIUM_PATH; without it the tier fails loudly rather than
 * skipping. Never run `playwright install` (downloads are blocked).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { findApplicationByAppId } from '../../src/store/applications.ts';
import { freePort, startHarness, type Harness } from './harness.ts';
import { assertEverySignInReplays } from './replayCheck.ts';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import * as client from 'openid-client';

const AXE = fileURLToPath(import.meta.resolve('axe-core/axe.min.js'));

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** One ceremony must finish well inside this; an authenticator that never answers fails the test, not the run. */
export const CEREMONY_TIMEOUT_MS = 10_000;

export type VirtualAuthenticatorOptions = {
  protocol?: 'ctap2' | 'u2f';
  transport: 'internal' | 'usb' | 'nfc' | 'ble' | 'hybrid';
  hasResidentKey?: boolean;
  hasUserVerification?: boolean;
  isUserVerified?: boolean;
  automaticPresenceSimulation?: boolean;
  defaultBackupEligibility?: boolean;
  defaultBackupState?: boolean;
};

export type WebAuthnBrowser = {
  browser: Browser;
  page: Page;
  cdp: CDPSession;
  /** The `internal` (platform) authenticator added at launch. */
  platformAuthenticatorId: string;
  /** Adds a ctap2 authenticator with resident keys and verified UV unless told otherwise; returns its id. */
  addAuthenticator(options: VirtualAuthenticatorOptions): Promise<string>;
  removeAuthenticator(authenticatorId: string): Promise<void>;
  /** With presence simulation off an authenticator never answers: how to steer which of two devices responds. */
  setPresence(authenticatorId: string, enabled: boolean): Promise<void>;
  credentials(authenticatorId: string): Promise<{ credentialId: string; isResidentCredential: boolean; rpId?: string; userHandle?: string; signCount: number }[]>;
  close(): Promise<void>;
};

/**
 * Launch Chromium, open the server's origin and attach a platform (`internal`) virtual authenticator.
 * `origin` may be a promise so Chromium starts while the server is still coming up.
 */
export async function openWebAuthnBrowser(origin: string | PromiseLike<string>, platform: Partial<VirtualAuthenticatorOptions> = {}): Promise<WebAuthnBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: the browser tier needs it (apt-get install chromium, or set CHROMIUM_PATH). Do not run 'playwright install'.`);
  }
  // 90 s: a bound, not an expectation. CI runs both database tiers side by side, and on a loaded
  // 2-core machine Chromium's start took over 30 s twice.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 90_000 });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(CEREMONY_TIMEOUT_MS);
    const base = await origin;
    const res = await page.goto(`${base}/healthz`);
    if (!res || !res.ok()) throw new Error(`could not open ${base}/healthz in Chromium: ${res?.status()}`);
    // the page scripts run in Chromium; this project's tsconfig has no DOM lib, hence globalThis as any
    const secure = await page.evaluate(() => (globalThis as any).isSecureContext === true && typeof (globalThis as any).PublicKeyCredential === 'function');
    if (!secure) throw new Error(`${base} is not a secure context with WebAuthn in Chromium`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const addAuthenticator = async (o: VirtualAuthenticatorOptions) => {
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true, ...o,
        },
      });
      return authenticatorId;
    };
    const platformAuthenticatorId = await addAuthenticator({ transport: 'internal', ...platform });
    return {
      browser, page, cdp, platformAuthenticatorId, addAuthenticator,
      async removeAuthenticator(authenticatorId) {
        await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      },
      async setPresence(authenticatorId, enabled) {
        await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
      },
      async credentials(authenticatorId) {
        return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
      },
      async close() {
        await browser.close();
      },
    };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

type Json = Record<string, any>;

/** Rejects after `ms` so one stuck ceremony can't eat the whole file's budget. */
function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * The page-side ceremony. Serialised into the page by Playwright, so it may use only what it is
 * given. Uses PublicKeyCredential.parse…FromJSON / toJSON() when the browser has them, and
 * converts base64url <-> ArrayBuffer by hand otherwise. Never throws: returns `{ error }`.
 */
async function ceremonyInPage(arg: { kind: 'create' | 'get'; options: Json; timeoutMs: number; forceManual: boolean }): Promise<{ credential?: Json; error?: string; usedNativeJson: boolean }> {
  const b64uToBuf = (s: string): ArrayBuffer => {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  };
  const bufToB64u = (b: ArrayBuffer | ArrayBufferView | null | undefined): string | undefined => {
    if (!b) return undefined;
    const bytes = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    let bin = '';
    for (const x of bytes) bin += String.fromCharCode(x);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const g = globalThis as any;
  const PKC = g.PublicKeyCredential;
  const native = !arg.forceManual && typeof PKC.parseCreationOptionsFromJSON === 'function' && typeof PKC.parseRequestOptionsFromJSON === 'function'
    && typeof PKC.prototype.toJSON === 'function';
  const o: Json = { ...arg.options, timeout: arg.timeoutMs };
  let publicKey: any;
  if (native) {
    publicKey = arg.kind === 'create' ? PKC.parseCreationOptionsFromJSON(o) : PKC.parseRequestOptionsFromJSON(o);
  } else if (arg.kind === 'create') {
    publicKey = {
      ...o,
      challenge: b64uToBuf(o.challenge),
      user: { ...o.user, id: b64uToBuf(o.user.id) },
      excludeCredentials: (o.excludeCredentials ?? []).map((c: Json) => ({ ...c, id: b64uToBuf(c.id) })),
    };
  } else {
    publicKey = { ...o, challenge: b64uToBuf(o.challenge), allowCredentials: (o.allowCredentials ?? []).map((c: Json) => ({ ...c, id: b64uToBuf(c.id) })) };
  }
  const signal = AbortSignal.timeout(arg.timeoutMs);
  let cred: any;
  try {
    cred = arg.kind === 'create' ? await g.navigator.credentials.create({ publicKey, signal }) : await g.navigator.credentials.get({ publicKey, signal });
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}`, usedNativeJson: native };
  }
  if (!cred) return { error: 'navigator.credentials returned null', usedNativeJson: native };
  if (native) return { credential: cred.toJSON(), usedNativeJson: true };
  const r = cred.response;
  const response: Json = { clientDataJSON: bufToB64u(r.clientDataJSON) };
  if (arg.kind === 'create') {
    response.attestationObject = bufToB64u(r.attestationObject);
    response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    if (typeof r.getAuthenticatorData === 'function') response.authenticatorData = bufToB64u(r.getAuthenticatorData());
    if (typeof r.getPublicKeyAlgorithm === 'function') response.publicKeyAlgorithm = r.getPublicKeyAlgorithm();
  } else {
    response.authenticatorData = bufToB64u(r.authenticatorData);
    response.signature = bufToB64u(r.signature);
    response.userHandle = bufToB64u(r.userHandle) ?? null;
  }
  return {
    credential: {
      id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type, response,
      authenticatorAttachment: cred.authenticatorAttachment ?? null, clientExtensionResults: cred.getClientExtensionResults(),
    },
    usedNativeJson: false,
  };
}

export type CeremonyOptions = { timeoutMs?: number; /** test the hand-written base64url path even where toJSON() exists */ forceManualJson?: boolean };

async function ceremony(page: Page, kind: 'create' | 'get', options: Json, o: CeremonyOptions): Promise<Json> {
  const timeoutMs = o.timeoutMs ?? CEREMONY_TIMEOUT_MS;
  const out = await withTimeout(`navigator.credentials.${kind}()`, timeoutMs + 5_000,
    page.evaluate(ceremonyInPage, { kind, options, timeoutMs, forceManual: o.forceManualJson ?? false }));
  if (out.error || !out.credential) throw new Error(`navigator.credentials.${kind}() failed in Chromium: ${out.error ?? 'no credential'}`);
  return out.credential;
}

/** navigator.credentials.create() in the page from PublicKeyCredentialCreationOptionsJSON; returns RegistrationResponseJSON. */
export function createCredential(page: Page, creationOptionsJSON: Json, o: CeremonyOptions = {}): Promise<Json> {
  return ceremony(page, 'create', creationOptionsJSON, o);
}

/** navigator.credentials.get() in the page from PublicKeyCredentialRequestOptionsJSON; returns AuthenticationResponseJSON. */
export function getAssertion(page: Page, requestOptionsJSON: Json, o: CeremonyOptions = {}): Promise<Json> {
  return ceremony(page, 'get', requestOptionsJSON, o);
}

/** Whether this Chromium has the WebAuthn JSON helpers (parse…FromJSON, toJSON()). */
export function hasNativeWebAuthnJson(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const PKC = (globalThis as any).PublicKeyCredential;
    return typeof PKC.parseCreationOptionsFromJSON === 'function' && typeof PKC.parseRequestOptionsFromJSON === 'function' && typeof PKC.prototype.toJSON === 'function';
  });
}

/** The authenticator data flags and AAGUID, read from authenticatorData bytes (base64url). */
export function parseAuthenticatorData(b64u: string): { rpIdHash: Buffer; up: boolean; uv: boolean; be: boolean; bs: boolean; at: boolean; signCount: number; aaguid?: string } {
  const d = Buffer.from(b64u, 'base64url');
  if (d.length < 37) throw new Error(`authenticatorData has ${d.length} bytes, expected at least 37`);
  const f = d[32]!;
  const at = (f & 0x40) !== 0;
  let aaguid: string | undefined;
  if (at && d.length >= 53) {
    const hex = d.subarray(37, 53).toString('hex');
    aaguid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return {
    rpIdHash: d.subarray(0, 32), up: (f & 0x01) !== 0, uv: (f & 0x04) !== 0, be: (f & 0x08) !== 0, bs: (f & 0x10) !== 0, at,
    signCount: d.readUInt32BE(33), aaguid,
  };
}

/**
 * A test server and Chromium with a virtual authenticator, started side by side. Whichever came
 * up is returned through `started` even when the other failed, so after() can close it.
 * `opts.clock` is passed to the server (startHarness): e.g. `() => new Date(Date.now() + offset)`
 * with an `offset` the test moves forward to make PLT-2 freshness run out or a snooze end.
 */
export async function startServerAndBrowser(started: (parts: { h?: Harness; b?: WebAuthnBrowser }) => void, opts: { clock?: () => Date } = {}): Promise<{ h: Harness; b: WebAuthnBrowser }> {
  const harness = startHarness(opts.clock ? { clock: opts.clock } : {});
  const [hs, bs] = await Promise.allSettled([harness, openWebAuthnBrowser(harness.then((x) => x.baseUrl))]);
  started({ h: hs.status === 'fulfilled' ? hs.value : undefined, b: bs.status === 'fulfilled' ? bs.value : undefined });
  if (hs.status === 'rejected') throw hs.reason;
  if (bs.status === 'rejected') throw bs.reason;
  return { h: hs.value, b: bs.value };
}

/**
 * A browser test's after(): WIF-2 first (every sign-in of the file replays to its recorded
 * decision; skipped when the server never started), then Chromium, the server and the stand-in
 * app are closed, even when the check failed.
 */
export async function replayCheckThenClose(parts: { h?: Harness; b?: WebAuthnBrowser; app?: Server }): Promise<void> {
  try {
    if (parts.h) await assertEverySignInReplays(parts.h);
  } finally {
    await parts.b?.close();
    await parts.h?.close();
    parts.app?.close();
  }
}

/** A stand-in app at a redirect URI on loopback: it answers every request with `body`; tests read the code from the URL. */
export async function startStandInApp(contentType: string, body: string): Promise<{ redirectUri: string; server: Server }> {
  const port = await freePort();
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': contentType }).end(body));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { redirectUri: `http://127.0.0.1:${port}/callback`, server };
}

/**
 * axe-core on the page as it is now: no serious or critical violations. Returns the state's name
 * for a tally (`checked.push(await assertAccessible(page, state))`). The page's CSP refuses the
 * injected script unless the test sets `Page.setBypassCSP`.
 */
export async function assertAccessible(p: Page, state: string): Promise<string> {
  if (!(await p.evaluate(() => typeof (globalThis as any).axe === 'object'))) await p.addScriptTag({ path: AXE });
  const result = await p.evaluate(async () => {
    const r = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] });
    return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => n.target.join(' ')) }));
  }) as { id: string; impact: string; help: string; nodes: string[] }[];
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe-core, ${state}: ${JSON.stringify(bad, null, 2)}`);
  return state;
}

/** The tenant's sign-in page: user name, "Use a Temporary Access Pass", the code, "Sign in". */
export async function tapOnSignInPage(p: Page, upn: string, code: string): Promise<void> {
  await p.getByLabel('User name').fill(upn);
  await p.getByRole('button', { name: 'Use a Temporary Access Pass' }).click();
  await p.getByRole('textbox', { name: 'Temporary Access Pass' }).fill(code);
  await p.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Makes the tenant's app `appId` a public client (SPA redirect URI, PKCE) returning to `redirectUri` (PATCH, 204); returns openid-client's configuration for it. */
export async function publicClientReturningTo(h: Harness, appId: string, redirectUri: string): Promise<client.Configuration> {
  const app = await findApplicationByAppId(h.database.db, h.tenant.tenantId, appId);
  assert.ok(app, appId);
  const patched = await h.call('PATCH', `/graph/v1.0/applications/${app.id}`, { body: { spa: { redirectUris: [redirectUri] } } });
  assert.equal(patched.status, 204, JSON.stringify(patched.body));
  return client.discovery(new URL(h.tenant.issuer), appId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
}

export type AuthorizationRequest = { config: client.Configuration; verifier: string; state: string };

/** The app's authorization request (code + PKCE, `openid profile`) opened in Chromium; resolves on the tenant's sign-in page. */
export async function openAuthorization(p: Page, tenantId: string, config: client.Configuration, redirectUri: string): Promise<AuthorizationRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid profile', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  await p.goto(url.href);
  await p.waitForURL((u) => u.pathname === `/${tenantId}/sign-in`);
  await p.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  return { config, verifier, state };
}

/** The browser back at the app's redirect URI: the app redeems the code (state and PKCE checked) and gets its tokens. */
export async function tokensAtRedirect(p: Page, redirectUri: string, a: AuthorizationRequest): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  await p.waitForURL((u) => u.href.startsWith(redirectUri));
  return client.authorizationCodeGrant(a.config, new URL(p.url()), { pkceCodeVerifier: a.verifier, expectedState: a.state });
}
