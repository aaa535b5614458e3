import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { startSignIn, SignInRefused, type SignInContext } from '../flows/sign-in/flow.ts';
import { passkeyOptions, signInWithPasskey } from '../flows/sign-in/passkey.ts';
import { signInWithTap } from '../flows/sign-in/tap.ts';
import { signInWithPassword, signInWithTotp } from '../flows/sign-in/passwordAndTotp.ts';
import type { RelyingParty } from '../flows/methods/passkeys.ts';
import { guid, parseInput } from '../domain/validation.ts';
import type { Db } from '../store/database.ts';
import type { Metrics } from './metrics.ts';
import { isGuid } from '../domain/validation.ts';
import { NotFoundError } from '../domain/errors.ts';

type FlowParams = { Params: { tenantId: string; flowId: string } };
const startBody = z.strictObject({ clientId: guid.optional() });

/**
 * The flow API (docs/flows.md): every step a browser page does, a native or headless client can
 * do too. JSON in, JSON out; errors use the same body as the Graph API.
 */
export function flowRoutes(app: FastifyInstance, db: Db, rp: RelyingParty, metrics: Metrics): void {
  const ctx = (req: FastifyRequest<{ Params: { tenantId: string } }>): SignInContext => {
    if (!isGuid(req.params.tenantId)) throw new NotFoundError('tenant', req.params.tenantId);
    const ua = req.headers['user-agent'];
    return { db, tenantId: req.params.tenantId.toLowerCase(), now: new Date(), ipAddress: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
  };
  /** Counts each finished attempt in /metrics as it happens. */
  const counted = async <T>(reply: FastifyReply, step: Promise<T>): Promise<T> => {
    try {
      const r = await step;
      metrics.recordSignIn('success');
      return r;
    } catch (err) {
      if (err instanceof SignInRefused) {
        metrics.recordSignIn('failure', (err.extra?.errorCode as number | undefined) ?? 0);
        if (err.retryAfterSeconds) reply.header('retry-after', String(err.retryAfterSeconds));
      }
      throw err;
    }
  };

  app.post<{ Params: { tenantId: string } }>('/api/flows/:tenantId/sign-in', async (req, reply) => {
    const c = ctx(req);
    const body = parseInput(startBody, req.body ?? {});
    return reply.status(201).send(await startSignIn(db, c.tenantId, body.clientId ?? null, c.now));
  });
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/tap', async (req, reply) => counted(reply, signInWithTap(ctx(req), req.params.flowId, req.body)));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/password', async (req, reply) => counted(reply, signInWithPassword(ctx(req), req.params.flowId, req.body)));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/totp', async (req, reply) => counted(reply, signInWithTotp(ctx(req), req.params.flowId, req.body)));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/passkey/options', async (req) => passkeyOptions(ctx(req), rp, req.params.flowId, req.body));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/passkey', async (req, reply) => counted(reply, signInWithPasskey(ctx(req), rp, req.params.flowId, req.body)));
}
