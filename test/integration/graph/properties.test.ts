import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { ROLE_TEMPLATES } from '../../../src/domain/directory.ts';
import { databaseKind, startHarness, type Harness } from '../../support/harness.ts';

/**
 * Property-based hostility tests for every create/update route of the Graph admin API (DIR-2..DIR-6):
 * malformed and hostile bodies, query strings and path ids. For every generated input:
 *   P1  the status is 2xx (input happened to be valid) or 4xx, never 5xx;
 *   P2  every 4xx carries Graph's error body, its request id equal to the `request-id` header;
 *   P3  a rejected request writes nothing (row counts, and the resource read back, unchanged);
 *   P4  a 400 for a body that parsed as JSON names the offending field in `error.target`.
 *
 * KNOWN_BUGS lists the bug classes this file found (all fixed); inputs of those classes are
 * counted and checked like every other input, and each class also has an exact reproduction.
 */

const G = '/graph/v1.0';
/** PROPERTY_RUNS=1000 for a soak run; the default keeps the file well under a minute. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

// ---------------------------------------------------------------------------------------------
// Bug classes this file found (fixed). Each classifier says whether an input falls in one.
// ---------------------------------------------------------------------------------------------
const KNOWN_BUGS = {
  /** memberRef once accepted any 36 chars of [0-9a-f-] as the id and PostgreSQL rejected the uuid. */
  refNotGuid: 'POST /groups/{id}/members/$ref with @odata.id ending in 36 hex/dash chars that are not a GUID → 400 naming @odata.id',
  /** redirect URIs were only checked with new URL(); NUL / lone surrogates reached jsonb. */
  redirectJsonb: 'redirectUris entry containing U+0000 or a lone surrogate → 400 naming the entry',
  /** endDateTime in year 9999 with a negative offset is year 10000 in UTC, beyond timestamptz. */
  endDateOverflow: 'addPassword endDateTime 9999-12-31T23:59:59-00:01 → 400 naming passwordCredential.endDateTime',
  /** an unknown key '' once became target '', which graphErrorBody drops. */
  emptyKey: 'a body with an empty-string property name, e.g. PATCH /groups/{id} {"":1} → 400 naming a field',
  /** Fastify answered bad percent-encoding itself, without the Graph body or request id. */
  badUrl: 'path with malformed percent-encoding (e.g. /users/%E0%A4%A) → 400 with the Graph body and request-id',
  /** Fastify answered a path parameter over maxParamLength itself. */
  longParam: 'path id longer than 200 chars → 4xx with the Graph body and request-id',
  /** NUL in a $filter literal, or a $skiptoken whose id isn't a GUID, once reached SQL. */
  queryClass22: '$filter literal with U+0000, or $skiptoken decoding to a non-GUID id → 400 naming the query option',
} as const;
type KnownBug = keyof typeof KNOWN_BUGS;
const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Whether a path segment's percent-encoding decodes (Fastify refuses it otherwise). */
const isWellFormedUri = (seg: string): boolean => {
  try {
    decodeURIComponent(seg);
    return true;
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------------------------------------
// Arbitraries: hostile values
// ---------------------------------------------------------------------------------------------
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
const controlChar = fc.constantFrom('\u0000', '\u0001', '\u0008', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f');
const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b');
const nastyString = fc.constantFrom(
  "x' OR 1=1 --", "'; DROP TABLE users; --", "Robert'); DROP TABLE users;--", '1; SELECT pg_sleep(5)', '${7*7}', '{{7*7}}',
  '<script>alert(1)</script>', '../../../../etc/passwd', '%00', '%s%s%n', '\\', '"', "'", '\u202e', '\ufeff', '\u2028',
  '😀', 'İ', 'ß', '𝕏', '\uffff', '\ufffe', 'null', 'true', '0', '-1', '1e309', 'NaN', '[]', '{}', '__proto__', 'constructor',
  'prototype', '', ' ', '   ', '@', 'a@', '@b', 'a@b', 'a@@b.c', 'a..b@c.d', '.a@b.c', 'a.@b.c', 'A@B.C',
);
const spliced = fc.tuple(fc.string({ maxLength: 12 }), fc.oneof(controlChar, loneSurrogate, nastyString), fc.string({ maxLength: 12 }))
  .map(([a, b, c]) => a + b + c);
const hugeString = fc.tuple(fc.constantFrom(65, 257, 1025, 2049, 20_000), fc.constantFrom('x', 'é', '😀', 'a b', '\u0000'))
  .map(([n, c]) => c.repeat(n));
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: spliced },
  { weight: 2, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.string({ unit: anyCodeUnit, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 1, arbitrary: hugeString },
);
/** Short enough that a URL carrying a few of them stays under Node's 16 KB header limit. */
const shortHostile = hostileString.map((s) => s.slice(0, 300).toWellFormed());
const hostileScalar = fc.oneof(
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.integer().map(String), fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, 1e308, 0.1),
);
const deepNest = fc.tuple(fc.integer({ min: 50, max: 3000 }), fc.boolean())
  .map(([n, arr]) => JSON.parse(arr ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) as unknown);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileScalar },
  { weight: 2, arbitrary: fc.array(fc.oneof(hostileString, hostileScalar), { maxLength: 4 }) },
  { weight: 2, arbitrary: fc.object({ maxDepth: 2, maxKeys: 4 }) },
  { weight: 1, arbitrary: deepNest },
);
const unknownKey = fc.oneof(
  fc.constantFrom('constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'id', 'tenantId', 'tenant_id', 'createdDateTime',
    'isAdmin', 'gatehouseKind', 'gatehouseGraphPermissions', 'passwordCredentials', '@odata.id', '@odata.context', 'DisplayName', 'displayname',
    '', ' ', 'a.b', '$ref', '\u0000', '\ud800', 'x'.repeat(300)),
  fc.string({ unit: anyCodeUnit, minLength: 1, maxLength: 10 }),
);

const guid = fc.uuid();
const upperGuid = guid.map((g) => g.toUpperCase());
const nearGuid = fc.oneof(
  guid.map((g) => g.slice(0, -1) + 'g'), guid.map((g) => `{${g}}`), guid.map((g) => ` ${g}`), guid.map((g) => g.replace(/-/g, '')),
  guid.map((g) => g.slice(1)), guid.map((g) => `${g}0`), fc.constant('-'.repeat(36)), fc.constant('0'.repeat(36)),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF-'), minLength: 36, maxLength: 36 }),
);

// ---------------------------------------------------------------------------------------------
// Arbitraries: request bodies
// ---------------------------------------------------------------------------------------------
type BodyInput = {
  /** undefined: send no body at all. */
  raw: string | undefined;
  contentType: string | undefined;
  /** The body is JSON (by content type and syntax) the server will hand to validation. */
  parses: boolean;
  /** Parsed value, when parses. */
  value?: unknown;
};

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8'];

function jsonBody(v: unknown, contentType = 'application/json'): BodyInput {
  const raw = JSON.stringify(v);
  return { raw, contentType, parses: raw !== undefined && parsesAsJson(raw), value: v };
}

/** Object bodies derived from a valid-ish base: hostile field values, missing fields, unknown keys. */
function mutated(base: fc.Arbitrary<Record<string, unknown>>, fields: readonly string[], fieldValue: fc.Arbitrary<unknown> = hostileValue) {
  const field = fc.constantFrom(...fields);
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(base, field, fieldValue).map(([b, k, v]) => ({ ...b, [k]: v })) },
    { weight: 2, arbitrary: fc.tuple(base, fc.dictionary(field, fieldValue, { minKeys: 1, maxKeys: 3 })).map(([b, d]) => ({ ...b, ...d })) },
    { weight: 2, arbitrary: fc.tuple(base, field).map(([b, k]) => { const o = { ...b }; delete o[k]; return o; }) },
    { weight: 2, arbitrary: fc.tuple(base, unknownKey, hostileValue).map(([b, k, v]) => ({ ...b, [k]: v })) },
    { weight: 1, arbitrary: fc.tuple(base, field).map(([b, k]) => ({ ...b, [k]: null })) },
    { weight: 1, arbitrary: fc.tuple(base, field).map(([b, k]) => ({ ...b, [k]: { [k]: b[k] } })) },
    { weight: 1, arbitrary: fc.tuple(base, field).map(([b, k]) => ({ ...b, [k]: [b[k]] })) },
    { weight: 1, arbitrary: fc.tuple(base, field).map(([b, k]) => ({ ...b, [k]: typeof b[k] === 'string' ? b[k] : JSON.stringify(b[k]) ?? 'null' })) },
  );
}

const rawJunk = fc.oneof(
  fc.constantFrom('{', '}', '{"a":1,}', "{'a':1}", '{"a":}', '{"a" 1}', 'undefined', 'NaN', '{"a":NaN}', '{"a":Infinity}', '\ufeff{}',
    'a=b&c=d', '<user/>', '{"a":"\\x41"}', '{"a":"\\ud800"', '/* */{}', '{"a":1}{"b":2}', '[1,]', '"unterminated', '\u0000', ' ', '\n'),
  fc.string({ unit: anyCodeUnit, maxLength: 40 }),
  fc.json().map((j) => j.slice(0, Math.max(1, Math.floor(j.length / 2)))),
);
const nonObjectJson = fc.oneof(fc.json({ maxDepth: 2 }).filter((j) => !j.startsWith('{')),
  fc.constantFrom('null', 'true', '0', '""', '[]', '[{}]', '"{}"'));

/** JSON text with `__proto__` / `constructor.prototype` keys (prototype pollution attempts). */
function protoPolluted(objects: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<BodyInput> {
  return fc.tuple(objects, fc.constantFrom(
    '"__proto__":{"isAdmin":true}', '"__proto__":null', '"constructor":{"prototype":{"isAdmin":true}}',
    '"a":{"__proto__":{"polluted":1}}', '"__proto__":{"__proto__":{}}',
  )).map(([o, key]) => {
    const inner = JSON.stringify(o).slice(1, -1);
    const raw = `{${key}${inner ? `,${inner}` : ''}}`;
    return { raw, contentType: 'application/json', parses: false };
  });
}

/** Wraps object bodies with the hostile envelopes every route gets. */
function bodies(objects: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<BodyInput> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(objects, fc.constantFrom(...JSON_TYPES)).map(([o, ct]) => jsonBody(o, ct)) },
    { weight: 2, arbitrary: protoPolluted(objects) },
    { weight: 2, arbitrary: nonObjectJson.map((raw): BodyInput => ({ raw, contentType: 'application/json', parses: true, value: JSON.parse(raw) })) },
    { weight: 2, arbitrary: rawJunk.map((raw): BodyInput => ({ raw, contentType: 'application/json', parses: parsesAsJson(raw), value: tryParse(raw) })) },
    {
      weight: 2,
      arbitrary: fc.tuple(objects, fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x', 'application/merge-patch+json', 'application/jsonx', '', 'application/octet-stream'))
        .map(([o, ct]): BodyInput => ({ raw: JSON.stringify(o), contentType: ct, parses: false })),
    },
    { weight: 1, arbitrary: fc.constant<BodyInput>({ raw: undefined, contentType: undefined, parses: false }) },
    { weight: 1, arbitrary: fc.constant<BodyInput>({ raw: '', contentType: 'application/json', parses: false }) },
  );
}

function tryParse(raw: string): unknown {
  try { return JSON.parse(raw) as unknown; } catch { return undefined; }
}
function parsesAsJson(raw: string): boolean {
  if (raw.trim() === '' || /__proto__|"prototype"/.test(raw)) return false;
  try { JSON.parse(raw); return true; } catch { return false; }
}

// Valid-ish field values (so mutations of one field leave the rest plausible).
const upn = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9.]{0,10}[a-z0-9]$/).filter((s) => !s.includes('..')), fc.constantFrom('contoso.test', 'fabrikam.example'))
  .map(([l, d]) => `${l}-${randomUUID().slice(0, 8)}@${d}`);
const displayName = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => /^[\x20-\x7e]+$/.test(s));
const redirectUri = fc.oneof(
  fc.constantFrom('https://app.contoso.test/callback', 'http://localhost:3000/cb', 'com.contoso.app:/oauth2redirect', 'https://a.test/x?y=1'),
  hostileString,
  fc.tuple(fc.constantFrom('https://app.test/', 'myapp:', 'http://[::1]/'), hostileString).map(([a, b]) => a + b),
  fc.constantFrom('https://a.test/#frag', 'javascript:alert(1)', '//no-scheme', 'https://', 'not a url', `https://a.test/${'x'.repeat(3000)}`),
);
const redirectBlock = fc.oneof(
  { weight: 4, arbitrary: fc.array(redirectUri, { maxLength: 3 }).map((redirectUris) => ({ redirectUris })) },
  { weight: 1, arbitrary: hostileValue },
  { weight: 1, arbitrary: fc.record({ redirectUris: hostileValue }) },
  { weight: 1, arbitrary: fc.tuple(unknownKey, hostileValue).map(([k, v]) => ({ redirectUris: [], [k]: v })) },
  { weight: 1, arbitrary: fc.constant({ redirectUris: Array.from({ length: 257 }, (_, i) => `https://a.test/${i}`) }) },
);
const isoDate = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
const endDateTime = fc.oneof(
  isoDate,
  hostileString,
  fc.constantFrom('2099-02-30T00:00:00Z', '2099-13-01T00:00:00Z', '2099-01-01T24:00:00Z', '2099-01-01T00:00:00+99:99', '2099-01-01',
    '2099-01-01T00:00:00', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59-00:01', '9999-12-31T23:59:59-14:00', '0000-01-01T00:00:00Z',
    '+275760-09-13T00:00:00Z', '1970-01-01T00:00:00Z', '2099-01-01T00:00:00.123456789Z'),
);
const odataIdOf = (id: fc.Arbitrary<string>) => fc.tuple(
  fc.constantFrom('https://graph.microsoft.com/v1.0/directoryObjects/', 'https://x/users/', 'http://evil.test/groups/', '/directoryObjects/', 'directoryObjects/', 'https://x/applications/'),
  id,
).map(([p, i]) => p + i);

// ---------------------------------------------------------------------------------------------
// Harness helpers
// ---------------------------------------------------------------------------------------------
const TABLES = ['tenants', 'users', 'groups', 'group_members', 'role_assignments', 'applications', 'application_secrets', 'application_permissions', 'oidc_artefacts', 'signing_keys'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

type Res = { status: number; body: any; headers: Headers };

describe(`Graph admin API under hostile input (DIR-2..DIR-6, ${databaseKind})`, () => {
  let h: Harness;
  const ctx = {
    userId: '', groupId: '', memberUserId: '', appObjectId: '', secretsAppObjectId: '', keyIds: [] as string[], adminId: '',
  };
  const hits = new Map<KnownBug, number>();
  const hit = (b: KnownBug) => hits.set(b, (hits.get(b) ?? 0) + 1);

  before(async () => {
    h = await startHarness();
    const ok = async (r: Promise<Res>) => { const x = await r; assert.ok(x.status < 300, JSON.stringify(x.body)); return x.body; };
    ctx.userId = (await ok(h.call('POST', `${G}/users`, { body: { displayName: 'Target User', userPrincipalName: 'target@contoso.test' } }))).id;
    ctx.memberUserId = (await ok(h.call('POST', `${G}/users`, { body: { displayName: 'Member User', userPrincipalName: 'member@contoso.test' } }))).id;
    ctx.groupId = (await ok(h.call('POST', `${G}/groups`, { body: { displayName: 'Target Group' } }))).id;
    ctx.appObjectId = (await ok(h.call('POST', `${G}/applications`, { body: { displayName: 'Target App', web: { redirectUris: ['https://t.test/cb'] } } }))).id;
    ctx.secretsAppObjectId = (await ok(h.call('POST', `${G}/applications`, { body: { displayName: 'Secrets App' } }))).id;
    for (let i = 0; i < 3; i++) ctx.keyIds.push((await ok(h.call('POST', `${G}/applications/${ctx.secretsAppObjectId}/addPassword`, { body: {} }))).keyId);
    ctx.adminId = h.tenant.admin.id;
    await h.token();
  });
  after(async () => {
    if (hits.size) console.log(`# known src bugs hit by generated inputs: ${[...hits].map(([b, n]) => `${b}×${n}`).join(', ')}`);
    await h?.close();
  });

  async function counts(): Promise<Counts> {
    const cols = TABLES.map((t) => `(SELECT count(*) FROM ${t})::int AS ${t}`).join(', ');
    const r = await sql.raw<Counts>(`SELECT ${cols}`).execute(h.database.db);
    const row = r.rows[0]!;
    return Object.fromEntries(TABLES.map((t) => [t, Number(row[t])])) as Counts;
  }

  async function send(method: string, path: string, b: BodyInput): Promise<Res> {
    const headers: Record<string, string> = {};
    if (b.contentType !== undefined) headers['content-type'] = b.contentType;
    return h.call(method, path, b.raw === undefined ? { headers } : { rawBody: b.raw, headers });
  }

  const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
  /** P2: Graph's error body, request id matching the header. */
  function assertGraphError(r: Res, what: string): void {
    const e = r.body?.error;
    assert.ok(e && typeof e === 'object', `${what}: ${r.status} without a Graph error body: ${String(JSON.stringify(r.body)).slice(0, 300)}`);
    assert.ok(typeof e.code === 'string' && e.code.length > 0, `${what}: error.code missing`);
    assert.ok(typeof e.message === 'string' && e.message.length > 0, `${what}: error.message missing`);
    const rid = r.headers.get('request-id');
    assert.ok(rid, `${what}: no request-id header`);
    assert.equal(e.innerError?.['request-id'], rid, `${what}: innerError.request-id differs from the request-id header`);
    assert.match(String(e.innerError?.date), ISO, `${what}: innerError.date is not an ISO date`);
    assert.ok(!Number.isNaN(Date.parse(e.innerError.date)), `${what}: innerError.date does not parse`);
    if (e.target !== undefined) assert.ok(typeof e.target === 'string' && e.target.length > 0, `${what}: empty error.target`);
  }

  /** P1 + P2 (+ P4 when `needTarget`); inputs of the fixed bug classes are counted, never waived. */
  function assertRejectionShape(r: Res, what: string, opts: { needTarget: boolean; bug?: KnownBug | undefined }): void {
    assert.ok(r.status < 500, `${what}: ${r.status} ${String(JSON.stringify(r.body)).slice(0, 500)}`);
    if (opts.bug) hit(opts.bug);
    if (r.status < 400) return;
    assertGraphError(r, what);
    if (r.status === 400 && opts.needTarget) {
      assert.ok(typeof r.body.error.target === 'string' && r.body.error.target.length > 0,
        `${what}: body-validation 400 without error.target: ${JSON.stringify(r.body.error.message)}`);
      assert.equal(r.body.error.details?.[0]?.target, r.body.error.target, `${what}: details[0].target differs from target`);
    }
  }

  function delta(a: Counts, b: Counts): Partial<Counts> {
    const d: Partial<Counts> = {};
    for (const t of TABLES) if (a[t] !== b[t]) d[t] = b[t] - a[t];
    return d;
  }

  // -------------------------------------------------------------------------------------------
  // Route table: every create/update route
  // -------------------------------------------------------------------------------------------
  type Route = {
    name: string;
    rule: string;
    method: 'POST' | 'PATCH';
    path: () => string;
    bodies: () => fc.Arbitrary<BodyInput>;
    /** The resource a rejected request must leave as it was (read back through the API). */
    readBack?: () => Promise<unknown>;
    /** Row-count change a 2xx may make. */
    successDelta: Partial<Counts>;
    /** Which known bug (if any) this body hits. */
    bug?: (b: BodyInput) => KnownBug | undefined;
    /** The body is ignored by the route: P4 doesn't apply. */
    ignoresBody?: boolean;
    afterSuccess?: (r: Res) => Promise<void>;
  };

  const get = async (path: string) => {
    const r = await h.call('GET', path);
    assert.equal(r.status, 200, `GET ${path}: ${JSON.stringify(r.body)}`);
    delete r.body['@odata.context'];
    return r.body as unknown;
  };

  const redirectBug = (b: BodyInput): KnownBug | undefined => {
    const v = b.value as Record<string, { redirectUris?: unknown } | undefined> | undefined;
    if (!b.parses || !v || typeof v !== 'object') return undefined;
    for (const k of ['web', 'spa', 'publicClient']) {
      const uris = v[k]?.redirectUris;
      if (Array.isArray(uris) && uris.some((u) => typeof u === 'string' && (u.includes('\u0000') || !u.isWellFormed()))) return 'redirectJsonb';
    }
    return undefined;
  };

  const routes = (): Route[] => [
    {
      name: 'POST /users', rule: 'DIR-2', method: 'POST', path: () => `${G}/users`, successDelta: { users: 1 },
      bodies: () => bodies(mutated(
        fc.record({ displayName, userPrincipalName: upn, accountEnabled: fc.boolean() }, { requiredKeys: ['displayName', 'userPrincipalName'] }),
        ['displayName', 'userPrincipalName', 'accountEnabled', 'mail', 'mailNickname', 'userType', 'passwordProfile', '@odata.type'],
      )),
    },
    {
      name: 'PATCH /users/{id}', rule: 'DIR-2', method: 'PATCH', path: () => `${G}/users/${ctx.userId}`, successDelta: {},
      readBack: () => get(`${G}/users/${ctx.userId}`),
      bodies: () => bodies(mutated(
        fc.record({ displayName, accountEnabled: fc.boolean(), mail: fc.constantFrom(null, 'a@b.test') }, { requiredKeys: [] }),
        ['displayName', 'userPrincipalName', 'accountEnabled', 'mail', 'mailNickname', 'userType', '@odata.type', 'id'],
      )),
    },
    {
      name: 'POST /groups', rule: 'DIR-3', method: 'POST', path: () => `${G}/groups`, successDelta: { groups: 1 },
      bodies: () => bodies(mutated(
        fc.record({ displayName, description: fc.option(displayName), mailEnabled: fc.constant(false), securityEnabled: fc.constant(true) }, { requiredKeys: ['displayName'] }),
        ['displayName', 'description', 'mailNickname', 'mailEnabled', 'securityEnabled', 'groupTypes', '@odata.type', 'members@odata.bind'],
      )),
    },
    {
      name: 'PATCH /groups/{id}', rule: 'DIR-3', method: 'PATCH', path: () => `${G}/groups/${ctx.groupId}`, successDelta: {},
      readBack: () => get(`${G}/groups/${ctx.groupId}`),
      bodies: () => bodies(mutated(
        fc.record({ displayName, description: fc.option(displayName) }, { requiredKeys: [] }),
        ['displayName', 'description', 'mailNickname', 'mailEnabled', 'securityEnabled', 'groupTypes', '@odata.type'],
      )),
    },
    {
      name: 'POST /groups/{id}/members/$ref', rule: 'DIR-3', method: 'POST', path: () => `${G}/groups/${ctx.groupId}/members/$ref`, successDelta: { group_members: 1 },
      readBack: () => get(`${G}/groups/${ctx.groupId}/members`),
      bodies: () => bodies(mutated(
        fc.record({
          '@odata.id': fc.oneof(
            odataIdOf(fc.constantFrom(ctx.memberUserId, ctx.adminId, ctx.groupId, ctx.appObjectId, ctx.memberUserId.toUpperCase())),
            odataIdOf(guid), odataIdOf(upperGuid), odataIdOf(nearGuid), odataIdOf(hostileString),
            odataIdOf(fc.constant(ctx.memberUserId)).map((s) => `${'x'.repeat(2100)}${s}`),
          ),
        }),
        ['@odata.id'],
      )),
      bug: (b) => {
        const id = (b.value as Record<string, unknown> | undefined)?.['@odata.id'];
        if (!b.parses || typeof id !== 'string' || id.length > 2048) return undefined;
        const tail = /\/(?:directoryObjects|users|groups)\/([0-9a-fA-F-]{36})$/.exec(id)?.[1];
        return tail !== undefined && !GUID_RE.test(tail) ? 'refNotGuid' : undefined;
      },
    },
    {
      name: 'POST /roleManagement/directory/roleAssignments', rule: 'DIR-4', method: 'POST', path: () => `${G}/roleManagement/directory/roleAssignments`,
      successDelta: { role_assignments: 1 },
      bodies: () => bodies(mutated(
        fc.record({
          roleDefinitionId: fc.oneof(fc.constantFrom(...ROLE_TEMPLATES.map((r) => r.id)), guid, upperGuid, nearGuid),
          principalId: fc.oneof(fc.constantFrom(ctx.memberUserId, ctx.groupId, ctx.appObjectId), guid, nearGuid),
          directoryScopeId: fc.constantFrom('/', '/administrativeUnits/x', '', '//'),
        }, { requiredKeys: ['roleDefinitionId', 'principalId'] }),
        ['roleDefinitionId', 'principalId', 'directoryScopeId', '@odata.type', 'appScopeId'],
      )),
    },
    {
      name: 'POST /applications', rule: 'DIR-5', method: 'POST', path: () => `${G}/applications`, successDelta: { applications: 1 },
      bodies: () => bodies(mutated(
        fc.record({
          displayName, appId: fc.oneof(guid, nearGuid, fc.constantFrom('19db86c3-b2b9-44cc-b339-36da233a3be2')), signInAudience: fc.constantFrom('AzureADMyOrg', 'AzureADMultipleOrgs'),
          web: redirectBlock, spa: redirectBlock, publicClient: redirectBlock,
        }, { requiredKeys: ['displayName'] }),
        ['displayName', 'appId', 'signInAudience', 'web', 'spa', 'publicClient', '@odata.type', 'passwordCredentials', 'gatehouseGraphPermissions'],
      )),
      bug: redirectBug,
    },
    {
      name: 'PATCH /applications/{id}', rule: 'DIR-5', method: 'PATCH', path: () => `${G}/applications/${ctx.appObjectId}`, successDelta: {},
      readBack: () => get(`${G}/applications/${ctx.appObjectId}`),
      bodies: () => bodies(mutated(
        fc.record({ displayName, web: redirectBlock, spa: redirectBlock, publicClient: redirectBlock }, { requiredKeys: [] }),
        ['displayName', 'web', 'spa', 'publicClient', 'appId', 'signInAudience', '@odata.type', 'gatehouseKind'],
      )),
      bug: redirectBug,
    },
    {
      name: 'POST /applications/{id}/addPassword', rule: 'DIR-5', method: 'POST', path: () => `${G}/applications/${ctx.appObjectId}/addPassword`,
      successDelta: { application_secrets: 1 },
      readBack: () => get(`${G}/applications/${ctx.appObjectId}`),
      bodies: () => bodies(mutated(
        fc.record({ passwordCredential: fc.record({ displayName, endDateTime }, { requiredKeys: [] }) }, { requiredKeys: [] }),
        ['passwordCredential', 'keyId', 'secretText'],
        fc.oneof(hostileValue, fc.record({ displayName: hostileValue, endDateTime: fc.oneof(endDateTime, hostileValue) }, { requiredKeys: [] }),
          fc.tuple(unknownKey, hostileValue).map(([k, v]) => ({ [k]: v }))),
      )),
      bug: (b) => {
        const end = (b.value as { passwordCredential?: { endDateTime?: unknown } } | undefined)?.passwordCredential?.endDateTime;
        return b.parses && typeof end === 'string' && /^9999-12-31T/.test(end) && /-\d\d:\d\d$/.test(end) ? 'endDateOverflow' : undefined;
      },
      // keep the app under its 10-secret cap
      afterSuccess: async (r) => {
        const rm = await h.call('POST', `${G}/applications/${ctx.appObjectId}/removePassword`, { body: { keyId: r.body.keyId } });
        assert.equal(rm.status, 204);
      },
    },
    {
      name: 'POST /applications/{id}/removePassword', rule: 'DIR-5', method: 'POST', path: () => `${G}/applications/${ctx.secretsAppObjectId}/removePassword`,
      successDelta: { application_secrets: -1 },
      readBack: () => get(`${G}/applications/${ctx.secretsAppObjectId}`),
      bodies: () => bodies(mutated(
        fc.record({ keyId: fc.oneof(fc.constantFrom(...ctx.keyIds), guid, upperGuid, nearGuid) }),
        ['keyId', 'passwordCredential'],
      )),
    },
    {
      name: 'POST /users/{id}/revokeSignInSessions', rule: 'DIR-2', method: 'POST', path: () => `${G}/users/${ctx.userId}/revokeSignInSessions`,
      successDelta: {}, ignoresBody: true,
      readBack: () => get(`${G}/users/${ctx.userId}`),
      bodies: () => bodies(mutated(fc.constant({}), ['userId', 'id', '@odata.type'])),
    },
  ];

  // -------------------------------------------------------------------------------------------
  // P1–P4 over hostile bodies, one property per route
  // -------------------------------------------------------------------------------------------
  for (const [i, { name, rule }] of routes().entries()) {
    test(`${rule}: malformed ${name} bodies get a 2xx or a 4xx Graph error naming the field, never a 5xx, and a rejection writes nothing`, async () => {
      const route = routes()[i]!;
      await fc.assert(fc.asyncProperty(route.bodies(), async (b) => {
        const beforeCounts = await counts();
        const beforeResource = route.readBack ? await route.readBack() : undefined;
        const r = await send(route.method, route.path(), b);
        const what = `${route.method} ${route.path()} ${JSON.stringify(b).slice(0, 300)}`;
        const bug = route.bug?.(b) ?? (b.parses && isObject(b.value) && Object.hasOwn(b.value, '') ? 'emptyKey' : undefined);
        assertRejectionShape(r, what, { needTarget: b.parses && !route.ignoresBody, bug });
        const afterCounts = await counts();
        if (r.status >= 400) {
          assert.deepEqual(delta(beforeCounts, afterCounts), {}, `${what}: rejected with ${r.status} but rows changed`);
          if (route.readBack) assert.deepEqual(await route.readBack(), beforeResource, `${what}: rejected with ${r.status} but the resource changed`);
        } else {
          assert.deepEqual(delta(beforeCounts, afterCounts), route.successDelta, `${what}: ${r.status} changed rows unexpectedly`);
          await route.afterSuccess?.(r);
        }
      }), { numRuns: RUNS });
    });
  }

  // -------------------------------------------------------------------------------------------
  // Hostile path ids on every id-addressed create/update route
  // -------------------------------------------------------------------------------------------
  const rawPercentJunk = fc.constantFrom('%', '%%', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', '%c3%28', '%F0%28%8C%BC');
  const encodedPercentJunk = fc.constantFrom('%00', '%2e%2e', '%2F', '%252F', '%0A', '%20', '%27%20OR%201%3D1%20--', '%E2%80%AE', '%EF%BB%BF', 'a%00b');
  const pathId: fc.Arbitrary<{ seg: string; bug?: KnownBug }> = fc.oneof(
    { weight: 3, arbitrary: shortHostile.map((s) => encodeURIComponent(s)) },
    { weight: 2, arbitrary: fc.oneof(guid, upperGuid, nearGuid).map((s) => encodeURIComponent(s)) },
    { weight: 2, arbitrary: fc.constantFrom("1' OR '1'='1", "'; DROP TABLE users; --", '1 OR 1=1', 'null', 'undefined', '0', '-1', '$ref', '$count', 'me', 'delta()', '..', '.').map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), encodedPercentJunk).map(([a, j]) => encodeURIComponent(a) + j) },
    { weight: 2, arbitrary: fc.tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), rawPercentJunk).map(([a, j]) => encodeURIComponent(a) + j) },
    { weight: 1, arbitrary: fc.constantFrom(150, 199, 200, 201, 1000, 4000).map((n) => 'a'.repeat(n)) },
  ).map((seg) => {
    if (!isWellFormedUri(seg)) return { seg, bug: 'badUrl' as const };
    if (decodeURIComponent(seg).length > 200 || seg.length > 200) return { seg, bug: 'longParam' as const };
    return { seg };
  });

  const idRoutes: { name: string; method: 'POST' | 'PATCH'; path: (id: string) => string; body: unknown }[] = [
    { name: 'PATCH /users/{id}', method: 'PATCH', path: (id) => `${G}/users/${id}`, body: { displayName: 'renamed' } },
    { name: 'POST /users/{id}/revokeSignInSessions', method: 'POST', path: (id) => `${G}/users/${id}/revokeSignInSessions`, body: {} },
    { name: 'PATCH /groups/{id}', method: 'PATCH', path: (id) => `${G}/groups/${id}`, body: { displayName: 'renamed' } },
    { name: 'POST /groups/{id}/members/$ref', method: 'POST', path: (id) => `${G}/groups/${id}/members/$ref`, body: { '@odata.id': `https://x/directoryObjects/${randomUUID()}` } },
    { name: 'PATCH /applications/{id}', method: 'PATCH', path: (id) => `${G}/applications/${id}`, body: { displayName: 'renamed' } },
    { name: 'POST /applications/{id}/addPassword', method: 'POST', path: (id) => `${G}/applications/${id}/addPassword`, body: {} },
    { name: 'POST /applications/{id}/removePassword', method: 'POST', path: (id) => `${G}/applications/${id}/removePassword`, body: { keyId: randomUUID() } },
  ];

  test('DIR-2/3/5: hostile path ids (non-GUIDs, SQL, very long, percent-encoded junk) get a 4xx Graph error and write nothing', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...idRoutes), pathId, async (route, { seg, bug }) => {
      const beforeCounts = await counts();
      const watched = [`${G}/users/${ctx.userId}`, `${G}/groups/${ctx.groupId}`, `${G}/applications/${ctx.appObjectId}`];
      const beforeRes = await Promise.all(watched.map(get));
      const path = route.path(seg);
      const r = await h.call(route.method, path, { body: route.body });
      const what = `${route.method} ${path.slice(0, 300)}`;
      assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx, got ${r.status} ${String(JSON.stringify(r.body)).slice(0, 300)}`);
      assertRejectionShape(r, what, { needTarget: false, bug });
      assert.deepEqual(delta(beforeCounts, await counts()), {}, `${what}: rows changed`);
      assert.deepEqual(await Promise.all(watched.map(get)), beforeRes, `${what}: a resource changed`);
    }), { numRuns: RUNS * 2 });
  });

  // -------------------------------------------------------------------------------------------
  // Hostile query strings on the list routes
  // -------------------------------------------------------------------------------------------
  const lists = [
    { path: `${G}/users`, fields: ['id', 'userPrincipalName', 'displayName', 'accountEnabled', 'userType', 'mail'] },
    { path: `${G}/groups`, fields: ['id', 'displayName', 'mailNickname'] },
    { path: `${G}/applications`, fields: ['id', 'appId', 'displayName'] },
    { path: `${G}/roleManagement/directory/roleAssignments`, fields: ['principalId', 'roleDefinitionId'] },
  ];
  const filterField = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('id', 'userPrincipalName', 'displayName', 'accountEnabled', 'userType', 'mail', 'appId', 'mailNickname', 'principalId', 'roleDefinitionId') },
    { weight: 1, arbitrary: fc.constantFrom('createdDateTime', 'tenant_id', 'password', 'display_name', '1', 'users.id', 'x/y', '__proto__', 'constructor') },
  );
  const quoted = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const literal = fc.oneof(
    shortHostile.map(quoted),
    fc.constantFrom("'x'' OR 1=1 --'", "'x' OR 1=1 --", "'a'';DROP TABLE users;--'", "'%'", "'_'", "'\\'", "''", "'", "'''", '1e999', '-0', '99999999999999999999999',
      'true', 'false', 'null', 'NULL', '2024-01-01T00:00:00Z', '00000000-0000-0000-0000-00000000000g', "'\u0000'", "'a\u0000b'"),
    guid, nearGuid, fc.integer().map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  );
  const op = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('eq', 'ne', 'ge', 'le', 'gt', 'lt') },
    { weight: 1, arbitrary: fc.constantFrom('EQ', 'like', 'in', 'has', '=', '==', '||', ';', 'eq eq') });
  const filterExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      fc.tuple(filterField, op, literal).map(([f, o, v]) => `${f} ${o} ${v}`),
      fc.tuple(filterField, literal).map(([f, v]) => `startswith(${f},${v})`),
      fc.tuple(tie('e'), fc.constantFrom('and', 'or', 'AND', 'xor', '&&'), tie('e')).map(([a, o, b]) => `${a} ${o} ${b}`),
      tie('e').map((e) => `(${e})`),
      tie('e').map((e) => `not ${e}`),
    ),
  })).e;
  const filterArb = fc.oneof(
    { weight: 6, arbitrary: filterExpr },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 15, max: 400 }), filterExpr).map(([n, e]) => `${'('.repeat(n)}${e}${')'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }).map((n) => '('.repeat(n)) },
    { weight: 2, arbitrary: shortHostile },
    { weight: 1, arbitrary: fc.constant(`displayName eq '${'a'.repeat(2100)}'`) },
  );
  const skipTokenArb = fc.oneof(
    fc.constantFrom('', 'x', '!!', '%00', 'a'.repeat(2001), "' OR 1=1 --"),
    fc.string({ unit: anyCodeUnit, maxLength: 20 }),
    fc.tuple(fc.oneof(shortHostile, fc.constant('m')), fc.oneof(guid, nearGuid, shortHostile)).map((t) => Buffer.from(JSON.stringify(t)).toString('base64url')),
    fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
  );
  const topArb = fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), fc.constantFrom('99999999999999999999', '1e3', '0x10', '10.5', ' 5', '', '-0', '१०', 'NaN', 'Infinity'));
  const selectArb = fc.oneof(
    fc.array(fc.constantFrom('id', 'displayName', 'userPrincipalName', 'appId', 'principalId', 'mail', 'passwordCredentials', 'secret_hash', 'tenant_id', '__proto__', '*', '', ' ', 'id,id'), { maxLength: 5 }).map((a) => a.join(',')),
    shortHostile,
  );
  const enc = (s: string) => encodeURIComponent(s.toWellFormed());
  type Q = { qs: string; bug?: KnownBug; filter?: string; skip?: string };
  const queryArb: fc.Arbitrary<Q> = fc.record({
    filter: fc.option(filterArb, { freq: 2 }), top: fc.option(topArb, { freq: 3 }), select: fc.option(selectArb, { freq: 3 }), skip: fc.option(skipTokenArb, { freq: 3 }),
    dup: fc.boolean(), junk: fc.option(fc.constantFrom('%', '%zz', '%ED%A0%80', '$filter', '$filter[]=a', '__proto__[x]=1', 'constructor=1', '$orderby=displayName', '$expand=memberOf', '$count=true', '$search="a"'), { freq: 4 }),
  }).map(({ filter, top, select, skip, dup, junk }) => {
    const parts: string[] = [];
    if (filter !== null) parts.push(`$filter=${enc(filter)}`);
    if (top !== null) parts.push(`$top=${enc(top)}`);
    if (select !== null) parts.push(`$select=${enc(select)}`);
    if (skip !== null) parts.push(`$skiptoken=${enc(skip)}`);
    if (dup && parts[0]) parts.push(parts[0]);
    if (junk !== null) parts.push(junk);
    const q: Q = { qs: parts.join('&') };
    if (filter !== null) q.filter = filter.toWellFormed();
    if (skip !== null) q.skip = skip.toWellFormed();
    return q;
  });
  /** Which inputs hit the SQL-class-22 fallback (no target) — see KNOWN_BUGS.queryClass22. */
  const queryBug = (q: Q): KnownBug | undefined => {
    if (q.filter?.includes('\u0000')) return 'queryClass22';
    if (q.skip && /^[A-Za-z0-9_-]{1,2000}$/.test(q.skip)) {
      try {
        const v = JSON.parse(Buffer.from(q.skip, 'base64url').toString('utf8')) as unknown;
        if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && (!GUID_RE.test(v[1]) || v[0].includes('\u0000') || v[1].includes('\u0000'))) return 'queryClass22';
      } catch { /* not a decodable token */ }
    }
    return undefined;
  };

  test('DIR-2..5: hostile $filter/$top/$select/$skiptoken (and unsupported $options) on the list routes get a 200 or a 400 naming the query option, never a 5xx, and read nothing they should not', async () => {
    const total = await counts();
    await fc.assert(fc.asyncProperty(fc.constantFrom(...lists), queryArb, async (list, q) => {
      const path = `${list.path}?${q.qs}`;
      const r = await h.call('GET', path);
      const what = `GET ${path.slice(0, 400)}`;
      assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${what}: ${r.status} ${String(JSON.stringify(r.body)).slice(0, 400)}`);
      if (r.status === 200) {
        assert.ok(Array.isArray(r.body.value), `${what}: 200 without a value array`);
        return;
      }
      const bug = queryBug(q);
      assertRejectionShape(r, what, { needTarget: true, bug });
      if (r.status === 400 && r.body.error.target !== undefined) {
        // a supported option, or an unsupported $option named as such (not silently ignored)
        const t: string = r.body.error.target;
        assert.ok(['$filter', '$top', '$select', '$skiptoken'].includes(t) || (t.startsWith('$') && q.qs.includes(t)), `${what}: target ${t}`);
      }
    }), { numRuns: RUNS * 3 });
    assert.deepEqual(delta(total, await counts()), {}, 'list queries changed rows');
  });

  // -------------------------------------------------------------------------------------------
  // Examples: the nastiest cases
  // -------------------------------------------------------------------------------------------
  const createRoutes = [`${G}/users`, `${G}/groups`, `${G}/applications`, `${G}/roleManagement/directory/roleAssignments`];

  test('a 1 MB body gets 413 with a Graph error body on every create/update route, and writes nothing', async () => {
    const big = JSON.stringify({ displayName: 'x'.repeat(1024 * 1024), userPrincipalName: 'big@contoso.test' });
    const before = await counts();
    for (const [m, p] of [...createRoutes.map((p) => ['POST', p] as const), ['PATCH', `${G}/users/${ctx.userId}`] as const,
      ['PATCH', `${G}/applications/${ctx.appObjectId}`] as const, ['POST', `${G}/applications/${ctx.appObjectId}/addPassword`] as const]) {
      const r = await h.call(m, p, { rawBody: big });
      assert.equal(r.status, 413, `${m} ${p}`);
      assertGraphError(r, `${m} ${p}`);
      assert.equal(r.body.error.code, 'Request_EntityTooLarge');
    }
    assert.deepEqual(delta(before, await counts()), {});
  });

  test('a non-JSON content type (application/xml, form, multipart, none) gets 415 with a Graph error body', async () => {
    for (const ct of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const r = await h.call('POST', `${G}/users`, { rawBody: 'displayName=x&userPrincipalName=ct@contoso.test', headers: { 'content-type': ct } });
      assert.equal(r.status, 415, `content-type ${JSON.stringify(ct)}: ${JSON.stringify(r.body)}`);
      assertGraphError(r, ct);
      assert.equal(r.body.error.code, 'Request_UnsupportedMediaType');
    }
  });

  test('Content-Type: text/plain gets 415 like every other non-JSON type', {}, async () => {
    const r = await h.call('POST', `${G}/users`, { rawBody: '{"displayName":"t","userPrincipalName":"t@contoso.test"}', headers: { 'content-type': 'text/plain' } });
    assertGraphError(r, 'text/plain');
    assert.equal(r.status, 415);
  });

  test('an empty body on POST gets 400 with a Graph error body (with and without a JSON content type)', async () => {
    const before = await counts();
    for (const p of [...createRoutes, `${G}/groups/${ctx.groupId}/members/$ref`, `${G}/applications/${ctx.appObjectId}/removePassword`]) {
      const withType = await h.call('POST', p, { rawBody: '' });
      assert.equal(withType.status, 400, `${p} empty JSON body`);
      assertGraphError(withType, p);
      const without = await h.call('POST', p, {});
      assert.equal(without.status, 400, `${p} no body`);
      assertGraphError(without, p);
      assert.equal(without.body.error.target, 'request body');
    }
    assert.deepEqual(delta(before, await counts()), {});
  });

  test('DIR-2: an injection-shaped $filter is a literal: it matches only that exact string; LIKE wildcards match only themselves', async () => {
    // The fuzzing above may have created users named like these literals, so assert literal semantics, not emptiness.
    const probe = await h.call('POST', `${G}/users`, { body: { displayName: `Injection Probe ${randomUUID()}`, userPrincipalName: `probe-${randomUUID().slice(0, 8)}@contoso.test` } });
    assert.equal(probe.status, 201);
    const ids = (r: Res) => (r.body.value as { id: string }[]).map((u) => u.id);
    for (const [f, literal] of [["displayName eq 'x'' OR 1=1 --'", "x' OR 1=1 --"], ["userPrincipalName eq 'a'' OR ''1''=''1'", "a' OR '1'='1"]] as const) {
      const r = await h.call('GET', `${G}/users?$filter=${encodeURIComponent(f)}&$top=999`);
      assert.equal(r.status, 200, f);
      const field = f.startsWith('displayName') ? 'displayName' : 'userPrincipalName';
      for (const u of r.body.value as Record<string, string>[]) assert.equal(u[field]!.toLowerCase(), literal.toLowerCase(), f);
      assert.ok(!ids(r).includes(probe.body.id), `${f} matched an unrelated user`);
    }
    const bad = await h.call('GET', `${G}/users?$filter=${encodeURIComponent("displayName eq 'x' OR 1=1")}`);
    assert.equal(bad.status, 400);
    assertGraphError(bad, 'unquoted OR');
    assert.equal(bad.body.error.target, '$filter');
    for (const c of ['%', '_']) {
      const r = await h.call('GET', `${G}/users?$filter=${encodeURIComponent(`startswith(displayName,'${c}')`)}&$top=999`);
      assert.equal(r.status, 200, c);
      for (const u of r.body.value as { displayName: string }[]) assert.ok(u.displayName.startsWith(c), `${c} matched ${u.displayName}`);
      assert.ok(!ids(r).includes(probe.body.id), `${c} matched an unrelated user`);
    }
  });

  test('DIR-2: prototype-pollution keys are refused and pollute nothing', async () => {
    for (const raw of ['{"__proto__":{"isAdmin":true},"displayName":"p","userPrincipalName":"p1@contoso.test"}',
      '{"constructor":{"prototype":{"isAdmin":true}},"displayName":"p","userPrincipalName":"p2@contoso.test"}']) {
      const r = await h.call('POST', `${G}/users`, { rawBody: raw });
      assert.equal(r.status, 400, raw);
      assertGraphError(r, raw);
    }
    const c = await h.call('POST', `${G}/users`, { rawBody: '{"constructor":"x","displayName":"p","userPrincipalName":"p3@contoso.test"}' });
    assert.equal(c.status, 400);
    assert.equal(c.body.error.target, 'constructor');
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });

  test('DIR-2: lone surrogates and control characters in JSON escapes are refused naming the field', async () => {
    for (const [raw, target] of [
      ['{"displayName":"\\ud800","userPrincipalName":"s1@contoso.test"}', 'displayName'],
      ['{"displayName":"a\\u0000b","userPrincipalName":"s2@contoso.test"}', 'displayName'],
      ['{"displayName":"ok","userPrincipalName":"s3\\udfff@contoso.test"}', 'userPrincipalName'],
      ['{"displayName":"ok","userPrincipalName":"s4@contoso.test","mail":"a\\u0000@b.test"}', 'mail'],
    ] as const) {
      const r = await h.call('POST', `${G}/users`, { rawBody: raw });
      assert.equal(r.status, 400, raw);
      assertGraphError(r, raw);
      assert.equal(r.body.error.target, target, raw);
    }
  });

  // -------------------------------------------------------------------------------------------
  // Regressions: bugs this file found (now fixed), kept as exact reproductions
  // -------------------------------------------------------------------------------------------
  /** `target` undefined: any non-empty field name will do. */
  const todoBody = (bug: KnownBug, method: string, path: () => string, raw: string, target: string | undefined) => {
    test(`${bug}: ${KNOWN_BUGS[bug]}`, {}, async () => {
      const before = await counts();
      const r = await h.call(method, path(), { rawBody: raw });
      assert.deepEqual(delta(before, await counts()), {});
      assertGraphError(r, raw);
      assert.equal(r.status, 400);
      if (target === undefined) assert.ok(typeof r.body.error.target === 'string' && r.body.error.target.length > 0, JSON.stringify(r.body.error));
      else assert.equal(r.body.error.target, target, JSON.stringify(r.body.error));
    });
  };
  todoBody('emptyKey', 'PATCH', () => `${G}/groups/${ctx.groupId}`, '{"":1}', undefined);
  todoBody('refNotGuid', 'POST', () => `${G}/groups/${ctx.groupId}/members/$ref`, '{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/------------------------------------"}', '@odata.id');
  todoBody('redirectJsonb', 'POST', () => `${G}/applications`, '{"displayName":"r","web":{"redirectUris":["https://a.test/\\u0000"]}}', 'web.redirectUris.0');
  todoBody('redirectJsonb', 'PATCH', () => `${G}/applications/${ctx.appObjectId}`, '{"spa":{"redirectUris":["https://a.test/\\ud800"]}}', 'spa.redirectUris.0');
  todoBody('endDateOverflow', 'POST', () => `${G}/applications/${ctx.appObjectId}/addPassword`, '{"passwordCredential":{"endDateTime":"9999-12-31T23:59:59-00:01"}}', 'passwordCredential.endDateTime');

  for (const [bug, path] of [['badUrl', `${G}/users/%E0%A4%A`], ['longParam', `${G}/users/${'a'.repeat(201)}`]] as const) {
    test(`${bug}: ${KNOWN_BUGS[bug]}`, {}, async () => {
      const r = await h.call('PATCH', path, { body: { displayName: 'x' } });
      assert.ok(r.status >= 400 && r.status < 500);
      assertGraphError(r, path);
    });
  }

  test(`queryClass22: ${KNOWN_BUGS.queryClass22}`, {}, async () => {
    for (const qs of [`$filter=${encodeURIComponent("displayName eq 'a\u0000'")}`, `$skiptoken=${Buffer.from(JSON.stringify(['a', 'zz'])).toString('base64url')}`]) {
      const r = await h.call('GET', `${G}/users?${qs}`);
      assertGraphError(r, qs);
      assert.equal(r.status, 400);
      assert.ok(['$filter', '$skiptoken'].includes(r.body.error.target), `${qs}: ${JSON.stringify(r.body.error)}`);
    }
  });
});
