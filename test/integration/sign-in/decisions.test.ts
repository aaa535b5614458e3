import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { completedSignIn } from '../../../src/flows/sign-in/flow.ts';
import { startHarness, type Harness } from '../../support/harness.ts';
import { newUserWithTap, PORTAL, setUpCommonTenant } from '../../support/commonTenant.ts';
import { signInFlowApi } from '../../support/flowApi.ts';
import { auditsOf, signInsOf } from '../../support/records.ts';
import { createSoftAuthenticator } from '../../support/softAuthenticator.ts';
import { assertEverySignInReplays } from '../../support/replayCheck.ts';
import { assertWhatIfMatchesLatest } from '../../support/whatIfCheck.ts';

/**
 * The flow API decides with the engine after every factor (SIG-1), and the step's sign-in record
 * carries the decision (LOG-1): the common tenant's SC-1, SC-2 and a block, headless with a
 * software authenticator, compared with What-If for the same situation.
 */
describe('sign-in flow decisions on the common tenant (SIG-1, PLT-1..PLT-4, CA-6, LOG-1)', () => {
  let h: Harness;
  let t: Awaited<ReturnType<typeof setUpCommonTenant>>;
  let seq = 0;
  before(async () => {
    h = await startHarness();
    t = await setUpCommonTenant(h);
  });
  after(async () => {
    try {
      await assertEverySignInReplays(h); // WIF-2: every sign-in of these tests replays to its recorded decision
    } finally {
      await h.close();
    }
  });

  const { api, start, registerIn, usePasskey, registerWithTap } = signInFlowApi(() => h);
  const newUser = () => newUserWithTap(h, `Flow user ${++seq}`, `flow${seq}@contoso.test`);
  const records = (userId: string) => signInsOf(h, userId);
  const audits = (userId: string) => auditsOf(h, userId);
  /** SC-1's outcome: a user who signed in to the portal with a TAP and registered a passkey. */
  const passkeyHolder = async () => {
    const u = await newUser();
    return { u, auth: await registerWithTap(u) };
  };

  test('SC-1: TAP at the portal is granted; the record shows CA001 success, CA002 superseded under CA-6; the user registers a passkey', async () => {
    const u = await newUser();
    const flowId = await start({ userAction: 'registerSecurityInformation' });
    const r = await api(`/${flowId}/tap`, { username: u.upn, code: u.code });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.decision.outcome, 'grant');
    const rec = (await records(u.id)).at(-1);
    assert.equal(rec.status.errorCode, 0);
    assert.equal(rec.appId, PORTAL, 'a security-info sign-in is for the My Sign-Ins portal');
    assert.equal(rec.conditionalAccessStatus, 'success');
    const byId = new Map(rec.appliedConditionalAccessPolicies.map((p: any) => [p.id, p]));
    assert.equal((byId.get(t.ca001) as any).result, 'success');
    assert.equal((byId.get(t.ca002) as any).result, 'success');
    assert.deepEqual((byId.get(t.ca002) as any).gatehouseSupersededBy, [t.ca001]);
    assert.equal(rec.gatehouseDecision.platformRules.find((p: any) => p.id === 'PLT-1').result, 'satisfied');
    await assertWhatIfMatchesLatest(h, u.id);

    const reg = await registerIn(flowId, createSoftAuthenticator());
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const audit = (await audits(u.id)).at(-1);
    assert.equal(audit.activityDisplayName, 'User registered security info');
    assert.equal(audit.result, 'success');
    assert.equal(audit.initiatedBy.user.userPrincipalName, u.upn);
  });

  test('SC-1 step 3: TAP straight to Chat meets the registration interrupt (PLT-4); registering and using the passkey completes it, amr shows the passkey', async () => {
    const u = await newUser();
    const flowId = await start({ clientId: t.chat });
    const r = await api(`/${flowId}/tap`, { username: u.upn, code: u.code });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.decision.outcome, 'register');
    assert.equal(r.body.decision.registration.rule, 'PLT-4');
    assert.deepEqual(r.body.decision.registration.modes, ['fido2']);
    const interrupted = (await records(u.id)).at(-1);
    assert.equal(interrupted.status.errorCode, 50079);
    assert.ok(interrupted.authenticationRequirementPolicies.some((p: any) => p.requirementProvider === 'gatehousePlatformRule' && p.detail.startsWith('PLT-4')));
    assert.equal(interrupted.appliedConditionalAccessPolicies.find((p: any) => p.id === t.ca002).result, 'failure');
    await assert.rejects(completedSignIn(h.database.db, h.tenant.tenantId, flowId, new Date()), /not complete/);
    await assertWhatIfMatchesLatest(h, u.id);

    const auth = createSoftAuthenticator();
    const reg = await registerIn(flowId, auth);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const used = await usePasskey(flowId, auth, u.upn);
    assert.equal(used.status, 200, JSON.stringify(used.body));
    assert.equal(used.body.decision.outcome, 'grant');
    const done = (await records(u.id)).at(-1);
    assert.equal(done.status.errorCode, 0);
    assert.equal(done.gatehouseDecision.requirements.find((q: any) => q.id === `ca:${t.ca002}`).satisfiedBy.combination, 'fido2');
    await assertWhatIfMatchesLatest(h, u.id);
    const completed = await completedSignIn(h.database.db, h.tenant.tenantId, flowId, new Date());
    assert.equal(completed.userId, u.id);
    assert.ok(completed.amr.includes('fido') && completed.amr.includes('tap') && completed.amr.includes('mfa'), JSON.stringify(completed.amr));
    await assert.rejects(completedSignIn(h.database.db, h.tenant.tenantId, flowId, new Date()), /already completed/, 'single use');
  });

  test('SC-2: a passkey holder signing in with a TAP meets PLT-3 (no CA policy caused it); registering is refused until the passkey is used; What-If predicts the same', async () => {
    const { u, auth } = await passkeyHolder();

    const flowId = await start({ userAction: 'registerSecurityInformation' });
    const r = await api(`/${flowId}/tap`, { username: u.upn, code: u.code });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.decision.outcome, 'challenge');
    assert.equal(r.body.decision.errorCode, 900403);
    assert.deepEqual(r.body.decision.requirements.map((q: any) => q.id), ['PLT-3']);
    const rec = (await records(u.id)).at(-1);
    assert.equal(rec.status.errorCode, 900403);
    assert.ok(rec.authenticationRequirementPolicies.some((p: any) => p.requirementProvider === 'gatehousePlatformRule' && p.detail.startsWith('PLT-3')));
    assert.ok(rec.appliedConditionalAccessPolicies.every((p: any) => p.result !== 'failure'), 'no CA policy failed');

    const whatIf = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/evaluate', { body: {
      signInIdentity: { userId: u.id }, signInContext: { '@odata.type': '#microsoft.graph.userActionContext', userAction: 'registerSecurityInformation' },
      signInConditions: { devicePlatform: 'windows', clientAppType: 'browser' }, gatehouse: { performedMethods: [{ mode: 'temporaryAccessPassMultiUse' }] },
    } });
    assert.equal(whatIf.status, 200, JSON.stringify(whatIf.body));
    const predicted = whatIf.body.gatehouseDecision;
    assert.equal(predicted.outcome, rec.gatehouseDecision.outcome);
    assert.equal(predicted.errorCode, rec.gatehouseDecision.errorCode);
    assert.deepEqual(predicted.requirements.map((q: any) => [q.id, q.satisfied]), rec.gatehouseDecision.requirements.map((q: any) => [q.id, q.satisfied]));
    assert.deepEqual(predicted.appliedConditionalAccessPolicies.map((p: any) => [p.id, p.result]), rec.appliedConditionalAccessPolicies.map((p: any) => [p.id, p.result]));

    const refused = await api(`/${flowId}/register/options`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.errorCode, 900403);
    assert.match(refused.body.error.message, /recovery case/);
    const stepUp = await usePasskey(flowId, auth, u.upn);
    assert.equal(stepUp.body.decision.outcome, 'grant', JSON.stringify(stepUp.body));
    assert.equal((await registerIn(flowId, createSoftAuthenticator(), 'Second key')).status, 201, 'after the step-up a second passkey may be registered');
  });

  test('MTH-3 self-service: the portal lists methods only past the security-info gate; renames and deletes are audited as the user', async () => {
    const u = await newUser();
    const auth = createSoftAuthenticator();
    const first = await start({ userAction: 'registerSecurityInformation' });
    await api(`/${first}/tap`, { username: u.upn, code: u.code });
    const reg = await registerIn(first, auth);
    assert.equal(reg.status, 201);
    // PLT-3 is about methods held before this session: the passkey it just registered is not one.
    const options = await api(`/${first}/register/options`);
    assert.equal(options.status, 200, JSON.stringify(options.body));
    assert.equal(options.body.decision.outcome, 'grant');
    const spare = await registerIn(first, createSoftAuthenticator(), 'Spare key');
    assert.equal(spare.status, 201);

    const flowId = await start({ userAction: 'registerSecurityInformation' });
    await api(`/${flowId}/tap`, { username: u.upn, code: u.code });
    const list = (id: string) => h.call('GET', `/api/flows/${h.tenant.tenantId}/sign-in/${id}/security-info/methods`, { token: null });
    const refused = await list(flowId);
    assert.equal(refused.status, 403, 'PLT-3: a TAP-only session cannot open security info while the user holds a passkey');
    assert.equal(refused.body.error.errorCode, 900403);
    await usePasskey(flowId, auth, u.upn);
    const ok = await list(flowId);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const kinds = ok.body.value.map((m: any) => m['@odata.type']);
    assert.equal(kinds.filter((k: string) => k === '#microsoft.graph.fido2AuthenticationMethod').length, 2);
    assert.ok(ok.body.value.every((m: any) => typeof m.isUsable === 'boolean' && typeof m.methodUsabilityReason === 'string'));

    const renamed = await h.call('PATCH', `/api/flows/${h.tenant.tenantId}/sign-in/${flowId}/security-info/methods/${reg.body.passkey.id}`, { token: null, body: { displayName: 'Work laptop' } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    const gone = await h.call('DELETE', `/api/flows/${h.tenant.tenantId}/sign-in/${flowId}/security-info/methods/${spare.body.passkey.id}`, { token: null });
    assert.equal(gone.status, 204);
    const after = (await list(flowId)).body.value.filter((m: any) => m['@odata.type'] === '#microsoft.graph.fido2AuthenticationMethod');
    assert.deepEqual(after.map((m: any) => m.displayName), ['Work laptop']);
    const trail = (await audits(u.id)).slice(-2);
    assert.deepEqual(trail.map((a: any) => a.activityDisplayName), ['User updated security info', 'User deleted security info']);
    assert.ok(trail.every((a: any) => a.initiatedBy.user?.userPrincipalName === u.upn));
  });

  test('CA-5: an applicable block ends the sign-in with 53003, and the record says which policy', async () => {
    const u = await newUser();
    const group = await h.call('POST', '/graph/v1.0/groups', { body: { displayName: 'Blocked people', mailNickname: 'blocked', securityEnabled: true, mailEnabled: false } });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    await h.call('POST', `/graph/v1.0/groups/${group.body.id}/members/$ref`, { body: { '@odata.id': `${h.baseUrl}/graph/v1.0/directoryObjects/${u.id}` } });
    const block = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/policies', { body: {
      displayName: 'Block the blocked', state: 'enabled',
      conditions: { users: { includeGroups: [group.body.id] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
      grantControls: { operator: 'OR', builtInControls: ['block'] },
    } });
    assert.equal(block.status, 201, JSON.stringify(block.body));
    try {
      const flowId = await start({ clientId: t.chat });
      const r = await api(`/${flowId}/tap`, { username: u.upn, code: u.code });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.equal(r.body.error.errorCode, 53003);
      assert.match(r.body.error.message, /Block the blocked/);
      const rec = (await records(u.id)).at(-1);
      assert.equal(rec.status.errorCode, 53003);
      await assertWhatIfMatchesLatest(h, u.id);
      assert.equal(rec.conditionalAccessStatus, 'failure');
      assert.equal(rec.appliedConditionalAccessPolicies.find((p: any) => p.id === block.body.id).result, 'failure');
    } finally {
      await h.call('DELETE', `/graph/v1.0/identity/conditionalAccess/policies/${block.body.id}`);
    }
  });

  test('a usernameless passkey sign-in can ask for its options at the start (passkeyOptions: {}); the challenge is bound to the new flow and single use', async () => {
    const { u, auth } = await passkeyHolder();

    const s = await api('', { clientId: t.chat, capabilities: { webauthn: true }, passkeyOptions: {} });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    assert.deepEqual(s.body.passkeyOptions.allowCredentials, [], 'usernameless: the authenticator offers its discoverable credentials');
    assert.equal(s.body.passkeyOptions.rpId, new URL(h.baseUrl).hostname);
    const credential = auth.authenticate(s.body.passkeyOptions, h.baseUrl);
    const r = await api(`/${s.body.flowId}/passkey`, { credential });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.userId, u.id);
    assert.deepEqual(r.body.performedMethods, ['fido2']);
    const rec = (await records(u.id)).at(-1);
    assert.equal(rec.status.errorCode, 0);
    assert.equal(rec.correlationId, r.body.correlationId);
    assert.equal(rec.appId, t.chat);
    assert.equal(rec.gatehouseDecision.outcome, r.body.decision.outcome);

    // PK-3: the challenge was consumed by that step; the same assertion again is refused and logged.
    const again = await api(`/${s.body.flowId}/passkey`, { credential });
    assert.equal(again.status, 400, JSON.stringify(again.body));
    assert.equal(again.body.error.code, 'ChallengeInvalid');
    const refused = (await records(u.id)).at(-1);
    assert.equal(refused.status.errorCode, again.body.error.errorCode);
    assert.match(refused.status.additionalDetails, /^PK-3: ChallengeUsed/);
    // Nor can another flow's step use it.
    const other = await start({ clientId: t.chat });
    const cross = await api(`/${other}/passkey`, { credential: auth.authenticate(s.body.passkeyOptions, h.baseUrl) });
    assert.equal(cross.body.error.code, 'ChallengeInvalid');

    // Bad input names the field; an unknown tenant gets 404; neither writes a flow or a challenge.
    const count = async () => Number((await h.database.db.selectFrom('webauthn_challenges').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
      + Number((await h.database.db.selectFrom('sign_in_flows').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const bad = await api('', { passkeyOptions: { username: u.upn } });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.match(JSON.stringify(bad.body), /passkeyOptions/);
    const unknown = await h.call('POST', `/api/flows/${crypto.randomUUID()}/sign-in`, { token: null, body: { passkeyOptions: {} } });
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    assert.equal(await count(), before);
  });
});
