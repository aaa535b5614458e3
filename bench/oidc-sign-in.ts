/**
 * Complete OIDC passkey sign-ins per second (authorization code + PKCE), on PGlite and PostgreSQL:
 *
 *   npm run bench:oidc                      # BENCH_SECONDS=10, BENCH_CONCURRENCY=8 by default
 *
 * As in bench/sign-in.ts, the real server runs as a child process (`node src/cli/main.ts serve`,
 * public URL http://localhost:PORT, so the WebAuthn RP id is `localhost`), and this process is
 * the load client. Per database: `gatehouse init --json`, BENCH_USERS users each with a passkey
 * (software authenticator, synced style, zero counter), and one confidential web app (a `web`
 * redirect URI and a secret: `client_secret_post`, PKCE S256 as well). Each virtual user then loops
 * over complete sign-ins, each in a fresh browser (an empty cookie jar), as the sign-in page's
 * script does it:
 *
 *   1 GET  /{tenant}/v2.0/auth?…code_challenge…      a fresh authorization request → 303 to the page
 *   2 GET  /{tenant}/sign-in?uid=…                    the sign-in page (BENCH_OIDC_PAGE=off skips it)
 *   3 POST /api/flows/{tenant}/sign-in                {clientId, interactionUid, capabilities, passkeyOptions: {}}:
 *                                                     the flow and usernameless options, as the page asks for them
 *     the software authenticator signs a fresh assertion (ECDSA P-256, in this process)
 *   4 POST …/{flowId}/passkey {credential}            the decision must be `grant`
 *   5 POST /{tenant}/sign-in/{uid}/complete {flowId}  → redirectTo (cookies: the interaction's)
 *   6 GET  redirectTo                                 → 303 to the redirect URI with the code
 *   7 POST /{tenant}/v2.0/token                       authorization_code + code_verifier + secret → tokens
 *
 * Redirects and cookies are handled by hand (node:http with keep-alive, or fetch with
 * BENCH_CLIENT=fetch); the redirect URI is never contacted. PKCE pairs, state and nonce are made
 * before each measured window (one per sign-in, never reused). Every BENCH_OIDC_SAMPLE-th sign-in
 * (default 20) has its ID token verified (RS256 against the tenant's JWKS, `aud`, `nonce`, `sub`)
 * and must carry `amr` with `fido`; failed checks are counted and shown.
 *
 * Sign-in records (LOG-1) are always written: nothing here turns logging off.
 *
 * BENCH_OIDC_FLOOR=on (PostgreSQL only): after Gatehouse's workloads its server stops and the same
 * client signs in against bench/floor-server.ts, the least an OIDC passkey sign-in with a durable
 * sign-in record and a single-use code costs on this machine (same requests, same cookie handling).
 *
 * BENCH_CPU_PROF=DIR starts the server with `--cpu-prof --cpu-prof-dir=DIR` (the profile is written
 * when the server stops, after the last workload of each database).
 *
 * Everything is bounded (durations, request timeouts, setup timeouts, a watchdog); child
 * processes, throwaway servers, databases and temp dirs are removed on exit. Shared parts are in
 * bench/support.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import {
  childEnv, clientCredentialsToken, cpuWindow, DATABASES, freePort, HttpFailure, initTenant, intEnv, log, machineLoad, percentile,
  provisionPasskeyUsers, rawRequest, runBench, runVirtualUsers, SECONDS, setupCall, SETUP_TIMEOUT_MS, startServer, statementDelta,
  floorSignature, startFloor, statementStats, topStatements, TOP_STATEMENTS, WARMUP_SECONDS, type FloorKey, type ServerProcess, type PasskeyUser, type RawResponse, type Target,
} from './support.ts';

// ---------- settings ----------

const CONCURRENCIES = (process.env.BENCH_CONCURRENCY || '8').split(',').map((v) => v.trim()).filter(Boolean).map((v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new Error(`BENCH_CONCURRENCY='${process.env.BENCH_CONCURRENCY}' must be integers from 1 to 200, comma-separated`);
  return n;
});
const USERS = intEnv('BENCH_USERS', 200, 1, 5000);
const SAMPLE_EVERY = intEnv('BENCH_OIDC_SAMPLE', 20, 1, 1_000_000);
const WITH_PAGE = process.env.BENCH_OIDC_PAGE !== 'off';
const SCOPE = process.env.BENCH_OIDC_SCOPE || 'openid profile';
const CLIENT = process.env.BENCH_CLIENT || 'http';
if (CLIENT !== 'http' && CLIENT !== 'fetch') throw new Error(`BENCH_CLIENT='${CLIENT}' must be http or fetch`);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const WITH_REFERENCE = process.env.BENCH_OIDC_REFERENCE !== 'off';
/** BENCH_OIDC_FLOOR=on (PostgreSQL): the same sign-ins against bench/floor-server.ts after Gatehouse's. */
const WITH_FLOOR = process.env.BENCH_OIDC_FLOOR === 'on';
const REQUEST_TIMEOUT_MS = 10_000;
const STEPS = ['authorize', ...(WITH_PAGE ? ['page'] : []), 'start + options', 'sign (client)', 'passkey', 'complete', 'resume', 'token'] as const;
const REQUESTS_PER_SIGN_IN = WITH_PAGE ? 7 : 6;

const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...CONCURRENCIES), scheduling: 'lifo' });

// ---------- a browser: cookies and redirects by hand ----------

/** The cookies of one browser: name, value and path (enough for oidc-provider's); deleted ones removed. */
class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  store(setCookie: string[] | undefined): void {
    if (!setCookie) return;
    for (const line of setCookie) {
      const parts = line.split(';');
      const pair = parts[0]!.trim();
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (let i = 1; i < parts.length; i++) {
        const a = parts[i]!.trim();
        const lower = a.toLowerCase();
        if (lower.startsWith('path=')) path = a.slice(5) || '/';
        else if (lower.startsWith('expires=') && Date.parse(a.slice(8)) <= Date.now()) expired = true;
        else if (lower === 'max-age=0') expired = true;
      }
      const key = `${name};${path}`;
      if (expired || value === '') this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(pathname: string): string {
    let out = '';
    for (const c of this.#cookies.values()) {
      if (pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) out += `${out ? '; ' : ''}${c.name}=${c.value}`;
    }
    return out;
  }
}

/** One request to the server; `url` is a path on it or an absolute URL on its public origin. */
async function send(target: { base: string; host: string }, jar: CookieJar | null, method: string, pathAndQuery: string, headers: Record<string, string>, body: string | null): Promise<RawResponse> {
  const h: Record<string, string> = { host: target.host, ...headers };
  if (jar) {
    const cookie = jar.header(pathAndQuery.split('?', 1)[0]!);
    if (cookie) h.cookie = cookie;
  }
  let res: RawResponse;
  if (CLIENT === 'http') res = await rawRequest(agent, `${target.base}${pathAndQuery}`, method, h, body, REQUEST_TIMEOUT_MS);
  else {
    const r = await fetch(`${target.base}${pathAndQuery}`, { method, headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await r.text();
    const hs: http.IncomingHttpHeaders = {};
    r.headers.forEach((v, k) => { if (k !== 'set-cookie') hs[k] = v; });
    hs['set-cookie'] = r.headers.getSetCookie();
    res = { status: r.status, headers: hs, text };
  }
  jar?.store(res.headers['set-cookie']);
  return res;
}

function expect(res: RawResponse, status: number, what: string): RawResponse {
  if (res.status !== status) throw new HttpFailure(res.status, what, res.text);
  return res;
}

// ---------- fresh authorization requests, made before the measured window ----------

type AuthRequest = { verifier: string; challenge: string; state: string; nonce: string };
const b64u = (b: Buffer) => b.toString('base64url');
function newAuthRequest(): AuthRequest {
  const verifier = b64u(randomBytes(32));
  return { verifier, challenge: b64u(createHash('sha256').update(verifier).digest()), state: b64u(randomBytes(16)), nonce: b64u(randomBytes(16)) };
}
/** Enough for `seconds` at up to 2,000 sign-ins/s; more are made on the fly if that runs out. */
function authRequestPool(seconds: number): { next(): AuthRequest } {
  const pool = Array.from({ length: Math.ceil(seconds * 2000) }, newAuthRequest);
  let i = 0;
  return { next: () => pool[i++] ?? newAuthRequest() };
}

// ---------- one database ----------

type Row = {
  workload: 'oidc' | 'flow' | 'floor'; vus: number; signInsPerSec: number; reqPerSec: number; p50: number; p99: number;
  errors: number; non2xx: number; statuses: string; firstFailure: string | undefined;
  serverCpuPct: number | undefined; serverCpuMs: number | undefined; pgCpuMs: number | undefined; benchCpuPct: number; benchCpuMs: number;
  clientShare: number | undefined; otherCpuPct: number | undefined;
  statements: number | undefined; commits: number | undefined;
  sampled: number; sampleFailures: number; firstSampleFailure: string | undefined;
  stepMs: number[];
  top: string | undefined;
};

async function benchDatabase(target: Target): Promise<{ rows: Row[]; serverLog: string[]; load: string[] }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const origin = `http://localhost:${port}`;
  const host = `localhost:${port}`;
  const to = { base, host };
  const pool: Record<string, string> = process.env.BENCH_DB_POOL_MAX ? { GATEHOUSE_DB_POOL_MAX: process.env.BENCH_DB_POOL_MAX } : {};
  const prof: Record<string, string> = CPU_PROF_DIR ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${CPU_PROF_DIR}`.trim() } : {};
  const env = childEnv({ ...target.env, PORT: String(port), GATEHOUSE_PUBLIC_URL: origin, ...pool, ...prof });
  log(`${target.name}: gatehouse init`);
  const tenant = await initTenant(env);
  log(`${target.name}: starting server, public URL ${origin}`);
  const server = await startServer(env, { outputChars: 1 << 16, logLines: 1000 });
  const load: string[] = [];
  try {
    const token = await clientCredentialsToken(tenant, `${base}${new URL(tenant.tokenEndpoint).pathname}`);
    log(`${target.name}: provisioning ${USERS} users, each with a passkey; one web app`);
    const users: PasskeyUser[] = await provisionPasskeyUsers(base, origin, token, USERS, 8);
    // Nobody listens at the redirect URI: the bench reads the code from the Location header.
    const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    const app = await setupCall<{ id: string; appId: string }>(base, 'POST', '/graph/v1.0/applications', token, { displayName: 'Bench web app', web: { redirectUris: [redirectUri] } });
    const secret = await setupCall<{ secretText: string }>(base, 'POST', `/graph/v1.0/applications/${app.id}/addPassword`, token, {});
    const issuer = `${origin}/${tenant.tenantId}/v2.0`;
    const discovery = await (await fetch(`${base}/${tenant.tenantId}/v2.0/.well-known/openid-configuration`, { headers: { host } })).json() as { issuer: string; authorization_endpoint: string; token_endpoint: string; jwks_uri: string };
    if (discovery.issuer !== issuer) throw new Error(`discovery says issuer ${discovery.issuer}, expected ${issuer}`);
    const authPath = new URL(discovery.authorization_endpoint).pathname;
    const tokenPath = new URL(discovery.token_endpoint).pathname;
    const jwks = createLocalJWKSet(await (await fetch(`${base}${new URL(discovery.jwks_uri).pathname}`, { headers: { host } })).json() as JSONWebKeySet);
    const flows = `/api/flows/${tenant.tenantId}/sign-in`;
    const json = { 'content-type': 'application/json', accept: 'application/json' };
    const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    /** A location on the server's public origin as a path to request; undefined when it leaves the server. */
    const onServer = (location: string): string | undefined => {
      const u = new URL(location, origin);
      return u.origin === origin ? `${u.pathname}${u.search}` : undefined;
    };

    let requests = 0;
    let stepMs = new Array<number>(STEPS.length).fill(0);
    let sampled = 0;
    let sampleFailures = 0;
    let firstSampleFailure: string | undefined;
    let auth = authRequestPool(1);

    const signIn = async (k: number) => {
      const user = users[k % users.length]!;
      const a = auth.next();
      const jar = new CookieJar();
      let s = 0;
      let t = performance.now();
      const lap = () => {
        const now = performance.now();
        stepMs[s] = (stepMs[s] ?? 0) + now - t;
        s++;
        t = now;
      };
      // 1. The app sends the browser to the authorization endpoint.
      const q = new URLSearchParams({
        client_id: app.appId, response_type: 'code', redirect_uri: redirectUri, scope: SCOPE,
        state: a.state, nonce: a.nonce, code_challenge: a.challenge, code_challenge_method: 'S256',
      });
      const authz = expect(await send(to, jar, 'GET', `${authPath}?${q}`, { accept: 'text/html' }, null), 303, 'GET authorize');
      requests++;
      const pagePath = onServer(String(authz.headers.location ?? ''));
      const uid = pagePath ? new URL(pagePath, origin).searchParams.get('uid') : null;
      if (!pagePath || !uid) throw new Error(`authorize redirected to ${String(authz.headers.location)}, not the sign-in page`);
      lap();
      // 2. The sign-in page.
      if (WITH_PAGE) {
        expect(await send(to, jar, 'GET', pagePath, { accept: 'text/html' }, null), 200, 'GET sign-in page');
        requests++;
        lap();
      }
      // 3–5. What the page's script does: a flow for this interaction, a usernameless passkey.
      // As the page does for a usernameless passkey: the start answers the options too.
      const started = JSON.parse(expect(await send(to, null, 'POST', flows, json, JSON.stringify({ clientId: app.appId, interactionUid: uid, capabilities: { webauthn: true }, passkeyOptions: {} })), 201, 'POST sign-in').text) as { flowId: string; passkeyOptions: PublicKeyCredentialRequestOptionsJSON };
      requests++;
      lap();
      const options = started.passkeyOptions;
      const credential = user.authenticator.authenticate(options, origin);
      lap();
      const step = JSON.parse(expect(await send(to, null, 'POST', `${flows}/${started.flowId}/passkey`, json, JSON.stringify({ credential })), 200, 'POST passkey').text) as { decision?: { outcome?: string } };
      requests++;
      if (step.decision?.outcome !== 'grant') throw new Error(`the passkey step's decision is ${JSON.stringify(step.decision).slice(0, 300)}, not grant`);
      lap();
      // 6. Complete the interaction (the browser's cookies name it).
      const done = JSON.parse(expect(await send(to, jar, 'POST', `/${tenant.tenantId}/sign-in/${uid}/complete`, json, JSON.stringify({ flowId: started.flowId })), 200, 'POST complete').text) as { redirectTo: string };
      requests++;
      lap();
      // 7. Resume the authorization request: redirects until one leaves the server for the redirect URI.
      let next = onServer(done.redirectTo);
      let callback: URL | undefined;
      for (let hops = 0; next && hops < 5; hops++) {
        const r = await send(to, jar, 'GET', next, { accept: 'text/html' }, null);
        requests++;
        const location = r.headers.location;
        if (r.status < 300 || r.status > 399 || !location) throw new HttpFailure(r.status, `GET ${next.split('?')[0]} (resume)`, r.text);
        next = onServer(location);
        if (!next) callback = new URL(location);
      }
      if (!callback?.href.startsWith(redirectUri)) throw new Error(`the authorization did not return to the redirect URI (ended at ${next ?? callback?.href})`);
      const code = callback.searchParams.get('code');
      if (!code || callback.searchParams.get('state') !== a.state) throw new Error(`redirect URI got no code or the wrong state: ${callback.search.slice(0, 300)}`);
      lap();
      // 8. The app redeems the code.
      const tokenBody = new URLSearchParams({
        grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: a.verifier, client_id: app.appId, client_secret: secret.secretText,
      }).toString();
      const tokens = JSON.parse(expect(await send(to, null, 'POST', tokenPath, form, tokenBody), 200, 'POST token').text) as { id_token?: string; access_token?: string };
      requests++;
      lap();
      if (!tokens.id_token || !tokens.access_token) throw new Error(`token response without id_token or access_token: ${Object.keys(tokens).join(', ')}`);
      if (k % SAMPLE_EVERY === 0) {
        sampled++;
        try {
          const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer, audience: app.appId });
          const amr = payload.amr as unknown;
          if (!Array.isArray(amr) || !amr.includes('fido')) throw new Error(`amr is ${JSON.stringify(amr)}, without fido`);
          if (payload.nonce !== a.nonce) throw new Error('nonce does not match');
          if (payload.sub !== user.id) throw new Error(`sub ${payload.sub} is not the user ${user.id}`);
        } catch (err) {
          sampleFailures++;
          firstSampleFailure ??= (err as Error).message;
        }
      }
    };

    /** The reference: the flow API's passkey sign-in alone (2 requests, no app, no OIDC), as bench/sign-in.ts's passkey-start does it. */
    const flowOnly = async (k: number) => {
      const user = users[k % users.length]!;
      const started = JSON.parse(expect(await send(to, null, 'POST', flows, json, '{"passkeyOptions":{}}'), 201, 'POST sign-in').text) as { flowId: string; passkeyOptions: PublicKeyCredentialRequestOptionsJSON };
      requests++;
      const credential = user.authenticator.authenticate(started.passkeyOptions, origin);
      const step = JSON.parse(expect(await send(to, null, 'POST', `${flows}/${started.flowId}/passkey`, json, JSON.stringify({ credential })), 200, 'POST passkey').text) as { decision?: { outcome?: string } };
      requests++;
      if (step.decision?.outcome !== 'grant') throw new Error(`the passkey step's decision is ${JSON.stringify(step.decision).slice(0, 300)}, not grant`);
    };

    /** BENCH_OIDC_FLOOR=on: the same browser against bench/floor-server.ts (set once Gatehouse's server has stopped). */
    let floor: { base: string; keys: FloorKey[]; process: ServerProcess } | undefined;
    const floorSignIn = async (k: number) => {
      const f = floor!;
      const key = f.keys[k % f.keys.length]!;
      const a = auth.next();
      const jar = new CookieJar();
      const at = { base: f.base, host: new URL(f.base).host };
      const q = new URLSearchParams({ client_id: app.appId, response_type: 'code', redirect_uri: redirectUri, scope: SCOPE, state: a.state, nonce: a.nonce, code_challenge: a.challenge, code_challenge_method: 'S256' });
      const authz = expect(await send(at, jar, 'GET', `/floor/authorize?${q}`, { accept: 'text/html' }, null), 303, 'GET floor authorize');
      const pagePath = String(authz.headers.location);
      const uid = new URL(pagePath, f.base).searchParams.get('uid')!;
      expect(await send(at, jar, 'GET', pagePath, { accept: 'text/html' }, null), 200, 'GET floor page');
      const started = JSON.parse(expect(await send(at, null, 'POST', '/floor/start', json, JSON.stringify({ passkeyOptions: {}, userId: key.userId })), 201, 'POST floor start').text) as { flowId: string; challenge: string };
      const step = JSON.parse(expect(await send(at, null, 'POST', '/floor/assert', json, JSON.stringify({ flowId: started.flowId, userId: key.userId, signature: floorSignature(key, started.challenge, started.flowId) })), 200, 'POST floor assert').text) as { decision?: { outcome?: string } };
      if (step.decision?.outcome !== 'grant') throw new Error('floor assert did not grant');
      const done = JSON.parse(expect(await send(at, jar, 'POST', '/floor/complete', json, JSON.stringify({ uid, flowId: started.flowId })), 200, 'POST floor complete').text) as { redirectTo: string };
      const back = expect(await send(at, jar, 'GET', done.redirectTo, { accept: 'text/html' }, null), 303, 'GET floor resume');
      const callback = new URL(String(back.headers.location));
      if (callback.searchParams.get('state') !== a.state) throw new Error('floor: wrong state');
      const tokenBody = new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirect_uri: redirectUri, code_verifier: a.verifier, client_id: app.appId }).toString();
      const tokens = JSON.parse(expect(await send(at, null, 'POST', '/floor/token', form, tokenBody), 200, 'POST floor token').text) as { id_token?: string };
      if (!tokens.id_token) throw new Error('floor: no id_token');
      requests += REQUESTS_PER_SIGN_IN;
    };

    const measure = async (vus: number, workload: 'oidc' | 'flow' | 'floor'): Promise<Row> => {
      const run = workload === 'oidc' ? signIn : workload === 'floor' ? floorSignIn : flowOnly;
      const counter = { k: 0 };
      if (WARMUP_SECONDS > 0) {
        auth = authRequestPool(WARMUP_SECONDS);
        await runVirtualUsers(run, WARMUP_SECONDS, vus, counter);
      }
      auth = authRequestPool(SECONDS);
      requests = 0;
      stepMs = new Array<number>(STEPS.length).fill(0);
      sampled = 0;
      sampleFailures = 0;
      firstSampleFailure = undefined;
      const st0 = await target.statements?.();
      const top0 = await statementStats(target.env.DATABASE_URL);
      const stop = cpuWindow((floor?.process ?? server).child.pid, target.postmasterPid, target.name === 'PGlite');
      const r = await runVirtualUsers(run, SECONDS, vus, counter);
      const cpu = stop();
      const st1 = await target.statements?.();
      const top1 = top0 ? await statementStats(target.env.DATABASE_URL) : undefined;
      const st = st0 && st1 ? statementDelta(st0, st1) : undefined;
      const n = r.flows;
      const ours = cpu.server === undefined ? undefined : cpu.bench + cpu.server + (cpu.postgres ?? 0);
      const sorted = r.latenciesMs.sort((x, y) => x - y);
      const row: Row = {
        workload, vus, signInsPerSec: n / r.elapsed, reqPerSec: requests / r.elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99),
        errors: r.errors, non2xx: r.non2xx, statuses: [...r.statuses].map(([s, c]) => `${s}×${c}`).join(' '), firstFailure: r.firstFailure,
        serverCpuPct: cpu.server === undefined ? undefined : (cpu.server / r.elapsed) * 100,
        serverCpuMs: cpu.server === undefined || !n ? undefined : (cpu.server * 1000) / n,
        pgCpuMs: cpu.postgres === undefined || !n ? undefined : (cpu.postgres * 1000) / n,
        benchCpuPct: (cpu.bench / r.elapsed) * 100, benchCpuMs: n ? (cpu.bench * 1000) / n : NaN,
        clientShare: ours ? (cpu.bench / ours) * 100 : undefined,
        otherCpuPct: cpu.other === undefined ? undefined : (cpu.other / r.elapsed) * 100,
        statements: st && n ? st.statements / n : undefined, commits: st && n ? st.xactCommits / n : undefined,
        sampled, sampleFailures, firstSampleFailure,
        stepMs: stepMs.map((ms) => (n ? ms / n : NaN)),
        top: top0 && top1 && n ? topStatements(top0, top1, n) : undefined,
      };
      log(`${target.name} ${workload === 'oidc' ? 'OIDC' : workload === 'floor' ? 'floor' : 'flow API only'} × ${vus}: ${row.signInsPerSec.toFixed(0)} sign-ins/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, ${row.errors} errors, ${row.non2xx} non-2xx ${row.statuses}; ID tokens checked ${sampled}, ${sampleFailures} failed${row.firstFailure ? `; first failure: ${row.firstFailure}` : ''}`);
      return row;
    };

    const rows: Row[] = [];
    load.push(machineLoad());
    for (const vus of CONCURRENCIES) {
      rows.push(await measure(vus, 'oidc'));
      if (WITH_REFERENCE) rows.push(await measure(vus, 'flow'));
    }
    if (WITH_FLOOR && target.env.DATABASE_URL) {
      // Gatehouse's server stops first: the floor has the machine to itself (with PostgreSQL and the client).
      await server.stop();
      const started = await startFloor(target.env.DATABASE_URL, USERS);
      floor = { base: started.base, keys: started.keys, process: started.floor };
      try {
        for (const vus of CONCURRENCIES) rows.push(await measure(vus, 'floor'));
      } finally {
        await started.floor.stop();
      }
    }
    load.push(machineLoad());
    return { rows, serverLog: server.logLines, load };
  } finally {
    await server.stop();
  }
}

// ---------- report ----------

function table(rows: Row[], withPg: boolean, withStatements: boolean, load: string[]): string {
  const fmt = (v: number | undefined, d: number) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
  const lines = [
    `| workload | VUs | sign-ins/s | req/s | p50 ms | p99 ms | server CPU % | server CPU ms/sign-in |${withPg ? ' PostgreSQL CPU ms/sign-in |' : ''}${withStatements ? ' statements/sign-in | commits/sign-in |' : ''} client CPU % | client CPU ms/sign-in | client share of CPU % | other load CPU % | errors / non-2xx | ID tokens checked (amr has fido) |`,
    `|---|--:|--:|--:|--:|--:|--:|--:|${withPg ? '--:|' : ''}${withStatements ? '--:|--:|' : ''}--:|--:|--:|--:|---|---|`,
  ];
  for (const r of rows) {
    const bad = `${r.errors} / ${r.non2xx}${r.statuses ? ` (${r.statuses})` : ''}`;
    lines.push(`| ${r.workload === 'oidc' ? `OIDC sign-in (${REQUESTS_PER_SIGN_IN} req)` : r.workload === 'floor' ? `floor: OIDC sign-in (${REQUESTS_PER_SIGN_IN} req, bench/floor-server.ts)` : 'flow API only (2 req)'} | ${r.vus} | ${r.signInsPerSec.toFixed(0)} | ${r.reqPerSec.toFixed(0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.serverCpuPct, 0)} | ${fmt(r.serverCpuMs, 2)} |${withPg ? ` ${fmt(r.pgCpuMs, 2)} |` : ''}${withStatements ? ` ${fmt(r.statements, 1)} | ${fmt(r.commits, 1)} |` : ''} ${r.benchCpuPct.toFixed(0)} | ${fmt(r.benchCpuMs, 2)} | ${fmt(r.clientShare, 0)} | ${fmt(r.otherCpuPct, 0)} | ${bad} | ${r.sampled - r.sampleFailures} of ${r.sampled} ok |`);
  }
  const steps = [
    '',
    'Mean wall time per step of one sign-in (ms; client work and queueing included):',
    '',
    `| VUs | ${STEPS.join(' | ')} |`,
    `|--:|${STEPS.map(() => '--:').join('|')}|`,
    ...rows.filter((r) => r.workload === 'oidc').map((r) => `| ${r.vus} | ${r.stepMs.map((v) => fmt(v, 2)).join(' | ')} |`),
  ];
  const failures = rows.flatMap((r) => [
    ...(r.firstFailure ? [`- ${r.workload} ${r.vus} VUs: first failure: ${r.firstFailure}`] : []),
    ...(r.firstSampleFailure ? [`- ${r.vus} VUs: first ID token check failure: ${r.firstSampleFailure}`] : []),
  ]);
  const tops = rows.filter((r) => r.top && r.workload === 'oidc').slice(-1).flatMap((r) => ['', `Statements per OIDC sign-in at ${r.vus} VUs, most frequent first (pg_stat_statements, top ${TOP_STATEMENTS}; BEGIN/COMMIT included):`, '', r.top!]);
  const machine = ['', 'Machine load before and after (`uptime`, `top -bn1`):', '', '```', load.join('\n---\n'), '```'];
  return [lines.join('\n'), ...steps, ...(failures.length ? ['', ...failures] : []), ...tops, ...machine].join('\n');
}

await runBench({
  watchdogSeconds: DATABASES.length * (CONCURRENCIES.length * (SECONDS + WARMUP_SECONDS + 2 * REQUEST_TIMEOUT_MS / 1000 + 20) + 6 * SETUP_TIMEOUT_MS / 1000),
  title: '# Gatehouse OIDC passkey sign-in bench',
  about: [
    `${SECONDS} s per concurrency after ${WARMUP_SECONDS} s warm-up; ${CONCURRENCIES.join(', ')} virtual users (VUs), each looping over complete sign-ins in a fresh browser`,
    `(${CLIENT === 'http' ? 'node:http' : 'fetch'} with keep-alive in the bench process, cookies and redirects by hand; server in a child process). ${USERS} users with a passkey`,
    `(software authenticator, zero counter), rotating per sign-in; one confidential web app (client_secret_post + PKCE S256), scope '${SCOPE}'.`,
    `A sign-in: authorize → ${WITH_PAGE ? 'sign-in page → ' : ''}flow start with passkey options (interactionUid, passkeyOptions: {}) → assertion → passkey step (grant) → complete → resume → token:`,
    `${REQUESTS_PER_SIGN_IN} requests. p50/p99: one whole sign-in, client work (ECDSA signing, JSON) included. ID tokens: every ${SAMPLE_EVERY}th verified (RS256, aud, nonce, sub, amr has fido).`,
    'Server CPU: the gatehouse process (100 % = one core; PGlite runs inside it). PostgreSQL CPU: the throwaway server\'s processes. Client: this process;',
    'its share: of the CPU client + server + PostgreSQL used. Other load: the rest of the machine\'s busy CPU over the window, % of one core.',
    'statements/sign-in: top-level statements, BEGIN/COMMIT apart (pg_stat_statements); commits/sign-in: transactions (pg_stat_database).',
  ],
  pgliteDescribe: 'PGlite (embedded, WASM PostgreSQL inside the server process, fsync off), fresh temp dir',
  noteUndroppedDatabase: true,
  async bench(target) {
    const { rows, serverLog, load } = await benchDatabase(target);
    return { table: table(rows, target.postmasterPid !== undefined, target.statements !== undefined, load), serverLog };
  },
});
