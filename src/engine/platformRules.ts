import { PLATFORM_RULES, type PlatformRuleId } from '../domain/platformRules.ts';
import { PHISHING_RESISTANT_MODES } from '../domain/strengths.ts';
import { SIGN_IN_ERRORS } from '../domain/signInErrors.ts';
import type { CompiledSnapshot } from './compiled.ts';
import { candidatesFor, strengthSatisfied, type ModeAllowed } from './strengths.ts';
import type { PerformedMethod, PlatformRuleResult, Requirement, SignInInput, UserMethod } from './types.ts';

export type RuleContext = {
  input: SignInInput;
  compiled: CompiledSnapshot;
  at: number;
  performed: readonly PerformedMethod[];
  usable: readonly UserMethod[];
  allowed: ModeAllowed;
};

export function rule(id: PlatformRuleId, result: PlatformRuleResult['result'], sentence: string): PlatformRuleResult {
  return { id, name: PLATFORM_RULES[id], result, sentence: `${id} ${PLATFORM_RULES[id]}: ${sentence}` };
}

const isTap = (mode: string) => mode === 'temporaryAccessPassOneTime' || mode === 'temporaryAccessPassMultiUse';
const time = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

/**
 * PLT-1..PLT-3, the security-info gate: who may open or change security info with what this
 * session performed. Used for the security-info user action and, by PLT-5, to decide whether a
 * nudge could be followed.
 */
export function securityInfoGate(ctx: RuleContext): { rules: PlatformRuleResult[]; requirements: Requirement[] } {
  const { input, compiled, at, performed, usable, allowed } = ctx;
  const settings = input.policies.platform;
  const op = input.request.securityInfoOperation ?? 'view';
  const mfa = compiled.mfaStrength;
  const mfaMethods = candidatesFor(mfa, [], usable, allowed);
  const hasMfaMethod = mfaMethods.length > 0;
  // PLT-2: register/change need a fresh strong authentication; the security-info session lasts longer.
  // A user with no usable method (bootstrapping with a one-time pass) has only the session window.
  const strict = hasMfaMethod && (op === 'register' || op === 'change');
  const windowMin = strict ? settings.securityInfoFreshnessInMinutes : settings.securityInfoSessionInMinutes;
  const recent = performed.filter((p) => at - Date.parse(p.at) <= windowMin * 60_000);
  const rules: PlatformRuleResult[] = [];
  const requirements: Requirement[] = [];
  const source = (r: PlatformRuleId) => ({ kind: 'platform' as const, rule: r });

  const registeredHere = new Set(input.session.registeredMethodIds ?? []);
  const prHeld = usable.filter((m) => m.modes.some((x) => PHISHING_RESISTANT_MODES.includes(x) && allowed(x)));
  // PLT-3 is about the methods the user held before this session: one it registered is not "existing".
  const prMethods = prHeld.filter((m) => !registeredHere.has(m.id));
  const stepUpOn = settings.existingMethodStepUp === 'phishingResistant' && prMethods.length > 0;
  const prRecent = recent.find((p) => PHISHING_RESISTANT_MODES.includes(p.mode) && allowed(p.mode));
  const tapRecent = recent.find((p) => isTap(p.mode));
  let stale = false;

  // PLT-1: MFA before security info, for users who hold an MFA-capable method.
  if (hasMfaMethod) {
    const sat = strengthSatisfied(mfa, recent, allowed);
    if (sat) {
      rules.push(rule('PLT-1', 'satisfied', `multifactor authentication in this session (${sat.combination} at ${time(sat.methods[0]!.at)}) lets the user open security info.`));
      requirements.push({ id: 'PLT-1', source: source('PLT-1'), kind: 'mfa', description: 'PLT-1: multifactor authentication before security info.', satisfied: true, satisfiedBy: sat, candidates: [], errorCode: SIGN_IN_ERRORS.SecurityInfoMfaRequired.code });
    } else if (strengthSatisfied(mfa, performed, allowed)) {
      stale = true;
      rules.push(rule('PLT-1', 'satisfied', 'the session has multifactor authentication, but not recent enough (see PLT-2).'));
    } else {
      const candidates = candidatesFor(mfa, recent, usable, allowed).filter((c) => !stepUpOn || c.modes.some((x) => PHISHING_RESISTANT_MODES.includes(x)));
      rules.push(rule('PLT-1', 'required', `the user holds a usable multifactor method, so opening security info needs multifactor authentication in this session${stepUpOn ? '; with PLT-3 on, only the existing phishing-resistant methods will do' : ''}.`));
      requirements.push({ id: 'PLT-1', source: source('PLT-1'), kind: 'mfa', description: 'PLT-1: multifactor authentication is required before opening security info.', satisfied: false, candidates, errorCode: SIGN_IN_ERRORS.SecurityInfoMfaRequired.code });
    }
  } else if (recent.length > 0) {
    rules.push(rule('PLT-1', 'satisfied', `the user holds no usable multifactor method, so the first factor (${recent[0]!.mode} at ${time(recent[0]!.at)}) lets them enter to register one.`));
    requirements.push({ id: 'PLT-1', source: source('PLT-1'), kind: 'firstFactor', description: 'PLT-1: a first factor before security info (the user holds no usable method).', satisfied: true, satisfiedBy: { combination: recent[0]!.mode, methods: [recent[0]!] }, candidates: [], errorCode: SIGN_IN_ERRORS.SecurityInfoMfaRequired.code });
  } else {
    if (performed.length > 0) stale = true;
    rules.push(rule('PLT-1', 'required', performed.length > 0 ? 'the first factor is older than the security-info session (see PLT-2).' : 'the user must sign in with a first factor (for example a Temporary Access Pass) before opening security info.'));
    if (performed.length === 0) requirements.push({ id: 'PLT-1', source: source('PLT-1'), kind: 'firstFactor', description: 'PLT-1: a first factor is required before opening security info; the user holds no usable method, so an administrator must issue a Temporary Access Pass.', satisfied: false, candidates: [], errorCode: SIGN_IN_ERRORS.SecurityInfoMfaRequired.code });
  }

  // PLT-2: freshness.
  if (stale) {
    const last = performed.reduce((a, b) => (Date.parse(b.at) > Date.parse(a.at) ? b : a));
    const candidates = hasMfaMethod ? candidatesFor(mfa, [], usable, allowed).filter((c) => !stepUpOn || c.modes.some((x) => PHISHING_RESISTANT_MODES.includes(x))) : [];
    rules.push(rule('PLT-2', 'required', `${op === 'register' || op === 'change' ? `adding or changing a passkey needs a strong authentication within the last ${windowMin} minutes` : `a security-info session lasts ${windowMin} minutes`}; the last one was at ${time(last.at)}.`));
    requirements.push({ id: 'PLT-2', source: source('PLT-2'), kind: hasMfaMethod ? 'mfa' : 'firstFactor', description: `PLT-2: sign in again (the last strong authentication is older than ${windowMin} minutes).`, satisfied: false, candidates, errorCode: SIGN_IN_ERRORS.SecurityInfoNotFresh.code });
  } else {
    rules.push(rule('PLT-2', 'satisfied', strict ? `the strong authentication is within the last ${windowMin} minutes.` : `within the ${windowMin}-minute security-info session.`));
  }

  // PLT-3: a TAP-only session can't open security info when the user holds a usable phishing-resistant method.
  if (settings.existingMethodStepUp === 'off') {
    rules.push(rule('PLT-3', 'notApplicable', "the tenant setting is 'off': a Temporary Access Pass satisfies PLT-1, as in Entra."));
  } else if (prMethods.length === 0) {
    rules.push(rule('PLT-3', 'notApplicable', prHeld.length > 0
      ? 'the user\'s only usable phishing-resistant methods were registered in this session, so there is no existing method to prove.'
      : 'the user holds no usable phishing-resistant method (suspended methods do not count).'));
  } else if (prRecent) {
    rules.push(rule('PLT-3', 'satisfied', `the existing phishing-resistant method ${prRecent.methodId ?? prRecent.mode} was used at ${time(prRecent.at)}.`));
  } else if (tapRecent) {
    rules.push(rule('PLT-3', 'required', `the user holds ${prMethods.length} usable phishing-resistant method(s) and this session's only multifactor authentication is a Temporary Access Pass: prove possession of an existing passkey first, or ask an administrator for a recovery case.`));
    requirements.push({ id: 'PLT-3', source: source('PLT-3'), kind: 'existingMethod', description: 'PLT-3: sign in with your existing passkey before changing security info, or ask an administrator to open a recovery case if it is lost.', satisfied: false, candidates: prMethods.map((m) => ({ methodId: m.id, type: m.type, modes: m.modes, displayName: m.displayName ?? null })), errorCode: SIGN_IN_ERRORS.ExistingMethodRequired.code });
  } else {
    rules.push(rule('PLT-3', 'notApplicable', 'no Temporary Access Pass in this session.'));
  }
  return { rules, requirements };
}
