import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ValidationError } from '../domain/errors.ts';
import { analyseImpact, type ImpactReport } from '../flows/logs/impact.ts';
import { replaySignIn, type Against, type ReplayResult } from '../flows/logs/replay.ts';
import type { DecisionDifferences } from '../engine/replayDiff.ts';
import { jsonOption, operator, print, resolveTenant, withDatabase } from './common.ts';

/**
 * WIF-2 at the CLI (docs/replay.md): `gatehouse logs replay <signInId>` and
 * `gatehouse policies impact --proposed FILE`. The `logs` group is src/cli/logs.ts's; it is
 * looked up here and created only if missing, so the registration order does not matter.
 */
export function registerReplayCommands(program: Command): void {
  const group = (name: string, description: string) => program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
  const logs = group('logs', 'sign-in and audit logs');
  const policies = group('policies', 'Conditional Access, strengths, named locations and the methods policy');

  logs.command('replay').description('re-decide a logged sign-in (WIF-2) against the policies it was decided under and the current ones, or a proposed set')
    .argument('<signInId>', 'the sign-in record id')
    .option('--proposed <file>', 'a proposed policy set (JSON, docs/replay.md): replay against it instead')
    .option('--tenant <id|name>').addOption(jsonOption())
    .action(async (signInId: string, o: { proposed?: string; tenant?: string; json?: boolean }) => {
      const proposed = o.proposed === undefined ? undefined : await readJson(o.proposed, '--proposed');
      const targets: Against[] = proposed === undefined ? ['recorded', 'current'] : [{ proposed }];
      const results = await withDatabase('gatehouse logs replay', async (db) => {
        const tenantId = await resolveTenant(db, o.tenant);
        const out: ReplayResult[] = [];
        for (const against of targets) out.push(await replaySignIn(db, tenantId, operator, signInId, { against }, new Date()));
        return out;
      });
      print(o, results, () => formatReplay(results));
    });

  policies.command('impact').description('impact analysis (WIF-2): how a proposed policy set would decide the logged sign-ins of a window')
    .requiredOption('--proposed <file>', 'the proposed policy set (JSON, docs/replay.md)')
    .option('--since <iso>', 'start of the window (default: 7 days before --until)')
    .option('--until <iso>', 'end of the window (default: now)')
    .option('--user <id|upn>', 'only this user\'s sign-ins')
    .option('--app <appId>', 'only sign-ins to this application')
    .option('--max-records <n>', 'examine at most this many records (default 10000)')
    .option('--examples <n>', 'examples per kind of change (default 5)')
    .option('--tenant <id|name>').addOption(jsonOption())
    .action(async (o: { proposed: string; since?: string; until?: string; user?: string; app?: string; maxRecords?: string; examples?: string; tenant?: string; json?: boolean }) => {
      const proposed = await readJson(o.proposed, '--proposed');
      const int = (v: string | undefined, flag: string) => {
        if (v === undefined) return undefined;
        if (!/^\d+$/.test(v)) throw new ValidationError(flag, 'integer', `${flag} must be a whole number, got '${v.slice(0, 40)}'.`);
        return Number(v);
      };
      const body = {
        proposed, ...(o.since ? { from: o.since } : {}), ...(o.until ? { to: o.until } : {}), ...(o.user ? { userId: o.user } : {}), ...(o.app ? { appId: o.app } : {}),
        ...(o.maxRecords ? { maxRecords: int(o.maxRecords, '--max-records') } : {}), ...(o.examples ? { examplesPerChange: int(o.examples, '--examples') } : {}),
      };
      const r = await withDatabase('gatehouse policies impact', async (db) => analyseImpact(db, await resolveTenant(db, o.tenant), operator, body, new Date()));
      print(o, r, () => formatImpact(r));
    });
}

async function readJson(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ValidationError(flag, 'file', `Can't read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(flag, 'json', `${path} is not JSON: ${(err as Error).message}`);
  }
}

const code = (c: number | null) => (c === null || c === 0 ? 'none' : String(c));

export function formatDifferences(d: DecisionDifferences, indent = '  '): string[] {
  const lines: string[] = [];
  if (d.outcome) lines.push(`outcome: ${d.outcome.recorded} → ${d.outcome.replayed}`);
  if (d.errorCode) lines.push(`error code: ${code(d.errorCode.recorded)} → ${code(d.errorCode.replayed)}`);
  for (const r of d.requirements.added) lines.push(`requirement added: ${r.id} (${r.satisfied ? 'met' : 'open'}): ${r.description}`);
  for (const r of d.requirements.removed) lines.push(`requirement removed: ${r.id}: ${r.description}`);
  for (const r of d.requirements.changed) lines.push(`requirement ${r.replayedSatisfied ? 'now met' : 'now open'}: ${r.id}: ${r.description}`);
  for (const p of d.conditionalAccessPolicies) lines.push(`CA policy '${p.displayName}': ${p.recorded ?? '(absent)'} → ${p.replayed ?? '(absent)'}`);
  for (const r of d.platformRules) lines.push(`platform rule ${r.id}: ${r.recorded ?? '(absent)'} → ${r.replayed ?? '(absent)'}`);
  if (d.acr) lines.push(`acr: [${d.acr.recorded.join(', ')}] → [${d.acr.replayed.join(', ')}]`);
  return lines.map((l) => indent + l);
}

export function formatReplay(results: readonly ReplayResult[]): string {
  const first = results[0];
  if (!first) return 'Nothing replayed.';
  const lines = [`Sign-in ${first.signInId} at ${first.createdDateTime}: ${first.userPrincipalName ?? first.userId ?? 'unknown user'}${first.appDisplayName ? ` to ${first.appDisplayName}` : ''}`,
    `Recorded: ${first.recordedDecision.outcome}${first.recordedDecision.errorCode ? ` (${first.recordedDecision.errorCode})` : ''} under policy version ${first.policyVersions.recorded}`];
  for (const r of results) {
    const head = r.against === 'recorded' ? `Against the recorded policies (version ${r.policyVersions.replayed}): ${r.reproduces ? 'reproduces the recorded decision' : 'DOES NOT reproduce the recorded decision'}`
      : r.against === 'current' ? `Against the current policies (version ${r.policyVersions.replayed}): ${r.changed ? `${r.replayedDecision.outcome} (changed)` : 'unchanged'}`
        : `Against the proposed set (on version ${r.policyVersions.proposedOn ?? '0'}): ${r.changed ? `${r.replayedDecision.outcome} (changed)` : 'unchanged'}`;
    lines.push(head);
    if (r.proposedChanges) for (const c of r.proposedChanges) lines.push(`  proposal: ${c}`);
    lines.push(...formatDifferences(r.differences));
    if (r.changed && r.replayedDecision.failureReason) lines.push(`  reason: ${r.replayedDecision.failureReason}`);
  }
  return lines.join('\n');
}

export function formatImpact(r: ImpactReport): string {
  const lines = [
    `Impact of the proposed set (on policy version ${r.proposedOn ?? '0'}), sign-ins from ${r.window.from} to ${r.window.to}${r.filter.userId ? `, user ${r.filter.userId}` : ''}${r.filter.appId ? `, app ${r.filter.appId}` : ''}`,
    ...r.proposedChanges.map((c) => `  proposal: ${c}`),
    `Examined ${r.examined}, replayable ${r.replayable}, skipped ${r.skipped.total}${r.skipped.byReason.map((s) => `\n  skipped ${s.count}: ${s.reason}`).join('')}`,
    '',
    `${'recorded'.padEnd(10)} ${'proposed'.padEnd(10)} ${'count'.padStart(7)}`,
    ...r.outcomes.map((o) => `${o.recorded.padEnd(10)} ${o.proposed.padEnd(10)} ${String(o.count).padStart(7)}${o.recorded === o.proposed ? '  (unchanged)' : ''}`),
    '',
    `Outcome changes: ${r.changedOutcomes}; decisions changed in any way: ${r.changedDecisions}`,
    ...(r.errorCodeChanges.length ? ['Error code changes:', ...r.errorCodeChanges.map((c) => `  ${code(c.recorded)} → ${code(c.proposed)}: ${c.count}`)] : []),
    `Affected users: ${r.affectedUsers.count}${r.affectedUsers.users.length ? ` (${r.affectedUsers.users.map((u) => u.userPrincipalName ?? u.id).join(', ')}${r.affectedUsers.count > r.affectedUsers.users.length ? ', …' : ''})` : ''}`,
  ];
  for (const k of r.examples) {
    lines.push('', `${k.change}: ${k.count}`);
    for (const e of k.examples) {
      const cause = e.cause ? e.cause.kind === 'conditionalAccess' ? `CA policy '${e.cause.displayName}' ${e.cause.recorded ?? '(absent)'} → ${e.cause.replayed ?? '(absent)'}`
        : e.cause.kind === 'platformRule' ? `platform rule ${e.cause.id} ${e.cause.recorded ?? '(absent)'} → ${e.cause.replayed ?? '(absent)'}`
          : e.cause.kind === 'requirement' ? `requirement ${e.cause.id} ${e.cause.change}` : e.cause.detail : 'no single cause';
      lines.push(`  ${e.createdDateTime}  ${e.signInId}  ${e.userPrincipalName ?? e.userId ?? '?'}  ${e.appDisplayName ?? e.appId ?? '-'}  because ${cause}`);
    }
  }
  if (r.truncated) lines.push('', `TRUNCATED: ${r.truncatedReason}`);
  return lines.join('\n');
}
