import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.ts';
import { approveCase, cancelCase, getCase, listRecoveryCases, openCase, restoreMethods, type CaseResult, type PublicCase, type RecoveryContext } from '../flows/recovery/cases.ts';
import { cleanUpRecoveryCases } from '../flows/recovery/cleanup.ts';
import { deliverRecoveryNotifications } from '../flows/recovery/notifications.ts';
import { jsonOption, operator, print, resolveTenant, withDatabase } from './common.ts';

/**
 * `gatehouse recovery …` (RCV-1..RCV-3, docs/recovery.md): the local operator's view of recovery
 * cases. `--operator NAME` records who at the console acted (the four-eyes rule compares names:
 * the operator who opened a case can't approve it).
 */
type Common = { tenant?: string; json?: boolean; operator?: string };

const actorOf = (o: Common) => (o.operator ? { kind: 'operator' as const, name: `gatehouse CLI (${o.operator})` } : operator);
const ids = (v: string | undefined, option: string) => {
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new ValidationError(option, 'list', `${option} takes a comma-separated list of method ids.`);
  return list;
};

async function inTenant<T>(purpose: string, o: Common, fn: (ctx: RecoveryContext) => Promise<T>): Promise<T> {
  return withDatabase(purpose, async (db) => fn({ db, tenantId: await resolveTenant(db, o.tenant), actor: actorOf(o), now: new Date() }));
}

function caseText(c: PublicCase): string {
  return [
    `Recovery case ${c.id}: ${c.state}`,
    `  user:              ${c.userPrincipalName ?? c.userId}`,
    `  verification:      ${c.verification.method} (${c.verification.reference})${c.verification.note ? ` ${c.verification.note}` : ''}`,
    `  suspended methods: ${c.suspendedMethodIds.join(', ') || 'none'}${c.restoredMethodIds.length ? `; restored: ${c.restoredMethodIds.join(', ')}` : ''}${c.deletedMethodIds.length ? `; deleted: ${c.deletedMethodIds.join(', ')}` : ''}`,
    `  correlation id:    ${c.correlationId}`,
    ...(c.gracePeriodEndDateTime ? [`  grace period ends: ${c.gracePeriodEndDateTime}`] : []),
  ].join('\n');
}

function resultText(r: CaseResult): string {
  const pass = r.temporaryAccessPass;
  return caseText(r.case) + (pass ? `\n  case TAP:          ${pass.temporaryAccessPass}   (one-time, valid ${pass.lifetimeInMinutes} min from ${pass.startDateTime}; shown once)` : '');
}

export function registerRecoveryCommands(program: Command): void {
  const recovery = program.command('recovery').description('recovery cases (RCV-1..RCV-3, docs/recovery.md)');
  const common = (c: Command) => c.option('--tenant <id|name>').option('--operator <name>', 'who at the console acts (recorded in the audit log)').addOption(jsonOption());

  common(recovery.command('open').description('open a recovery case: suspends the user\'s passkeys, revokes sessions, issues a one-time TAP (unless approval is needed)')
    .argument('<user>', 'user id or UPN')
    .requiredOption('--verification <method>', 'inPerson | videoCall | managerAttestation | helpdeskTicket | other')
    .requiredOption('--reference <text>', 'ticket number or other reference of the identity check')
    .option('--note <text>').option('--methods <ids>', 'comma-separated passkey ids to suspend (default: all)')
    .option('--lifetime <minutes>', 'lifetime of the case TAP'))
    .action(async (user: string, o: Common & { verification: string; reference: string; note?: string; methods?: string; lifetime?: string }) => {
      if (o.lifetime !== undefined && !/^[0-9]{1,6}$/.test(o.lifetime)) throw new ValidationError('--lifetime', 'integer', `--lifetime '${o.lifetime}' must be a whole number of minutes.`);
      const methodIds = ids(o.methods, '--methods');
      const body = {
        userId: user, verification: { method: o.verification, reference: o.reference, ...(o.note ? { note: o.note } : {}) },
        ...(methodIds ? { methodIds } : {}), ...(o.lifetime !== undefined ? { temporaryAccessPassLifetimeInMinutes: Number(o.lifetime) } : {}),
      };
      const r = await inTenant('gatehouse recovery open', o, (ctx) => openCase(ctx, body));
      print(o, r, () => resultText(r));
    });

  common(recovery.command('approve').description('approve a case as a second admin; it takes effect and prints the case TAP once').argument('<case>'))
    .option('--note <text>')
    .action(async (id: string, o: Common & { note?: string }) => {
      const r = await inTenant('gatehouse recovery approve', o, (ctx) => approveCase(ctx, id, o.note ? { note: o.note } : {}));
      print(o, r, () => resultText(r));
    });

  common(recovery.command('cancel').description('cancel an open case: restores its suspended methods and deletes its TAP').argument('<case>'))
    .option('--reason <text>')
    .action(async (id: string, o: Common & { reason?: string }) => {
      const r = await inTenant('gatehouse recovery cancel', o, (ctx) => cancelCase(ctx, id, o.reason ? { reason: o.reason } : {}));
      print(o, r, () => resultText(r));
    });

  common(recovery.command('restore').description('restore suspended methods (while active or during the grace period)').argument('<case>'))
    .requiredOption('--methods <ids>', 'comma-separated method ids')
    .action(async (id: string, o: Common & { methods: string }) => {
      const r = await inTenant('gatehouse recovery restore', o, (ctx) => restoreMethods(ctx, id, { methodIds: ids(o.methods, '--methods') }));
      print(o, r, () => resultText(r));
    });

  common(recovery.command('show').description('show one case').argument('<case>'))
    .action(async (id: string, o: Common) => {
      const r = await inTenant('gatehouse recovery show', o, (ctx) => getCase(ctx, id));
      print(o, r, () => caseText(r));
    });

  common(recovery.command('list').description('list cases, newest first'))
    .option('--state <state>', 'pendingApproval | active | completed | cancelled').option('--user <id>', 'user object id')
    .action(async (o: Common & { state?: string; user?: string }) => {
      const r = await inTenant('gatehouse recovery list', o, (ctx) => listRecoveryCases(ctx, { ...(o.state ? { state: o.state } : {}), ...(o.user ? { userId: o.user } : {}) }));
      print(o, r, () => r.map((c) => `${c.id}  ${c.state.padEnd(15)}  ${c.userPrincipalName ?? c.userId}  ${c.createdDateTime}`).join('\n') || 'No recovery cases.');
    });

  recovery.command('cleanup').description('delete the methods of completed cases whose grace period is over, then deliver due webhook notifications')
    .option('--tenant <id|name>').option('--at <iso-date-time>', 'act as if it were this time (default now)').addOption(jsonOption())
    .action(async (o: { tenant?: string; at?: string; json?: boolean }) => {
      const at = o.at ? new Date(o.at) : new Date();
      if (Number.isNaN(at.getTime())) throw new ValidationError('--at', 'dateTime', `--at '${o.at}' must be an ISO 8601 date-time.`);
      const r = await withDatabase('gatehouse recovery cleanup', async (db) => {
        const tenantId = o.tenant ? await resolveTenant(db, o.tenant) : undefined;
        const cleaned = await cleanUpRecoveryCases(db, at, tenantId ? { tenantId } : {});
        const notifications = await deliverRecoveryNotifications(db, at);
        return { ...cleaned, notifications };
      });
      print(o, r, () => `Cleaned up ${r.cases.length} case(s), deleted ${r.deletedMethodIds.length} method(s); notifications delivered ${r.notifications.delivered.length}, retrying ${r.notifications.retrying.length}, failed ${r.notifications.failed.length}.`);
    });
}
