import { ValidationError } from './errors.ts';
import { isCleanText } from './validation.ts';

/**
 * The OData query options the admin API supports: `$filter` (eq, ne, ge, le, gt, lt,
 * startswith(), and, or, parentheses; on the audit logs also the lambda `coll/any(t: t/p eq …)`),
 * `$top`, `$select`, `$skiptoken`. Parsing is pure; the store turns the tree into SQL against a
 * column map, so only whitelisted fields reach SQL.
 */
export type Literal = string | number | boolean | null;
export type Comparison = { kind: 'cmp'; op: 'eq' | 'ne' | 'ge' | 'le' | 'gt' | 'lt'; field: string; value: Literal };
export type StartsWith = { kind: 'startswith'; field: string; value: string };
export type FilterNode = Comparison | StartsWith | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode };

/**
 * `targetResources/any(t: t/id eq '…')`: true when some element of the collection satisfies the
 * predicate; the predicate's fields are the element's properties without the variable (`id`).
 */
export type AnyNode = { kind: 'any'; collection: string; predicate: FilterNode };
/** A filter tree that may hold lambdas (only where the caller allows them, see `parseFilterWithLambdas`). */
export type LambdaFilterNode = Comparison | StartsWith | AnyNode | { kind: 'and' | 'or'; left: LambdaFilterNode; right: LambdaFilterNode };

type Token = { t: 'ident' | 'string' | 'number' | 'lparen' | 'rparen' | 'comma' | 'colon'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '(') { out.push({ t: 'lparen', v: c }); i++; continue; }
    if (c === ')') { out.push({ t: 'rparen', v: c }); i++; continue; }
    if (c === ',') { out.push({ t: 'comma', v: c }); i++; continue; }
    if (c === ':') { out.push({ t: 'colon', v: c }); i++; continue; }
    if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw filterError('a string literal is not closed');
        if (src[i] === "'") {
          if (src[i + 1] === "'") { s += "'"; i += 2; continue; }
          i++;
          break;
        }
        s += src[i];
        i++;
      }
      if (!isCleanText(s)) throw filterError('a string literal contains control characters or malformed Unicode');
      out.push({ t: 'string', v: s });
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_./]*|^-?[0-9][0-9A-Za-z:.+-]*/.exec(src.slice(i));
    if (!m) throw filterError(`unexpected character '${c}' at position ${i}`);
    out.push({ t: /^-?[0-9]/.test(m[0]) ? 'number' : 'ident', v: m[0] });
    i += m[0].length;
  }
  return out;
}

function filterError(why: string): ValidationError {
  return new ValidationError('$filter', 'syntax', `Invalid $filter: ${why}.`);
}

const OPS = new Set(['eq', 'ne', 'ge', 'le', 'gt', 'lt']);

export function parseFilter(src: string, fields: readonly string[]): FilterNode {
  // Without lambdas the tree holds no `any` node.
  return parseTree(src, fields, {}) as FilterNode;
}

/**
 * `parseFilter` that also accepts `collection/any(v: <predicate over v/property>)` for the
 * collections in `lambdas` (each with the element properties it may filter on).
 */
export function parseFilterWithLambdas(src: string, fields: readonly string[], lambdas: Readonly<Record<string, readonly string[]>>): LambdaFilterNode {
  return parseTree(src, fields, lambdas);
}

function parseTree(src: string, topFields: readonly string[], lambdas: Readonly<Record<string, readonly string[]>>): LambdaFilterNode {
  if (src.length > 2000) throw filterError('longer than 2000 characters');
  const toks = tokenize(src);
  let pos = 0;
  let depth = 0;
  const peek = () => toks[pos];
  const next = () => {
    const t = toks[pos++];
    if (!t) throw filterError('unexpected end of expression');
    return t;
  };
  const expect = (t: Token['t']) => {
    const tok = next();
    if (tok.t !== t) throw filterError(`expected ${t} but found '${tok.v}'`);
    return tok;
  };
  // Inside a lambda: its variable and the element's properties; outside: the resource's fields.
  let scope: { variable: string; collection: string; fields: readonly string[] } | undefined;
  const lambdaNames = Object.keys(lambdas);
  const field = (name: string) => {
    if (scope) {
      const prefix = `${scope.variable}/`;
      const prop = name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
      if (prop === undefined || !scope.fields.includes(prop)) {
        throw new ValidationError('$filter', 'unsupportedProperty', `Invalid $filter: inside ${scope.collection}/any(${scope.variable}: …) filtering on '${name.slice(0, 100)}' is not supported; supported: ${scope.fields.map((f) => `${scope!.variable}/${f}`).join(', ')}.`);
      }
      return prop;
    }
    if (!topFields.includes(name)) {
      const all = [...topFields, ...lambdaNames.map((l) => `${l}/any(…)`)];
      throw new ValidationError('$filter', 'unsupportedProperty', `Invalid $filter: filtering on '${name.slice(0, 100)}' is not supported; supported: ${all.join(', ')}.`);
    }
    return name;
  };
  const lambda = (collection: string): LambdaFilterNode => {
    const allowed = lambdas[collection];
    if (!allowed || !Object.hasOwn(lambdas, collection)) {
      throw new ValidationError('$filter', 'unsupportedProperty', `Invalid $filter: 'any' is not supported on '${collection.slice(0, 100)}'${lambdaNames.length ? `; supported: ${lambdaNames.map((l) => `${l}/any(…)`).join(', ')}` : ''}.`);
    }
    if (scope) throw filterError('a lambda inside a lambda is not supported');
    expect('lparen');
    const variable = expect('ident').v;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw filterError(`'${variable.slice(0, 50)}' is not a lambda variable name`);
    expect('colon');
    scope = { variable, collection, fields: allowed };
    if (++depth > 20) throw filterError('nested too deeply');
    const predicate = orExpr() as FilterNode;
    depth--;
    scope = undefined;
    expect('rparen');
    return { kind: 'any', collection, predicate };
  };
  const literal = (): Literal => {
    const tok = next();
    if (tok.t === 'string') return tok.v;
    if (tok.t === 'number') {
      // ISO date-times and GUIDs arrive unquoted in OData; keep them as strings
      if (/^-?[0-9]+(\.[0-9]+)?$/.test(tok.v)) return Number(tok.v);
      return tok.v;
    }
    if (tok.t === 'ident' && (tok.v === 'true' || tok.v === 'false')) return tok.v === 'true';
    if (tok.t === 'ident' && tok.v === 'null') return null;
    throw filterError(`expected a literal but found '${tok.v}'`);
  };
  const primary = (): LambdaFilterNode => {
    const tok = next();
    if (tok.t === 'lparen') {
      if (++depth > 20) throw filterError('nested too deeply');
      const inner = orExpr();
      expect('rparen');
      depth--;
      return inner;
    }
    if (tok.t !== 'ident') throw filterError(`unexpected '${tok.v}'`);
    if (tok.v.endsWith('/any') && peek()?.t === 'lparen') return lambda(tok.v.slice(0, -'/any'.length));
    if (tok.v.toLowerCase() === 'startswith' && peek()?.t === 'lparen') {
      expect('lparen');
      const f = field(expect('ident').v);
      expect('comma');
      const v = literal();
      expect('rparen');
      if (typeof v !== 'string') throw filterError('startswith takes a string');
      return { kind: 'startswith', field: f, value: v };
    }
    const f = field(tok.v);
    const op = next();
    if (op.t !== 'ident' || !OPS.has(op.v)) throw filterError(`unsupported operator '${op.v.slice(0, 50)}' after '${tok.v.slice(0, 100)}' (supported: eq, ne, ge, le, gt, lt, startswith)`);
    return { kind: 'cmp', op: op.v as Comparison['op'], field: f, value: literal() };
  };
  const andExpr = (): LambdaFilterNode => {
    let left = primary();
    while (peek()?.t === 'ident' && peek()!.v === 'and') { pos++; left = { kind: 'and', left, right: primary() }; }
    return left;
  };
  const orExpr = (): LambdaFilterNode => {
    let left = andExpr();
    while (peek()?.t === 'ident' && peek()!.v === 'or') { pos++; left = { kind: 'or', left, right: andExpr() }; }
    return left;
  };
  const tree = orExpr();
  if (pos !== toks.length) throw filterError(`unexpected '${toks[pos]!.v}'`);
  return tree;
}

export type CollectionQuery = {
  filter: FilterNode | undefined;
  top: number;
  select: string[] | undefined;
  skipToken: string | undefined;
};

/** Parse $filter/$top/$select/$skiptoken from a query string object. */
export function parseCollectionQuery(
  q: Record<string, unknown>,
  opts: { filterFields: readonly string[]; selectFields: readonly string[]; defaultTop?: number; maxTop?: number },
): CollectionQuery {
  const str = (k: string): string | undefined => {
    const v = q[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new ValidationError(k, 'single', `Query option ${k} may appear once.`);
    return v;
  };
  const unsupported = Object.keys(q).find((k) => k.startsWith('$') && !['$filter', '$top', '$select', '$skiptoken'].includes(k));
  if (unsupported) {
    throw new ValidationError(unsupported.slice(0, 50), 'unsupportedQueryOption', `Query option '${unsupported.slice(0, 50)}' is not supported here; supported: $filter, $top, $select, $skiptoken.`);
  }
  const maxTop = opts.maxTop ?? 999;
  let top = opts.defaultTop ?? 100;
  const topRaw = str('$top');
  if (topRaw !== undefined) {
    if (!/^[0-9]{1,4}$/.test(topRaw) || Number(topRaw) < 1 || Number(topRaw) > maxTop) {
      throw new ValidationError('$top', 'range', `Invalid $top '${topRaw.slice(0, 50)}': must be an integer from 1 to ${maxTop}.`);
    }
    top = Number(topRaw);
  }
  const filterRaw = str('$filter');
  const selectRaw = str('$select');
  let select: string[] | undefined;
  if (selectRaw !== undefined) {
    select = selectRaw.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = select.find((s) => !opts.selectFields.includes(s));
    if (unknown !== undefined || select.length === 0) {
      throw new ValidationError('$select', 'unsupportedProperty', `Invalid $select: '${(unknown ?? '').slice(0, 100)}' is not a property of this resource; supported: ${opts.selectFields.join(', ')}.`);
    }
  }
  const skipToken = str('$skiptoken');
  if (skipToken !== undefined && !/^[A-Za-z0-9_-]{1,2000}$/.test(skipToken)) {
    throw new ValidationError('$skiptoken', 'format', 'Invalid $skiptoken: use the @odata.nextLink the previous page returned.');
  }
  return { filter: filterRaw === undefined ? undefined : parseFilter(filterRaw, opts.filterFields), top, select, skipToken };
}

export type LambdaCollectionQuery = Omit<CollectionQuery, 'filter'> & { filter: LambdaFilterNode | undefined };

/** `parseCollectionQuery` whose `$filter` may use the lambdas named in `opts.lambdas` (the audit logs). */
export function parseLambdaCollectionQuery(
  q: Record<string, unknown>,
  opts: { filterFields: readonly string[]; lambdas: Readonly<Record<string, readonly string[]>>; selectFields: readonly string[]; defaultTop?: number; maxTop?: number },
): LambdaCollectionQuery {
  const { $filter: filterRaw, ...rest } = q;
  if (filterRaw !== undefined && typeof filterRaw !== 'string') throw new ValidationError('$filter', 'single', 'Query option $filter may appear once.');
  const base = parseCollectionQuery(rest, { ...opts, filterFields: [] });
  return { ...base, filter: filterRaw === undefined ? undefined : parseFilterWithLambdas(filterRaw, opts.filterFields, opts.lambdas) };
}

/** Keep only the selected properties (plus `id`, which Graph always returns). */
export function project<T extends Record<string, unknown>>(obj: T, select: string[] | undefined): Partial<T> {
  if (!select) return obj;
  const out: Record<string, unknown> = {};
  for (const k of ['id', ...select]) if (k in obj) out[k] = obj[k];
  return out as Partial<T>;
}
