import type { FastifyInstance } from 'fastify';
import { whatIf } from '../../flows/policies/whatIf.ts';
import type { Db } from '../../store/database.ts';
import type { GraphUrls } from './context.ts';

/** WIF-1: POST /identity/conditionalAccess/evaluate, Graph's What-If with Gatehouse's decision beside it. */
export function whatIfRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  app.post('/identity/conditionalAccess/evaluate', async (req) => {
    const r = await whatIf(db, req.caller.tenantId, req.caller, req.body, new Date());
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#Collection(microsoft.graph.whatIfAnalysisResult)`, ...r };
  });
}
