import { FIRST_PARTY_APPS, GLOBAL_ADMINISTRATOR } from '../../domain/directory.ts';
import { lockoutVerdict, type LockoutVerdict } from '../../engine/lockout.ts';
import type { PolicySnapshot, SignInUser } from '../../engine/types.ts';
import type { Db } from '../../store/database.ts';
import { listMembers } from '../../store/groups.ts';
import { principalsWithRole } from '../../store/roles.ts';
import { loadSignInUser } from './signInUser.ts';

export type { LockoutVerdict };

const CONSOLE_APP_ID = FIRST_PARTY_APPS.find((a) => a.key === 'adminConsole')!.appId;

/** Every user holding Global Administrator, directly or through a group (DIR-4). */
export async function globalAdministratorIds(db: Db, tenantId: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const p of await principalsWithRole(db, tenantId, GLOBAL_ADMINISTRATOR)) {
    if (!p.isGroup) { ids.add(p.id); continue; }
    for (const m of await listMembers(db, tenantId, p.id, true)) if (m['@odata.type'] === '#microsoft.graph.user') ids.add(m.id);
  }
  return [...ids];
}

/**
 * WIF-3: would the proposed policy set leave no enabled Global Administrator able to sign in to
 * the admin console? Users' method usability is recomputed under the proposed methods policy.
 */
export async function guardAgainstLockout(db: Db, tenantId: string, proposed: PolicySnapshot, now: Date): Promise<LockoutVerdict> {
  const admins: SignInUser[] = [];
  for (const id of await globalAdministratorIds(db, tenantId)) {
    const u = await loadSignInUser(db, tenantId, id, proposed.methodsPolicy, now);
    if (u) admins.push(u);
  }
  return lockoutVerdict(proposed, admins, CONSOLE_APP_ID, now.toISOString());
}
