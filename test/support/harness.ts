import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.ts';
import { initTenant, type InitResult } from '../../src/flows/init/flow.ts';
import { buildServer } from '../../src/http/server.ts';
import { migrate, openDatabase, type OpenDatabase } from '../../src/store/database.ts';

/**
 * A real server on a free loopback port over a real database: in-memory PGlite by default, or a
 * fresh PostgreSQL database per harness when TEST_DATABASE_URL is set (the PostgreSQL tier).
 */
export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
export const databaseKind = onPostgres ? 'postgres' : 'pglite';

/** Creates an empty PostgreSQL database for one test file; returns its URL and a dropper. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.TEST_DATABASE_URL!;
  const name = `gh_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.href,
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

export type Harness = {
  baseUrl: string;
  config: Config;
  database: OpenDatabase;
  tenant: InitResult;
  /** A Graph access token from the tenant's token endpoint for the init automation app. */
  token(): Promise<string>;
  /** fetch against the server with JSON in and out. */
  call(method: string, path: string, opts?: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
};

/**
 * `env` adds configuration variables (e.g. GATEHOUSE_BODY_LIMIT_BYTES) to the server's. `clock`
 * is the time sign-in decisions are taken at (ServerDeps.clock): every flow API step (so the
 * sign-in page's and the portal's sign-ins), /me, and oidc-provider's refresh re-decisions. A test
 * moves it to see PLT-2 freshness run out or a PLT-5 snooze end, without waiting. The Graph admin
 * API, completing an interaction and oidc-provider's own artefacts keep the wall clock (so a
 * pass a test issues for a moved clock needs an explicit `startDateTime`).
 */
export async function startHarness(opts: { tenant?: string; admin?: string; env?: Record<string, string>; clock?: () => Date } = {}): Promise<Harness> {
  const pgdb = onPostgres ? await freshPostgresDatabase() : undefined;
  const database = await openDatabase({ databaseUrl: pgdb?.url, dataDir: 'memory://', purpose: 'test', poolMax: 5 });
  await migrate(database.db);
  const port = await freePort();
  const config: Config = { ...loadConfig({ PORT: String(port), GATEHOUSE_PUBLIC_URL: `http://localhost:${port}`, ...opts.env }), dataDir: 'memory://', databaseUrl: pgdb?.url, logLevel: 'silent' };
  const { app } = await buildServer({ database, config, logger: false, ...(opts.clock ? { clock: opts.clock } : {}) });
  await app.listen({ port, host: 'localhost' }); // WebAuthn RP ids can't be IP addresses
  const tenant = await initTenant(database.db, { tenant: opts.tenant ?? 'Contoso', admin: opts.admin ?? 'admin@contoso.test' }, config.publicBaseUrl, new Date());
  let cached: string | undefined;
  const baseUrl = config.publicBaseUrl;
  const call: Harness['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const tok = o.token === undefined ? await h.token() : o.token;
    if (tok) headers.authorization = `Bearer ${tok}`;
    let body: string | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    if (o.rawBody !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const h: Harness = {
    baseUrl,
    config,
    database,
    tenant,
    async token() {
      if (cached) return cached;
      cached = await clientCredentialsToken(tenant.tokenEndpoint, tenant.automation.clientId, tenant.automation.clientSecret);
      return cached;
    },
    call,
    async close() {
      await app.close();
      await database.close();
      await pgdb?.drop();
    },
  };
  return h;
}

export async function clientCredentialsToken(tokenEndpoint: string, clientId: string, clientSecret: string): Promise<string> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A confidential web app (Graph: created 201, a client secret added 200) redirecting to `redirectUri`; returns its appId and secret. */
export async function createWebApp(h: Harness, displayName: string, redirectUri: string): Promise<{ appId: string; secret: string }> {
  const app = await h.call('POST', '/graph/v1.0/applications', { body: { displayName, web: { redirectUris: [redirectUri] } } });
  assert.equal(app.status, 201, JSON.stringify(app.body));
  const secret = await h.call('POST', `/graph/v1.0/applications/${app.body.id}/addPassword`, { body: {} });
  assert.equal(secret.status, 200, JSON.stringify(secret.body));
  return { appId: app.body.appId as string, secret: secret.body.secretText as string };
}

/** A loopback port nobody listens on right now (the public URL must be known before start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
