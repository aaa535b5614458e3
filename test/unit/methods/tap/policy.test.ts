import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_TAP_POLICY, TAP_START_SKEW_MINUTES, resolveTapRequest, validateTapPolicy,
  type TemporaryAccessPassPolicy,
} from '../../../../src/methods/tap/policy.ts';

const NOW = new Date('2025-03-01T12:00:00Z');
const policy = (over: Partial<TemporaryAccessPassPolicy> = {}): TemporaryAccessPassPolicy => ({ ...DEFAULT_TAP_POLICY, ...over });

describe('TAP-1 policy validation', () => {
  it('TAP-1: the defaults are 60/480/60 minutes, length 8, issuer chooses one-time', () => {
    assert.deepEqual({ ...DEFAULT_TAP_POLICY }, {
      minimumLifetimeInMinutes: 60, maximumLifetimeInMinutes: 480, defaultLifetimeInMinutes: 60,
      defaultLength: 8, isUsableOnce: false,
    });
    assert.deepEqual(validateTapPolicy(DEFAULT_TAP_POLICY), []);
  });

  it('TAP-1: the extreme legal values 10 and 43200 minutes, lengths 8 and 48 are accepted', () => {
    assert.deepEqual(validateTapPolicy(policy({ minimumLifetimeInMinutes: 10, defaultLifetimeInMinutes: 10, maximumLifetimeInMinutes: 43200, defaultLength: 48 })), []);
    assert.deepEqual(validateTapPolicy(policy({ minimumLifetimeInMinutes: 43200, defaultLifetimeInMinutes: 43200, maximumLifetimeInMinutes: 43200 })), []);
  });

  for (const field of ['minimumLifetimeInMinutes', 'defaultLifetimeInMinutes', 'maximumLifetimeInMinutes'] as const) {
    it(`TAP-1: ${field} below 10 is refused naming the field and the limit`, () => {
      const v = validateTapPolicy(policy({ minimumLifetimeInMinutes: 10, defaultLifetimeInMinutes: 10, maximumLifetimeInMinutes: 10, [field]: 9 }));
      const own = v.filter((x) => x.field === field && /allowed minimum/.test(x.message));
      assert.equal(own.length, 1, JSON.stringify(v));
      assert.equal(own[0]!.rule, 'TAP-1');
      assert.match(own[0]!.message, new RegExp(`^${field} 9 is below the allowed minimum of 10 minutes`));
    });
    it(`TAP-1: ${field} above 43200 is refused naming the field and the limit`, () => {
      const v = validateTapPolicy(policy({ minimumLifetimeInMinutes: 43200, defaultLifetimeInMinutes: 43200, maximumLifetimeInMinutes: 43200, [field]: 43201 }));
      const own = v.filter((x) => x.field === field && /allowed maximum/.test(x.message));
      assert.equal(own.length, 1, JSON.stringify(v));
      assert.match(own[0]!.message, new RegExp(`^${field} 43201 is above the allowed maximum of 43200 minutes`));
    });
    it(`TAP-1: a fractional ${field} is refused`, () => {
      const v = validateTapPolicy(policy({ [field]: 60.5 }));
      assert.ok(v.some((x) => x.field === field && /whole number/.test(x.message)), JSON.stringify(v));
    });
  }

  it('TAP-1: default below minimum is refused naming minimumLifetimeInMinutes', () => {
    const v = validateTapPolicy(policy({ minimumLifetimeInMinutes: 120, defaultLifetimeInMinutes: 60 }));
    assert.deepEqual(v, [{ field: 'defaultLifetimeInMinutes', rule: 'TAP-1', message: 'defaultLifetimeInMinutes 60 is below minimumLifetimeInMinutes 120' }]);
  });

  it('TAP-1: default above maximum is refused naming maximumLifetimeInMinutes', () => {
    const v = validateTapPolicy(policy({ defaultLifetimeInMinutes: 600 }));
    assert.deepEqual(v, [{ field: 'defaultLifetimeInMinutes', rule: 'TAP-1', message: 'defaultLifetimeInMinutes 600 is above maximumLifetimeInMinutes 480' }]);
  });

  it('TAP-1: minimum above maximum is refused naming both', () => {
    const v = validateTapPolicy(policy({ minimumLifetimeInMinutes: 500, defaultLifetimeInMinutes: 490, maximumLifetimeInMinutes: 480 }));
    assert.ok(v.some((x) => x.field === 'minimumLifetimeInMinutes' && x.message === 'minimumLifetimeInMinutes 500 is greater than maximumLifetimeInMinutes 480'), JSON.stringify(v));
  });

  it('TAP-1: defaultLength 7 and 49 are refused naming the limits 8 and 48', () => {
    assert.deepEqual(validateTapPolicy(policy({ defaultLength: 7 })), [
      { field: 'defaultLength', rule: 'TAP-1', message: 'defaultLength 7 is below the allowed minimum of 8 characters' }]);
    assert.deepEqual(validateTapPolicy(policy({ defaultLength: 49 })), [
      { field: 'defaultLength', rule: 'TAP-1', message: 'defaultLength 49 is above the allowed maximum of 48 characters' }]);
  });

  it('TAP-1: every policy within the limits and ordered is valid; any other is not (property)', () => {
    const lifetime = fc.integer({ min: -10, max: 50_000 });
    fc.assert(fc.property(lifetime, lifetime, lifetime, fc.integer({ min: 0, max: 60 }), fc.boolean(), (a, b, c, len, once) => {
      const p = { minimumLifetimeInMinutes: a, defaultLifetimeInMinutes: b, maximumLifetimeInMinutes: c, defaultLength: len, isUsableOnce: once };
      const inRange = (x: number) => x >= 10 && x <= 43200;
      const expectValid = inRange(a) && inRange(b) && inRange(c) && a <= b && b <= c && len >= 8 && len <= 48;
      assert.equal(validateTapPolicy(p).length === 0, expectValid);
    }));
  });
});

describe('TAP-2 create request resolution', () => {
  it('TAP-2: an empty request takes start now, the default lifetime and the policy isUsableOnce', () => {
    const r = resolveTapRequest({}, DEFAULT_TAP_POLICY, NOW);
    assert.deepEqual(r, { ok: true, startDateTime: NOW, lifetimeInMinutes: 60, isUsableOnce: false });
  });

  it('TAP-2: null fields are treated as absent', () => {
    const r = resolveTapRequest({ startDateTime: null, lifetimeInMinutes: null, isUsableOnce: null }, policy({ isUsableOnce: true, defaultLifetimeInMinutes: 90 }), NOW);
    assert.deepEqual(r, { ok: true, startDateTime: NOW, lifetimeInMinutes: 90, isUsableOnce: true });
  });

  it('TAP-2: the Graph example request (future start, 60 minutes, multi-use) is accepted as sent', () => {
    const r = resolveTapRequest({ startDateTime: '2022-06-05T00:00:00.000Z', lifetimeInMinutes: 60, isUsableOnce: false }, DEFAULT_TAP_POLICY, new Date('2022-06-02T16:21:09.765Z'));
    assert.deepEqual(r, { ok: true, startDateTime: new Date('2022-06-05T00:00:00Z'), lifetimeInMinutes: 60, isUsableOnce: false });
  });

  it('TAP-2: lifetime below policy minimum is refused naming minimumLifetimeInMinutes', () => {
    const r = resolveTapRequest({ lifetimeInMinutes: 5 }, DEFAULT_TAP_POLICY, NOW);
    assert.deepEqual(r, { ok: false, violations: [{ field: 'lifetimeInMinutes', rule: 'TAP-2', message: "lifetimeInMinutes 5 is below the policy's minimumLifetimeInMinutes 60" }] });
  });

  it('TAP-2: lifetime above policy maximum is refused naming maximumLifetimeInMinutes', () => {
    const r = resolveTapRequest({ lifetimeInMinutes: 481 }, DEFAULT_TAP_POLICY, NOW);
    assert.deepEqual(r, { ok: false, violations: [{ field: 'lifetimeInMinutes', rule: 'TAP-2', message: "lifetimeInMinutes 481 is above the policy's maximumLifetimeInMinutes 480" }] });
  });

  it('TAP-2: lifetimes exactly at the policy bounds are accepted', () => {
    assert.equal(resolveTapRequest({ lifetimeInMinutes: 60 }, DEFAULT_TAP_POLICY, NOW).ok, true);
    assert.equal(resolveTapRequest({ lifetimeInMinutes: 480 }, DEFAULT_TAP_POLICY, NOW).ok, true);
  });

  it('TAP-2: a fractional lifetime is refused', () => {
    const r = resolveTapRequest({ lifetimeInMinutes: 90.5 }, DEFAULT_TAP_POLICY, NOW);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.violations[0]!.message : '', /lifetimeInMinutes 90.5 is not a whole number/);
  });

  it('TAP-2: a multi-use pass is refused when the policy demands one-time, naming isUsableOnce', () => {
    const r = resolveTapRequest({ isUsableOnce: false }, policy({ isUsableOnce: true }), NOW);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0]!.field, 'isUsableOnce');
    assert.equal(r.violations[0]!.rule, 'TAP-2');
    assert.match(r.violations[0]!.message, /policy's isUsableOnce is true/);
  });

  it('TAP-2: a one-time pass is allowed when the policy lets the issuer choose', () => {
    const r = resolveTapRequest({ isUsableOnce: true }, DEFAULT_TAP_POLICY, NOW);
    assert.equal(r.ok && r.isUsableOnce, true);
  });

  it(`TAP-2: a start up to ${TAP_START_SKEW_MINUTES} minutes in the past is accepted as sent (clock skew)`, () => {
    const start = new Date(NOW.getTime() - TAP_START_SKEW_MINUTES * 60_000);
    const r = resolveTapRequest({ startDateTime: start.toISOString() }, DEFAULT_TAP_POLICY, NOW);
    assert.deepEqual(r, { ok: true, startDateTime: start, lifetimeInMinutes: 60, isUsableOnce: false });
  });

  it('TAP-2: a start further in the past is refused naming the current time and the skew', () => {
    const start = new Date(NOW.getTime() - TAP_START_SKEW_MINUTES * 60_000 - 1000);
    const r = resolveTapRequest({ startDateTime: start }, DEFAULT_TAP_POLICY, NOW);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.violations[0]!.field, 'startDateTime');
    assert.equal(r.violations[0]!.message,
      'startDateTime 2025-03-01T11:54:59.000Z is in the past: it may be at most 5 minutes before the current time 2025-03-01T12:00:00.000Z');
  });

  it('TAP-2: a start with an explicit offset is read in that offset', () => {
    const r = resolveTapRequest({ startDateTime: '2025-03-01T14:00:00+02:00' }, DEFAULT_TAP_POLICY, NOW);
    assert.deepEqual(r.ok && r.startDateTime, NOW);
  });

  it('TAP-2: a start that is not an ISO 8601 date-time with offset is refused', () => {
    for (const bad of ['tomorrow', '2025-03-01', '2025-03-01T12:00:00', '2025-02-30T25:00:00Z']) {
      const r = resolveTapRequest({ startDateTime: bad }, DEFAULT_TAP_POLICY, NOW);
      assert.equal(r.ok, false, bad);
      assert.equal(!r.ok && r.violations[0]!.field, 'startDateTime', bad);
    }
  });

  it('TAP-2: all violations are reported together', () => {
    const r = resolveTapRequest({ startDateTime: '2020-01-01T00:00:00Z', lifetimeInMinutes: 5, isUsableOnce: false }, policy({ isUsableOnce: true }), NOW);
    assert.deepEqual(!r.ok && r.violations.map((v) => v.field), ['lifetimeInMinutes', 'isUsableOnce', 'startDateTime']);
  });

  it('TAP-2: any lifetime is accepted exactly when it lies within the policy bounds (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 10, max: 43200 }), fc.integer({ min: 10, max: 43200 }), fc.integer({ min: 0, max: 50_000 }), (a, b, lifetime) => {
      const [min, max] = a <= b ? [a, b] : [b, a];
      const p = policy({ minimumLifetimeInMinutes: min, maximumLifetimeInMinutes: max, defaultLifetimeInMinutes: min });
      const r = resolveTapRequest({ lifetimeInMinutes: lifetime }, p, NOW);
      assert.equal(r.ok, lifetime >= min && lifetime <= max);
      if (!r.ok) assert.match(r.violations[0]!.message, lifetime < min ? /minimumLifetimeInMinutes/ : /maximumLifetimeInMinutes/);
    }));
  });
});
