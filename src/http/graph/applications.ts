import type { FastifyInstance } from 'fastify';
import { addPassword as addPasswordBody, applicationCreate, applicationUpdate } from '../../domain/graph.ts';
import { parseCollectionQuery, project } from '../../domain/odata.ts';
import { APPLICATION_PROPERTIES } from '../../domain/resources.ts';
import { parseInput } from '../../domain/validation.ts';
import { z } from 'zod';
import type { Db } from '../../store/database.ts';
import {
  addPassword, APPLICATION_FILTER_COLUMNS, createApplication, deleteApplication, getApplication, listApplications, removePassword, updateApplication,
} from '../../store/applications.ts';
import { collection, entity, noContent, requireScope, type GraphUrls } from './context.ts';

type Id = { Params: { id: string } };
const removePasswordBody = z.strictObject({ keyId: z.string() });

/** /applications: DIR-5 OIDC clients, caller-chosen appId allowed, secrets shown once. */
export function applicationRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  app.get('/applications', async (req) => {
    requireScope(req, 'applications.read');
    const query = parseCollectionQuery(req.query as Record<string, unknown>, { filterFields: Object.keys(APPLICATION_FILTER_COLUMNS), selectFields: APPLICATION_PROPERTIES });
    return collection(urls, req, 'applications', await listApplications(db, req.caller.tenantId, query), query);
  });

  app.post('/applications', async (req, reply) => {
    requireScope(req, 'applications.write');
    const input = parseInput(applicationCreate, req.body);
    const a = await db.transaction().execute((trx) => createApplication(trx, req.caller.tenantId, input));
    return reply.status(201).header('location', `${urls.base}/graph/v1.0/applications/${a.id}`).send(entity(urls, 'applications', a));
  });

  app.get<Id>('/applications/:id', async (req) => {
    requireScope(req, 'applications.read');
    const query = parseCollectionQuery(req.query as Record<string, unknown>, { filterFields: [], selectFields: APPLICATION_PROPERTIES });
    return entity(urls, 'applications', project(await getApplication(db, req.caller.tenantId, req.params.id), query.select));
  });

  app.patch<Id>('/applications/:id', async (req, reply) => {
    requireScope(req, 'applications.write');
    const patch = parseInput(applicationUpdate, req.body);
    await db.transaction().execute((trx) => updateApplication(trx, req.caller.tenantId, req.params.id, patch));
    return noContent(reply);
  });

  app.delete<Id>('/applications/:id', async (req, reply) => {
    requireScope(req, 'applications.write');
    await db.transaction().execute((trx) => deleteApplication(trx, req.caller.tenantId, req.params.id));
    return noContent(reply);
  });

  app.post<Id>('/applications/:id/addPassword', async (req) => {
    requireScope(req, 'applications.write');
    const body = parseInput(addPasswordBody, req.body ?? {});
    const cred = await db.transaction().execute((trx) => addPassword(trx, req.caller.tenantId, req.params.id, body.passwordCredential ?? {}, new Date()));
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#microsoft.graph.passwordCredential`, ...cred };
  });

  app.post<Id>('/applications/:id/removePassword', async (req, reply) => {
    requireScope(req, 'applications.write');
    const body = parseInput(removePasswordBody, req.body);
    await db.transaction().execute((trx) => removePassword(trx, req.caller.tenantId, req.params.id, body.keyId));
    return noContent(reply);
  });
}
