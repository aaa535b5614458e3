import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import {
  chainHashInput, checkpointSigningInput, GENESIS_HASH, RETENTION_DEFAULTS, type AuditCheckpoint, type ChainLink, type LogRetention,
} from '../domain/auditChain.ts';
import type { Db } from './database.ts';

/**
 * LOG-3 and LOG-4 retention, the SQL side: the per-tenant chain head, chain rows in seq order,
 * checkpoints, the retention windows, pruning and the export's batches. The rules live in
 * domain/auditChain.ts and flows/logs/*.
 */

/** hex(SHA-256(chainHashInput)): a record's hash (domain/auditChain.ts defines the input). */
export function chainHash(l: ChainLink): string {
  return createHash('sha256').update(chainHashInput(l), 'utf8').digest('hex');
}

/** base64url(HMAC-SHA256(key, checkpointSigningInput)). */
export function signCheckpoint(c: AuditCheckpoint, key: string): string {
  return createHmac('sha256', key).update(checkpointSigningInput(c), 'utf8').digest('base64url');
}

export function checkpointSignatureValid(c: AuditCheckpoint, signature: string, key: string): boolean {
  const expected = Buffer.from(signCheckpoint(c, key));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Claims the next link of a tenant's chain: bumps the head's seq (creating the head at seq 1 on
 * the tenant's first audit) and returns the new seq with the previous record's hash. The row
 * lock this takes is held until the caller's transaction ends, so audit writers of one tenant
 * queue here, one at a time, across every server process sharing the database: seqs are gapless
 * and each record links to the one committed before it. Writers of other tenants don't wait.
 * Must run inside the transaction that then inserts the record (store/audit.ts writeAudit) and
 * sets the head's hash with it.
 */
export async function claimChainLink(db: Db, tenantId: string): Promise<{ seq: number; prevHash: string }> {
  const r = await db.insertInto('audit_chain_heads').values({ tenant_id: tenantId, seq: 1, hash: GENESIS_HASH })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ seq: sql<number>`audit_chain_heads.seq + 1` }))
    .returning(['seq', 'hash']).executeTakeFirstOrThrow();
  return { seq: Number(r.seq), prevHash: r.hash };
}

export async function chainHead(db: Db, tenantId: string): Promise<{ seq: number; hash: string } | undefined> {
  const r = await db.selectFrom('audit_chain_heads').select(['seq', 'hash']).where('tenant_id', '=', tenantId).executeTakeFirst();
  return r ? { seq: Number(r.seq), hash: r.hash } : undefined;
}

export type ChainRow = {
  id: string;
  tenantId: string;
  seq: number;
  prevHash: string;
  hash: string;
  record: Record<string, unknown>;
  /** The row's own columns, copies of record fields kept for queries. */
  columns: { activityDateTime: Date; activityDisplayName: string; result: string; correlationId: string; category: string; loggedByService: string };
};

/** Chain rows of a tenant with seq in (afterSeq, uptoSeq], in seq order, at most `limit`. */
export async function chainRows(db: Db, tenantId: string, afterSeq: number, uptoSeq: number, limit: number): Promise<ChainRow[]> {
  const rows = await db.selectFrom('directory_audits')
    .select(['id', 'tenant_id', 'seq', 'prev_hash', 'hash', 'record', 'activity_date_time', 'activity_display_name', 'result', 'correlation_id', 'category', 'logged_by_service'])
    .where('tenant_id', '=', tenantId).where('seq', '>', afterSeq).where('seq', '<=', uptoSeq)
    .orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id, tenantId: r.tenant_id, seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash, record: r.record,
    columns: {
      activityDateTime: r.activity_date_time, activityDisplayName: r.activity_display_name, result: r.result, correlationId: r.correlation_id,
      category: r.category, loggedByService: r.logged_by_service,
    },
  }));
}

export async function maxChainSeq(db: Db, tenantId: string): Promise<number> {
  const r = await db.selectFrom('directory_audits').select((eb) => eb.fn.max('seq').as('m')).where('tenant_id', '=', tenantId).executeTakeFirst();
  return Number(r?.m ?? 0);
}

/** The first seq after `afterSeq` whose record is not older than the cutoff (a forward walk of the chain index). */
export async function firstSeqNotBefore(db: Db, tenantId: string, afterSeq: number, cutoff: Date): Promise<number | undefined> {
  const r = await db.selectFrom('directory_audits').select('seq').where('tenant_id', '=', tenantId).where('seq', '>', afterSeq)
    .where('activity_date_time', '>=', cutoff).orderBy('seq').limit(1).executeTakeFirst();
  return r ? Number(r.seq) : undefined;
}

export async function prefixFacts(db: Db, tenantId: string, afterSeq: number, uptoSeq: number): Promise<{ count: number; oldest: Date; newest: Date; lastHash: string } | undefined> {
  const agg = await db.selectFrom('directory_audits')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('activity_date_time').as('oldest'), eb.fn.max('activity_date_time').as('newest')])
    .where('tenant_id', '=', tenantId).where('seq', '>', afterSeq).where('seq', '<=', uptoSeq).executeTakeFirst();
  const last = await db.selectFrom('directory_audits').select('hash').where('tenant_id', '=', tenantId).where('seq', '=', uptoSeq).executeTakeFirst();
  if (!agg || !last || Number(agg.n) === 0) return undefined;
  return { count: Number(agg.n), oldest: new Date(agg.oldest as Date), newest: new Date(agg.newest as Date), lastHash: last.hash };
}

export async function deleteChainPrefix(db: Db, tenantId: string, afterSeq: number, uptoSeq: number): Promise<number> {
  const r = await db.deleteFrom('directory_audits').where('tenant_id', '=', tenantId).where('seq', '>', afterSeq).where('seq', '<=', uptoSeq).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export type StoredCheckpoint = AuditCheckpoint & { signature: string };

type CheckpointRow = { id: string; tenant_id: string; first_seq: number; last_seq: number; last_hash: string; pruned_count: number; oldest_activity_date_time: Date; newest_activity_date_time: Date; created_at: Date; signature: string };
const toCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  id: r.id, tenantId: r.tenant_id, firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), lastHash: r.last_hash, prunedCount: Number(r.pruned_count),
  oldestActivityDateTime: r.oldest_activity_date_time.toISOString(), newestActivityDateTime: r.newest_activity_date_time.toISOString(),
  createdDateTime: r.created_at.toISOString(), signature: r.signature,
});

/** A tenant's checkpoints, oldest first. */
export async function checkpointsOf(db: Db, tenantId: string): Promise<StoredCheckpoint[]> {
  return (await db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('last_seq').execute()).map(toCheckpoint);
}

export async function latestCheckpoint(db: Db, tenantId: string): Promise<StoredCheckpoint | undefined> {
  const r = await db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('last_seq', 'desc').limit(1).executeTakeFirst();
  return r ? toCheckpoint(r) : undefined;
}

export async function insertCheckpoint(db: Db, c: StoredCheckpoint): Promise<void> {
  await db.insertInto('audit_checkpoints').values({
    id: c.id, tenant_id: c.tenantId, first_seq: c.firstSeq, last_seq: c.lastSeq, last_hash: c.lastHash, pruned_count: c.prunedCount,
    oldest_activity_date_time: c.oldestActivityDateTime, newest_activity_date_time: c.newestActivityDateTime, created_at: c.createdDateTime, signature: c.signature,
  }).execute();
}

/**
 * One pruner per tenant at a time, across processes: a transaction-scoped advisory lock, tried
 * (never waited for), so a second server finding it taken simply skips that tenant this round.
 */
export async function tryLockLogPrune(db: Db, tenantId: string): Promise<boolean> {
  const r = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(hashtext('gatehouse:log-prune'), hashtext(${tenantId})) AS locked`.execute(db);
  return r.rows[0]?.locked === true;
}

/** Reads in one snapshot (verification must not see a prune half-way). */
export function inSnapshot<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').execute(fn);
}

// ---------------------------------------------------------------------------------------------
// Sign-ins

export async function countSignInsBefore(db: Db, tenantId: string, cutoff: Date): Promise<number> {
  const r = await db.selectFrom('sign_ins').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).where('created_date_time', '<', cutoff).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Deletes up to `limit` of the oldest sign-ins before the cutoff; returns how many went. */
export async function deleteSignInsBefore(db: Db, tenantId: string, cutoff: Date, limit: number): Promise<number> {
  const r = await db.deleteFrom('sign_ins').where('id', 'in', (eb) => eb.selectFrom('sign_ins').select('id')
    .where('tenant_id', '=', tenantId).where('created_date_time', '<', cutoff).orderBy('created_date_time').limit(limit)).executeTakeFirst();
  return Number(r.numDeletedRows);
}

// ---------------------------------------------------------------------------------------------
// Retention windows

export async function getLogRetention(db: Db, tenantId: string): Promise<{ retention: LogRetention; modifiedDateTime: string | null }> {
  const r = await db.selectFrom('log_retention_policies').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!r) return { retention: { ...RETENTION_DEFAULTS }, modifiedDateTime: null };
  return { retention: { signInRetentionInDays: r.sign_in_retention_in_days, auditRetentionInDays: r.audit_retention_in_days }, modifiedDateTime: r.modified_at.toISOString() };
}

/** Inside the change's transaction; the row lock orders concurrent changes. */
export async function lockLogRetention(db: Db, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('gatehouse:log-retention'), hashtext(${tenantId}))`.execute(db);
}

export async function saveLogRetention(db: Db, tenantId: string, r: LogRetention, now: Date): Promise<void> {
  await db.insertInto('log_retention_policies').values({ tenant_id: tenantId, sign_in_retention_in_days: r.signInRetentionInDays, audit_retention_in_days: r.auditRetentionInDays, modified_at: now })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ sign_in_retention_in_days: r.signInRetentionInDays, audit_retention_in_days: r.auditRetentionInDays, modified_at: now }))
    .execute();
}

export async function tenantIds(db: Db): Promise<string[]> {
  return (await db.selectFrom('tenants').select('id').orderBy('created_at').execute()).map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------
// Export batches (keyset, oldest first)

export type TimeWindow = { since?: Date | undefined; until?: Date | undefined };

export async function signInBatch(db: Db, tenantId: string, w: TimeWindow, after: { time: Date; id: string } | undefined, limit: number): Promise<{ time: Date; id: string; record: Record<string, unknown> }[]> {
  let q = db.selectFrom('sign_ins').select(['created_date_time', 'id', 'record']).where('tenant_id', '=', tenantId);
  if (w.since) q = q.where('created_date_time', '>=', w.since);
  if (w.until) q = q.where('created_date_time', '<', w.until);
  if (after) q = q.where((eb) => eb.or([eb('created_date_time', '>', after.time), eb.and([eb('created_date_time', '=', after.time), eb('id', '>', after.id)])]));
  const rows = await q.orderBy('created_date_time').orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ time: r.created_date_time, id: r.id, record: r.record }));
}

export async function auditBatch(db: Db, tenantId: string, w: TimeWindow, afterSeq: number, limit: number): Promise<{ seq: number; prevHash: string; hash: string; record: Record<string, unknown> }[]> {
  let q = db.selectFrom('directory_audits').select(['seq', 'prev_hash', 'hash', 'record']).where('tenant_id', '=', tenantId).where('seq', '>', afterSeq);
  if (w.since) q = q.where('activity_date_time', '>=', w.since);
  if (w.until) q = q.where('activity_date_time', '<', w.until);
  const rows = await q.orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash, record: r.record }));
}
