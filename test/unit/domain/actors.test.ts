import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorizeMethodAccess, type Actor } from '../../../src/domain/actors.ts';
import { ForbiddenError } from '../../../src/domain/errors.ts';

const PAA = '7be44c8a-adaf-4e2a-84d6-ab2649e08a13';
const AUTH_ADMIN = 'c4e39bd9-1100-46d3-8c65-fb160da0071f';
const AUTH_POLICY_ADMIN = '0526716b-113d-4c15-b2c8-68e3c22b9f80';
const GLOBAL_READER = 'f2ef992c-3afb-46b9-b7cf-a126ee74c451';
const admin = (id: string, roles: string[]): Actor => ({ kind: 'user', id, userPrincipalName: `${id}@contoso.test`, roles });
const member = { id: 'member', isAdmin: false, userType: 'Member' as const };
const otherAdmin = { id: 'other-admin', isAdmin: true, userType: 'Member' as const };
const allowed = (actor: Actor, target: typeof member, access: 'read' | 'write') => {
  try {
    authorizeMethodAccess(actor, target, access);
    return true;
  } catch (e) {
    assert.ok(e instanceof ForbiddenError);
    return false;
  }
};

test('TAP-9: Privileged Authentication Administrator manages passes of admins and members', () => {
  assert.equal(allowed(admin('paa', [PAA]), member, 'write'), true);
  assert.equal(allowed(admin('paa', [PAA]), otherAdmin, 'write'), true);
});

test('TAP-9: Authentication Administrator manages members only', () => {
  assert.equal(allowed(admin('aa', [AUTH_ADMIN]), member, 'write'), true);
  assert.equal(allowed(admin('aa', [AUTH_ADMIN]), otherAdmin, 'write'), false);
});

test('TAP-9: nobody manages their own passes', () => {
  assert.equal(allowed(admin('paa', [PAA]), { ...otherAdmin, id: 'paa' }, 'write'), false);
});

test('TAP-9: Authentication Policy Administrator edits the policy only; readers see metadata, never write', () => {
  assert.equal(allowed(admin('apa', [AUTH_POLICY_ADMIN]), member, 'write'), false);
  assert.equal(allowed(admin('apa', [AUTH_POLICY_ADMIN]), member, 'read'), false);
  assert.equal(allowed(admin('gr', [GLOBAL_READER]), member, 'read'), true);
  assert.equal(allowed(admin('gr', [GLOBAL_READER]), member, 'write'), false);
});

test('DIR-6: automation apps need UserAuthenticationMethod permissions', () => {
  const app = (permissions: string[]): Actor => ({ kind: 'app', appId: 'a', permissions });
  assert.equal(allowed(app(['UserAuthenticationMethod.ReadWrite.All']), otherAdmin, 'write'), true);
  assert.equal(allowed(app(['UserAuthenticationMethod.Read.All']), member, 'write'), false);
  assert.equal(allowed(app(['UserAuthenticationMethod.Read.All']), member, 'read'), true);
  assert.equal(allowed(app(['User.ReadWrite.All']), member, 'read'), false);
});
