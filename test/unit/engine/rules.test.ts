import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parsePolicy, parseCidr, parseIp, cidrContains, type NamedLocation } from '../../../src/domain/conditionalAccess.ts';
import { ValidationError } from '../../../src/domain/errors.ts';
import { BUILT_IN_STRENGTHS, validateCombinations, PHISHING_RESISTANT_STRENGTH_ID, MFA_STRENGTH_ID } from '../../../src/domain/strengths.ts';
import { evaluateSignIn } from '../../../src/engine/evaluateSignIn.ts';
import { lockoutVerdict } from '../../../src/engine/lockout.ts';
import type { Decision } from '../../../src/engine/types.ts';
import {
  APPS, at, bootstrapStrength, CA001, CA002, caPolicy, chat, didPasskey, didTap, input, passkey, portal, snapshot, tap, user,
} from '../../support/tenantPolicies.ts';

const GROUP = '9a0b0000-0000-4000-8000-00000000a001';
const OTHER_GROUP = '9a0b0000-0000-4000-8000-00000000a002';
const GA = '62e90394-69f5-4237-9190-012177145e10';
const result = (d: Decision, id: string) => d.appliedConditionalAccessPolicies.find((p) => p.id === id)!;
const mfaFor = (id: string, conditions: Record<string, unknown>, extra: Record<string, unknown> = {}) => caPolicy(id, {
  displayName: `P ${id.slice(-4)}`, state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'], ...conditions },
  grantControls: { operator: 'OR', builtInControls: ['mfa'] }, ...extra,
});
const P1 = '00000000-0000-4000-8000-000000000101';

describe('STR-1 built-in strengths', () => {
  test("Entra's ids and exactly the combinations of the spec", () => {
    assert.deepEqual(BUILT_IN_STRENGTHS.map((s) => s.id), [MFA_STRENGTH_ID, '00000000-0000-0000-0000-000000000003', PHISHING_RESISTANT_STRENGTH_ID]);
    assert.equal(BUILT_IN_STRENGTHS[0]!.allowedCombinations.length, 19);
    assert.deepEqual(BUILT_IN_STRENGTHS[2]!.allowedCombinations, ['windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor']);
    assert.ok(BUILT_IN_STRENGTHS.every((s) => s.policyType === 'builtIn' && s.requirementsSatisfied === 'mfa'));
  });
  test("the 'mfa' grant equals the Multifactor authentication strength: a TAP satisfies it, never phishing-resistant (TAP-8)", () => {
    const pr = caPolicy(P1, { displayName: 'PR', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } }, grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: PHISHING_RESISTANT_STRENGTH_ID } } });
    assert.equal(evaluateSignIn(input(snapshot({ policies: [mfaFor(P1, {})] }), user([tap()]), chat(), [didTap(0)])).outcome, 'grant');
    assert.notEqual(evaluateSignIn(input(snapshot({ policies: [pr] }), user([tap(), passkey()]), chat(), [didTap(0)])).outcome, 'grant');
  });
});

describe('STR-2 combinations are validated', () => {
  test('valid combinations in any order are normalised to Entra spelling', () => {
    assert.deepEqual(validateCombinations(['softwareOath,password', 'fido2', 'fido2']), ['password,softwareOath', 'fido2']);
  });
  test('an unknown mode or an invalid pairing is refused naming the entry', () => {
    assert.throws(() => validateCombinations(['fido2', 'carrierPigeon']), (e: ValidationError) => e.target?.field === 'allowedCombinations.1');
    assert.throws(() => validateCombinations(['fido2,password']), (e: ValidationError) => /not a valid combination/.test(e.message));
  });
});

describe('STR-3 strength satisfaction', () => {
  const restricted = { ...bootstrapStrength, id: 'b0075742-0000-4000-8000-000000000002', allowedCombinations: ['fido2'], combinationConfigurations: [{ '@odata.type': '#microsoft.graph.fido2CombinationConfiguration', id: 'c1', appliesToCombinations: ['fido2'], allowedAAGUIDs: ['11111111-1111-4111-8111-111111111111'] }] };
  const pol = caPolicy(P1, { displayName: 'Only blessed keys', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } }, grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: restricted.id } } });
  test('a fido2 AAGUID restriction must match the credential used', () => {
    const p = snapshot({ policies: [pol], strengths: [restricted] });
    assert.equal(evaluateSignIn(input(p, user([passkey()]), chat(), [didPasskey(0)])).outcome, 'block');
    const ok = evaluateSignIn(input(p, user([passkey('pk-1', { aaGuid: '11111111-1111-4111-8111-111111111111' })]), chat(), [didPasskey(0, 'pk-1', '11111111-1111-4111-8111-111111111111')]));
    assert.equal(ok.outcome, 'grant');
  });
  test('a mode the methods policy disables for the user does not count even if performed', () => {
    const p = snapshot({ policies: [mfaFor(P1, {})], configurations: [{ id: 'TemporaryAccessPass', state: 'disabled' }] });
    const d = evaluateSignIn(input(p, user([]), chat(), [didTap(0)]));
    assert.notEqual(d.outcome, 'grant');
  });
  test('challenge candidates are the usable methods that would complete a combination', () => {
    const d = evaluateSignIn(input(snapshot({ policies: [CA002] }), user([passkey('a'), passkey('b', { usable: false, usabilityReason: 'DisabledByKeyRestrictions' }), tap()]), chat(), [didTap(0)]));
    assert.equal(d.outcome, 'challenge');
    assert.deepEqual(d.requirements[0]!.candidates.map((c) => c.methodId), ['a']);
    assert.equal(d.errorCode, 50076);
  });
});

describe('CA-2 conditions', () => {
  test('users: nested groups (transitive ids), roles, guests, None', () => {
    const byGroup = mfaFor(P1, { users: { includeGroups: [GROUP] } });
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [byGroup] }), user([], { groupIds: [OTHER_GROUP, GROUP] }), chat())), P1).applies, true);
    const byRole = mfaFor(P1, { users: { includeRoles: [GA] } });
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [byRole] }), user([], { roleTemplateIds: [GA] }), chat())), P1).applies, true);
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [byRole] }), user([]), chat())), P1).firstUnmetCondition?.condition, 'users');
    const guests = mfaFor(P1, { users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: 'b2bCollaborationGuest' } } });
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [guests] }), user([], { userType: 'Guest' }), chat())), P1).applies, true);
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [guests] }), user([]), chat())), P1).applies, false);
    const none = mfaFor(P1, { users: { includeUsers: ['None'] } });
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [none] }), user([]), chat())), P1).applies, false);
  });
  test('applications: All with exclusions, specific ids, MicrosoftAdminPortals', () => {
    const ex = mfaFor(P1, { applications: { includeApplications: ['All'], excludeApplications: [APPS.chat] } });
    const d = evaluateSignIn(input(snapshot({ policies: [ex] }), user([]), chat()));
    assert.equal(result(d, P1).result, 'notApplied');
    assert.match(result(d, P1).firstUnmetCondition!.detail, /excluded/);
    const portals = mfaFor(P1, { applications: { includeApplications: ['MicrosoftAdminPortals'] } });
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [portals] }), user([]), chat({ appId: APPS.console }))), P1).applies, true);
  });
  test('client app types, platforms, transfer methods', () => {
    const legacy = caPolicy(P1, { displayName: 'Block legacy', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['exchangeActiveSync', 'other'] }, grantControls: { operator: 'OR', builtInControls: ['block'] } });
    assert.equal(evaluateSignIn(input(snapshot({ policies: [legacy] }), user([]), chat())).outcome, 'grant');
    assert.equal(evaluateSignIn(input(snapshot({ policies: [legacy] }), user([]), chat({ clientAppType: 'other' }))).outcome, 'block');
    const android = mfaFor(P1, { platforms: { includePlatforms: ['all'], excludePlatforms: ['android'] } });
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [android] }), user([]), chat({ platform: 'android' }))), P1).firstUnmetCondition?.condition, 'devicePlatform');
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [android] }), user([]), chat({ platform: 'iOS' }))), P1).applies, true);
    const dcf = mfaFor(P1, { authenticationFlows: { transferMethods: 'deviceCodeFlow' } });
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [dcf] }), user([]), chat({ transferMethod: 'deviceCodeFlow' }))), P1).applies, true);
    assert.equal(result(evaluateSignIn(input(snapshot({ policies: [dcf] }), user([]), chat())), P1).firstUnmetCondition?.condition, 'authenticationFlows');
  });
  test('locations: IP ranges (v4 and v6), trusted, All, exclusions', () => {
    const office: NamedLocation = { '@odata.type': '#microsoft.graph.ipNamedLocation', id: 'aaaaaaaa-0000-4000-8000-000000000001', displayName: 'Office', isTrusted: true, ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }, { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8::/32' }], createdDateTime: at(0), modifiedDateTime: at(0) };
    const outside = mfaFor(P1, { locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } });
    const p = snapshot({ policies: [outside], namedLocations: [office] });
    assert.equal(result(evaluateSignIn(input(p, user([]), chat({ ipAddress: '198.51.100.20' }))), P1).applies, false);
    assert.equal(result(evaluateSignIn(input(p, user([]), chat({ ipAddress: '::ffff:198.51.100.20' }))), P1).applies, false);
    assert.equal(result(evaluateSignIn(input(p, user([]), chat({ ipAddress: '2001:db8:1::5' }))), P1).applies, false);
    assert.equal(result(evaluateSignIn(input(p, user([]), chat({ ipAddress: '203.0.113.9' }))), P1).applies, true);
    assert.ok(cidrContains(parseCidr('10.0.0.0/8')!, parseIp('10.200.1.1')!));
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
  });
  test('risk: always none here, and the explanation says so', () => {
    const risky = mfaFor(P1, { signInRiskLevels: ['high', 'medium'] });
    const r = result(evaluateSignIn(input(snapshot({ policies: [risky] }), user([]), chat())), P1);
    assert.equal(r.firstUnmetCondition?.condition, 'signInRisk');
    assert.match(r.firstUnmetCondition!.detail, /no risk detection/);
  });
});

describe('CA-3 / CA-4 / CA-5 / CA-6 validation', () => {
  const base = { displayName: 'x', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } } };
  test("CA-3: mfa and a strength can't be combined; block stands alone", () => {
    assert.throws(() => parsePolicy({ ...base, state: 'enabled', grantControls: { operator: 'OR', builtInControls: ['mfa'], authenticationStrength: { id: MFA_STRENGTH_ID } } }), (e: ValidationError) => e.target?.field === 'grantControls.authenticationStrength');
    assert.throws(() => parsePolicy({ ...base, state: 'enabled', grantControls: { operator: 'OR', builtInControls: ['block', 'mfa'] } }), /block/);
  });
  test('CA-4: unsupported grants, conditions and session controls are findings naming the field', () => {
    const { findings } = parsePolicy({ ...base, state: 'enabled', conditions: { ...base.conditions, devices: { deviceFilter: { mode: 'include', rule: 'x' } } }, grantControls: { operator: 'OR', builtInControls: ['mfa', 'compliantDevice'] }, sessionControls: { cloudAppSecurity: { isEnabled: true, cloudAppSecurityType: 'monitorOnly' } } });
    assert.deepEqual(findings.map((f) => f.field), ['conditions.devices', 'grantControls.builtInControls.1', 'sessionControls.cloudAppSecurity']);
  });
  test("CA-5: report-only can't target user actions; CA-6: registerdevice takes only mfa", () => {
    const ua = { displayName: 'x', conditions: { users: { includeUsers: ['All'] }, applications: { includeUserActions: ['urn:user:registerdevice'] } } };
    assert.deepEqual(parsePolicy({ ...ua, state: 'enabledForReportingButNotEnforced', grantControls: { operator: 'OR', builtInControls: ['mfa'] } }).findings.map((f) => f.rule), ['CA-5']);
    assert.deepEqual(parsePolicy({ ...ua, state: 'enabled', grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: MFA_STRENGTH_ID } } }).findings.map((f) => f.rule), ['CA-6']);
  });
  test('CA-5: report-only policies are evaluated and logged, never enforced', () => {
    const ro = caPolicy(P1, { ...base, state: 'enabledForReportingButNotEnforced', grantControls: { operator: 'OR', builtInControls: ['block'] } });
    const d = evaluateSignIn(input(snapshot({ policies: [ro] }), user([]), chat()));
    assert.equal(d.outcome, 'grant');
    assert.equal(result(d, P1).result, 'reportOnlyFailure');
    assert.equal(d.conditionalAccessStatus, 'notApplied');
  });
  test('CA-5: every applicable enabled policy must be satisfied; no applicable policy means allow', () => {
    assert.equal(evaluateSignIn(input(snapshot({ policies: [] }), user([]), chat())).outcome, 'grant');
    const d = evaluateSignIn(input(snapshot({ policies: [CA002, mfaFor(P1, {})] }), user([passkey(), tap()]), chat(), [didTap(0)]));
    assert.deepEqual(d.requirements.map((r) => [r.id, r.satisfied]), [[`ca:${CA002.id}`, false], [`ca:${P1}`, true]]);
  });
  test('CA-6: for security info, action strengths take precedence only over All-resources strengths; mfa from other policies still applies', () => {
    const mfaAll = mfaFor(P1, {});
    const d = evaluateSignIn(input(snapshot({ policies: [CA001, CA002, mfaAll] }), user([tap()]), portal(), [didTap(0)]));
    assert.equal(d.outcome, 'grant');
    assert.equal(result(d, P1).result, 'success');
    assert.deepEqual(result(d, CA002.id).supersededBy, [CA001.id]);
    // Without CA001, CA002's strength applies to the portal and the TAP can't meet it.
    const without = evaluateSignIn(input(snapshot({ policies: [CA002] }), user([tap()]), portal(), [didTap(0)]));
    assert.notEqual(without.outcome, 'grant');
    assert.equal(without.errorCode, 53010);
  });
});

describe('CA-7 authentication contexts', () => {
  const c1 = caPolicy(P1, { displayName: 'c1 needs phishing-resistant', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeAuthenticationContextClassReferences: ['c1'] } }, grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: PHISHING_RESISTANT_STRENGTH_ID } } });
  test('asking for c1 brings the policy in; acr lists the contexts satisfied', () => {
    const p = snapshot({ policies: [c1] });
    assert.equal(result(evaluateSignIn(input(p, user([passkey()]), chat())), P1).applies, false);
    const asked = evaluateSignIn(input(p, user([passkey(), tap()]), chat({ authenticationContexts: ['c1'] }), [didTap(0)]));
    assert.equal(asked.outcome, 'challenge');
    assert.deepEqual(asked.acr, []);
    const done = evaluateSignIn(input(p, user([passkey(), tap()]), chat({ authenticationContexts: ['c1'] }), [didTap(0), didPasskey(0)]));
    assert.equal(done.outcome, 'grant');
    assert.deepEqual(done.acr, ['c1']);
  });
});

describe('PLT-1 security-info gate', () => {
  test('a user with no usable method may enter after a first factor; one with a method needs MFA', () => {
    const p = snapshot({ policies: [] });
    assert.equal(evaluateSignIn(input(p, user([tap(true, { usable: false, usabilityReason: 'OneTimeUsed' })]), portal(), [didTap(0, true)])).outcome, 'grant');
    const d = evaluateSignIn(input(p, user([passkey()]), portal(), []));
    assert.equal(d.outcome, 'challenge');
    assert.equal(d.errorCode, 900401);
  });
});

describe('PLT-3 existing-method step-up', () => {
  test('a TAP-only session is stepped up when the user holds a passkey, but not for a passkey this session registered', () => {
    const p = snapshot({ policies: [] });
    const held = evaluateSignIn(input(p, user([tap(), passkey('pk-old')]), portal(), [didTap(0)]));
    assert.equal(held.outcome, 'challenge');
    assert.equal(held.errorCode, 900403);
    assert.deepEqual(held.requirements.filter((r) => !r.satisfied).map((r) => r.id), ['PLT-3']);
    const fresh = evaluateSignIn({ ...input(p, user([tap(), passkey('pk-new')]), portal(), [didTap(0)]), session: { performed: [didTap(0)], registeredMethodIds: ['pk-new'] } });
    assert.equal(fresh.outcome, 'grant', fresh.explanation.join(' '));
    assert.match(fresh.platformRules.find((r) => r.id === 'PLT-3')!.sentence, /registered in this session/);
    // An older passkey still counts, whatever this session registered.
    const both = evaluateSignIn({ ...input(p, user([tap(), passkey('pk-old'), passkey('pk-new')]), portal(), [didTap(0)]), session: { performed: [didTap(0)], registeredMethodIds: ['pk-new'] } });
    assert.equal(both.outcome, 'challenge');
    assert.deepEqual(both.requirements.find((r) => r.id === 'PLT-3')!.candidates.map((c) => c.methodId), ['pk-old']);
  });
});

describe('PLT-6 sign-in frequency and revocation', () => {
  test('methods performed before revokeSignInSessions no longer count (50173)', () => {
    const d = evaluateSignIn(input(snapshot({ policies: [mfaFor(P1, {})] }), user([passkey()], { signInSessionsValidFromDateTime: at(1) }), chat({ at: at(2) }), [didPasskey(0)]));
    assert.equal(d.outcome, 'challenge');
    assert.equal(d.errorCode, 50173);
    assert.equal(d.platformRules.find((r) => r.id === 'PLT-6')?.result, 'fired');
  });
  test('signInFrequency: older methods need re-authentication (70043)', () => {
    const hourly = mfaFor(P1, {}, { sessionControls: { signInFrequency: { isEnabled: true, type: 'hours', value: 1, frequencyInterval: 'timeBased', authenticationType: 'primaryAndSecondaryAuthentication' } } });
    const p = snapshot({ policies: [hourly] });
    assert.equal(evaluateSignIn(input(p, user([passkey()]), chat({ at: at(30) }), [didPasskey(0)])).outcome, 'grant');
    const late = evaluateSignIn(input(p, user([passkey()]), chat({ at: at(61) }), [didPasskey(0)]));
    assert.equal(late.outcome, 'challenge');
    assert.equal(late.errorCode, 70043);
    assert.deepEqual(result(late, P1).enforcedSessionControls, ['SignInFrequency']);
  });
});

describe('SIG-2 error codes', () => {
  test('block by CA is 53003; a disabled account is 50057', () => {
    const block = caPolicy(P1, { displayName: 'Block all', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } }, grantControls: { operator: 'OR', builtInControls: ['block'] } });
    assert.equal(evaluateSignIn(input(snapshot({ policies: [block] }), user([]), chat())).errorCode, 53003);
    assert.equal(evaluateSignIn(input(snapshot({ policies: [] }), user([], { accountEnabled: false }), chat())).errorCode, 50057);
  });
});

describe('WIF-3 lockout guard', () => {
  const admin = user([passkey()], { roleTemplateIds: [GA], userPrincipalName: 'admin@example.test' });
  const blockAll = caPolicy(P1, { displayName: 'Block all', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } }, grantControls: { operator: 'OR', builtInControls: ['block'] } });
  test('blocking everyone is a lockout, and the reason names the admins', () => {
    const v = lockoutVerdict(snapshot({ policies: [blockAll] }), [admin], APPS.console, at(0));
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.reason : '', /admin@example\.test/);
  });
  test('excluding the admin role, or an admin with a usable TAP who can register through PLT-4, is not', () => {
    const excl = { ...blockAll, conditions: { ...blockAll.conditions, users: { ...blockAll.conditions.users, excludeRoles: [GA] } } };
    assert.equal(lockoutVerdict(snapshot({ policies: [excl] }), [admin], APPS.console, at(0)).ok, true);
    const tapOnly = user([tap()], { roleTemplateIds: [GA] });
    const v = lockoutVerdict(snapshot(), [tapOnly], APPS.console, at(0));
    assert.equal(v.ok, true);
    assert.match(v.admins[0]!.how, /PLT-4/);
  });
  test('disabling passkeys in the methods policy locks out an admin whose only method is a passkey', () => {
    const p = snapshot({ policies: [CA002], configurations: [], fido2: { state: 'disabled' } });
    const admin2 = user([passkey('pk-1', { usable: false, usabilityReason: 'DisabledByPolicy' })], { roleTemplateIds: [GA] });
    assert.equal(lockoutVerdict(p, [admin2], APPS.console, at(0)).ok, false);
  });
  test('a block outside trusted locations is not a lockout when the admin can sign in from the office', () => {
    const office: NamedLocation = { '@odata.type': '#microsoft.graph.ipNamedLocation', id: 'aaaaaaaa-0000-4000-8000-000000000001', displayName: 'Office', isTrusted: true, ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }], createdDateTime: at(0), modifiedDateTime: at(0) };
    const outside = { ...blockAll, conditions: { ...blockAll.conditions, locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } } };
    const v = lockoutVerdict(snapshot({ policies: [outside], namedLocations: [office] }), [admin], APPS.console, at(0));
    assert.equal(v.ok, true);
    assert.match(v.admins[0]!.how, /198\.51\.100\.1/);
  });
});
