import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { createWebApp, freePort, startHarness, type Harness } from '../../support/harness.ts';
import { authorize, Browser } from '../../support/oidcBrowser.ts';
import { assertEverySignInReplays } from '../../support/replayCheck.ts';

/**
 * PLT-6, SIG-1, LOG-1: every refresh is a non-interactive sign-in that the engine decides again,
 * over the original sign-in's app and request and its session's performed methods and times. A
 * policy that now blocks, or a sign-in frequency that has elapsed, refuses the refresh with
 * `invalid_grant`, and the non-interactive record carries the decision's trace. The server's
 * clock (startHarness `clock`) is moved forward to let a sign-in frequency elapse.
 */

type SignInRow = { record: any };

describe('refresh re-decides Conditional Access (PLT-6, SIG-1, LOG-1)', () => {
  let h: Harness;
  let offsetMs = 0;
  let redirectUri: string;
  let seq = 0;
  const web = { appId: '', secret: '' };

  before(async () => {
    h = await startHarness({ clock: () => new Date(Date.now() + offsetMs) });
    redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    Object.assign(web, await createWebApp(h, 'Chat', redirectUri));
  });
  after(async () => {
    try {
      if (h) await assertEverySignInReplays(h); // WIF-2: every record with a decision, refreshes included, replays to it
    } finally {
      await h?.close();
    }
  });

  const discover = () => client.discovery(new URL(h.tenant.issuer), web.appId, undefined, client.ClientSecretPost(web.secret), { execute: [client.allowInsecureRequests] });
  const flowApi = (path: string, body: unknown) => h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in${path}`, { token: null, body });
  const refreshRecords = async (userId: string) => (await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', userId).orderBy('created_date_time').execute() as SignInRow[])
    .map((r) => r.record).filter((r) => r.isInteractive === false);
  const createPolicy = async (body: Record<string, unknown>) => {
    const res = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/policies', { body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const deletePolicy = async (id: string) => {
    const res = await h.call('DELETE', `/graph/v1.0/identity/conditionalAccess/policies/${id}`);
    assert.equal(res.status, 204, JSON.stringify(res.body));
  };

  /** A user with a multi-use TAP signs in to Chat (authorization code + PKCE) and the app gets tokens. */
  const signedIn = async () => {
    seq++;
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Refresh user ${seq}`, userPrincipalName: `refresh${seq}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    const pass = await h.call('POST', `/graph/v1.0/users/${u.body.id}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes: 480, isUsableOnce: false } });
    assert.equal(pass.status, 201, JSON.stringify(pass.body));
    const config = await discover();
    const browser = new Browser();
    const { verifier, state, uid } = await authorize(browser, config, { redirect_uri: redirectUri, scope: 'openid profile offline_access' });
    const started = await flowApi('', { clientId: web.appId, interactionUid: uid, capabilities: { webauthn: false } });
    const step = await flowApi(`/${started.body.flowId}/tap`, { username: u.body.userPrincipalName, code: pass.body.temporaryAccessPass });
    assert.equal(step.status, 200, JSON.stringify(step.body));
    assert.equal(step.body.decision.outcome, 'grant', JSON.stringify(step.body.decision));
    const done = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/complete`, { method: 'POST', body: { flowId: started.body.flowId } });
    const body = await done.json() as { redirectTo: string };
    assert.equal(done.status, 200, JSON.stringify(body));
    const callback = await browser.follow(body.redirectTo, redirectUri);
    const tokens = await client.authorizationCodeGrant(config, callback.url, { pkceCodeVerifier: verifier, expectedState: state });
    return { config, tokens, userId: u.body.id as string, correlationId: step.body.correlationId as string };
  };

  /** A refresh straight at the token endpoint, to read the status and the error body. */
  const rawRefresh = async (refreshToken: string) => {
    const res = await fetch(`${h.tenant.issuer}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: web.appId, client_secret: web.secret, refresh_token: refreshToken }),
    });
    return { status: res.status, body: await res.json() as { error?: string; error_description?: string; refresh_token?: string } };
  };

  test('unchanged policies: the refresh is granted, and its record shows the CA results and the decision', async () => {
    const mfa = await createPolicy({
      displayName: 'Chat needs MFA', state: 'enabled',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: [web.appId] }, clientAppTypes: ['all'] },
      grantControls: { operator: 'OR', builtInControls: ['mfa'] },
    });
    try {
      const s = await signedIn();
      const refreshed = await client.refreshTokenGrant(s.config, s.tokens.refresh_token!);
      assert.ok(refreshed.refresh_token);
      const [r] = await refreshRecords(s.userId);
      assert.equal(r.status.errorCode, 0, JSON.stringify(r.status));
      assert.equal(r.isInteractive, false);
      assert.equal(r.conditionalAccessStatus, 'success');
      const applied = r.appliedConditionalAccessPolicies.find((p: any) => p.id === mfa);
      assert.equal(applied.result, 'success', JSON.stringify(r.appliedConditionalAccessPolicies));
      assert.equal(r.gatehouseDecision.outcome, 'grant');
      assert.equal(r.gatehouseOriginalCorrelationId, s.correlationId, 'the refresh names the sign-in it was decided over');
      assert.equal(r.gatehouseSessionSource, 'signInSession');
      assert.equal(r.authenticationRequirement, 'multiFactorAuthentication');
    } finally {
      await deletePolicy(mfa);
    }
  });

  test('PLT-6 to the millisecond: sessions revoked in the sign-in\'s own second, after its factor, end its refresh tokens (50173)', async () => {
    const s = await signedIn();
    const flow = await h.database.db.selectFrom('sign_in_flows').select('state').where('user_id', '=', s.userId).executeTakeFirstOrThrow();
    const factorAt = Date.parse((flow.state as { performed: { at: string }[] }).performed.at(-1)!.at);
    // One millisecond after the factor: `auth_time` (whole seconds) can't tell them apart, the saved session's times can.
    const validFrom = new Date(factorAt + 1);
    await h.database.db.updateTable('users').set({ sign_in_sessions_valid_from: validFrom }).where('id', '=', s.userId).execute();
    if (factorAt % 1000 !== 999) assert.equal(Math.floor(validFrom.getTime() / 1000), s.tokens.claims()!.auth_time, 'the revocation falls in the second of auth_time');
    const refused = await rawRefresh(s.tokens.refresh_token!);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'invalid_grant');
    const [r] = await refreshRecords(s.userId);
    assert.equal(r.status.errorCode, 50173, JSON.stringify(r.status));
    assert.equal(r.isInteractive, false);
  });

  test('a new block policy: the next refresh fails 400 invalid_grant (53003), and the log says which policy', async () => {
    const s = await signedIn();
    const first = await client.refreshTokenGrant(s.config, s.tokens.refresh_token!);
    const block = await createPolicy({
      displayName: 'Block Chat', state: 'enabled',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: [web.appId] }, clientAppTypes: ['all'] },
      grantControls: { operator: 'OR', builtInControls: ['block'] },
    });
    try {
      const refused = await rawRefresh(first.refresh_token!);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
      assert.match(refused.body.error_description!, /AADSTS53003/);
      assert.match(refused.body.error_description!, /sign the user in interactively/);
      const records = await refreshRecords(s.userId);
      assert.equal(records.length, 2, JSON.stringify(records.map((r) => r.status)));
      const r = records[1];
      assert.equal(r.status.errorCode, 53003, JSON.stringify(r.status));
      assert.equal(r.conditionalAccessStatus, 'failure');
      const applied = r.appliedConditionalAccessPolicies.find((p: any) => p.id === block);
      assert.equal(applied.result, 'failure', JSON.stringify(r.appliedConditionalAccessPolicies));
      assert.equal(applied.displayName, 'Block Chat');
      assert.equal(r.gatehouseDecision.outcome, 'block');
      assert.equal(r.authenticationDetails[0].succeeded, false);
      // Refused before oidc-provider spent the token: the same token works again once the policy is gone.
      await deletePolicy(block);
      const again = await rawRefresh(first.refresh_token!);
      assert.equal(again.status, 200, JSON.stringify(again.body));
    } catch (err) {
      await deletePolicy(block).catch(() => {});
      throw err;
    }
  });

  test('a sign-in frequency of 1 hour: a refresh 2 hours after the sign-in fails with 70043', async () => {
    const sif = await createPolicy({
      displayName: 'Chat: sign in every hour', state: 'enabled',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: [web.appId] }, clientAppTypes: ['all'] },
      grantControls: { operator: 'OR', builtInControls: ['mfa'] },
      sessionControls: { signInFrequency: { isEnabled: true, type: 'hours', value: 1, frequencyInterval: 'timeBased', authenticationType: 'primaryAndSecondaryAuthentication' } },
    });
    try {
      const s = await signedIn();
      offsetMs = 30 * 60_000; // 30 minutes later: within the hour
      const ok = await client.refreshTokenGrant(s.config, s.tokens.refresh_token!);
      offsetMs = 2 * 3600_000; // 2 hours later
      const refused = await rawRefresh(ok.refresh_token!);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
      assert.match(refused.body.error_description!, /AADSTS70043/);
      const records = await refreshRecords(s.userId);
      assert.deepEqual(records.map((r) => r.status.errorCode), [0, 70043]);
      const applied = records[1].appliedConditionalAccessPolicies.find((p: any) => p.id === sif);
      assert.ok(applied, JSON.stringify(records[1].appliedConditionalAccessPolicies));
      assert.match(JSON.stringify(applied.enforcedSessionControls), /SignInFrequency/);
      assert.match(records[1].status.failureReason, /frequency|Chat: sign in every hour/i);
    } finally {
      offsetMs = 0;
      await deletePolicy(sif);
    }
  });

  test('a Grant without a saved session (made before sessions were saved) is decided over the refresh token\'s amr', async () => {
    const mfa = await createPolicy({
      displayName: 'Chat needs MFA (legacy grant)', state: 'enabled',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: [web.appId] }, clientAppTypes: ['all'] },
      grantControls: { operator: 'OR', builtInControls: ['mfa'] },
    });
    try {
      const s = await signedIn();
      const deleted = await h.database.db.deleteFrom('oidc_artefacts').where('model', '=', 'GatehouseSignInSession').where('account_id', '=', s.userId).executeTakeFirst();
      assert.equal(Number(deleted.numDeletedRows), 1, 'one saved session per sign-in');
      await client.refreshTokenGrant(s.config, s.tokens.refresh_token!);
      const [r] = await refreshRecords(s.userId);
      assert.equal(r.status.errorCode, 0, JSON.stringify(r.status));
      assert.equal(r.gatehouseSessionSource, 'refreshTokenAmr');
      assert.equal(r.gatehouseOriginalCorrelationId, undefined);
      assert.deepEqual(r.gatehouseInput.session.performed.map((p: any) => p.mode), ['temporaryAccessPassMultiUse'], 'tap in amr: a TAP was performed');
      assert.equal(r.appliedConditionalAccessPolicies.find((p: any) => p.id === mfa).result, 'success');
    } finally {
      await deletePolicy(mfa);
    }
  });

  test('a spent refresh token is still reuse (70000), not re-decided', async () => {
    const s = await signedIn();
    await client.refreshTokenGrant(s.config, s.tokens.refresh_token!);
    const reused = await rawRefresh(s.tokens.refresh_token!);
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error, 'invalid_grant');
    const records = await refreshRecords(s.userId);
    assert.deepEqual(records.map((r) => r.status.errorCode), [0, 70000]);
  });
});
