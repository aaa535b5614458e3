import { z } from 'zod';
import { ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import type { Actor } from '../../domain/actors.ts';
import { IMPLEMENTED_METHODS, parseMethodConfiguration, type MethodConfiguration, type MethodsPolicy } from '../../domain/methodsPolicy.ts';
import { permissionsOfRoles, permits } from '../../domain/directory.ts';
import { parseInput } from '../../domain/validation.ts';
import { writeAudit } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { getMethodsPolicy, saveMethodsPolicy } from '../../store/methodsPolicy.ts';
import { lockPolicies } from '../../store/policies.ts';
import { enforceLockoutGuard, lockoutAuditDetails, type LockoutCheck } from '../policies/conditionalAccess.ts';
import { auditActor } from './context.ts';

/** MTH-1: methods this server can't perform are reported so wherever they'd matter. */
export function withAvailability(c: MethodConfiguration) {
  const available = (IMPLEMENTED_METHODS as readonly string[]).includes(c.id);
  return { ...c, gatehouseAvailability: available ? 'available' : 'notAvailableOnThisServer' };
}

export function policyView(p: MethodsPolicy) {
  return { ...p, authenticationMethodConfigurations: p.authenticationMethodConfigurations.map(withAvailability) };
}

function authorizePolicyWrite(actor: Actor): void {
  if (actor.kind === 'operator') return;
  // An interactive admin holds the permissions of their directory roles (DIR-4 → DIR-6).
  const granted = actor.kind === 'app' ? actor.permissions : permissionsOfRoles(actor.roles);
  if (!permits(granted, 'policy.methods.write')) {
    throw new ForbiddenError(actor.kind === 'app'
      ? 'Insufficient privileges: changing the authentication methods policy needs Policy.ReadWrite.AuthenticationMethod.'
      : 'Insufficient privileges: changing the authentication methods policy needs the Authentication Policy Administrator, Security Administrator or Global Administrator role.');
  }
}

const policyPatch = z.strictObject({
  '@odata.type': z.string().optional(),
  id: z.literal('authenticationMethodsPolicy').optional(),
  displayName: z.string().optional(),
  description: z.string().optional(),
  policyVersion: z.string().optional(),
  registrationEnforcement: z.strictObject({
    authenticationMethodsRegistrationCampaign: z.looseObject({
      state: z.enum(['default', 'enabled', 'disabled'], "must be 'default', 'enabled' or 'disabled'").optional(),
      snoozeDurationInDays: z.number().int().min(0, 'must be 0-14 (PLT-5)').max(14, 'must be 0-14 (PLT-5)').optional(),
      enforceRegistrationAfterAllowedSnoozes: z.boolean().optional(),
      includeTargets: z.array(z.looseObject({ id: z.string(), targetType: z.string(), targetedAuthenticationMethod: z.string() })).max(50).optional(),
      excludeTargets: z.array(z.looseObject({ id: z.string(), targetType: z.string() })).max(50).optional(),
    }),
  }).optional(),
  authenticationMethodConfigurations: z.array(z.unknown()).max(50).optional(),
});

async function audited(db: Db, tenantId: string, actor: Actor, now: Date, before: MethodsPolicy, after: MethodsPolicy, changed: string[], lockout: LockoutCheck) {
  await writeAudit(db, tenantId, {
    activityDisplayName: 'Authentication Methods Policy Update', category: 'Policy', operationType: 'Update', result: 'success',
    loggedByService: 'Authentication Methods', initiatedBy: auditActor(actor),
    target: { id: 'authenticationMethodsPolicy', displayName: 'Authentication Methods Policy', type: 'Policy' },
    modifiedProperties: changed.map((id) => ({
      displayName: id,
      oldValue: before.authenticationMethodConfigurations.find((c) => c.id === id) ?? (id === 'registrationEnforcement' ? before.registrationEnforcement : null),
      newValue: after.authenticationMethodConfigurations.find((c) => c.id === id) ?? (id === 'registrationEnforcement' ? after.registrationEnforcement : null),
    })),
    additionalDetails: lockoutAuditDetails(lockout),
  }, now);
}

export async function readMethodsPolicy(db: Db, tenantId: string) {
  return policyView(await getMethodsPolicy(db, tenantId));
}

/**
 * PATCH /policies/authenticationMethodsPolicy: configurations in the body replace the stored ones, each validated whole.
 * WIF-3: refused (409) if it would lock every Global Administrator out, unless `force`.
 */
export async function patchMethodsPolicy(db: Db, tenantId: string, actor: Actor, raw: unknown, now: Date, force = false) {
  authorizePolicyWrite(actor);
  const body = parseInput(policyPatch, raw);
  const configurations = (body.authenticationMethodConfigurations ?? []).map((c, i) => parseMethodConfiguration(c, `authenticationMethodConfigurations.${i}.`));
  return db.transaction().execute(async (trx) => {
    await lockPolicies(trx, tenantId);
    const { before, after } = await saveMethodsPolicy(trx, tenantId, { configurations, registrationEnforcement: body.registrationEnforcement ? { authenticationMethodsRegistrationCampaign: { ...(await getMethodsPolicy(trx, tenantId)).registrationEnforcement.authenticationMethodsRegistrationCampaign, ...body.registrationEnforcement.authenticationMethodsRegistrationCampaign } } : undefined }, now);
    const lockout = await enforceLockoutGuard(trx, tenantId, now, force);
    await audited(trx, tenantId, actor, now, before, after, [...configurations.map((c) => c.id), ...(body.registrationEnforcement ? ['registrationEnforcement'] : [])], lockout);
    return policyView(after);
  });
}

export async function readMethodConfiguration(db: Db, tenantId: string, id: string) {
  const c = (await getMethodsPolicy(db, tenantId)).authenticationMethodConfigurations.find((x) => x.id.toLowerCase() === id.toLowerCase());
  if (!c) throw new NotFoundError('authenticationMethodConfiguration', id);
  return withAvailability(c);
}

/** PATCH …/authenticationMethodConfigurations/{id}: merged over the current configuration, then validated whole (TAP-1 bounds etc.). */
export async function patchMethodConfiguration(db: Db, tenantId: string, actor: Actor, id: string, raw: unknown, now: Date, force = false) {
  authorizePolicyWrite(actor);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('request body', 'object', 'The request body must be a JSON object.');
  return db.transaction().execute(async (trx) => {
    await lockPolicies(trx, tenantId);
    const current = (await getMethodsPolicy(trx, tenantId)).authenticationMethodConfigurations.find((x) => x.id.toLowerCase() === id.toLowerCase());
    const bodyId = (raw as { id?: unknown }).id;
    if (bodyId !== undefined && (typeof bodyId !== 'string' || bodyId.toLowerCase() !== id.toLowerCase())) {
      throw new ValidationError('id', 'matchesPath', `The body's id '${(JSON.stringify(bodyId) ?? typeof bodyId).slice(0, 64)}' does not match the configuration in the path '${id.slice(0, 64)}'.`);
    }
    const merged = parseMethodConfiguration({ ...(current ?? { state: 'disabled' }), ...(raw as object), id: current?.id ?? id });
    const { before, after } = await saveMethodsPolicy(trx, tenantId, { configurations: [merged] }, now);
    const lockout = await enforceLockoutGuard(trx, tenantId, now, force);
    await audited(trx, tenantId, actor, now, before, after, [merged.id], lockout);
    return withAvailability(merged);
  });
}
