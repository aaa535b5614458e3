import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../../store/database.ts';
import type { MethodsContext } from '../../flows/methods/context.ts';
import { deleteSoftwareOathMethod, listMethods, passwordMethods, PASSWORD_METHOD_ID, softwareOathMethods } from '../../flows/methods/methods.ts';
import { adminCreationOptions, adminDeletePasskey, adminRegisterPasskey, getPasskey, listPasskeys, type RelyingParty } from '../../flows/methods/passkeys.ts';
import { patchMethodConfiguration, patchMethodsPolicy, readMethodConfiguration, readMethodsPolicy } from '../../flows/methods/policy.ts';
import { deleteTemporaryAccessPass, getTemporaryAccessPass, issueTemporaryAccessPass, listTemporaryAccessPasses } from '../../flows/methods/temporaryAccessPass.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { adminResetPassword } from '../../flows/methods/passwordAndTotp.ts';
import { noContent, requireScope, type GraphUrls } from './context.ts';
import { forceLockoutOf } from './policies.ts';

type UserParams = { Params: { id: string } };
type MethodParams = { Params: { id: string; methodId: string } };

/** MTH-2, MTH-3, TAP-2..TAP-9, PK-*: the methods policy and the per-user method collections. */
export function methodRoutes(app: FastifyInstance, db: Db, urls: GraphUrls, rp: RelyingParty): void {
  const ctx = (req: FastifyRequest): MethodsContext => ({ db, tenantId: req.caller.tenantId, actor: req.caller, now: new Date(), ipAddress: req.ip, correlationId: undefined });
  const coll = (set: string, value: unknown[]) => ({ '@odata.context': `${urls.base}/graph/v1.0/$metadata#${set}`, value });
  const one = (set: string, v: object) => ({ '@odata.context': `${urls.base}/graph/v1.0/$metadata#${set}/$entity`, ...v });

  const policyPath = '/policies/authenticationMethodsPolicy';
  app.get(policyPath, async (req) => {
    requireScope(req, 'policy.read');
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#authenticationMethodsPolicy`, ...(await readMethodsPolicy(db, req.caller.tenantId)) };
  });
  app.patch(policyPath, async (req, reply) => {
    await patchMethodsPolicy(db, req.caller.tenantId, req.caller, req.body, new Date(), forceLockoutOf(req));
    return noContent(reply);
  });
  app.get(`${policyPath}/authenticationMethodConfigurations`, async (req) => {
    requireScope(req, 'policy.read');
    return coll('policies/authenticationMethodsPolicy/authenticationMethodConfigurations', (await readMethodsPolicy(db, req.caller.tenantId)).authenticationMethodConfigurations);
  });
  app.get<{ Params: { cid: string } }>(`${policyPath}/authenticationMethodConfigurations/:cid`, async (req) => {
    requireScope(req, 'policy.read');
    return one('policies/authenticationMethodsPolicy/authenticationMethodConfigurations', await readMethodConfiguration(db, req.caller.tenantId, req.params.cid));
  });
  app.patch<{ Params: { cid: string } }>(`${policyPath}/authenticationMethodConfigurations/:cid`, async (req, reply) => {
    await patchMethodConfiguration(db, req.caller.tenantId, req.caller, req.params.cid, req.body, new Date(), forceLockoutOf(req));
    return noContent(reply);
  });

  const base = '/users/:id/authentication';
  app.get<UserParams>(`${base}/methods`, async (req) => coll('users/authentication/methods', await listMethods(ctx(req), req.params.id)));

  app.get<UserParams>(`${base}/temporaryAccessPassMethods`, async (req) => coll('users/authentication/temporaryAccessPassMethods', await listTemporaryAccessPasses(ctx(req), req.params.id)));
  app.post<UserParams>(`${base}/temporaryAccessPassMethods`, async (req, reply) => {
    const created = await issueTemporaryAccessPass(ctx(req), req.params.id, req.body);
    return reply.status(201).send(one('users/authentication/temporaryAccessPassMethods', created));
  });
  app.get<MethodParams>(`${base}/temporaryAccessPassMethods/:methodId`, async (req) => one('users/authentication/temporaryAccessPassMethods', await getTemporaryAccessPass(ctx(req), req.params.id, req.params.methodId)));
  app.delete<MethodParams>(`${base}/temporaryAccessPassMethods/:methodId`, async (req, reply) => {
    await deleteTemporaryAccessPass(ctx(req), req.params.id, req.params.methodId);
    return noContent(reply);
  });

  app.get<UserParams>(`${base}/fido2Methods`, async (req) => coll('users/authentication/fido2Methods', await listPasskeys(ctx(req), req.params.id)));
  // Graph spells it fido2Methods/creationOptions(challengeTimeoutInMinutes=5); the id segment route takes both.
  app.get<MethodParams>(`${base}/fido2Methods/:methodId`, async (req) => {
    if (req.params.methodId.startsWith('creationOptions')) {
      const options = await adminCreationOptions(ctx(req), rp, req.params.id);
      return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#microsoft.graph.webauthnCredentialCreationOptions`, ...options };
    }
    return one('users/authentication/fido2Methods', await getPasskey(ctx(req), req.params.id, req.params.methodId));
  });
  app.post<UserParams>(`${base}/fido2Methods`, async (req, reply) => {
    const created = await adminRegisterPasskey(ctx(req), rp, req.params.id, req.body);
    return reply.status(201).send(one('users/authentication/fido2Methods', created));
  });
  app.delete<MethodParams>(`${base}/fido2Methods/:methodId`, async (req, reply) => {
    await adminDeletePasskey(ctx(req), req.params.id, req.params.methodId);
    return noContent(reply);
  });

  app.get<UserParams>(`${base}/passwordMethods`, async (req) => coll('users/authentication/passwordMethods', await passwordMethods(ctx(req), req.params.id)));
  app.get<MethodParams>(`${base}/passwordMethods/:methodId`, async (req) => {
    const found = (await passwordMethods(ctx(req), req.params.id)).find((m) => m.id === req.params.methodId && m.id === PASSWORD_METHOD_ID);
    if (!found) throw new NotFoundError('passwordAuthenticationMethod', req.params.methodId);
    return one('users/authentication/passwordMethods', found);
  });
  app.post<MethodParams>(`${base}/passwordMethods/:methodId/resetPassword`, async (req, reply) => {
    await adminResetPassword(ctx(req), req.params.id, req.params.methodId, req.body);
    return reply.status(202).send();
  });
  app.get<UserParams>(`${base}/softwareOathMethods`, async (req) => coll('users/authentication/softwareOathMethods', await softwareOathMethods(ctx(req), req.params.id)));
  app.get<MethodParams>(`${base}/softwareOathMethods/:methodId`, async (req) => {
    const found = (await softwareOathMethods(ctx(req), req.params.id)).find((m) => m.id === req.params.methodId.toLowerCase());
    if (!found) throw new NotFoundError('softwareOathAuthenticationMethod', req.params.methodId);
    return one('users/authentication/softwareOathMethods', found);
  });
  app.delete<MethodParams>(`${base}/softwareOathMethods/:methodId`, async (req, reply) => {
    await deleteSoftwareOathMethod(ctx(req), req.params.id, req.params.methodId);
    return noContent(reply);
  });
}
