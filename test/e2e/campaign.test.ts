import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { publicClientReturningTo, startServerAndBrowser, startStandInApp, tapOnSignInPage, type WebAuthnBrowser } from '../support/browser.ts';
import { setUpCommonTenant } from '../support/commonTenant.ts';
import type { Harness } from '../support/harness.ts';
import { signInsOf } from '../support/records.ts';
import { assertWhatIfMatchesLatest } from '../support/whatIfCheck.ts';

/**
 * scenarios.md SC-7, the registration campaign (PLT-5), on the sign-in page in a real Chromium.
 * The server's clock is injected (ServerDeps.clock) and moved a day at a time, so snoozes run
 * out without waiting. Campaign disabled: no nudge. Enabled for fido2, snooze 1 day, enforcement
 * after 3 snoozes: a user who signs in to "Chat" with a TAP (MFA) and holds no passkey is nudged,
 * snoozes on day 1, 2 and 3, and on day 4 must register (no "Not now"). The test checks the page,
 * the snooze rows, and the sign-in records (decision, PLT-5, the snooze step).
 *
 * GATEHOUSE_SCREENSHOTS=1 writes the nudge and the enforced registration to docs/screenshots/.
 */
const SCREENSHOTS = process.env.GATEHOUSE_SCREENSHOTS === '1';
const SHOTS_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const DAY_MS = 24 * 60 * 60_000;

describe('SC-7 registration campaign on the sign-in page in Chromium (PLT-5, injectable clock)', { timeout: 180_000 }, () => {
  let h: Harness;
  let b: WebAuthnBrowser;
  let t: Awaited<ReturnType<typeof setUpCommonTenant>>;
  let appServer: Server;
  let redirectUri: string;
  let chat: client.Configuration;
  /** How far the server's clock is ahead of the wall clock. */
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const methodsPolicy = '/graph/v1.0/policies/authenticationMethodsPolicy';

  before(async () => {
    await startServerAndBrowser((p) => { if (p.h) h = p.h; if (p.b) b = p.b; }, { clock: now });
    await b.page.setViewportSize({ width: 800, height: 600 });
    t = await setUpCommonTenant(h);
    // CA002 off: a TAP (multifactor) sign-in to Chat is granted, so the campaign, not PLT-4, is in play.
    const off = await h.call('PATCH', `/graph/v1.0/identity/conditionalAccess/policies/${t.ca002}`, { body: { state: 'disabled' } });
    assert.equal(off.status, 204, JSON.stringify(off.body));
    ({ redirectUri, server: appServer } = await startStandInApp('text/html; charset=utf-8', '<!doctype html><html lang="en"><title>Chat</title><h1>Signed in to Chat</h1></html>'));
    chat = await publicClientReturningTo(h, t.chat, redirectUri);
    if (SCREENSHOTS) mkdirSync(SHOTS_DIR, { recursive: true });
  });
  after(async () => {
    await b?.close();
    await h?.close();
    appServer?.close();
  });

  let seq = 0;
  const newUser = async () => {
    const n = ++seq;
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Campaign user ${n}`, userPrincipalName: `campaign${n}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    return { id: u.body.id as string, upn: u.body.userPrincipalName as string };
  };
  /** A multi-use pass valid from the server's "now" (the admin API keeps the wall clock, so the start is given). */
  const issueTap = async (userId: string) => {
    const pass = await h.call('POST', `/graph/v1.0/users/${userId}/authentication/temporaryAccessPassMethods`, {
      body: { startDateTime: new Date(now().getTime() - 60_000).toISOString(), lifetimeInMinutes: 240, isUsableOnce: false },
    });
    assert.equal(pass.status, 201, JSON.stringify(pass.body));
    return pass.body.temporaryAccessPass as string;
  };
  const records = (userId: string) => signInsOf(h, userId);
  const snoozeRow = async (userId: string) => h.database.db.selectFrom('campaign_snoozes').selectAll().where('user_id', '=', userId).executeTakeFirst();
  const plt5 = (record: any) => record.gatehouseDecision.platformRules.find((r: any) => r.id === 'PLT-5');
  const shot = async (name: string) => {
    if (SCREENSHOTS) await b.page.screenshot({ path: `${SHOTS_DIR}${name}.png` });
  };

  /** Chat's authorization request in Chromium, then the TAP on the sign-in page. */
  const tapSignInToChat = async (user: { id: string; upn: string }) => {
    const code = await issueTap(user.id);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(chat, {
      redirect_uri: redirectUri, scope: 'openid', state: client.randomState(), code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    await b.page.goto(url.href);
    await b.page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await tapOnSignInPage(b.page, user.upn, code);
  };
  const atApp = () => b.page.waitForURL((u) => u.href.startsWith(redirectUri) && u.searchParams.has('code'));

  test('campaign disabled: a TAP sign-in to Chat without a passkey goes straight to the app; PLT-5 not applicable', async () => {
    const user = await newUser();
    await tapSignInToChat(user);
    await atApp();
    const granted = (await records(user.id)).at(-1);
    assert.equal(granted.status.errorCode, 0);
    assert.equal(granted.gatehouseDecision.nudge, null);
    assert.equal(plt5(granted).result, 'notApplicable');
    assert.match(plt5(granted).sentence, /campaign is default/);
    assert.equal(await snoozeRow(user.id), undefined);
  });

  test('enabled, 1-day snooze, enforced after 3: nudged and snoozed on days 1, 2 and 3; none while snoozed; day 4 must register', async () => {
    const on = await h.call('PATCH', methodsPolicy, { body: { registrationEnforcement: { authenticationMethodsRegistrationCampaign: {
      state: 'enabled', snoozeDurationInDays: 1, enforceRegistrationAfterAllowedSnoozes: true,
      includeTargets: [{ id: 'all_users', targetType: 'group', targetedAuthenticationMethod: 'fido2' }], excludeTargets: [],
    } } } });
    assert.equal(on.status, 204, JSON.stringify(on.body));
    const user = await newUser();
    const start = Date.now();

    for (const day of [1, 2, 3]) {
      offsetMs = (day - 1) * (DAY_MS + 60 * 60_000); // a day and an hour later each time: past the snooze
      await tapSignInToChat(user);
      const nudge = b.page.getByRole('heading', { level: 2, name: 'Add a passkey?' });
      await nudge.waitFor();
      const text = await b.page.locator('#nudge').innerText();
      const left = 3 - (day - 1);
      assert.match(text, new RegExp(`put it off ${left} more time${left === 1 ? '' : 's'} \\(for 1 day each\\)`), text);
      assert.ok(await b.page.getByRole('button', { name: 'Not now' }).isVisible());
      if (day === 1) await shot('campaign-1-nudge');
      await b.page.getByRole('button', { name: 'Not now' }).click();
      await atApp();

      const row = await snoozeRow(user.id);
      assert.ok(row, `day ${day}: the snooze is stored`);
      assert.equal(row.snooze_count, day);
      const until = new Date(row.snoozed_until).getTime();
      assert.ok(until - (start + offsetMs) >= DAY_MS && until - (start + offsetMs) < DAY_MS + 10 * 60_000, `day ${day}: snoozed for a day from the server's now (${row.snoozed_until.toString()})`);

      // The sign-in log: the TAP step granted with a nudge, then the snooze step in the same flow.
      const recs = await records(user.id);
      const snoozed = recs.at(-1);
      assert.equal(snoozed.authenticationDetails[0].authenticationMethod, 'Registration campaign');
      assert.equal(snoozed.authenticationDetails[0].authenticationMethodDetail, 'Snoozed');
      assert.match(snoozed.status.additionalDetails, new RegExp(`PLT-5: the user snoozed the registration campaign \\(fido2\\) until .*: snooze ${day} \\(3 allowed\\)`));
      const granted = recs.at(-2);
      assert.equal(granted.correlationId, snoozed.correlationId, 'one flow');
      assert.equal(granted.status.errorCode, 0);
      assert.equal(granted.gatehouseDecision.nudge.snoozesUsed, day - 1);
      assert.equal(plt5(granted).result, 'fired');

      if (day === 1) {
        // Later the same day: snoozed, so no nudge; straight to the app.
        offsetMs += 60 * 60_000;
        await tapSignInToChat(user);
        await atApp();
        const quiet = (await records(user.id)).at(-1);
        assert.equal(quiet.gatehouseDecision.nudge, null);
        assert.match(plt5(quiet).sentence, /snoozed the nudge until/);
        assert.equal((await snoozeRow(user.id))!.snooze_count, 1, 'nothing snoozed again');
      }
    }

    // Day 4: the allowed snoozes are used up: the decision is `register` (PLT-5), no "Not now".
    offsetMs = 3 * (DAY_MS + 60 * 60_000);
    await tapSignInToChat(user);
    await b.page.getByRole('heading', { level: 2, name: 'Add a passkey to continue' }).waitFor();
    const section = await b.page.locator('#register').innerText();
    assert.match(section, /PLT-5/);
    assert.match(section, /snoozed 3 times, the campaign allows 3/);
    assert.equal(await b.page.getByRole('button', { name: 'Not now' }).count(), 0, 'no "Not now" once registration is enforced');
    assert.equal(await b.page.locator('#nudge').isVisible(), false);
    const enforced = (await records(user.id)).at(-1);
    assert.equal(enforced.status.errorCode, 50079);
    assert.equal(enforced.gatehouseDecision.outcome, 'register');
    assert.equal(enforced.gatehouseDecision.registration.rule, 'PLT-5');
    await assertWhatIfMatchesLatest(h, user.id);
    // The flow API refuses a snooze of this (not granted) sign-in.
    const flowId = (await h.database.db.selectFrom('sign_in_flows').select('id').where('user_id', '=', user.id).orderBy('expires_at', 'desc').executeTakeFirstOrThrow()).id;
    const refused = await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in/${flowId}/campaign/snooze`, { token: null, body: {} });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'FlowNotGranted');
    await shot('campaign-2-enforced');

    await b.page.getByLabel('Passkey name').fill('Campaign key');
    await b.page.getByRole('button', { name: 'Create a passkey' }).click();
    await atApp();
    const recs = await records(user.id);
    const last = recs.at(-1);
    assert.equal(last.status.errorCode, 0, JSON.stringify(last.status));
    assert.equal(last.authenticationDetails.at(-1).authenticationMethod, 'Passkey (FIDO2)');
    assert.equal(last.correlationId, enforced.correlationId);
    assert.equal(plt5(last).result, 'notApplicable', 'the user now holds a passkey');
    const methods = (await h.call('GET', `/graph/v1.0/users/${user.id}/authentication/fido2Methods`)).body.value;
    assert.deepEqual(methods.map((m: any) => m.displayName), ['Campaign key']);
  });

  test('the snooze step (flow API): once per sign-in, only on a nudged grant; unknown flows and clients without WebAuthn are refused', async () => {
    // The campaign is still enabled (previous test). Straight through the flow API, as a native client would.
    const api = `/api/flows/${h.tenant.tenantId}/sign-in`;
    const user = await newUser();
    const tapFlow = async (webauthn: boolean) => {
      const code = await issueTap(user.id);
      const flow = await h.call('POST', api, { token: null, body: { clientId: t.chat, capabilities: { webauthn } } });
      assert.equal(flow.status, 201, JSON.stringify(flow.body));
      const step = await h.call('POST', `${api}/${flow.body.flowId}/tap`, { token: null, body: { username: user.upn, code } });
      assert.equal(step.status, 200, JSON.stringify(step.body));
      return { flowId: flow.body.flowId as string, decision: step.body.decision };
    };
    const snooze = (flowId: string) => h.call('POST', `${api}/${flowId}/campaign/snooze`, { token: null, body: {} });

    // A client that reported no WebAuthn gets no nudge, so there is nothing to snooze.
    const plain = await tapFlow(false);
    assert.equal(plain.decision.nudge, null);
    const none = await snooze(plain.flowId);
    assert.equal(none.status, 409, JSON.stringify(none.body));
    assert.equal(none.body.error.code, 'NoCampaignNudge');
    assert.match(none.body.error.message, /PLT-5/);

    const nudged = await tapFlow(true);
    assert.deepEqual(nudged.decision.nudge, { mode: 'fido2', canSnooze: true, snoozesUsed: 0, snoozesAllowed: 3, snoozeDurationInDays: 1 });
    const first = await snooze(nudged.flowId);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.snoozeCount, 1);
    assert.equal(first.body.snoozesAllowed, 3);
    assert.equal(Date.parse(first.body.snoozedUntil) - Date.parse((await records(user.id)).at(-1).createdDateTime), DAY_MS);
    // Snoozed now: a second snooze in the same sign-in is refused and not counted.
    const again = await snooze(nudged.flowId);
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.error.code, 'NoCampaignNudge');
    assert.equal((await snoozeRow(user.id))!.snooze_count, 1);

    // Before any factor: not granted. Unknown or malformed flows: FlowExpired.
    const fresh = await h.call('POST', api, { token: null, body: { clientId: t.chat, capabilities: { webauthn: true } } });
    const early = await snooze(fresh.body.flowId);
    assert.equal(early.status, 409, JSON.stringify(early.body));
    assert.equal(early.body.error.code, 'FlowNotGranted');
    for (const bad of ['00000000-0000-4000-8000-000000000000', 'not-a-flow']) {
      const r = await snooze(bad);
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'FlowExpired');
    }
  });
});
