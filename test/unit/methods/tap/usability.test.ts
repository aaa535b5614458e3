import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tapEndDateTime, tapUsability, type TapValidity } from '../../../../src/methods/tap/usability.ts';

const START = new Date('2025-03-01T12:00:00Z');
const pass = (over: Partial<TapValidity> = {}): TapValidity =>
  ({ startDateTime: START, lifetimeInMinutes: 60, isUsableOnce: false, usedDateTime: null, ...over });
const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);
const enabled = { methodEnabledForUser: true };
const disabled = { methodEnabledForUser: false };

describe('TAP-5 usability and methodUsabilityReason', () => {
  it('TAP-5: the end is start plus lifetime', () => {
    assert.deepEqual(tapEndDateTime(pass({ lifetimeInMinutes: 90 })), at(90));
  });

  it('TAP-5: before its start a pass is NotYetValid', () => {
    assert.deepEqual(tapUsability(pass(), enabled, at(-1)), { isUsable: false, methodUsabilityReason: 'NotYetValid' });
    assert.deepEqual(tapUsability(pass(), enabled, new Date(START.getTime() - 1)), { isUsable: false, methodUsabilityReason: 'NotYetValid' });
  });

  it('TAP-5: from its start until just before its end a pass is usable, EnabledByPolicy', () => {
    for (const t of [START, at(30), new Date(at(60).getTime() - 1)]) {
      assert.deepEqual(tapUsability(pass(), enabled, t), { isUsable: true, methodUsabilityReason: 'EnabledByPolicy' });
    }
  });

  it('TAP-5: at and after start + lifetime a pass is Expired', () => {
    assert.deepEqual(tapUsability(pass(), enabled, at(60)), { isUsable: false, methodUsabilityReason: 'Expired' });
    assert.deepEqual(tapUsability(pass(), enabled, at(6000)), { isUsable: false, methodUsabilityReason: 'Expired' });
  });

  it('TAP-5: one-time TAP: after its first use it is OneTimeUsed, even within its lifetime', () => {
    const used = pass({ isUsableOnce: true, usedDateTime: at(5) });
    assert.deepEqual(tapUsability(used, enabled, at(6)), { isUsable: false, methodUsabilityReason: 'OneTimeUsed' });
  });

  it('TAP-5: a multi-use pass stays usable after use', () => {
    assert.deepEqual(tapUsability(pass({ usedDateTime: at(5) }), enabled, at(6)), { isUsable: true, methodUsabilityReason: 'EnabledByPolicy' });
  });

  it('TAP-5: with the method off or the user out of scope a pass is DisabledByPolicy', () => {
    assert.deepEqual(tapUsability(pass(), disabled, at(30)), { isUsable: false, methodUsabilityReason: 'DisabledByPolicy' });
  });

  it('TAP-5 precedence: DisabledByPolicy beats OneTimeUsed, Expired and NotYetValid', () => {
    assert.equal(tapUsability(pass({ isUsableOnce: true, usedDateTime: at(1) }), disabled, at(120)).methodUsabilityReason, 'DisabledByPolicy');
    assert.equal(tapUsability(pass(), disabled, at(120)).methodUsabilityReason, 'DisabledByPolicy');
    assert.equal(tapUsability(pass(), disabled, at(-10)).methodUsabilityReason, 'DisabledByPolicy');
  });

  it('TAP-5 precedence: OneTimeUsed beats Expired', () => {
    assert.equal(tapUsability(pass({ isUsableOnce: true, usedDateTime: at(1) }), enabled, at(120)).methodUsabilityReason, 'OneTimeUsed');
  });

  it('TAP-5: a pass is usable exactly when enabled, unused-or-multi-use and start <= now < end (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 10, max: 43200 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: -50_000, max: 50_000 }),
      (lifetime, once, used, on, offsetMinutes) => {
        const p = pass({ lifetimeInMinutes: lifetime, isUsableOnce: once, usedDateTime: used ? START : null });
        const r = tapUsability(p, { methodEnabledForUser: on }, at(offsetMinutes));
        const expected = on && !(once && used) && offsetMinutes >= 0 && offsetMinutes < lifetime;
        assert.equal(r.isUsable, expected);
        assert.equal(r.isUsable, r.methodUsabilityReason === 'EnabledByPolicy');
      }));
  });
});
