import { ValidationError } from './errors.ts';
import { isCleanText } from './validation.ts';

/**
 * The OData query options the admin API supports: `$filter` (eq, ne, ge, le, gt, lt,
 * startswith(), and, or, parentheses), `$top`, `$select`, `$skiptoken`. Parsing is pure; the
 * store turns the tree into SQL against a column map, so only whitelisted fields reach SQL.
 */
export type Literal = string | number | boolean | null;
export type Comparison = { kind: 'cmp'; op: 'eq' | 'ne' | 'ge' | 'le' | 'gt' | 'lt'; field: string; value: Literal };
export type StartsWith = { kind: 'startswith'; field: string; value: string };
export type FilterNode = Comparison | StartsWith | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode };

type Token = { t: 'ident' | 'string' | 'number' | 'lparen' | 'rparen' | 'comma'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '(') { out.push({ t: 'lparen', v: c }); i++; continue; }
    if (c === ')') { out.push({ t: 'rparen', v: c }); i++; continue; }
    if (c === ',') { out.push({ t: 'comma', v: c }); i++; continue; }
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
  const field = (name: string) => {
    if (!fields.includes(name)) {
      throw new ValidationError('$filter', 'unsupportedProperty', `Invalid $filter: filtering on '${name}' is not supported; supported: ${fields.join(', ')}.`);
    }
    return name;
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
  const primary = (): FilterNode => {
    const tok = next();
    if (tok.t === 'lparen') {
      if (++depth > 20) throw filterError('nested too deeply');
      const inner = orExpr();
      expect('rparen');
      depth--;
      return inner;
    }
    if (tok.t !== 'ident') throw filterError(`unexpected '${tok.v}'`);
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
    if (op.t !== 'ident' || !OPS.has(op.v)) throw filterError(`unsupported operator '${op.v}' (supported: eq, ne, ge, le, gt, lt, startswith)`);
    return { kind: 'cmp', op: op.v as Comparison['op'], field: f, value: literal() };
  };
  const andExpr = (): FilterNode => {
    let left = primary();
    while (peek()?.t === 'ident' && peek()!.v === 'and') { pos++; left = { kind: 'and', left, right: primary() }; }
    return left;
  };
  const orExpr = (): FilterNode => {
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

/** Keep only the selected properties (plus `id`, which Graph always returns). */
export function project<T extends Record<string, unknown>>(obj: T, select: string[] | undefined): Partial<T> {
  if (!select) return obj;
  const out: Record<string, unknown> = {};
  for (const k of ['id', ...select]) if (k in obj) out[k] = obj[k];
  return out as Partial<T>;
}
