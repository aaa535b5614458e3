import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { createWebApp, freePort, startHarness, type Harness } from '../../support/harness.ts';
import { Browser } from '../../support/oidcBrowser.ts';
import { tapSignInForAuthorization } from '../../support/flowApi.ts';

/**
 * Completing an authorization request with a sign-in flow (interactions.ts `finishInteraction`):
 * the request's checks run on the flow in the completion's own transaction (one lock, one read of
 * the flow). A refusal leaves the flow uncompleted, and the max_age refusal keeps its sign-in
 * record (LOG-1). Also: the steps' records carry the app's name kept by the flow's start, and a
 * user disabled after completion gets no code at the resume (DIR-2). The flow API's clock is moved back for the factor to age the sign-in, without waiting.
 */

type Row = { record: any };

describe('completing an authorization with a sign-in flow: checks in the completion\'s transaction', () => {
  let h: Harness;
  let redirectUri: string;
  let offsetMs = 0;
  let seq = 0;
  const web = { appId: '', secret: '', displayName: 'Completion app' };

  before(async () => {
    h = await startHarness({ clock: () => new Date(Date.now() + offsetMs) });
    redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    Object.assign(web, await createWebApp(h, web.displayName, redirectUri));
  });
  after(async () => { await h.close(); });

  const discover = () => client.discovery(new URL(h.tenant.issuer), web.appId, undefined, client.ClientSecretPost(web.secret), { execute: [client.allowInsecureRequests] });
  const records = async (correlationId: string) =>
    (await h.database.db.selectFrom('sign_ins').select('record').where('correlation_id', '=', correlationId).execute() as Row[]).map((r) => r.record);
  const flowState = async (flowId: string) =>
    (await h.database.db.selectFrom('sign_in_flows').select('state').where('id', '=', flowId).executeTakeFirstOrThrow()).state as { completedAt?: string | null; appDisplayName?: string };

  const newUserWithTap = async () => {
    seq++;
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Completion user ${seq}`, userPrincipalName: `completion${seq}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    // Started a minute ago, so a step taken on a clock moved back still finds it valid.
    const pass = await h.call('POST', `/graph/v1.0/users/${u.body.id}/authentication/temporaryAccessPassMethods`, {
      body: { lifetimeInMinutes: 480, isUsableOnce: false, startDateTime: new Date(Date.now() - 60_000).toISOString() },
    });
    assert.equal(pass.status, 201, JSON.stringify(pass.body));
    return { id: u.body.id as string, upn: u.body.userPrincipalName as string, code: pass.body.temporaryAccessPass as string };
  };

  /** Authorization request → flow start → TAP step (grant); returns what completing needs. */
  const signIn = (config: client.Configuration, browser: Browser, user: { upn: string; code: string }, extra: Record<string, string> = {}) =>
    tapSignInForAuthorization(h, browser, config, { appId: web.appId, redirectUri, scope: 'openid profile' }, user, extra);

  const complete = async (browser: Browser, uid: string, flowId: string) => {
    const res = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/complete`, { method: 'POST', body: { flowId } });
    return { status: res.status, body: await res.json() as any };
  };

  test('max_age refused at completion: the 70043 record is written, the flow stays uncompleted, and refuses again the same way', async () => {
    const user = await newUserWithTap();
    const config = await discover();
    const browser = new Browser();
    // The factor is taken 10 s in the past (the flow API's clock); completion keeps the wall clock.
    offsetMs = -10_000;
    try {
      const s = await signIn(config, browser, user, { max_age: '1' });
      offsetMs = 0;
      assert.equal((await flowState(s.flowId)).appDisplayName, web.displayName, 'the start keeps the app\'s name in the flow');
      const refused = await complete(browser, s.uid, s.flowId);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'SignInFrequency');
      assert.equal((await flowState(s.flowId)).completedAt ?? null, null, 'the refusal does not spend the flow');
      let logged = (await records(s.correlationId)).filter((r) => r.status.errorCode === 70043);
      assert.equal(logged.length, 1, 'one SignInFrequency record');
      assert.equal(logged[0].userId, user.id);
      assert.equal(logged[0].appId, web.appId.toLowerCase());
      assert.equal(logged[0].appDisplayName, web.displayName);
      assert.match(logged[0].status.additionalDetails, /max_age: the app asked for an authentication at most 1 s old/);

      // Still not completed: a second try is refused by max_age again (not "already completed"), with its own record.
      const again = await complete(browser, s.uid, s.flowId);
      assert.equal(again.status, 409, JSON.stringify(again.body));
      assert.equal(again.body.error.code, 'SignInFrequency');
      logged = (await records(s.correlationId)).filter((r) => r.status.errorCode === 70043);
      assert.equal(logged.length, 2);
      assert.equal((await flowState(s.flowId)).completedAt ?? null, null);
    } finally {
      offsetMs = 0;
    }
  });

  test('a flow started for another interaction is refused (InteractionMismatch) and stays usable for its own; completion is single use', async () => {
    const user = await newUserWithTap();
    const config = await discover();
    const browser = new Browser();
    const first = await signIn(config, browser, user);
    const firstState = await flowState(first.flowId);
    // A second authorization request in the same browser: its interaction is the pending one now.
    const second = await signIn(config, browser, user);
    const wrong = await complete(browser, second.uid, first.flowId);
    assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
    assert.equal(wrong.body.error.code, 'InteractionMismatch');
    assert.deepEqual(await flowState(first.flowId), firstState, 'the refused flow is left as it was');

    const ok = await complete(browser, second.uid, second.flowId);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok((await flowState(second.flowId)).completedAt);
    const callback = (await browser.follow(ok.body.redirectTo, redirectUri)).url;
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: second.verifier, expectedState: second.state, expectedNonce: second.nonce });
    const claims = tokens.claims()!;
    assert.equal(claims.sub, user.id);
    assert.equal(claims.preferred_username, user.upn);
    assert.ok((claims.amr as string[]).includes('tap'), JSON.stringify(claims.amr));
    // The TAP step's record names the app by the name the flow's start kept.
    const stepRecords = await records(second.correlationId);
    assert.ok(stepRecords.length >= 1);
    for (const r of stepRecords) assert.equal(r.appDisplayName, web.displayName);

    const reused = await complete(browser, second.uid, second.flowId);
    assert.ok(reused.status >= 400 && reused.status < 500, JSON.stringify(reused.body));
  });

  test('DIR-2: a user disabled between completion and resume gets no code: the resume refuses', async () => {
    const user = await newUserWithTap();
    const config = await discover();
    const browser = new Browser();
    const s = await signIn(config, browser, user);
    const done = await complete(browser, s.uid, s.flowId);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const disabled = await h.call('PATCH', `/graph/v1.0/users/${user.id}`, { body: { accountEnabled: false } });
    assert.equal(disabled.status, 204, JSON.stringify(disabled.body));
    const back = await browser.follow(done.body.redirectTo, redirectUri);
    assert.ok(back.url.href.startsWith(redirectUri), `the app gets an answer, not a server error page: ${back.res.status} ${await back.res.text()}`);
    assert.equal(back.url.searchParams.get('error'), 'access_denied');
    assert.match(back.url.searchParams.get('error_description') ?? '', /disabled/);
    assert.equal(back.url.searchParams.get('code'), null, 'no code for a disabled user');
    // The same browser's next authorization request (prompt=none) is not a server error either.
    const again = await browser.request(client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid', prompt: 'none', state: 'x', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    }));
    assert.ok(again.status < 500, `${again.status} ${await again.text()}`);
    const location = new URL(again.headers.get('location') ?? redirectUri);
    assert.equal(location.searchParams.get('code'), null);
  });
});
