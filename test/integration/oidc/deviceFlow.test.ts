import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { initTenant } from '../../../src/flows/init/flow.ts';
import { coverDeviceRegistrationWithCa002, DEVICE_REGISTRATION, setUpDeviceEnrolment, type CommonTenant } from '../../support/commonTenant.ts';
import { startHarness, type Harness } from '../../support/harness.ts';
import { Browser } from '../../support/oidcBrowser.ts';
import { assertEverySignInReplays } from '../../support/replayCheck.ts';
import { assertWhatIfMatchesLatest } from '../../support/whatIfCheck.ts';

/**
 * SC-5: a new laptop enrols through the OAuth device authorization grant on behalf of the device
 * registration app (its sign-ins carry `urn:user:registerdevice`); the browser completing it
 * declares no WebAuthn capability. openid-client is the device (initiateDeviceAuthorization, then
 * pollDeviceAuthorizationGrant); the user's browser is fetch with a cookie jar, through the
 * device pages (src/http/pages/device.ts) and the flow API calls the sign-in page makes.
 */

type SignInRow = { record: any };

/** The hidden anti-forgery field of a device page's form. */
const xsrfOf = (html: string) => /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? assert.fail(`no xsrf field in ${html.slice(0, 400)}`);

describe('SC-5 device enrolment with a TAP: OAuth device authorization grant (CA-2, CA-6, PLT-4, PLT-5, LOG-1)', () => {
  let h: Harness;
  let common: CommonTenant;
  let ca003 = '';
  let user = { id: '', upn: '', code: '' };
  let config: client.Configuration;

  before(async () => {
    h = await startHarness();
    ({ common, ca003, user, config } = await setUpDeviceEnrolment(h));
  });
  after(async () => {
    try {
      if (h) await assertEverySignInReplays(h); // WIF-2: every record with a decision, refreshes included, replays to it
    } finally {
      await h?.close();
    }
  });

  const flowApi = (path: string, body: unknown) => h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in${path}`, { token: null, body });
  const records = async (correlationId: string) => (await h.database.db.selectFrom('sign_ins').select('record').where('correlation_id', '=', correlationId)
    .orderBy('created_date_time').execute() as SignInRow[]).map((r) => r.record);

  const correlationOf = async (flowId: string) => ((await h.database.db.selectFrom('sign_in_flows').select('state').where('id', '=', flowId).executeTakeFirstOrThrow()).state as { correlationId: string }).correlationId;

  /** A form post from the browser (the device pages are plain HTML forms). */
  const postForm = async (browser: Browser, url: string | URL, fields: Record<string, string>) => {
    const u = new URL(url);
    const res = await fetch(u, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: browser.jar.header(u) },
    });
    browser.jar.store(res);
    return res;
  };

  /** The device starts; a fast poll interval keeps the test short (oidc-provider sets none, RFC 8628's default is 5 s). */
  const startDevice = async () => {
    const da = await client.initiateDeviceAuthorization(config, { scope: 'openid profile offline_access' });
    const polled = client.pollDeviceAuthorizationGrant(config, { ...da, interval: 0.2 });
    polled.catch(() => {}); // awaited by each test; avoid an unhandled rejection meanwhile
    return { da, polled };
  };

  /** The user types the code at /{tenant}/device, confirms, and lands on the sign-in page. */
  const enterCode = async (browser: Browser, userCode: string, tenantId = h.tenant.tenantId) => {
    const short = await browser.request(`${h.baseUrl}/${tenantId}/device`);
    assert.equal(short.status, 303);
    const devicePage = new URL(short.headers.get('location')!, h.baseUrl);
    assert.equal(devicePage.pathname, `/${tenantId}/v2.0/device`);
    const input = await browser.request(devicePage);
    const inputHtml = await input.text();
    assert.equal(input.status, 200, inputHtml);
    assert.match(inputHtml, /<label for="user-code">Code<\/label>/);
    assert.match(inputHtml, /href="\/assets\/sign-in.css"/, 'the sign-in page\'s look');
    const confirm = await postForm(browser, devicePage, { xsrf: xsrfOf(inputHtml), user_code: userCode });
    return { devicePage, confirm, html: await confirm.text() };
  };

  const confirmAndSignInPage = async (browser: Browser, userCode: string) => {
    const { devicePage, confirm, html } = await enterCode(browser, userCode);
    assert.equal(confirm.status, 200, html);
    assert.match(html, /Device Registration Service/, 'the confirm page names the app');
    assert.ok(html.includes(userCode), 'and shows the code to compare with the device');
    const go = await postForm(browser, devicePage, { xsrf: xsrfOf(html), user_code: userCode, confirm: 'yes' });
    assert.ok([302, 303].includes(go.status), `${go.status} ${await go.text()}`);
    const signIn = new URL(go.headers.get('location')!, devicePage);
    assert.equal(signIn.pathname, `/${h.tenant.tenantId}/sign-in`);
    const pageRes = await browser.request(signIn);
    const pageHtml = await pageRes.text();
    assert.equal(pageRes.status, 200, pageHtml);
    assert.match(pageHtml, /data-transfer-method="deviceCodeFlow"/);
    assert.match(pageHtml, /data-user-action="urn:user:registerdevice"/);
    return { uid: signIn.searchParams.get('uid')! };
  };

  /** What the sign-in page's script does for this interaction in a browser without WebAuthn. */
  const tapSignIn = async (uid: string) => {
    const started = await flowApi('', {
      clientId: DEVICE_REGISTRATION, userAction: 'urn:user:registerdevice', interactionUid: uid, capabilities: { webauthn: false }, transferMethod: 'deviceCodeFlow',
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const step = await flowApi(`/${started.body.flowId}/tap`, { username: user.upn, code: user.code });
    return { flowId: started.body.flowId as string, step };
  };

  test('SC-5 step 1: TAP satisfies CA003 (mfa); no registration, no nudge; tokens with amr tap; the log shows deviceCodeFlow', async () => {
    const { da, polled } = await startDevice();
    assert.match(da.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(da.verification_uri, `${h.tenant.issuer}/device`);
    const browser = new Browser();
    const { uid } = await confirmAndSignInPage(browser, da.user_code);
    const { flowId, step } = await tapSignIn(uid);
    assert.equal(step.status, 200, JSON.stringify(step.body));
    const d = step.body.decision;
    assert.equal(d.outcome, 'grant', JSON.stringify(d));
    assert.equal(d.registration, null, 'no registration interrupt (PLT-4)');
    assert.equal(d.nudge, null, 'no campaign nudge in a client that can\'t register (PLT-5)');
    await assertWhatIfMatchesLatest(h, user.id); // What-If for this situation predicts the live decision

    const complete = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/complete`, { method: 'POST', body: { flowId } });
    const completed = await complete.json() as { redirectTo: string };
    assert.equal(complete.status, 200, JSON.stringify(completed));
    const done = await browser.follow(completed.redirectTo, 'http://never.example');
    const doneHtml = await done.res.text();
    assert.equal(done.res.status, 200, doneHtml);
    assert.match(doneHtml, /You’re signed in/);
    assert.match(doneHtml, /Device Registration Service/);

    const tokens = await polled;
    const claims = tokens.claims()!;
    assert.equal(claims.sub, user.id);
    assert.ok((claims.amr as string[]).includes('tap'), JSON.stringify(claims.amr));
    assert.ok(tokens.refresh_token, 'offline_access: the device can refresh');

    const logged = await records(await correlationOf(flowId));
    assert.ok(logged.length >= 1);
    for (const r of logged) {
      assert.equal(r.originalTransferMethod, 'deviceCodeFlow', 'every step of a device-flow sign-in (LOG-1)');
      assert.equal(r.authenticationProtocol, 'deviceCode');
    }
    const last = logged.at(-1);
    assert.equal(last.status.errorCode, 0);
    assert.equal(last.appId, DEVICE_REGISTRATION);
    const byId = new Map<string, any>(last.appliedConditionalAccessPolicies.map((p: any) => [p.id, p]));
    assert.equal(byId.get(ca003)?.result, 'success', JSON.stringify(last.appliedConditionalAccessPolicies));
    assert.equal(byId.get(common.ca002)?.result, 'notApplied', 'CA002 excludes the device registration app');
    assert.equal(last.gatehouseDecision.outcome, 'grant');

    // The device's refresh is re-decided (PLT-6) as a device-flow sign-in and granted.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token);
    const refresh = (await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', user.id).execute() as SignInRow[])
      .map((r) => r.record).filter((r) => r.isInteractive === false);
    assert.equal(refresh.length, 1);
    assert.equal(refresh[0].status.errorCode, 0);
    assert.equal(refresh[0].originalTransferMethod, 'deviceCodeFlow');

    // Replay: the same user code again is refused on the page, and the device code is spent.
    const replay = await enterCode(new Browser(), da.user_code);
    assert.equal(replay.confirm.status, 400, replay.html);
    assert.match(replay.html, /already been used/);
    assert.match(replay.html, /role="alert"/);
    assert.match(replay.html, /aria-invalid="true"/);
  });

  test('SC-5 step 2: CA002 no longer excludes device registration: PLT-4 can\'t register in this client (900404 naming CA002); the device gets access_denied; the record says why', async () => {
    const restore = await coverDeviceRegistrationWithCa002(h, common.ca002);
    try {
      const { da, polled } = await startDevice();
      const browser = new Browser();
      const { uid } = await confirmAndSignInPage(browser, da.user_code);
      const { flowId, step } = await tapSignIn(uid);
      assert.equal(step.status, 403, JSON.stringify(step.body));
      assert.equal(step.body.error.errorCode, 900404, JSON.stringify(step.body));
      assert.equal(step.body.error.code, 'RegistrationNotPossibleInClient');
      assert.match(step.body.error.message, /CA002/);
      assert.match(step.body.error.message, /PLT-4/);

      // The page ends the device's request with the refusal (abort with the flow), and shows the device page's answer.
      const abort = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/abort`, { method: 'POST', body: { flowId } });
      const aborted = await abort.json() as { redirectTo: string };
      assert.equal(abort.status, 200, JSON.stringify(aborted));
      const end = await browser.follow(aborted.redirectTo, 'http://never.example');
      const endHtml = await end.res.text();
      assert.equal(end.res.status, 403, endHtml);
      assert.match(endHtml, /You can’t sign in on this device/);
      assert.match(endHtml, /Error code: 900404/);
      assert.match(endHtml, /CA002/);

      await assert.rejects(polled, (err: any) => {
        assert.equal(err.error, 'access_denied', String(err));
        assert.match(err.error_description, /AADSTS900404/);
        assert.match(err.error_description, /CA002/);
        return true;
      });

      const logged = await records(await correlationOf(flowId));
      const refused = logged.at(-1);
      assert.equal(refused.status.errorCode, 900404, JSON.stringify(refused.status));
      await assertWhatIfMatchesLatest(h, refused.userId);
      assert.match(refused.status.failureReason, /CA002/);
      assert.equal(refused.originalTransferMethod, 'deviceCodeFlow');
      assert.equal(refused.authenticationProtocol, 'deviceCode');
      const ca2 = refused.appliedConditionalAccessPolicies.find((p: any) => p.id === common.ca002);
      assert.equal(ca2.result, 'failure', JSON.stringify(ca2));
      assert.ok(refused.authenticationRequirementPolicies.some((p: any) => JSON.stringify(p).includes('PLT-4')), JSON.stringify(refused.authenticationRequirementPolicies));
    } finally {
      await restore();
    }
  });

  test('a flow started without the device transfer method can\'t complete a device code (InteractionMismatch)', async () => {
    const { da, polled } = await startDevice();
    const browser = new Browser();
    const { uid } = await confirmAndSignInPage(browser, da.user_code);
    const started = await flowApi('', { clientId: DEVICE_REGISTRATION, userAction: 'urn:user:registerdevice', interactionUid: uid, capabilities: { webauthn: false } });
    const step = await flowApi(`/${started.body.flowId}/tap`, { username: user.upn, code: user.code });
    assert.equal(step.body.decision.outcome, 'grant');
    const complete = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/complete`, { method: 'POST', body: { flowId: started.body.flowId } });
    const body = await complete.json() as { error: { code: string } };
    assert.equal(complete.status, 400, JSON.stringify(body));
    assert.equal(body.error.code, 'InteractionMismatch');
    // The user cancels: the device gets access_denied (cancelled).
    const abort = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/abort`, { method: 'POST', body: {} });
    const end = await browser.follow(((await abort.json()) as { redirectTo: string }).redirectTo, 'http://never.example');
    assert.match(await end.res.text(), /Device sign-in cancelled/);
    await assert.rejects(polled, (err: any) => err.error === 'access_denied' && /cancelled/.test(err.error_description));
  });

  test('unknown, expired and other-tenant codes get a clear page; a wrong anti-forgery field is refused', async () => {
    const unknown = await enterCode(new Browser(), 'BCDF-GHJK');
    assert.equal(unknown.confirm.status, 400, unknown.html);
    assert.match(unknown.html, /isn’t valid here/);
    assert.match(unknown.html, /value="BCDF-GHJK"/, 'what the user typed stays in the field');

    const { da, polled } = await startDevice();
    // Another tenant on this server: a code is only valid at the tenant that issued it.
    const other = await initTenant(h.database.db, { tenant: 'Fabrikam', admin: 'admin@fabrikam.test' }, h.baseUrl, new Date());
    const elsewhere = await enterCode(new Browser(), da.user_code, other.tenantId);
    assert.equal(elsewhere.confirm.status, 400, elsewhere.html);
    assert.match(elsewhere.html, /another organisation/);

    // Expired: the stored code's lifetime has run out.
    const past = new Date(Date.now() - 1000);
    await h.database.db.updateTable('oidc_artefacts').set({ expires_at: past }).where('model', '=', 'DeviceCode').where('user_code', '=', da.user_code.replace('-', '')).execute();
    const expired = await enterCode(new Browser(), da.user_code);
    assert.equal(expired.confirm.status, 400, expired.html);
    assert.match(expired.html, /may have expired/);
    await assert.rejects(polled, (err: any) => ['expired_token', 'invalid_grant'].includes(err.error));

    const browser = new Browser();
    const input = await browser.request(`${h.tenant.issuer}/device`);
    await input.text();
    const forged = await postForm(browser, `${h.tenant.issuer}/device`, { xsrf: 'forged', user_code: 'BCDF-GHJK' });
    const forgedHtml = await forged.text();
    assert.equal(forged.status, 400, forgedHtml);
    assert.match(forgedHtml, /xsrf token invalid/);

    // A user code in the short link is carried to the device page.
    const short = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/device?user_code=BCDF-GHJK`);
    assert.equal(short.headers.get('location'), `/${h.tenant.tenantId}/v2.0/device?user_code=BCDF-GHJK`);
  });

  test('who may use the device code grant: the device registration app and native public clients; not a web app', async () => {
    const meta = await (await fetch(`${h.tenant.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    assert.equal(meta.device_authorization_endpoint, `${h.tenant.issuer}/device/auth`);
    assert.ok((meta.grant_types_supported as string[]).includes('urn:ietf:params:oauth:grant-type:device_code'));

    const native = await h.call('POST', '/graph/v1.0/applications', { body: { displayName: 'CLI tool', publicClient: { redirectUris: ['http://localhost'] } } });
    assert.equal(native.status, 201, JSON.stringify(native.body));
    const nativeConfig = await client.discovery(new URL(h.tenant.issuer), native.body.appId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const da = await client.initiateDeviceAuthorization(nativeConfig, { scope: 'openid' });
    assert.ok(da.user_code);

    const chatConfig = await client.discovery(new URL(h.tenant.issuer), common.chat, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    await assert.rejects(client.initiateDeviceAuthorization(chatConfig, { scope: 'openid' }), (err: any) => {
      assert.equal(err.error, 'invalid_request', String(err));
      assert.match(err.error_description, /device_code is not allowed for this client/);
      return true;
    });
  });
});
