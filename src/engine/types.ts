import type { CaPolicy, ClientAppType, DevicePlatform, NamedLocation, UserAction } from '../domain/conditionalAccess.ts';
import type { MethodsPolicy } from '../domain/methodsPolicy.ts';
import type { PlatformRuleId, PlatformSettings } from '../domain/platformRules.ts';
import type { AuthenticationStrength } from '../domain/strengths.ts';

/**
 * SIG-1: the plain data `evaluateSignIn` decides over. Everything is passed in (time included);
 * the engine does no I/O, reads no clock and draws no random numbers.
 */
export type PolicySnapshot = {
  methodsPolicy: MethodsPolicy;
  /** Built-in and custom strengths (the built-ins must be present). */
  strengths: readonly AuthenticationStrength[];
  conditionalAccessPolicies: readonly CaPolicy[];
  namedLocations: readonly NamedLocation[];
  platform: PlatformSettings;
};

export type UserMethodType = 'fido2' | 'temporaryAccessPass' | 'password' | 'softwareOath';

/** One method the user holds, with its usability as MTH-3 reports it. */
export type UserMethod = {
  id: string;
  type: UserMethodType;
  /** The authentication method modes using it performs (a TAP: its one-time or multi-use mode). */
  modes: readonly string[];
  displayName?: string | null;
  usable: boolean;
  usabilityReason: string;
  /** Suspended by a recovery case (RCV-2): not usable and not counted by PLT-1/PLT-3. */
  suspended?: boolean;
  aaGuid?: string | null;
};

export type SignInUser = {
  id: string;
  userPrincipalName: string;
  userType: 'Member' | 'Guest';
  accountEnabled: boolean;
  /** Transitive group ids (DIR-3). */
  groupIds: readonly string[];
  /** Directory role template ids (DIR-4). */
  roleTemplateIds: readonly string[];
  methods: readonly UserMethod[];
  /** PLT-6: methods performed before this instant no longer count. */
  signInSessionsValidFromDateTime?: string | null;
  /** PLT-5: registration-campaign state. */
  campaign?: { snoozeCount: number; snoozedUntil: string | null } | null;
};

export type SignInRequest = {
  /** The instant of the decision (ISO 8601). */
  at: string;
  /** The application signed in to (appId), if any. */
  appId?: string | null;
  /** The user action, for security-info registration or device registration. */
  userAction?: UserAction | null;
  /** Authentication contexts the app asked for (CA-7), c1..c99. */
  authenticationContexts?: readonly string[];
  clientAppType?: ClientAppType;
  platform?: DevicePlatform;
  ipAddress?: string | null;
  transferMethod?: 'deviceCodeFlow' | 'authenticationTransfer' | null;
  /** What the client can do; `webauthn` lets it register and use passkeys (PLT-4, PLT-5). */
  capabilities?: { webauthn: boolean };
  /** PLT-2: what the user is doing in security info (register and change need a fresh authentication). */
  securityInfoOperation?: 'view' | 'register' | 'change' | 'delete' | null;
  /** When this sign-in started: sign-in frequency `everyTime` counts only methods performed since. */
  flowStartedAt?: string | null;
};

/** A method performed in the current session. */
export type PerformedMethod = {
  mode: string;
  at: string;
  methodId?: string | null;
  aaGuid?: string | null;
};

export type SessionState = {
  performed: readonly PerformedMethod[];
  /**
   * Methods registered in this session (PLT-3): they are not the user's *existing* methods, so a
   * TAP session that has just registered the first passkey may go on managing security info.
   */
  registeredMethodIds?: readonly string[];
};

export type SignInInput = { policies: PolicySnapshot; user: SignInUser; request: SignInRequest; session: SessionState };

export type Outcome = 'grant' | 'challenge' | 'register' | 'block';

export type RequirementSource =
  | { kind: 'conditionalAccess'; policyId: string; displayName: string }
  | { kind: 'platform'; rule: PlatformRuleId };

/** A candidate: one of the user's usable methods that would (with what was performed) satisfy a requirement. */
export type Candidate = { methodId: string; type: UserMethodType; modes: readonly string[]; displayName?: string | null };

export type Requirement = {
  /** `ca:<policy id>` or the platform rule id. */
  id: string;
  source: RequirementSource;
  kind: 'mfa' | 'authenticationStrength' | 'firstFactor' | 'existingMethod';
  description: string;
  strength?: { id: string; displayName: string; allowedCombinations: readonly string[] };
  satisfied: boolean;
  /** The combination and the performed methods that satisfied it. */
  satisfiedBy?: { combination: string; methods: readonly PerformedMethod[] };
  candidates: readonly Candidate[];
  /** SIG-2 error code when open. */
  errorCode: number;
  /** CA-6: a strength superseded by a security-info policy's strength. */
  supersededBy?: readonly string[];
};

export type ConditionName = 'users' | 'application' | 'clientType' | 'devicePlatform' | 'location' | 'authenticationFlows' | 'signInRisk' | 'userRisk' | 'servicePrincipalRisk' | 'insiderRisk';

export type PolicyResult = 'success' | 'failure' | 'notApplied' | 'notEnabled' | 'reportOnlySuccess' | 'reportOnlyFailure' | 'reportOnlyNotApplied';

/** One entry of the sign-in log's `appliedConditionalAccessPolicies` (LOG-1), with Gatehouse's explanation. */
export type AppliedPolicy = {
  id: string;
  displayName: string;
  state: CaPolicy['state'];
  result: PolicyResult;
  /** Graph flag lists, comma-joined; 'none' when empty. */
  conditionsSatisfied: string;
  conditionsNotSatisfied: string;
  enforcedGrantControls: string[];
  enforcedSessionControls: string[];
  authenticationStrength?: { id: string; displayName: string; authenticationStrengthResult: 'satisfied' | 'notSatisfied' | 'skippedForProofUp' | 'notSet' } | null;
  /** Whether the assignments and conditions matched this sign-in. */
  applies: boolean;
  /** The first condition that did not match, with why (WIF-1). */
  firstUnmetCondition?: { condition: ConditionName; detail: string } | null;
  /** CA-6: this policy's strength was superseded by these security-info policies. */
  supersededBy?: string[];
  explanation: string;
};

export type PlatformRuleResult = {
  id: PlatformRuleId;
  name: string;
  /** `notApplicable`: not in play; `satisfied`: in play and met; `required`: opens a requirement; `fired`: acted (interrupt, nudge, revocation). */
  result: 'notApplicable' | 'satisfied' | 'required' | 'fired';
  sentence: string;
};

export type Decision = {
  outcome: Outcome;
  /** SIG-2: null on grant. */
  errorCode: number | null;
  failureReason: string | null;
  /** Every requirement that applied (CA and platform), open or satisfied. */
  requirements: Requirement[];
  appliedConditionalAccessPolicies: AppliedPolicy[];
  conditionalAccessStatus: 'success' | 'failure' | 'notApplied';
  platformRules: PlatformRuleResult[];
  authenticationRequirement: 'singleFactorAuthentication' | 'multiFactorAuthentication';
  /** LOG-1: CA and platform sources of the requirement; platform rules use requirementProvider `gatehousePlatformRule`. */
  authenticationRequirementPolicies: { requirementProvider: string; detail: string }[];
  /** PLT-4 or enforced PLT-5: what to register and why; `requirementIds` are the open requirements (PLT-4) a registration would meet, none for the campaign. */
  registration?: { modes: readonly string[]; rule: 'PLT-4' | 'PLT-5'; requirementIds: readonly string[]; sentence: string } | null;
  /** PLT-5: a nudge to show after a successful sign-in. */
  nudge?: { mode: string; canSnooze: boolean; snoozesUsed: number; snoozesAllowed: number | null; snoozeDurationInDays: number } | null;
  /** CA-7: authentication contexts satisfied. */
  acr: string[];
  /** CA-2: risk is always none here. */
  risk: { signInRiskLevel: 'none'; userRiskLevel: 'none' };
  /** One sentence per step of the reasoning, in order. */
  explanation: string[];
};
