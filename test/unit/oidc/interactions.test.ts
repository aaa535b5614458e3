import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requestedContexts, userActionFor, withOfflineAccessConsent } from '../../../src/oidc/interactions.ts';

describe('OIDC interaction helpers (CA-7)', () => {
  test('requestedContexts: c1..c99 from acr_values and claims.id_token.acr, other values ignored, sorted', () => {
    assert.deepEqual(requestedContexts({ acr_values: 'c12 urn:mace:x c2 c100 c0 C3' }), ['c2', 'c12']);
    assert.deepEqual(requestedContexts({ claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['c9', 'c1'] } } }) }), ['c1', 'c9']);
    assert.deepEqual(requestedContexts({ claims: JSON.stringify({ id_token: { acr: { value: 'c4' } } }), acr_values: 'c4 c5' }), ['c4', 'c5']);
    assert.deepEqual(requestedContexts({ claims: 'not json' }), []);
    assert.deepEqual(requestedContexts({}), []);
  });

  test('userActionFor: the first-party security-info and device registration apps carry their user actions', () => {
    assert.equal(userActionFor('19db86c3-b2b9-44cc-b339-36da233a3be2'), 'urn:user:registersecurityinfo');
    assert.equal(userActionFor('01CB2876-7EBD-4AA4-9CC9-D28BD4D359A9'), 'urn:user:registerdevice');
    assert.equal(userActionFor('c44b4083-3bb0-49c1-b47d-974e53cbdf3c'), null);
  });

  test('withOfflineAccessConsent: offline_access gets prompt=consent unless a prompt says none or consent already', () => {
    const add = (q: string) => new URLSearchParams(withOfflineAccessConsent(`/auth?${q}`).split('?')[1]).get('prompt');
    assert.equal(add('scope=openid%20offline_access&client_id=x'), 'consent');
    assert.equal(add('scope=openid+offline_access&prompt=login'), 'login consent');
    assert.equal(add('scope=openid%20offline_access&prompt=none'), 'none');
    assert.equal(add('scope=openid&client_id=x'), null);
    assert.equal(withOfflineAccessConsent('/auth?scope=openid'), '/auth?scope=openid', 'untouched when not asked');
    assert.equal(withOfflineAccessConsent('/auth'), '/auth');
    const dup = '/auth?scope=offline_access&scope=openid';
    assert.equal(withOfflineAccessConsent(dup), dup, 'duplicates are left for oidc-provider to refuse');
  });
});
