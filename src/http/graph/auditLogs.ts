import type { FastifyInstance, FastifyRequest } from 'fastify';
import { permits, ROLE_TEMPLATES, ROUTE_PERMISSIONS } from '../../domain/directory.ts';
import { ForbiddenError, ValidationError } from '../../domain/errors.ts';
import { parseLambdaCollectionQuery, project, type LambdaCollectionQuery } from '../../domain/odata.ts';
import type { Db } from '../../store/database.ts';
import {
  AUDIT_FIELDS, AUDIT_LAMBDAS, AUDIT_PROPERTIES, getDirectoryAudit, getSignIn, listDirectoryAudits, listSignIns, listSignInsRaw, SIGN_IN_FIELDS, SIGN_IN_PROPERTIES,
} from '../../store/logQueries.ts';
import { collection, entity, type GraphUrls } from './context.ts';

type Id = { Params: { id: string } };

/** `$top`: Graph's default page of the sign-in log is 1000 at most; Gatehouse defaults to 50 and caps at 1000 (docs/logs.md). */
export const LOG_DEFAULT_TOP = 50;
export const LOG_MAX_TOP = 1000;

const role = (name: string) => ROLE_TEMPLATES.find((r) => r.displayName === name)!.id;
/** Directory roles that may read the sign-in and audit logs (Graph's least-privileged roles for auditLogs). */
export const LOG_READER_ROLES: readonly string[] = ['Global Administrator', 'Global Reader', 'Security Administrator', 'Security Reader', 'Reports Reader'].map(role);

/**
 * LOG-4 access: an app needs AuditLog.Read.All; a user (a delegated token of the admin console)
 * needs one of LOG_READER_ROLES. Anyone else: 403 naming what is needed.
 */
export function authorizeLogRead(caller: { kind: string; appId?: string; permissions?: readonly string[]; roles?: readonly string[] }): void {
  if (caller.kind === 'user') {
    if ((caller.roles ?? []).some((r) => LOG_READER_ROLES.includes(r))) return;
    throw new ForbiddenError(
      'Insufficient privileges to complete the operation: reading audit logs needs one of the roles Global Administrator, Global Reader, Security Administrator, Security Reader, Reports Reader.',
      `user holds roles [${(caller.roles ?? []).join(', ')}]`,
    );
  }
  if (!permits(caller.permissions ?? [], 'audit.read')) {
    throw new ForbiddenError(
      `Insufficient privileges to complete the operation: this call needs one of ${ROUTE_PERMISSIONS['audit.read'].join(', ')}.`,
      `app ${caller.appId ?? '?'} holds [${(caller.permissions ?? []).join(', ')}]`,
    );
  }
}

/** `/auditLogs/signIns` and `/auditLogs/directoryAudits` (LOG-1, LOG-2, LOG-4): Graph's paths, JSON and query options. */
export function auditLogRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  const parse = (req: FastifyRequest, fields: readonly string[], lambdas: Record<string, readonly string[]>, selectFields: readonly string[]): { query: LambdaCollectionQuery; rawFilter: string | undefined } => {
    const q = req.query as Record<string, unknown>;
    const query = parseLambdaCollectionQuery(q, { filterFields: fields, lambdas, selectFields, defaultTop: LOG_DEFAULT_TOP, maxTop: LOG_MAX_TOP });
    return { query, rawFilter: typeof q.$filter === 'string' ? q.$filter : undefined };
  };
  const selectOnly = (req: FastifyRequest, selectFields: readonly string[]) => {
    const q = req.query as Record<string, unknown>;
    const extra = Object.keys(q).find((k) => k !== '$select');
    if (extra) throw new ValidationError(extra.slice(0, 50), 'unsupportedQueryOption', `Query option '${extra.slice(0, 50)}' is not supported on a single record; supported: $select.`);
    return parseLambdaCollectionQuery(q, { filterFields: [], lambdas: {}, selectFields }).select;
  };

  app.get('/auditLogs/signIns', async (req, reply) => {
    authorizeLogRead(req.caller);
    const { query, rawFilter } = parse(req, Object.keys(SIGN_IN_FIELDS), {}, SIGN_IN_PROPERTIES);
    const shape = { ...query, filter: undefined };
    if (query.select) return collection(urls, req, 'auditLogs/signIns', await listSignIns(db, req.caller.tenantId, query, rawFilter), shape);
    // The records as stored (already complete), spliced into the body: a page of 50 sign-ins is
    // ~250 KB of JSON that would otherwise be parsed and serialised again (docs/performance.md).
    const page = await listSignInsRaw(db, req.caller.tenantId, query, rawFilter);
    const shell = collection(urls, req, 'auditLogs/signIns', { items: [], nextSkipToken: page.nextSkipToken }, shape);
    const next = shell['@odata.nextLink'] === undefined ? '' : `,"@odata.nextLink":${JSON.stringify(shell['@odata.nextLink'])}`;
    return reply.type('application/json; charset=utf-8').send(`{"@odata.context":${JSON.stringify(shell['@odata.context'])},"value":[${page.json.join(',')}]${next}}`);
  });
  app.get<Id>('/auditLogs/signIns/:id', async (req) => {
    authorizeLogRead(req.caller);
    const select = selectOnly(req, SIGN_IN_PROPERTIES);
    return entity(urls, 'auditLogs/signIns', project(await getSignIn(db, req.caller.tenantId, req.params.id), select));
  });
  app.get('/auditLogs/directoryAudits', async (req) => {
    authorizeLogRead(req.caller);
    const { query, rawFilter } = parse(req, Object.keys(AUDIT_FIELDS), AUDIT_LAMBDAS, AUDIT_PROPERTIES);
    const page = await listDirectoryAudits(db, req.caller.tenantId, query, rawFilter);
    return collection(urls, req, 'auditLogs/directoryAudits', page, { ...query, filter: undefined });
  });
  app.get<Id>('/auditLogs/directoryAudits/:id', async (req) => {
    authorizeLogRead(req.caller);
    const select = selectOnly(req, AUDIT_PROPERTIES);
    return entity(urls, 'auditLogs/directoryAudits', project(await getDirectoryAudit(db, req.caller.tenantId, req.params.id), select));
  });
}
