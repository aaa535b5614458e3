import assert from 'node:assert/strict';
import { FIRST_PARTY_APPS } from '../../src/domain/directory.ts';
import type { Harness } from './harness.ts';

export const DEVICE_REGISTRATION = FIRST_PARTY_APPS.find((a) => a.key === 'deviceRegistration')!.appId;
export const PORTAL = FIRST_PARTY_APPS.find((a) => a.key === 'securityInfo')!.appId;
export const PHISHING_RESISTANT = '00000000-0000-0000-0000-000000000004';

/**
 * The common "passkey-only" tenant of scenarios.md, built through the Graph API: the strength
 * "Bootstrap and Recovery", CA001 (security info needs it) and CA002 (phishing-resistant
 * everywhere but device registration), plus the ordinary app "Chat".
 */
export async function setUpCommonTenant(h: Harness): Promise<{ ca001: string; ca002: string; strength: string; chat: string }> {
  const strength = await h.call('POST', '/graph/v1.0/policies/authenticationStrengthPolicies', { body: { displayName: 'Bootstrap and Recovery', allowedCombinations: ['temporaryAccessPassOneTime', 'temporaryAccessPassMultiUse', 'fido2', 'windowsHelloForBusiness'] } });
  assert.equal(strength.status, 201, JSON.stringify(strength.body));
  const p1 = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/policies', { body: {
    displayName: 'CA001 Protect security info registration', state: 'enabled',
    conditions: { users: { includeUsers: ['All'] }, applications: { includeUserActions: ['urn:user:registersecurityinfo'] }, clientAppTypes: ['all'] },
    grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: strength.body.id } },
  } });
  assert.equal(p1.status, 201, JSON.stringify(p1.body));
  const p2 = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/policies', { body: {
    displayName: 'CA002 Require phishing-resistant authentication', state: 'enabled',
    conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'], excludeApplications: [DEVICE_REGISTRATION] }, clientAppTypes: ['all'] },
    grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: PHISHING_RESISTANT } },
  } });
  assert.equal(p2.status, 201, JSON.stringify(p2.body));
  const chat = await h.call('POST', '/graph/v1.0/applications', { body: { displayName: 'Chat', web: { redirectUris: ['https://chat.example.test/callback'] } } });
  assert.equal(chat.status, 201, JSON.stringify(chat.body));
  return { ca001: p1.body.id, ca002: p2.body.id, strength: strength.body.id, chat: chat.body.appId };
}
