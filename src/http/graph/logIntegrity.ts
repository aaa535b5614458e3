import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { permits } from '../../domain/directory.ts';
import { ForbiddenError } from '../../domain/errors.ts';
import { exportLogLines, exportOptions } from '../../flows/logs/export.ts';
import { verifyAuditChain } from '../../flows/logs/integrity.ts';
import { patchLogRetentionPolicy, readLogRetentionPolicy } from '../../flows/logs/retention.ts';
import type { Db } from '../../store/database.ts';
import { requireScope, type GraphUrls } from './context.ts';

/**
 * LOG-3 and LOG-4 over the admin API (docs/logs-integrity.md): the chain verification report,
 * the NDJSON export, and the tenant's retention windows (Gatehouse's own resources).
 */
export function logIntegrityRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  // LOG-3: the same report as `gatehouse audit verify --json`; 200 whether intact or not (read `intact`).
  app.get('/auditLogs/gatehouseVerify', async (req) => {
    requireScope(req, 'audit.read');
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#gatehouseAuditChainReport`, ...(await verifyAuditChain(db, req.caller.tenantId)) };
  });

  // LOG-4: ?kind=signIns|directoryAudits&since=…&until=… as application/x-ndjson, streamed.
  app.get('/auditLogs/gatehouseExport', async (req, reply) => {
    requireScope(req, 'audit.read');
    const options = exportOptions(req.query as Record<string, unknown>);
    return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(exportLogLines(db, req.caller.tenantId, options)));
  });

  const retention = '/policies/gatehouseLogRetentionPolicy';
  const context = `${urls.base}/graph/v1.0/$metadata#gatehouseLogRetentionPolicy`;
  app.get(retention, async (req) => {
    if (!permits(req.caller.permissions, 'policy.read') && !permits(req.caller.permissions, 'audit.read')) {
      throw new ForbiddenError('Insufficient privileges to complete the operation: this call needs Policy.Read.All (or a Policy.ReadWrite permission) or AuditLog.Read.All.');
    }
    return { '@odata.context': context, ...(await readLogRetentionPolicy(db, req.caller.tenantId)) };
  });
  app.patch(retention, async (req) => ({
    '@odata.context': context,
    ...(await patchLogRetentionPolicy({ db, tenantId: req.caller.tenantId, actor: req.caller, now: new Date(), ipAddress: req.ip }, req.body)),
  }));
}
