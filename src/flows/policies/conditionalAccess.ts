import { randomUUID } from 'node:crypto';
import type { Actor } from '../../domain/actors.ts';
import {
  MAX_CA_POLICIES, parsePolicy, stripAnnotations, type CaGrantControls, type CaPolicy, type PolicyFinding,
} from '../../domain/conditionalAccess.ts';
import { permits, ROLE_TEMPLATES, type RouteScope } from '../../domain/directory.ts';
import { ConflictError, ForbiddenError, GatehouseError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import type { AuthenticationStrength } from '../../domain/strengths.ts';
import { isCleanText } from '../../domain/validation.ts';
import { writeAudit, type AuditEntry } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import {
  allStrengths, conditionalAccessPolicies, countConditionalAccessPolicies, deleteConditionalAccessPolicy as removePolicy,
  findConditionalAccessPolicy, loadPolicySnapshot, lockPolicies, saveConditionalAccessPolicy,
} from '../../store/policies.ts';
import { auditActor } from '../methods/context.ts';
import { guardAgainstLockout } from './guard.ts';
import { referenceFindings } from './references.ts';

/**
 * CA-1..CA-6 over the admin API, plus what every policy write shares (strengths, named
 * locations, platform settings, the methods policy): who may change policies, input the database
 * can hold, the WIF-3 lockout guard inside the write's transaction, and the audit record.
 */

// ---------------------------------------------------------------------------------------------
// Shared by every policy write

/** What every policy change gets: the database, the tenant, who acts, the clock, and whether WIF-3 is forced. */
export type PolicyContext = {
  db: Db;
  tenantId: string;
  actor: Actor;
  now: Date;
  /** WIF-3: save even when the guard says no Global Administrator could sign in (`?forceLockout=true`); audited. */
  force?: boolean;
  ipAddress?: string | null;
};

export type PolicyFamily = 'conditionalAccess' | 'authenticationStrength' | 'platformRules';

const role = (name: string) => ROLE_TEMPLATES.find((r) => r.displayName === name)!.id;
const GLOBAL_ADMIN = role('Global Administrator');
const CA_ADMIN = role('Conditional Access Administrator');
const SECURITY_ADMIN = role('Security Administrator');
const AUTH_POLICY_ADMIN = role('Authentication Policy Administrator');

/** Graph's least-privilege tables: which application permissions and which roles may change each family. */
const WRITERS: Record<PolicyFamily, { scopes: RouteScope[]; roles: string[]; what: string }> = {
  conditionalAccess: { scopes: ['policy.ca.write'], roles: [GLOBAL_ADMIN, CA_ADMIN, SECURITY_ADMIN], what: 'Conditional Access policies and named locations need Policy.ReadWrite.ConditionalAccess' },
  authenticationStrength: { scopes: ['policy.ca.write', 'policy.methods.write'], roles: [GLOBAL_ADMIN, CA_ADMIN, SECURITY_ADMIN, AUTH_POLICY_ADMIN], what: 'authentication strengths need Policy.ReadWrite.ConditionalAccess or Policy.ReadWrite.AuthenticationMethod' },
  platformRules: { scopes: ['policy.methods.write', 'policy.ca.write'], roles: [GLOBAL_ADMIN, CA_ADMIN, SECURITY_ADMIN, AUTH_POLICY_ADMIN], what: 'platform-rule settings need Policy.ReadWrite.AuthenticationMethod or Policy.ReadWrite.ConditionalAccess' },
};

export function authorizePolicyChange(actor: Actor, family: PolicyFamily): void {
  const w = WRITERS[family];
  if (actor.kind === 'operator') return;
  if (actor.kind === 'app') {
    if (!w.scopes.some((s) => permits(actor.permissions, s))) throw new ForbiddenError(`Insufficient privileges: changing ${w.what}.`);
    return;
  }
  if (!actor.roles.some((r) => w.roles.includes(r))) {
    throw new ForbiddenError(`Insufficient privileges: changing ${w.what.replace(/ need .*/, '')} needs one of the roles ${w.roles.map((id) => ROLE_TEMPLATES.find((t) => t.id === id)!.displayName).join(', ')}.`);
  }
}

/**
 * The database can't hold NUL characters or lone surrogates anywhere in a JSON document, and a
 * blank property name can't be named in an error: refuse them naming the property.
 */
export function assertStorable(value: unknown, path = '', depth = 0): void {
  const show = (p: string) => p.toWellFormed().replace(/\0/g, '\\0').slice(0, 200) || 'request body';
  const bad = (s: string) => s.includes('\0') || !s.isWellFormed();
  if (depth > 32) throw new ValidationError(show(path), 'depth', `'${show(path)}' is nested more than 32 levels deep.`);
  if (typeof value === 'string') {
    if (bad(value)) throw new ValidationError(show(path), 'text', `Invalid value for '${show(path)}': must not contain NUL characters or malformed Unicode.`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    if (bad(k)) throw new ValidationError(show(p), 'text', `A property name under '${show(path)}' contains NUL characters or malformed Unicode.`);
    if (k.trim() === '') throw new ValidationError(`${path ? `${show(path)}.` : ''}(empty property name)`, 'propertyName', 'A property with an empty or blank name is not supported.');
    assertStorable(v, p, depth + 1);
  }
}

/** Display names are shown in consoles and logs: no control characters. */
export function assertDisplayName(value: unknown, field = 'displayName'): void {
  if (typeof value === 'string' && !isCleanText(value)) throw new ValidationError(field, 'text', `Invalid value for '${field}': must not contain control characters or malformed Unicode.`);
}

export function requireObject(raw: unknown, what: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('request body', 'object', `The request body must be a JSON object (${what}).`);
  assertStorable(raw);
  return raw as Record<string, unknown>;
}

export type LockoutCheck = { forced: false } | { forced: true; reason: string };

/**
 * WIF-3, inside the write's transaction and after the write: would the tenant's policies, as
 * they now stand, leave no enabled Global Administrator able to sign in to the admin console?
 * Refused with 409 (the transaction rolls back) unless the request forces it.
 */
export async function enforceLockoutGuard(trx: Db, tenantId: string, now: Date, force = false): Promise<LockoutCheck> {
  const verdict = await guardAgainstLockout(trx, tenantId, await loadPolicySnapshot(trx, tenantId), now);
  if (verdict.ok) return { forced: false };
  if (!force) {
    throw new ConflictError(
      `WIF-3: ${verdict.reason} Nothing was saved. To save anyway, repeat the request with the query parameter forceLockout=true; the forced save is audited.`,
      { gatehouseRule: 'WIF-3', globalAdministrators: verdict.globalAdministrators },
    );
  }
  return { forced: true, reason: verdict.reason };
}

/** The audit record's note that a save was forced past WIF-3, and why it needed forcing. */
export function lockoutAuditDetails(check: LockoutCheck): AuditEntry['additionalDetails'] {
  return check.forced ? { forceLockout: true, 'WIF-3': `Saved with forceLockout=true although: ${check.reason}` } : {};
}

/** LOG-2: one directoryAudit record per policy change, in the change's transaction, with the old and new documents. */
export async function auditPolicyChange(trx: Db, ctx: PolicyContext, e: {
  activity: string; operationType: 'Add' | 'Update' | 'Delete'; loggedByService?: string;
  target: { id: string; displayName: string | null }; property: string; before: unknown; after: unknown; lockout: LockoutCheck;
}): Promise<void> {
  const lockout = lockoutAuditDetails(e.lockout);
  await writeAudit(trx, ctx.tenantId, {
    activityDisplayName: e.activity, category: 'Policy', operationType: e.operationType, result: 'success',
    loggedByService: e.loggedByService ?? 'Conditional Access', initiatedBy: auditActor(ctx.actor, ctx.ipAddress),
    target: { id: e.target.id, displayName: e.target.displayName, type: 'Policy' },
    modifiedProperties: [
      { displayName: e.property, oldValue: e.before ?? undefined, newValue: e.after ?? undefined },
      ...(e.lockout.forced ? [{ displayName: 'ForcedPastLockoutGuard', oldValue: null, newValue: `WIF-3: ${e.lockout.reason}` }] : []),
    ],
    additionalDetails: lockout,
  }, ctx.now);
}

// ---------------------------------------------------------------------------------------------
// Conditional Access policies (CA-1..CA-6)

/** Top-level properties of Graph's conditionalAccessPolicy (the domain parser's list); anything else is kept and reported (CA-4). */
const POLICY_PROPERTIES = new Set(['id', 'displayName', 'state', 'createdDateTime', 'modifiedDateTime', 'templateId', 'deletedDateTime', 'partialEnablementStrategy', 'conditions', 'grantControls', 'sessionControls', 'description']);
/** Set by the server, never taken from a request; `gatehouseFindings` is our own read-only extension. */
const SERVER_SET = ['id', 'createdDateTime', 'modifiedDateTime', 'gatehouseFindings'];

type PolicyDocument = Omit<CaPolicy, 'id' | 'createdDateTime' | 'modifiedDateTime'> & Record<string, unknown>;

/**
 * Parse a policy document: malformed input throws; what a disabled policy may carry comes back
 * as findings. Properties Gatehouse doesn't know are kept (so the finding naming them stays true
 * until an admin removes them, with `null` in a PATCH) rather than dropped silently.
 */
function parseDocument(doc: Record<string, unknown>): { document: PolicyDocument; findings: PolicyFinding[] } {
  assertDisplayName(doc.displayName);
  const { policy, findings } = parsePolicy(doc);
  const extras = Object.fromEntries(Object.entries(doc).filter(([k]) => !POLICY_PROPERTIES.has(k) && !SERVER_SET.includes(k)));
  const { id: _id, ...rest } = policy;
  const g = rest.grantControls;
  const grantControls: CaGrantControls | null = g ? { ...g, authenticationStrength: g.authenticationStrength ? { id: g.authenticationStrength.id.toLowerCase() } : null } : null;
  return { document: { ...rest, grantControls, ...extras }, findings };
}

function storedDocument(p: CaPolicy): Record<string, unknown> {
  const { id: _id, createdDateTime: _c, modifiedDateTime: _m, ...doc } = p as CaPolicy & Record<string, unknown>;
  return doc;
}

/** CA-4: a policy with findings can be stored only disabled; the 400 names the first finding and lists them all. */
function refuseUnlessDisabled(state: string, findings: PolicyFinding[]): void {
  if (state === 'disabled' || findings.length === 0) return;
  const first = findings[0]!;
  throw new GatehouseError(400, 'Request_BadRequest',
    `${first.rule}: this policy can be saved only with state 'disabled' (${findings.length} finding${findings.length === 1 ? '' : 's'}): `
    + findings.map((f) => `${f.field}: ${f.reason}`).join(' | '),
    { target: { field: first.field, rule: first.rule }, extra: { gatehouseFindings: findings } });
}

/** Why a stored policy can't be (or, for an enabled one, no longer is fully) evaluated: its CA-4/5/6 findings and dangling references. */
export async function findingsOf(db: Db, tenantId: string, p: CaPolicy): Promise<PolicyFinding[]> {
  let parsed: PolicyFinding[];
  try {
    parsed = parsePolicy(storedDocument(p)).findings;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    parsed = [{ field: err.target?.field ?? 'request body', rule: err.target?.rule ?? 'CA-1', reason: err.message }];
  }
  return [...parsed, ...await referenceFindings(db, tenantId, p)];
}

export type PolicyView = Record<string, unknown> & { id: string; displayName: string; state: CaPolicy['state']; gatehouseFindings: PolicyFinding[] };

/** Graph's conditionalAccessPolicy, the strength expanded as Graph does, plus `gatehouseFindings`. */
export function policyView(p: CaPolicy, strengths: readonly AuthenticationStrength[], findings: PolicyFinding[]): PolicyView {
  const { id, displayName, state, createdDateTime, modifiedDateTime, templateId, conditions, grantControls, sessionControls, ...extras } = p as CaPolicy & Record<string, unknown>;
  let grant = grantControls;
  const ref = grantControls?.authenticationStrength;
  if (grantControls && ref) {
    const s = strengths.find((x) => x.id.toLowerCase() === ref.id.toLowerCase());
    grant = {
      ...grantControls,
      authenticationStrength: s ? {
        id: s.id, createdDateTime: s.createdDateTime, modifiedDateTime: s.modifiedDateTime, displayName: s.displayName, description: s.description,
        policyType: s.policyType, requirementsSatisfied: s.requirementsSatisfied, allowedCombinations: s.allowedCombinations,
      } : { id: ref.id },
    };
  }
  return {
    id, templateId: templateId ?? null, displayName, createdDateTime, modifiedDateTime, state,
    sessionControls, conditions, grantControls: grant, ...extras, gatehouseFindings: findings,
  };
}

export async function listConditionalAccessPolicies(db: Db, tenantId: string): Promise<PolicyView[]> {
  const strengths = await allStrengths(db, tenantId);
  const out: PolicyView[] = [];
  for (const p of await conditionalAccessPolicies(db, tenantId)) out.push(policyView(p, strengths, await findingsOf(db, tenantId, p)));
  return out;
}

export async function getConditionalAccessPolicy(db: Db, tenantId: string, id: string): Promise<PolicyView> {
  const p = await findConditionalAccessPolicy(db, tenantId, id);
  if (!p) throw new NotFoundError('conditionalAccessPolicy', id);
  return policyView(p, await allStrengths(db, tenantId), await findingsOf(db, tenantId, p));
}

const AUDIT = { add: 'Add conditional access policy', update: 'Update conditional access policy', delete: 'Delete conditional access policy' } as const;

function policyBody(raw: unknown): Record<string, unknown> {
  return stripAnnotations(requireObject(raw, 'a conditionalAccessPolicy')) as Record<string, unknown>;
}

/** POST /identity/conditionalAccess/policies (CA-1): the server picks the id and the dates. */
export async function createConditionalAccessPolicy(ctx: PolicyContext, raw: unknown): Promise<PolicyView> {
  authorizePolicyChange(ctx.actor, 'conditionalAccess');
  const body = policyBody(raw);
  for (const k of SERVER_SET) delete body[k];
  const parsed = parseDocument(body);
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const count = await countConditionalAccessPolicies(trx, ctx.tenantId);
    if (count >= MAX_CA_POLICIES) {
      throw new ConflictError(`CA-1: a tenant has at most ${MAX_CA_POLICIES} Conditional Access policies, whatever their state, and this one has ${count}. Delete a policy first.`, { gatehouseRule: 'CA-1', limit: MAX_CA_POLICIES });
    }
    const findings = [...parsed.findings, ...await referenceFindings(trx, ctx.tenantId, parsed.document)];
    refuseUnlessDisabled(parsed.document.state, findings);
    const at = ctx.now.toISOString();
    const policy = { ...parsed.document, id: randomUUID(), createdDateTime: at, modifiedDateTime: at } as CaPolicy;
    await saveConditionalAccessPolicy(trx, ctx.tenantId, policy);
    const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
    await auditPolicyChange(trx, ctx, { activity: AUDIT.add, operationType: 'Add', target: { id: policy.id, displayName: policy.displayName }, property: 'ConditionalAccessPolicy', before: null, after: policy, lockout });
    return policyView(policy, await allStrengths(trx, ctx.tenantId), findings);
  });
}

/**
 * PATCH …/policies/{id}: top-level properties merge over the stored policy (an object given for
 * conditions, grantControls or sessionControls replaces the old one whole); the result is
 * validated as a whole, as if it were new.
 */
export async function updateConditionalAccessPolicy(ctx: PolicyContext, id: string, raw: unknown): Promise<PolicyView> {
  authorizePolicyChange(ctx.actor, 'conditionalAccess');
  const body = policyBody(raw);
  if (body.id !== undefined && (typeof body.id !== 'string' || body.id.toLowerCase() !== id.toLowerCase())) {
    throw new ValidationError('id', 'matchesPath', `The body's id '${String(body.id).slice(0, 64)}' does not match the policy in the path '${id.slice(0, 64)}'.`);
  }
  for (const k of SERVER_SET) delete body[k];
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await findConditionalAccessPolicy(trx, ctx.tenantId, id);
    if (!current) throw new NotFoundError('conditionalAccessPolicy', id);
    const merged: Record<string, unknown> = { ...storedDocument(current), ...body };
    // `null` removes a property Gatehouse doesn't know (so a disabled import can be cleaned up and enabled).
    for (const [k, v] of Object.entries(merged)) if (v === null && !POLICY_PROPERTIES.has(k)) delete merged[k];
    const parsed = parseDocument(merged);
    const findings = [...parsed.findings, ...await referenceFindings(trx, ctx.tenantId, parsed.document)];
    refuseUnlessDisabled(parsed.document.state, findings);
    const policy = { ...parsed.document, id: current.id, createdDateTime: current.createdDateTime, modifiedDateTime: ctx.now.toISOString() } as CaPolicy;
    await saveConditionalAccessPolicy(trx, ctx.tenantId, policy);
    const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
    await auditPolicyChange(trx, ctx, { activity: AUDIT.update, operationType: 'Update', target: { id: policy.id, displayName: policy.displayName }, property: 'ConditionalAccessPolicy', before: current, after: policy, lockout });
    return policyView(policy, await allStrengths(trx, ctx.tenantId), findings);
  });
}

export async function deleteConditionalAccessPolicy(ctx: PolicyContext, id: string): Promise<void> {
  authorizePolicyChange(ctx.actor, 'conditionalAccess');
  await ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await findConditionalAccessPolicy(trx, ctx.tenantId, id);
    if (!current) throw new NotFoundError('conditionalAccessPolicy', id);
    await removePolicy(trx, ctx.tenantId, current.id);
    const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
    await auditPolicyChange(trx, ctx, { activity: AUDIT.delete, operationType: 'Delete', target: { id: current.id, displayName: current.displayName }, property: 'ConditionalAccessPolicy', before: current, after: null, lockout });
  });
}

/** The policies that name a strength or a named location (STR-2, deleting a location), for 409s and `usage`. */
export async function policiesReferencing(db: Db, tenantId: string, ref: { strengthId?: string; namedLocationId?: string }): Promise<CaPolicy[]> {
  const strength = ref.strengthId?.toLowerCase();
  const location = ref.namedLocationId?.toLowerCase();
  return (await conditionalAccessPolicies(db, tenantId)).filter((p) => {
    if (strength && p.grantControls?.authenticationStrength?.id.toLowerCase() === strength) return true;
    const l = p.conditions.locations;
    return Boolean(location && l && [...l.includeLocations, ...l.excludeLocations].some((x) => x.toLowerCase() === location));
  });
}
