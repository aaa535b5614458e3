import type { FastifyInstance, FastifyRequest } from 'fastify';
import { approveCase, cancelCase, getCase, listRecoveryCases, openCase, restoreMethods, type RecoveryContext } from '../flows/recovery/cases.ts';
import { patchRecoveryPolicy, readRecoveryPolicy } from '../flows/recovery/policy.ts';
import type { GraphTokenVerifier } from '../oidc/graphTokens.ts';
import type { Db } from '../store/database.ts';

type CaseParams = { Params: { id: string } };

/**
 * `/api/recovery` (RCV-1..RCV-3, docs/recovery.md): recovery cases and the recovery policy.
 * Authenticated like the Graph API (a bearer token from the tenant's token endpoint): app callers
 * need UserAuthenticationMethod.ReadWrite.All (reads: .Read.All), user callers the roles TAP-9
 * names; the flows check both. Register with a prefix: `app.register((s) => recoveryRoutes(s, db, verifier), { prefix: '/api/recovery' })`.
 */
export function recoveryRoutes(app: FastifyInstance, db: Db, verifier: GraphTokenVerifier): void {
  const ctx = async (req: FastifyRequest): Promise<RecoveryContext> => {
    const caller = await verifier.verify(req.headers.authorization);
    return { db, tenantId: caller.tenantId, actor: caller, now: new Date(), ipAddress: req.ip };
  };
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  app.post('/cases', async (req, reply) => reply.status(201).send(await openCase(await ctx(req), req.body)));
  app.get('/cases', async (req) => ({ value: await listRecoveryCases(await ctx(req), req.query) }));
  app.get<CaseParams>('/cases/:id', async (req) => getCase(await ctx(req), req.params.id));
  app.post<CaseParams>('/cases/:id/approve', async (req) => approveCase(await ctx(req), req.params.id, req.body));
  app.post<CaseParams>('/cases/:id/cancel', async (req) => cancelCase(await ctx(req), req.params.id, req.body));
  app.post<CaseParams>('/cases/:id/restore', async (req) => restoreMethods(await ctx(req), req.params.id, req.body));

  app.get('/policy', async (req) => {
    const c = await ctx(req);
    return readRecoveryPolicy(db, c.tenantId, c.actor);
  });
  app.patch('/policy', async (req) => {
    const c = await ctx(req);
    return patchRecoveryPolicy(db, c.tenantId, c.actor, req.body, c.now, req.ip);
  });
}
