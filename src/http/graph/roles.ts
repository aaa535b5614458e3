import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../domain/errors.ts';
import { ROLE_TEMPLATES, roleTemplate } from '../../domain/directory.ts';
import { roleAssignmentCreate } from '../../domain/graph.ts';
import { parseCollectionQuery } from '../../domain/odata.ts';
import { parseInput } from '../../domain/validation.ts';
import type { Db } from '../../store/database.ts';
import { getRoleAssignment, listRoleAssignments, ROLE_ASSIGNMENT_FILTER_COLUMNS } from '../../store/roles.ts';
import { assignRole, removeRole } from '../../flows/directory/roles.ts';
import { collection, entity, noContent, requireScope, type GraphUrls } from './context.ts';

const definition = (r: (typeof ROLE_TEMPLATES)[number]) => ({
  id: r.id, templateId: r.id, displayName: r.displayName, description: r.description, isBuiltIn: true, isEnabled: true,
});

/** /roleManagement/directory: DIR-4 role definitions (Entra template ids) and assignments. */
export function roleRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  const prefix = '/roleManagement/directory';
  app.get(`${prefix}/roleDefinitions`, async (req) => {
    requireScope(req, 'roles.read');
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#roleManagement/directory/roleDefinitions`, value: ROLE_TEMPLATES.map(definition) };
  });
  app.get<{ Params: { id: string } }>(`${prefix}/roleDefinitions/:id`, async (req) => {
    requireScope(req, 'roles.read');
    const r = roleTemplate(req.params.id.toLowerCase());
    if (!r) throw new NotFoundError('roleDefinition', req.params.id);
    return entity(urls, 'roleManagement/directory/roleDefinitions', definition(r));
  });

  app.get(`${prefix}/roleAssignments`, async (req) => {
    requireScope(req, 'roles.read');
    const query = parseCollectionQuery(req.query as Record<string, unknown>, {
      filterFields: Object.keys(ROLE_ASSIGNMENT_FILTER_COLUMNS), selectFields: ['id', 'roleDefinitionId', 'principalId', 'directoryScopeId'],
    });
    return collection(urls, req, 'roleManagement/directory/roleAssignments', await listRoleAssignments(db, req.caller.tenantId, query), query);
  });

  app.post(`${prefix}/roleAssignments`, async (req, reply) => {
    requireScope(req, 'roles.write');
    const input = parseInput(roleAssignmentCreate, req.body);
    const a = await assignRole(db, req.caller.tenantId, req.caller, input, new Date());
    return reply.status(201).send(entity(urls, 'roleManagement/directory/roleAssignments', a));
  });

  app.get<{ Params: { id: string } }>(`${prefix}/roleAssignments/:id`, async (req) => {
    requireScope(req, 'roles.read');
    return entity(urls, 'roleManagement/directory/roleAssignments', await getRoleAssignment(db, req.caller.tenantId, req.params.id));
  });

  app.delete<{ Params: { id: string } }>(`${prefix}/roleAssignments/:id`, async (req, reply) => {
    requireScope(req, 'roles.write');
    await removeRole(db, req.caller.tenantId, req.caller, req.params.id, new Date());
    return noContent(reply);
  });
}
