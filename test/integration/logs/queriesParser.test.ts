import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '../../../src/domain/errors.ts';
import { parseFilter, parseFilterWithLambdas, parseLambdaCollectionQuery } from '../../../src/domain/odata.ts';

/** LOG-4's `$filter` additions to the OData parser: Graph's lambda `targetResources/any(t: …)` and path fields. */
const fields = ['activityDisplayName', 'result', 'initiatedBy/user/id'];
const lambdas = { targetResources: ['id', 'displayName', 'userPrincipalName'] };

test('lambda: targetResources/any(t: t/id eq …) parses to an any node over the element properties', () => {
  assert.deepEqual(parseFilterWithLambdas("targetResources/any(t: t/id eq 'x')", fields, lambdas), {
    kind: 'any', collection: 'targetResources', predicate: { kind: 'cmp', op: 'eq', field: 'id', value: 'x' },
  });
  const t = parseFilterWithLambdas("result eq 'failure' and targetResources/any(x:x/displayName eq 'a' or startswith(x/userPrincipalName, 'b')) and initiatedBy/user/id eq null", fields, lambdas);
  assert.equal(t.kind, 'and');
  assert.match(JSON.stringify(t), /"kind":"any".*"field":"displayName".*"kind":"startswith","field":"userPrincipalName"/);
});

test('lambda: unknown collections, properties outside the lambda, wrong variables and nesting are 400s naming the field', () => {
  const cases: [string, RegExp][] = [
    ["groups/any(t: t/id eq 'x')", /'any' is not supported on 'groups'; supported: targetResources\/any/],
    ["targetResources/any(t: t/secret eq 'x')", /'t\/secret' is not supported; supported: t\/id, t\/displayName, t\/userPrincipalName/],
    ["targetResources/any(t: u/id eq 'x')", /'u\/id'/],
    ["targetResources/any(t: result eq 'x')", /'result'/],
    ["targetResources/any(t: targetResources/any(u: u/id eq 'x'))", /not supported/],
    ["targetResources/any(t t/id eq 'x')", /expected colon/],
    ["targetResources/any(t: t/id eq 'x'", /expected rparen|end of expression/],
    ["constructor/any(t: t/id eq 'x')", /'any' is not supported on 'constructor'/],
    ["mail eq 'x'", /'mail' is not supported; supported: activityDisplayName, result, initiatedBy\/user\/id, targetResources\/any\(…\)/],
  ];
  for (const [src, re] of cases) {
    assert.throws(() => parseFilterWithLambdas(src, fields, lambdas), (e: unknown) => e instanceof ValidationError && e.target?.field === '$filter' && re.test(e.message), src);
  }
  // Without lambdas allowed (users, groups, …) the syntax is refused as before.
  assert.throws(() => parseFilter("targetResources/any(t: t/id eq 'x')", ['displayName']), ValidationError);
});

test('lambda: any string either parses or is a ValidationError', () => {
  const piece = fc.constantFrom('targetResources/any(', 't:', 't/id', 'eq', "'a'", ')', 'and', 'or', 'result', '(', ':', 'x/id', ' ');
  fc.assert(fc.property(fc.oneof(fc.array(piece, { maxLength: 14 }).map((p) => p.join(' ')), fc.string({ maxLength: 100 })), (s) => {
    try {
      parseFilterWithLambdas(s, fields, lambdas);
    } catch (e) {
      assert.ok(e instanceof ValidationError, `unexpected ${String(e)} for ${s}`);
    }
  }), { numRuns: 3000 });
});

test('parseLambdaCollectionQuery: $top bounds are the caller\'s, $filter appears once', () => {
  const opts = { filterFields: fields, lambdas, selectFields: ['id'], defaultTop: 50, maxTop: 1000 };
  assert.equal(parseLambdaCollectionQuery({}, opts).top, 50);
  assert.equal(parseLambdaCollectionQuery({ $top: '1000' }, opts).top, 1000);
  assert.throws(() => parseLambdaCollectionQuery({ $top: '1001' }, opts), /1 to 1000/);
  assert.throws(() => parseLambdaCollectionQuery({ $filter: ['a', 'b'] }, opts), (e: unknown) => e instanceof ValidationError && e.target?.field === '$filter');
});
