import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { authorizeLogRead, LOG_READER_ROLES } from '../../../src/http/graph/auditLogs.ts';
import { ROLE_TEMPLATES } from '../../../src/domain/directory.ts';
import { addPassword, createApplication, grantPermissions } from '../../../src/store/applications.ts';
import { writeAudit } from '../../../src/store/audit.ts';
import { writeSignIn } from '../../../src/store/signIns.ts';
import { statements as migration0005 } from '../../../src/store/migrations/0005_log_queries.ts';
import { sql } from 'kysely';
import { clientCredentialsToken, startHarness, type Harness } from '../../support/harness.ts';
import { newUserWithTap, setUpCommonTenant } from '../../support/commonTenant.ts';
import { signInFlowApi } from '../../support/flowApi.ts';

/**
 * LOG-4 over LOG-1/LOG-2 records: `/auditLogs/signIns` and `/auditLogs/directoryAudits` with
 * `$filter`, `$top`, `$select` and `@odata.nextLink`, read back through the Graph API. The
 * scenario records (SC-2, SC-6) come from real sign-ins through the flow API.
 */
describe('audit log queries (LOG-1, LOG-2, LOG-4)', () => {
  let h: Harness;
  let t: Awaited<ReturnType<typeof setUpCommonTenant>>;
  let seq = 0;
  before(async () => {
    h = await startHarness();
    t = await setUpCommonTenant(h);
  });
  after(async () => { await h.close(); });

  const SIGN_INS = '/graph/v1.0/auditLogs/signIns';
  const AUDITS = '/graph/v1.0/auditLogs/directoryAudits';
  const q = (path: string, params: Record<string, string>, token?: string) => h.call('GET', `${path}?${new URLSearchParams(params)}`, token === undefined ? {} : { token });
  const { api, start, registerWithTap } = signInFlowApi(() => h);
  const newUser = () => newUserWithTap(h, `Log user ${++seq}`, `log${seq}@contoso.test`);
  /** A user who registered a passkey with their TAP (SC-1), holding the TAP still (SC-2's starting point). */
  const passkeyHolder = async () => {
    const u = await newUser();
    await registerWithTap(u);
    return u;
  };
  /** Every page of a query, following @odata.nextLink. */
  const allPages = async (path: string, params: Record<string, string>) => {
    const pages: any[][] = [];
    let r = await q(path, params);
    for (;;) {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      pages.push(r.body.value);
      const next = r.body['@odata.nextLink'] as string | undefined;
      if (!next) break;
      assert.ok(next.startsWith(`${h.baseUrl}${path}?`), next);
      r = await h.call('GET', next.slice(h.baseUrl.length));
    }
    return pages;
  };
  const expect400 = async (path: string, params: Record<string, string>, ...patterns: RegExp[]) => {
    const r = await q(path, params);
    assert.equal(r.status, 400, `${JSON.stringify(params)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'Request_BadRequest');
    for (const p of patterns) assert.match(r.body.error.message, p, JSON.stringify(params));
    return r.body.error;
  };

  test('SC-2 (issue 6 must show): read back by userId and createdDateTime, the record names PLT-3 as the step-up source and lists every CA policy with its result', async () => {
    const u = await passkeyHolder();
    const since = new Date().toISOString();
    const flowId = await start({ userAction: 'registerSecurityInformation' });
    const r = await api(`/${flowId}/tap`, { username: u.upn, code: u.code });
    assert.equal(r.body.decision.outcome, 'challenge', JSON.stringify(r.body));

    // Graph writes date-times unquoted; quoted works too.
    for (const filter of [`userId eq '${u.id}' and createdDateTime ge ${since}`, `userId eq '${u.id}' and createdDateTime ge '${since}'`]) {
      const res = await q(SIGN_INS, { $filter: filter });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body['@odata.context'], `${h.baseUrl}/graph/v1.0/$metadata#auditLogs/signIns`);
      assert.equal(res.body.value.length, 1, 'only the sign-in after `since`');
      const rec = res.body.value[0];
      assert.equal(rec.userId, u.id);
      assert.equal(rec.status.errorCode, 900403);
      assert.equal(rec.correlationId, r.body.correlationId ?? rec.correlationId);
      const platform = rec.authenticationRequirementPolicies.filter((p: any) => p.requirementProvider === 'gatehousePlatformRule');
      assert.ok(platform.some((p: any) => p.detail.startsWith('PLT-3')), JSON.stringify(rec.authenticationRequirementPolicies));
      // Every CA policy of the tenant is listed with its result; none of them failed (PLT-3 caused the step-up).
      const policies = await h.call('GET', '/graph/v1.0/identity/conditionalAccess/policies');
      const listed = new Map(rec.appliedConditionalAccessPolicies.map((p: any) => [p.id, p.result]));
      for (const p of policies.body.value) assert.ok(listed.has(p.id), `policy ${p.displayName} is listed`);
      assert.ok([...listed.values()].every((res) => typeof res === 'string' && res !== 'failure'), JSON.stringify([...listed]));
      assert.equal(listed.get(t.ca001), 'success');
    }
    // The same record by id, and by correlation id.
    const list = await q(SIGN_INS, { $filter: `userId eq '${u.id}'`, $top: '1' });
    const one = await h.call('GET', `${SIGN_INS}/${list.body.value[0].id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body['@odata.context'], `${h.baseUrl}/graph/v1.0/$metadata#auditLogs/signIns/$entity`);
    assert.deepEqual(one.body.status, list.body.value[0].status);
    const byCorrelation = await q(SIGN_INS, { $filter: `correlationId eq '${one.body.correlationId}'` });
    assert.ok(byCorrelation.body.value.every((s: any) => s.correlationId === one.body.correlationId) && byCorrelation.body.value.length >= 1);
  });

  test('SC-6 (issue 6 must show): with CA002 applying to nothing, the record read back shows CA002 notApplied (application) and PLT-3 as the source', async () => {
    const u = await passkeyHolder();
    const original = await h.call('GET', `/graph/v1.0/identity/conditionalAccess/policies/${t.ca002}`);
    const patched = await h.call('PATCH', `/graph/v1.0/identity/conditionalAccess/policies/${t.ca002}`, { body: { conditions: { ...original.body.conditions, applications: { includeApplications: ['None'] } } } });
    assert.equal(patched.status, 204, JSON.stringify(patched.body));
    try {
      const since = new Date().toISOString();
      const flowId = await start({ userAction: 'registerSecurityInformation' });
      assert.equal((await api(`/${flowId}/tap`, { username: u.upn, code: u.code })).body.decision.outcome, 'challenge');
      const res = await q(SIGN_INS, { $filter: `(userId eq '${u.id}') and (createdDateTime ge ${since} and createdDateTime le ${new Date(Date.now() + 60_000).toISOString()})` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.value.length, 1);
      const rec = res.body.value[0];
      const ca002 = rec.appliedConditionalAccessPolicies.find((p: any) => p.id === t.ca002);
      assert.equal(ca002.result, 'notApplied');
      assert.match(ca002.conditionsNotSatisfied, /application/);
      assert.ok(rec.authenticationRequirementPolicies.some((p: any) => p.requirementProvider === 'gatehousePlatformRule' && p.detail.startsWith('PLT-3')));
      assert.ok(rec.appliedConditionalAccessPolicies.every((p: any) => p.result !== 'failure'));
      // conditionalAccessStatus and status/errorCode are filterable columns too
      const same = await q(SIGN_INS, { $filter: `userId eq '${u.id}' and status/errorCode eq 900403 and conditionalAccessStatus eq '${rec.conditionalAccessStatus}' and isInteractive eq true` });
      assert.ok(same.body.value.some((s: any) => s.id === rec.id), JSON.stringify(same.body));
    } finally {
      const restored = await h.call('PATCH', `/graph/v1.0/identity/conditionalAccess/policies/${t.ca002}`, { body: { conditions: original.body.conditions } });
      assert.equal(restored.status, 204);
    }
  });

  test('LOG-1: a record has every field of Graph v1.0 signIn plus the documented beta fields; risk is none (CA-2); records written before a field existed are completed', async () => {
    const u = await passkeyHolder();
    const res = await q(SIGN_INS, { $filter: `userId eq '${u.id}'`, $top: '1' });
    const rec = res.body.value[0];
    for (const f of ['id', 'createdDateTime', 'userDisplayName', 'userPrincipalName', 'userId', 'appId', 'appDisplayName', 'ipAddress', 'clientAppUsed', 'correlationId',
      'conditionalAccessStatus', 'isInteractive', 'riskDetail', 'riskLevelAggregated', 'riskLevelDuringSignIn', 'riskState', 'riskEventTypes_v2', 'resourceDisplayName',
      'resourceId', 'status', 'deviceDetail', 'location', 'appliedConditionalAccessPolicies', 'authenticationDetails', 'authenticationRequirement', 'authenticationRequirementPolicies']) {
      assert.ok(f in rec, `signIn.${f}`);
    }
    assert.equal(rec.riskLevelAggregated, 'none');
    assert.equal(rec.riskState, 'none');
    assert.deepEqual(rec.riskEventTypes_v2, []);
    assert.equal(rec.deviceDetail.operatingSystem, 'Windows');
    assert.equal(rec.deviceDetail.browser, 'Chrome 131');
    assert.equal(rec.resourceId, rec.appId);
    const graphFields = new Set(['id', 'createdDateTime', 'userDisplayName', 'userPrincipalName', 'userId', 'appId', 'appDisplayName', 'ipAddress', 'clientAppUsed', 'userAgent',
      'correlationId', 'conditionalAccessStatus', 'isInteractive', 'riskDetail', 'riskLevelAggregated', 'riskLevelDuringSignIn', 'riskState', 'riskEventTypes_v2',
      'resourceDisplayName', 'resourceId', 'status', 'deviceDetail', 'location', 'appliedConditionalAccessPolicies', 'authenticationDetails', 'authenticationRequirement',
      'authenticationRequirementPolicies']);
    const others = Object.keys(rec).filter((k) => !graphFields.has(k));
    assert.ok(others.every((k) => k.startsWith('gatehouse')), `fields outside Graph's signIn carry the gatehouse prefix: ${others.join(', ')}`);
    const selected = await q(SIGN_INS, { $filter: `userId eq '${u.id}'`, $select: 'status,riskState', $top: '1' });
    assert.equal(selected.body['@odata.context'], `${h.baseUrl}/graph/v1.0/$metadata#auditLogs/signIns(status,riskState)`);
    assert.deepEqual(Object.keys(selected.body.value[0]).sort(), ['id', 'riskState', 'status']);

    // An old-style record (as written before 0005) is completed at read time.
    const id = '0a0a0a0a-0000-4000-8000-000000000001';
    await h.database.db.insertInto('sign_ins').values({
      id, tenant_id: h.tenant.tenantId, created_date_time: new Date('2020-01-01T00:00:00Z'), user_id: null, user_principal_name: 'old@contoso.test', app_id: null,
      ip_address: null, error_code: 50126, correlation_id: '0a0a0a0a-0000-4000-8000-000000000002',
      record: JSON.stringify({ id, createdDateTime: '2020-01-01T00:00:00.000Z', userPrincipalName: 'old@contoso.test', status: { errorCode: 50126, failureReason: 'x' }, correlationId: '0a0a0a0a-0000-4000-8000-000000000002' }),
    }).execute();
    const old = await h.call('GET', `${SIGN_INS}/${id}`);
    assert.equal(old.status, 200, JSON.stringify(old.body));
    assert.equal(old.body.riskDetail, 'none');
    assert.equal(old.body.conditionalAccessStatus, 'notApplied');
    assert.deepEqual(old.body.appliedConditionalAccessPolicies, []);
    assert.equal(old.body.location.city, null);
  });

  test('migration 0005 backfills the filter columns and completes old records (its UPDATE statements, run again over rows written the old way)', async () => {
    const { db } = h.database;
    const sid = '0a0a0a0a-0000-4000-8000-0000000000b1';
    const corr = '0a0a0a0a-0000-4000-8000-0000000000b3';
    // Rows as 0002..0004 wrote them: the new columns at their defaults, the facts only in `record`.
    await db.insertInto('sign_ins').values({
      id: sid, tenant_id: h.tenant.tenantId, created_date_time: new Date('2020-02-01T00:00:00Z'), user_id: null, user_principal_name: null, app_id: 'app-x',
      ip_address: null, error_code: 0, correlation_id: corr,
      record: JSON.stringify({ id: sid, appId: 'app-x', appDisplayName: 'X', isInteractive: false, conditionalAccessStatus: 'failure', status: { errorCode: 0 } }),
    }).execute();
    // The audit through writeAudit (other columns, e.g. the hash chain, stay as they must), then 0005's columns as a pre-0005 row has them.
    const aid = await writeAudit(db, h.tenant.tenantId, {
      activityDisplayName: 'Update user', category: 'UserManagement', operationType: 'Update', result: 'success', loggedByService: 'Core Directory', correlationId: corr,
      initiatedBy: { kind: 'app', appId: 'APP-Y' }, target: { id: 'ABC-1', type: 'Policy' },
    }, new Date('2020-02-01T00:00:00Z'));
    await db.updateTable('directory_audits').set({ category: '', logged_by_service: '', target_ids: [], initiated_by_app_id: null, initiated_by_user_id: null }).where('id', '=', aid).execute();
    for (const statement of migration0005.split(/;\s*\n/).map((x) => x.trim()).filter((x) => x.startsWith('UPDATE'))) await sql.raw(statement).execute(db);
    const si = await db.selectFrom('sign_ins').select(['conditional_access_status', 'is_interactive', 'record']).where('id', '=', sid).executeTakeFirstOrThrow();
    assert.equal(si.conditional_access_status, 'failure');
    assert.equal(si.is_interactive, false);
    assert.equal((si.record as any).riskState, 'none');
    assert.equal((si.record as any).resourceId, 'app-x');
    assert.equal((si.record as any).isInteractive, false, 'the record\'s own fields win over the defaults');
    const au = await db.selectFrom('directory_audits').select(['category', 'logged_by_service', 'target_ids', 'initiated_by_app_id', 'initiated_by_user_id']).where('id', '=', aid).executeTakeFirstOrThrow();
    assert.deepEqual(au, { category: 'UserManagement', logged_by_service: 'Core Directory', target_ids: ['abc-1'], initiated_by_app_id: 'app-y', initiated_by_user_id: null });
    const found = await q(AUDITS, { $filter: "targetResources/any(t: t/id eq 'Abc-1') and initiatedBy/app/appId eq 'app-y'" });
    assert.deepEqual(found.body.value.map((a: any) => a.id), [aid]);
    const bySignIn = await q(SIGN_INS, { $filter: "appId eq 'app-x' and isInteractive eq false and conditionalAccessStatus eq 'failure'" });
    assert.deepEqual(bySignIn.body.value.map((r: any) => r.id), [sid]);
  });

  test('paging: newest first by (createdDateTime, id), $top pages over > 2 pages via opaque @odata.nextLink, no row twice even with inserts in between', async () => {
    const user = { id: '1b1b1b1b-0000-4000-8000-00000000000a', userPrincipalName: 'pager@contoso.test', displayName: 'Pager' };
    const base = Date.parse('2026-01-10T00:00:00Z');
    // 23 records; pairs share a timestamp so the id breaks the tie
    for (let i = 0; i < 23; i++) {
      await writeSignIn(h.database.db, h.tenant.tenantId, {
        correlationId: crypto.randomUUID(), user, app: { appId: t.chat, displayName: 'Chat' }, ipAddress: '192.0.2.1',
        status: { errorCode: i % 3 === 0 ? 50076 : 0, failureReason: 'x' }, authenticationDetails: [],
      }, new Date(base + Math.floor(i / 2) * 1000));
    }
    const filter = `userId eq '${user.id}'`;
    const pages = await allPages(SIGN_INS, { $filter: filter, $top: '5' });
    assert.equal(pages.length, 5);
    assert.deepEqual(pages.map((p) => p.length), [5, 5, 5, 5, 3]);
    const rows = pages.flat();
    assert.equal(new Set(rows.map((r) => r.id)).size, 23);
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1];
      const b = rows[i];
      assert.ok(a.createdDateTime > b.createdDateTime || (a.createdDateTime === b.createdDateTime && a.id > b.id), `order at ${i}`);
    }
    // Default $top is 50: one page; the nextLink keeps $filter and $top
    const first = await q(SIGN_INS, { $filter: filter, $top: '10' });
    const next = new URL(first.body['@odata.nextLink']);
    assert.equal(next.searchParams.get('$filter'), filter);
    assert.equal(next.searchParams.get('$top'), '10');
    assert.match(next.searchParams.get('$skiptoken')!, /^[A-Za-z0-9_-]+$/);
    // Newer records arriving between pages don't shift the pages that follow
    await writeSignIn(h.database.db, h.tenant.tenantId, { correlationId: crypto.randomUUID(), user, ipAddress: null, status: { errorCode: 0, failureReason: 'x' }, authenticationDetails: [] }, new Date(base + 3_600_000));
    const second = await h.call('GET', next.href.slice(h.baseUrl.length));
    assert.deepEqual(second.body.value.map((r: any) => r.id), rows.slice(10, 20).map((r) => r.id));
    assert.equal((await q(SIGN_INS, { $filter: filter })).body.value.length, 24);
    assert.equal((await q(SIGN_INS, { $filter: filter })).body['@odata.nextLink'], undefined);
  });

  test('combined filters: and/or/parentheses, ranges, ne, null, startswith on text, case-insensitive UPN — each equal to the same predicate in JS', async () => {
    const base = Date.parse('2026-02-01T00:00:00Z');
    const users = [0, 1, 2].map((i) => ({ id: `2c2c2c2c-0000-4000-8000-00000000000${i}`, userPrincipalName: `Combo${i}@Contoso.test`, displayName: `Combo ${i}` }));
    const apps = [t.chat, '3d3d3d3d-0000-4000-8000-000000000001'];
    const written: { i: number; user: number; app: number; code: number; at: number }[] = [];
    for (let i = 0; i < 30; i++) {
      const w = { i, user: i % 3, app: i % 2, code: [0, 50076, 53003][i % 5 % 3]!, at: base + i * 60_000 };
      written.push(w);
      await writeSignIn(h.database.db, h.tenant.tenantId, {
        correlationId: crypto.randomUUID(), user: users[w.user]!, app: { appId: apps[w.app]!, displayName: `App ${w.app}` }, ipAddress: `198.51.100.${i}`,
        status: { errorCode: w.code, failureReason: 'x' }, authenticationDetails: [],
      }, new Date(w.at));
    }
    const iso = (n: number) => new Date(base + n * 60_000).toISOString();
    const mine = `(userId eq '${users[0]!.id}' or userId eq '${users[1]!.id}' or userId eq '${users[2]!.id}')`;
    const cases: [string, (w: typeof written[number]) => boolean][] = [
      [`${mine} and appId eq '${apps[1]}' and status/errorCode eq 50076`, (w) => w.app === 1 && w.code === 50076],
      [`${mine} and (appId eq '${apps[0]}' or status/errorCode eq 53003)`, (w) => w.app === 0 || w.code === 53003],
      [`${mine} and createdDateTime ge ${iso(5)} and createdDateTime lt ${iso(12)}`, (w) => w.i >= 5 && w.i < 12],
      [`${mine} and createdDateTime gt ${iso(5)} and createdDateTime le ${iso(12)} and status/errorCode ne 0`, (w) => w.i > 5 && w.i <= 12 && w.code !== 0],
      [`userPrincipalName eq 'combo1@contoso.TEST'`, (w) => w.user === 1],
      [`startswith(userPrincipalName, 'COMBO2@') and status/errorCode ge 50000`, (w) => w.user === 2 && w.code >= 50000],
      [`${mine} and ipAddress eq '198.51.100.7'`, (w) => w.i === 7],
      [`${mine} and (status/errorCode eq 0 or status/errorCode eq 53003) and not_a_join eq 1`, () => false],
    ];
    for (const [filter, pred] of cases.slice(0, -1)) {
      const got = (await allPages(SIGN_INS, { $filter: filter, $top: '7' })).flat();
      const want = written.filter(pred);
      assert.equal(got.length, want.length, filter);
      assert.deepEqual(got.map((r) => r.ipAddress).sort(), want.map((w) => `198.51.100.${w.i}`).sort(), filter);
    }
    await expect400(SIGN_INS, { $filter: cases.at(-1)![0] }, /not_a_join/, /supported: .*userId/);
    // userId eq null: records without a user (unknown user names)
    const anon = await q(SIGN_INS, { $filter: `userId eq null and userPrincipalName eq 'old@contoso.test'` });
    assert.ok(anon.body.value.every((r: any) => r.userId === null));
  });

  test('bad input is a 400 naming the field and what is supported, never a 500', async () => {
    await expect400(SIGN_INS, { $filter: "riskState eq 'none'" }, /'riskState'/, /supported: id, createdDateTime, userId/);
    await expect400(SIGN_INS, { $filter: "userId ge '2c2c2c2c-0000-4000-8000-000000000000'" }, /'ge' is not supported on 'userId'/, /supported: eq, ne/);
    await expect400(SIGN_INS, { $filter: "startswith(createdDateTime, '2026')" }, /'startswith' is not supported on 'createdDateTime'/);
    await expect400(SIGN_INS, { $filter: "userId eq 'not-a-guid'" }, /'userId' takes a GUID/);
    await expect400(SIGN_INS, { $filter: "correlationId eq 42" }, /'correlationId' takes a GUID/);
    await expect400(SIGN_INS, { $filter: 'createdDateTime ge yesterday' }, /expected a literal/);
    await expect400(SIGN_INS, { $filter: "createdDateTime ge 'yesterday'" }, /'createdDateTime' takes an ISO 8601 date-time/);
    await expect400(SIGN_INS, { $filter: 'createdDateTime ge 2026-02-30T00:00:00Z' }, /'createdDateTime' takes a valid ISO 8601/);
    await expect400(SIGN_INS, { $filter: 'createdDateTime ge 2026-01-01T25:00:00Z' }, /'createdDateTime'/);
    await expect400(SIGN_INS, { $filter: "status/errorCode eq '50076'" }, /'status\/errorCode' takes an integer/);
    await expect400(SIGN_INS, { $filter: 'status/errorCode eq 99999999999' }, /'status\/errorCode' takes an integer/);
    await expect400(SIGN_INS, { $filter: "conditionalAccessStatus eq 'maybe'" }, /'conditionalAccessStatus' takes one of 'success', 'failure', 'notApplied'/);
    await expect400(SIGN_INS, { $filter: 'isInteractive eq 1' }, /'isInteractive' takes true or false/);
    await expect400(SIGN_INS, { $filter: 'createdDateTime eq null' }, /'createdDateTime' is never null/);
    await expect400(SIGN_INS, { $filter: "userId has 'x'" }, /unsupported operator 'has' after 'userId'/);
    await expect400(SIGN_INS, { $filter: "targetResources/any(t: t/id eq 'x')" }, /'any' is not supported on 'targetResources'/);
    await expect400(SIGN_INS, { $top: '0' }, /\$top/, /1 to 1000/);
    await expect400(SIGN_INS, { $top: '1001' }, /\$top/);
    await expect400(SIGN_INS, { $orderby: 'createdDateTime asc' }, /\$orderby/);
    await expect400(SIGN_INS, { $select: 'password' }, /\$select/, /'password'/);
    await expect400(SIGN_INS, { $skiptoken: 'garbage' }, /\$skiptoken/);
    await expect400(SIGN_INS, { $skiptoken: Buffer.from(JSON.stringify([1, 's', '2026-01-01T00:00:00.000000Z', 'nope', 'x'])).toString('base64url') }, /\$skiptoken/);
    // A token from one query is refused on another query or the other log
    const withToken = await q(SIGN_INS, { $top: '1' });
    const token = new URL(withToken.body['@odata.nextLink']).searchParams.get('$skiptoken')!;
    await expect400(SIGN_INS, { $top: '1', $skiptoken: token, $filter: 'isInteractive eq true' }, /different \$filter/);
    await expect400(AUDITS, { $top: '1', $skiptoken: token }, /sign-in log/);
    await expect400(AUDITS, { $filter: "targetResources/any(t: t/secret eq 'x')" }, /t\/secret/, /supported: t\/id, t\/displayName/);
    await expect400(AUDITS, { $filter: "targetResources/any(t: t/id eq 'x'" }, /\$filter/);
    await expect400(AUDITS, { $filter: "targetResources/any(t: t/id eq 'x') and result eq 'ok'" }, /'result' takes one of/);
    const notFound = await h.call('GET', `${SIGN_INS}/not-an-id`);
    assert.equal(notFound.status, 404);
    assert.equal((await h.call('GET', `${AUDITS}/0a0a0a0a-0000-4000-8000-0000000000ff`)).status, 404);
  });

  test('property: random $filter strings (near-valid and arbitrary) give 200 or 400, never 500', async () => {
    const field = fc.constantFrom('id', 'createdDateTime', 'userId', 'userPrincipalName', 'appId', 'status/errorCode', 'conditionalAccessStatus', 'correlationId', 'ipAddress', 'isInteractive', 'riskState', 'status', '');
    const value = fc.oneof(
      fc.constantFrom("'2c2c2c2c-0000-4000-8000-000000000000'", '2026-01-01T00:00:00Z', "'2026-13-01'", '0', '-1', '1e999', 'true', 'null', "''", "'O''Brien'", "'%_\\'", '9'.repeat(30)),
      fc.string({ maxLength: 12 }).map((s) => `'${s.replace(/'/g, "''")}'`),
    );
    const op = fc.constantFrom('eq', 'ne', 'ge', 'le', 'gt', 'lt', 'has', 'in', '');
    const leaf = fc.tuple(field, op, value).map(([f, o, v]) => `${f} ${o} ${v}`);
    const expr = fc.array(fc.tuple(leaf, fc.constantFrom(' and ', ' or ', ') and (', ' or (')), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.map(([l, j], i) => (i === parts.length - 1 ? l : l + j)).join(''));
    const anyString = fc.string({ maxLength: 80 });
    const lambda = fc.tuple(fc.constantFrom('t/id', 't/displayName', 't/userPrincipalName', 'x/id', 't/secret'), op, value).map(([f, o, v]) => `targetResources/any(t: ${f} ${o} ${v})`);
    await fc.assert(fc.asyncProperty(fc.oneof(expr, anyString, lambda), fc.boolean(), async (filter, audits) => {
      const r = await q(audits ? AUDITS : SIGN_INS, { $filter: filter, $top: '3' });
      assert.ok(r.status === 200 || r.status === 400, `${filter} → ${r.status} ${JSON.stringify(r.body)}`);
      if (r.status === 400) assert.equal(r.body.error.code, 'Request_BadRequest');
    }), { numRuns: 250 });
  });

  test('permissions: an app without AuditLog.Read.All gets 403 naming it; users need a reader role (Global Administrator, Global Reader, Security Administrator, Security Reader, Reports Reader)', async () => {
    const { db } = h.database;
    const made = await db.transaction().execute(async (trx) => {
      const app = await createApplication(trx, h.tenant.tenantId, { displayName: 'Log-less reader' }, 'automation');
      await grantPermissions(trx, h.tenant.tenantId, app.id, ['User.Read.All', 'Directory.Read.All']);
      return { app, secret: await addPassword(trx, h.tenant.tenantId, app.id, {}, new Date()) };
    });
    const token = await clientCredentialsToken(h.tenant.tokenEndpoint, made.app.appId, made.secret.secretText!);
    for (const path of [SIGN_INS, AUDITS, `${SIGN_INS}/0a0a0a0a-0000-4000-8000-000000000001`]) {
      const denied = await q(path, {}, token);
      assert.equal(denied.status, 403, path);
      assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
      assert.match(denied.body.error.message, /AuditLog\.Read\.All/);
    }
    assert.equal((await q(SIGN_INS, {}, '')).status, 401);

    const role = (name: string) => ROLE_TEMPLATES.find((r) => r.displayName === name)!.id;
    assert.equal(LOG_READER_ROLES.length, 5);
    for (const name of ['Global Administrator', 'Global Reader', 'Security Administrator', 'Security Reader', 'Reports Reader']) {
      authorizeLogRead({ kind: 'user', roles: [role(name)], permissions: [] });
    }
    assert.throws(() => authorizeLogRead({ kind: 'user', roles: [role('User Administrator'), role('Authentication Administrator')], permissions: [] }), /Reports Reader/);
    assert.throws(() => authorizeLogRead({ kind: 'user', roles: [], permissions: ['AuditLog.Read.All'] }), /roles/, 'a user needs the role, not a bare permission');
  });

  test('directory audits: by activityDisplayName, result, category, targetResources/any(...), initiatedBy, with paging; refusals are failure records with the reason', async () => {
    const u = await newUser(); // "Admin registered security info" (TAP) by the automation app, target the user
    const refused = await h.call('POST', `/graph/v1.0/users/${u.id}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes: 100000, isUsableOnce: false } });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));

    const forUser = await q(AUDITS, { $filter: `targetResources/any(t: t/id eq '${u.id}')` });
    assert.equal(forUser.status, 200, JSON.stringify(forUser.body));
    assert.equal(forUser.body['@odata.context'], `${h.baseUrl}/graph/v1.0/$metadata#auditLogs/directoryAudits`);
    assert.ok(forUser.body.value.length >= 2);
    assert.ok(forUser.body.value.every((a: any) => a.targetResources.some((r: any) => r.id === u.id)));
    for (const a of forUser.body.value) {
      for (const f of ['id', 'category', 'correlationId', 'result', 'resultReason', 'activityDisplayName', 'activityDateTime', 'loggedByService', 'operationType', 'initiatedBy', 'targetResources', 'additionalDetails']) assert.ok(f in a, `directoryAudit.${f}`);
      assert.ok('app' in a.initiatedBy && 'user' in a.initiatedBy);
    }

    const failures = await q(AUDITS, { $filter: `activityDisplayName eq 'admin registered security info' and result eq 'failure' and targetResources/any(t: t/userPrincipalName eq '${u.upn.toUpperCase()}')` });
    assert.equal(failures.status, 200, JSON.stringify(failures.body));
    assert.equal(failures.body.value.length, 1);
    assert.ok(failures.body.value[0].resultReason.length > 0);
    const successes = await q(AUDITS, { $filter: `targetResources/any(t: t/id eq '${u.id}' and t/type eq 'User') and result eq 'success' and category eq 'UserManagement' and initiatedBy/app/appId eq '${h.tenant.automation.clientId}'` });
    assert.equal(successes.status, 200, JSON.stringify(successes.body));
    assert.ok(successes.body.value.some((a: any) => a.activityDisplayName === 'Admin registered security info'));
    assert.ok(successes.body.value.every((a: any) => a.result === 'success' && a.initiatedBy.app?.appId === h.tenant.automation.clientId));
    const one = await h.call('GET', `${AUDITS}/${failures.body.value[0].id}?$select=result,resultReason`);
    assert.equal(one.status, 200);
    assert.deepEqual(Object.keys(one.body).sort(), ['@odata.context', 'id', 'result', 'resultReason']);

    // Paging over more than two pages, with audits written by the store in one instant
    const target = { id: '4e4e4e4e-0000-4000-8000-000000000001', displayName: 'Paged', userPrincipalName: 'paged@contoso.test', type: 'User' as const };
    const at = new Date('2026-03-01T00:00:00Z');
    for (let i = 0; i < 11; i++) {
      await writeAudit(h.database.db, h.tenant.tenantId, {
        activityDisplayName: 'Update user', category: 'UserManagement', operationType: 'Update', result: i % 4 === 0 ? 'failure' : 'success', loggedByService: 'Core Directory',
        initiatedBy: { kind: 'operator', name: 'test' }, target,
      }, at);
    }
    const pages = await allPages(AUDITS, { $filter: `targetResources/any(t: t/id eq '${target.id}')`, $top: '4' });
    assert.deepEqual(pages.map((p) => p.length), [4, 4, 3]);
    const ids = pages.flat().map((a) => a.id);
    assert.deepEqual(ids, [...ids].sort().reverse(), 'same instant: by id, descending');
    const viaScan = await q(AUDITS, { $filter: `targetResources/any(t: t/displayName eq 'PAGED' or t/id eq 'nothing') and result eq 'failure' and loggedByService eq 'core directory' and activityDateTime ge 2026-03-01 and activityDateTime le 2026-03-01T00:00:00Z` });
    assert.equal(viaScan.status, 200, JSON.stringify(viaScan.body));
    assert.equal(viaScan.body.value.length, 3);
    const holder = await passkeyHolder();
    const byUser = await q(AUDITS, { $filter: `initiatedBy/user/id eq '${holder.id.toUpperCase()}' and initiatedBy/user/userPrincipalName eq '${holder.upn}'` });
    assert.equal(byUser.status, 200, JSON.stringify(byUser.body));
    assert.ok(byUser.body.value.some((a: any) => a.activityDisplayName === 'User registered security info'), JSON.stringify(byUser.body.value.map((a: any) => a.activityDisplayName)));
    assert.ok(byUser.body.value.every((a: any) => a.initiatedBy.user.id === holder.id));
    const byOperator = await q(AUDITS, { $filter: `initiatedBy/user/id eq null and targetResources/any(t: t/id eq '${target.id}') and operationType eq 'update'` });
    assert.equal(byOperator.body.value.length, 11);
  });
});
