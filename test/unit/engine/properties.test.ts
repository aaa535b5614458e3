import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { CaPolicy } from '../../../src/domain/conditionalAccess.ts';
import { SIGN_IN_ERRORS } from '../../../src/domain/signInErrors.ts';
import { evaluateSignIn } from '../../../src/engine/evaluateSignIn.ts';
import type { Decision, SignInRequest } from '../../../src/engine/types.ts';
import {
  GROUP_IDS, inputOf, rawDisabledPolicyArb, rawPolicyArb, ROLE_IDS, signInCaseArb, toPolicies, toPolicy, USER_IDS,
  type SignInCase,
} from '../../support/policyArbitraries.ts';
import { APPS, at, CA001, CA002, CA003, chat, didTap, input, snapshot, tap, user } from '../../support/tenantPolicies.ts';

/**
 * Properties of the decision engine (SIG-1) over generated tenants: valid Conditional Access
 * policies (parsed as the API parses them), users, requests and sessions. Each test names the
 * rule it checks. PROPERTY_RUNS overrides the number of runs; fast-check prints the seed and the
 * shrunk counterexample of a failure.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const params = { numRuns: RUNS };

const decide = (c: SignInCase, policies: CaPolicy[]) => evaluateSignIn(inputOf(c, policies));
const open = (d: Decision) => d.requirements.filter((r) => !r.satisfied).map((r) => r.id);
/** What enforcement is about: the outcome, its error code and the open requirements. */
const verdict = (d: Decision) => ({ outcome: d.outcome, errorCode: d.errorCode, open: open(d) });
const why = (d: Decision) => d.explanation.join('\n');
const withoutPolicies = (d: Decision, ids: ReadonlySet<string>): Decision => ({ ...d, appliedConditionalAccessPolicies: d.appliedConditionalAccessPolicies.filter((p) => !ids.has(p.id)) });

/** A base policy set: sometimes the common tenant, plus up to 6 generated policies. */
const basePoliciesArb = fc.tuple(fc.boolean(), fc.array(rawPolicyArb(), { maxLength: 6 }))
  .map(([common, raws]) => [...(common ? [CA001, CA002, CA003] : []), ...toPolicies(raws)]);

/** Insert `extra` into `base` at the given positions (so extra policies are not always last). */
function interleave(base: CaPolicy[], extra: CaPolicy[], positions: number[]): CaPolicy[] {
  const out = [...base];
  extra.forEach((p, i) => out.splice((positions[i] ?? 0) % (out.length + 1), 0, p));
  return out;
}
const positionsArb = fc.array(fc.nat(), { minLength: 8, maxLength: 8 });

describe('decision engine properties (SIG-1)', () => {
  test('CA-5: exclusion always beats inclusion (by id, or by an excluded group or role the user has)', () => {
    const arb = fc.record({
      c: signInCaseArb, base: basePoliciesArb, raw: rawPolicyArb(), positions: positionsArb,
      include: fc.constantFrom('id', 'group', 'all'), exclude: fc.constantFrom('id', 'group', 'role'),
      includeGroup: fc.constantFrom(...GROUP_IDS), excludeGroup: fc.constantFrom(...GROUP_IDS), excludeRole: fc.constantFrom(...ROLE_IDS),
    });
    fc.assert(fc.property(arb, ({ c, base, raw, positions, include, exclude, includeGroup, excludeGroup, excludeRole }) => {
      const groups = [...new Set([...c.user.groupIds, ...(include === 'group' ? [includeGroup] : []), ...(exclude === 'group' ? [excludeGroup] : [])])];
      const roles = [...new Set([...c.user.roleTemplateIds, ...(exclude === 'role' ? [excludeRole] : [])])];
      const cs: SignInCase = { ...c, user: { ...c.user, groupIds: groups, roleTemplateIds: roles } };
      const r = structuredClone(raw);
      r.conditions.users = {
        includeUsers: include === 'all' ? ['All'] : include === 'id' ? [cs.user.id] : [],
        includeGroups: include === 'group' ? [includeGroup] : [],
        excludeUsers: exclude === 'id' ? [cs.user.id] : [],
        excludeGroups: exclude === 'group' ? [excludeGroup] : [],
        excludeRoles: exclude === 'role' ? [excludeRole] : [],
      };
      const target = toPolicy(r, 'ca0000e5-0000-4000-8000-000000000001');
      const d = decide(cs, interleave(base, [target], positions));
      const applied = d.appliedConditionalAccessPolicies.find((p) => p.id === target.id)!;
      assert.equal(applied.applies, false, why(d));
      assert.ok(['notApplied', 'reportOnlyNotApplied', 'notEnabled'].includes(applied.result), applied.result);
      if (target.state !== 'disabled') {
        assert.equal(applied.result, target.state === 'enabled' ? 'notApplied' : 'reportOnlyNotApplied');
        assert.equal(applied.firstUnmetCondition?.condition, 'users', JSON.stringify(applied.firstUnmetCondition));
        assert.match(applied.firstUnmetCondition!.detail, /exclu/);
      } else assert.equal(applied.result, 'notEnabled');
    }), params);
  });

  test('CA-5: adding a policy that does not apply to the user never changes the decision', () => {
    const otherUser = (id: string) => USER_IDS.find((u) => u !== id)!;
    const arb = fc.record({ c: signInCaseArb, base: basePoliciesArb, raw: rawPolicyArb(), positions: positionsArb, how: fc.constantFrom('otherUser', 'excluded', 'otherGroup') });
    fc.assert(fc.property(arb, ({ c, base, raw, positions, how }) => {
      const r = structuredClone(raw);
      const notMine = GROUP_IDS.filter((g) => !c.user.groupIds.includes(g));
      r.conditions.users = how === 'otherUser' ? { includeUsers: [otherUser(c.user.id)] }
        : how === 'excluded' || notMine.length === 0 ? { includeUsers: ['All'], excludeUsers: [c.user.id] }
          : { includeGroups: notMine.slice(0, 2) };
      const extra = toPolicy(r, 'ca0000b0-0000-4000-8000-000000000001');
      const before = decide(c, base);
      const after = decide(c, interleave(base, [extra], positions));
      assert.equal(after.appliedConditionalAccessPolicies.find((p) => p.id === extra.id)?.applies, false);
      assert.deepEqual(verdict(after), verdict(before), why(after));
      assert.deepEqual(after.requirements.map((x) => x.id), before.requirements.map((x) => x.id));
      // Stronger: apart from its own log entry, the whole decision is the same.
      assert.deepEqual(withoutPolicies(after, new Set([extra.id])), before);
    }), params);
  });

  test('CA-5: report-only policies never change the outcome, and only ever get reportOnly* results', () => {
    const reportOnly = rawPolicyArb(['enabledForReportingButNotEnforced']).filter((p) => p.state === 'enabledForReportingButNotEnforced');
    const arb = fc.record({ c: signInCaseArb, base: basePoliciesArb, extra: fc.array(reportOnly, { minLength: 1, maxLength: 4 }), positions: positionsArb });
    fc.assert(fc.property(arb, ({ c, base, extra, positions }) => {
      const ro = toPolicies(extra, 'ca0000a0');
      const all = interleave(base, ro, positions);
      const enforcedOnly = all.filter((p) => p.state !== 'enabledForReportingButNotEnforced');
      const dBase = decide(c, base);
      const dAll = decide(c, all);
      const dEnforced = decide(c, enforcedOnly);
      assert.deepEqual(verdict(dAll), verdict(dBase), why(dAll));
      assert.deepEqual(verdict(dAll), verdict(dEnforced), why(dAll));
      // Stronger: apart from their own log entries and the explanation that lists them, nothing differs
      // (PLT-6 included: a report-only sign-in frequency does not make the rule fire).
      const roIds = new Set(ro.map((p) => p.id));
      assert.deepEqual({ ...withoutPolicies(dAll, roIds), explanation: [] }, { ...withoutPolicies(dBase, roIds), explanation: [] });
      for (const p of dAll.appliedConditionalAccessPolicies.filter((x) => x.state === 'enabledForReportingButNotEnforced')) {
        assert.match(p.result, /^reportOnly(Success|Failure|NotApplied)$/, `${p.id}: ${p.result}`);
      }
    }), params);
  });

  test('CA-5: any applicable enabled block ends the sign-in (random policy sets)', () => {
    let blocked = 0;
    fc.assert(fc.property(signInCaseArb, basePoliciesArb, (c, policies) => {
      const d = decide(c, policies);
      const blocking = d.appliedConditionalAccessPolicies.filter((p) => p.state === 'enabled' && p.applies && p.enforcedGrantControls.includes('Block'));
      if (blocking.length && c.user.accountEnabled) {
        blocked++;
        assert.equal(d.outcome, 'block', why(d));
        assert.equal(d.errorCode, c.request.userAction === 'urn:user:registersecurityinfo' ? SIGN_IN_ERRORS.BlockedFromRegistering.code : SIGN_IN_ERRORS.BlockedByConditionalAccess.code);
        for (const b of blocking) assert.equal(b.result, 'failure');
      }
    }), params);
    assert.ok(blocked > 0, 'some generated cases have an applicable block');
  });

  test('CA-5: an enabled block policy aimed at the user ends the sign-in whatever else applies', () => {
    const arb = fc.record({ c: signInCaseArb, base: basePoliciesArb, positions: positionsArb, byId: fc.boolean() });
    fc.assert(fc.property(arb, ({ c, base, positions, byId }) => {
      const request: SignInRequest = { ...c.request, appId: c.request.appId ?? APPS.chat };
      const cs: SignInCase = { ...c, user: { ...c.user, accountEnabled: true }, request };
      const block = toPolicy({
        displayName: 'Block everything', state: 'enabled',
        conditions: { users: { includeUsers: byId ? [cs.user.id] : ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
        grantControls: { operator: 'OR', builtInControls: ['block'] },
      }, 'ca0000bb-0000-4000-8000-000000000001');
      const d = decide(cs, interleave(base, [block], positions));
      assert.equal(d.appliedConditionalAccessPolicies.find((p) => p.id === block.id)?.applies, true);
      assert.equal(d.outcome, 'block', why(d));
      assert.equal(d.errorCode, request.userAction === 'urn:user:registersecurityinfo' ? SIGN_IN_ERRORS.BlockedFromRegistering.code : SIGN_IN_ERRORS.BlockedByConditionalAccess.code);
      assert.equal(d.conditionalAccessStatus, 'failure');
    }), params);
  });

  test('SIG-1: deterministic: same input, structurally cloned input, twice, all give the same decision; the input is not mutated', () => {
    fc.assert(fc.property(signInCaseArb, basePoliciesArb, (c, policies) => {
      const input = inputOf(c, policies);
      const copy = structuredClone(input);
      const first = evaluateSignIn(input);
      const second = evaluateSignIn(input);
      const cloned = evaluateSignIn(structuredClone(input));
      assert.deepEqual(second, first);
      assert.deepEqual(cloned, first);
      assert.deepEqual(input, copy, 'evaluateSignIn does not mutate its input');
    }), params);
  });

  test('CA-1/CA-4: disabled policies (even ones Gatehouse cannot evaluate) never change the decision', () => {
    const arb = fc.record({ c: signInCaseArb, base: basePoliciesArb, extra: fc.array(rawDisabledPolicyArb, { minLength: 1, maxLength: 4 }), positions: positionsArb });
    fc.assert(fc.property(arb, ({ c, base, extra, positions }) => {
      const disabled = toPolicies(extra, 'ca0000d0');
      const before = decide(c, base);
      const after = decide(c, interleave(base, disabled, positions));
      assert.deepEqual(verdict(after), verdict(before), why(after));
      for (const p of disabled) assert.equal(after.appliedConditionalAccessPolicies.find((x) => x.id === p.id)?.result, 'notEnabled');
      assert.deepEqual(withoutPolicies(after, new Set(disabled.map((p) => p.id))), before);
    }), params);
  });

  test('SIG-1/PLT-5: the decision is well formed: grant iff nothing is open, nothing blocks and no enforced campaign; a challenge offers a candidate for every open requirement', () => {
    fc.assert(fc.property(signInCaseArb, basePoliciesArb, (c, policies) => {
      const d = decide(c, policies);
      const openReqs = d.requirements.filter((r) => !r.satisfied);
      const blocks = !c.user.accountEnabled || d.appliedConditionalAccessPolicies.some((p) => p.state === 'enabled' && p.applies && p.enforcedGrantControls.includes('Block'));
      // PLT-5: after the allowed snoozes an enforced registration campaign turns a sign-in with
      // nothing open and nothing blocking into 'register' (it is not a requirement of its own).
      const campaignEnforced = d.registration?.rule === 'PLT-5';
      if (campaignEnforced) {
        assert.equal(d.outcome, 'register');
        assert.equal(d.platformRules.find((r) => r.id === 'PLT-5')?.result, 'fired');
        assert.equal(openReqs.length, 0);
      }
      assert.equal(d.outcome === 'grant', openReqs.length === 0 && !blocks && !campaignEnforced, why(d));
      if (d.outcome === 'grant') {
        assert.equal(d.errorCode, null);
        assert.equal(d.failureReason, null);
      } else {
        assert.equal(typeof d.errorCode, 'number', why(d));
        assert.ok(d.failureReason);
      }
      if (d.outcome === 'challenge') {
        assert.ok(openReqs.length > 0);
        for (const r of openReqs) assert.ok(r.candidates.length > 0, `${r.id} is open with no candidate\n${why(d)}`);
      }
      if (d.outcome === 'register') assert.ok(d.registration && d.registration.modes.length > 0, why(d));
      if (blocks) assert.equal(d.outcome, 'block');
      assert.equal(d.appliedConditionalAccessPolicies.length, policies.length);
    }), params);
  });

  // The shrunk counterexample the report-only property found: a report-only policy's sign-in
  // frequency made PLT-6 'fired' ("requires re-authentication"), listed as a requirement source.
  test('CA-5/PLT-6: a report-only sign-in frequency is logged on its policy but does not make PLT-6 fire', () => {
    const everyTime = toPolicy({
      displayName: 'Report-only MFA every time', state: 'enabledForReportingButNotEnforced',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } },
      grantControls: { operator: 'AND', builtInControls: ['mfa'] },
      sessionControls: { signInFrequency: { isEnabled: true, frequencyInterval: 'everyTime', authenticationType: 'primaryAndSecondaryAuthentication' } },
    }, 'ca0000a6-0000-4000-8000-000000000001');
    const d = evaluateSignIn(input(snapshot({ policies: [everyTime] }), user([tap()]), chat({ at: at(4) }), [didTap(3)]));
    assert.equal(d.outcome, 'grant', why(d));
    const applied = d.appliedConditionalAccessPolicies[0]!;
    assert.equal(applied.result, 'reportOnlyFailure');
    assert.match(applied.explanation, /sign-in frequency every time: earlier methods are too old/);
    assert.equal(d.platformRules.find((r) => r.id === 'PLT-6')?.result, 'notApplicable');
    assert.ok(!d.authenticationRequirementPolicies.some((r) => r.detail.startsWith('PLT-6')));
  });
});
