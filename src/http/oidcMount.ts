import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGuid } from '../domain/validation.ts';
import { withOfflineAccessConsent } from '../oidc/interactions.ts';
import type { TenantProviders } from '../oidc/provider.ts';
import { graphErrorBody } from './errors.ts';
import type { Metrics } from './metrics.ts';

/**
 * Mounts each tenant's oidc-provider under /{tenantId}/v2.0. oidc-provider reads request bodies
 * itself, so this scope has no body parser; the reply is hijacked, which skips Fastify's
 * onSend/onResponse hooks, so these routes log and count themselves.
 */
export async function oidcRoutes(app: FastifyInstance, providers: TenantProviders, metrics: Metrics): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  const handler = async (req: FastifyRequest<{ Params: { tenantId: string } }>, reply: FastifyReply) => {
    const { tenantId } = req.params;
    const provider = isGuid(tenantId) ? await providers.get(tenantId.toLowerCase()) : undefined;
    if (!provider) {
      return reply.status(404).send(graphErrorBody(req, 'TenantNotFound', `Tenant '${tenantId.slice(0, 64)}' does not exist on this server.`));
    }
    const started = process.hrtime.bigint();
    reply.hijack();
    const raw = req.raw as typeof req.raw & { originalUrl?: string };
    const prefix = `/${tenantId}/v2.0`;
    raw.originalUrl = raw.url;
    raw.url = raw.url!.slice(prefix.length) || '/';
    if (req.method === 'GET' && raw.url.startsWith('/auth?')) {
      // Registered apps are admin-consented: offline_access needs no prompt=consent (interactions.ts).
      raw.url = withOfflineAccessConsent(raw.url);
      // oidc-provider finds its mount path as the part of originalUrl before url.
      raw.originalUrl = `${prefix}${raw.url}`;
    }
    reply.raw.setHeader('x-request-id', req.id);
    reply.raw.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = `/{tenant}/v2.0${raw.url!.split('?')[0]}`;
      metrics.observeRequest(req.method, route.length > 80 ? '/{tenant}/v2.0/*' : route, reply.raw.statusCode, seconds);
      req.log.info({ method: req.method, url: `${prefix}${raw.url!.split('?')[0]}`, statusCode: reply.raw.statusCode, responseTime: seconds * 1000 }, 'oidc request completed');
    });
    await provider.callback()(raw, reply.raw);
  };
  app.all('/:tenantId/v2.0', handler);
  app.all('/:tenantId/v2.0/*', handler);
}
