import type { Actor } from '../../domain/actors.ts';
import { permits, ROLE_TEMPLATES } from '../../domain/directory.ts';
import { ForbiddenError } from '../../domain/errors.ts';
import { publicRecoveryPolicy, recoveryPolicyPatch, type RecoveryPolicy } from '../../domain/recovery.ts';
import { parseInput } from '../../domain/validation.ts';
import { writeAudit } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { getRecoveryPolicy, lockRecoveryPolicy, saveRecoveryPolicy } from '../../store/recoveryCases.ts';
import { auditActor } from '../methods/context.ts';

const ROLE = Object.fromEntries(ROLE_TEMPLATES.map((r) => [r.displayName, r.id])) as Record<string, string>;
const WRITERS = ['Global Administrator', 'Privileged Authentication Administrator', 'Authentication Policy Administrator'].map((n) => ROLE[n]!);
const READERS = [...WRITERS, ...['Authentication Administrator', 'Security Administrator', 'Security Reader', 'Global Reader'].map((n) => ROLE[n]!)];

function authorize(actor: Actor, access: 'read' | 'write'): void {
  if (actor.kind === 'operator') return;
  if (actor.kind === 'app') {
    const ok = access === 'read' ? permits(actor.permissions, 'policy.read') || permits(actor.permissions, 'methods.read') : permits(actor.permissions, 'policy.methods.write');
    if (!ok) throw new ForbiddenError(`Insufficient privileges: ${access === 'read' ? 'reading the recovery policy needs Policy.Read.All or UserAuthenticationMethod.Read.All' : 'changing the recovery policy needs Policy.ReadWrite.AuthenticationMethod'}.`);
    return;
  }
  if (!(access === 'read' ? READERS : WRITERS).some((r) => actor.roles.includes(r))) {
    throw new ForbiddenError(`${access === 'read' ? 'Reading' : 'Changing'} the recovery policy needs the ${access === 'read' ? 'Authentication Administrator, a policy or a reader' : 'Authentication Policy Administrator, Privileged Authentication Administrator or Global Administrator'} role.`);
  }
}

/** `GET /api/recovery/policy`: the tenant's recovery policy (defaults when never set); never the webhook secret. */
export async function readRecoveryPolicy(db: Db, tenantId: string, actor: Actor) {
  authorize(actor, 'read');
  return publicRecoveryPolicy(await getRecoveryPolicy(db, tenantId));
}

/** `PATCH /api/recovery/policy`: audited as a policy change (LOG-2). */
export async function patchRecoveryPolicy(db: Db, tenantId: string, actor: Actor, rawBody: unknown, now: Date, ipAddress?: string | null) {
  const patch = parseInput(recoveryPolicyPatch, rawBody);
  authorize(actor, 'write');
  return db.transaction().execute(async (trx) => {
    await lockRecoveryPolicy(trx, tenantId);
    const before = await getRecoveryPolicy(trx, tenantId);
    const after: RecoveryPolicy = { ...before, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    await saveRecoveryPolicy(trx, tenantId, after, now);
    const shown = (p: RecoveryPolicy) => publicRecoveryPolicy(p) as Record<string, unknown>;
    await writeAudit(trx, tenantId, {
      activityDisplayName: 'Update recovery policy', category: 'Policy', operationType: 'Update', result: 'success', loggedByService: 'Gatehouse Recovery',
      initiatedBy: auditActor(actor, ipAddress), target: { id: tenantId, displayName: 'Recovery policy', type: 'Policy' },
      modifiedProperties: Object.keys(shown(after)).filter((k) => JSON.stringify(shown(before)[k]) !== JSON.stringify(shown(after)[k]))
        .map((k) => ({ displayName: k, oldValue: shown(before)[k], newValue: shown(after)[k] })),
    }, now);
    return publicRecoveryPolicy(after);
  });
}
