import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ROLE_TEMPLATES } from '../../../src/domain/directory.ts';
import type { Actor } from '../../../src/domain/actors.ts';
import { approveCase, openCase, type RecoveryContext } from '../../../src/flows/recovery/cases.ts';
import { cleanUpRecoveryCases } from '../../../src/flows/recovery/cleanup.ts';
import { deliverRecoveryNotifications } from '../../../src/flows/recovery/notifications.ts';
import { startHarness, type Harness } from '../../support/harness.ts';
import { issueTap, PORTAL, setUpCommonTenant } from '../../support/commonTenant.ts';
import { signInFlowApi } from '../../support/flowApi.ts';
import { signInsOf } from '../../support/records.ts';
import { createSoftAuthenticator } from '../../support/softAuthenticator.ts';
import { enrolSoftwareOath } from '../../../src/flows/methods/passwordAndTotp.ts';
import { generateTotp } from '../../../src/methods/totp/index.ts';

const ROLE = Object.fromEntries(ROLE_TEMPLATES.map((r) => [r.displayName, r.id])) as Record<string, string>;
const DAY = 86_400_000;

/**
 * SC-3 step 2 and RCV-1..RCV-3 over the API tier: the recovery API with the automation app's
 * token, the flow API with a software authenticator on the common tenant, and the sign-in and
 * audit records. The four-eyes and TAP-9 rules for interactive admins are driven through the
 * flow functions with user actors (delegated Graph tokens are not part of this change).
 */
describe('recovery cases (RCV-1..RCV-3, SC-3 step 2)', () => {
  let h: Harness;
  let seq = 0;
  before(async () => {
    h = await startHarness();
    await setUpCommonTenant(h);
  });
  after(async () => { await h.close(); });

  const { api: flowApi, start, registerIn, usePasskey } = signInFlowApi(() => h);
  const rec = (method: string, path: string, body?: unknown) => h.call(method, `/api/recovery${path}`, body === undefined ? {} : { body });
  const evidence = { method: 'videoCall', reference: 'INC-4711', note: 'Photo ID checked on a video call' };

  const newUser = async (opts: { tap?: boolean } = {}) => {
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Recovery user ${++seq}`, userPrincipalName: `rcv${seq}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    const code = opts.tap === false ? undefined : await issueTap(h, u.body.id);
    return { id: u.body.id as string, upn: u.body.userPrincipalName as string, code };
  };
  const assignRole = async (userId: string, role: string) => {
    const r = await h.call('POST', '/graph/v1.0/roleManagement/directory/roleAssignments', { body: { roleDefinitionId: ROLE[role], principalId: userId, directoryScopeId: '/' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  };
  const portalFlow = () => start({ userAction: 'registerSecurityInformation' });
  /** A user who bootstrapped with a TAP and registered one passkey (SC-1). */
  const userWithPasskey = async () => {
    const u = await newUser();
    const auth = createSoftAuthenticator();
    const flowId = await portalFlow();
    assert.equal((await flowApi(`/${flowId}/tap`, { username: u.upn, code: u.code })).status, 200);
    const reg = await registerIn(flowId, auth, 'Lost phone');
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    return { ...u, auth, passkeyId: reg.body.passkey.id as string };
  };
  const signIns = (userId: string) => signInsOf(h, userId);
  /** The audit records of one correlation id, step by step: records of one transaction share a time, so each step's names are sorted. */
  const auditSteps = async (correlationId: string) => {
    const rows = await h.database.db.selectFrom('directory_audits').select(['activity_date_time', 'activity_display_name', 'record']).where('correlation_id', '=', correlationId).orderBy('activity_date_time').execute();
    const steps = new Map<number, string[]>();
    for (const r of rows) steps.set(r.activity_date_time.getTime(), [...(steps.get(r.activity_date_time.getTime()) ?? []), r.activity_display_name]);
    return { steps: [...steps.values()].map((s) => s.sort()), records: rows.map((r) => r.record as any) };
  };
  const userActor = (u: { id: string; upn: string }, role: string): Actor => ({ kind: 'user', id: u.id, userPrincipalName: u.upn, roles: [ROLE[role]!] });
  const flowCtx = (actor: Actor): RecoveryContext => ({ db: h.database.db, tenantId: h.tenant.tenantId, actor, now: new Date(), ipAddress: '127.0.0.1' });

  test('SC-3 step 2: open → old passkey suspended and sessions revoked → case TAP signs in to the portal without step-up → new passkey completes the case → clean-up after the grace period deletes the old passkey; one correlation id', async () => {
    const u = await userWithPasskey();
    // A session and a refresh token the user holds before the case (as oidc-provider stores them).
    const far = new Date(Date.now() + DAY);
    await h.database.db.insertInto('oidc_artefacts').values([
      { model: 'Session', id: `s-${u.id}`, tenant_id: h.tenant.tenantId, payload: JSON.stringify({ accountId: u.id }), grant_id: null, user_code: null, uid: null, account_id: u.id, expires_at: far, consumed_at: null },
      { model: 'RefreshToken', id: `rt-${u.id}`, tenant_id: h.tenant.tenantId, payload: JSON.stringify({ accountId: u.id }), grant_id: null, user_code: null, uid: null, account_id: u.id, expires_at: far, consumed_at: null },
    ]).execute();

    const opened = await rec('POST', '/cases', { userId: u.upn, verification: evidence });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const c = opened.body.case;
    assert.equal(c.state, 'active', 'a member needs no approval by default');
    assert.deepEqual(c.suspendedMethodIds, [u.passkeyId]);
    assert.deepEqual(c.verification, evidence);
    const pass = opened.body.temporaryAccessPass;
    assert.equal(pass.isUsableOnce, true, 'RCV-2: a one-time TAP');
    assert.equal(c.temporaryAccessPassId, pass.id);
    assert.match(pass.temporaryAccessPass, /^\S{8,}$/);
    const shown = await rec('GET', `/cases/${c.id}`);
    assert.equal(shown.status, 200);
    assert.ok(!JSON.stringify(shown.body).includes(pass.temporaryAccessPass), 'the TAP is returned once');

    // Sessions and refresh tokens revoked (PLT-6), the refresh token kept as an expired trace.
    const artefacts = await h.database.db.selectFrom('oidc_artefacts').select(['model', 'expires_at']).where('account_id', '=', u.id).execute();
    assert.deepEqual(artefacts.map((a) => a.model), ['RefreshToken']);
    assert.ok(artefacts[0]!.expires_at! <= new Date());
    const graphUser = await h.call('GET', `/graph/v1.0/users/${u.id}`);
    assert.ok(Date.parse(graphUser.body.signInSessionsValidFromDateTime) >= Date.parse(c.effectiveDateTime) - 1000);

    // MTH-3 shows the suspended passkey as unusable, with the reason.
    const methods = await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/methods`);
    const listed = methods.body.value.find((m: any) => m.id === u.passkeyId);
    assert.equal(listed.isUsable, false);
    assert.equal(listed.methodUsabilityReason, 'SuspendedByRecoveryCase');
    assert.equal(listed.gatehouseSuspendedByRecoveryCaseId, c.id);

    // The old passkey can't sign in; the sign-in record says suspended, by which case.
    const blocked = await usePasskey(await portalFlow(), u.auth, u.upn);
    assert.equal(blocked.status, 403, JSON.stringify(blocked.body));
    assert.equal(blocked.body.error.code, 'PasskeySuspended');
    assert.equal(blocked.body.error.errorCode, 900206);
    const refusal = (await signIns(u.id)).at(-1);
    assert.equal(refusal.status.errorCode, 900206);
    assert.match(refusal.status.additionalDetails, new RegExp(`suspended by recovery case ${c.id}`));

    // The case TAP signs in to the portal without step-up: PLT-3 doesn't count the suspended passkey.
    const flowId = await portalFlow();
    const tap = await flowApi(`/${flowId}/tap`, { username: u.upn, code: pass.temporaryAccessPass });
    assert.equal(tap.status, 200, JSON.stringify(tap.body));
    assert.equal(tap.body.decision.outcome, 'grant');
    const granted = (await signIns(u.id)).at(-1);
    assert.equal(granted.status.errorCode, 0);
    assert.equal(granted.appId, PORTAL);
    const plt3 = granted.gatehouseDecision.platformRules.find((p: any) => p.id === 'PLT-3');
    assert.equal(plt3.result, 'notApplicable');
    assert.match(plt3.sentence, /suspended/);
    const pk = granted.gatehouseDecision.platformRules.find((p: any) => p.id === 'PLT-1');
    assert.equal(pk.result, 'satisfied');

    // The first passkey registered with the case TAP completes the case (RCV-3).
    const newAuth = createSoftAuthenticator();
    const reg = await registerIn(flowId, newAuth, 'New phone');
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const completed = (await rec('GET', `/cases/${c.id}`)).body;
    assert.equal(completed.state, 'completed');
    assert.equal(completed.completedByMethodId, reg.body.passkey.id);
    const grace = Date.parse(completed.gracePeriodEndDateTime) - Date.parse(completed.completedDateTime);
    assert.equal(grace, 7 * DAY, 'default grace period: 7 days');

    // During the grace period the old passkey is still there, suspended; the clean-up before its end does nothing.
    assert.deepEqual((await cleanUpRecoveryCases(h.database.db, new Date(Date.now() + 6 * DAY), { tenantId: h.tenant.tenantId })).cases, []);
    const cleaned = await cleanUpRecoveryCases(h.database.db, new Date(Date.now() + 8 * DAY), { tenantId: h.tenant.tenantId });
    assert.ok(cleaned.deletedMethodIds.includes(u.passkeyId));
    const after = await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`);
    assert.deepEqual(after.body.value.map((m: any) => m.id), [reg.body.passkey.id], 'the old passkey is gone');
    assert.equal((await rec('GET', `/cases/${c.id}`)).body.deletedMethodIds[0], u.passkeyId);

    // Every step of the case under its one correlation id, in order.
    const { steps, records } = await auditSteps(c.correlationId);
    assert.deepEqual(steps, [
      ['Admin registered security info', 'Invalidate all refresh tokens for user', 'Opened recovery case', 'Suspended security info'],
      ['Completed recovery case'],
      ['Admin deleted security info', 'Cleaned up recovery case'],
    ]);
    assert.ok(records.every((r) => r.correlationId === c.correlationId && r.result === 'success'));
    const deleted = records.find((r) => r.activityDisplayName === 'Admin deleted security info');
    assert.ok(deleted.additionalDetails.some((d: any) => d.key === 'Method id' && d.value === u.passkeyId));
    const issued = records.find((r) => r.activityDisplayName === 'Admin registered security info');
    assert.ok(issued.additionalDetails.some((d: any) => d.key === 'Method id' && d.value === pass.id));
    assert.ok(!JSON.stringify(records).includes(pass.temporaryAccessPass), 'no audit record holds the TAP');
    // The user's own registration is in the sign-in's correlation; the completion points to it.
    const completion = records.find((r) => r.activityDisplayName === 'Completed recovery case');
    assert.equal(completion.initiatedBy.user.userPrincipalName, u.upn);
    assert.ok(completion.additionalDetails.some((d: any) => d.key === 'Sign-in correlation id' && d.value === tap.body.correlationId));
  });

  test('RCV-3 with TAP-4: a pass issued through Graph during an active case becomes the case\'s pass; the passkey registered with it completes the case', async () => {
    const u = await userWithPasskey();
    const opened = await rec('POST', '/cases', { userId: u.upn, verification: evidence });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const c = opened.body.case;
    // The user never got the case's code: the admin issues another pass the usual way.
    const again = await h.call('POST', `/graph/v1.0/users/${u.id}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes: 60, isUsableOnce: true } });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const moved = (await rec('GET', `/cases/${c.id}`)).body;
    assert.equal(moved.state, 'active');
    assert.equal(moved.temporaryAccessPassId, again.body.id, 'the new pass is the case\'s pass');
    // The old case code is gone (TAP-4); the new one signs in and its passkey completes the case.
    const flowId = await portalFlow();
    const old = await flowApi(`/${flowId}/tap`, { username: u.upn, code: opened.body.temporaryAccessPass.temporaryAccessPass });
    assert.notEqual(old.status, 200, JSON.stringify(old.body));
    const tap = await flowApi(`/${flowId}/tap`, { username: u.upn, code: again.body.temporaryAccessPass });
    assert.equal(tap.status, 200, JSON.stringify(tap.body));
    const reg = await registerIn(flowId, createSoftAuthenticator(), 'New phone');
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const completed = (await rec('GET', `/cases/${c.id}`)).body;
    assert.equal(completed.state, 'completed');
    assert.equal(completed.completedByMethodId, reg.body.passkey.id);
    // Audited under the case's correlation id, naming both passes.
    const { records } = await auditSteps(c.correlationId);
    const replaced = records.find((r) => r.activityDisplayName === 'Recovery case pass replaced');
    assert.ok(replaced, JSON.stringify(records.map((r) => r.activityDisplayName)));
    const detail = (k: string) => replaced.additionalDetails.find((d: any) => d.key === k)?.value;
    assert.equal(detail('Recovery case id'), c.id);
    assert.equal(detail('Method id'), again.body.id);
    assert.equal(detail('Replaced pass'), opened.body.temporaryAccessPass.id);
    assert.ok(!JSON.stringify(records).includes(again.body.temporaryAccessPass), 'no audit record holds the TAP');
  });

  test('SC-3 step 2: cancelling a second case restores the suspended passkey, which signs in again; the case TAP is deleted', async () => {
    const u = await userWithPasskey();
    const opened = await rec('POST', '/cases', { userId: u.id, verification: { method: 'inPerson', reference: 'desk 3' } });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const c = opened.body.case;
    assert.equal((await usePasskey(await portalFlow(), u.auth, u.upn)).status, 403);
    const again = await rec('POST', '/cases', { userId: u.id, verification: { method: 'inPerson', reference: 'desk 3' } });
    assert.equal(again.status, 409, 'one open case per user');

    const cancelled = await rec('POST', `/cases/${c.id}/cancel`, { reason: 'found the phone' });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.case.state, 'cancelled');
    assert.deepEqual(cancelled.body.case.restoredMethodIds, [u.passkeyId]);
    const signedIn = await usePasskey(await portalFlow(), u.auth, u.upn);
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    assert.equal((await signIns(u.id)).at(-1).status.errorCode, 0);
    const passes = await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/temporaryAccessPassMethods`);
    assert.deepEqual(passes.body.value, [], 'the case TAP is deleted');
    const tap = await flowApi(`/${await portalFlow()}/tap`, { username: u.upn, code: opened.body.temporaryAccessPass.temporaryAccessPass });
    assert.equal(tap.status, 400, 'the deleted pass no longer signs in');

    const { steps } = await auditSteps(c.correlationId);
    assert.deepEqual(steps, [
      ['Admin registered security info', 'Invalidate all refresh tokens for user', 'Opened recovery case', 'Suspended security info'],
      ['Admin deleted security info', 'Cancelled recovery case', 'Restored security info'],
    ]);
    const twice = await rec('POST', `/cases/${c.id}/cancel`, {});
    assert.equal(twice.status, 409);
    assert.match(twice.body.error.message, /cancelled/);
  });

  test('RCV-3: restore selected methods while active; listing filters by state and user', async () => {
    const u = await userWithPasskey();
    const opened = await rec('POST', '/cases', { userId: u.id, verification: { method: 'helpdeskTicket', reference: 'HD-1' } });
    const c = opened.body.case;
    const bad = await rec('POST', `/cases/${c.id}/restore`, { methodIds: ['00000000-0000-4000-8000-000000000000'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.target, 'methodIds');
    const restored = await rec('POST', `/cases/${c.id}/restore`, { methodIds: [u.passkeyId] });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.deepEqual(restored.body.case.restoredMethodIds, [u.passkeyId]);
    assert.equal((await usePasskey(await portalFlow(), u.auth, u.upn)).status, 200, 'the restored passkey signs in');
    const listed = await rec('GET', `/cases?state=active&userId=${u.id}`);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.value.map((x: any) => x.id), [c.id]);
    assert.equal((await rec('GET', '/cases?state=bogus')).body.error.target, 'state');
    assert.equal((await rec('GET', '/cases?colour=red')).status, 400);
    assert.equal((await rec('POST', `/cases/${c.id}/cancel`, {})).status, 200);
  });

  test('RCV-1: an admin target waits for a second admin; nothing is suspended until approval; the opener and the target cannot approve; nobody opens a case for themselves; an Authentication Administrator cannot open one for an admin', async () => {
    const target = await userWithPasskey();
    await assignRole(target.id, 'Security Reader'); // any role makes an admin (DIR-4)
    const opener = await newUser({ tap: false });
    await assignRole(opener.id, 'Privileged Authentication Administrator');
    const approver = await newUser({ tap: false });
    await assignRole(approver.id, 'Privileged Authentication Administrator');
    const authAdmin = await newUser({ tap: false });
    await assignRole(authAdmin.id, 'Authentication Administrator');

    await assert.rejects(openCase(flowCtx(userActor(authAdmin, 'Authentication Administrator')), { userId: target.id, verification: evidence }), (e: any) => e.status === 403 && /TAP-9/.test(e.message));
    await assert.rejects(openCase(flowCtx(userActor(opener, 'Privileged Authentication Administrator')), { userId: opener.id, verification: evidence }), (e: any) => e.status === 403 && /themselves/.test(e.message));

    const opened = await openCase(flowCtx(userActor(opener, 'Privileged Authentication Administrator')), { userId: target.id, verification: evidence });
    assert.equal(opened.case.state, 'pendingApproval');
    assert.equal(opened.temporaryAccessPass, undefined);
    assert.deepEqual(opened.case.suspendedMethodIds, []);
    assert.equal((await usePasskey(await portalFlow(), target.auth, target.upn)).status, 200, 'nothing suspended before approval');

    await assert.rejects(approveCase(flowCtx(userActor(opener, 'Privileged Authentication Administrator')), opened.case.id, {}), (e: any) => e.status === 403 && /opened the case cannot approve/.test(e.message));
    await assert.rejects(approveCase(flowCtx(userActor(target, 'Privileged Authentication Administrator')), opened.case.id, {}), (e: any) => e.status === 403);
    await assert.rejects(approveCase(flowCtx(userActor(authAdmin, 'Authentication Administrator')), opened.case.id, {}), (e: any) => e.status === 403 && /TAP-9/.test(e.message));

    const approved = await approveCase(flowCtx(userActor(approver, 'Privileged Authentication Administrator')), opened.case.id, { note: 'called back on the number on file' });
    assert.equal(approved.case.state, 'active');
    assert.deepEqual(approved.case.approvedBy, { kind: 'user', id: approver.id, userPrincipalName: approver.upn });
    assert.deepEqual(approved.case.suspendedMethodIds, [target.passkeyId]);
    assert.ok(approved.temporaryAccessPass?.temporaryAccessPass, 'the approver gets the TAP, once');
    assert.equal((await usePasskey(await portalFlow(), target.auth, target.upn)).status, 403);
    const again = await rec('POST', `/cases/${opened.case.id}/approve`, {});
    assert.equal(again.status, 409, 'an active case cannot be approved again');

    const { steps, records } = await auditSteps(opened.case.correlationId);
    assert.deepEqual(steps, [
      ['Opened recovery case'],
      ['Admin registered security info', 'Approved recovery case', 'Invalidate all refresh tokens for user', 'Suspended security info'],
    ]);
    assert.equal(records.find((r) => r.activityDisplayName === 'Approved recovery case').initiatedBy.user.id, approver.id);
    assert.equal((await rec('POST', `/cases/${opened.case.id}/cancel`, {})).status, 200);
  });

  test('RCV-2: an authenticator app (TOTP) is suspended with the passkey: its right code is refused (900207, logged with the case); the clean-up deletes it', async () => {
    const policy = '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/SoftwareOath';
    assert.equal((await h.call('PATCH', policy, { body: { state: 'enabled' } })).status, 204);
    try {
      const u = await userWithPasskey();
      const app = await enrolSoftwareOath({ db: h.database.db, tenantId: h.tenant.tenantId, actor: { kind: 'operator', name: 'test' }, now: new Date() }, u.id);
      const opened = await rec('POST', '/cases', { userId: u.id, verification: evidence });
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      const appId = (await h.database.db.selectFrom('software_oath_methods').select('id').where('user_id', '=', u.id).executeTakeFirstOrThrow()).id;
      assert.deepEqual([...opened.body.case.suspendedMethodIds].sort(), [u.passkeyId, appId].sort(), 'the default is every passkey and authenticator app');
      const listed = await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/softwareOathMethods`);
      assert.equal(listed.body.value[0].isUsable, false);
      assert.equal(listed.body.value[0].methodUsabilityReason, 'SuspendedByRecoveryCase');

      const flowId = await portalFlow();
      assert.equal((await flowApi(`/${flowId}/tap`, { username: u.upn, code: opened.body.temporaryAccessPass.temporaryAccessPass })).status, 200);
      const refused = await flowApi(`/${flowId}/totp`, { code: generateTotp(app.secretKey, new Date()) });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.equal(refused.body.error.errorCode, 900207);
      const logged = (await signIns(u.id)).at(-1);
      assert.equal(logged.status.errorCode, 900207);
      assert.match(logged.status.additionalDetails, new RegExp(`suspended by recovery case ${opened.body.case.id}`));

      assert.equal((await registerIn(flowId, createSoftAuthenticator())).status, 201, 'the case completes');
      const done = await cleanUpRecoveryCases(h.database.db, new Date(Date.now() + 30 * DAY), { tenantId: h.tenant.tenantId });
      assert.ok(done.deletedMethodIds.includes(appId) && done.deletedMethodIds.includes(u.passkeyId), JSON.stringify(done));
      assert.equal((await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/softwareOathMethods`)).body.value.length, 0);
      const deletes = await h.database.db.selectFrom('directory_audits').select('record').where('correlation_id', '=', opened.body.case.correlationId).where('activity_display_name', '=', 'Admin deleted security info').execute();
      assert.deepEqual(deletes.map((d: any) => d.record.additionalDetails.find((x: any) => x.key === 'Method').value).sort(), ['Fido2', 'SoftwareOath']);
    } finally {
      assert.equal((await h.call('PATCH', policy, { body: { state: 'disabled' } })).status, 204);
    }
  });

  test('RCV-3: the clean-up run twice at once deletes each method once and audits it once', async () => {
    const users = [await userWithPasskey(), await userWithPasskey()];
    const cases: any[] = [];
    for (const u of users) {
      const opened = await rec('POST', '/cases', { userId: u.id, verification: { method: 'managerAttestation', reference: 'mgr' } });
      const flowId = await portalFlow();
      assert.equal((await flowApi(`/${flowId}/tap`, { username: u.upn, code: opened.body.temporaryAccessPass.temporaryAccessPass })).status, 200);
      assert.equal((await registerIn(flowId, createSoftAuthenticator())).status, 201);
      cases.push(opened.body.case);
    }
    const at = new Date(Date.now() + 30 * DAY);
    const [a, b] = await Promise.all([cleanUpRecoveryCases(h.database.db, at), cleanUpRecoveryCases(h.database.db, at)]);
    const all = [...a.deletedMethodIds, ...b.deletedMethodIds];
    for (const u of users) assert.equal(all.filter((id) => id === u.passkeyId).length, 1, 'each method deleted once');
    for (const c of cases) {
      const deletes = await h.database.db.selectFrom('directory_audits').select('id').where('correlation_id', '=', c.correlationId).where('activity_display_name', '=', 'Admin deleted security info').execute();
      assert.equal(deletes.length, 1, 'audited once');
    }
  });

  test('notifications: the webhook gets a signed JSON POST per step through the outbox; a receiver that fails twice gets it on the third attempt, audited; never the TAP', async () => {
    const received: { body: string; headers: Record<string, unknown> }[] = [];
    let failures = 2;
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.statusCode = failures-- > 0 ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/recovery`;
    const secret = 'a-webhook-secret-of-some-length';
    try {
      const patched = await rec('PATCH', '/policy', { webhookUrl: url, webhookSecret: secret });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(patched.body, { requireApprovalForAdmins: true, requireApprovalForAll: false, gracePeriodInDays: 7, webhookUrl: url, hasWebhookSecret: true });
      assert.ok(!JSON.stringify((await rec('GET', '/policy')).body).includes(secret), 'the secret is write-only');

      const u = await userWithPasskey();
      const opened = await rec('POST', '/cases', { userId: u.id, verification: { method: 'other', reference: 'r-1' } });
      assert.equal(opened.status, 201);
      const c = opened.body.case;
      const t0 = Date.now();
      let report = await deliverRecoveryNotifications(h.database.db, new Date(t0));
      assert.equal(report.retrying.length, 1);
      report = await deliverRecoveryNotifications(h.database.db, new Date(t0 + 10_000));
      assert.deepEqual(report, { delivered: [], retrying: [], failed: [] }, 'not due yet (backoff)');
      report = await deliverRecoveryNotifications(h.database.db, new Date(t0 + 60_000));
      assert.equal(report.retrying.length, 1);
      report = await deliverRecoveryNotifications(h.database.db, new Date(t0 + 10 * 60_000));
      assert.equal(report.delivered.length, 1);
      assert.equal(received.length, 3);
      assert.equal(new Set(received.map((r) => r.headers['x-gatehouse-delivery'])).size, 1, 'the same delivery id on every attempt');
      const last = received.at(-1)!;
      assert.equal(last.headers['x-gatehouse-event'], 'opened');
      assert.equal(last.headers['x-gatehouse-signature'], `sha256=${createHmac('sha256', secret).update(last.body).digest('hex')}`);
      const payload = JSON.parse(last.body);
      assert.equal(payload.type, 'gatehouse.recovery.opened');
      assert.equal(payload.case.id, c.id);
      assert.equal(payload.case.state, 'active');
      assert.deepEqual(payload.case.suspendedMethodIds, [u.passkeyId]);
      assert.ok(!last.body.includes(opened.body.temporaryAccessPass.temporaryAccessPass), 'never the TAP');
      const audits = await h.database.db.selectFrom('directory_audits').select('record').where('correlation_id', '=', c.correlationId).where('activity_display_name', '=', 'Delivered recovery notification').execute();
      assert.equal(audits.length, 1);
      assert.equal((audits[0]!.record as any).result, 'success');

      // The cancel notification is queued in the cancel's transaction.
      assert.equal((await rec('POST', `/cases/${c.id}/cancel`, {})).status, 200);
      report = await deliverRecoveryNotifications(h.database.db, new Date(Date.now() + 1000));
      assert.equal(report.delivered.length, 1);
      assert.equal(JSON.parse(received.at(-1)!.body).type, 'gatehouse.recovery.cancelled');
    } finally {
      await rec('PATCH', '/policy', { webhookUrl: null, webhookSecret: null });
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });

  test('notifications: a receiver that never answers 2xx fails for good after the last attempt, audited as a failure', async () => {
    const receiver: Server = createServer((_req, res) => { res.statusCode = 500; res.end(); });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
    try {
      assert.equal((await rec('PATCH', '/policy', { webhookUrl: url })).status, 200);
      const u = await userWithPasskey();
      const opened = await rec('POST', '/cases', { userId: u.id, verification: { method: 'other', reference: 'r-2' } });
      let at = Date.now();
      let failed: string[] = [];
      for (let i = 0; i < 12 && failed.length === 0; i++) {
        at += 2 * 3_600_000;
        failed = (await deliverRecoveryNotifications(h.database.db, new Date(at))).failed;
      }
      assert.equal(failed.length, 1);
      const audit = await h.database.db.selectFrom('directory_audits').select('record').where('correlation_id', '=', opened.body.case.correlationId).where('activity_display_name', '=', 'Recovery notification delivery failed').executeTakeFirstOrThrow();
      assert.equal((audit.record as any).result, 'failure');
      assert.match((audit.record as any).resultReason, /8 attempts; last: HTTP 500/);
      assert.equal((await rec('POST', `/cases/${opened.body.case.id}/cancel`, {})).status, 200);
    } finally {
      await rec('PATCH', '/policy', { webhookUrl: null });
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });

  test('authentication: no token is 401; the policy rejects bad values naming the field', async () => {
    const anon = await h.call('POST', '/api/recovery/cases', { token: null, body: {} });
    assert.equal(anon.status, 401);
    for (const [body, field] of [
      [{ gracePeriodInDays: -1 }, 'gracePeriodInDays'], [{ webhookUrl: 'ftp://x.test/' }, 'webhookUrl'], [{ webhookSecret: 'short' }, 'webhookSecret'], [{ colour: 1 }, 'colour'],
    ] as const) {
      const r = await rec('PATCH', '/policy', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.target, field);
    }
  });

  test('bad input: any malformed open body is a 400 naming a field, never a 500, and opens nothing', async () => {
    const u = await newUser({ tap: false });
    const before = await h.database.db.selectFrom('recovery_cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const good = { userId: u.id, verification: { method: 'inPerson', reference: 'ok' } };
    const mutation = fc.oneof(
      fc.record({ userId: fc.oneof(fc.constant(''), fc.integer(), fc.constant(null), fc.string({ minLength: 257, maxLength: 300 })) }),
      fc.record({ verification: fc.oneof(fc.constant(null), fc.string(), fc.record({ method: fc.string().filter((s) => !['inPerson', 'videoCall', 'managerAttestation', 'helpdeskTicket', 'other'].includes(s)), reference: fc.constant('x') })) }),
      fc.record({ verification: fc.record({ method: fc.constant('inPerson'), reference: fc.oneof(fc.constant(''), fc.constant('a\u0000b'), fc.string({ minLength: 201, maxLength: 250 })) }) }),
      fc.record({ methodIds: fc.oneof(fc.constant([]), fc.array(fc.string(), { minLength: 1, maxLength: 3 }), fc.constant('all'), fc.array(fc.uuid(), { minLength: 21, maxLength: 22 })) }),
      fc.record({ temporaryAccessPassLifetimeInMinutes: fc.oneof(fc.double({ min: 0.1, max: 100, noInteger: true }), fc.string(), fc.constant(1), fc.constant(1_000_000)) }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['userId', 'verification', 'methodIds', 'temporaryAccessPassLifetimeInMinutes', '__proto__'].includes(k)), fc.jsonValue(), { minKeys: 1, maxKeys: 2 }),
    );
    await fc.assert(fc.asyncProperty(mutation, async (m) => {
      const body = { ...good, ...m };
      const r = await rec('POST', '/cases', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.ok(typeof r.body.error.target === 'string' && r.body.error.target.length > 0, JSON.stringify(r.body));
    }), { numRuns: 60 });
    const afterCount = await h.database.db.selectFrom('recovery_cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n), 'no partial writes');
  });
});
