import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { evaluateSignIn } from '../../../src/engine/evaluateSignIn.ts';
import type { Decision } from '../../../src/engine/types.ts';
import {
  at, CA001, CA002, CA003, chat, deviceRegistration, didPasskey, didTap, input, passkey, portal, snapshot, tap, user,
} from '../../support/tenantPolicies.ts';

/** The common tenant of scenarios.md, decided for the situations of SC-1..SC-8 (SIG-1). */
const policyResult = (d: Decision, id: string) => d.appliedConditionalAccessPolicies.find((p) => p.id === id)!;
const ruleResult = (d: Decision, id: string) => d.platformRules.find((r) => r.id === id)!;

describe('SC-1 new user bootstraps with a TAP', () => {
  test('portal sign-in with a multi-use TAP is granted: CA001 success by the TAP, CA002 superseded under CA-6, PLT-1 satisfied', () => {
    const d = evaluateSignIn(input(snapshot(), user([tap()]), portal(), [didTap(0)]));
    assert.equal(d.outcome, 'grant', d.explanation.join('\n'));
    assert.equal(policyResult(d, CA001.id).result, 'success');
    assert.equal(policyResult(d, CA001.id).authenticationStrength?.authenticationStrengthResult, 'satisfied');
    const ca002 = policyResult(d, CA002.id);
    assert.equal(ca002.applies, true);
    assert.deepEqual(ca002.supersededBy, [CA001.id]);
    assert.equal(ca002.authenticationStrength?.authenticationStrengthResult, 'skippedForProofUp');
    assert.match(ca002.explanation, /CA-6/);
    assert.equal(ruleResult(d, 'PLT-1').result, 'satisfied');
    assert.equal(ruleResult(d, 'PLT-3').result, 'notApplicable');
    assert.equal(d.requirements.find((r) => r.id === `ca:${CA001.id}`)?.satisfiedBy?.combination, 'temporaryAccessPassMultiUse');
  });

  test('registering the passkey (fresh) is granted the same way', () => {
    const d = evaluateSignIn(input(snapshot(), user([tap()]), portal({ securityInfoOperation: 'register', at: at(3) }), [didTap(0)]));
    assert.equal(d.outcome, 'grant', d.explanation.join('\n'));
  });

  test('a second new user going straight to Chat with a TAP meets the registration interrupt (PLT-4) for CA002', () => {
    const d = evaluateSignIn(input(snapshot(), user([tap()]), chat(), [didTap(0)]));
    assert.equal(d.outcome, 'register', d.explanation.join('\n'));
    assert.equal(d.errorCode, 50079);
    assert.deepEqual(d.registration?.modes, ['fido2']);
    assert.equal(d.registration?.rule, 'PLT-4');
    assert.deepEqual(d.registration?.requirementIds, [`ca:${CA002.id}`]);
    assert.equal(ruleResult(d, 'PLT-4').result, 'fired');
    assert.equal(policyResult(d, CA001.id).result, 'notApplied');
    assert.equal(policyResult(d, CA002.id).result, 'failure');
    assert.ok(d.authenticationRequirementPolicies.some((p) => p.requirementProvider === 'gatehousePlatformRule' && p.detail.startsWith('PLT-4')));
  });

  test('after registering and using the passkey, Chat is granted, satisfied by fido2', () => {
    const d = evaluateSignIn(input(snapshot(), user([tap(), passkey()]), chat({ at: at(4) }), [didTap(0), didPasskey(3)]));
    assert.equal(d.outcome, 'grant', d.explanation.join('\n'));
    assert.equal(d.requirements.find((r) => r.id === `ca:${CA002.id}`)?.satisfiedBy?.combination, 'fido2');
  });
});

describe('SC-2 user who already holds a passkey signs in with a TAP', () => {
  const u = user([passkey(), tap()]);
  test('TAP at the portal: PLT-3 demands the existing passkey; no CA policy caused it', () => {
    const d = evaluateSignIn(input(snapshot(), u, portal(), [didTap(0)]));
    assert.equal(d.outcome, 'challenge', d.explanation.join('\n'));
    assert.equal(d.errorCode, 900403);
    const open = d.requirements.filter((r) => !r.satisfied);
    assert.deepEqual(open.map((r) => r.id), ['PLT-3']);
    assert.deepEqual(open[0]!.candidates.map((c) => c.methodId), ['pk-1']);
    assert.equal(ruleResult(d, 'PLT-3').result, 'required');
    assert.ok(d.authenticationRequirementPolicies.some((p) => p.requirementProvider === 'gatehousePlatformRule' && p.detail.startsWith('PLT-3')));
    assert.ok(d.appliedConditionalAccessPolicies.every((p) => p.result === 'success' || p.result === 'notApplied'), 'no CA policy fails');
  });
  test('after the step-up with the existing passkey, registering a second one is granted', () => {
    const d = evaluateSignIn(input(snapshot(), u, portal({ securityInfoOperation: 'register', at: at(2) }), [didTap(0), didPasskey(1)]));
    assert.equal(d.outcome, 'grant', d.explanation.join('\n'));
    assert.equal(ruleResult(d, 'PLT-3').result, 'satisfied');
  });
  test("with PLT-3 'off' the same TAP sign-in is granted; the TAP satisfies PLT-1", () => {
    const d = evaluateSignIn(input(snapshot({ platform: { existingMethodStepUp: 'off' } }), u, portal(), [didTap(0)]));
    assert.equal(d.outcome, 'grant', d.explanation.join('\n'));
    assert.equal(ruleResult(d, 'PLT-1').result, 'satisfied');
    assert.equal(ruleResult(d, 'PLT-3').result, 'notApplicable');
  });
});

describe('SC-3 lost passkey', () => {
  test('plain runbook: after the admin deletes the lost passkey, the TAP flows as in SC-1', () => {
    const d = evaluateSignIn(input(snapshot(), user([tap()]), portal(), [didTap(0)]));
    assert.equal(d.outcome, 'grant');
  });
  test('recovery case: a suspended passkey does not count for PLT-3, so the case TAP enters without step-up', () => {
    const d = evaluateSignIn(input(snapshot(), user([passkey('pk-1', { suspended: true, usable: false, usabilityReason: 'Suspended' }), tap(true)]), portal(), [didTap(0, true)]));
    assert.equal(d.outcome, 'grant', d.explanation.join('\n'));
    assert.equal(ruleResult(d, 'PLT-3').result, 'notApplicable');
    assert.match(ruleResult(d, 'PLT-3').sentence, /suspended/);
  });
});

describe('SC-4 registering an additional passkey', () => {
  const u = user([passkey()]);
  test('signed in with the existing passkey: allowed within PLT-2 freshness', () => {
    const d = evaluateSignIn(input(snapshot(), u, portal({ securityInfoOperation: 'register', at: at(4) }), [didPasskey(0)]));
    assert.equal(d.outcome, 'grant', d.explanation.join('\n'));
  });
  test('after 5 minutes PLT-2 asks for a fresh passkey sign-in', () => {
    const d = evaluateSignIn(input(snapshot(), u, portal({ securityInfoOperation: 'register', at: at(6) }), [didPasskey(0)]));
    assert.equal(d.outcome, 'challenge', d.explanation.join('\n'));
    assert.equal(d.errorCode, 900402);
    assert.deepEqual(d.requirements.filter((r) => !r.satisfied).map((r) => r.id), ['PLT-2']);
    assert.deepEqual(d.requirements.find((r) => r.id === 'PLT-2')!.candidates.map((c) => c.methodId), ['pk-1']);
  });
  test('viewing security info still works within the 15-minute session', () => {
    const d = evaluateSignIn(input(snapshot(), u, portal({ securityInfoOperation: 'view', at: at(10) }), [didPasskey(0)]));
    assert.equal(d.outcome, 'grant');
  });
  test('signed in with only a TAP: refused by PLT-3, naming the rule and both ways forward', () => {
    const d = evaluateSignIn(input(snapshot(), user([passkey(), tap()]), portal({ securityInfoOperation: 'register' }), [didTap(0)]));
    assert.equal(d.outcome, 'challenge');
    assert.match(d.failureReason!, /PLT-3/);
    assert.match(d.failureReason!, /existing passkey/);
    assert.match(d.failureReason!, /recovery case/);
  });
});

describe('SC-5 device enrolment with a TAP', () => {
  const policies = snapshot({ policies: [CA001, CA002, CA003] });
  test('device code completed with a TAP: granted, no interrupt, no nudge, CA003 success', () => {
    const d = evaluateSignIn(input(snapshot({ policies: [CA001, CA002, CA003], campaign: { state: 'enabled' } }), user([tap()]), deviceRegistration(), [didTap(0)]));
    assert.equal(d.outcome, 'grant', d.explanation.join('\n'));
    assert.equal(policyResult(d, CA003.id).result, 'success');
    assert.equal(policyResult(d, CA002.id).result, 'notApplied');
    assert.equal(policyResult(d, CA002.id).firstUnmetCondition?.condition, 'application');
    assert.equal(d.nudge, null);
    assert.equal(d.registration, null);
  });
  test('with CA002 no longer excluding device registration, the sign-in fails: no registrable method fits this client, naming CA002', () => {
    const ca002 = { ...CA002, conditions: { ...CA002.conditions, applications: { ...CA002.conditions.applications, excludeApplications: [] } } };
    const d = evaluateSignIn(input(snapshot({ policies: [CA001, ca002, CA003] }), user([tap()]), deviceRegistration(), [didTap(0)]));
    assert.equal(d.outcome, 'block', d.explanation.join('\n'));
    assert.equal(d.errorCode, 900404);
    assert.match(d.failureReason!, /no registrable method fits this client/);
    assert.match(d.failureReason!, /CA002/);
    assert.equal(ruleResult(d, 'PLT-4').result, 'fired');
    void policies;
  });
});

describe('SC-6 a policy that applies to nothing', () => {
  test('CA002 excluding every app: notApplied (application), PLT-3 is the source of the step-up', () => {
    const ca002 = { ...CA002, conditions: { ...CA002.conditions, applications: { ...CA002.conditions.applications, includeApplications: ['None'] } } };
    const d = evaluateSignIn(input(snapshot({ policies: [CA001, ca002] }), user([passkey(), tap()]), portal(), [didTap(0)]));
    assert.equal(d.outcome, 'challenge');
    assert.equal(policyResult(d, CA002.id).result, 'notApplied');
    assert.equal(policyResult(d, CA002.id).firstUnmetCondition?.condition, 'application');
    assert.match(policyResult(d, CA002.id).conditionsNotSatisfied, /application/);
    assert.deepEqual(d.requirements.filter((r) => !r.satisfied).map((r) => r.source), [{ kind: 'platform', rule: 'PLT-3' }]);
  });
});

describe('SC-7 registration campaign', () => {
  const u = (snoozeCount: number, snoozedUntil: string | null = null) => user([tap()], { campaign: { snoozeCount, snoozedUntil } });
  const open = snapshot({ policies: [], campaign: { state: 'enabled', snoozeDurationInDays: 1, enforceRegistrationAfterAllowedSnoozes: true } });
  test('campaign disabled: no nudge ever', () => {
    const d = evaluateSignIn(input(snapshot({ policies: [], campaign: { state: 'disabled' } }), u(0), chat(), [didTap(0)]));
    assert.equal(d.outcome, 'grant');
    assert.equal(d.nudge, null);
    assert.equal(ruleResult(d, 'PLT-5').result, 'notApplicable');
  });
  test('enabled: a user with MFA and no passkey is nudged and may snooze three times, then must register', () => {
    for (const n of [0, 1, 2]) {
      const d = evaluateSignIn(input(open, u(n), chat(), [didTap(0)]));
      assert.equal(d.outcome, 'grant');
      assert.equal(d.nudge?.mode, 'fido2');
      assert.equal(d.nudge?.canSnooze, true);
      assert.equal(d.nudge?.snoozesUsed, n);
    }
    const fourth = evaluateSignIn(input(open, u(3), chat(), [didTap(0)]));
    assert.equal(fourth.outcome, 'register');
    assert.equal(fourth.registration?.rule, 'PLT-5');
    assert.equal(fourth.errorCode, 50079);
  });
  test('a snoozed user is not nudged until the snooze ends', () => {
    const d = evaluateSignIn(input(open, u(1, at(60 * 24)), chat(), [didTap(0)]));
    assert.equal(d.nudge, null);
    assert.match(ruleResult(d, 'PLT-5').sentence, /snoozed/);
  });
  test('never in a client that cannot register, and never when the security-info gate would refuse', () => {
    assert.equal(evaluateSignIn(input(open, u(0), chat({ capabilities: { webauthn: false } }), [didTap(0)])).nudge, null);
    // The TAP was 10 minutes ago: registering now would need a fresh strong authentication (PLT-2), so no nudge.
    const stale = evaluateSignIn(input(open, u(0), chat({ at: at(10) }), [didTap(0)]));
    assert.equal(stale.outcome, 'grant');
    assert.equal(stale.nudge, null);
    assert.match(ruleResult(stale, 'PLT-5').sentence, /security-info gate would refuse/);
    const withPasskey = evaluateSignIn(input(open, user([passkey(), tap()]), chat(), [didTap(0), didPasskey(0)]));
    assert.equal(withPasskey.nudge, null, 'a user who holds a passkey is not nudged');
  });
});

describe('SC-8 failed registration is explained', () => {
  test('the registration step itself is decided like SC-1 step 1 (the failure reason comes from the passkey ceremony, not the engine)', () => {
    const d = evaluateSignIn(input(snapshot({ fido2: { keyRestrictions: { isEnforced: true, enforcementType: 'block', aaGuids: ['cb69481e-8ff7-4039-93ec-0a2729a154a8'] } } }), user([tap()]), portal({ securityInfoOperation: 'register' }), [didTap(0)]));
    assert.equal(d.outcome, 'grant');
  });
});
