import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError } from '../../domain/errors.ts';
import { permits, ROUTE_PERMISSIONS, type RouteScope } from '../../domain/directory.ts';
import type { CollectionQuery } from '../../domain/odata.ts';
import type { Page } from '../../domain/resources.ts';
import { project } from '../../domain/odata.ts';
import type { GraphCaller } from '../../oidc/graphTokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    caller: GraphCaller;
  }
  interface FastifyContextConfig {
    /** Which Graph permission family the route needs (DIR-6). */
    scope?: RouteScope;
  }
}

export function requireScope(req: FastifyRequest, scope: RouteScope): void {
  if (!permits(req.caller.permissions, scope)) {
    throw new ForbiddenError(
      `Insufficient privileges to complete the operation: this call needs one of ${ROUTE_PERMISSIONS[scope].join(', ')}.`,
      `app ${req.caller.appId} holds [${req.caller.permissions.join(', ')}]`,
    );
  }
}

export type GraphUrls = { base: string };

export function collection<T extends Record<string, unknown>>(
  urls: GraphUrls, req: FastifyRequest, entitySet: string, page: Page<T>, query: CollectionQuery,
) {
  const body: Record<string, unknown> = {
    '@odata.context': `${urls.base}/graph/v1.0/$metadata#${entitySet}${query.select ? `(${query.select.join(',')})` : ''}`,
    value: page.items.map((i) => project(i, query.select)),
  };
  if (page.nextSkipToken) {
    const u = new URL(`${urls.base}${req.url.split('?')[0]}`);
    const q = req.query as Record<string, string>;
    for (const [k, v] of Object.entries(q)) if (k !== '$skiptoken' && typeof v === 'string') u.searchParams.set(k, v);
    u.searchParams.set('$skiptoken', page.nextSkipToken);
    body['@odata.nextLink'] = u.href;
  }
  return body;
}

export function entity<T extends object>(urls: GraphUrls, entitySet: string, obj: T) {
  return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#${entitySet}/$entity`, ...obj };
}

export function noContent(reply: FastifyReply): FastifyReply {
  return reply.status(204).send();
}
