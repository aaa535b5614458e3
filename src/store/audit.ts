import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../domain/auditChain.ts';
import { chainHash, claimChainLink } from './auditChain.ts';
import type { Db } from './database.ts';

/**
 * LOG-2: directoryAudit records in Graph's shape with Entra's activity names. Written by the
 * caller inside the same transaction as the change it describes.
 */
export type AuditActor =
  | { kind: 'app'; appId: string; displayName?: string }
  | { kind: 'user'; id: string; userPrincipalName: string; displayName?: string; ipAddress?: string | null }
  | { kind: 'operator'; name: string };

export type AuditEntry = {
  activityDisplayName: string;
  category: 'UserManagement' | 'Policy' | 'RoleManagement' | 'ApplicationManagement';
  operationType: 'Add' | 'Update' | 'Delete';
  result: 'success' | 'failure';
  resultReason?: string;
  loggedByService: string;
  correlationId?: string;
  initiatedBy: AuditActor;
  target?: { id: string; displayName?: string | null; userPrincipalName?: string | null; type: 'User' | 'Policy' | 'Application' | 'Role' };
  modifiedProperties?: { displayName: string; oldValue: unknown; newValue: unknown }[];
  additionalDetails?: Record<string, string | number | boolean | null | undefined>;
};

/**
 * LOG-3: each record is the next link of its tenant's hash chain (domain/auditChain.ts). Two
 * statements: claim the link (bumps the tenant's chain head and holds its row lock until the
 * caller's transaction ends, which serialises that tenant's audit writers across processes), then
 * insert the record while setting the head's hash. Outside a transaction it opens its own.
 */
export async function writeAudit(db: Db, tenantId: string, e: AuditEntry, now: Date): Promise<string> {
  if (!db.isTransaction) return db.transaction().execute((trx) => writeAudit(trx, tenantId, e, now));
  const id = randomUUID();
  const correlationId = e.correlationId ?? randomUUID();
  const a = e.initiatedBy;
  const record = {
    id,
    category: e.category,
    correlationId,
    result: e.result,
    resultReason: e.resultReason ?? '',
    activityDisplayName: e.activityDisplayName,
    activityDateTime: now.toISOString(),
    loggedByService: e.loggedByService,
    operationType: e.operationType,
    initiatedBy: {
      app: a.kind === 'app' ? { appId: a.appId, displayName: a.displayName ?? null, servicePrincipalId: null, servicePrincipalName: null } : null,
      user: a.kind === 'user' ? { id: a.id, displayName: a.displayName ?? null, userPrincipalName: a.userPrincipalName, ipAddress: a.ipAddress ?? null } : null,
      ...(a.kind === 'operator' ? { gatehouseOperator: a.name } : {}),
    },
    targetResources: e.target ? [{
      id: e.target.id, displayName: e.target.displayName ?? null, type: e.target.type, userPrincipalName: e.target.userPrincipalName ?? null,
      modifiedProperties: (e.modifiedProperties ?? []).map((p) => ({ displayName: p.displayName, oldValue: p.oldValue === undefined ? null : JSON.stringify(p.oldValue), newValue: p.newValue === undefined ? null : JSON.stringify(p.newValue) })),
    }] : [],
    additionalDetails: Object.entries(e.additionalDetails ?? {}).filter(([, v]) => v !== undefined).map(([key, value]) => ({ key, value: value === null ? null : String(value) })),
  };
  // Hash exactly what jsonb will give back: the stored text, parsed, in canonical form.
  const stored = JSON.stringify(record);
  const link = await claimChainLink(db, tenantId);
  const hash = chainHash({ prevHash: link.prevHash, seq: link.seq, tenantId, canonicalRecord: canonicalJson(JSON.parse(stored)) });
  await db.with('chain_head', (q) => q.updateTable('audit_chain_heads').set({ hash }).where('tenant_id', '=', tenantId)).insertInto('directory_audits').values({
    id, tenant_id: tenantId, activity_date_time: now, activity_display_name: e.activityDisplayName, result: e.result, correlation_id: correlationId,
    target_user_id: e.target?.type === 'User' ? e.target.id : null, record: stored,
    // LOG-4 filter columns (migration 0005, store/logQueries.ts)
    category: e.category, logged_by_service: e.loggedByService, target_ids: e.target ? [e.target.id.toLowerCase()] : [],
    initiated_by_user_id: a.kind === 'user' ? a.id.toLowerCase() : null, initiated_by_app_id: a.kind === 'app' ? a.appId.toLowerCase() : null,
    seq: link.seq, prev_hash: link.prevHash, hash, // LOG-3 chain (migration 0006)
  }).execute();
  return id;
}

export async function auditsForUser(db: Db, tenantId: string, userId: string): Promise<Record<string, unknown>[]> {
  const rows = await db.selectFrom('directory_audits').select('record').where('tenant_id', '=', tenantId).where('target_user_id', '=', userId).orderBy('activity_date_time').orderBy('id').execute();
  return rows.map((r) => r.record);
}
