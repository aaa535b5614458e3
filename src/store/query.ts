import { sql, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import { ValidationError } from '../domain/errors.ts';
import type { CollectionQuery, FilterNode, Literal } from '../domain/odata.ts';
import { isCleanText, isGuid } from '../domain/validation.ts';

/**
 * OData filter trees to SQL. Only columns in the caller's map reach SQL (by identifier, never by
 * string concatenation); values are always parameters.
 */
export type ColumnMap = Record<string, { column: string; type: 'text' | 'ci-text' | 'bool' | 'uuid' | 'timestamp' }>;

const SQL_OPS = { eq: '=', ne: '<>', ge: '>=', le: '<=', gt: '>', lt: '<' } as const;

export function filterSql(node: FilterNode, columns: ColumnMap): RawBuilder<boolean> {
  if ('left' in node) {
    const l = filterSql(node.left, columns);
    const r = filterSql(node.right, columns);
    return node.kind === 'and' ? sql<boolean>`(${l} AND ${r})` : sql<boolean>`(${l} OR ${r})`;
  }
  const col = columns[node.field]!;
  const ref = sql.ref(col.column);
  if (node.kind === 'startswith') {
    if (col.type !== 'text' && col.type !== 'ci-text') throw new ValidationError('$filter', 'unsupportedOperator', `Invalid $filter: startswith is not supported on '${node.field}'.`);
    const escaped = node.value.replace(/[\\%_]/g, (c) => `\\${c}`);
    return sql<boolean>`lower(${ref}) LIKE ${escaped.toLowerCase() + '%'}`;
  }
  const value = typed(node.field, node.value, col.type);
  const op = sql.raw(SQL_OPS[node.op]);
  if (value === null) {
    if (node.op === 'eq') return sql<boolean>`${ref} IS NULL`;
    if (node.op === 'ne') return sql<boolean>`${ref} IS NOT NULL`;
    throw new ValidationError('$filter', 'null', `Invalid $filter: '${node.field} ${node.op} null' is not meaningful.`);
  }
  if (col.type === 'ci-text') return sql<boolean>`lower(${ref}) ${op} ${String(value).toLowerCase()}`;
  return sql<boolean>`${ref} ${op} ${value}`;
}

function typed(field: string, v: Literal, type: ColumnMap[string]['type']): string | boolean | Date | null {
  if (v === null) return null;
  switch (type) {
    case 'bool':
      if (typeof v !== 'boolean') throw new ValidationError('$filter', 'type', `Invalid $filter: '${field}' takes true or false.`);
      return v;
    case 'uuid':
      if (typeof v !== 'string' || !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(v)) {
        throw new ValidationError('$filter', 'type', `Invalid $filter: '${field}' takes a GUID.`);
      }
      return v.toLowerCase();
    case 'timestamp': {
      const d = typeof v === 'string' ? new Date(v) : undefined;
      if (!d || Number.isNaN(d.getTime())) throw new ValidationError('$filter', 'type', `Invalid $filter: '${field}' takes an ISO 8601 date-time.`);
      return d;
    }
    default:
      if (typeof v !== 'string') throw new ValidationError('$filter', 'type', `Invalid $filter: '${field}' takes a string in single quotes.`);
      return v;
  }
}

/** Opaque keyset cursor: the sort key and id of the last row of the previous page. */
export function encodeSkipToken(key: string, id: string): string {
  return Buffer.from(JSON.stringify([key, id])).toString('base64url');
}

export function decodeSkipToken(token: string, idIsGuid = true): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string'
      && isCleanText(v[0] || 'x') && (idIsGuid ? isGuid(v[1]) : isCleanText(v[1]))) return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new ValidationError('$skiptoken', 'format', 'Invalid $skiptoken: use the @odata.nextLink the previous page returned.');
}

/** Postgres error codes the repositories translate into domain errors. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint || (e.message ?? '').includes(constraint));
}
export function isForeignKeyViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23503';
}

/**
 * One page of a collection sorted by (display_name, id), with the OData filter applied and a
 * keyset cursor for `@odata.nextLink` (users, groups and applications page the same way).
 */
export async function pageByDisplayName<R extends { display_name: string; id: string }>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Kysely select over a table with display_name and id
  base: SelectQueryBuilder<any, any, R>, query: CollectionQuery, columns: ColumnMap,
): Promise<{ rows: R[]; nextSkipToken: string | undefined }> {
  let q = base;
  if (query.filter) {
    const f = filterSql(query.filter, columns);
    q = q.where(() => f);
  }
  if (query.skipToken) {
    const [name, id] = decodeSkipToken(query.skipToken);
    q = q.where(sql<boolean>`(display_name, id) > (${name}, ${id}::uuid)`);
  }
  const rows = await q.orderBy(sql`display_name`).orderBy(sql`id`).limit(query.top + 1).execute();
  const items = rows.slice(0, query.top);
  const last = items.at(-1);
  return { rows: items, nextSkipToken: rows.length > query.top && last ? encodeSkipToken(last.display_name, last.id) : undefined };
}
