import { ValidationError } from '../../domain/errors.ts';
import { auditBatch, signInBatch, type TimeWindow } from '../../store/auditChain.ts';
import type { Db } from '../../store/database.ts';

/**
 * LOG-4 export as newline-delimited JSON: one Graph record per line, oldest first, read in
 * keyset batches (never the whole table). Sign-ins in (createdDateTime, id) order; audit records
 * in chain order (seq, which is commit order) with `gatehouseChain: {seq, prevHash, hash}` added,
 * so the export can be verified on its own (docs/logs-integrity.md). The window is
 * `since <= time < until` on createdDateTime / activityDateTime.
 */
export type LogKind = 'signIns' | 'directoryAudits';
export const LOG_KINDS: readonly LogKind[] = ['signIns', 'directoryAudits'];

export type ExportOptions = { kind: LogKind; since?: Date | undefined; until?: Date | undefined; batchSize?: number };

/** Parses --kind/--since/--until (or query parameters) into options, naming the field on bad input. */
export function exportOptions(raw: { kind?: unknown; since?: unknown; until?: unknown }): ExportOptions {
  if (typeof raw.kind !== 'string' || !(LOG_KINDS as readonly string[]).includes(raw.kind)) {
    throw new ValidationError('kind', 'oneOf', `kind must be one of ${LOG_KINDS.join(', ')}${typeof raw.kind === 'string' ? `, not '${raw.kind.slice(0, 40)}'` : ''}.`);
  }
  const time = (field: 'since' | 'until'): Date | undefined => {
    const v = raw[field];
    if (v === undefined) return undefined;
    const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(v) ? new Date(v) : undefined;
    if (!d || Number.isNaN(d.getTime())) throw new ValidationError(field, 'dateTime', `${field} must be an ISO 8601 date or date-time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)${typeof v === 'string' ? `, not '${v.slice(0, 40)}'` : ''}.`);
    return d;
  };
  const since = time('since');
  const until = time('until');
  if (since && until && since.getTime() >= until.getTime()) throw new ValidationError('until', 'afterSince', 'until must be later than since.');
  return { kind: raw.kind as LogKind, since, until };
}

/** Yields NDJSON lines (each ending in "\n"), batch by batch. */
export async function* exportLogLines(db: Db, tenantId: string, o: ExportOptions): AsyncGenerator<string> {
  const limit = o.batchSize ?? 1000;
  const w: TimeWindow = { since: o.since, until: o.until };
  if (o.kind === 'signIns') {
    let after: { time: Date; id: string } | undefined;
    for (;;) {
      const rows = await signInBatch(db, tenantId, w, after, limit);
      if (rows.length > 0) yield rows.map((r) => `${JSON.stringify(r.record)}\n`).join('');
      if (rows.length < limit) return;
      const last = rows.at(-1)!;
      after = { time: last.time, id: last.id };
    }
  }
  let afterSeq = 0;
  for (;;) {
    const rows = await auditBatch(db, tenantId, w, afterSeq, limit);
    if (rows.length > 0) yield rows.map((r) => `${JSON.stringify({ ...r.record, gatehouseChain: { seq: r.seq, prevHash: r.prevHash, hash: r.hash } })}\n`).join('');
    if (rows.length < limit) return;
    afterSeq = rows.at(-1)!.seq;
  }
}
