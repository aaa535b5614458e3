import { canonicalJson, GENESIS_HASH, NotCanonicalisable } from '../../domain/auditChain.ts';
import {
  chainHash, chainHead, chainRows, checkpointSignatureValid, checkpointsOf, inSnapshot, type ChainRow, type StoredCheckpoint,
} from '../../store/auditChain.ts';
import type { Db } from '../../store/database.ts';
import { serverSecret } from '../../store/serverSecrets.ts';

/**
 * LOG-3: verify a tenant's audit chain (docs/logs-integrity.md). Walks the records in seq order,
 * in batches inside one read snapshot, from the latest checkpoint (or from seq 1), and names the
 * FIRST record where the chain breaks and why.
 */

/** Checkpoints are signed with this deployment-wide secret (store/serverSecrets.ts). */
export const CHECKPOINT_KEY = 'audit-checkpoint-hmac';
const BATCH = 1000;

export type BreakReason =
  /** A seq is missing: the records in between were deleted. */
  | 'seqGap'
  /** prev_hash is not the hash of the record (or checkpoint) before: a record was moved (seq changed), replaced, or prev_hash edited. */
  | 'prevHashMismatch'
  /** The record hashes to something else than its stored hash: the record, its seq or its prev_hash were edited. */
  | 'hashMismatch'
  /** A column kept for queries disagrees with the (hashed) record: the column was edited. */
  | 'columnMismatch'
  /** The chain head names another last record: records at the end were deleted, or added past the head. */
  | 'headMismatch'
  /** A checkpoint's signature does not verify: the checkpoint was edited or forged. */
  | 'checkpointSignatureInvalid'
  /** Checkpoints don't follow each other (first seq not right after the previous checkpoint). */
  | 'checkpointMismatch';

export type BrokenRecord = {
  reason: BreakReason;
  detail: string;
  /** The record where the chain breaks (for checkpoint reasons: the checkpoint's last seq and its id). */
  seq: number | null;
  id: string | null;
  activityDateTime: string | null;
  activityDisplayName: string | null;
};

export type ChainReport = {
  tenantId: string;
  intact: boolean;
  /** Where the walk started: seq 1 from the genesis hash, or after the latest checkpoint. */
  startedFrom: { kind: 'genesis' } | { kind: 'checkpoint'; checkpointId: string; lastSeq: number; lastHash: string };
  checkpoints: number;
  checkedRecords: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The chain head as stored (seq and hash of the newest record). Keep it outside the database to anchor the chain. */
  head: { seq: number; hash: string } | null;
  firstBroken: BrokenRecord | null;
};

export type Cursor = { seq: number; hash: string };

const recordOf = (row: ChainRow, reason: BreakReason, detail: string): BrokenRecord => ({
  reason, detail, seq: row.seq, id: row.id,
  activityDateTime: typeof row.record.activityDateTime === 'string' ? row.record.activityDateTime : row.columns.activityDateTime.toISOString(),
  activityDisplayName: typeof row.record.activityDisplayName === 'string' ? row.record.activityDisplayName : row.columns.activityDisplayName,
});

/** The checks on one record, in order; undefined when it links and hashes right. */
export function checkRecord(row: ChainRow, prev: Cursor, prevWhat: string): BrokenRecord | undefined {
  const expected = prev.seq + 1;
  if (row.seq !== expected) {
    return recordOf(row, 'seqGap', row.seq > expected
      ? `Records with seq ${expected}${row.seq - 1 > expected ? `..${row.seq - 1}` : ''} are missing (deleted); this is the first record after the gap.`
      : `seq ${row.seq} where ${expected} was expected (seq was altered).`);
  }
  let computed: string | undefined;
  let notCanonical: string | undefined;
  try {
    computed = chainHash({ prevHash: row.prevHash, seq: row.seq, tenantId: row.tenantId, canonicalRecord: canonicalJson(row.record) });
  } catch (err) {
    if (!(err instanceof NotCanonicalisable)) throw err;
    notCanonical = err.message;
  }
  if (row.prevHash !== prev.hash) {
    return recordOf(row, 'prevHashMismatch', `prev_hash ${row.prevHash.slice(0, 16)}… is not the hash of ${prevWhat} (${prev.hash.slice(0, 16)}…): this record was moved (its seq changed) or its prev_hash edited, or the record before it was replaced${computed === row.hash ? '' : '; its own hash does not verify either'}.`);
  }
  if (computed !== row.hash) {
    return recordOf(row, 'hashMismatch', notCanonical
      ? `The record can no longer be hashed (${notCanonical}): it was edited after it was written.`
      : `The record hashes to ${computed!.slice(0, 16)}…, not its stored ${row.hash.slice(0, 16)}…: the record (or its seq) was edited after it was written.`);
  }
  const r = row.record;
  const c = row.columns;
  const columns: [string, boolean][] = [
    ['id', r.id === row.id],
    ['activity_date_time', typeof r.activityDateTime === 'string' && Date.parse(r.activityDateTime) === c.activityDateTime.getTime()],
    ['activity_display_name', r.activityDisplayName === c.activityDisplayName],
    ['result', r.result === c.result],
    ['correlation_id', typeof r.correlationId === 'string' && r.correlationId.toLowerCase() === c.correlationId.toLowerCase()],
    ['category', r.category === c.category],
    ['logged_by_service', r.loggedByService === c.loggedByService],
  ];
  const bad = columns.find(([, ok]) => !ok);
  if (bad) return recordOf(row, 'columnMismatch', `The column ${bad[0]} does not match the record's value: the column was edited after the record was written.`);
  return undefined;
}

/**
 * Walks records with seq in (start.seq, uptoSeq] from `start`; stops at the first break.
 * Returns where it got to. Used by verification and, before a prefix is replaced by a
 * checkpoint, by pruning.
 */
export async function walkChain(db: Db, tenantId: string, start: Cursor, startWhat: string, uptoSeq: number): Promise<{ checked: number; first: number | null; last: Cursor; broken?: BrokenRecord }> {
  let prev = start;
  let what = startWhat;
  let checked = 0;
  let first: number | null = null;
  for (;;) {
    const rows = await chainRows(db, tenantId, prev.seq, uptoSeq, BATCH);
    if (rows.length === 0) return { checked, first, last: prev };
    for (const row of rows) {
      first ??= row.seq;
      const broken = checkRecord(row, prev, what);
      if (broken) return { checked, first, last: prev, broken };
      checked += 1;
      prev = { seq: row.seq, hash: row.hash };
      what = `seq ${row.seq}`;
    }
    // A gap across a batch boundary shows up as the next batch's first row.
  }
}

/** Checkpoints' signatures and succession; the first bad one. */
export function checkCheckpoints(checkpoints: StoredCheckpoint[], key: string): BrokenRecord | undefined {
  let prevLast = 0;
  for (const c of checkpoints) {
    const named = (reason: BreakReason, detail: string): BrokenRecord => ({ reason, detail, seq: c.lastSeq, id: c.id, activityDateTime: c.newestActivityDateTime, activityDisplayName: null });
    if (!checkpointSignatureValid(c, c.signature, key)) {
      return named('checkpointSignatureInvalid', `Checkpoint ${c.id} (pruned seq ${c.firstSeq}..${c.lastSeq}) does not carry a valid signature: it was edited or forged.`);
    }
    if (c.firstSeq !== prevLast + 1 || c.lastSeq < c.firstSeq || c.prunedCount !== c.lastSeq - c.firstSeq + 1) {
      return named('checkpointMismatch', `Checkpoint ${c.id} covers seq ${c.firstSeq}..${c.lastSeq} (${c.prunedCount} records) but the one before ended at seq ${prevLast}.`);
    }
    prevLast = c.lastSeq;
  }
  return undefined;
}

export async function verifyAuditChain(db: Db, tenantId: string): Promise<ChainReport> {
  const key = await serverSecret(db, CHECKPOINT_KEY);
  return inSnapshot(db, async (trx) => {
    const checkpoints = await checkpointsOf(trx, tenantId);
    const head = await chainHead(trx, tenantId) ?? null;
    const latest = checkpoints.at(-1);
    const report: ChainReport = {
      tenantId, intact: true,
      startedFrom: latest ? { kind: 'checkpoint', checkpointId: latest.id, lastSeq: latest.lastSeq, lastHash: latest.lastHash } : { kind: 'genesis' },
      checkpoints: checkpoints.length, checkedRecords: 0, firstSeq: null, lastSeq: null, head, firstBroken: null,
    };
    const fail = (b: BrokenRecord) => ({ ...report, intact: false, firstBroken: b });
    const badCheckpoint = checkCheckpoints(checkpoints, key);
    if (badCheckpoint) return fail(badCheckpoint);
    const start: Cursor = latest ? { seq: latest.lastSeq, hash: latest.lastHash } : { seq: 0, hash: GENESIS_HASH };
    const walk = await walkChain(trx, tenantId, start, latest ? `checkpoint ${latest.id}` : 'the genesis hash (000…)', Number.MAX_SAFE_INTEGER);
    report.checkedRecords = walk.checked;
    report.firstSeq = walk.first;
    report.lastSeq = walk.checked > 0 ? walk.last.seq : null;
    if (walk.broken) return fail(walk.broken);
    const headSeq = head?.seq ?? 0;
    const headHash = head?.hash ?? GENESIS_HASH;
    if (walk.last.seq !== headSeq || walk.last.hash !== headHash) {
      const lastRow = walk.checked > 0 ? (await chainRows(trx, tenantId, walk.last.seq - 1, walk.last.seq, 1))[0] : undefined;
      const detail = !head
        ? `There is no chain head for this tenant although records exist up to seq ${walk.last.seq}: the head was deleted.`
        : walk.last.seq < headSeq
          ? `The chain head is at seq ${headSeq} but the last record is seq ${walk.last.seq}: the records after it were deleted.`
          : walk.last.seq > headSeq
            ? `Records exist past the chain head (seq ${headSeq}) up to seq ${walk.last.seq}: they were added outside Gatehouse, or the head was edited.`
            : `The chain head's hash is not the last record's: the last record was rewritten, or the head edited.`;
      const b: BrokenRecord = lastRow ? recordOf(lastRow, 'headMismatch', detail) : { reason: 'headMismatch', detail, seq: null, id: null, activityDateTime: null, activityDisplayName: null };
      return fail(b);
    }
    return report;
  });
}

export function formatChainReport(r: ChainReport): string {
  const from = r.startedFrom.kind === 'genesis' ? 'seq 1' : `checkpoint ${r.startedFrom.checkpointId} (records up to seq ${r.startedFrom.lastSeq} pruned)`;
  const lines = [`Tenant ${r.tenantId}: ${r.intact ? 'audit chain intact' : 'AUDIT CHAIN BROKEN'}`, `  checked ${r.checkedRecords} records${r.firstSeq !== null ? ` (seq ${r.firstSeq}..${r.lastSeq})` : ''} from ${from}; ${r.checkpoints} checkpoint(s)`];
  if (r.head) lines.push(`  head: seq ${r.head.seq}, hash ${r.head.hash}`);
  const b = r.firstBroken;
  if (b) {
    lines.push(`  first broken: ${b.reason}${b.seq !== null ? ` at seq ${b.seq}` : ''}${b.id ? ` (id ${b.id})` : ''}`);
    if (b.activityDisplayName || b.activityDateTime) lines.push(`    ${b.activityDateTime ?? ''}  ${b.activityDisplayName ?? ''}`);
    lines.push(`    ${b.detail}`);
  }
  return lines.join('\n');
}
