import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * The notification outbox (migration 9): a webhook notification is written in the transaction of
 * the step it reports, so it exists exactly when the step committed; a delivery job posts it.
 */
export type OutboxEntry = {
  id: string; tenantId: string; caseId: string | null; correlationId: string; event: string; url: string;
  payload: Record<string, unknown>; attempts: number; nextAttemptAt: Date; lastError: string | null;
  deliveredAt: Date | null; failedAt: Date | null; createdAt: Date;
};

export async function enqueueNotification(db: Db, n: { tenantId: string; caseId: string | null; correlationId: string; event: string; url: string; payload: Record<string, unknown> }, now: Date): Promise<string> {
  const id = randomUUID();
  await db.insertInto('notification_outbox').values({
    id, tenant_id: n.tenantId, case_id: n.caseId, correlation_id: n.correlationId, event: n.event, url: n.url,
    payload: JSON.stringify({ ...n.payload, id }), next_attempt_at: now, created_at: now,
  }).execute();
  return id;
}

type Row = {
  id: string; tenant_id: string; case_id: string | null; correlation_id: string; event: string; url: string; payload: Record<string, unknown>;
  attempts: number; next_attempt_at: Date; last_error: string | null; delivered_at: Date | null; failed_at: Date | null; created_at: Date;
};
const toEntry = (r: Row): OutboxEntry => ({
  id: r.id, tenantId: r.tenant_id, caseId: r.case_id, correlationId: r.correlation_id, event: r.event, url: r.url, payload: r.payload,
  attempts: Number(r.attempts), nextAttemptAt: new Date(r.next_attempt_at), lastError: r.last_error,
  deliveredAt: r.delivered_at ? new Date(r.delivered_at) : null, failedAt: r.failed_at ? new Date(r.failed_at) : null, createdAt: new Date(r.created_at),
});

/**
 * Claims up to `limit` due notifications for one delivery attempt: the rows are picked with
 * FOR UPDATE SKIP LOCKED (so concurrent jobs in several processes take different rows) and leased
 * until `now + leaseMs` (so no other job takes them while this one's HTTP request is in flight).
 * One statement; commits on its own.
 */
export async function claimDueNotifications(db: Db, now: Date, leaseMs: number, limit: number): Promise<OutboxEntry[]> {
  const lease = new Date(now.getTime() + leaseMs);
  const r = await sql<Row>`
    UPDATE notification_outbox o SET next_attempt_at = ${lease}::timestamptz, attempts = o.attempts + 1
    WHERE o.id IN (
      SELECT d.id FROM notification_outbox d
      WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= ${now}::timestamptz
      ORDER BY d.next_attempt_at, d.id LIMIT ${limit} FOR UPDATE SKIP LOCKED
    )
    RETURNING o.*`.execute(db);
  return r.rows.map(toEntry);
}

export async function markDelivered(db: Db, id: string, now: Date): Promise<void> {
  await db.updateTable('notification_outbox').set({ delivered_at: now, last_error: null }).where('id', '=', id).execute();
}

export async function markAttemptFailed(db: Db, id: string, error: string, next: Date | null, now: Date): Promise<void> {
  await db.updateTable('notification_outbox').set(next ? { last_error: error, next_attempt_at: next } : { last_error: error, failed_at: now }).where('id', '=', id).execute();
}

export async function notificationsOfCase(db: Db, caseId: string): Promise<OutboxEntry[]> {
  const rows = await db.selectFrom('notification_outbox').selectAll().where('case_id', '=', caseId).orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => toEntry(r as unknown as Row));
}
