import { methodEnabledFor, type MethodsPolicy } from '../../domain/methodsPolicy.ts';
import { tapUsability } from '../../methods/tap/usability.ts';
import type { SignInUser, UserMethod } from '../../engine/types.ts';
import type { Db } from '../../store/database.ts';
import { transitiveGroupIdsOf } from '../../store/groups.ts';
import { passkeysOf } from '../../store/passkeys.ts';
import { oathMethodsOf, passwordOf } from '../../store/passwordsAndOath.ts';
import { rolesOf } from '../../store/roles.ts';
import { passOf } from '../../store/temporaryAccessPasses.ts';
import { findUser } from '../../store/users.ts';
import { passkeyUsability } from '../methods/passkeys.ts';
import { PASSWORD_METHOD_ID } from '../methods/methods.ts';

/**
 * The engine's view of a user (SIG-1): transitive groups, role template ids, and every method
 * with its usability under the given methods policy (the tenant's, or a proposed one for WIF-3).
 */
export async function loadSignInUser(db: Db, tenantId: string, userRef: string, methodsPolicy: MethodsPolicy, now: Date): Promise<SignInUser | undefined> {
  const u = await findUser(db, tenantId, userRef);
  if (!u) return undefined;
  const groupIds = await transitiveGroupIdsOf(db, tenantId, u.id);
  const roleTemplateIds = await rolesOf(db, tenantId, [u.id, ...groupIds]);
  const methods: UserMethod[] = [];
  for (const m of await passkeysOf(db, tenantId, u.id)) {
    const usable = passkeyUsability(m, methodsPolicy, groupIds);
    methods.push({ id: m.id, type: 'fido2', modes: ['fido2'], displayName: m.displayName, usable: usable.isUsable, usabilityReason: usable.methodUsabilityReason, aaGuid: m.aaguid });
  }
  const pass = await passOf(db, tenantId, u.id);
  if (pass) {
    const usable = tapUsability(pass, { methodEnabledForUser: methodEnabledFor(methodsPolicy, 'TemporaryAccessPass', groupIds).enabled }, now);
    methods.push({ id: pass.id, type: 'temporaryAccessPass', modes: [pass.isUsableOnce ? 'temporaryAccessPassOneTime' : 'temporaryAccessPassMultiUse'], displayName: null, usable: usable.isUsable, usabilityReason: usable.methodUsabilityReason });
  }
  if (await passwordOf(db, u.id)) {
    const on = methodEnabledFor(methodsPolicy, 'Password', groupIds).enabled;
    methods.push({ id: PASSWORD_METHOD_ID, type: 'password', modes: ['password'], usable: on, usabilityReason: on ? 'EnabledByPolicy' : 'DisabledByPolicy' });
  }
  const oathOn = methodEnabledFor(methodsPolicy, 'SoftwareOath', groupIds).enabled;
  for (const o of await oathMethodsOf(db, u.id)) {
    methods.push({ id: o.id, type: 'softwareOath', modes: ['softwareOath'], usable: oathOn, usabilityReason: oathOn ? 'EnabledByPolicy' : 'DisabledByPolicy' });
  }
  return {
    id: u.id, userPrincipalName: u.userPrincipalName, userType: u.userType, accountEnabled: u.accountEnabled,
    groupIds, roleTemplateIds, methods, signInSessionsValidFromDateTime: u.signInSessionsValidFromDateTime, campaign: null,
  };
}
