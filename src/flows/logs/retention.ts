import { randomUUID } from 'node:crypto';
import type { Actor } from '../../domain/actors.ts';
import {
  GENESIS_HASH, logRetentionPatch, logRetentionSchema, retentionCutoff, type AuditCheckpoint, type LogRetention,
} from '../../domain/auditChain.ts';
import { permits, ROLE_TEMPLATES } from '../../domain/directory.ts';
import { ForbiddenError, ValidationError } from '../../domain/errors.ts';
import { parseInput } from '../../domain/validation.ts';
import { writeAudit, type AuditActor } from '../../store/audit.ts';
import {
  countSignInsBefore, deleteChainPrefix, deleteSignInsBefore, firstSeqNotBefore, getLogRetention, insertCheckpoint, inSnapshot, latestCheckpoint,
  lockLogRetention, maxChainSeq, prefixFacts, saveLogRetention, signCheckpoint, tenantIds, tryLockLogPrune, type StoredCheckpoint,
} from '../../store/auditChain.ts';
import type { Db } from '../../store/database.ts';
import { serverSecret } from '../../store/serverSecrets.ts';
import { auditActor } from '../methods/context.ts';
import { CHECKPOINT_KEY, checkCheckpoints, walkChain, type BrokenRecord } from './integrity.ts';

/**
 * LOG-4 retention (docs/logs-integrity.md, docs/decisions/0006-log-retention.md): the tenant's
 * windows at /policies/gatehouseLogRetentionPolicy, and pruning. Sign-ins older than their window
 * are deleted; audit records older than theirs go as a PREFIX of the chain (LOG-3), replaced by a
 * signed checkpoint, after the prefix has been verified, so that a broken chain is never laundered
 * into a valid-looking checkpoint. Then one "Prune logs" audit record continues the chain.
 */

export type LogRetentionPolicy = { id: 'gatehouseLogRetentionPolicy' } & LogRetention & { modifiedDateTime: string | null };

export async function readLogRetentionPolicy(db: Db, tenantId: string): Promise<LogRetentionPolicy> {
  const { retention, modifiedDateTime } = await getLogRetention(db, tenantId);
  return { id: 'gatehouseLogRetentionPolicy', ...retention, modifiedDateTime };
}

const role = (name: string) => ROLE_TEMPLATES.find((r) => r.displayName === name)!.id;
const WRITER_ROLES = [role('Global Administrator'), role('Security Administrator')];

/** Shortening a window destroys evidence sooner: Global or Security Administrators, or apps with Policy.ReadWrite.ConditionalAccess. */
export function authorizeRetentionChange(actor: Actor): void {
  if (actor.kind === 'operator') return;
  if (actor.kind === 'app') {
    if (!permits(actor.permissions, 'policy.ca.write')) throw new ForbiddenError('Insufficient privileges: changing the log retention policy needs Policy.ReadWrite.ConditionalAccess.');
    return;
  }
  if (!actor.roles.some((r) => WRITER_ROLES.includes(r))) throw new ForbiddenError('Insufficient privileges: changing the log retention policy needs the Global Administrator or Security Administrator role.');
}

export type RetentionContext = { db: Db; tenantId: string; actor: Actor; now: Date; ipAddress?: string | null };

export async function patchLogRetentionPolicy(ctx: RetentionContext, raw: unknown): Promise<LogRetentionPolicy> {
  authorizeRetentionChange(ctx.actor);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('request body', 'object', 'The request body must be a gatehouseLogRetentionPolicy JSON object.');
  const body: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const k of Object.keys(body)) if (k === 'id' || k === 'modifiedDateTime' || k.startsWith('@odata.')) delete body[k];
  const patch = parseInput(logRetentionPatch, body);
  return ctx.db.transaction().execute(async (trx) => {
    await lockLogRetention(trx, ctx.tenantId);
    const current = await getLogRetention(trx, ctx.tenantId);
    const next = parseInput(logRetentionSchema, { ...current.retention, ...patch });
    if (next.signInRetentionInDays === current.retention.signInRetentionInDays && next.auditRetentionInDays === current.retention.auditRetentionInDays) {
      return { id: 'gatehouseLogRetentionPolicy' as const, ...current.retention, modifiedDateTime: current.modifiedDateTime };
    }
    await saveLogRetention(trx, ctx.tenantId, next, ctx.now);
    await writeAudit(trx, ctx.tenantId, {
      activityDisplayName: 'Update log retention policy', category: 'Policy', operationType: 'Update', result: 'success', loggedByService: 'Gatehouse',
      initiatedBy: auditActor(ctx.actor, ctx.ipAddress), target: { id: 'gatehouseLogRetentionPolicy', displayName: 'Log retention policy', type: 'Policy' },
      modifiedProperties: [{ displayName: 'LogRetentionPolicy', oldValue: current.retention, newValue: next }],
    }, ctx.now);
    return { id: 'gatehouseLogRetentionPolicy' as const, ...next, modifiedDateTime: ctx.now.toISOString() };
  });
}

// ---------------------------------------------------------------------------------------------
// Pruning

export type PruneReport = {
  tenantId: string;
  dryRun: boolean;
  retention: LogRetention;
  signIns: { cutoff: string; deleted: number };
  audits: {
    cutoff: string;
    deleted: number;
    /** Checkpoints written (one per batch); in a dry run, the seq range that would go. */
    checkpoints: Pick<AuditCheckpoint, 'id' | 'firstSeq' | 'lastSeq' | 'lastHash' | 'prunedCount'>[];
    wouldPrune?: { firstSeq: number; lastSeq: number } | null;
    /** Another process held the tenant's prune lock: audits were left for it. */
    skipped?: 'locked';
    /** The chain (or the latest checkpoint) is broken before the cutoff: nothing was pruned from it. */
    refused?: BrokenRecord;
  };
  /** The "Prune logs" directoryAudit written after the checkpoint(s); null when nothing went. */
  auditRecordId: string | null;
};

export type PruneOptions = { now: Date; actor: AuditActor; dryRun?: boolean; batchSize?: number };

const DEFAULT_BATCH = 5000;

export async function pruneLogs(db: Db, tenantId: string, opts: PruneOptions): Promise<PruneReport> {
  const { retention } = await getLogRetention(db, tenantId);
  const signInCutoff = retentionCutoff(opts.now, retention.signInRetentionInDays);
  const auditCutoff = retentionCutoff(opts.now, retention.auditRetentionInDays);
  const batch = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
  const report: PruneReport = {
    tenantId, dryRun: Boolean(opts.dryRun), retention,
    signIns: { cutoff: signInCutoff.toISOString(), deleted: 0 },
    audits: { cutoff: auditCutoff.toISOString(), deleted: 0, checkpoints: [] },
    auditRecordId: null,
  };
  const key = await serverSecret(db, CHECKPOINT_KEY);

  if (opts.dryRun) {
    report.signIns.deleted = await countSignInsBefore(db, tenantId, signInCutoff);
    await inSnapshot(db, async (trx) => {
      const step = await planPrefix(trx, tenantId, auditCutoff, key, Number.MAX_SAFE_INTEGER);
      if ('refused' in step) report.audits.refused = step.refused;
      else if (step.end > step.from.seq) {
        report.audits.deleted = step.end - step.from.seq;
        report.audits.wouldPrune = { firstSeq: step.from.seq + 1, lastSeq: step.end };
      } else report.audits.wouldPrune = null;
    });
    return report;
  }

  // Sign-ins: plain deletes by time, batch by batch (safe from any number of processes).
  for (;;) {
    const n = await deleteSignInsBefore(db, tenantId, signInCutoff, batch);
    report.signIns.deleted += n;
    if (n < batch) break;
  }

  // Audits: one transaction per batch, each under the tenant's prune lock.
  for (;;) {
    const step = await db.transaction().execute(async (trx) => {
      if (!await tryLockLogPrune(trx, tenantId)) return { kind: 'locked' as const };
      const plan = await planPrefix(trx, tenantId, auditCutoff, key, batch);
      if ('refused' in plan) return { kind: 'refused' as const, refused: plan.refused };
      if (plan.end <= plan.from.seq) return { kind: 'done' as const };
      const facts = await prefixFacts(trx, tenantId, plan.from.seq, plan.end);
      if (!facts) return { kind: 'done' as const };
      const c: AuditCheckpoint = {
        id: randomUUID(), tenantId, firstSeq: plan.from.seq + 1, lastSeq: plan.end, lastHash: facts.lastHash, prunedCount: facts.count,
        oldestActivityDateTime: facts.oldest.toISOString(), newestActivityDateTime: facts.newest.toISOString(), createdDateTime: opts.now.toISOString(),
      };
      const stored: StoredCheckpoint = { ...c, signature: signCheckpoint(c, key) };
      await insertCheckpoint(trx, stored);
      const deleted = await deleteChainPrefix(trx, tenantId, plan.from.seq, plan.end);
      return { kind: 'pruned' as const, checkpoint: stored, deleted };
    });
    if (step.kind === 'locked') {
      report.audits.skipped = 'locked';
      break;
    }
    if (step.kind === 'refused') {
      report.audits.refused = step.refused;
      break;
    }
    if (step.kind === 'done') break;
    report.audits.deleted += step.deleted;
    const { id, firstSeq, lastSeq, lastHash, prunedCount } = step.checkpoint;
    report.audits.checkpoints.push({ id, firstSeq, lastSeq, lastHash, prunedCount });
  }

  if (report.signIns.deleted > 0 || report.audits.deleted > 0) {
    const last = report.audits.checkpoints.at(-1);
    report.auditRecordId = await writeAudit(db, tenantId, {
      activityDisplayName: 'Prune logs', category: 'Policy', operationType: 'Delete', result: 'success', loggedByService: 'Gatehouse',
      initiatedBy: opts.actor, target: { id: 'gatehouseLogRetentionPolicy', displayName: 'Log retention policy', type: 'Policy' },
      additionalDetails: {
        signInRetentionInDays: retention.signInRetentionInDays, signInsDeleted: report.signIns.deleted, signInCutoff: report.signIns.cutoff,
        auditRetentionInDays: retention.auditRetentionInDays, auditsDeleted: report.audits.deleted, auditCutoff: report.audits.cutoff,
        checkpointIds: report.audits.checkpoints.map((c) => c.id).join(',') || null,
        lastPrunedSeq: last?.lastSeq ?? null, lastPrunedHash: last?.lastHash ?? null,
      },
    }, opts.now);
  }
  return report;
}

/**
 * Where the prunable prefix ends: records after the latest checkpoint, in seq order, up to (not
 * including) the first one inside the window, at most `limit` of them. The checkpoint it starts
 * from and the records it covers are verified first.
 */
async function planPrefix(trx: Db, tenantId: string, cutoff: Date, key: string, limit: number): Promise<{ from: { seq: number; hash: string }; end: number } | { refused: BrokenRecord }> {
  const latest = await latestCheckpoint(trx, tenantId);
  if (latest) {
    const bad = checkCheckpoints([latest], key);
    // Succession was checked when it was written; here only its signature matters.
    if (bad && bad.reason === 'checkpointSignatureInvalid') return { refused: bad };
  }
  const from = latest ? { seq: latest.lastSeq, hash: latest.lastHash } : { seq: 0, hash: GENESIS_HASH };
  const firstKept = await firstSeqNotBefore(trx, tenantId, from.seq, cutoff);
  let end = firstKept !== undefined ? firstKept - 1 : await maxChainSeq(trx, tenantId);
  end = Math.min(end, from.seq + limit);
  if (end <= from.seq) return { from, end: from.seq };
  const walk = await walkChain(trx, tenantId, from, latest ? `checkpoint ${latest.id}` : 'the genesis hash (000…)', end);
  if (walk.broken) return { refused: walk.broken };
  if (walk.last.seq !== end) {
    return { refused: { reason: 'seqGap', detail: `Records up to seq ${end} were expected before the cutoff; the chain ends at seq ${walk.last.seq}.`, seq: end, id: null, activityDateTime: null, activityDisplayName: null } };
  }
  return { from, end };
}

/** The server's periodic job: every tenant, as the housekeeping operator. Errors of one tenant don't stop the others. */
export async function pruneAllTenants(db: Db, now: Date, onError: (tenantId: string, err: unknown) => void = () => {}): Promise<PruneReport[]> {
  const reports: PruneReport[] = [];
  for (const tenantId of await tenantIds(db)) {
    try {
      reports.push(await pruneLogs(db, tenantId, { now, actor: { kind: 'operator', name: 'gatehouse serve (log retention)' } }));
    } catch (err) {
      onError(tenantId, err);
    }
  }
  return reports;
}

type JobLog = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

/** What `gatehouse serve` runs with its housekeeping (every 10 minutes): never throws, logs what it could not do. */
export async function runLogRetention(db: Db, now: Date, log: JobLog): Promise<void> {
  try {
    const reports = await pruneAllTenants(db, now, (tenantId, err) => log.warn({ err, tenantId }, 'log retention failed for a tenant'));
    for (const r of reports) {
      if (r.audits.refused) log.error({ tenantId: r.tenantId, firstBroken: r.audits.refused }, 'LOG-3: the audit chain is broken; audit records were not pruned (run `gatehouse audit verify`)');
    }
  } catch (err) {
    log.warn({ err }, 'log retention failed');
  }
}
