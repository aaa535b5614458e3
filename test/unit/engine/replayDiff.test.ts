import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { evaluateSignIn } from '../../../src/engine/evaluateSignIn.ts';
import { canonicalJson, compareDecisions, decisiveChange, diffDecisions, hasDifferences } from '../../../src/engine/replayDiff.ts';
import { CA001, CA002, chat, didPasskey, didTap, input, passkey, portal, snapshot, tap, user } from '../../support/tenantPolicies.ts';

/** WIF-2: the pure comparison of a recorded decision with a re-decided one. */
const jsonCopy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('replay diff (WIF-2)', () => {
  test('the same input decided again is identical, also after a JSON round trip with keys reordered (as the log stores it)', () => {
    const d = evaluateSignIn(input(snapshot(), user([tap()]), chat(), [didTap(0)]));
    const again = evaluateSignIn(input(snapshot(), user([tap()]), chat(), [didTap(0)]));
    const reordered = JSON.parse(canonicalJson(d));
    const c = compareDecisions(reordered, again);
    assert.equal(c.identical, true);
    assert.equal(c.changed, false);
    assert.equal(hasDifferences(c.differences), false);
    assert.deepEqual(c.differences.requirements, { added: [], removed: [], changed: [] });
  });

  test('SC-1 Chat: CA002 turned off changes register → grant; the CA policy, the requirement removed, PLT-4 and the code are named', () => {
    const recorded = evaluateSignIn(input(snapshot(), user([tap()]), chat(), [didTap(0)]));
    const ca002Off = { ...CA002, state: 'disabled' as const };
    const replayed = evaluateSignIn(input(snapshot({ policies: [CA001, ca002Off] }), user([tap()]), chat(), [didTap(0)]));
    const c = compareDecisions(jsonCopy(recorded), replayed);
    assert.equal(c.identical, false);
    assert.equal(c.changed, true);
    const d = c.differences;
    assert.deepEqual(d.outcome, { recorded: 'register', replayed: 'grant' });
    assert.deepEqual(d.errorCode, { recorded: 50079, replayed: null });
    assert.deepEqual(d.requirements.removed.map((r) => r.id), [`ca:${CA002.id}`]);
    assert.deepEqual(d.requirements.added, []);
    assert.deepEqual(d.conditionalAccessPolicies.map((p) => [p.id, p.recorded, p.replayed]), [[CA002.id, 'failure', 'notEnabled']]);
    assert.ok(d.platformRules.some((r) => r.id === 'PLT-4' && r.recorded === 'fired' && r.replayed === 'notApplicable'));
    assert.deepEqual(decisiveChange(d), { kind: 'conditionalAccess', id: CA002.id, displayName: CA002.displayName, recorded: 'failure', replayed: 'notEnabled' });
  });

  test('SC-2: PLT-3 off turns the challenge into a grant; the decisive change is the platform rule', () => {
    const u = user([passkey(), tap()]);
    const recorded = evaluateSignIn(input(snapshot(), u, portal(), [didTap(0)]));
    const replayed = evaluateSignIn(input(snapshot({ platform: { existingMethodStepUp: 'off' } }), u, portal(), [didTap(0)]));
    const d = diffDecisions(recorded, replayed);
    assert.deepEqual(d.outcome, { recorded: 'challenge', replayed: 'grant' });
    assert.deepEqual(d.requirements.removed.map((r) => r.id), ['PLT-3']);
    assert.deepEqual(d.conditionalAccessPolicies, []);
    const cause = decisiveChange(d);
    assert.equal(cause?.kind, 'platformRule');
    assert.equal(cause?.kind === 'platformRule' && cause.id, 'PLT-3');
  });

  test('a requirement that becomes satisfied is a change; acr differences are reported', () => {
    const u = user([passkey(), tap()]);
    const before = evaluateSignIn(input(snapshot(), u, chat(), [didTap(0)]));
    const after = evaluateSignIn(input(snapshot(), u, chat(), [didTap(0), didPasskey(0)]));
    const d = diffDecisions(before, after);
    assert.deepEqual(d.requirements.changed.map((r) => [r.id, r.recordedSatisfied, r.replayedSatisfied]), [[`ca:${CA002.id}`, false, true]]);
    const withAcr = { ...after, acr: ['c1'] };
    assert.deepEqual(diffDecisions(after, withAcr).acr, { recorded: [], replayed: ['c1'] });
    assert.equal(diffDecisions(withAcr, { ...withAcr, acr: ['c1'] }).acr, null);
  });

  test('an explanation-only difference is not a change but is not identical either', () => {
    const d = evaluateSignIn(input(snapshot(), user([tap()]), chat(), [didTap(0)]));
    const c = compareDecisions(d, { ...d, explanation: [...d.explanation, 'extra'] });
    assert.equal(c.changed, false);
    assert.equal(c.identical, false);
  });

  test('properties: a decision compared with its JSON copy is identical; the diff is empty exactly when nothing actionable differs', () => {
    const users = [user([tap()]), user([passkey(), tap()]), user([passkey()])];
    const apps = [chat(), portal()];
    const performed = [[didTap(0)], [didPasskey(0)], [didTap(0), didPasskey(0)], []];
    fc.assert(fc.property(fc.nat(2), fc.nat(1), fc.nat(3), fc.nat(2), fc.nat(1), fc.nat(1), fc.nat(3), (u1, a1, p1, u2, a2, plt, p2) => {
      const first = evaluateSignIn(input(snapshot(), users[u1]!, apps[a1]!, performed[p1]!));
      assert.equal(compareDecisions(jsonCopy(first), first).identical, true);
      const second = evaluateSignIn(input(snapshot(plt ? { platform: { existingMethodStepUp: 'off' } } : {}), users[u2]!, apps[a2]!, performed[p2]!));
      const c = compareDecisions(first, second);
      if (!c.changed) {
        assert.equal(first.outcome, second.outcome);
        assert.equal(first.errorCode, second.errorCode);
        assert.deepEqual(first.requirements.map((r) => [r.id, r.satisfied]).sort(), second.requirements.map((r) => [r.id, r.satisfied]).sort());
      } else {
        assert.ok(decisiveChange(c.differences) !== null);
      }
    }), { numRuns: 150 });
  });

  test('canonical JSON ignores key order and undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: [1, { y: undefined, x: 2 }] }), canonicalJson({ a: [1, { x: 2 }], b: 1 }));
    assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: '1' }));
  });
});
