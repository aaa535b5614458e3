import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../../domain/errors.ts';
import { parseCollectionQuery, type FilterNode } from '../../domain/odata.ts';
import type { Db } from '../../store/database.ts';
import {
  createConditionalAccessPolicy, deleteConditionalAccessPolicy, getConditionalAccessPolicy, listConditionalAccessPolicies, updateConditionalAccessPolicy,
  type PolicyContext,
} from '../../flows/policies/conditionalAccess.ts';
import { createNamedLocation, deleteNamedLocation, getNamedLocation, listNamedLocations, updateNamedLocation } from '../../flows/policies/namedLocations.ts';
import { patchPlatformRulesPolicy, readPlatformRulesPolicy } from '../../flows/policies/platformSettings.ts';
import {
  addCombinationConfiguration, authenticationCombinations, authenticationMethodModes, createStrength, deleteCombinationConfiguration, deleteStrength,
  getCombinationConfiguration, getStrength, listCombinationConfigurations, listStrengths, strengthUsage, updateAllowedCombinations,
  updateCombinationConfiguration, updateStrength,
} from '../../flows/policies/strengths.ts';
import { collection, entity, noContent, requireScope, type GraphUrls } from './context.ts';

type Id = { Params: { id: string } };
type ConfigurationId = { Params: { id: string; cid: string } };

/** WIF-3's documented override: `?forceLockout=true` saves a change the lockout guard refuses (and audits it as forced). */
export function forceLockoutOf(req: FastifyRequest): boolean {
  const v = (req.query as Record<string, unknown> | undefined)?.forceLockout;
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw new ValidationError('forceLockout', 'WIF-3', "The query parameter forceLockout must be 'true' or 'false' (WIF-3).");
}

/** $filter, $top and $select over a small in-memory collection (strengths, policies, locations: at most a few hundred). */
function matches(node: FilterNode, item: Record<string, unknown>): boolean {
  if ('left' in node) return node.kind === 'and' ? matches(node.left, item) && matches(node.right, item) : matches(node.left, item) || matches(node.right, item);
  const v = item[node.field];
  if (node.kind === 'startswith') return typeof v === 'string' && v.toLowerCase().startsWith(node.value.toLowerCase());
  const a = typeof v === 'string' ? v.toLowerCase() : v;
  const b = typeof node.value === 'string' ? node.value.toLowerCase() : node.value;
  switch (node.op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    default: {
      if (a === null || a === undefined || b === null) return false;
      const cmp = a < b ? -1 : a > b ? 1 : 0;
      return node.op === 'lt' ? cmp < 0 : node.op === 'le' ? cmp <= 0 : node.op === 'gt' ? cmp > 0 : cmp >= 0;
    }
  }
}

/** Strengths, Conditional Access policies, named locations and platform-rule settings (STR-1, STR-2, CA-1..CA-6, PLT-*, WIF-3). */
export function policyRoutes(app: FastifyInstance, db: Db, urls: GraphUrls): void {
  const ctx = (req: FastifyRequest): PolicyContext => ({ db, tenantId: req.caller.tenantId, actor: req.caller, now: new Date(), force: forceLockoutOf(req), ipAddress: req.ip });
  const list = <T extends object>(req: FastifyRequest, set: string, items: T[], fields: string[]) => {
    const query = parseCollectionQuery(req.query as Record<string, unknown>, { filterFields: fields, selectFields: items[0] ? Object.keys(items[0]) : fields, defaultTop: 999 });
    const rows = (items as unknown as Record<string, unknown>[]).filter((i) => !query.filter || matches(query.filter, i)).slice(0, query.top);
    return collection(urls, req, set, { items: rows, nextSkipToken: undefined }, query);
  };
  const created = <T extends { id: string }>(reply: FastifyReply, path: string, set: string, v: T) =>
    reply.status(201).header('location', `${urls.base}/graph/v1.0/${path}/${v.id}`).send(entity(urls, set, v));

  // Authentication strengths (STR-1, STR-2).
  const strengths = '/policies/authenticationStrengthPolicies';
  const strengthSet = 'policies/authenticationStrengthPolicies';
  app.get(strengths, async (req) => {
    requireScope(req, 'policy.read');
    return list(req, strengthSet, await listStrengths(db, req.caller.tenantId), ['id', 'displayName', 'policyType', 'requirementsSatisfied']);
  });
  const modes = async (req: FastifyRequest) => {
    requireScope(req, 'policy.read');
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#authenticationMethodModeDetail`, value: authenticationMethodModes() };
  };
  const combinations = async (req: FastifyRequest) => {
    requireScope(req, 'policy.read');
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#Collection(microsoft.graph.authenticationMethodModes)`, value: authenticationCombinations() };
  };
  app.get(`${strengths}/authenticationMethodModes`, modes);
  app.get(`${strengths}/authenticationCombinations`, combinations);
  app.get('/identity/conditionalAccess/authenticationStrength/authenticationMethodModes', modes);
  app.get('/identity/conditionalAccess/authenticationStrength/combinations', combinations);
  app.post(strengths, async (req, reply) => created(reply, strengthSet, strengthSet, await createStrength(ctx(req), req.body)));
  app.get<Id>(`${strengths}/:id`, async (req) => {
    requireScope(req, 'policy.read');
    return entity(urls, strengthSet, await getStrength(db, req.caller.tenantId, req.params.id));
  });
  app.patch<Id>(`${strengths}/:id`, async (req, reply) => {
    await updateStrength(ctx(req), req.params.id, req.body);
    return noContent(reply);
  });
  app.delete<Id>(`${strengths}/:id`, async (req, reply) => {
    await deleteStrength(ctx(req), req.params.id);
    return noContent(reply);
  });
  app.post<Id>(`${strengths}/:id/updateAllowedCombinations`, async (req) => ({
    '@odata.context': `${urls.base}/graph/v1.0/$metadata#microsoft.graph.updateAllowedCombinationsResult`,
    ...(await updateAllowedCombinations(ctx(req), req.params.id, req.body)),
  }));
  app.get<Id>(`${strengths}/:id/usage`, async (req) => {
    requireScope(req, 'policy.read');
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#microsoft.graph.authenticationStrengthUsage`, ...(await strengthUsage(db, req.caller.tenantId, req.params.id)) };
  });
  const configurationSet = (id: string) => `policies/authenticationStrengthPolicies('${id}')/combinationConfigurations`;
  app.get<Id>(`${strengths}/:id/combinationConfigurations`, async (req) => {
    requireScope(req, 'policy.read');
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#${configurationSet(req.params.id)}`, value: await listCombinationConfigurations(db, req.caller.tenantId, req.params.id) };
  });
  app.post<Id>(`${strengths}/:id/combinationConfigurations`, async (req, reply) =>
    created(reply, `${strengthSet}/${req.params.id}/combinationConfigurations`, configurationSet(req.params.id), await addCombinationConfiguration(ctx(req), req.params.id, req.body)));
  app.get<ConfigurationId>(`${strengths}/:id/combinationConfigurations/:cid`, async (req) => {
    requireScope(req, 'policy.read');
    return entity(urls, configurationSet(req.params.id), await getCombinationConfiguration(db, req.caller.tenantId, req.params.id, req.params.cid));
  });
  app.patch<ConfigurationId>(`${strengths}/:id/combinationConfigurations/:cid`, async (req) =>
    entity(urls, configurationSet(req.params.id), await updateCombinationConfiguration(ctx(req), req.params.id, req.params.cid, req.body)));
  app.delete<ConfigurationId>(`${strengths}/:id/combinationConfigurations/:cid`, async (req, reply) => {
    await deleteCombinationConfiguration(ctx(req), req.params.id, req.params.cid);
    return noContent(reply);
  });

  // Conditional Access policies (CA-1..CA-6).
  const policies = '/identity/conditionalAccess/policies';
  const policySet = 'identity/conditionalAccess/policies';
  app.get(policies, async (req) => {
    requireScope(req, 'policy.read');
    return list(req, policySet, await listConditionalAccessPolicies(db, req.caller.tenantId), ['id', 'displayName', 'state', 'templateId']);
  });
  app.post(policies, async (req, reply) => created(reply, policySet, policySet, await createConditionalAccessPolicy(ctx(req), req.body)));
  app.get<Id>(`${policies}/:id`, async (req) => {
    requireScope(req, 'policy.read');
    return entity(urls, policySet, await getConditionalAccessPolicy(db, req.caller.tenantId, req.params.id));
  });
  app.patch<Id>(`${policies}/:id`, async (req, reply) => {
    await updateConditionalAccessPolicy(ctx(req), req.params.id, req.body);
    return noContent(reply);
  });
  app.delete<Id>(`${policies}/:id`, async (req, reply) => {
    await deleteConditionalAccessPolicy(ctx(req), req.params.id);
    return noContent(reply);
  });

  // Named locations (CA-2).
  const locations = '/identity/conditionalAccess/namedLocations';
  const locationSet = 'identity/conditionalAccess/namedLocations';
  app.get(locations, async (req) => {
    requireScope(req, 'policy.read');
    return list(req, locationSet, await listNamedLocations(db, req.caller.tenantId), ['id', 'displayName', '@odata.type']);
  });
  app.post(locations, async (req, reply) => created(reply, locationSet, locationSet, await createNamedLocation(ctx(req), req.body)));
  app.get<Id>(`${locations}/:id`, async (req) => {
    requireScope(req, 'policy.read');
    return entity(urls, locationSet, await getNamedLocation(db, req.caller.tenantId, req.params.id));
  });
  app.patch<Id>(`${locations}/:id`, async (req, reply) => {
    await updateNamedLocation(ctx(req), req.params.id, req.body);
    return noContent(reply);
  });
  app.delete<Id>(`${locations}/:id`, async (req, reply) => {
    await deleteNamedLocation(ctx(req), req.params.id);
    return noContent(reply);
  });

  // Platform-rule settings (PLT-1..PLT-4).
  const platform = '/policies/platformRulesPolicy';
  app.get(platform, async (req) => {
    requireScope(req, 'policy.read');
    return { '@odata.context': `${urls.base}/graph/v1.0/$metadata#platformRulesPolicy`, ...(await readPlatformRulesPolicy(db, req.caller.tenantId)) };
  });
  app.patch(platform, async (req) => ({ '@odata.context': `${urls.base}/graph/v1.0/$metadata#platformRulesPolicy`, ...(await patchPlatformRulesPolicy(ctx(req), req.body)) }));
}
