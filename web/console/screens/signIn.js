// One sign-in and the "why" panel (LOG-1, SIG-1, WIF-1/2): outcome and status, each
// authentication step, each requirement with its source (a CA policy or a platform rule PLT-n),
// satisfied or open, each CA policy's result with the first unmet condition, each platform rule,
// authenticationRequirementPolicies and the engine's explanation. Links to the user and to the
// audit records of the same correlation id; "Replay" re-decides it (WIF-2) and shows what differs.

import { outcomeOf } from './signIns.js';

const RESULT_TONE = { success: 'ok', failure: 'bad', notApplied: 'neutral', notEnabled: 'neutral', reportOnlySuccess: 'ok', reportOnlyFailure: 'warn', reportOnlyNotApplied: 'neutral' };
const RULE_TONE = { notApplicable: 'neutral', satisfied: 'ok', required: 'warn', fired: 'warn' };
const OUTCOME = {
  grant: 'Granted',
  challenge: 'Interrupted: more authentication was asked for (challenge)',
  register: 'Interrupted: a method had to be registered first (registration)',
  block: 'Blocked',
};

export default {
  path: '/logs/sign-ins/:id',
  title: 'Sign-in',
  async render(ctx) {
    const { ui, api, root, params, can } = ctx;
    const { h } = ui;
    if (!can.readLogs) {
      root.append(ui.notOffered('Reading the sign-in log needs one of the roles Global Administrator, Global Reader, Security Administrator, Security Reader or Reports Reader.'));
      return;
    }
    const stop = ui.loading(root, 'Loading the sign-in…');
    let r;
    try {
      r = await api.graph('GET', `/auditLogs/signIns/${encodeURIComponent(params.id)}`);
    } catch (err) {
      stop();
      root.replaceChildren(ui.problem(err, ctx.signInAgain), h('p', {}, ui.link('#/logs/sign-ins', 'Back to the sign-in log')));
      return;
    }
    stop();
    if (!ctx.current()) return;
    ctx.setTitle(`Sign-in of ${r.userPrincipalName || 'an unknown user'}, ${ui.when(r.createdDateTime)}`);
    const d = r.gatehouseDecision || null;
    const outcome = outcomeOf(r);
    root.replaceChildren();

    // Summary
    const summary = ui.section('Summary', { id: 'summary' });
    summary.append(ui.facts([
      ['When', ui.when(r.createdDateTime)],
      ['User', r.userId ? ui.link(`#/users/${r.userId}`, `${r.userDisplayName || ''} ${r.userPrincipalName ? `(${r.userPrincipalName})` : ''}`.trim()) : (r.userPrincipalName || 'unknown (no such user, or not named)')],
      ['Application', r.appDisplayName ? `${r.appDisplayName} (${r.appId})` : r.appId],
      ['Client', [r.clientAppUsed, r.isInteractive === false ? 'non-interactive' : 'interactive'].filter(Boolean).join(', ')],
      ['Address', r.ipAddress], ['User agent', r.userAgent],
      ['Transfer method', r.originalTransferMethod],
      ['Correlation id', r.correlationId ? h('span', {}, h('code', {}, r.correlationId), ' · ',
        ui.link(`#/logs/sign-ins?correlation=${encodeURIComponent(r.correlationId)}`, 'other steps of this sign-in'), ' · ',
        ui.link(`#/logs/audits?correlation=${encodeURIComponent(r.correlationId)}`, 'audit records with this correlation id')) : null],
    ]));
    root.append(summary);

    // Outcome
    const why = ui.section('Why: outcome', { id: 'why' });
    const s = r.status || {};
    why.append(ui.facts([
      ['Result', h('span', {}, ui.badge(outcome.text, outcome.tone))],
      ['Decision', d ? (OUTCOME[d.outcome] || d.outcome) : 'No decision: the engine did not decide this attempt (a failed or refused first factor, a token refresh, or a step before any factor).'],
      ['Error code', String(s.errorCode ?? '')], ['Failure reason', s.errorCode !== 0 ? s.failureReason : ''], ['Details', s.additionalDetails],
      ['Conditional Access', r.conditionalAccessStatus], ['Authentication requirement', r.authenticationRequirement],
    ], { id: 'outcome' }));
    if (d && Array.isArray(d.explanation) && d.explanation.length) {
      why.append(h('h3', {}, 'Explanation'), h('ol', { class: 'explanation' }, d.explanation.map((t) => h('li', {}, t))));
    }
    root.append(why);

    // Authentication steps
    const steps = ui.section('Authentication steps', { id: 'steps' });
    const details = Array.isArray(r.authenticationDetails) ? r.authenticationDetails : [];
    steps.append(details.length
      ? ui.table({ caption: 'Steps of this attempt', captionHidden: true, rows: details, columns: [
        { label: 'Method', header: true, cell: (x) => x.authenticationMethod || '' },
        { label: 'Detail', cell: (x) => x.authenticationMethodDetail || '' },
        { label: 'Succeeded', cell: (x) => (x.succeeded ? ui.badge('Yes', 'ok') : ui.badge('No', 'bad')) },
        { label: 'Result', cell: (x) => x.authenticationStepResultDetail || '' },
        { label: 'Time', cell: (x) => ui.when(x.authenticationStepDateTime || r.createdDateTime) },
      ] })
      : ui.empty('No authentication step was recorded for this attempt.'));
    root.append(steps);

    // Requirements
    const reqs = ui.section('Requirements and their sources', { id: 'requirements' });
    const requirements = d && Array.isArray(d.requirements) ? d.requirements : [];
    reqs.append(requirements.length
      ? ui.table({ caption: 'Each requirement, where it came from, and whether it was met', captionHidden: true, rows: requirements, columns: [
        { label: 'Requirement', header: true, cell: (q) => h('span', {}, q.description, q.strength ? h('span', { class: 'muted' }, ` (strength “${q.strength.displayName}”)`) : null) },
        { label: 'Source', cell: (q) => sourceOf(ui, q.source) },
        { label: 'State', cell: (q) => (q.satisfied ? ui.badge('Satisfied', 'ok') : ui.badge(`Open${q.errorCode ? ` (${q.errorCode})` : ''}`, 'bad')) },
        { label: 'Satisfied by', cell: (q) => satisfiedBy(q.satisfiedBy) },
        { label: 'Would satisfy it', cell: (q) => ((q.candidates || []).length ? q.candidates.map((c) => `${c.displayName || c.type} (${c.type})`).join(', ') : (q.satisfied ? '' : 'none of the user’s usable methods')) },
        { label: 'Note', cell: (q) => ((q.supersededBy || []).length ? `Superseded by ${q.supersededBy.join(', ')} (CA-6)` : '') },
      ] })
      : ui.empty(d ? 'No requirement applied: no CA policy and no platform rule asked for anything beyond the first factor.' : 'No decision was recorded, so there are no requirements to show.'));
    root.append(reqs);

    // CA policies
    const ca = ui.section('Conditional Access policies', { id: 'ca-policies' });
    const policies = Array.isArray(r.appliedConditionalAccessPolicies) ? r.appliedConditionalAccessPolicies : [];
    const explained = new Map((d && d.appliedConditionalAccessPolicies ? d.appliedConditionalAccessPolicies : []).map((p) => [p.id, p]));
    ca.append(policies.length
      ? ui.table({ caption: 'Each Conditional Access policy and its result', captionHidden: true, rows: policies, columns: [
        { label: 'Policy', header: true, cell: (p) => p.displayName },
        { label: 'Result', cell: (p) => ui.badge(p.result, RESULT_TONE[p.result] || 'neutral') },
        { label: 'First unmet condition', cell: (p) => (p.gatehouseFirstUnmetCondition ? h('span', {}, h('strong', {}, p.gatehouseFirstUnmetCondition.condition), `: ${p.gatehouseFirstUnmetCondition.detail}`) : '') },
        { label: 'Conditions', cell: (p) => ui.facts([['Satisfied', spaced(p.conditionsSatisfied)], ['Not satisfied', spaced(p.conditionsNotSatisfied)]], { class: 'facts compact' }) },
        { label: 'Grant controls', cell: (p) => [...(p.enforcedGrantControls || []), ...(p.authenticationStrength ? [`strength “${p.authenticationStrength.displayName}”: ${p.authenticationStrength.authenticationStrengthResult}`] : [])].join('; ') },
        { label: 'Explanation', cell: (p) => h('span', {}, (explained.get(p.id) || {}).explanation || '', (p.gatehouseSupersededBy || []).length ? h('span', { class: 'note' }, ` Its strength was superseded by ${p.gatehouseSupersededBy.join(', ')} (CA-6).`) : null) },
      ] })
      : ui.empty(d ? 'No Conditional Access policy exists in this tenant (or none was evaluated): no policy caused anything here.' : 'No decision was recorded, so no policy was evaluated.'));
    root.append(ca);

    // Platform rules
    const plt = ui.section('Platform rules', { id: 'platform-rules' });
    const rules = d && Array.isArray(d.platformRules) ? d.platformRules : [];
    plt.append(rules.length
      ? ui.table({ caption: 'Each platform rule and what it did', captionHidden: true, rows: rules, columns: [
        { label: 'Rule', header: true, cell: (x) => `${x.id}${x.name ? ` ${x.name}` : ''}` },
        { label: 'Result', cell: (x) => ui.badge(x.result, RULE_TONE[x.result] || 'neutral') },
        { label: 'Why', cell: (x) => x.sentence },
      ] })
      : ui.empty('No platform rule was evaluated for this attempt.'));
    root.append(plt);

    // authenticationRequirementPolicies
    const arp = ui.section('Requirement sources as Graph reports them', { id: 'requirement-policies' });
    const sources = Array.isArray(r.authenticationRequirementPolicies) ? r.authenticationRequirementPolicies : [];
    arp.append(sources.length
      ? h('ul', {}, sources.map((x) => h('li', {}, h('code', {}, x.requirementProvider), `: ${x.detail}`)))
      : h('p', {}, 'authenticationRequirementPolicies is empty: nothing beyond the first factor was required.'));
    root.append(arp);

    // Replay
    const replay = ui.section('Replay against current policies', { id: 'replay' });
    const result = h('div', { class: 'region', id: 'replay-result' });
    const button = h('button', { type: 'button', id: 'replay-button', onclick: async () => {
      const out = await ui.act(button, 'Replaying…', () => api.graph('POST', `/auditLogs/signIns/${r.id}/gatehouseReplay`, {}), { where: result, done: 'Replay finished.', signInAgain: ctx.signInAgain });
      if (out) result.replaceChildren(...replayView(ui, out));
    } }, 'Replay against current policies');
    replay.append(h('p', {}, 'Decides this sign-in again with the same engine, from what the record kept: against the policies it was decided under (it must come out the same) and against today’s policies (what would happen now). Nothing is written.'),
      d ? h('div', { class: 'actions' }, button) : ui.notOffered('This attempt has no recorded decision, so it can’t be replayed.'), result);
    root.append(replay);
  },
};

/** The combination that met a requirement, and the performed methods when they say more. */
function satisfiedBy(by) {
  if (!by) return '';
  const modes = (by.methods || []).map((m) => m.mode);
  return modes.length && modes.join(',') !== by.combination ? `${by.combination} (performed: ${modes.join(', ')})` : by.combination;
}

/** Graph's comma-joined flag lists ('users,application'), readable and wrappable. */
const spaced = (flags) => (typeof flags === 'string' ? flags.split(',').join(', ') : flags);

function sourceOf(ui, src) {
  const { h } = ui;
  if (!src) return '';
  if (src.kind === 'conditionalAccess') return h('span', {}, 'CA policy ', h('strong', {}, src.displayName), h('span', { class: 'muted' }, ` (${src.policyId})`));
  if (src.kind === 'platform') return h('span', {}, 'Platform rule ', h('strong', {}, src.rule));
  return JSON.stringify(src);
}

function replayView(ui, out) {
  const { h } = ui;
  const views = [];
  for (const v of out.value || []) {
    const label = v.against === 'recorded' ? 'Against the policies it was decided under' : v.against === 'current' ? 'Against the current policies' : 'Against the proposed policies';
    const verdict = v.against === 'recorded'
      ? (v.reproduces ? ui.badge('Reproduces the recorded decision', 'ok') : ui.badge('Does not reproduce the recorded decision', 'bad'))
      : (v.changed ? ui.badge(`Would change: ${v.recordedDecision.outcome} → ${v.replayedDecision.outcome}`, 'warn') : ui.badge(`No change: ${v.replayedDecision.outcome}`, 'ok'));
    const diff = v.differences || {};
    const lines = [];
    if (diff.outcome) lines.push(`Outcome: ${diff.outcome.recorded} → ${diff.outcome.replayed}`);
    if (diff.errorCode) lines.push(`Error code: ${diff.errorCode.recorded ?? 'none'} → ${diff.errorCode.replayed ?? 'none'}`);
    for (const p of diff.conditionalAccessPolicies || []) lines.push(`CA policy ${p.displayName}: ${p.recorded ?? 'absent'} → ${p.replayed ?? 'absent'}`);
    for (const p of diff.platformRules || []) lines.push(`${p.id}: ${p.recorded ?? 'absent'} → ${p.replayed ?? 'absent'} (${p.sentence})`);
    const rq = diff.requirements || {};
    for (const x of rq.added || []) lines.push(`New requirement: ${x.description} (${x.satisfied ? 'satisfied' : 'open'})`);
    for (const x of rq.removed || []) lines.push(`Requirement gone: ${x.description}`);
    for (const x of rq.changed || []) lines.push(`Requirement ${x.description}: ${x.recordedSatisfied ? 'satisfied' : 'open'} → ${x.replayedSatisfied ? 'satisfied' : 'open'}`);
    if (diff.acr) lines.push(`Authentication contexts: [${diff.acr.recorded.join(', ')}] → [${diff.acr.replayed.join(', ')}]`);
    views.push(h('div', { class: 'replay' }, h('h3', {}, label), h('p', {}, verdict, v.policyVersions ? h('span', { class: 'muted' }, ` policy version ${v.policyVersions.recorded} → ${v.policyVersions.replayed ?? 'proposed'}`) : null),
      lines.length ? h('ul', {}, lines.map((l) => h('li', {}, l))) : h('p', {}, 'No difference.')));
  }
  return views.length ? views : [ui.empty('The server returned no replay result.')];
}
