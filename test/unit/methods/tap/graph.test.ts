import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { graphDateTime, toGraphTemporaryAccessPassMethod, type StoredTemporaryAccessPass } from '../../../../src/methods/tap/graph.ts';

const stored: StoredTemporaryAccessPass = {
  id: '6f1967b7-15e8-4935-ac26-d50770ed07a7',
  createdDateTime: new Date('2022-06-02T16:21:09.765Z'),
  startDateTime: new Date('2022-06-05T00:00:00.000Z'),
  lifetimeInMinutes: 60,
  isUsableOnce: false,
  usedDateTime: null,
};

describe('Graph temporaryAccessPassAuthenticationMethod', () => {
  it('TAP-3: the create response carries the pass, shaped like the Graph example', () => {
    const body = toGraphTemporaryAccessPassMethod({ pass: stored, methodEnabledForUser: true, now: stored.createdDateTime, temporaryAccessPass: 'ABCD2345' });
    assert.deepEqual(body, {
      '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
      id: '6f1967b7-15e8-4935-ac26-d50770ed07a7',
      temporaryAccessPass: 'ABCD2345',
      createdDateTime: '2022-06-02T16:21:09.765Z',
      startDateTime: '2022-06-05T00:00:00Z',
      lifetimeInMinutes: 60,
      isUsableOnce: false,
      isUsable: false,
      methodUsabilityReason: 'NotYetValid',
    });
  });

  it('TAP-3: every later read returns temporaryAccessPass null', () => {
    const body = toGraphTemporaryAccessPassMethod({ pass: stored, methodEnabledForUser: true, now: new Date('2022-06-05T00:30:00Z') });
    assert.equal(body.temporaryAccessPass, null);
    assert.equal(body.isUsable, true);
    assert.equal(body.methodUsabilityReason, 'EnabledByPolicy');
  });

  it('TAP-5: usability in the Graph body follows the methods policy scope', () => {
    const body = toGraphTemporaryAccessPassMethod({ pass: stored, methodEnabledForUser: false, now: new Date('2022-06-05T00:30:00Z') });
    assert.deepEqual([body.isUsable, body.methodUsabilityReason], [false, 'DisabledByPolicy']);
  });

  it('dates are UTC with Z and fractional seconds only when present', () => {
    assert.equal(graphDateTime(new Date('2022-06-05T02:00:00+02:00')), '2022-06-05T00:00:00Z');
    assert.equal(graphDateTime(new Date('2022-06-05T00:00:00.5Z')), '2022-06-05T00:00:00.500Z');
  });
});
