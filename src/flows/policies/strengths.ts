import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import {
  AUTHENTICATION_METHOD_MODES, BUILT_IN_STRENGTHS, canonicalCombination, IMPLEMENTED_MODES, MAX_CUSTOM_STRENGTHS, MFA_STRENGTH_ID,
  strengthCreate, strengthUpdate, VALID_COMBINATIONS, validateCombinationConfigurations, validateCombinations,
  type AuthenticationStrength, type CombinationConfiguration,
} from '../../domain/strengths.ts';
import { parseInput } from '../../domain/validation.ts';
import type { Db } from '../../store/database.ts';
import { allStrengths, customStrengths, deleteStrength as removeStrength, findStrength, lockPolicies, saveStrength } from '../../store/policies.ts';
import {
  assertDisplayName, auditPolicyChange, authorizePolicyChange, enforceLockoutGuard, findingsOf, policiesReferencing, policyView, requireObject,
  type PolicyContext, type PolicyView,
} from './conditionalAccess.ts';

/**
 * STR-1, STR-2 over the admin API: built-ins are read-only constants, custom strengths (at most
 * 15) are validated combination by combination. A strength a Conditional Access policy names
 * can't be deleted; changes to its combinations go through the WIF-3 guard like any policy.
 */

const FIDO2_CONFIGURATION = '#microsoft.graph.fido2CombinationConfiguration';
const X509_CONFIGURATION = '#microsoft.graph.x509CertificateCombinationConfiguration';
const CONFIGURATION_TYPES = [FIDO2_CONFIGURATION, X509_CONFIGURATION];

/** Graph's authenticationStrengthPolicy. */
export function strengthView(s: AuthenticationStrength) {
  return {
    id: s.id, createdDateTime: s.createdDateTime, modifiedDateTime: s.modifiedDateTime, displayName: s.displayName, description: s.description,
    policyType: s.policyType, requirementsSatisfied: s.requirementsSatisfied, allowedCombinations: [...s.allowedCombinations],
    combinationConfigurations: s.combinationConfigurations,
  };
}
export type StrengthView = ReturnType<typeof strengthView>;

/** Graph computes `requirementsSatisfied`: `mfa` when every combination is one the Multifactor authentication strength allows. */
const MFA_COMBINATIONS = new Set(BUILT_IN_STRENGTHS.find((s) => s.id === MFA_STRENGTH_ID)!.allowedCombinations.map(canonicalCombination));
function requirementsOf(combinations: readonly string[]): 'mfa' | 'none' {
  return combinations.every((c) => MFA_COMBINATIONS.has(canonicalCombination(c))) ? 'mfa' : 'none';
}

export async function listStrengths(db: Db, tenantId: string): Promise<StrengthView[]> {
  return (await allStrengths(db, tenantId)).map(strengthView);
}

export async function getStrength(db: Db, tenantId: string, id: string): Promise<StrengthView> {
  return strengthView(await existing(db, tenantId, id));
}

async function existing(db: Db, tenantId: string, id: string): Promise<AuthenticationStrength> {
  const s = await findStrength(db, tenantId, id);
  if (!s) throw new NotFoundError('authenticationStrengthPolicy', id);
  return s;
}

/** STR-1: built-ins can be read and referenced, never changed. */
async function writable(db: Db, tenantId: string, id: string): Promise<AuthenticationStrength> {
  const s = await existing(db, tenantId, id);
  if (s.policyType === 'builtIn') {
    throw new ValidationError('policyType', 'STR-1', `STR-1: '${s.displayName}' is a built-in authentication strength and is read-only; create a custom strength with the combinations you need instead.`);
  }
  return s;
}

/** Strength names are unique in a tenant (built-ins included), so that policies and logs name one strength. */
async function assertUniqueName(db: Db, tenantId: string, displayName: string, self?: string): Promise<void> {
  const clash = (await allStrengths(db, tenantId)).find((s) => s.id !== self && s.displayName.trim().toLowerCase() === displayName.trim().toLowerCase());
  if (clash) throw new ConflictError(`An authentication strength named '${clash.displayName}' already exists (${clash.id}).`, { gatehouseRule: 'STR-2' });
}

/** STR-2: known configuration types, and at most one configuration of a type per combination. */
function checkConfigurations(configs: readonly CombinationConfiguration[], field = (i: number) => `combinationConfigurations.${i}`): void {
  const seen = new Set<string>();
  configs.forEach((c, i) => {
    if (!CONFIGURATION_TYPES.includes(c['@odata.type'])) {
      throw new ValidationError(`${field(i)}.@odata.type`.replace(/^\./, ''), 'STR-2', `STR-2: '${String(c['@odata.type']).slice(0, 100)}' is not a combination configuration type (${CONFIGURATION_TYPES.join(', ')}).`);
    }
    for (const a of c.appliesToCombinations) {
      const key = `${c['@odata.type']} ${a}`;
      if (seen.has(key)) throw new ValidationError(`${field(i)}.appliesToCombinations`.replace(/^\./, ''), 'STR-2', `STR-2: the combination '${a}' already has a ${c['@odata.type'].replace('#microsoft.graph.', '')}; change that one instead.`);
      seen.add(key);
    }
  });
}

/** Server-chosen ids; OData annotations (other than the type) aren't stored. */
const withoutIds = <T extends { id?: string }>(configs: readonly T[]): T[] => configs.map(({ id: _id, ...c }) => withoutAnnotations(c) as T);
function withoutAnnotations<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([k]) => k === '@odata.type' || !k.includes('@odata.'))) as T;
}

const AUDIT = { add: 'Add authentication strength policy', update: 'Update authentication strength policy', delete: 'Delete authentication strength policy' } as const;

/** Save a changed custom strength, run the WIF-3 guard and audit, in the caller's transaction. */
async function commit(trx: Db, ctx: PolicyContext, before: AuthenticationStrength | null, after: AuthenticationStrength, op: 'add' | 'update'): Promise<void> {
  await saveStrength(trx, ctx.tenantId, after);
  const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
  await auditPolicyChange(trx, ctx, {
    activity: AUDIT[op], operationType: op === 'add' ? 'Add' : 'Update', target: { id: after.id, displayName: after.displayName },
    property: 'AuthenticationStrengthPolicy', before, after, lockout,
  });
}

/**
 * A custom strength's document from a request or an export (STR-2), validated whole: its name,
 * its combinations in Entra's spelling, its configurations with server-chosen ids, and
 * `requirementsSatisfied` as Graph computes it. Throws ValidationError naming the field.
 */
export function customStrengthDocument(raw: unknown, now: Date): Omit<AuthenticationStrength, 'id'> {
  const body = parseInput(strengthCreate, requireObject(raw, 'an authenticationStrengthPolicy'));
  assertDisplayName(body.displayName);
  const allowedCombinations = validateCombinations(body.allowedCombinations);
  const combinationConfigurations = validateCombinationConfigurations(withoutIds(body.combinationConfigurations ?? []), allowedCombinations, randomUUID);
  checkConfigurations(combinationConfigurations);
  const at = now.toISOString();
  return {
    displayName: body.displayName, description: body.description ?? null, policyType: 'custom',
    requirementsSatisfied: requirementsOf(allowedCombinations), allowedCombinations, combinationConfigurations, createdDateTime: at, modifiedDateTime: at,
  };
}

/** POST /policies/authenticationStrengthPolicies: a custom strength (STR-2). */
export async function createStrength(ctx: PolicyContext, raw: unknown): Promise<StrengthView> {
  authorizePolicyChange(ctx.actor, 'authenticationStrength');
  const document = customStrengthDocument(raw, ctx.now);
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const custom = await customStrengths(trx, ctx.tenantId);
    if (custom.length >= MAX_CUSTOM_STRENGTHS) {
      throw new ConflictError(`STR-2: a tenant has at most ${MAX_CUSTOM_STRENGTHS} custom authentication strengths and this one has ${custom.length}. Delete one first.`, { gatehouseRule: 'STR-2', limit: MAX_CUSTOM_STRENGTHS });
    }
    await assertUniqueName(trx, ctx.tenantId, document.displayName);
    const strength: AuthenticationStrength = { id: randomUUID(), ...document };
    await commit(trx, ctx, null, strength, 'add');
    return strengthView(strength);
  });
}

/** PATCH …/{id}: displayName and description only; combinations change through updateAllowedCombinations, as in Graph. */
export async function updateStrength(ctx: PolicyContext, id: string, raw: unknown): Promise<StrengthView> {
  authorizePolicyChange(ctx.actor, 'authenticationStrength');
  const obj = requireObject(raw, 'an authenticationStrengthPolicy');
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await writable(trx, ctx.tenantId, id);
    if ('allowedCombinations' in obj) {
      throw new ValidationError('allowedCombinations', 'STR-2', `STR-2: allowedCombinations can't be changed with PATCH; POST /policies/authenticationStrengthPolicies/${current.id}/updateAllowedCombinations instead.`);
    }
    const patch = parseInput(strengthUpdate, obj);
    assertDisplayName(patch.displayName);
    if (patch.displayName !== undefined) await assertUniqueName(trx, ctx.tenantId, patch.displayName, current.id);
    const next: AuthenticationStrength = {
      ...current, displayName: patch.displayName ?? current.displayName,
      description: patch.description === undefined ? current.description : patch.description, modifiedDateTime: ctx.now.toISOString(),
    };
    await commit(trx, ctx, current, next, 'update');
    return strengthView(next);
  });
}

/** DELETE …/{id}: refused while a Conditional Access policy names the strength (STR-2). */
export async function deleteStrength(ctx: PolicyContext, id: string): Promise<void> {
  authorizePolicyChange(ctx.actor, 'authenticationStrength');
  await ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await writable(trx, ctx.tenantId, id);
    const users = await policiesReferencing(trx, ctx.tenantId, { strengthId: current.id });
    if (users.length) {
      throw new ConflictError(
        `STR-2: the authentication strength '${current.displayName}' is used by ${users.length} Conditional Access ${users.length === 1 ? 'policy' : 'policies'}: `
        + `${users.map((p) => `'${p.displayName}' (${p.id})`).join(', ')}. Change or delete ${users.length === 1 ? 'it' : 'them'} first.`,
        { gatehouseRule: 'STR-2', conditionalAccessPolicies: users.map((p) => ({ id: p.id, displayName: p.displayName })) },
      );
    }
    await removeStrength(trx, ctx.tenantId, current.id);
    const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
    await auditPolicyChange(trx, ctx, { activity: AUDIT.delete, operationType: 'Delete', target: { id: current.id, displayName: current.displayName }, property: 'AuthenticationStrengthPolicy', before: current, after: null, lockout });
  });
}

const updateCombinationsBody = z.strictObject({
  allowedCombinations: z.array(z.string().max(200)).min(1, 'must list at least one combination (STR-2)').max(25),
});

/** POST …/{id}/updateAllowedCombinations: Graph's action; returns Graph's updateAllowedCombinationsResult. */
export async function updateAllowedCombinations(ctx: PolicyContext, id: string, raw: unknown) {
  authorizePolicyChange(ctx.actor, 'authenticationStrength');
  const body = parseInput(updateCombinationsBody, requireObject(raw, 'allowedCombinations'));
  const allowedCombinations = validateCombinations(body.allowedCombinations);
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await writable(trx, ctx.tenantId, id);
    current.combinationConfigurations.forEach((c, i) => {
      const gone = c.appliesToCombinations.find((a) => !allowedCombinations.includes(a));
      if (gone) throw new ValidationError('allowedCombinations', 'STR-2', `STR-2: combination configuration ${c.id} (combinationConfigurations.${i}) applies to '${gone}', which this change removes; delete or change that configuration first.`);
    });
    const next: AuthenticationStrength = { ...current, allowedCombinations, requirementsSatisfied: requirementsOf(allowedCombinations), modifiedDateTime: ctx.now.toISOString() };
    await commit(trx, ctx, current, next, 'update');
    const users = await policiesReferencing(trx, ctx.tenantId, { strengthId: current.id });
    return {
      additionalInformation: users.length
        ? `${users.length} Conditional Access ${users.length === 1 ? 'policy uses' : 'policies use'} this strength; the new combinations apply from their next evaluation.`
        : 'No Conditional Access policy uses this strength.',
      conditionalAccessReferences: users.map((p) => p.id),
      currentCombinations: allowedCombinations,
      previousCombinations: [...current.allowedCombinations],
    };
  });
}

// Combination configurations (STR-2: fido2 restricted to allowedAAGUIDs).

const aaguid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be an AAGUID').transform((s) => s.toLowerCase());
const configurationBody = z.looseObject({
  '@odata.type': z.enum(CONFIGURATION_TYPES as [string, ...string[]], `must be one of ${CONFIGURATION_TYPES.join(', ')}`),
  id: z.string().max(64).optional(),
  appliesToCombinations: z.array(z.string().max(200)).min(1, 'must name at least one combination').max(25),
  allowedAAGUIDs: z.array(aaguid).max(500).optional(),
});

/** One configuration validated against its strength; errors name the body's own fields. */
function parseConfiguration(raw: Record<string, unknown>, strength: AuthenticationStrength, id: string): CombinationConfiguration {
  const parsed = parseInput(configurationBody, withoutAnnotations(raw));
  try {
    return validateCombinationConfigurations([{ ...parsed, id }], strength.allowedCombinations, () => id)[0]!;
  } catch (err) {
    if (!(err instanceof ValidationError) || !err.target) throw err;
    throw new ValidationError(err.target.field.replace(/^combinationConfigurations\.0\.?/, '') || 'request body', err.target.rule, err.message);
  }
}

export async function listCombinationConfigurations(db: Db, tenantId: string, id: string): Promise<CombinationConfiguration[]> {
  return (await existing(db, tenantId, id)).combinationConfigurations;
}

export async function getCombinationConfiguration(db: Db, tenantId: string, id: string, configurationId: string): Promise<CombinationConfiguration> {
  const c = (await existing(db, tenantId, id)).combinationConfigurations.find((x) => x.id === configurationId);
  if (!c) throw new NotFoundError('authenticationCombinationConfiguration', configurationId);
  return c;
}

export async function addCombinationConfiguration(ctx: PolicyContext, id: string, raw: unknown): Promise<CombinationConfiguration> {
  authorizePolicyChange(ctx.actor, 'authenticationStrength');
  const obj = requireObject(raw, 'an authenticationCombinationConfiguration');
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await writable(trx, ctx.tenantId, id);
    const created = parseConfiguration(obj, current, randomUUID());
    const configurations = [...current.combinationConfigurations, created];
    checkConfigurations(configurations, () => '');
    await commit(trx, ctx, current, { ...current, combinationConfigurations: configurations, modifiedDateTime: ctx.now.toISOString() }, 'update');
    return created;
  });
}

export async function updateCombinationConfiguration(ctx: PolicyContext, id: string, configurationId: string, raw: unknown): Promise<CombinationConfiguration> {
  authorizePolicyChange(ctx.actor, 'authenticationStrength');
  const obj = requireObject(raw, 'an authenticationCombinationConfiguration');
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await writable(trx, ctx.tenantId, id);
    const old = current.combinationConfigurations.find((x) => x.id === configurationId);
    if (!old) throw new NotFoundError('authenticationCombinationConfiguration', configurationId);
    if (obj.id !== undefined && obj.id !== old.id) throw new ValidationError('id', 'matchesPath', `The body's id '${String(obj.id).slice(0, 64)}' does not match the configuration in the path.`);
    if (obj['@odata.type'] !== undefined && obj['@odata.type'] !== old['@odata.type']) {
      throw new ValidationError('@odata.type', 'immutable', `A ${old['@odata.type'].replace('#microsoft.graph.', '')} can't change its type; delete it and add a new one.`);
    }
    const updated = parseConfiguration({ ...old, ...obj }, current, old.id);
    const configurations = current.combinationConfigurations.map((c) => (c.id === old.id ? updated : c));
    checkConfigurations(configurations, () => '');
    await commit(trx, ctx, current, { ...current, combinationConfigurations: configurations, modifiedDateTime: ctx.now.toISOString() }, 'update');
    return updated;
  });
}

export async function deleteCombinationConfiguration(ctx: PolicyContext, id: string, configurationId: string): Promise<void> {
  authorizePolicyChange(ctx.actor, 'authenticationStrength');
  await ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await writable(trx, ctx.tenantId, id);
    if (!current.combinationConfigurations.some((x) => x.id === configurationId)) throw new NotFoundError('authenticationCombinationConfiguration', configurationId);
    const configurations = current.combinationConfigurations.filter((c) => c.id !== configurationId);
    await commit(trx, ctx, current, { ...current, combinationConfigurations: configurations, modifiedDateTime: ctx.now.toISOString() }, 'update');
  });
}

/** GET …/{id}/usage: Graph's authenticationStrengthUsage, the policies naming the strength split by what it satisfies. */
export async function strengthUsage(db: Db, tenantId: string, id: string): Promise<{ mfa: PolicyView[]; none: PolicyView[] }> {
  const s = await existing(db, tenantId, id);
  const strengths = await allStrengths(db, tenantId);
  const views: PolicyView[] = [];
  for (const p of await policiesReferencing(db, tenantId, { strengthId: s.id })) views.push(policyView(p, strengths, await findingsOf(db, tenantId, p)));
  return s.requirementsSatisfied === 'mfa' ? { mfa: views, none: [] } : { mfa: [], none: views };
}

const MODE_DETAILS: Record<string, [displayName: string, authenticationMethod: string]> = {
  password: ['Password', 'password'], voice: ['Voice', 'voice'], hardwareOath: ['Hardware OATH tokens', 'hardwareOath'],
  softwareOath: ['Software OATH tokens', 'softwareOath'], sms: ['SMS', 'sms'], fido2: ['FIDO2 Security Key', 'fido2'],
  windowsHelloForBusiness: ['Windows Hello for Business', 'windowsHelloForBusiness'],
  microsoftAuthenticatorPush: ['Microsoft Authenticator (push notification)', 'microsoftAuthenticator'],
  deviceBasedPush: ['Microsoft Authenticator (Passwordless)', 'microsoftAuthenticator'],
  temporaryAccessPassOneTime: ['Temporary Access Pass (one-time use)', 'temporaryAccessPass'],
  temporaryAccessPassMultiUse: ['Temporary Access Pass (multi-use)', 'temporaryAccessPass'],
  email: ['Email one-time passcode', 'email'],
  x509CertificateSingleFactor: ['Certificate-based authentication (single factor)', 'x509Certificate'],
  x509CertificateMultiFactor: ['Certificate-based authentication (multifactor)', 'x509Certificate'],
  federatedSingleFactor: ['Federation (single factor)', 'federation'], federatedMultiFactor: ['Federation (multifactor)', 'federation'],
  qrCodePin: ['QR code PIN', 'qrCodePin'],
};

/** Graph's authenticationMethodModeDetail list, with whether this server can perform each mode (MTH-1). */
export function authenticationMethodModes() {
  return AUTHENTICATION_METHOD_MODES.map((id) => ({
    id, displayName: MODE_DETAILS[id]?.[0] ?? id, authenticationMethod: MODE_DETAILS[id]?.[1] ?? id,
    gatehouseAvailability: IMPLEMENTED_MODES.includes(id) ? 'available' : 'notAvailableOnThisServer',
  }));
}

/** The combinations a custom strength may use (Graph's authenticationStrength/combinations). */
export function authenticationCombinations(): string[] {
  return [...VALID_COMBINATIONS];
}
