import { randomUUID } from 'node:crypto';
import { sql, type OperationNodeSource } from 'kysely';
import { isGuid } from '../domain/validation.ts';
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
  const app = r.app ? { appId: r.app.appId, displayName: r.app.displayName } : null;
  const record: Record<string, unknown> = {
    id,
    createdDateTime: now.toISOString(),
    userId: r.user?.id ?? null,
    userPrincipalName: r.user?.userPrincipalName ?? r.attemptedUserPrincipalName ?? null,
    userDisplayName: r.user?.displayName ?? null,
    appId: app?.appId ?? null,
    appDisplayName: app?.displayName ?? null,
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
    ...signInDefaults(app, r.userAgent ?? null),
    ...(r.extra ?? {}),
  };
  const insert = db.insertInto('sign_ins').values({
    id, tenant_id: tenantId, created_date_time: now, user_id: r.user?.id ?? null, user_principal_name: record.userPrincipalName as string | null,
    app_id: app?.appId ?? null, ip_address: r.ipAddress, error_code: r.status.errorCode, correlation_id: r.correlationId, record: JSON.stringify(record),
    conditional_access_status: typeof record.conditionalAccessStatus === 'string' ? record.conditionalAccessStatus : 'notApplied',
    is_interactive: record.isInteractive !== false,
  });
  return { id, insert };
}

/**
 * LOG-1: the fields of Graph's `signIn` that Gatehouse has no source for, with the value that
 * says so: no risk detection (CA-2: risk is always `none`), no device management, no geo-IP.
 * The resource is the app signed in to (Gatehouse issues tokens for the app itself). Written with
 * every record; store/logQueries.ts `COMPLETE_SIGN_IN` fills the same into records written before
 * they existed (migration 0005 backfills them).
 */
export function signInDefaults(app: { appId: string; displayName: string } | null, userAgent: string | null): Record<string, unknown> {
  return {
    riskDetail: 'none',
    riskLevelAggregated: 'none',
    riskLevelDuringSignIn: 'none',
    riskState: 'none',
    riskEventTypes_v2: [],
    resourceDisplayName: app?.displayName ?? null,
    resourceId: app?.appId ?? null,
    deviceDetail: { deviceId: '', displayName: '', operatingSystem: operatingSystemOf(userAgent), browser: browserOf(userAgent), isCompliant: false, isManaged: false, trustType: '' },
    location: { city: null, state: null, countryOrRegion: null, geoCoordinates: null },
  };
}

/** The operating system a user agent names, as Entra shows it in `deviceDetail` (empty when unknown). */
function operatingSystemOf(ua: string | null): string {
  if (!ua) return '';
  if (/Windows Phone/i.test(ua)) return 'Windows Phone';
  if (/Android/i.test(ua)) return 'Android';
  if (/iPhone|iPad|iPod/i.test(ua)) return 'Ios';
  if (/Windows/i.test(ua)) return 'Windows';
  if (/Mac OS X|Macintosh/i.test(ua)) return 'MacOs';
  if (/CrOS/i.test(ua)) return 'ChromeOS';
  if (/Linux|X11/i.test(ua)) return 'Linux';
  return '';
}

/** The browser and major version a user agent names ("Edge 131", "Chrome 131"); empty when none. */
function browserOf(ua: string | null): string {
  if (!ua) return '';
  for (const [re, name] of [[/Edg\/(\d+)/, 'Edge'], [/Firefox\/(\d+)/, 'Firefox'], [/Chrome\/(\d+)/, 'Chrome'], [/Version\/(\d+)[^ ]* .*Safari\//, 'Safari']] as const) {
    const m = re.exec(ua);
    if (m) return `${name} ${m[1]}`;
  }
  return '';
}

export async function signInsFor(db: Db, tenantId: string, filter: { userId?: string; correlationId?: string }): Promise<Record<string, unknown>[]> {
  let q = db.selectFrom('sign_ins').select('record').where('tenant_id', '=', tenantId);
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  if (filter.correlationId) q = q.where('correlation_id', '=', filter.correlationId);
  return (await q.orderBy('created_date_time').orderBy('id').execute()).map((r) => r.record);
}

/** Only what replay reads of a record (flows/logs/replay.ts `recordedSignIn`): the Graph fields around the decision stay in the database. */
const REPLAYED_FIELDS = sql<Record<string, unknown>>`jsonb_build_object(
  'id', record->'id', 'createdDateTime', record->'createdDateTime', 'userId', record->'userId', 'userPrincipalName', record->'userPrincipalName',
  'appId', record->'appId', 'appDisplayName', record->'appDisplayName', 'gatehouseDecision', record->'gatehouseDecision',
  'gatehouseInput', record->'gatehouseInput', 'gatehousePolicyVersion', record->'gatehousePolicyVersion')`;

export type ReplayableRow = { id: string; created_date_time: Date; record: Record<string, unknown> };

/**
 * WIF-2 impact analysis: one batch of sign-ins in `[from, to)`, oldest first, after the keyset
 * `after`, optionally one user's (id, or user principal name) or one app's, with only the fields
 * replay reads.
 */
export async function replayableSignIns(db: Db, tenantId: string, w: {
  from: Date; to: Date; user?: string; appId?: string; after?: { t: Date; id: string }; limit: number;
}): Promise<ReplayableRow[]> {
  let q = db.selectFrom('sign_ins').select(['id', 'created_date_time', REPLAYED_FIELDS.as('record')])
    .where('tenant_id', '=', tenantId).where('created_date_time', '>=', w.from).where('created_date_time', '<', w.to);
  if (w.user) q = isGuid(w.user) ? q.where('user_id', '=', w.user.toLowerCase()) : q.where(sql`lower(user_principal_name)`, '=', w.user.toLowerCase());
  if (w.appId) q = q.where('app_id', '=', w.appId);
  const a = w.after;
  if (a) q = q.where((eb) => eb.or([eb('created_date_time', '>', a.t), eb.and([eb('created_date_time', '=', a.t), eb('id', '>', a.id)])]));
  return q.orderBy('created_date_time').orderBy('id').limit(w.limit).execute();
}
