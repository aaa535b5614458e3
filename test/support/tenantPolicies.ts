import { FIRST_PARTY_APPS } from '../../src/domain/directory.ts';
import { parsePolicy, type CaPolicy, type NamedLocation } from '../../src/domain/conditionalAccess.ts';
import { effectivePolicy, parseMethodConfiguration, DEFAULT_CAMPAIGN } from '../../src/domain/methodsPolicy.ts';
import { DEFAULT_PLATFORM_SETTINGS, type PlatformSettings } from '../../src/domain/platformRules.ts';
import { BUILT_IN_STRENGTHS, PHISHING_RESISTANT_STRENGTH_ID, type AuthenticationStrength } from '../../src/domain/strengths.ts';
import type { PerformedMethod, PolicySnapshot, SignInInput, SignInRequest, SignInUser, UserMethod } from '../../src/engine/types.ts';

/**
 * The common "passkey-only" tenant of ../shared/spec/scenarios.md as plain engine input, for the
 * engine's unit and property tests, the What-If comparisons and the decision benchmark.
 */
export const APPS = {
  portal: FIRST_PARTY_APPS.find((a) => a.key === 'securityInfo')!.appId,
  console: FIRST_PARTY_APPS.find((a) => a.key === 'adminConsole')!.appId,
  deviceRegistration: FIRST_PARTY_APPS.find((a) => a.key === 'deviceRegistration')!.appId,
  chat: '5a4e1c2b-0000-4000-8000-00000000c4a7',
};
export const BOOTSTRAP_STRENGTH_ID = 'b0075742-0000-4000-8000-000000000001';
export const T0 = '2026-11-25T10:00:00.000Z';
export const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

export const bootstrapStrength: AuthenticationStrength = {
  id: BOOTSTRAP_STRENGTH_ID, displayName: 'Bootstrap and Recovery', description: null, policyType: 'custom', requirementsSatisfied: 'mfa',
  allowedCombinations: ['temporaryAccessPassOneTime', 'temporaryAccessPassMultiUse', 'fido2', 'windowsHelloForBusiness'],
  combinationConfigurations: [], createdDateTime: T0, modifiedDateTime: T0,
};

export function caPolicy(id: string, raw: Record<string, unknown>): CaPolicy {
  const { policy, findings } = parsePolicy(raw);
  if (findings.length && policy.state !== 'disabled') throw new Error(`test policy ${id} has findings: ${JSON.stringify(findings)}`);
  return { ...policy, id, createdDateTime: T0, modifiedDateTime: T0 } as CaPolicy;
}

export const CA001 = caPolicy('00000000-0000-4000-8000-0000000ca001', {
  displayName: 'CA001 Protect security info registration', state: 'enabled',
  conditions: { users: { includeUsers: ['All'] }, applications: { includeUserActions: ['urn:user:registersecurityinfo'] }, clientAppTypes: ['all'] },
  grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: BOOTSTRAP_STRENGTH_ID } },
});
export const CA002 = caPolicy('00000000-0000-4000-8000-0000000ca002', {
  displayName: 'CA002 Require phishing-resistant authentication', state: 'enabled',
  conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'], excludeApplications: [APPS.deviceRegistration] }, clientAppTypes: ['all'] },
  grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: PHISHING_RESISTANT_STRENGTH_ID } },
});
export const CA003 = caPolicy('00000000-0000-4000-8000-0000000ca003', {
  displayName: 'CA003 Device registration needs MFA', state: 'enabled',
  conditions: { users: { includeUsers: ['All'] }, applications: { includeUserActions: ['urn:user:registerdevice'] }, clientAppTypes: ['all'] },
  grantControls: { operator: 'OR', builtInControls: ['mfa'] },
});

export function snapshot(opts: {
  policies?: CaPolicy[]; strengths?: AuthenticationStrength[]; namedLocations?: NamedLocation[]; platform?: Partial<PlatformSettings>;
  campaign?: Record<string, unknown>; fido2?: Record<string, unknown>; configurations?: Record<string, unknown>[];
} = {}): PolicySnapshot {
  const configurations = [
    parseMethodConfiguration({ id: 'Fido2', state: 'enabled', ...opts.fido2 }),
    parseMethodConfiguration({ id: 'TemporaryAccessPass', state: 'enabled', maximumLifetimeInMinutes: 480, isUsableOnce: false }),
    ...(opts.configurations ?? []).map((c) => parseMethodConfiguration(c)),
  ];
  return {
    methodsPolicy: effectivePolicy({ configurations, registrationEnforcement: { authenticationMethodsRegistrationCampaign: { ...DEFAULT_CAMPAIGN, ...opts.campaign } } }, new Date(T0)),
    strengths: [...BUILT_IN_STRENGTHS, ...(opts.strengths ?? [bootstrapStrength])],
    conditionalAccessPolicies: opts.policies ?? [CA001, CA002],
    namedLocations: opts.namedLocations ?? [],
    platform: { ...DEFAULT_PLATFORM_SETTINGS, ...opts.platform },
  };
}

export const passkey = (id = 'pk-1', extra: Partial<UserMethod> = {}): UserMethod => ({ id, type: 'fido2', modes: ['fido2'], displayName: 'YubiKey', usable: true, usabilityReason: 'EnabledByPolicy', aaGuid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8', ...extra });
export const tap = (oneTime = false, extra: Partial<UserMethod> = {}): UserMethod => ({ id: 'tap-1', type: 'temporaryAccessPass', modes: [oneTime ? 'temporaryAccessPassOneTime' : 'temporaryAccessPassMultiUse'], usable: true, usabilityReason: 'EnabledByPolicy', ...extra });

export function user(methods: UserMethod[], extra: Partial<SignInUser> = {}): SignInUser {
  return { id: '7e57c0de-0000-4000-8000-000000000001', userPrincipalName: 'ada@example.test', userType: 'Member', accountEnabled: true, groupIds: [], roleTemplateIds: [], methods, ...extra };
}

export const didTap = (minutes = 0, oneTime = false): PerformedMethod => ({ mode: oneTime ? 'temporaryAccessPassOneTime' : 'temporaryAccessPassMultiUse', at: at(minutes), methodId: 'tap-1' });
export const didPasskey = (minutes = 0, id = 'pk-1', aaGuid = 'cb69481e-8ff7-4039-93ec-0a2729a154a8'): PerformedMethod => ({ mode: 'fido2', at: at(minutes), methodId: id, aaGuid });

export const portal = (extra: Partial<SignInRequest> = {}): SignInRequest => ({ at: at(1), appId: APPS.portal, userAction: 'urn:user:registersecurityinfo', clientAppType: 'browser', platform: 'windows', ipAddress: '203.0.113.7', capabilities: { webauthn: true }, ...extra });
export const chat = (extra: Partial<SignInRequest> = {}): SignInRequest => ({ at: at(1), appId: APPS.chat, clientAppType: 'browser', platform: 'windows', ipAddress: '203.0.113.7', capabilities: { webauthn: true }, ...extra });
export const deviceRegistration = (extra: Partial<SignInRequest> = {}): SignInRequest => ({ at: at(1), appId: APPS.deviceRegistration, userAction: 'urn:user:registerdevice', clientAppType: 'browser', platform: 'windows', transferMethod: 'deviceCodeFlow', capabilities: { webauthn: false }, ...extra });

export function input(policies: PolicySnapshot, u: SignInUser, request: SignInRequest, performed: PerformedMethod[] = []): SignInInput {
  return { policies, user: u, request, session: { performed } };
}
