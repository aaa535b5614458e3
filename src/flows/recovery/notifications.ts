import { createHmac } from 'node:crypto';
import { MAX_DELIVERY_ATTEMPTS, retryDelayMs } from '../../domain/recovery.ts';
import { writeAudit } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { claimDueNotifications, markAttemptFailed, markDelivered, type OutboxEntry } from '../../store/notifications.ts';
import { getRecoveryPolicy } from '../../store/recoveryCases.ts';

/** How long a claimed notification is leased to the job that claimed it (longer than a delivery's timeout). */
const LEASE_MS = 60_000;

export type DeliveryReport = { delivered: string[]; retrying: string[]; failed: string[] };

/** The signature header: `sha256=` + hex HMAC-SHA256 of the exact body, keyed with the policy's webhook secret. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Posts due webhook notifications (docs/recovery.md): each a JSON POST with `x-gatehouse-event`,
 * `x-gatehouse-delivery` (the notification id, stable across retries) and, when the policy has a
 * secret, `x-gatehouse-signature`. A 2xx answer delivers it; otherwise it is retried with doubling
 * waits until MAX_DELIVERY_ATTEMPTS. The success, or the final failure, is audited under the
 * case's correlation id. Claims rows with FOR UPDATE SKIP LOCKED and a lease: safe to run in
 * several processes at once.
 */
export async function deliverRecoveryNotifications(db: Db, now: Date, opts: { fetch?: typeof fetch; timeoutMs?: number; limit?: number } = {}): Promise<DeliveryReport> {
  const doFetch = opts.fetch ?? fetch;
  const report: DeliveryReport = { delivered: [], retrying: [], failed: [] };
  const due = await claimDueNotifications(db, now, LEASE_MS, opts.limit ?? 50);
  for (const n of due) {
    const body = JSON.stringify(n.payload);
    const policy = await getRecoveryPolicy(db, n.tenantId);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Gatehouse-Recovery-Webhook', 'x-gatehouse-event': n.event, 'x-gatehouse-delivery': n.id };
    if (policy.webhookSecret) headers['x-gatehouse-signature'] = webhookSignature(policy.webhookSecret, body);
    let error: string | null = null;
    try {
      const res = await doFetch(n.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (err) {
      error = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 500);
    }
    await db.transaction().execute(async (trx) => {
      if (!error) {
        await markDelivered(trx, n.id, now);
        await auditDelivery(trx, n, now, 'success');
        report.delivered.push(n.id);
      } else if (n.attempts >= MAX_DELIVERY_ATTEMPTS) {
        await markAttemptFailed(trx, n.id, error, null, now);
        await auditDelivery(trx, n, now, 'failure', `${n.attempts} attempts; last: ${error}`);
        report.failed.push(n.id);
      } else {
        await markAttemptFailed(trx, n.id, error, new Date(now.getTime() + retryDelayMs(n.attempts)), now);
        report.retrying.push(n.id);
      }
    });
  }
  return report;
}

async function auditDelivery(trx: Db, n: OutboxEntry, now: Date, result: 'success' | 'failure', reason?: string): Promise<void> {
  const c = (n.payload.case ?? {}) as { user?: { id?: string; userPrincipalName?: string } };
  await writeAudit(trx, n.tenantId, {
    activityDisplayName: result === 'success' ? 'Delivered recovery notification' : 'Recovery notification delivery failed',
    category: 'UserManagement', operationType: 'Update', result, ...(reason ? { resultReason: reason } : {}),
    loggedByService: 'Gatehouse Recovery', correlationId: n.correlationId, initiatedBy: { kind: 'operator', name: 'Gatehouse notifications' },
    ...(c.user?.id ? { target: { id: c.user.id, userPrincipalName: c.user.userPrincipalName ?? null, type: 'User' as const } } : {}),
    additionalDetails: { 'Recovery case id': n.caseId, 'Event': n.event, 'Notification id': n.id, 'Attempts': n.attempts, 'Webhook host': hostOf(n.url) },
  }, now);
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
};

