import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ROLE_TEMPLATES } from '../../../src/domain/directory.ts';
import { analyseImpact } from '../../../src/flows/logs/impact.ts';
import { importPolicies } from '../../../src/flows/policies/import.ts';
import { replaySignIn } from '../../../src/flows/logs/replay.ts';
import { addPassword, createApplication, grantPermissions } from '../../../src/store/applications.ts';
import { clientCredentialsToken, startHarness, type Harness } from '../../support/harness.ts';
import { DEVICE_REGISTRATION, newUserWithTap, PHISHING_RESISTANT, setUpCommonTenant } from '../../support/commonTenant.ts';
import { signInFlowApi } from '../../support/flowApi.ts';
import { assertEverySignInReplays } from '../../support/replayCheck.ts';

/**
 * WIF-2: replay of logged sign-ins (against the policies they were decided under, the current
 * ones, a proposed set) and impact analysis over a window, on the common tenant's SC-1, SC-2 and
 * SC-6 situations produced through the real flow API.
 */
describe('replay and impact analysis (WIF-2, SIG-1, LOG-1)', () => {
  let h: Harness;
  let t: Awaited<ReturnType<typeof setUpCommonTenant>>;
  let seq = 0;
  const ids: Record<'v0' | 'sc1Portal' | 'sc1Chat' | 'sc2Portal' | 'wrongCode', string> = {} as never;
  const users: Record<'a' | 'b' | 'c', { id: string; upn: string }> = {} as never;
  let windowFrom: string;
  const tenantId = () => h.tenant.tenantId;
  const operator = { kind: 'operator', name: 'test' } as const;

  const { api, start, registerWithTap } = signInFlowApi(() => h);
  const newUser = () => newUserWithTap(h, `Replay user ${++seq}`, `replay${seq}@contoso.test`);
  const lastRecordId = async (userId: string) => (await h.database.db.selectFrom('sign_ins').select('id').where('user_id', '=', userId).orderBy('created_date_time', 'desc').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
  const replay = (id: string, body?: unknown, token?: string) => h.call('POST', `/graph/v1.0/auditLogs/signIns/${id}/gatehouseReplay`, { body: body ?? {}, ...(token ? { token } : {}) });
  const impact = (body: unknown, token?: string) => h.call('POST', '/graph/v1.0/identity/conditionalAccess/gatehouseImpact', { body, ...(token ? { token } : {}) });
  const appToken = async (permissions: string[]) => {
    const app = await h.database.db.transaction().execute(async (trx) => {
      const a = await createApplication(trx, tenantId(), { displayName: `Replay reader ${++seq}` }, 'automation');
      await grantPermissions(trx, tenantId(), a.id, permissions);
      return { appId: a.appId, secret: (await addPassword(trx, tenantId(), a.id, { displayName: 't' }, new Date())).secretText! };
    });
    return clientCredentialsToken(h.tenant.tokenEndpoint, app.appId, app.secret);
  };
  /** SC-6: CA002 changed to apply to no app (includeApplications None), as a draft change. */
  const sc6Draft = async () => {
    const ca002 = (await h.call('GET', `/graph/v1.0/identity/conditionalAccess/policies/${t.ca002}`)).body;
    return { conditionalAccessPolicies: { upsert: [{
      id: t.ca002, displayName: ca002.displayName, state: 'enabled',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['None'] }, clientAppTypes: ['all'] },
      grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: PHISHING_RESISTANT } },
    }] } };
  };

  before(async () => {
    h = await startHarness();
    // Before any policy write (version '0'): a TAP sign-in at the portal.
    const z = await newUser();
    const f0 = await start({ userAction: 'registerSecurityInformation' });
    assert.equal((await api(`/${f0}/tap`, { username: z.upn, code: z.code })).status, 200);
    ids.v0 = await lastRecordId(z.id);
    t = await setUpCommonTenant(h);
    windowFrom = new Date(Date.now() - 1000).toISOString();
    // SC-1: TAP at the security-info portal is granted (CA001 met by the TAP, CA002 superseded).
    const a = await newUser();
    users.a = a;
    const f1 = await start({ userAction: 'registerSecurityInformation' });
    assert.equal((await api(`/${f1}/tap`, { username: a.upn, code: a.code })).body.decision.outcome, 'grant');
    ids.sc1Portal = await lastRecordId(a.id);
    // SC-1 step 3: TAP straight to Chat meets the registration interrupt (PLT-4).
    const b = await newUser();
    users.b = b;
    const f2 = await start({ clientId: t.chat });
    assert.equal((await api(`/${f2}/tap`, { username: b.upn, code: b.code })).body.decision.outcome, 'register');
    ids.sc1Chat = await lastRecordId(b.id);
    // SC-2: a passkey holder signing in with a TAP at the portal meets PLT-3.
    const c = await newUser();
    users.c = c;
    await registerWithTap(c);
    const f4 = await start({ userAction: 'registerSecurityInformation' });
    const sc2 = await api(`/${f4}/tap`, { username: c.upn, code: c.code });
    assert.equal(sc2.body.decision.outcome, 'challenge');
    ids.sc2Portal = await lastRecordId(c.id);
    // A wrong pass: a failed first factor, no decision.
    const f5 = await start({ clientId: t.chat });
    assert.equal((await api(`/${f5}/tap`, { username: a.upn, code: 'WRONGWRONGWRONG' })).status >= 400, true);
    ids.wrongCode = await lastRecordId(a.id);
  });
  after(async () => { await h.close(); });

  test('every decision written records the engine input and the policy version; no policy data is duplicated into the record', async () => {
    const rec = (await h.database.db.selectFrom('sign_ins').select('record').where('id', '=', ids.sc2Portal).executeTakeFirstOrThrow()).record as any;
    assert.deepEqual(Object.keys(rec.gatehouseInput).sort(), ['request', 'session', 'user']);
    assert.equal(rec.gatehouseInput.user.id, users.c.id);
    assert.equal(rec.gatehouseInput.request.userAction, 'urn:user:registersecurityinfo');
    assert.ok(rec.gatehouseInput.session.performed.some((p: any) => p.mode === 'temporaryAccessPassMultiUse'));
    assert.match(String(rec.gatehousePolicyVersion), /^\d+$/);
    assert.equal(rec.gatehouseInput.policies, undefined);
    const history = await h.database.db.selectFrom('policy_history').select('version').where('tenant_id', '=', tenantId()).where('version', '=', rec.gatehousePolicyVersion).execute();
    assert.equal(history.length, 1, 'the version the sign-in was decided under has its snapshot kept');
  });

  test('SC-1, SC-2: replay against the recorded policies reproduces each decision (API, empty body: recorded and current)', async () => {
    for (const [id, outcome] of [[ids.sc1Portal, 'grant'], [ids.sc1Chat, 'register'], [ids.sc2Portal, 'challenge']] as const) {
      const r = await replay(id);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const [recorded, current] = r.body.value;
      assert.equal(recorded.against, 'recorded');
      assert.equal(recorded.reproduces, true, JSON.stringify(recorded.differences));
      assert.equal(recorded.changed, false);
      assert.equal(recorded.recordedDecision.outcome, outcome);
      assert.equal(recorded.replayedDecision.outcome, outcome);
      assert.equal(current.against, 'current');
      assert.equal(current.changed, false, 'nothing changed since');
      assert.equal(current.reproduces, undefined, 'reproduces is only said against the recorded policies');
    }
    assert.ok(await assertEverySignInReplays(h) >= 3);
  });

  test('a sign-in decided before the tenant\'s first policy write (version 0: the defaults) reproduces; against current the common tenant\'s CA001 now applies', async () => {
    const r = await replay(ids.v0);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [recorded, current] = r.body.value;
    assert.equal(recorded.policyVersions.recorded, '0');
    assert.equal(recorded.reproduces, true, JSON.stringify(recorded.differences));
    assert.equal(recorded.recordedDecision.conditionalAccessStatus, 'notApplied');
    assert.ok(current.differences.conditionalAccessPolicies.some((p: any) => p.id === t.ca001 && p.recorded === null && p.replayed === 'success'), JSON.stringify(current.differences));
  });

  test('PLT-3 turned off: against current the SC-2 challenge becomes a grant, PLT-3 named; against recorded it still reproduces', async () => {
    const off = await h.call('PATCH', '/graph/v1.0/policies/platformRulesPolicy', { body: { existingMethodStepUp: 'off' } });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    try {
      const r = await replay(ids.sc2Portal, { against: 'current' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const [current] = r.body.value;
      assert.equal(current.changed, true);
      assert.deepEqual(current.differences.outcome, { recorded: 'challenge', replayed: 'grant' });
      assert.deepEqual(current.differences.errorCode, { recorded: 900403, replayed: null });
      assert.deepEqual(current.differences.requirements.removed.map((q: any) => q.id), ['PLT-3']);
      const plt3 = current.differences.platformRules.find((p: any) => p.id === 'PLT-3');
      assert.equal(plt3.recorded, 'required');
      assert.notEqual(plt3.replayed, 'required');
      assert.notEqual(current.policyVersions.replayed, current.policyVersions.recorded);
      const recorded = (await replay(ids.sc2Portal, { against: 'recorded' })).body.value[0];
      assert.equal(recorded.reproduces, true, 'the recorded version\'s snapshot is kept (WIF-2)');
      // The SC-1 portal grant does not depend on PLT-3: unchanged.
      assert.equal((await replay(ids.sc1Portal, { against: 'current' })).body.value[0].changed, false);
    } finally {
      assert.equal((await h.call('PATCH', '/graph/v1.0/policies/platformRulesPolicy', { body: { existingMethodStepUp: 'phishingResistant' } })).status, 200);
    }
  });

  test('SC-6 as a proposed draft: CA002 excluding every app turns the Chat registration interrupt into a grant; at the portal CA002 is notApplied and PLT-3 still acts', async () => {
    const draft = await sc6Draft();
    const chat = await replay(ids.sc1Chat, draft);
    assert.equal(chat.status, 200, JSON.stringify(chat.body));
    const [p] = chat.body.value;
    assert.equal(p.against, 'proposed');
    assert.deepEqual(p.differences.outcome, { recorded: 'register', replayed: 'grant' });
    const ca002 = p.differences.conditionalAccessPolicies.find((x: any) => x.id === t.ca002);
    assert.deepEqual([ca002.recorded, ca002.replayed], ['failure', 'notApplied']);
    assert.deepEqual(p.differences.requirements.removed.map((q: any) => q.id), [`ca:${t.ca002}`]);
    assert.ok(p.proposedChanges.some((s: string) => /Conditional Access policies: 0 added, 1 changed, 0 removed/.test(s)), JSON.stringify(p.proposedChanges));
    const portal = (await replay(ids.sc2Portal, draft)).body.value[0];
    assert.equal(portal.replayedDecision.outcome, 'challenge', 'SC-6: PLT-3 still asks for the step-up');
    const applied = portal.replayedDecision.appliedConditionalAccessPolicies.find((x: any) => x.id === t.ca002);
    assert.equal(applied.result, 'notApplied');
    assert.match(applied.conditionsNotSatisfied, /application/);
    assert.ok(portal.replayedDecision.authenticationRequirementPolicies.some((x: any) => x.requirementProvider === 'gatehousePlatformRule' && x.detail.startsWith('PLT-3')));
    // Nothing was written: the stored CA002 is unchanged.
    const stored = (await h.call('GET', `/graph/v1.0/identity/conditionalAccess/policies/${t.ca002}`)).body;
    assert.deepEqual(stored.conditions.applications.excludeApplications, [DEVICE_REGISTRATION]);
  });

  test('impact of the SC-6 draft over the window: counts by outcome, error code changes, affected users, examples with the policy that made the difference', async () => {
    const r = await impact({ proposed: await sc6Draft(), from: windowFrom, to: new Date(Date.now() + 1000).toISOString(), examplesPerChange: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const body = r.body;
    const all = await h.database.db.selectFrom('sign_ins').select('record').where('tenant_id', '=', tenantId()).where('created_date_time', '>=', new Date(windowFrom)).execute();
    const withDecision = all.filter((x: any) => x.record.gatehouseDecision);
    assert.equal(body.examined, all.length);
    assert.equal(body.replayable, withDecision.length);
    assert.equal(body.skipped.total, all.length - withDecision.length);
    assert.ok(body.skipped.byReason.some((s: any) => s.code === 'noDecision'), 'the wrong pass has no decision');
    assert.equal(body.outcomes.reduce((n: number, o: any) => n + o.count, 0), body.replayable);
    const registerToGrant = body.outcomes.find((o: any) => o.recorded === 'register' && o.proposed === 'grant');
    assert.ok(registerToGrant && registerToGrant.count >= 1, JSON.stringify(body.outcomes));
    assert.ok(body.outcomes.some((o: any) => o.recorded === o.proposed), 'unchanged outcomes are counted too');
    assert.ok(body.errorCodeChanges.some((c: any) => c.recorded === 50079 && c.proposed === null));
    assert.ok(body.affectedUsers.users.some((u: any) => u.id === users.b.id && u.userPrincipalName === users.b.upn));
    const kind = body.examples.find((e: any) => e.change === 'register → grant');
    assert.ok(kind.examples.length >= 1 && kind.examples.length <= 2);
    const ex = kind.examples.find((e: any) => e.signInId === ids.sc1Chat);
    assert.ok(ex, 'the SC-1 Chat sign-in is an example');
    assert.equal(ex.userPrincipalName, users.b.upn);
    assert.equal(ex.appId, t.chat);
    assert.deepEqual(ex.cause, { kind: 'conditionalAccess', id: t.ca002, displayName: 'CA002 Require phishing-resistant authentication', recorded: 'failure', replayed: 'notApplied' });
    assert.equal(body.truncated, false);

    // Filters and the record cap.
    const one = await impact({ proposed: await sc6Draft(), from: windowFrom, userId: users.b.upn });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.ok(one.body.examined >= 1 && one.body.affectedUsers.count === 1);
    const capped = await impact({ proposed: {}, from: windowFrom, maxRecords: 2 });
    assert.equal(capped.status, 200, JSON.stringify(capped.body));
    assert.equal(capped.body.examined, 2);
    assert.equal(capped.body.truncated, true);
    assert.match(capped.body.truncatedReason, /maxRecords \(2\)/);
    assert.equal(capped.body.changedOutcomes, 0, 'an empty proposal changes nothing');
  });

  test('records that cannot be replayed: no decision, or a decision without its input, are 409 saying why; unknown ids 404', async () => {
    const none = await replay(ids.wrongCode);
    assert.equal(none.status, 409, JSON.stringify(none.body));
    assert.match(none.body.error.message, /no decision/);
    assert.equal(none.body.error.gatehouseReason, 'noDecision');
    // A record written before replay existed: a decision without gatehouseInput.
    const rec = (await h.database.db.selectFrom('sign_ins').select('record').where('id', '=', ids.sc1Portal).executeTakeFirstOrThrow()).record as Record<string, unknown>;
    const { gatehouseInput: _i, gatehousePolicyVersion: _v, ...old } = rec;
    const oldId = crypto.randomUUID();
    await h.database.db.insertInto('sign_ins').values({
      id: oldId, tenant_id: tenantId(), created_date_time: new Date(Date.parse(windowFrom) - 60_000), user_id: users.a.id, user_principal_name: users.a.upn,
      app_id: null, ip_address: null, error_code: 0, correlation_id: crypto.randomUUID(), record: JSON.stringify({ ...old, id: oldId }),
    }).execute();
    const older = await replay(oldId);
    assert.equal(older.status, 409);
    assert.equal(older.body.error.gatehouseReason, 'noRecordedInput');
    assert.match(older.body.error.message, /before replay was added/);
    assert.equal((await replay(crypto.randomUUID())).status, 404);
    assert.equal((await replay('not-a-guid')).status, 404);
  });

  test('a version superseded before policy history was kept cannot be replayed against; the current one is stored on first read', async () => {
    const rec = (await h.database.db.selectFrom('sign_ins').select('record').where('id', '=', ids.sc1Portal).executeTakeFirstOrThrow()).record as any;
    const kept = await h.database.db.selectFrom('policy_history').selectAll().where('tenant_id', '=', tenantId()).execute();
    try {
      await h.database.db.deleteFrom('policy_history').where('tenant_id', '=', tenantId()).execute();
      const current = String((await h.database.db.selectFrom('policy_versions').select('version').where('tenant_id', '=', tenantId()).executeTakeFirstOrThrow()).version);
      if (String(rec.gatehousePolicyVersion) !== current) {
        const r = await replay(ids.sc1Portal, { against: 'recorded' });
        assert.equal(r.status, 409, JSON.stringify(r.body));
        assert.equal(r.body.error.gatehouseReason, 'policyVersionNotKept');
      }
      // A sign-in now, under the current version (no snapshot stored yet): replay stores it first.
      const u = await newUser();
      const f = await start({ userAction: 'registerSecurityInformation' });
      await api(`/${f}/tap`, { username: u.upn, code: u.code });
      const id = await lastRecordId(u.id);
      const r = await replay(id, { against: 'recorded' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.value[0].reproduces, true);
      const stored = await h.database.db.selectFrom('policy_history').select('version').where('tenant_id', '=', tenantId()).execute();
      assert.deepEqual(stored.map((s) => String(s.version)), [current]);
    } finally {
      await h.database.db.deleteFrom('policy_history').where('tenant_id', '=', tenantId()).execute();
      await h.database.db.insertInto('policy_history').values(kept.map((k) => ({ ...k, snapshot: JSON.stringify(k.snapshot) }))).execute();
    }
  });

  test('bad proposed sets are 400 naming the field, never 500, and write nothing', async () => {
    const versionBefore = (await h.database.db.selectFrom('policy_versions').select('version').where('tenant_id', '=', tenantId()).executeTakeFirstOrThrow()).version;
    const cases: [unknown, string][] = [
      [{ conditionalAccessPolicies: { upsert: [{ displayName: 'x', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } }, grantControls: { builtInControls: ['bogus'] } }] } }, 'conditionalAccessPolicies.upsert.0.grantControls.builtInControls.0'],
      [{ conditionalAccessPolicies: { upsert: [{ state: 'enabled' }] } }, 'conditionalAccessPolicies.upsert.0.displayName'],
      [{ conditionalAccessPolicies: { delete: ['00000000-0000-4000-8000-000000000001'] } }, 'conditionalAccessPolicies.delete.0'],
      [{ conditionalAccessPolicies: { upsert: [{ displayName: 'x', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } }, grantControls: { builtInControls: [], authenticationStrength: { id: '00000000-0000-4000-8000-0000000000aa' } } }] } }, 'conditionalAccessPolicies.upsert.0.grantControls.authenticationStrength.id'],
      [{ authenticationStrengthPolicies: { upsert: [{ displayName: 'S', allowedCombinations: ['nonsense'] }] } }, 'authenticationStrengthPolicies.upsert.0.allowedCombinations'],
      [{ authenticationStrengthPolicies: { delete: [t.strength] } }, 'authenticationStrengthPolicies'],
      [{ authenticationStrengthPolicies: { delete: [PHISHING_RESISTANT] } }, 'authenticationStrengthPolicies.delete.0'],
      [{ namedLocations: { upsert: [{ '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'L', ipRanges: [{ cidrAddress: '999.1.1.1/8' }] }] } }, 'namedLocations.upsert.0.ipRanges.0.cidrAddress'],
      [{ platformRulesPolicy: { existingMethodStepUp: 'sometimes' } }, 'platformRulesPolicy.existingMethodStepUp'],
      [{ conditionalAccessPolicies: { replaceAll: [], upsert: [] } }, 'conditionalAccessPolicies'],
    ];
    for (const [body, field] of cases) {
      const r = await replay(ids.sc1Portal, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
      assert.ok(String(r.body.error.target).startsWith(field), `${JSON.stringify(body)}: target ${r.body.error.target}, expected ${field}`);
      const i = await impact({ proposed: body, from: windowFrom });
      assert.equal(i.status, 400, JSON.stringify(i.body));
    }
    assert.equal((await impact({ proposed: {}, from: 'yesterday' })).body.error.target, 'from');
    assert.equal((await impact({ proposed: {}, from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' })).body.error.target, 'from');
    assert.equal((await impact({ from: windowFrom })).body.error.target, 'proposed');
    assert.equal((await impact({ proposed: {}, maxRecords: 10_000_000 })).body.error.target, 'maxRecords');
    await fc.assert(fc.asyncProperty(
      fc.record({
        conditionalAccessPolicies: fc.oneof(fc.constant(undefined), fc.anything(), fc.record({ upsert: fc.array(fc.anything(), { maxLength: 2 }) })),
        platformRulesPolicy: fc.oneof(fc.constant(undefined), fc.dictionary(fc.constantFrom('existingMethodStepUp', 'registrationInterrupt', 'x'), fc.anything())),
      }, { requiredKeys: [] }),
      async (body) => {
        const r = await replay(ids.sc1Portal, JSON.parse(JSON.stringify({ ...body, against: 'proposed' })));
        assert.ok(r.status === 200 || r.status === 400, `${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
        if (r.status === 400) assert.ok(typeof r.body.error.target === 'string' && r.body.error.target.length > 0, JSON.stringify(r.body));
      },
    ), { numRuns: 40 });
    const versionAfter = (await h.database.db.selectFrom('policy_versions').select('version').where('tenant_id', '=', tenantId()).executeTakeFirstOrThrow()).version;
    assert.equal(String(versionAfter), String(versionBefore), 'nothing was written');
  });

  test('permissions: apps need AuditLog.Read.All and a Policy permission; users one of the five roles', async () => {
    const auditOnly = await appToken(['AuditLog.Read.All']);
    const policyOnly = await appToken(['Policy.Read.All']);
    const both = await appToken(['AuditLog.Read.All', 'Policy.Read.All']);
    for (const token of [auditOnly, policyOnly]) {
      const r = await replay(ids.sc1Portal, {}, token);
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.match(r.body.error.message, /AuditLog\.Read\.All and one of Policy/);
      assert.equal((await impact({ proposed: {} }, token)).status, 403);
      assert.equal((await replay(ids.sc1Portal, { conditionalAccessPolicies: 'bad' }, token)).status, 403, 'refused before the body is looked at');
    }
    assert.equal((await replay(ids.sc1Portal, {}, both)).status, 200);
    assert.equal((await impact({ proposed: {}, from: windowFrom }, both)).status, 200);
    const role = (n: string) => ROLE_TEMPLATES.find((r) => r.displayName === n)!.id;
    const user = (roles: string[]) => ({ kind: 'user' as const, id: users.a.id, userPrincipalName: users.a.upn, roles });
    for (const n of ['Global Administrator', 'Security Administrator', 'Conditional Access Administrator', 'Global Reader', 'Security Reader']) {
      const r = await replaySignIn(h.database.db, tenantId(), user([role(n)]), ids.sc1Portal, { against: 'recorded' }, new Date());
      assert.equal(r.reproduces, true, n);
    }
    for (const n of ['Reports Reader', 'Authentication Administrator', 'User Administrator']) {
      await assert.rejects(replaySignIn(h.database.db, tenantId(), user([role(n)]), ids.sc1Portal, { against: 'recorded' }, new Date()), /Insufficient privileges/, n);
      await assert.rejects(analyseImpact(h.database.db, tenantId(), user([role(n)]), { proposed: {} }, new Date()), /Insufficient privileges/, n);
    }
    const r = await analyseImpact(h.database.db, tenantId(), operator, { proposed: {}, from: windowFrom }, new Date());
    assert.equal(r.changedOutcomes, 0);
  });

  test('a rolled-back policy write leaves no snapshot; every policy write keeps its version\'s snapshot', async () => {
    const count = async () => Number((await h.database.db.selectFrom('policy_history').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId()).executeTakeFirstOrThrow()).n);
    const before = await count();
    // WIF-3 refuses (409, rolled back): block every user from the admin console.
    const lockout = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/policies', { body: {
      displayName: 'Block everyone', state: 'enabled',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
      grantControls: { operator: 'OR', builtInControls: ['block'] },
    } });
    assert.equal(lockout.status, 409, JSON.stringify(lockout.body));
    assert.equal(await count(), before);
    const loc = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/namedLocations', { body: { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Office', isTrusted: true, ipRanges: [{ cidrAddress: '203.0.113.0/24' }] } });
    assert.equal(loc.status, 201, JSON.stringify(loc.body));
    assert.equal(await count(), before + 1);
    const latest = await h.database.db.selectFrom('policy_history').select(['version', 'snapshot']).where('tenant_id', '=', tenantId()).orderBy('version', 'desc').executeTakeFirstOrThrow();
    const current = (await h.database.db.selectFrom('policy_versions').select('version').where('tenant_id', '=', tenantId()).executeTakeFirstOrThrow()).version;
    assert.equal(String(latest.version), String(current));
    assert.ok((latest.snapshot as any).namedLocations.some((l: any) => l.id === loc.body.id));
    assert.equal((await h.call('DELETE', `/graph/v1.0/identity/conditionalAccess/namedLocations/${loc.body.id}`)).status, 204);

    // An import writes several times in one transaction: only its committed version keeps a snapshot.
    const beforeImport = await count();
    const doc = (n: number) => ({ displayName: `Imported ${n}`, state: 'disabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] }, grantControls: { operator: 'OR', builtInControls: ['mfa'] } });
    const report = await importPolicies(h.database.db, tenantId(), operator, [{ name: 'a.json', content: doc(1) }, { name: 'b.json', content: doc(2) }, { name: 'c.json', content: doc(3) }], { now: new Date() });
    assert.equal(report.items.filter((i) => i.status === 'stored' || i.status === 'storedDisabled').length, 3, JSON.stringify(report.items));
    assert.equal(await count(), beforeImport + 1);
    const afterImport = await h.database.db.selectFrom('policy_history').select(['version', 'snapshot']).where('tenant_id', '=', tenantId()).orderBy('version', 'desc').executeTakeFirstOrThrow();
    assert.equal(String(afterImport.version), String((await h.database.db.selectFrom('policy_versions').select('version').where('tenant_id', '=', tenantId()).executeTakeFirstOrThrow()).version));
    assert.equal((afterImport.snapshot as any).conditionalAccessPolicies.filter((p: any) => p.displayName.startsWith('Imported ')).length, 3);
  });
});
