import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply } from 'fastify';
import type { Config } from '../config.ts';
import { GraphTokenVerifier } from '../oidc/graphTokens.ts';
import { TenantProviders } from '../oidc/provider.ts';
import { pingDatabase, type OpenDatabase } from '../store/database.ts';
import { errorHandler, graphErrorBody } from './errors.ts';
import { applicationRoutes } from './graph/applications.ts';
import { groupRoutes } from './graph/groups.ts';
import { roleRoutes } from './graph/roles.ts';
import { userRoutes } from './graph/users.ts';
import { Metrics } from './metrics.ts';
import { methodRoutes } from './graph/methods.ts';
import { policyRoutes } from './graph/policies.ts';
import { policyImportRoutes } from './graph/policyImport.ts';
import { whatIfRoutes } from './graph/whatIf.ts';
import { logIntegrityRoutes } from './graph/logIntegrity.ts';
import { replayRoutes } from './graph/replay.ts';
import { auditLogRoutes } from './graph/auditLogs.ts';
import { meRoutes } from './graph/me.ts';
import { flowRoutes } from './flows.ts';
import { loadAuthenticatorCatalog, type AuthenticatorCatalog } from '../methods/passkey/index.ts';
import type { RelyingParty } from '../flows/methods/passkeys.ts';
import { oidcRoutes } from './oidcMount.ts';
import { signInPageRoutes } from './pages/signIn.ts';
import { recoveryRoutes } from './recovery.ts';
import { devicePageRoutes, devicePages } from './pages/device.ts';
import { portalRoutes } from './pages/portal.ts';
import { consoleRoutes } from './pages/console.ts';

export type ServerDeps = {
  database: OpenDatabase; config: Config; logger?: boolean; catalog?: AuthenticatorCatalog;
  /**
   * The time sign-in decisions are taken at: the flow API (every step of the sign-in page and the
   * portal's sign-ins), /me and oidc-provider's refresh re-decisions. Default: the wall clock;
   * tests move it (PLT-2 freshness, PLT-5 snoozes) without waiting.
   */
  clock?: () => Date;
};

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'publickey-credentials-get=(self), publickey-credentials-create=(self)',
};

/** The HTTP surface: health, metrics, per-tenant OIDC and the Graph-shaped admin API. Thin by design. */
export async function buildServer(deps: ServerDeps) {
  const { database, config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const { db } = database;
  const metrics = new Metrics();
  metrics.setPoolStats(() => database.poolStats());

  const app = Fastify({
    logger: deps.logger === false ? false : { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: typeof config.trustProxy === 'number' ? ((_addr: string, hop: number) => hop < (config.trustProxy as number)) : config.trustProxy,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 500 },
    // Fastify answers malformed URLs itself unless told otherwise: keep the Graph error body.
    frameworkErrors: (err, req, reply) => {
      const r = reply as unknown as FastifyReply;
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) r.header(k, v);
      void r.status(400).header('request-id', req.id).header('client-request-id', req.id)
        .send(graphErrorBody(req, 'Request_BadRequest', `The request URL is not valid: ${err.message}.`));
    },
  });
  // JSON routes take JSON only: text/plain gets 415 like every other type.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => reply.status(404).send(graphErrorBody(req, 'Request_ResourceNotFound', `No resource at ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}.`)));

  app.addHook('onSend', async (req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    if (config.publicBaseUrl.startsWith('https:')) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    reply.header('request-id', req.id);
    reply.header('client-request-id', req.headers['client-request-id'] ?? req.id);
    if (req.url.startsWith('/graph/')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.sent && req.routeOptions.url?.startsWith('/:tenantId/v2.0')) return; // hijacked OIDC routes count themselves
    metrics.observeRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await pingDatabase(db);
      return { status: 'ready', database: database.kind };
    } catch (err) {
      reply.log.warn({ err }, 'database not reachable');
      return reply.status(503).send({ status: 'unavailable', database: database.kind });
    }
  });
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));

  const urls = { base: config.publicBaseUrl };
  const rp: RelyingParty = { ...config.webauthn, origins: config.webauthn.origins, catalog: deps.catalog ?? await loadAuthenticatorCatalog({ metadataPaths: config.fidoMetadataPaths }) };
  const verifier = new GraphTokenVerifier(db, config.publicBaseUrl);
  await app.register(async (graph) => {
    graph.decorateRequest('caller', null as never);
    graph.addHook('onRequest', async (req) => {
      req.caller = await verifier.verify(req.headers.authorization);
    });
    userRoutes(graph, db, urls);
    groupRoutes(graph, db, urls);
    roleRoutes(graph, db, urls);
    applicationRoutes(graph, db, urls);
    methodRoutes(graph, db, urls, rp);
    policyRoutes(graph, db, urls);
    policyImportRoutes(graph, db);
    whatIfRoutes(graph, db, urls);
    logIntegrityRoutes(graph, db, urls);
    replayRoutes(graph, db, urls);
    auditLogRoutes(graph, db, urls);
    meRoutes(graph, db, urls, rp, clock);
  }, { prefix: '/graph/v1.0' });
  await app.register(async (scope) => recoveryRoutes(scope, db, verifier), { prefix: '/api/recovery' });
  flowRoutes(app, db, rp, metrics, clock);

  const providers = new TenantProviders(db, { publicBaseUrl: config.publicBaseUrl, trustProxy: config.trustProxy !== false, devicePages: devicePages(), ...(deps.clock ? { now: deps.clock } : {}) });
  await app.register(async (scope) => oidcRoutes(scope, providers, metrics));
  // Completing and aborting an interaction stay on the wall clock: oidc-provider's interactions and grants live by it.
  signInPageRoutes(app, db, providers);
  devicePageRoutes(app);
  portalRoutes(app, db, config.publicBaseUrl);
  consoleRoutes(app, db, config.publicBaseUrl, verifier);

  return { app, metrics };
}
