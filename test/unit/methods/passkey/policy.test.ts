/**
 * The Fido2 policy checks as pure functions: key restrictions and passkey types (PK-2), the
 * signature counter rule (PK-4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkKeyRestrictions,
  checkPasskeyType,
  checkSignCounter,
  DEFAULT_FIDO2_POLICY,
  passkeyTypeOf,
  type Fido2KeyRestrictions,
} from '../../../../src/methods/passkey/policy.ts';

const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
const OTHER = 'adce0002-35bc-c60a-648b-0b25f1f05503';

function restrictions(r: Partial<Fido2KeyRestrictions>) {
  return { keyRestrictions: { isEnforced: true, enforcementType: 'block' as const, aaGuids: [], ...r } };
}

test('PK-2 key restrictions: not enforced lets every AAGUID in', () => {
  assert.deepEqual(checkKeyRestrictions(YUBIKEY_5, restrictions({ isEnforced: false, aaGuids: [YUBIKEY_5] })), { ok: true });
  assert.deepEqual(checkKeyRestrictions(YUBIKEY_5, DEFAULT_FIDO2_POLICY), { ok: true });
});

test('PK-2 key restrictions: block list refuses listed AAGUIDs with AaguidBlocked, naming the model', () => {
  const policy = restrictions({ enforcementType: 'block', aaGuids: [YUBIKEY_5.toUpperCase()] });
  assert.deepEqual(checkKeyRestrictions(YUBIKEY_5, policy, 'YubiKey 5 Series'), {
    ok: false,
    reason: 'AaguidBlocked',
    detail: `AAGUID ${YUBIKEY_5} (YubiKey 5 Series) is blocked by key restrictions`,
  });
  assert.deepEqual(checkKeyRestrictions(OTHER, policy), { ok: true });
});

test('PK-2 key restrictions: allow list refuses unlisted AAGUIDs with AaguidNotAllowed', () => {
  const policy = restrictions({ enforcementType: 'allow', aaGuids: [YUBIKEY_5] });
  assert.deepEqual(checkKeyRestrictions(YUBIKEY_5.toUpperCase(), policy), { ok: true });
  const refused = checkKeyRestrictions(OTHER, policy);
  assert.equal(refused.ok ? '' : refused.reason, 'AaguidNotAllowed');
  assert.match(refused.ok ? '' : refused.detail, new RegExp(`AAGUID ${OTHER} is not in the key restrictions allow list`));
  // The all-zero AAGUID is an ordinary value: an allow list must name it.
  assert.equal(checkKeyRestrictions('00000000-0000-0000-0000-000000000000', policy).ok, false);
  // An empty allow list admits nothing.
  assert.equal(checkKeyRestrictions(YUBIKEY_5, restrictions({ enforcementType: 'allow', aaGuids: [] })).ok, false);
});

test('PK-2 passkey types: device-bound is BE=0, synced is BE=1 whatever BS says', () => {
  assert.equal(passkeyTypeOf({ backupEligible: false }), 'deviceBound');
  assert.equal(passkeyTypeOf({ backupEligible: true }), 'synced');
  const cases = [
    { be: false, bs: false, policy: 'deviceBound', ok: true },
    { be: false, bs: false, policy: 'synced', ok: false },
    { be: true, bs: false, policy: 'deviceBound', ok: false },
    { be: true, bs: false, policy: 'synced', ok: true },
    { be: true, bs: true, policy: 'deviceBound', ok: false },
    { be: true, bs: true, policy: 'synced', ok: true },
    { be: false, bs: false, policy: 'both', ok: true },
    { be: true, bs: true, policy: 'both', ok: true },
  ] as const;
  for (const c of cases) {
    const result = checkPasskeyType({ backupEligible: c.be, backedUp: c.bs }, { passkeyTypes: c.policy });
    assert.equal(result.ok, c.ok, JSON.stringify(c));
    if (!result.ok) {
      assert.equal(result.reason, 'PasskeyTypeNotAllowed');
      assert.match(result.detail, new RegExp(`only ${c.policy} passkeys`));
    }
  }
});

test('PK-4 counter: stored and presented both non-zero and not greater fails with CounterRegression', () => {
  const table: [stored: number, presented: number, expected: number | 'CounterRegression'][] = [
    [0, 0, 0], // synced passkeys never count
    [0, 5, 5], // first sign-in after a registration that reported 0
    [5, 0, 5], // the authenticator stopped counting: fine, and the stored value is kept
    [5, 6, 6],
    [5, 5, 'CounterRegression'], // replay or clone
    [5, 4, 'CounterRegression'],
    [100, 1, 'CounterRegression'],
    [0xfffffffe, 0xffffffff, 0xffffffff],
  ];
  for (const [stored, presented, expected] of table) {
    const result = checkSignCounter(stored, presented);
    if (expected === 'CounterRegression') {
      assert.equal(result.ok ? '' : result.reason, 'CounterRegression', `${stored} → ${presented}`);
      assert.match(result.ok ? '' : result.detail, new RegExp(`counter ${presented} is not greater than the stored ${stored}`));
    } else {
      assert.deepEqual(result, { ok: true, newCounter: expected }, `${stored} → ${presented}`);
    }
  }
});

test('PK-4 counter (property): fails exactly when both are non-zero and presented ≤ stored; never lowers the counter', () => {
  const counter = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));
  fc.assert(
    fc.property(counter, counter, (stored, presented) => {
      const result = checkSignCounter(stored, presented);
      const regression = stored > 0 && presented > 0 && presented <= stored;
      assert.equal(!result.ok, regression);
      if (result.ok) assert.ok(result.newCounter >= stored && result.newCounter >= presented);
    }),
  );
});
