import type { FastifyInstance } from 'fastify';
import { userCreate, userUpdate } from '../../domain/graph.ts';
import { parseCollectionQuery, project } from '../../domain/odata.ts';
import { USER_PROPERTIES } from '../../domain/resources.ts';
import { parseInput } from '../../domain/validation.ts';
import type { Db } from '../../store/database.ts';
import { listMemberOf } from '../../store/groups.ts';
import { createUser, deleteUser, getUser, listUsers, updateUser, USER_FILTER_COLUMNS } from '../../store/users.ts';
import { revokeSignInSessionsKeepingRefreshTraces } from '../../store/oidcTokenLookup.ts';
import { collection, entity, noContent, requireScope, type GraphUrls } from './context.ts';

type Id = { Params: { id: string } };

/** /users: DIR-2 with Graph's paths, JSON and query options. */
export function userRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  app.get('/users', async (req) => {
    requireScope(req, 'users.read');
    const query = parseCollectionQuery(req.query as Record<string, unknown>, { filterFields: Object.keys(USER_FILTER_COLUMNS), selectFields: USER_PROPERTIES });
    return collection(urls, req, 'users', await listUsers(db, req.caller.tenantId, query), query);
  });

  app.post('/users', async (req, reply) => {
    requireScope(req, 'users.write');
    const input = parseInput(userCreate, req.body);
    const user = await db.transaction().execute((trx) => createUser(trx, req.caller.tenantId, input));
    return reply.status(201).header('location', `${urls.base}/graph/v1.0/users/${user.id}`).send(entity(urls, 'users', user));
  });

  app.get<Id>('/users/:id', async (req) => {
    requireScope(req, 'users.read');
    const query = parseCollectionQuery(req.query as Record<string, unknown>, { filterFields: [], selectFields: USER_PROPERTIES });
    const user = await getUser(db, req.caller.tenantId, req.params.id);
    return entity(urls, 'users', project(user, query.select));
  });

  app.patch<Id>('/users/:id', async (req, reply) => {
    requireScope(req, 'users.write');
    const patch = parseInput(userUpdate, req.body);
    await db.transaction().execute((trx) => updateUser(trx, req.caller.tenantId, req.params.id, patch));
    return noContent(reply);
  });

  app.delete<Id>('/users/:id', async (req, reply) => {
    requireScope(req, 'users.write');
    await db.transaction().execute((trx) => deleteUser(trx, req.caller.tenantId, req.params.id));
    return noContent(reply);
  });

  app.post<Id>('/users/:id/revokeSignInSessions', async (req) => {
    requireScope(req, 'users.revokeSessions');
    // Refresh tokens are expired rather than deleted, so a later use is logged with the user (LOG-1).
    await db.transaction().execute((trx) => revokeSignInSessionsKeepingRefreshTraces(trx, req.caller.tenantId, req.params.id, new Date()));
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#Edm.Boolean`, value: true };
  });

  for (const transitive of [false, true]) {
    app.get<Id>(`/users/:id/${transitive ? 'transitiveMemberOf' : 'memberOf'}`, async (req) => {
      requireScope(req, 'users.read');
      requireScope(req, 'groups.read');
      const user = await getUser(db, req.caller.tenantId, req.params.id);
      const value = await listMemberOf(db, req.caller.tenantId, user.id, transitive);
      return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#directoryObjects`, value };
    });
  }
}
