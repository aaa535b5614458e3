import { methodEnabledFor, type MethodsPolicy } from '../../domain/methodsPolicy.ts';
import { tapUsability } from '../../methods/tap/usability.ts';
import type { SignInUser, UserMethod } from '../../engine/types.ts';
import type { Db } from '../../store/database.ts';
import { loadSignInFacts, type SignInFacts } from '../../store/signInFacts.ts';
import { campaignSnoozeOf } from '../../store/campaignSnoozes.ts';
import { passkeyUsability, SUSPENDED_BY_RECOVERY_CASE } from '../methods/passkeys.ts';
import { PASSWORD_METHOD_ID } from '../methods/methods.ts';

/**
 * The engine's view of a user (SIG-1): transitive groups, role template ids, and every method
 * with its usability under the given methods policy (the tenant's, or a proposed one for WIF-3).
 * One statement (store/signInFacts.ts).
 */
export async function loadSignInUser(db: Db, tenantId: string, userRef: string, methodsPolicy: MethodsPolicy, now: Date): Promise<SignInUser | undefined> {
  const { facts } = await loadSignInFacts(db, tenantId, userRef);
  return facts ? withCampaignState(db, tenantId, signInUserFrom(facts, methodsPolicy, now), methodsPolicy) : undefined;
}

/**
 * PLT-5: the user's snoozes of the registration campaign (store/campaignSnoozes.ts), read only
 * while the campaign is enabled: one small query, and none at all on the usual hot path.
 */
export async function withCampaignState(db: Db, tenantId: string, user: SignInUser, methodsPolicy: MethodsPolicy): Promise<SignInUser> {
  const campaign = methodsPolicy.registrationEnforcement.authenticationMethodsRegistrationCampaign as { state?: string } | undefined;
  if (campaign?.state !== 'enabled') return user;
  return { ...user, campaign: await campaignSnoozeOf(db, tenantId, user.id) };
}

/** The engine's view of a user from facts already loaded, under the given methods policy. */
export function signInUserFrom(f: SignInFacts, methodsPolicy: MethodsPolicy, now: Date): SignInUser {
  const u = f.user;
  const groupIds = f.groupIds;
  const methods: UserMethod[] = [];
  for (const m of f.passkeys) {
    const usable = passkeyUsability(m, methodsPolicy, groupIds);
    methods.push({ id: m.id, type: 'fido2', modes: ['fido2'], displayName: m.displayName, usable: usable.isUsable, usabilityReason: usable.methodUsabilityReason, aaGuid: m.aaguid, ...(m.suspendedByCaseId ? { suspended: true } : {}) });
  }
  const pass = f.pass;
  if (pass) {
    const usable = tapUsability(pass, { methodEnabledForUser: methodEnabledFor(methodsPolicy, 'TemporaryAccessPass', groupIds).enabled }, now);
    methods.push({ id: pass.id, type: 'temporaryAccessPass', modes: [pass.isUsableOnce ? 'temporaryAccessPassOneTime' : 'temporaryAccessPassMultiUse'], displayName: null, usable: usable.isUsable, usabilityReason: usable.methodUsabilityReason });
  }
  if (f.hasPassword) {
    const on = methodEnabledFor(methodsPolicy, 'Password', groupIds).enabled;
    methods.push({ id: PASSWORD_METHOD_ID, type: 'password', modes: ['password'], usable: on, usabilityReason: on ? 'EnabledByPolicy' : 'DisabledByPolicy' });
  }
  const oathOn = methodEnabledFor(methodsPolicy, 'SoftwareOath', groupIds).enabled;
  for (const id of f.oathIds) {
    // RCV-2: an authenticator app suspended by a recovery case is not usable and not counted.
    const suspended = (f.suspensions ?? []).some((s) => s.methodId === id);
    methods.push({
      id, type: 'softwareOath', modes: ['softwareOath'], usable: oathOn && !suspended,
      usabilityReason: suspended ? SUSPENDED_BY_RECOVERY_CASE : oathOn ? 'EnabledByPolicy' : 'DisabledByPolicy', ...(suspended ? { suspended: true } : {}),
    });
  }
  return {
    id: u.id, userPrincipalName: u.userPrincipalName, userType: u.userType, accountEnabled: u.accountEnabled,
    groupIds, roleTemplateIds: f.roleTemplateIds, methods, signInSessionsValidFromDateTime: u.signInSessionsValidFromDateTime, campaign: null,
  };
}
