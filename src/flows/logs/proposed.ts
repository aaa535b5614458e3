import { z } from 'zod';
import { MAX_CA_POLICIES, parsePolicy, stripAnnotations, type CaGrantControls, type CaPolicy, type NamedLocation } from '../../domain/conditionalAccess.ts';
import { GatehouseError, ValidationError } from '../../domain/errors.ts';
import { platformSettingsPatch, platformSettingsSchema } from '../../domain/platformRules.ts';
import { BUILT_IN_STRENGTHS, MAX_CUSTOM_STRENGTHS, type AuthenticationStrength } from '../../domain/strengths.ts';
import { parseInput } from '../../domain/validation.ts';
import type { PolicySnapshot } from '../../engine/types.ts';
import type { Db } from '../../store/database.ts';
import { loadPolicySnapshot, policyVersionOf } from '../../store/policies.ts';
import { assertDisplayName, assertStorable } from '../policies/conditionalAccess.ts';
import { namedLocationDocument } from '../policies/namedLocations.ts';
import { referenceFindings } from '../policies/references.ts';
import { customStrengthDocument } from '../policies/strengths.ts';

/**
 * WIF-2: a proposed policy set, for replay and impact analysis. One shape serves both "a whole
 * proposed set" (`replaceAll`) and "the current set plus a draft change" (`upsert`/`delete`),
 * per family; families left out stay as they are now. Every document is validated with the
 * same parsers as the policy API, so a bad one is a 400 naming the field
 * (`conditionalAccessPolicies.upsert.0.conditions.users`). Nothing is written.
 *
 * ```json
 * { "conditionalAccessPolicies": { "upsert": [ { "id": "…", "displayName": "…", … } ], "delete": ["…"] },
 *   "namedLocations": { "replaceAll": [ … ] },
 *   "authenticationStrengthPolicies": { "upsert": [ … ] },
 *   "platformRulesPolicy": { "existingMethodStepUp": "off" } }
 * ```
 */
const changes = z.union([
  z.strictObject({ replaceAll: z.array(z.unknown()).max(1000, 'at most 1000 documents') }),
  z.strictObject({ upsert: z.array(z.unknown()).max(1000, 'at most 1000 documents').optional(), delete: z.array(z.string().max(100)).max(1000).optional() }),
], { error: "must be { replaceAll: [...] } or { upsert?: [...], delete?: [ids] }" });

export const proposedPoliciesSchema = z.strictObject({
  conditionalAccessPolicies: changes.optional(),
  namedLocations: changes.optional(),
  authenticationStrengthPolicies: changes.optional(),
  platformRulesPolicy: z.record(z.string(), z.unknown()).optional(),
});
export const PROPOSED_FAMILIES = ['conditionalAccessPolicies', 'namedLocations', 'authenticationStrengthPolicies', 'platformRulesPolicy'] as const;

type Changes = z.output<typeof changes>;

export type ProposedSet = {
  snapshot: PolicySnapshot;
  /** The current version the draft was applied to. */
  baseVersion: string | null;
  /** What the proposal changes, per family, in words. */
  summary: string[];
};

/** Re-throw a parser's ValidationError with the field's place in the proposed set in front. */
function within<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const inner = err.target?.field ?? '';
    const field = inner && inner !== 'request body' ? `${prefix}.${inner}` : prefix;
    const message = inner && inner !== 'request body' ? err.message.replaceAll(`'${inner}'`, `'${field}'`) : `${prefix}: ${err.message}`;
    throw new ValidationError(field, err.target?.rule ?? 'invalid', message);
  }
}

/** A document of the set: a JSON object; `strip` drops OData annotations as the policy API does for that resource. */
const docObject = (raw: unknown, field: string, what: string, strip = true): Record<string, unknown> => {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError(field, 'object', `'${field}' must be a JSON object (${what}).`);
  return (strip ? stripAnnotations(raw) : raw) as Record<string, unknown>;
};

/** Apply a family's changes to the current documents by id (ids compared lower-case). */
function applyChanges<T extends { id: string }>(
  family: string, current: readonly T[], c: Changes, parse: (raw: unknown, field: string, existing: T | undefined) => T, protectedIds: ReadonlySet<string> = new Set(),
): T[] {
  if ('replaceAll' in c) {
    const out: T[] = [];
    c.replaceAll.forEach((raw, i) => out.push(parse(raw, `${family}.replaceAll.${i}`, undefined)));
    assertUniqueIds(family, 'replaceAll', out);
    return out;
  }
  const byId = new Map(current.map((d) => [d.id.toLowerCase(), d]));
  (c.delete ?? []).forEach((id, i) => {
    const key = id.toLowerCase();
    if (protectedIds.has(key)) throw new ValidationError(`${family}.delete.${i}`, 'STR-1', `'${id.slice(0, 100)}' is a built-in and can't be deleted.`);
    if (!byId.delete(key)) throw new ValidationError(`${family}.delete.${i}`, 'exists', `There is no ${family} document '${id.slice(0, 100)}' to delete.`);
  });
  const upserted: T[] = [];
  (c.upsert ?? []).forEach((raw, i) => {
    const field = `${family}.upsert.${i}`;
    const id = raw !== null && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? ((raw as { id: string }).id).toLowerCase() : undefined;
    if (id && protectedIds.has(id)) throw new ValidationError(`${field}.id`, 'STR-1', `'${id}' is a built-in and is read-only.`);
    const doc = parse(raw, field, id ? byId.get(id) : undefined);
    upserted.push(doc);
    byId.set(doc.id.toLowerCase(), doc);
  });
  assertUniqueIds(family, 'upsert', upserted);
  return [...byId.values()];
}

function assertUniqueIds(family: string, op: string, docs: readonly { id: string }[]): void {
  const seen = new Set<string>();
  docs.forEach((d, i) => {
    const id = d.id.toLowerCase();
    if (seen.has(id)) throw new ValidationError(`${family}.${op}.${i}.id`, 'unique', `The id '${d.id}' appears twice in ${family}.${op}.`);
    seen.add(id);
  });
}

/** A draft document without an id gets one that says so; the engine only needs it to be unique. */
const draftId = (family: string, field: string) => `draft:${family}:${field.split('.').at(-1)}`;

/**
 * The proposed set as the engine sees it: the tenant's current snapshot with the changes
 * applied, validated as the policy API validates (CA-1..CA-6, STR-1/2, PLT settings).
 */
export async function proposedSnapshot(db: Db, tenantId: string, raw: unknown, now: Date): Promise<ProposedSet> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('proposed', 'object', 'The proposed policy set must be a JSON object.');
  assertStorable(raw);
  const body = parseInput(proposedPoliciesSchema, raw, 'proposed policy set');
  const current = await loadPolicySnapshot(db, tenantId);
  const at = now.toISOString();
  const summary: string[] = [];

  // Named locations and strengths first: the policies are checked against the proposed ones.
  let namedLocations = current.namedLocations;
  if (body.namedLocations) {
    namedLocations = applyChanges<NamedLocation>('namedLocations', current.namedLocations, body.namedLocations, (r, field, existing) => {
      const doc = docObject(r, field, 'an ipNamedLocation or countryNamedLocation', false);
      const parsed = within(field, () => namedLocationDocument(doc));
      const id = typeof doc.id === 'string' ? doc.id.toLowerCase() : draftId('namedLocations', field);
      return { ...parsed, id, createdDateTime: existing?.createdDateTime ?? at, modifiedDateTime: at } as NamedLocation;
    });
    summary.push(describe('named locations', current.namedLocations, namedLocations));
  }

  let strengths = current.strengths;
  if (body.authenticationStrengthPolicies) {
    const builtIn = new Set(BUILT_IN_STRENGTHS.map((s) => s.id.toLowerCase()));
    const custom = current.strengths.filter((s) => !builtIn.has(s.id.toLowerCase()));
    const next = applyChanges<AuthenticationStrength>('authenticationStrengthPolicies', custom, body.authenticationStrengthPolicies, (r, field, existing) => {
      const doc = docObject(r, field, 'an authenticationStrengthPolicy');
      const { id: rawId, createdDateTime: _c, modifiedDateTime: _m, policyType: _p, requirementsSatisfied: _r, ...rest } = doc;
      const parsed = within(field, () => customStrengthDocument(rest, now));
      const id = typeof rawId === 'string' ? rawId.toLowerCase() : draftId('authenticationStrengthPolicies', field);
      return { ...parsed, id, createdDateTime: existing?.createdDateTime ?? at };
    }, builtIn);
    if (next.length > MAX_CUSTOM_STRENGTHS) throw new ValidationError('authenticationStrengthPolicies', 'STR-2', `STR-2: a tenant has at most ${MAX_CUSTOM_STRENGTHS} custom authentication strengths; the proposed set has ${next.length}.`);
    const names = new Map<string, string>();
    for (const s of [...BUILT_IN_STRENGTHS, ...next]) {
      const key = s.displayName.trim().toLowerCase();
      if (names.has(key)) throw new ValidationError('authenticationStrengthPolicies', 'STR-2', `Two authentication strengths in the proposed set are named '${s.displayName}' (${names.get(key)} and ${s.id}).`);
      names.set(key, s.id);
    }
    strengths = [...BUILT_IN_STRENGTHS, ...next];
    summary.push(describe('custom authentication strengths', custom, next));
  }

  let platform = current.platform;
  if (body.platformRulesPolicy) {
    const patch = within('platformRulesPolicy', () => parseInput(platformSettingsPatch, body.platformRulesPolicy));
    const named = Object.keys(platformSettingsSchema.shape).filter((k) => k in body.platformRulesPolicy!) as (keyof typeof platform)[];
    platform = within('platformRulesPolicy', () => parseInput(platformSettingsSchema, { ...current.platform, ...Object.fromEntries(named.map((k) => [k, patch[k]])) }));
    const changed = named.filter((k) => platform[k] !== current.platform[k]);
    summary.push(changed.length ? `platform rules: ${changed.map((k) => `${k} ${String(current.platform[k])} → ${String(platform[k])}`).join(', ')}` : 'platform rules: unchanged');
  }

  let policies = current.conditionalAccessPolicies;
  if (body.conditionalAccessPolicies) {
    const strengthIds = new Set(strengths.map((s) => s.id.toLowerCase()));
    const locations = new Map(namedLocations.map((l) => [l.id.toLowerCase(), l]));
    const parsedPolicies: { policy: CaPolicy; field: string }[] = [];
    policies = applyChanges<CaPolicy>('conditionalAccessPolicies', current.conditionalAccessPolicies, body.conditionalAccessPolicies, (r, field, existing) => {
      const doc = docObject(r, field, 'a conditionalAccessPolicy');
      assertDisplayNameIn(field, doc.displayName);
      const { policy, findings } = parsePolicy(doc, `${field}.`);
      const g = policy.grantControls;
      const grantControls: CaGrantControls | null = g ? { ...g, authenticationStrength: g.authenticationStrength ? { id: g.authenticationStrength.id.toLowerCase() } : null } : null;
      const id = typeof doc.id === 'string' ? doc.id.toLowerCase() : draftId('conditionalAccessPolicies', field);
      const { id: _id, ...rest } = policy;
      const full = { ...rest, grantControls, id, createdDateTime: existing?.createdDateTime ?? at, modifiedDateTime: at } as CaPolicy;
      // CA-4 as the policy API applies it: a policy Gatehouse can't fully evaluate may only be disabled.
      if (full.state !== 'disabled' && findings.length) {
        const first = findings[0]!;
        throw new GatehouseError(400, 'Request_BadRequest', `${first.rule}: '${field}' can be proposed only with state 'disabled': ${first.field}: ${first.reason}`, { target: { field: first.field, rule: first.rule }, extra: { gatehouseFindings: findings } });
      }
      parsedPolicies.push({ policy: full, field });
      return full;
    });
    if (policies.length > MAX_CA_POLICIES) throw new ValidationError('conditionalAccessPolicies', 'CA-1', `CA-1: a tenant has at most ${MAX_CA_POLICIES} Conditional Access policies; the proposed set has ${policies.length}.`);
    // References: strengths and named locations against the proposed set, directory objects against the tenant.
    for (const { policy, field } of parsedPolicies) {
      if (policy.state === 'disabled') continue;
      const strength = policy.grantControls?.authenticationStrength?.id;
      if (strength && !strengthIds.has(strength)) throw new ValidationError(`${field}.grantControls.authenticationStrength.id`, 'CA-3', `No authentication strength ${strength} in the proposed set.`);
      for (const side of ['includeLocations', 'excludeLocations'] as const) {
        (policy.conditions.locations?.[side] ?? []).forEach((l, i) => {
          if (l === 'All' || l === 'AllTrusted') return;
          if (!locations.has(l.toLowerCase())) throw new ValidationError(`${field}.conditions.locations.${side}.${i}`, 'CA-4', `No named location ${l.slice(0, 100)} in the proposed set.`);
        });
      }
      const directory = (await referenceFindings(db, tenantId, policy)).filter((f) => !/authenticationStrength|locations/.test(f.field));
      if (directory.length) throw new ValidationError(`${field}.${directory[0]!.field}`, directory[0]!.rule, directory[0]!.reason);
    }
    summary.push(describe('Conditional Access policies', current.conditionalAccessPolicies, policies));
  } else {
    // Strengths or locations changed under the current policies: they must still resolve.
    const strengthIds = new Set(strengths.map((s) => s.id.toLowerCase()));
    const locationIds = new Set(namedLocations.map((l) => l.id.toLowerCase()));
    for (const p of policies) {
      if (p.state === 'disabled') continue;
      const strength = p.grantControls?.authenticationStrength?.id?.toLowerCase();
      if (strength && !strengthIds.has(strength)) throw new ValidationError('authenticationStrengthPolicies', 'CA-3', `The enabled policy '${p.displayName}' (${p.id}) uses authentication strength ${strength}, which the proposed set removes.`);
      for (const l of [...(p.conditions.locations?.includeLocations ?? []), ...(p.conditions.locations?.excludeLocations ?? [])]) {
        if (l !== 'All' && l !== 'AllTrusted' && !locationIds.has(l.toLowerCase())) throw new ValidationError('namedLocations', 'CA-4', `The enabled policy '${p.displayName}' (${p.id}) uses named location ${l}, which the proposed set removes.`);
      }
    }
  }

  const snapshot: PolicySnapshot = Object.freeze({ methodsPolicy: current.methodsPolicy, strengths, conditionalAccessPolicies: policies, namedLocations, platform });
  return { snapshot, baseVersion: policyVersionOf(current) ?? null, summary: summary.length ? summary : ['no change: the proposed set is the current set'] };
}

function assertDisplayNameIn(field: string, value: unknown): void {
  within(field, () => assertDisplayName(value));
}

function describe(what: string, before: readonly { id: string }[], after: readonly { id: string }[]): string {
  const b = new Map(before.map((d) => [d.id.toLowerCase(), d]));
  const a = new Map(after.map((d) => [d.id.toLowerCase(), d]));
  const added = [...a.keys()].filter((k) => !b.has(k)).length;
  const removed = [...b.keys()].filter((k) => !a.has(k)).length;
  const changed = [...a.keys()].filter((k) => b.has(k) && JSON.stringify(b.get(k)) !== JSON.stringify(a.get(k))).length;
  return `${what}: ${added} added, ${changed} changed, ${removed} removed (${after.length} in all)`;
}

/** Whether a request body names a proposed set (any of the families). */
export function namesProposedSet(body: unknown): boolean {
  return body !== null && typeof body === 'object' && !Array.isArray(body) && PROPOSED_FAMILIES.some((k) => k in (body as Record<string, unknown>));
}
