import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '../../../src/domain/errors.ts';
import { parseCollectionQuery, parseFilter } from '../../../src/domain/odata.ts';

const fields = ['userPrincipalName', 'displayName', 'accountEnabled'];

test('$filter: eq and startswith on the documented fields parse to a tree', () => {
  assert.deepEqual(parseFilter("userPrincipalName eq 'ada@contoso.test'", fields), { kind: 'cmp', op: 'eq', field: 'userPrincipalName', value: 'ada@contoso.test' });
  assert.deepEqual(parseFilter("startswith(displayName,'O''Brien')", fields), { kind: 'startswith', field: 'displayName', value: "O'Brien" });
  const t = parseFilter("(displayName eq 'a' or displayName eq 'b') and accountEnabled eq true", fields);
  assert.equal(t.kind, 'and');
});

test('$filter: unknown fields, operators and broken syntax are 400s naming $filter', () => {
  for (const bad of ["mail eq 'x'", "displayName has 'x'", "displayName eq 'x", "displayName eq", '((((', "displayName eq 'x' garbage", 'startswith(displayName, 3)']) {
    assert.throws(() => parseFilter(bad, fields), (e: unknown) => e instanceof ValidationError && e.target?.field === '$filter', bad);
  }
});

test('$filter: any string either parses or is a ValidationError, never another exception', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
    try {
      parseFilter(s, fields);
    } catch (e) {
      assert.ok(e instanceof ValidationError, `unexpected ${String(e)}`);
    }
  }), { numRuns: 2000 });
});

test('$top is 1..999, $select names known properties only', () => {
  const opts = { filterFields: fields, selectFields: ['id', 'displayName'] };
  assert.equal(parseCollectionQuery({ $top: '5' }, opts).top, 5);
  for (const top of ['0', '1000', '-1', 'x', '1.5']) assert.throws(() => parseCollectionQuery({ $top: top }, opts), ValidationError);
  assert.deepEqual(parseCollectionQuery({ $select: 'displayName' }, opts).select, ['displayName']);
  assert.throws(() => parseCollectionQuery({ $select: 'passwordProfile' }, opts), /passwordProfile/);
  assert.throws(() => parseCollectionQuery({ $top: ['1', '2'] }, opts), ValidationError);
  // options Gatehouse doesn't implement are refused, not silently ignored
  for (const o of ['$orderby', '$count', '$search', '$expand']) {
    assert.throws(() => parseCollectionQuery({ [o]: 'x' }, opts), (e: unknown) => e instanceof ValidationError && e.target?.field === o);
  }
});
