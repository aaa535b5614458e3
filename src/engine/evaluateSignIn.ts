import { USER_ACTION_REGISTER_SECURITY_INFO } from '../domain/conditionalAccess.ts';
import { methodEnabledFor } from '../domain/methodsPolicy.ts';
import { SIGN_IN_ERRORS } from '../domain/signInErrors.ts';
import { REGISTRABLE_MODES } from '../domain/strengths.ts';
import { compileSnapshot, type CompiledPolicy, type CompiledStrength } from './compiled.ts';
import { conditionFacts, conditionsMatch, notAppliedExplanation, type ConditionsResult } from './conditions.ts';
import { rule, securityInfoGate, type RuleContext } from './platformRules.ts';
import { candidatesFor, modeAllowedFor, strengthSatisfied, usableMethods } from './strengths.ts';
import type { AppliedPolicy, Decision, PerformedMethod, PlatformRuleResult, Requirement, SignInInput } from './types.ts';

const isTap = (mode: string) => mode === 'temporaryAccessPassOneTime' || mode === 'temporaryAccessPassMultiUse';
/**
 * Graph's flag lists for the log (LOG-1): the satisfied and unsatisfied condition names,
 * comma-joined, 'none' when empty. One pass, no intermediate arrays; `conditionsMatch` checks each
 * condition at most once, so the names in a list are already distinct.
 */
function conditionFlags(checks: ConditionsResult['checks']): [satisfied: string, notSatisfied: string] {
  let yes = '';
  let no = '';
  for (const c of checks) {
    if (c.satisfied) yes = yes ? `${yes},${c.condition}` : c.condition;
    else no = no ? `${no},${c.condition}` : c.condition;
  }
  return [yes || 'none', no || 'none'];
}

type Evaluated = { cp: CompiledPolicy; cond: ConditionsResult; applied: AppliedPolicy; requirement?: Requirement; blocks: boolean; enforced: boolean };

/**
 * SIG-1: decide a sign-in. Pure: the same input always gives the same decision, and the live
 * sign-in, What-If and replay all call this one function. The decision carries its full trace:
 * each CA policy's result with the conditions met and not met, each platform rule with a
 * sentence, each requirement with its source and the user's methods that would satisfy it.
 */
export function evaluateSignIn(input: SignInInput): Decision {
  const { policies, user, request, session } = input;
  const at = Date.parse(request.at);
  if (Number.isNaN(at)) throw new TypeError(`request.at must be an ISO 8601 instant, got ${String(request.at)}`);
  const compiled = compileSnapshot(policies);
  const allowed = modeAllowedFor(policies.methodsPolicy, user.groupIds);
  const usable = usableMethods(user.methods);
  const explanation: string[] = [];
  const platformRules: PlatformRuleResult[] = [];
  const isSecurityInfo = request.userAction === USER_ACTION_REGISTER_SECURITY_INFO;

  // PLT-6: methods performed before the user's sessions were revoked no longer count.
  const validFrom = user.signInSessionsValidFromDateTime ? Date.parse(user.signInSessionsValidFromDateTime) : Number.NEGATIVE_INFINITY;
  const performed = session.performed.filter((p) => Date.parse(p.at) >= validFrom && Date.parse(p.at) <= at);
  const revoked = session.performed.filter((p) => Date.parse(p.at) < validFrom);

  // CA-2..CA-6: every policy's conditions, then the grants of those that apply.
  const facts = conditionFacts(user, request);
  const conds = compiled.policies.map((cp) => conditionsMatch(cp, compiled, facts));
  // CA-6: for security-info registration, strengths from policies targeting the action take
  // precedence over strengths from policies targeting all resources.
  const actionStrengthPolicies = isSecurityInfo
    ? compiled.policies.filter((cp, i) => cp.policy.state === 'enabled' && conds[i]!.applies && cp.target.kind === 'userActions' && cp.grant?.strengthId).map((cp) => cp.policy.id)
    : [];
  let sifCaused = false;
  // A policy that doesn't apply (or is disabled) contributes only its log entry; one that applies
  // also its grant evaluation, kept in `applying` (policy order) for the requirements and the trace.
  const evaluate = (cp: CompiledPolicy, cond: ConditionsResult): AppliedPolicy | Evaluated => {
    const p = cp.policy;
    const { id, displayName, state } = cp;
    const reportOnly = state === 'enabledForReportingButNotEnforced';
    const [conditionsSatisfied, conditionsNotSatisfied] = conditionFlags(cond.checks);
    // Most policies don't apply: their log entry is built in one go (same fields, same order as `base`).
    if (state === 'disabled') {
      return {
        id, displayName, state, result: 'notEnabled', conditionsSatisfied, conditionsNotSatisfied,
        enforcedGrantControls: [], enforcedSessionControls: [], authenticationStrength: null,
        applies: cond.applies, firstUnmetCondition: null, explanation: 'The policy is disabled; it is not evaluated for enforcement.',
      };
    }
    if (!cond.applies) {
      const unmet = cond.firstUnmet!;
      const detail = unmet.detail();
      return {
        id, displayName, state, result: reportOnly ? 'reportOnlyNotApplied' : 'notApplied', conditionsSatisfied, conditionsNotSatisfied,
        enforcedGrantControls: [], enforcedSessionControls: [], authenticationStrength: null,
        applies: false, firstUnmetCondition: { condition: unmet.condition, detail }, explanation: notAppliedExplanation(unmet, detail),
      };
    }
    const base: AppliedPolicy = {
      id, displayName, state, result: 'notApplied', conditionsSatisfied, conditionsNotSatisfied,
      enforcedGrantControls: [], enforcedSessionControls: [], authenticationStrength: null,
      applies: cond.applies, firstUnmetCondition: null, explanation: '',
    };
    const g = cp.grant;
    const grantNames = g ? [...(g.block ? ['Block'] : []), ...(g.mfa ? ['Mfa'] : []), ...(g.strengthId ? ['RequireAuthenticationStrength'] : []), ...g.unsupported] : [];
    const applied: AppliedPolicy = { ...base, enforcedGrantControls: grantNames, enforcedSessionControls: [...cp.sessionControlNames] };
    const enforced = !reportOnly;
    if (g?.block) {
      return { cp, cond, applied: { ...applied, result: reportOnly ? 'reportOnlyFailure' : 'failure', explanation: reportOnly ? 'Report-only: this policy would block the sign-in.' : 'Applies and blocks access (CA-5: any applicable block ends the sign-in).' }, blocks: enforced, enforced };
    }
    // Sign-in frequency (PLT-6): under this policy, methods older than the frequency don't count.
    const sif = cp.signInFrequency;
    const since = sif ? (sif.everyTime ? Date.parse(request.flowStartedAt ?? request.at) : at - sif.seconds * 1000) : Number.NEGATIVE_INFINITY;
    const policyPerformed = sif ? performed.filter((x) => Date.parse(x.at) >= since) : performed;
    let strength: CompiledStrength | undefined;
    let superseded: string[] | undefined;
    let requirementKind: Requirement['kind'] = 'mfa';
    if (g?.strengthId) {
      requirementKind = 'authenticationStrength';
      strength = compiled.strengths.get(g.strengthId);
      if (actionStrengthPolicies.length && cp.target.kind === 'applications' && cp.target.all && !actionStrengthPolicies.includes(p.id)) superseded = actionStrengthPolicies;
    } else if (g?.mfa) strength = compiled.mfaStrength;
    let satisfied: boolean;
    let satisfiedBy: Requirement['satisfiedBy'];
    // PLT-6: unmet only because this policy's sign-in frequency made earlier methods too old.
    let sifStale = false;
    if (!g || (!g.mfa && !g.strengthId && g.unsupported.length === 0)) satisfied = true; // session controls only
    else if (superseded) satisfied = true;
    else if (!strength) satisfied = false;
    else {
      satisfiedBy = strengthSatisfied(strength, policyPerformed, allowed);
      satisfied = !!satisfiedBy;
      if (g.unsupported.length && g.operator === 'AND') satisfied = false;
      sifStale = !satisfied && !!sif && !!strengthSatisfied(strength, performed, allowed);
      // CA-5: a report-only policy is never enforced, so its sign-in frequency doesn't make PLT-6 fire.
      if (sifStale && enforced) sifCaused = true;
    }
    const strengthInfo = g?.strengthId ? {
      id: g.strengthId, displayName: strength?.strength.displayName ?? `(missing strength ${g.strengthId})`,
      authenticationStrengthResult: superseded ? 'skippedForProofUp' as const : satisfied ? 'satisfied' as const : 'notSatisfied' as const,
    } : null;
    const what = g?.strengthId ? `authentication strength '${strengthInfo!.displayName}'` : g?.mfa ? 'multifactor authentication' : 'session controls only';
    const explanationText = superseded
      ? `Applies; its strength '${strengthInfo!.displayName}' is superseded under CA-6 by the security-info policy ${superseded.join(', ')}, whose strength takes precedence for registering security info.`
      : satisfied
        ? `Applies; ${what} ${satisfiedBy ? `satisfied by ${satisfiedBy.combination}` : 'needs nothing more'}.`
        : `Applies; ${what} not yet satisfied${sif && sifStale ? ` (sign-in frequency ${sif.label}: earlier methods are too old)` : ''}.`;
    const result = reportOnly ? (satisfied ? 'reportOnlySuccess' : 'reportOnlyFailure') : satisfied ? 'success' : 'failure';
    const out: Evaluated = { cp, cond, applied: { ...applied, result, authenticationStrength: strengthInfo, ...(superseded ? { supersededBy: superseded } : {}), explanation: explanationText }, blocks: false, enforced };
    if (enforced && g && (g.mfa || g.strengthId || g.unsupported.length)) {
      out.requirement = {
        id: `ca:${p.id}`,
        source: { kind: 'conditionalAccess', policyId: p.id, displayName: p.displayName },
        kind: requirementKind,
        description: `Conditional Access policy '${p.displayName}' requires ${what}${sifStale ? ` within its sign-in frequency (${sif!.label})` : ''}.`,
        ...(strength ? { strength: { id: strength.strength.id, displayName: strength.strength.displayName, allowedCombinations: strength.strength.allowedCombinations } } : {}),
        satisfied,
        ...(satisfiedBy ? { satisfiedBy } : {}),
        candidates: satisfied || !strength ? [] : candidatesFor(strength, policyPerformed, usable, allowed),
        errorCode: sifStale ? SIGN_IN_ERRORS.SignInFrequency.code : SIGN_IN_ERRORS.MfaRequired.code,
        ...(superseded ? { supersededBy: superseded } : {}),
      };
    }
    return out;
  };
  const appliedPolicies: AppliedPolicy[] = [];
  // Everything below looks only at the policies that apply and aren't disabled (requirements and
  // blocks come only from those).
  const applying: Evaluated[] = [];
  for (let i = 0; i < compiled.policies.length; i++) {
    const r = evaluate(compiled.policies[i]!, conds[i]!);
    if ('cp' in r) {
      appliedPolicies.push(r.applied);
      applying.push(r);
    } else appliedPolicies.push(r);
  }
  const requirements: Requirement[] = applying.flatMap((e) => (e.requirement ? [e.requirement] : []));
  const ctx: RuleContext = { input, compiled, at, performed, usable, allowed };

  // PLT-1..PLT-3 for the security-info action.
  if (isSecurityInfo) {
    const gate = securityInfoGate(ctx);
    platformRules.push(...gate.rules);
    requirements.push(...gate.requirements);
  } else {
    platformRules.push(rule('PLT-1', 'notApplicable', 'not a security-info sign-in.'), rule('PLT-2', 'notApplicable', 'not a security-info sign-in.'), rule('PLT-3', 'notApplicable', 'not a security-info sign-in.'));
  }

  const blockers = applying.filter((e) => e.blocks);
  const open = requirements.filter((r) => !r.satisfied);
  let outcome: Decision['outcome'] = 'grant';
  let errorCode: number | null = null;
  let failureReason: string | null = null;
  let registration: Decision['registration'] = null;
  let nudge: Decision['nudge'] = null;
  let plt4: PlatformRuleResult = rule('PLT-4', 'notApplicable', 'every requirement can be met with a method the user holds.');
  let plt5: PlatformRuleResult = rule('PLT-5', 'notApplicable', 'the sign-in did not succeed, so there is no nudge.');

  if (!user.accountEnabled) {
    outcome = 'block';
    errorCode = SIGN_IN_ERRORS.AccountDisabled.code;
    failureReason = 'The user account is disabled (DIR-2).';
  } else if (blockers.length) {
    outcome = 'block';
    errorCode = isSecurityInfo ? SIGN_IN_ERRORS.BlockedFromRegistering.code : SIGN_IN_ERRORS.BlockedByConditionalAccess.code;
    failureReason = `Blocked by Conditional Access policy '${blockers[0]!.cp.policy.displayName}' (${blockers[0]!.cp.policy.id}).`;
  } else if (open.length) {
    const stuck = open.filter((r) => r.candidates.length === 0);
    if (stuck.length === 0) {
      outcome = 'challenge';
      const first = open.find((r) => r.source.kind === 'platform') ?? open[0]!;
      errorCode = first.errorCode;
      failureReason = first.description;
    } else {
      const verdict = registrationInterrupt(ctx, stuck, isSecurityInfo);
      plt4 = verdict.rule;
      outcome = verdict.outcome;
      errorCode = verdict.errorCode;
      failureReason = verdict.reason;
      registration = verdict.registration ?? null;
    }
  } else {
    const campaign = registrationCampaign(ctx, isSecurityInfo);
    plt5 = campaign.rule;
    if (campaign.enforced) {
      outcome = 'register';
      errorCode = SIGN_IN_ERRORS.RegistrationRequired.code;
      failureReason = campaign.enforced.sentence;
      registration = campaign.enforced;
    } else nudge = campaign.nudge ?? null;
  }
  platformRules.push(plt4, plt5);
  const sifPolicies = applying.filter((e) => e.enforced && e.cp.signInFrequency);
  platformRules.push(rule('PLT-6', revoked.length || sifCaused ? 'fired' : sifPolicies.length ? 'satisfied' : 'notApplicable',
    [revoked.length ? `${revoked.length} method(s) performed before the user's sessions were revoked (${user.signInSessionsValidFromDateTime}) no longer count.` : '',
      sifPolicies.length ? `sign-in frequency of ${sifPolicies.map((e) => `'${e.cp.policy.displayName}' (${e.cp.signInFrequency!.label})`).join(', ')} ${sifCaused ? 'requires re-authentication' : 'is met'}.` : '',
    ].filter(Boolean).join(' ') || 'no revocation and no sign-in frequency in play.'));
  if (outcome === 'challenge' && revoked.length && performed.length === 0) errorCode = SIGN_IN_ERRORS.SessionRevoked.code;

  // CA-7: the authentication contexts this sign-in satisfies.
  const acr = (request.authenticationContexts ?? []).filter((c) => {
    const targeting = applying.filter((e) => e.enforced && e.cp.target.kind === 'authenticationContexts' && e.cp.target.contexts.includes(c));
    return targeting.length > 0 && targeting.every((e) => e.applied.result === 'success');
  });

  const appliedEnforced = applying.filter((e) => e.enforced);
  const conditionalAccessStatus = appliedEnforced.length === 0 ? 'notApplied' : appliedEnforced.some((e) => e.applied.result === 'failure') ? 'failure' : 'success';
  const multifactor = requirements.some((r) => r.kind !== 'firstFactor');
  const authenticationRequirementPolicies = [
    ...requirements.filter((r) => r.source.kind === 'conditionalAccess').map((r) => ({ requirementProvider: 'multiConditionalAccess', detail: `${r.description} [${r.satisfied ? 'satisfied' : 'open'}]` })),
    ...(blockers.length ? blockers.map((b) => ({ requirementProvider: 'multiConditionalAccess', detail: `Conditional Access policy '${b.cp.policy.displayName}' blocks access.` })) : []),
    ...platformRules.filter((r) => r.result === 'required' || r.result === 'fired').map((r) => ({ requirementProvider: 'gatehousePlatformRule', detail: r.sentence })),
  ];

  explanation.push(user.accountEnabled ? `User ${user.userPrincipalName} (${user.userType}) with ${usable.length} usable method(s).` : `User ${user.userPrincipalName} is disabled.`);
  explanation.push(`Session: ${performed.length ? performed.map((p) => p.mode).join(', ') : 'nothing performed yet'}.`);
  explanation.push(applying.length ? `Conditional Access: ${applying.map((e) => `'${e.cp.policy.displayName}' ${e.applied.result}`).join('; ')}.` : 'Conditional Access: no policy applies (CA-5: no applicable policy means allow).');
  for (const r of platformRules) if (r.result !== 'notApplicable') explanation.push(r.sentence);
  explanation.push(outcome === 'grant' ? 'Outcome: granted.' : `Outcome: ${outcome}${errorCode ? ` (${errorCode})` : ''}: ${failureReason}`);

  return {
    outcome, errorCode, failureReason, requirements,
    appliedConditionalAccessPolicies: appliedPolicies,
    conditionalAccessStatus, platformRules,
    authenticationRequirement: multifactor ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
    authenticationRequirementPolicies, registration, nudge, acr,
    risk: { signInRiskLevel: 'none', userRiskLevel: 'none' },
    explanation,
  };
}

/** The registrable modes (PLT-4) a requirement's strength offers, allowed for this user. */
function registrableModes(ctx: RuleContext, r: Requirement): string[] {
  if (r.source.kind !== 'conditionalAccess' || !r.strength) return [];
  const fido2 = ctx.input.policies.methodsPolicy.authenticationMethodConfigurations.find((c) => c.id === 'Fido2') as { isSelfServiceRegistrationAllowed?: boolean } | undefined;
  return r.strength.allowedCombinations.filter((c) => REGISTRABLE_MODES.includes(c) && ctx.allowed(c) && (c !== 'fido2' || fido2?.isSelfServiceRegistrationAllowed !== false));
}

/** PLT-4: a strength no usable method satisfies: register one (if this client can), else fail saying why. */
function registrationInterrupt(ctx: RuleContext, stuck: Requirement[], isSecurityInfo: boolean): { outcome: Decision['outcome']; errorCode: number; reason: string; rule: PlatformRuleResult; registration?: NonNullable<Decision['registration']> } {
  const names = stuck.map((r) => (r.source.kind === 'conditionalAccess' ? `'${r.source.displayName}'` : r.id)).join(', ');
  const platformStuck = stuck.find((r) => r.source.kind === 'platform');
  if (platformStuck) {
    return { outcome: 'block', errorCode: platformStuck.errorCode, reason: platformStuck.description, rule: rule('PLT-4', 'notApplicable', 'a platform requirement, not a strength, is unmet.') };
  }
  if (isSecurityInfo) {
    return { outcome: 'block', errorCode: SIGN_IN_ERRORS.BlockedFromRegistering.code, reason: `No method the user holds satisfies ${names} for registering security info, and registration can't interrupt itself; an administrator can issue a Temporary Access Pass.`, rule: rule('PLT-4', 'notApplicable', 'this is the security-info registration itself.') };
  }
  const settings = ctx.input.policies.platform;
  if (settings.registrationInterrupt === 'disabled') {
    return { outcome: 'block', errorCode: SIGN_IN_ERRORS.NoMethodSatisfiesRequirement.code, reason: `No usable method satisfies ${names}, and the registration interrupt is disabled in the platform rules policy.`, rule: rule('PLT-4', 'notApplicable', 'disabled by the tenant setting registrationInterrupt.') };
  }
  const modes = [...new Set(stuck.flatMap((r) => registrableModes(ctx, r)))];
  const everyFits = stuck.every((r) => registrableModes(ctx, r).length > 0);
  const tapOrNothing = ctx.performed.some((p) => isTap(p.mode)) || ctx.usable.length === 0;
  if (!everyFits) {
    return { outcome: 'block', errorCode: SIGN_IN_ERRORS.NoMethodSatisfiesRequirement.code, reason: `No usable method satisfies ${names}, and its strength contains no method the user may register here (${REGISTRABLE_MODES.join(', ')}, allowed by the methods policy). An administrator can change ${names} or the methods policy.`, rule: rule('PLT-4', 'notApplicable', `the strength of ${names} contains no registrable method.`) };
  }
  if (!tapOrNothing) {
    return { outcome: 'block', errorCode: SIGN_IN_ERRORS.NoMethodSatisfiesRequirement.code, reason: `None of the user's usable methods satisfies ${names}. Sign in with a Temporary Access Pass to register a ${modes.join(' or ')} method, or ask an administrator.`, rule: rule('PLT-4', 'notApplicable', 'the user neither signed in with a Temporary Access Pass nor lacks methods.') };
  }
  const webauthn = ctx.input.request.capabilities?.webauthn ?? false;
  if (!webauthn) {
    const sentence = `no registrable method fits this client: ${names} requires a ${modes.join(' or ')} method that none of the user's methods satisfies, and this client cannot register a passkey (it reported no WebAuthn support). An administrator can change ${names} (for example exclude this application), or the user can complete the sign-in in a browser that supports passkeys.`;
    return { outcome: 'block', errorCode: SIGN_IN_ERRORS.RegistrationNotPossibleInClient.code, reason: `PLT-4: ${sentence}`, rule: rule('PLT-4', 'fired', sentence) };
  }
  const sentence = `${names} can't be satisfied by any usable method the user holds; the user ${ctx.usable.length ? 'signed in with a Temporary Access Pass' : 'holds no method'} and this client can register ${modes.join(' or ')}: register it, then use it once to satisfy the requirement.`;
  return {
    outcome: 'register', errorCode: SIGN_IN_ERRORS.RegistrationRequired.code, reason: `PLT-4: ${sentence}`,
    rule: rule('PLT-4', 'fired', sentence),
    registration: { modes, rule: 'PLT-4', requirementIds: stuck.map((r) => r.id), sentence: `PLT-4 ${sentence}` },
  };
}

type CampaignTarget = { id: string; targetType?: string; targetedAuthenticationMethod?: string };

/** PLT-5: after a successful MFA sign-in, nudge a targeted user who lacks the method. */
function registrationCampaign(ctx: RuleContext, isSecurityInfo: boolean): { rule: PlatformRuleResult; nudge?: NonNullable<Decision['nudge']>; enforced?: NonNullable<Decision['registration']> } {
  const { input } = ctx;
  const campaign = input.policies.methodsPolicy.registrationEnforcement.authenticationMethodsRegistrationCampaign as {
    state?: string; snoozeDurationInDays?: number; enforceRegistrationAfterAllowedSnoozes?: boolean; includeTargets?: CampaignTarget[]; excludeTargets?: CampaignTarget[];
  };
  const na = (why: string) => ({ rule: rule('PLT-5', 'notApplicable', why) });
  if (campaign.state !== 'enabled') return na(`the registration campaign is ${campaign.state ?? 'default'} (only 'enabled' nudges here).`);
  if (isSecurityInfo || input.request.userAction) return na('no nudge during a user action.');
  const groups = input.user.groupIds.map((g) => g.toLowerCase());
  const excluded = (campaign.excludeTargets ?? []).find((t) => groups.includes(t.id.toLowerCase()));
  if (excluded) return na(`the user is in excluded group ${excluded.id}.`);
  const target = (campaign.includeTargets ?? []).find((t) => t.id === 'all_users' || groups.includes(t.id.toLowerCase()));
  if (!target) return na('the user is not targeted by the campaign.');
  const mode = target.targetedAuthenticationMethod ?? 'fido2';
  if (!REGISTRABLE_MODES.includes(mode)) return na(`the campaign targets ${mode}, which is not available on this server.`);
  if (ctx.usable.some((m) => m.modes.includes(mode))) return na(`the user already holds a usable ${mode} method.`);
  if (!strengthSatisfied(ctx.compiled.mfaStrength, ctx.performed, ctx.allowed)) return na('the sign-in was not multifactor.');
  if (!(input.request.capabilities?.webauthn ?? false)) return na(`this client can't register ${mode} (no WebAuthn support reported), so no nudge.`);
  if (!methodEnabledFor(input.policies.methodsPolicy, 'Fido2', input.user.groupIds).enabled) return na('the methods policy does not let the user register a passkey.');
  const gate = securityInfoGate({ ...ctx, input: { ...input, request: { ...input.request, userAction: USER_ACTION_REGISTER_SECURITY_INFO, securityInfoOperation: 'register' } } });
  const refused = gate.requirements.find((r) => !r.satisfied);
  if (refused) return na(`the security-info gate would refuse registration now (${refused.id}), so no nudge.`);
  const state = input.user.campaign ?? { snoozeCount: 0, snoozedUntil: null };
  if (state.snoozedUntil && Date.parse(state.snoozedUntil) > ctx.at) return na(`the user snoozed the nudge until ${state.snoozedUntil}.`);
  const duration = campaign.snoozeDurationInDays ?? 1;
  const enforce = campaign.enforceRegistrationAfterAllowedSnoozes ?? true;
  const allowedSnoozes = 3;
  if (enforce && state.snoozeCount >= allowedSnoozes) {
    const sentence = `the user snoozed ${state.snoozeCount} times, the campaign allows ${allowedSnoozes}: registering ${mode} is now required.`;
    return { rule: rule('PLT-5', 'fired', sentence), enforced: { modes: [mode], rule: 'PLT-5', requirementIds: [], sentence: `PLT-5 ${sentence}` } };
  }
  const sentence = `the user lacks ${mode} and is targeted by the registration campaign: nudge (snoozed ${state.snoozeCount} of ${enforce ? allowedSnoozes : 'unlimited'} times, ${duration} day(s) each).`;
  return { rule: rule('PLT-5', 'fired', sentence), nudge: { mode, canSnooze: true, snoozesUsed: state.snoozeCount, snoozesAllowed: enforce ? allowedSnoozes : null, snoozeDurationInDays: duration } };
}

export type { PerformedMethod };
