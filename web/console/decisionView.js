// The engine's decision (SIG-1, docs/conditional-access.md) as the console shows it: the outcome,
// each requirement with its source (a CA policy or a platform rule PLT-n) and state, each CA
// policy's result with the first unmet condition, each platform rule's sentence, and the
// explanation. Used by What-If (screens/whatif.js); the sign-in "why" panel (screens/signIn.js)
// renders the logged record's own fields the same way.

import { h } from './ui.js';

export const RESULT_TONE = { success: 'ok', failure: 'bad', notApplied: 'neutral', notEnabled: 'neutral', reportOnlySuccess: 'ok', reportOnlyFailure: 'warn', reportOnlyNotApplied: 'neutral', reportOnlyInterrupted: 'warn' };
export const RULE_TONE = { notApplicable: 'neutral', satisfied: 'ok', required: 'warn', fired: 'warn' };
export const OUTCOME_TONE = { grant: 'ok', challenge: 'warn', register: 'warn', block: 'bad' };
export const OUTCOME_TEXT = {
  grant: 'Granted',
  challenge: 'Challenge: more authentication is asked for',
  register: 'Registration: a method must be registered first',
  block: 'Blocked',
};

function sourceOf(src) {
  if (!src) return '';
  if (src.kind === 'conditionalAccess') return h('span', {}, 'CA policy ', h('strong', {}, src.displayName || src.policyId));
  if (src.kind === 'platform') return h('span', {}, 'Platform rule ', h('strong', {}, src.rule));
  return JSON.stringify(src);
}

/**
 * Sections for one decision. `d`: the engine's decision; `ui`: ui.js. `idPrefix` keeps ids unique
 * when two decisions are on one page.
 */
export function decisionView(ui, d, idPrefix = 'decision') {
  const out = [];
  const outcome = ui.section('Outcome', { id: `${idPrefix}-outcome` });
  outcome.append(ui.facts([
    ['Outcome', ui.badge(OUTCOME_TEXT[d.outcome] || d.outcome, OUTCOME_TONE[d.outcome] || 'neutral')],
    ['Error code', d.errorCode === null || d.errorCode === undefined ? 'none' : String(d.errorCode)],
    ['Failure reason', d.failureReason || ''],
    ['Conditional Access', d.conditionalAccessStatus],
    ['Authentication requirement', d.authenticationRequirement],
    ['Registration', d.registration ? `${d.registration.rule}: ${d.registration.sentence}` : ''],
    ['Authentication contexts met', (d.acr || []).join(', ')],
    ['Risk', d.risk ? `sign-in risk ${d.risk.signInRiskLevel}, user risk ${d.risk.userRiskLevel} (Gatehouse has no risk detection)` : ''],
  ]));
  if (Array.isArray(d.explanation) && d.explanation.length) {
    outcome.append(h('h3', {}, 'Explanation'), h('ol', { class: 'explanation' }, d.explanation.map((t) => h('li', {}, t))));
  }
  out.push(outcome);

  const reqs = ui.section('Requirements and their sources', { id: `${idPrefix}-requirements` });
  const requirements = Array.isArray(d.requirements) ? d.requirements : [];
  reqs.append(requirements.length
    ? ui.table({ caption: 'Each requirement, where it came from, and whether it is met', captionHidden: true, rows: requirements, columns: [
      { label: 'Requirement', header: true, cell: (q) => h('span', {}, q.description, q.strength ? h('span', { class: 'muted' }, ` (strength “${q.strength.displayName}”)`) : null) },
      { label: 'Source', cell: (q) => sourceOf(q.source) },
      { label: 'State', cell: (q) => (q.satisfied ? ui.badge('Met', 'ok') : ui.badge(`Open${q.errorCode ? ` (${q.errorCode})` : ''}`, 'bad')) },
      { label: 'Met by', cell: (q) => (q.satisfiedBy ? `${q.satisfiedBy.combination}` : '') },
      { label: 'Would meet it', cell: (q) => ((q.candidates || []).length ? q.candidates.map((c) => `${c.displayName || c.type} (${c.type})`).join(', ') : (q.satisfied ? '' : 'none of the user’s usable methods')) },
      { label: 'Note', cell: (q) => ((q.supersededBy || []).length ? `Superseded by ${q.supersededBy.join(', ')} (CA-6)` : '') },
    ] })
    : ui.empty('No requirement applies: no CA policy and no platform rule asks for anything beyond the first factor.'));
  out.push(reqs);

  const ca = ui.section('Conditional Access policies', { id: `${idPrefix}-policies` });
  const policies = Array.isArray(d.appliedConditionalAccessPolicies) ? d.appliedConditionalAccessPolicies : [];
  ca.append(policies.length
    ? ui.table({ caption: 'Each Conditional Access policy and its result', captionHidden: true, rows: policies, columns: [
      { label: 'Policy', header: true, cell: (p) => h('a', { href: `#/policies/ca/${encodeURIComponent(p.id)}` }, p.displayName) },
      { label: 'Result', cell: (p) => ui.badge(p.result, RESULT_TONE[p.result] || 'neutral') },
      { label: 'First unmet condition', cell: (p) => (p.firstUnmetCondition ? h('span', {}, h('strong', {}, p.firstUnmetCondition.condition), `: ${p.firstUnmetCondition.detail}`) : '') },
      { label: 'Grant controls', cell: (p) => [...(p.enforcedGrantControls || []), ...(p.authenticationStrength ? [`strength “${p.authenticationStrength.displayName}”: ${p.authenticationStrength.authenticationStrengthResult}`] : [])].join('; ') },
      { label: 'Explanation', cell: (p) => p.explanation || '' },
    ] })
    : ui.empty('This tenant has no Conditional Access policy, so none applies. Create one under Conditional Access.'));
  out.push(ca);

  const plt = ui.section('Platform rules', { id: `${idPrefix}-platform-rules` });
  const rules = Array.isArray(d.platformRules) ? d.platformRules : [];
  plt.append(rules.length
    ? ui.table({ caption: 'Each platform rule and what it would do', captionHidden: true, rows: rules, columns: [
      { label: 'Rule', header: true, cell: (x) => `${x.id}${x.name ? ` ${x.name}` : ''}` },
      { label: 'Result', cell: (x) => ui.badge(x.result, RULE_TONE[x.result] || 'neutral') },
      { label: 'Why', cell: (x) => x.sentence },
    ] })
    : ui.empty('No platform rule was evaluated.'));
  out.push(plt);
  return out;
}
