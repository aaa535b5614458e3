import assert from 'node:assert/strict';
import * as client from 'openid-client';
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

export type CommonTenant = Awaited<ReturnType<typeof setUpCommonTenant>>;

/** A multi-use Temporary Access Pass for the user (TAP-4 replaces any other), 240 minutes unless told; returns the code. */
export async function issueTap(h: Harness, userId: string, lifetimeInMinutes = 240): Promise<string> {
  const pass = await h.call('POST', `/graph/v1.0/users/${userId}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes, isUsableOnce: false } });
  assert.equal(pass.status, 201, JSON.stringify(pass.body));
  return pass.body.temporaryAccessPass as string;
}

/** A new user (Graph) holding a multi-use 240-minute TAP: SC-1's starting point. */
export async function newUserWithTap(h: Harness, displayName: string, userPrincipalName: string): Promise<{ id: string; upn: string; code: string }> {
  const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName, userPrincipalName } });
  assert.equal(u.status, 201, JSON.stringify(u.body));
  return { id: u.body.id as string, upn: u.body.userPrincipalName as string, code: await issueTap(h, u.body.id) };
}

/**
 * SC-5's set-up on the common tenant: CA003 (device registration needs MFA), the laptop's owner
 * with a TAP, and openid-client configured as the device (the device registration app, public).
 */
export async function setUpDeviceEnrolment(h: Harness): Promise<{ common: CommonTenant; ca003: string; user: { id: string; upn: string; code: string }; config: client.Configuration }> {
  const common = await setUpCommonTenant(h);
  const p3 = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/policies', { body: {
    displayName: 'CA003 Device registration needs MFA', state: 'enabled',
    conditions: { users: { includeUsers: ['All'] }, applications: { includeUserActions: ['urn:user:registerdevice'] }, clientAppTypes: ['all'] },
    grantControls: { operator: 'OR', builtInControls: ['mfa'] },
  } });
  assert.equal(p3.status, 201, JSON.stringify(p3.body));
  const user = await newUserWithTap(h, 'Laptop owner', 'laptop@contoso.test');
  const config = await client.discovery(new URL(h.tenant.issuer), DEVICE_REGISTRATION, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  return { common, ca003: p3.body.id as string, user, config };
}

/**
 * SC-5 step 2: CA002 no longer excludes the device registration app (PATCH, 204). Returns the
 * undo, which puts CA002's conditions back (204); call it in a `finally`.
 */
export async function coverDeviceRegistrationWithCa002(h: Harness, ca002: string): Promise<() => Promise<void>> {
  const path = `/graph/v1.0/identity/conditionalAccess/policies/${ca002}`;
  const original = await h.call('GET', path);
  const patched = await h.call('PATCH', path, { body: {
    conditions: { ...original.body.conditions, applications: { ...original.body.conditions.applications, excludeApplications: [] } },
  } });
  assert.equal(patched.status, 204, JSON.stringify(patched.body));
  return async () => {
    const restored = await h.call('PATCH', path, { body: { conditions: original.body.conditions } });
    assert.equal(restored.status, 204, JSON.stringify(restored.body));
  };
}
