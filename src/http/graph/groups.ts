import type { FastifyInstance } from 'fastify';
import { groupCreate, groupUpdate, memberRef } from '../../domain/graph.ts';
import { parseCollectionQuery, project } from '../../domain/odata.ts';
import { GROUP_PROPERTIES } from '../../domain/resources.ts';
import { parseInput } from '../../domain/validation.ts';
import type { Db } from '../../store/database.ts';
import {
  addMember, createGroup, deleteGroup, getGroup, GROUP_FILTER_COLUMNS, listGroups, listMemberOf, listMembers, removeMember, updateGroup,
} from '../../store/groups.ts';
import { collection, entity, noContent, requireScope, type GraphUrls } from './context.ts';

type Id = { Params: { id: string } };

/** /groups and members with `$ref`: DIR-3, nested membership, cycles refused. */
export function groupRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  app.get('/groups', async (req) => {
    requireScope(req, 'groups.read');
    const query = parseCollectionQuery(req.query as Record<string, unknown>, { filterFields: Object.keys(GROUP_FILTER_COLUMNS), selectFields: GROUP_PROPERTIES });
    return collection(urls, req, 'groups', await listGroups(db, req.caller.tenantId, query), query);
  });

  app.post('/groups', async (req, reply) => {
    requireScope(req, 'groups.write');
    const input = parseInput(groupCreate, req.body);
    const group = await db.transaction().execute((trx) => createGroup(trx, req.caller.tenantId, input));
    return reply.status(201).header('location', `${urls.base}/graph/v1.0/groups/${group.id}`).send(entity(urls, 'groups', group));
  });

  app.get<Id>('/groups/:id', async (req) => {
    requireScope(req, 'groups.read');
    const query = parseCollectionQuery(req.query as Record<string, unknown>, { filterFields: [], selectFields: GROUP_PROPERTIES });
    return entity(urls, 'groups', project(await getGroup(db, req.caller.tenantId, req.params.id), query.select));
  });

  app.patch<Id>('/groups/:id', async (req, reply) => {
    requireScope(req, 'groups.write');
    const patch = parseInput(groupUpdate, req.body);
    await db.transaction().execute((trx) => updateGroup(trx, req.caller.tenantId, req.params.id, patch));
    return noContent(reply);
  });

  app.delete<Id>('/groups/:id', async (req, reply) => {
    requireScope(req, 'groups.write');
    await db.transaction().execute((trx) => deleteGroup(trx, req.caller.tenantId, req.params.id));
    return noContent(reply);
  });

  for (const transitive of [false, true]) {
    app.get<Id>(`/groups/:id/${transitive ? 'transitiveMembers' : 'members'}`, async (req) => {
      requireScope(req, 'groups.read');
      const value = await listMembers(db, req.caller.tenantId, req.params.id, transitive);
      return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#directoryObjects`, value };
    });
    app.get<Id>(`/groups/:id/${transitive ? 'transitiveMemberOf' : 'memberOf'}`, async (req) => {
      requireScope(req, 'groups.read');
      const group = await getGroup(db, req.caller.tenantId, req.params.id);
      const value = await listMemberOf(db, req.caller.tenantId, group.id, transitive);
      return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#directoryObjects`, value };
    });
  }

  app.post<Id>('/groups/:id/members/$ref', async (req, reply) => {
    requireScope(req, 'groups.members.write');
    const ref = parseInput(memberRef, req.body);
    await db.transaction().execute((trx) => addMember(trx, req.caller.tenantId, req.params.id, ref['@odata.id']));
    return noContent(reply);
  });

  app.delete<{ Params: { id: string; memberId: string } }>('/groups/:id/members/:memberId/$ref', async (req, reply) => {
    requireScope(req, 'groups.members.write');
    await db.transaction().execute((trx) => removeMember(trx, req.caller.tenantId, req.params.id, req.params.memberId));
    return noContent(reply);
  });
}
