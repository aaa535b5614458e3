import { randomUUID } from 'node:crypto';
import { namedLocationInput, parseCidr, type IpRange, type NamedLocation } from '../../domain/conditionalAccess.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import { parseInput } from '../../domain/validation.ts';
import type { Db } from '../../store/database.ts';
import { deleteNamedLocation as removeLocation, findNamedLocation, lockPolicies, namedLocations, saveNamedLocation } from '../../store/policies.ts';
import {
  assertDisplayName, auditPolicyChange, authorizePolicyChange, enforceLockoutGuard, policiesReferencing, requireObject, type PolicyContext,
} from './conditionalAccess.ts';

/**
 * CA-2 named locations over the admin API (Graph's ipNamedLocation and countryNamedLocation).
 * A location a Conditional Access policy names can't be deleted; changes go through the WIF-3
 * guard, since moving an address range can lock administrators out as surely as a policy can.
 */

export type LocationDocument = NamedLocation extends infer L ? (L extends NamedLocation ? Omit<L, 'id' | 'createdDateTime' | 'modifiedDateTime'> : never) : never;

/** Validate a location and keep only Graph's properties; each range's type follows its address. */
export function namedLocationDocument(raw: Record<string, unknown>): LocationDocument {
  const l = parseInput(namedLocationInput, raw);
  assertDisplayName(l.displayName);
  if (l['@odata.type'] === '#microsoft.graph.ipNamedLocation') {
    const ipRanges = l.ipRanges.map((r, i): IpRange => {
      const version = parseCidr(r.cidrAddress)!.v;
      const type = version === 4 ? '#microsoft.graph.iPv4CidrRange' : '#microsoft.graph.iPv6CidrRange';
      if (r['@odata.type'] !== undefined && r['@odata.type'] !== type) {
        throw new ValidationError(`ipRanges.${i}.@odata.type`, 'CA-2', `'${r.cidrAddress}' is an IPv${version} range, so its type is '${type}'.`);
      }
      return { '@odata.type': type, cidrAddress: r.cidrAddress };
    });
    return { '@odata.type': l['@odata.type'], displayName: l.displayName, isTrusted: l.isTrusted, ipRanges };
  }
  return {
    '@odata.type': l['@odata.type'], displayName: l.displayName, countriesAndRegions: l.countriesAndRegions.map((c) => c.toUpperCase()),
    includeUnknownCountriesAndRegions: l.includeUnknownCountriesAndRegions, countryLookupMethod: l.countryLookupMethod,
  };
}

export async function listNamedLocations(db: Db, tenantId: string): Promise<NamedLocation[]> {
  return namedLocations(db, tenantId);
}

export async function getNamedLocation(db: Db, tenantId: string, id: string): Promise<NamedLocation> {
  const l = await findNamedLocation(db, tenantId, id);
  if (!l) throw new NotFoundError('namedLocation', id);
  return l;
}

const AUDIT = { add: 'Add named location', update: 'Update named location', delete: 'Delete named location' } as const;

export async function createNamedLocation(ctx: PolicyContext, raw: unknown): Promise<NamedLocation> {
  authorizePolicyChange(ctx.actor, 'conditionalAccess');
  const doc = namedLocationDocument(requireObject(raw, 'an ipNamedLocation or countryNamedLocation'));
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const at = ctx.now.toISOString();
    const location = { ...doc, id: randomUUID(), createdDateTime: at, modifiedDateTime: at } as NamedLocation;
    await saveNamedLocation(trx, ctx.tenantId, location);
    const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
    await auditPolicyChange(trx, ctx, { activity: AUDIT.add, operationType: 'Add', target: { id: location.id, displayName: location.displayName }, property: 'NamedLocation', before: null, after: location, lockout });
    return location;
  });
}

/** PATCH …/namedLocations/{id}: properties merge over the stored location (`@odata.type` may be repeated, not changed). */
export async function updateNamedLocation(ctx: PolicyContext, id: string, raw: unknown): Promise<NamedLocation> {
  authorizePolicyChange(ctx.actor, 'conditionalAccess');
  const body = requireObject(raw, 'an ipNamedLocation or countryNamedLocation');
  if (body.id !== undefined && (typeof body.id !== 'string' || body.id.toLowerCase() !== id.toLowerCase())) {
    throw new ValidationError('id', 'matchesPath', `The body's id '${String(body.id).slice(0, 64)}' does not match the named location in the path '${id.slice(0, 64)}'.`);
  }
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await getNamedLocation(trx, ctx.tenantId, id);
    if (body['@odata.type'] !== undefined && body['@odata.type'] !== current['@odata.type']) {
      throw new ValidationError('@odata.type', 'immutable', `This named location is a ${current['@odata.type'].replace('#microsoft.graph.', '')}; its type can't change. Create a new location instead.`);
    }
    const { id: _id, createdDateTime, modifiedDateTime: _m, ...stored } = current;
    const { createdDateTime: _c2, modifiedDateTime: _m2, ...changes } = body;
    const location = { ...namedLocationDocument({ ...stored, ...changes }), id: current.id, createdDateTime, modifiedDateTime: ctx.now.toISOString() } as NamedLocation;
    await saveNamedLocation(trx, ctx.tenantId, location);
    const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
    await auditPolicyChange(trx, ctx, { activity: AUDIT.update, operationType: 'Update', target: { id: location.id, displayName: location.displayName }, property: 'NamedLocation', before: current, after: location, lockout });
    return location;
  });
}

/** DELETE …/namedLocations/{id}: refused while any Conditional Access policy (whatever its state) names it. */
export async function deleteNamedLocation(ctx: PolicyContext, id: string): Promise<void> {
  authorizePolicyChange(ctx.actor, 'conditionalAccess');
  await ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await getNamedLocation(trx, ctx.tenantId, id);
    const users = await policiesReferencing(trx, ctx.tenantId, { namedLocationId: current.id });
    if (users.length) {
      throw new ConflictError(
        `The named location '${current.displayName}' is used by ${users.length} Conditional Access ${users.length === 1 ? 'policy' : 'policies'}: `
        + `${users.map((p) => `'${p.displayName}' (${p.id})`).join(', ')}. Remove it from ${users.length === 1 ? 'that policy' : 'those policies'} first.`,
        { gatehouseRule: 'CA-2', conditionalAccessPolicies: users.map((p) => ({ id: p.id, displayName: p.displayName })) },
      );
    }
    await removeLocation(trx, ctx.tenantId, current.id);
    const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
    await auditPolicyChange(trx, ctx, { activity: AUDIT.delete, operationType: 'Delete', target: { id: current.id, displayName: current.displayName }, property: 'NamedLocation', before: current, after: null, lockout });
  });
}
