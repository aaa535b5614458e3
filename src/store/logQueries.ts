import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Comparison, FilterNode, LambdaCollectionQuery, LambdaFilterNode, Literal } from '../domain/odata.ts';
import { isGuid } from '../domain/validation.ts';
import type { Db } from './database.ts';

/**
 * LOG-4: the sign-in and audit logs as Graph collections (`/auditLogs/signIns`,
 * `/auditLogs/directoryAudits`, docs/logs.md): `$filter` over a whitelist of fields, each with its
 * type and operators, newest first `(time DESC, id DESC)`, keyset paging with an opaque
 * `$skiptoken`. Only the expressions in the field maps below reach SQL; values are parameters.
 */

type Op = Comparison['op'];
type FieldType =
  | { kind: 'uuid' } | { kind: 'timestamp' } | { kind: 'int' } | { kind: 'bool' }
  /** Compared case-insensitively: the expression is already lower-cased. */
  | { kind: 'ci-text' }
  /** Exact text, except that a GUID-shaped value is lower-cased (app ids). */
  | { kind: 'text' }
  | { kind: 'enum'; values: readonly string[] };
export type LogField = { expr: RawBuilder<unknown>; type: FieldType; nullable?: boolean };

const EQUALITY: readonly Op[] = ['eq', 'ne'];
const ORDERED: readonly Op[] = ['eq', 'ne', 'ge', 'le', 'gt', 'lt'];
const opsOf = (t: FieldType): readonly (Op | 'startswith')[] =>
  t.kind === 'timestamp' || t.kind === 'int' ? ORDERED : t.kind === 'ci-text' ? [...EQUALITY, 'startswith'] : EQUALITY;

const col = (name: string) => sql.ref(name);
const json = (path: string) => sql`(record #>> ${sql.lit(`{${path}}`)})`;
const lowerJson = (path: string) => sql`lower(record #>> ${sql.lit(`{${path}}`)})`;

/** `$filter` fields of `/auditLogs/signIns`. */
export const SIGN_IN_FIELDS: Record<string, LogField> = {
  id: { expr: col('id'), type: { kind: 'uuid' } },
  createdDateTime: { expr: col('created_date_time'), type: { kind: 'timestamp' } },
  userId: { expr: col('user_id'), type: { kind: 'uuid' }, nullable: true },
  userPrincipalName: { expr: sql`lower(user_principal_name)`, type: { kind: 'ci-text' }, nullable: true },
  userDisplayName: { expr: lowerJson('userDisplayName'), type: { kind: 'ci-text' }, nullable: true },
  appId: { expr: col('app_id'), type: { kind: 'text' }, nullable: true },
  appDisplayName: { expr: lowerJson('appDisplayName'), type: { kind: 'ci-text' }, nullable: true },
  ipAddress: { expr: col('ip_address'), type: { kind: 'text' }, nullable: true },
  'status/errorCode': { expr: col('error_code'), type: { kind: 'int' } },
  conditionalAccessStatus: { expr: col('conditional_access_status'), type: { kind: 'enum', values: ['success', 'failure', 'notApplied', 'unknownFutureValue'] } },
  correlationId: { expr: col('correlation_id'), type: { kind: 'uuid' } },
  isInteractive: { expr: col('is_interactive'), type: { kind: 'bool' } },
  clientAppUsed: { expr: json('clientAppUsed'), type: { kind: 'text' } },
  authenticationRequirement: { expr: json('authenticationRequirement'), type: { kind: 'enum', values: ['singleFactorAuthentication', 'multiFactorAuthentication'] } },
};

/** `$filter` fields of `/auditLogs/directoryAudits`. */
export const AUDIT_FIELDS: Record<string, LogField> = {
  id: { expr: col('id'), type: { kind: 'uuid' } },
  activityDateTime: { expr: col('activity_date_time'), type: { kind: 'timestamp' } },
  activityDisplayName: { expr: sql`lower(activity_display_name)`, type: { kind: 'ci-text' } },
  category: { expr: sql`lower(category)`, type: { kind: 'ci-text' } },
  result: { expr: col('result'), type: { kind: 'enum', values: ['success', 'failure', 'timeout', 'unknownFutureValue'] } },
  correlationId: { expr: col('correlation_id'), type: { kind: 'uuid' } },
  loggedByService: { expr: sql`lower(logged_by_service)`, type: { kind: 'ci-text' } },
  operationType: { expr: lowerJson('operationType'), type: { kind: 'ci-text' } },
  'initiatedBy/user/id': { expr: col('initiated_by_user_id'), type: { kind: 'uuid' }, nullable: true },
  'initiatedBy/user/userPrincipalName': { expr: lowerJson('initiatedBy,user,userPrincipalName'), type: { kind: 'ci-text' }, nullable: true },
  'initiatedBy/app/appId': { expr: col('initiated_by_app_id'), type: { kind: 'ci-text' }, nullable: true },
};

/** Element properties of `targetResources/any(t: …)`, over the element `t.v` (jsonb). */
const TARGET_FIELDS: Record<string, LogField> = {
  id: { expr: sql`lower(t.v ->> 'id')`, type: { kind: 'ci-text' } },
  displayName: { expr: sql`lower(t.v ->> 'displayName')`, type: { kind: 'ci-text' }, nullable: true },
  userPrincipalName: { expr: sql`lower(t.v ->> 'userPrincipalName')`, type: { kind: 'ci-text' }, nullable: true },
  type: { expr: sql`lower(t.v ->> 'type')`, type: { kind: 'ci-text' } },
};
export const AUDIT_LAMBDAS: Record<string, readonly string[]> = { targetResources: Object.keys(TARGET_FIELDS) };

// ---------- filter → SQL ----------

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function bad(field: string, why: string): ValidationError {
  return new ValidationError('$filter', 'type', `Invalid $filter: '${field}' ${why}.`);
}

/** The SQL parameter for `value` compared with a field of type `t`, or a 400 naming the field and what it takes. */
function typedValue(field: string, t: FieldType, v: Literal): string | number | boolean {
  switch (t.kind) {
    case 'uuid':
      if (typeof v !== 'string' || !isGuid(v)) throw bad(field, 'takes a GUID in single quotes');
      return v.toLowerCase();
    case 'timestamp': {
      const m = typeof v === 'string' ? ISO.exec(v) : null;
      if (!m || typeof v !== 'string') throw bad(field, 'takes an ISO 8601 date-time such as 2026-11-25T08:00:00Z');
      const [, y, mo, d, hh = '00', mi = '00', ss = '00', , zone] = m;
      const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
      const valid = Number(y) >= 1 && day.getUTCFullYear() === Number(y) && day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d)
        && Number(hh) < 24 && Number(mi) < 60 && Number(ss) < 60 && (!zone || zone === 'Z' || (Number(zone.slice(1, 3)) < 24 && Number(zone.slice(4)) < 60));
      if (!valid) throw bad(field, `takes a valid ISO 8601 date-time; '${v.slice(0, 40)}' is not a date`);
      // A date alone is midnight UTC (not the database session's time zone).
      return m[4] === undefined ? `${v}T00:00:00Z` : v;
    }
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > 2_147_483_647) throw bad(field, 'takes an integer');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw bad(field, 'takes true or false');
      return v;
    case 'enum':
      if (typeof v !== 'string' || !t.values.includes(v)) throw bad(field, `takes one of ${t.values.map((x) => `'${x}'`).join(', ')}`);
      return v;
    case 'ci-text':
      if (typeof v !== 'string') throw bad(field, 'takes a string in single quotes');
      return v.toLowerCase();
    case 'text':
      if (typeof v !== 'string') throw bad(field, 'takes a string in single quotes');
      return isGuid(v) ? v.toLowerCase() : v;
  }
}

const SQL_OPS: Record<Op, string> = { eq: '=', ne: '<>', ge: '>=', le: '<=', gt: '>', lt: '<' };

function leafSql(node: Comparison | Extract<FilterNode, { kind: 'startswith' }>, fields: Record<string, LogField>, label = (f: string) => f): RawBuilder<boolean> {
  const f = fields[node.field]!;
  const name = label(node.field);
  const op = node.kind === 'startswith' ? 'startswith' : node.op;
  const allowed = opsOf(f.type);
  if (!allowed.includes(op)) throw new ValidationError('$filter', 'unsupportedOperator', `Invalid $filter: '${op}' is not supported on '${name}'; supported: ${allowed.join(', ')}.`);
  if (node.kind === 'startswith') {
    const escaped = node.value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
    return sql<boolean>`(${f.expr} LIKE ${`${escaped}%`})`;
  }
  if (node.value === null) {
    if (!f.nullable) throw bad(name, 'is never null');
    if (node.op === 'eq') return sql<boolean>`(${f.expr} IS NULL)`;
    if (node.op === 'ne') return sql<boolean>`(${f.expr} IS NOT NULL)`;
    throw bad(name, `can't be compared with null by '${node.op}'`);
  }
  const value = typedValue(name, f.type, node.value);
  const param = f.type.kind === 'timestamp' ? sql`${value}::timestamptz` : f.type.kind === 'uuid' ? sql`${value}::uuid` : sql`${value}`;
  // ne: a null field is "not equal" too, as Graph treats absent values.
  if (node.op === 'ne' && f.nullable) return sql<boolean>`(${f.expr} IS DISTINCT FROM ${param})`;
  return sql<boolean>`(${f.expr} ${sql.raw(SQL_OPS[node.op])} ${param})`;
}

function filterSql(node: LambdaFilterNode, fields: Record<string, LogField>): RawBuilder<boolean> {
  if ('left' in node) {
    const l = filterSql(node.left, fields);
    const r = filterSql(node.right, fields);
    return node.kind === 'and' ? sql<boolean>`(${l} AND ${r})` : sql<boolean>`(${l} OR ${r})`;
  }
  if (node.kind === 'any') return targetsSql(node.predicate);
  return leafSql(node, fields);
}

/** `targetResources/any(t: …)`: the indexed `target_ids` for `t/id eq '…'`, else a scan of the record's array. */
function targetsSql(predicate: FilterNode): RawBuilder<boolean> {
  const inner = (n: FilterNode): RawBuilder<boolean> => {
    if ('left' in n) return sql<boolean>`(${inner(n.left)} ${sql.raw(n.kind === 'and' ? 'AND' : 'OR')} ${inner(n.right)})`;
    return leafSql(n, TARGET_FIELDS, (f) => `targetResources/any(t: t/${f})`);
  };
  const where = inner(predicate);
  if (predicate.kind === 'cmp' && predicate.field === 'id' && predicate.op === 'eq' && typeof predicate.value === 'string') {
    const id = typedValue('targetResources/any(t: t/id)', TARGET_FIELDS.id!.type, predicate.value) as string;
    return sql<boolean>`(target_ids @> ARRAY[${id}]::text[])`;
  }
  return sql<boolean>`EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(record -> 'targetResources', '[]'::jsonb)) AS t(v) WHERE ${where})`;
}

// ---------- paging ----------

/**
 * The `$skiptoken`: the last row's time (microseconds, as stored) and id, which log it is for,
 * and a digest of the `$filter` it was issued with. Not secret (it only moves a caller within
 * what they may read anyway), but validated: anything else, or a token reused with another
 * filter or log, is a 400.
 */
type Cursor = { time: string; id: string };
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function filterDigest(filter: string | undefined): string {
  return createHash('sha256').update(filter ?? '').digest('base64url').slice(0, 12);
}

export function encodeCursor(log: 's' | 'a', c: Cursor, filter: string | undefined): string {
  return Buffer.from(JSON.stringify([1, log, c.time, c.id, filterDigest(filter)])).toString('base64url');
}

export function decodeCursor(log: 's' | 'a', token: string, filter: string | undefined): Cursor {
  const invalid = (why: string) => new ValidationError('$skiptoken', 'format', `Invalid $skiptoken: ${why}; use the @odata.nextLink the previous page returned.`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a token this server issued');
  }
  if (!Array.isArray(v) || v.length !== 5 || v[0] !== 1 || typeof v[2] !== 'string' || typeof v[3] !== 'string' || !CURSOR_TIME.test(v[2]) || !isGuid(v[3])
    || Number.isNaN(Date.parse(v[2]))) throw invalid('not a token this server issued');
  if (v[1] !== log) throw invalid(`it was issued for the ${v[1] === 's' ? 'sign-in' : 'audit'} log`);
  if (v[4] !== filterDigest(filter)) throw invalid('it was issued for a different $filter');
  return { time: v[2], id: v[3] };
}

export type LogPage = { items: Record<string, unknown>[]; nextSkipToken: string | undefined };
/** A page as the stored JSON text of each record, ready to splice into a response body (no parse, no re-serialisation). */
export type RawLogPage = { json: string[]; nextSkipToken: string | undefined };
type LogTable = { log: 's' | 'a'; table: 'sign_ins' | 'directory_audits'; time: 'created_date_time' | 'activity_date_time'; fields: Record<string, LogField>; record: RawBuilder<unknown> };

/**
 * LOG-1: a sign-in record with every field of Graph's `signIn`. Records written by writeSignIn
 * since 0005 have them all (`signInDefaults`); older ones (0005 backfills them too) and rows
 * written by other means get the same defaults here, in SQL, so a page is never parsed in Node.
 */
export const COMPLETE_SIGN_IN = sql`(CASE WHEN record ? 'riskState' THEN record ELSE jsonb_build_object(
    'userDisplayName', NULL, 'userPrincipalName', NULL, 'userId', NULL, 'appId', NULL, 'appDisplayName', NULL, 'ipAddress', NULL,
    'clientAppUsed', 'Browser', 'isInteractive', true, 'conditionalAccessStatus', 'notApplied', 'appliedConditionalAccessPolicies', '[]'::jsonb,
    'authenticationDetails', '[]'::jsonb, 'authenticationRequirement', 'singleFactorAuthentication', 'authenticationRequirementPolicies', '[]'::jsonb,
    'riskDetail', 'none', 'riskLevelAggregated', 'none', 'riskLevelDuringSignIn', 'none', 'riskState', 'none', 'riskEventTypes_v2', '[]'::jsonb,
    'resourceDisplayName', record -> 'appDisplayName', 'resourceId', record -> 'appId',
    'deviceDetail', jsonb_build_object('deviceId', '', 'displayName', '', 'operatingSystem', '', 'browser', '', 'isCompliant', false, 'isManaged', false, 'trustType', ''),
    'location', jsonb_build_object('city', NULL, 'state', NULL, 'countryOrRegion', NULL, 'geoCoordinates', NULL)
  ) || record END)`;

const SIGN_INS: LogTable = { log: 's', table: 'sign_ins', time: 'created_date_time', fields: SIGN_IN_FIELDS, record: COMPLETE_SIGN_IN };
const AUDITS: LogTable = { log: 'a', table: 'directory_audits', time: 'activity_date_time', fields: AUDIT_FIELDS, record: sql`record` };

async function page(db: Db, t: LogTable, tenantId: string, query: LambdaCollectionQuery, rawFilter: string | undefined): Promise<RawLogPage> {
  const where: RawBuilder<boolean>[] = [sql<boolean>`tenant_id = ${tenantId}::uuid`];
  if (query.filter) where.push(filterSql(query.filter, t.fields));
  const time = sql.ref(t.time);
  if (query.skipToken) {
    const c = decodeCursor(t.log, query.skipToken, rawFilter);
    where.push(sql<boolean>`(${time}, id) < (${c.time}::timestamptz, ${c.id}::uuid)`);
  }
  const rows = await sql<{ id: string; json: string; cursor_time: string }>`
    SELECT id, ${t.record}::text AS json, to_char(${time} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_time
    FROM ${sql.table(t.table)} WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${time} DESC, id DESC LIMIT ${query.top + 1}`.execute(db);
  const items = rows.rows.slice(0, query.top);
  const last = items.at(-1);
  return { json: items.map((r) => r.json), nextSkipToken: rows.rows.length > query.top && last ? encodeCursor(t.log, { time: last.cursor_time, id: last.id }, rawFilter) : undefined };
}

/** One page of sign-ins, newest first, as stored JSON text (LOG-1 records completed to Graph's `signIn`). `rawFilter`: the `$filter` text, which the skip token is bound to. */
export async function listSignInsRaw(db: Db, tenantId: string, query: LambdaCollectionQuery, rawFilter: string | undefined): Promise<RawLogPage> {
  return page(db, SIGN_INS, tenantId, query, rawFilter);
}

/** `listSignInsRaw` parsed (for `$select`). */
export async function listSignIns(db: Db, tenantId: string, query: LambdaCollectionQuery, rawFilter: string | undefined): Promise<LogPage> {
  const p = await page(db, SIGN_INS, tenantId, query, rawFilter);
  return { items: p.json.map((j) => JSON.parse(j) as Record<string, unknown>), nextSkipToken: p.nextSkipToken };
}

export async function getSignIn(db: Db, tenantId: string, id: string): Promise<Record<string, unknown>> {
  const row = isGuid(id)
    ? (await sql<{ json: string }>`SELECT ${COMPLETE_SIGN_IN}::text AS json FROM sign_ins WHERE tenant_id = ${tenantId}::uuid AND id = ${id.toLowerCase()}::uuid`.execute(db)).rows[0]
    : undefined;
  if (!row) throw new NotFoundError('signIn', id);
  return JSON.parse(row.json) as Record<string, unknown>;
}

/** One page of directory audits, newest first (LOG-2 records in Graph's `directoryAudit` shape). */
export async function listDirectoryAudits(db: Db, tenantId: string, query: LambdaCollectionQuery, rawFilter: string | undefined): Promise<LogPage> {
  const p = await page(db, AUDITS, tenantId, query, rawFilter);
  return { items: p.json.map((j) => completeAudit(JSON.parse(j) as Record<string, unknown>)), nextSkipToken: p.nextSkipToken };
}

export async function getDirectoryAudit(db: Db, tenantId: string, id: string): Promise<Record<string, unknown>> {
  const row = isGuid(id)
    ? await db.selectFrom('directory_audits').select('record').where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst()
    : undefined;
  if (!row) throw new NotFoundError('directoryAudit', id);
  return completeAudit(row.record);
}

/** Every field of Graph's `directoryAudit`, also on records written before a field existed. */
export function completeAudit(record: Record<string, unknown>): Record<string, unknown> {
  const initiatedBy = (record.initiatedBy ?? {}) as Record<string, unknown>;
  const targets = Array.isArray(record.targetResources) ? record.targetResources as Record<string, unknown>[] : [];
  return {
    resultReason: '', operationType: null, additionalDetails: [],
    ...record,
    initiatedBy: { app: null, user: null, ...initiatedBy },
    targetResources: targets.map((t) => ({ displayName: null, type: null, userPrincipalName: null, groupType: null, modifiedProperties: [], ...t })),
  };
}

/** Graph's properties of each resource, for `$select`. */
export const SIGN_IN_PROPERTIES = [
  'id', 'createdDateTime', 'userDisplayName', 'userPrincipalName', 'userId', 'appId', 'appDisplayName', 'ipAddress', 'clientAppUsed', 'userAgent',
  'correlationId', 'conditionalAccessStatus', 'isInteractive', 'riskDetail', 'riskLevelAggregated', 'riskLevelDuringSignIn', 'riskState',
  'riskEventTypes_v2', 'resourceDisplayName', 'resourceId', 'status', 'deviceDetail', 'location', 'appliedConditionalAccessPolicies',
  'authenticationDetails', 'authenticationRequirement', 'authenticationRequirementPolicies',
] as const;
export const AUDIT_PROPERTIES = [
  'id', 'category', 'correlationId', 'result', 'resultReason', 'activityDisplayName', 'activityDateTime', 'loggedByService', 'operationType',
  'initiatedBy', 'targetResources', 'additionalDetails',
] as const;
