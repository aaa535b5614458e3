import type { FastifyInstance } from 'fastify';
import { analyseImpact } from '../../flows/logs/impact.ts';
import { authorizeReplay, replaySignIn, replayTargets } from '../../flows/logs/replay.ts';
import type { Db } from '../../store/database.ts';
import type { GraphUrls } from './context.ts';

/**
 * WIF-2 (docs/replay.md): replay one logged sign-in, and impact analysis of a proposed policy set
 * over a time window. Both need AuditLog.Read.All and a Policy permission (flows/logs/replay.ts).
 */
export function replayRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  app.post<{ Params: { id: string } }>('/auditLogs/signIns/:id/gatehouseReplay', async (req) => {
    const now = new Date();
    authorizeReplay(req.caller);
    const targets = replayTargets(req.body);
    const value = [];
    for (const against of targets) value.push(await replaySignIn(db, req.caller.tenantId, req.caller, req.params.id, { against }, now));
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#Collection(gatehouse.signInReplay)`, signInId: req.params.id, value };
  });
  app.post('/identity/conditionalAccess/gatehouseImpact', async (req) => {
    const report = await analyseImpact(db, req.caller.tenantId, req.caller, req.body, new Date());
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#gatehouse.impactReport`, ...report };
  });
}
