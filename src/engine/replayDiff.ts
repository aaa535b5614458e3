import type { Decision, PlatformRuleResult, PolicyResult, Requirement } from './types.ts';

/**
 * WIF-2: how a re-decided sign-in differs from the decision recorded for it. Pure: compares two
 * decisions as plain data (the recorded one comes back from the log as JSON, so both are compared
 * in their JSON form: key order and absent-versus-undefined don't count).
 */
export type RequirementChange = { id: string; description: string; recordedSatisfied: boolean; replayedSatisfied: boolean };
export type RequirementEntry = { id: string; description: string; satisfied: boolean };
export type PolicyResultChange = { id: string; displayName: string; recorded: PolicyResult | null; replayed: PolicyResult | null };
export type PlatformRuleChange = { id: string; recorded: PlatformRuleResult['result'] | null; replayed: PlatformRuleResult['result'] | null; sentence: string };

export type DecisionDifferences = {
  outcome: { recorded: Decision['outcome']; replayed: Decision['outcome'] } | null;
  errorCode: { recorded: number | null; replayed: number | null } | null;
  requirements: { added: RequirementEntry[]; removed: RequirementEntry[]; changed: RequirementChange[] };
  conditionalAccessPolicies: PolicyResultChange[];
  platformRules: PlatformRuleChange[];
  acr: { recorded: string[]; replayed: string[] } | null;
};

/** What made the difference, for an impact example: the first CA policy or platform rule whose result changed. */
export type DecisiveChange =
  | { kind: 'conditionalAccess'; id: string; displayName: string; recorded: PolicyResult | null; replayed: PolicyResult | null }
  | { kind: 'platformRule'; id: string; recorded: string | null; replayed: string | null; sentence: string }
  | { kind: 'requirement'; id: string; description: string; change: 'added' | 'removed' | 'satisfied' | 'unsatisfied' }
  | { kind: 'other'; detail: string };

export type DecisionComparison = {
  /** The replayed decision is the recorded one, field for field (explanations included). */
  identical: boolean;
  /** Something a reader acts on changed (outcome, code, a requirement, a policy or rule result, acr). */
  changed: boolean;
  differences: DecisionDifferences;
};

export function compareDecisions(recorded: Decision, replayed: Decision): DecisionComparison {
  const differences = diffDecisions(recorded, replayed);
  const changed = hasDifferences(differences);
  return { identical: !changed && canonicalJson(recorded) === canonicalJson(replayed), changed, differences };
}

export function diffDecisions(recorded: Decision, replayed: Decision): DecisionDifferences {
  const req = (r: Requirement): RequirementEntry => ({ id: r.id, description: r.description, satisfied: r.satisfied });
  const before = new Map((recorded.requirements ?? []).map((r) => [r.id, r]));
  const after = new Map((replayed.requirements ?? []).map((r) => [r.id, r]));
  const requirements: DecisionDifferences['requirements'] = { added: [], removed: [], changed: [] };
  for (const [id, r] of after) {
    const was = before.get(id);
    if (!was) requirements.added.push(req(r));
    else if (was.satisfied !== r.satisfied) requirements.changed.push({ id, description: r.description, recordedSatisfied: was.satisfied, replayedSatisfied: r.satisfied });
  }
  for (const [id, r] of before) if (!after.has(id)) requirements.removed.push(req(r));

  const policiesBefore = new Map((recorded.appliedConditionalAccessPolicies ?? []).map((p) => [p.id, p]));
  const policiesAfter = new Map((replayed.appliedConditionalAccessPolicies ?? []).map((p) => [p.id, p]));
  const conditionalAccessPolicies: PolicyResultChange[] = [];
  for (const [id, p] of policiesAfter) {
    const was = policiesBefore.get(id);
    if (!was || was.result !== p.result) conditionalAccessPolicies.push({ id, displayName: p.displayName, recorded: was?.result ?? null, replayed: p.result });
  }
  for (const [id, p] of policiesBefore) if (!policiesAfter.has(id)) conditionalAccessPolicies.push({ id, displayName: p.displayName, recorded: p.result, replayed: null });

  const rulesBefore = new Map((recorded.platformRules ?? []).map((r) => [r.id, r]));
  const rulesAfter = new Map((replayed.platformRules ?? []).map((r) => [r.id, r]));
  const platformRules: PlatformRuleChange[] = [];
  for (const [id, r] of rulesAfter) {
    const was = rulesBefore.get(id);
    if (!was || was.result !== r.result) platformRules.push({ id, recorded: was?.result ?? null, replayed: r.result, sentence: r.sentence });
  }
  for (const [id, r] of rulesBefore) if (!rulesAfter.has(id)) platformRules.push({ id, recorded: r.result, replayed: null, sentence: r.sentence });

  const acrBefore = [...(recorded.acr ?? [])].sort();
  const acrAfter = [...(replayed.acr ?? [])].sort();
  return {
    outcome: recorded.outcome === replayed.outcome ? null : { recorded: recorded.outcome, replayed: replayed.outcome },
    errorCode: (recorded.errorCode ?? null) === (replayed.errorCode ?? null) ? null : { recorded: recorded.errorCode ?? null, replayed: replayed.errorCode ?? null },
    requirements, conditionalAccessPolicies, platformRules,
    acr: acrBefore.join(' ') === acrAfter.join(' ') ? null : { recorded: recorded.acr ?? [], replayed: replayed.acr ?? [] },
  };
}

export function hasDifferences(d: DecisionDifferences): boolean {
  return d.outcome !== null || d.errorCode !== null || d.acr !== null || d.conditionalAccessPolicies.length > 0 || d.platformRules.length > 0
    || d.requirements.added.length > 0 || d.requirements.removed.length > 0 || d.requirements.changed.length > 0;
}

/**
 * The change that best explains a different outcome: a CA policy that now fails or no longer
 * fails comes first, then a platform rule that now acts or no longer acts, then any other policy
 * or rule change, then a requirement.
 */
export function decisiveChange(d: DecisionDifferences): DecisiveChange | null {
  const failing = (r: string | null) => r === 'failure';
  const acting = (r: string | null) => r === 'required' || r === 'fired';
  const caFlip = d.conditionalAccessPolicies.find((p) => failing(p.recorded) !== failing(p.replayed));
  if (caFlip) return { kind: 'conditionalAccess', ...caFlip };
  const ruleFlip = d.platformRules.find((r) => acting(r.recorded) !== acting(r.replayed));
  if (ruleFlip) return { kind: 'platformRule', ...ruleFlip };
  const ca = d.conditionalAccessPolicies[0];
  if (ca) return { kind: 'conditionalAccess', ...ca };
  const rule = d.platformRules[0];
  if (rule) return { kind: 'platformRule', ...rule };
  const added = d.requirements.added[0];
  if (added) return { kind: 'requirement', id: added.id, description: added.description, change: 'added' };
  const removed = d.requirements.removed[0];
  if (removed) return { kind: 'requirement', id: removed.id, description: removed.description, change: 'removed' };
  const changed = d.requirements.changed[0];
  if (changed) return { kind: 'requirement', id: changed.id, description: changed.description, change: changed.replayedSatisfied ? 'satisfied' : 'unsatisfied' };
  if (d.outcome || d.errorCode || d.acr) return { kind: 'other', detail: d.acr ? 'the authentication contexts satisfied changed' : 'the outcome changed' };
  return null;
}

/** JSON with object keys sorted and undefined members dropped: equal strings, equal data. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.keys(value).sort().flatMap((k) => {
    const v = (value as Record<string, unknown>)[k];
    return v === undefined || typeof v === 'function' ? [] : [`${JSON.stringify(k)}:${canonicalJson(v)}`];
  });
  return `{${entries.join(',')}}`;
}
