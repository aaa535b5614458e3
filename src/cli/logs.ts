import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.ts';
import { exportLogLines, exportOptions } from '../flows/logs/export.ts';
import { formatChainReport, verifyAuditChain } from '../flows/logs/integrity.ts';
import { patchLogRetentionPolicy, pruneLogs, readLogRetentionPolicy, type PruneReport } from '../flows/logs/retention.ts';
import { jsonOption, operator, print, resolveTenant, withDatabase } from './common.ts';

/**
 * `gatehouse audit verify`, `gatehouse logs prune|export|retention` (LOG-3, LOG-4;
 * docs/logs-integrity.md).
 *
 * Exit codes: 0 done (chain intact); 3 the audit chain is broken (verify), or pruning was refused
 * because it is; 1 an error (bad option, unknown tenant, database unreachable); 2 bad usage.
 */
export const EXIT_CHAIN_BROKEN = 3;

function formatPrune(r: PruneReport): string {
  const lines = [
    `Tenant ${r.tenantId}${r.dryRun ? ' (dry run: nothing deleted)' : ''}: retention ${r.retention.signInRetentionInDays} days for sign-ins, ${r.retention.auditRetentionInDays} days for audit records`,
    `  sign-ins before ${r.signIns.cutoff}: ${r.signIns.deleted} ${r.dryRun ? 'would be deleted' : 'deleted'}`,
    `  audit records before ${r.audits.cutoff}: ${r.audits.deleted} ${r.dryRun ? 'would be pruned' : 'pruned'}${r.audits.wouldPrune ? ` (seq ${r.audits.wouldPrune.firstSeq}..${r.audits.wouldPrune.lastSeq})` : ''}`,
  ];
  for (const c of r.audits.checkpoints) lines.push(`  checkpoint ${c.id}: seq ${c.firstSeq}..${c.lastSeq} (${c.prunedCount} records), last hash ${c.lastHash}`);
  if (r.audits.skipped) lines.push('  audit records skipped: another process is pruning this tenant right now');
  if (r.audits.refused) lines.push(`  audit records NOT pruned: the chain is broken (${r.audits.refused.reason}${r.audits.refused.seq !== null ? ` at seq ${r.audits.refused.seq}` : ''}): ${r.audits.refused.detail} Run \`gatehouse audit verify\`.`);
  if (r.auditRecordId) lines.push(`  audited as "Prune logs" (${r.auditRecordId})`);
  return lines.join('\n');
}

const days = (field: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,6}$/.test(v)) throw new ValidationError(field, 'integer', `${field} '${v.slice(0, 20)}' must be a whole number of days.`);
  return Number(v);
};

export function registerLogsCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log (LOG-3)');
  audit.command('verify').description('verify the tenant\'s audit hash chain; names the first broken record (exit 3 when broken)')
    .option('--tenant <id|name>').addOption(jsonOption())
    .action(async (o: { tenant?: string; json?: boolean }) => {
      const r = await withDatabase('gatehouse audit verify', async (db) => verifyAuditChain(db, await resolveTenant(db, o.tenant)));
      print(o, r, () => formatChainReport(r));
      if (!r.intact) process.exitCode = EXIT_CHAIN_BROKEN;
    });

  const logs = program.command('logs').description('sign-in and audit logs: retention, pruning, export (LOG-4)');
  logs.command('prune').description('delete sign-ins and audit records older than the tenant\'s retention windows (audit prefix → signed checkpoint)')
    .option('--dry-run', 'report what would go; delete nothing').option('--tenant <id|name>').addOption(jsonOption())
    .action(async (o: { dryRun?: boolean; tenant?: string; json?: boolean }) => {
      const r = await withDatabase('gatehouse logs prune', async (db) => pruneLogs(db, await resolveTenant(db, o.tenant), { now: new Date(), actor: operator, dryRun: Boolean(o.dryRun) }));
      print(o, r, () => formatPrune(r));
      if (r.audits.refused) process.exitCode = EXIT_CHAIN_BROKEN;
    });
  logs.command('export').description('newline-delimited JSON, one Graph record per line, oldest first')
    .requiredOption('--kind <kind>', 'signIns or directoryAudits')
    .option('--since <iso>', 'from this time (inclusive)').option('--until <iso>', 'up to this time (exclusive)')
    .option('--out <file>', 'write to this file instead of standard output').option('--tenant <id|name>')
    .action(async (o: { kind: string; since?: string; until?: string; out?: string; tenant?: string }) => {
      const options = exportOptions(o);
      const count = await withDatabase('gatehouse logs export', async (db) => {
        const tenantId = await resolveTenant(db, o.tenant);
        const out = o.out ? createWriteStream(o.out) : process.stdout;
        let lines = 0;
        for await (const chunk of exportLogLines(db, tenantId, options)) {
          lines += chunk.split('\n').length - 1;
          if (!out.write(chunk)) await once(out, 'drain');
        }
        if (o.out) {
          out.end();
          await once(out, 'finish');
        }
        return lines;
      });
      if (o.out) process.stderr.write(`Exported ${count} ${options.kind} record(s) to ${o.out}.\n`);
    });
  logs.command('retention').description('show the tenant\'s retention windows, or change them with the options (audited)')
    .option('--sign-ins <days>', 'days to keep sign-in records').option('--audits <days>', 'days to keep audit records')
    .option('--tenant <id|name>').addOption(jsonOption())
    .action(async (o: { signIns?: string; audits?: string; tenant?: string; json?: boolean }) => {
      const signInRetentionInDays = days('--sign-ins', o.signIns);
      const auditRetentionInDays = days('--audits', o.audits);
      const r = await withDatabase('gatehouse logs retention', async (db) => {
        const tenantId = await resolveTenant(db, o.tenant);
        if (signInRetentionInDays === undefined && auditRetentionInDays === undefined) return readLogRetentionPolicy(db, tenantId);
        return patchLogRetentionPolicy({ db, tenantId, actor: operator, now: new Date() }, {
          ...(signInRetentionInDays !== undefined ? { signInRetentionInDays } : {}), ...(auditRetentionInDays !== undefined ? { auditRetentionInDays } : {}),
        });
      });
      print(o, r, () => `sign-ins kept ${r.signInRetentionInDays} days, audit records ${r.auditRetentionInDays} days${r.modifiedDateTime ? ` (changed ${r.modifiedDateTime})` : ' (defaults)'}`);
    });
}
