import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../../domain/errors.ts';
import type { RelyingParty } from '../../flows/methods/passkeys.ts';
import type { SignInContext } from '../../flows/sign-in/flow.ts';
import { registerPasskeyInFlow, registrationOptionsInFlow } from '../../flows/sign-in/register.ts';
import { deleteSecurityInfoMethod, renameSecurityInfoPasskey, securityInfoMethods } from '../../flows/sign-in/securityInfo.ts';
import type { Db } from '../../store/database.ts';
import { findUser } from '../../store/users.ts';
import { noContent, type GraphUrls } from './context.ts';

type MethodParams = { Params: { methodId: string } };

const TYPES = {
  fido2Methods: '#microsoft.graph.fido2AuthenticationMethod',
  temporaryAccessPassMethods: '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
  softwareOathMethods: '#microsoft.graph.softwareOathAuthenticationMethod',
  passwordMethods: '#microsoft.graph.passwordAuthenticationMethod',
} as const;

/**
 * MTH-3's self-service twin: `/me` and `/me/authentication/...` with a delegated token of the
 * security-info portal or the admin console (graphTokens.ts). Every call is the security-info
 * action, decided by the same gate as the flow API's security-info calls (PLT-1..PLT-3, PLT-2
 * freshness for changes), over the methods performed in the sign-in the token came from. A
 * refusal is 403 with the SIG-2 name as `error.code`, the rule's sentence as `error.message`
 * and the decision as `error.decision`; once that sign-in's security-info session (15 minutes)
 * is over, 401 says to sign in again.
 */
export function meRoutes(app: FastifyInstance, db: Db, urls: GraphUrls, rp: RelyingParty, clock: () => Date = () => new Date()): void {
  const caller = (req: FastifyRequest) => {
    const c = req.caller;
    if (c.kind !== 'user') throw new ForbiddenError('/me needs a delegated token (a user signed in to the security-info portal or the admin console); this is an application token.');
    return c;
  };
  /** The sign-in behind the token, for the security-info gate. */
  const session = (req: FastifyRequest): { ctx: SignInContext; flowId: string } => {
    const c = caller(req);
    if (!c.flowId) throw new UnauthorizedError('The security-info session of this sign-in has ended (PLT-2: 15 minutes): sign in to the security-info portal again.');
    const ua = req.headers['user-agent'];
    return { ctx: { db, tenantId: c.tenantId, now: clock(), ipAddress: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null }, flowId: c.flowId };
  };
  /** An expired sign-in flow is a session that ended: 401, not the flow API's 404. */
  const gated = async <T>(req: FastifyRequest, work: (ctx: SignInContext, flowId: string) => Promise<T>): Promise<T> => {
    const { ctx, flowId } = session(req);
    try {
      return await work(ctx, flowId);
    } catch (err) {
      if ((err as { code?: string }).code === 'FlowExpired') {
        throw new UnauthorizedError('The security-info session of this sign-in has ended (PLT-2: 15 minutes): sign in to the security-info portal again.');
      }
      throw err;
    }
  };
  const coll = (set: string, value: unknown[]) => ({ '@odata.context': `${urls.base}/graph/v1.0/$metadata#${set}`, value });
  const one = (set: string, v: object) => ({ '@odata.context': `${urls.base}/graph/v1.0/$metadata#${set}/$entity`, ...v });
  const methodsOfType = async (req: FastifyRequest, type: string) => (await gated(req, securityInfoMethods)).filter((m) => m['@odata.type'] === type);

  app.get('/me', async (req) => {
    const c = caller(req);
    const user = await findUser(db, c.tenantId, c.id);
    if (!user) throw new NotFoundError('user', c.id);
    return one('users', { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, mail: user.mail, userType: user.userType });
  });

  app.get('/me/authentication/methods', async (req) => coll('me/authentication/methods', await gated(req, securityInfoMethods)));
  for (const [set, type] of Object.entries(TYPES)) {
    app.get(`/me/authentication/${set}`, async (req) => coll(`me/authentication/${set}`, await methodsOfType(req, type)));
    app.get<MethodParams>(`/me/authentication/${set}/:methodId`, async (req) => {
      const m = (await methodsOfType(req, type)).find((x) => x.id === req.params.methodId.toLowerCase());
      if (!m) throw new NotFoundError(set.replace(/s$/, ''), req.params.methodId);
      return one(`me/authentication/${set}`, m);
    });
  }
  // Registering a passkey (Graph beta's creationOptions and POST fido2Methods).
  app.get('/me/authentication/fido2Methods/creationOptions', async (req) => gated(req, (ctx, flowId) => registrationOptionsInFlow(ctx, rp, flowId)));
  app.post('/me/authentication/fido2Methods', async (req, reply) => {
    const r = await gated(req, (ctx, flowId) => registerPasskeyInFlow(ctx, rp, flowId, req.body));
    return reply.status(201).send(one('me/authentication/fido2Methods', r.passkey));
  });
  // Renaming is Gatehouse's extension (Graph can't rename a passkey); deleting is Graph's.
  app.patch<MethodParams>('/me/authentication/fido2Methods/:methodId', async (req) => one('me/authentication/fido2Methods', await gated(req, (ctx, flowId) => renameSecurityInfoPasskey(ctx, flowId, req.params.methodId, req.body))));
  for (const set of ['fido2Methods', 'softwareOathMethods', 'methods']) {
    app.delete<MethodParams>(`/me/authentication/${set}/:methodId`, async (req, reply) => {
      await gated(req, (ctx, flowId) => deleteSecurityInfoMethod(ctx, flowId, req.params.methodId));
      return noContent(reply);
    });
  }
}
