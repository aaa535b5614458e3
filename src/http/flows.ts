import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { startSignIn, SignInRefused, type SignInContext } from '../flows/sign-in/flow.ts';
import { passkeyOptions, signInWithPasskey, startPasskeySignIn } from '../flows/sign-in/passkey.ts';
import { signInWithTap } from '../flows/sign-in/tap.ts';
import { registerPasskeyInFlow, registrationOptionsInFlow } from '../flows/sign-in/register.ts';
import { deleteSecurityInfoMethod, renameSecurityInfoPasskey, securityInfoMethods } from '../flows/sign-in/securityInfo.ts';
import { signInWithPassword, signInWithTotp } from '../flows/sign-in/passwordAndTotp.ts';
import { snoozeCampaign } from '../flows/sign-in/campaign.ts';
import type { RelyingParty } from '../flows/methods/passkeys.ts';
import { guid, parseInput } from '../domain/validation.ts';
import type { Db } from '../store/database.ts';
import type { Metrics } from './metrics.ts';
import { isGuid } from '../domain/validation.ts';
import { NotFoundError } from '../domain/errors.ts';

type FlowParams = { Params: { tenantId: string; flowId: string } };
const startBody = z.strictObject({
  clientId: guid.optional(),
  /** The user action the sign-in is for (CA-2): security-info or device registration. */
  userAction: z.enum(['urn:user:registersecurityinfo', 'urn:user:registerdevice', 'registerSecurityInformation', 'registerOrJoinDevices'], "must be 'urn:user:registersecurityinfo' or 'urn:user:registerdevice'").optional(),
  /** Authentication contexts the app asked for (CA-7). */
  authenticationContexts: z.array(z.string().regex(/^c([1-9]|[1-9][0-9])$/, 'must be c1-c99')).max(10).optional(),
  /** What the client can do: the page reports WebAuthn support (PLT-4, PLT-5). */
  capabilities: z.strictObject({ webauthn: z.boolean() }).optional(),
  /** CA-2: the sign-in completes an OAuth device authorization grant (set by the sign-in page; checked at completion). */
  transferMethod: z.enum(['deviceCodeFlow'], "must be 'deviceCodeFlow'").optional(),
  /** The OIDC interaction this sign-in is for (set by the sign-in page). */
  interactionUid: z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'must be an interaction id').optional(),
  /** `{}`: also answer usernameless passkey request options for the new flow (what `…/passkey/options {}` answers). */
  passkeyOptions: z.strictObject({}, 'must be {} (usernameless options; for username-first sign-in call passkey/options with a username)').optional(),
});
const USER_ACTIONS = { registerSecurityInformation: 'urn:user:registersecurityinfo', registerOrJoinDevices: 'urn:user:registerdevice' } as const;

/**
 * The flow API (docs/flows.md): every step a browser page does, a native or headless client can
 * do too. JSON in, JSON out; errors use the same body as the Graph API.
 */
export function flowRoutes(app: FastifyInstance, db: Db, rp: RelyingParty, metrics: Metrics, clock: () => Date = () => new Date()): void {
  const ctx = (req: FastifyRequest<{ Params: { tenantId: string } }>): SignInContext => {
    if (!isGuid(req.params.tenantId)) throw new NotFoundError('tenant', req.params.tenantId);
    const ua = req.headers['user-agent'];
    return { db, tenantId: req.params.tenantId.toLowerCase(), now: clock(), ipAddress: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
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
    const userAction = body.userAction ? (USER_ACTIONS[body.userAction as keyof typeof USER_ACTIONS] ?? body.userAction as 'urn:user:registersecurityinfo' | 'urn:user:registerdevice') : null;
    const options = {
      appId: body.clientId ?? null, userAction, authenticationContexts: body.authenticationContexts ?? [],
      capabilities: body.capabilities ?? { webauthn: false }, interactionUid: body.interactionUid ?? null,
      ...(body.transferMethod ? { transferMethod: body.transferMethod } : {}),
    };
    return reply.status(201).send(body.passkeyOptions ? await startPasskeySignIn(c, rp, options) : await startSignIn(db, c.tenantId, options, c.now));
  });
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/tap', async (req, reply) => counted(reply, signInWithTap(ctx(req), req.params.flowId, req.body)));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/password', async (req, reply) => counted(reply, signInWithPassword(ctx(req), req.params.flowId, req.body)));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/totp', async (req, reply) => counted(reply, signInWithTotp(ctx(req), req.params.flowId, req.body)));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/passkey/options', async (req) => passkeyOptions(ctx(req), rp, req.params.flowId, req.body));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/passkey', async (req, reply) => counted(reply, signInWithPasskey(ctx(req), rp, req.params.flowId, req.body)));
  // Registering a passkey inside the sign-in (PLT-4, or a security-info visit): decided as the security-info action.
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/register/options', async (req) => registrationOptionsInFlow(ctx(req), rp, req.params.flowId));
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/register', async (req, reply) => reply.status(201).send(await registerPasskeyInFlow(ctx(req), rp, req.params.flowId, req.body)));
  // PLT-5: "Not now" on the registration campaign's nudge of a granted sign-in.
  app.post<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/campaign/snooze', async (req) => snoozeCampaign(ctx(req), req.params.flowId));
  // The security-info portal's calls (MTH-3 self-service), each decided as the security-info action.
  type MethodParams = { Params: { tenantId: string; flowId: string; methodId: string } };
  app.get<FlowParams>('/api/flows/:tenantId/sign-in/:flowId/security-info/methods', async (req) => ({ value: await securityInfoMethods(ctx(req), req.params.flowId) }));
  app.patch<MethodParams>('/api/flows/:tenantId/sign-in/:flowId/security-info/methods/:methodId', async (req) => renameSecurityInfoPasskey(ctx(req), req.params.flowId, req.params.methodId, req.body));
  app.delete<MethodParams>('/api/flows/:tenantId/sign-in/:flowId/security-info/methods/:methodId', async (req, reply) => {
    await deleteSecurityInfoMethod(ctx(req), req.params.flowId, req.params.methodId);
    return reply.status(204).send();
  });
}
