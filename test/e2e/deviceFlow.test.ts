import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { assertAccessible, replayCheckThenClose, startServerAndBrowser, tapOnSignInPage, type WebAuthnBrowser } from '../support/browser.ts';
import { coverDeviceRegistrationWithCa002, setUpDeviceEnrolment, type CommonTenant } from '../support/commonTenant.ts';
import type { Harness } from '../support/harness.ts';

/**
 * SC-5 in Chromium: a laptop enrols through the OAuth device authorization grant (openid-client
 * is the device), and the user completes it in a browser that declares no WebAuthn capability (an
 * init script removes `PublicKeyCredential` before any page loads, as in a device-enrolment web
 * view): the device pages, the sign-in page with the TAP, the success page; then, with CA002 no
 * longer excluding the device registration app, the failure page with the PLT-4 reason and code.
 * axe-core checks every device page (no serious or critical violations).
 */
describe('SC-5 in Chromium: device code flow with a TAP in a browser without WebAuthn', { timeout: 120_000 }, () => {
  let h: Harness;
  let b: WebAuthnBrowser;
  let common: CommonTenant;
  let config: client.Configuration;
  let user = { id: '', upn: '', code: '' };
  const checked: string[] = [];

  before(async () => {
    await startServerAndBrowser((p) => { if (p.h) h = p.h; if (p.b) b = p.b; });
    // The pages' CSP (script-src 'self') would refuse axe-core's injected script; the test bypasses it, the pages keep it.
    await b.cdp.send('Page.setBypassCSP', { enabled: true });
    // A browser without WebAuthn: gone before any script of any page runs.
    await b.page.context().addInitScript(() => { delete (globalThis as any).PublicKeyCredential; });
    ({ common, user, config } = await setUpDeviceEnrolment(h));
  });
  after(() => replayCheckThenClose({ h, b })); // WIF-2: every sign-in of these tests replays to its recorded decision

  const axe = async (state: string) => { checked.push(await assertAccessible(b.page, state)); };

  const startDevice = async () => {
    const da = await client.initiateDeviceAuthorization(config, { scope: 'openid profile offline_access' });
    const polled = client.pollDeviceAuthorizationGrant(config, { ...da, interval: 0.25 });
    polled.catch(() => {});
    return { da, polled };
  };

  /** The user opens /{tenant}/device, types the code, checks it on the confirm page and continues to the sign-in page. */
  const enterAndConfirm = async (userCode: string, check: boolean) => {
    await b.page.goto(`${h.baseUrl}/${h.tenant.tenantId}/device`);
    await b.page.getByRole('heading', { level: 1, name: 'Sign in on a device' }).waitFor();
    assert.equal(await b.page.evaluate(() => (globalThis as any).document.activeElement?.id), 'user-code', 'the code field has focus');
    if (check) await axe('device: enter the code');
    await b.page.getByRole('textbox', { name: 'Code' }).fill(userCode.toLowerCase().replace('-', ' '));
    await b.page.getByRole('button', { name: 'Next' }).click();
    await b.page.getByRole('button', { name: 'Continue' }).waitFor();
    assert.match(await b.page.locator('main').innerText(), /Device Registration Service/);
    assert.equal(await b.page.locator('#confirm-code').innerText(), userCode);
    if (check) await axe('device: confirm');
    await b.page.getByRole('button', { name: 'Continue' }).click();
    await b.page.waitForURL((u) => u.pathname === `/${h.tenant.tenantId}/sign-in`);
    await b.page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  };

  const signInWithTap = async () => {
    // The page reports that this browser can't use passkeys.
    assert.equal(await b.page.evaluate(() => typeof (globalThis as any).PublicKeyCredential), 'undefined');
    assert.equal(await b.page.locator('#passkey-button').isDisabled(), true);
    await tapOnSignInPage(b.page, user.upn, user.code);
  };

  const lastFlow = async () => (await h.database.db.selectFrom('sign_in_flows').select('state').where('user_id', '=', user.id)
    .orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow()).state as any;

  test('SC-5 step 1: code, confirm, TAP: "You’re signed in"; the device gets tokens; the flow recorded no WebAuthn and deviceCodeFlow', async () => {
    const { da, polled } = await startDevice();
    await enterAndConfirm(da.user_code, true);
    await axe('sign-in page for a device code');
    await signInWithTap();
    await b.page.getByRole('heading', { level: 1, name: 'You’re signed in' }).waitFor();
    assert.match(await b.page.getByRole('status').innerText(), /Device Registration Service/);
    await axe('device: success');

    const tokens = await polled;
    assert.equal(tokens.claims()!.sub, user.id);
    assert.ok((tokens.claims()!.amr as string[]).includes('tap'));
    const flow = await lastFlow();
    assert.deepEqual(flow.capabilities, { webauthn: false }, 'the page reported no WebAuthn');
    assert.equal(flow.transferMethod, 'deviceCodeFlow');
    assert.equal(flow.userAction, 'urn:user:registerdevice');
    assert.equal(flow.decision.outcome, 'grant');
    const [record] = (await h.database.db.selectFrom('sign_ins').select('record').where('correlation_id', '=', flow.correlationId).execute()).map((r) => r.record as any);
    assert.equal(record.originalTransferMethod, 'deviceCodeFlow');
    assert.equal(record.gatehouseDecision.nudge ?? null, null);
    assert.equal(record.gatehouseDecision.registration ?? null, null);
  });

  test('SC-5 step 2: CA002 applies to device registration: the failure page names CA002 with code 900404; the device gets access_denied', async () => {
    const restore = await coverDeviceRegistrationWithCa002(h, common.ca002);
    try {
      const { da, polled } = await startDevice();
      await enterAndConfirm(da.user_code, false);
      await signInWithTap();
      await b.page.getByRole('heading', { level: 1, name: 'You can’t sign in on this device' }).waitFor();
      const reason = await b.page.getByRole('alert').innerText();
      assert.match(reason, /PLT-4/);
      assert.match(reason, /CA002/);
      assert.equal(await b.page.locator('#device-code').innerText(), 'Error code: 900404');
      await axe('device: refused');
      await assert.rejects(polled, (err: any) => err.error === 'access_denied' && /AADSTS900404/.test(err.error_description));
    } finally {
      await restore();
    }
  });

  test('an unknown code: the field is marked invalid and the alert says what to do', async () => {
    await b.page.goto(`${h.baseUrl}/${h.tenant.tenantId}/device`);
    await b.page.getByRole('textbox', { name: 'Code' }).fill('BCDF-GHJK');
    await b.page.getByRole('button', { name: 'Next' }).click();
    await b.page.getByRole('alert').filter({ hasText: 'isn’t valid here' }).waitFor();
    assert.equal(await b.page.getAttribute('#user-code', 'aria-invalid'), 'true');
    await axe('device: unknown code');
    assert.deepEqual(checked.length >= 6, true, checked.join(', '));
  });
});
