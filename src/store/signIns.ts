import { randomUUID } from 'node:crypto';
import { sql, type OperationNodeSource } from 'kysely';
import type { Db } from './database.ts';

/** LOG-1: one signIn record per attempt, in Graph's shape (the fields this stage can fill). */
export type AuthenticationDetail = {
  authenticationMethod: string;
  authenticationMethodDetail?: string | null;
  succeeded: boolean;
  authenticationStepResultDetail: string;
  authenticationStepRequirement?: string;
};

export type SignInRecord = {
  correlationId: string;
  user: { id: string; userPrincipalName: string; displayName: string } | null;
  /** What the user typed, when no user matched (kept for the admin, never shown to the caller). */
  attemptedUserPrincipalName?: string | null;
  app?: { appId: string; displayName: string } | null;
  ipAddress: string | null;
  userAgent?: string | null;
  status: { errorCode: number; failureReason: string; additionalDetails?: string };
  authenticationDetails: AuthenticationDetail[];
  authenticationRequirement?: 'singleFactorAuthentication' | 'multiFactorAuthentication';
  extra?: Record<string, unknown>;
};

export async function writeSignIn(db: Db, tenantId: string, r: SignInRecord, now: Date): Promise<string> {
  const { id, insert } = signInInsert(db, tenantId, r, now);
  await insert.execute();
  return id;
}

/**
 * `writeSignIn` together with other writes of the same step (update statements built on the
 * step's transaction, e.g. `saveFlowQuery`), in one statement: the updates run as data-modifying
 * WITH clauses of the insert. Fewer round trips; the same rows written in the same transaction.
 */
export async function writeSignInWith(db: Db, tenantId: string, r: SignInRecord, now: Date, writes: readonly OperationNodeSource[]): Promise<string> {
  if (writes.length === 0) return writeSignIn(db, tenantId, r, now);
  const { id, insert } = signInInsert(db, tenantId, r, now);
  const ctes = writes.map((w, i) => sql`${sql.raw(`w${i}`)} AS (${w})`);
  await sql`WITH ${sql.join(ctes)} ${insert}`.execute(db);
  return id;
}

function signInInsert(db: Db, tenantId: string, r: SignInRecord, now: Date) {
  const id = randomUUID();
  const record = {
    id,
    createdDateTime: now.toISOString(),
    userId: r.user?.id ?? null,
    userPrincipalName: r.user?.userPrincipalName ?? r.attemptedUserPrincipalName ?? null,
    userDisplayName: r.user?.displayName ?? null,
    appId: r.app?.appId ?? null,
    appDisplayName: r.app?.displayName ?? null,
    ipAddress: r.ipAddress,
    clientAppUsed: 'Browser',
    userAgent: r.userAgent ?? null,
    correlationId: r.correlationId,
    isInteractive: true,
    conditionalAccessStatus: 'notApplied',
    status: { errorCode: r.status.errorCode, failureReason: r.status.failureReason, additionalDetails: r.status.additionalDetails ?? null },
    authenticationDetails: r.authenticationDetails.map((d) => ({ authenticationStepDateTime: now.toISOString(), authenticationMethodDetail: null, ...d })),
    authenticationRequirement: r.authenticationRequirement ?? 'singleFactorAuthentication',
    appliedConditionalAccessPolicies: [],
    authenticationRequirementPolicies: [],
    ...(r.extra ?? {}),
  };
  const insert = db.insertInto('sign_ins').values({
    id, tenant_id: tenantId, created_date_time: now, user_id: r.user?.id ?? null, user_principal_name: record.userPrincipalName,
    app_id: r.app?.appId ?? null, ip_address: r.ipAddress, error_code: r.status.errorCode, correlation_id: r.correlationId, record: JSON.stringify(record),
  });
  return { id, insert };
}

export async function signInsFor(db: Db, tenantId: string, filter: { userId?: string; correlationId?: string }): Promise<Record<string, unknown>[]> {
  let q = db.selectFrom('sign_ins').select('record').where('tenant_id', '=', tenantId);
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  if (filter.correlationId) q = q.where('correlation_id', '=', filter.correlationId);
  return (await q.orderBy('created_date_time').orderBy('id').execute()).map((r) => r.record);
}
