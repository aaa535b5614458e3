import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { FIRST_PARTY_APPS } from '../../src/domain/directory.ts';
import { cleanUpRecoveryCases } from '../../src/flows/recovery/cleanup.ts';
import { assertAccessible, createCredential, startServerAndBrowser, tapOnSignInPage as tapOnSignInPageIn, type WebAuthnBrowser } from '../support/browser.ts';
import { issueTap, PORTAL, setUpCommonTenant } from '../support/commonTenant.ts';
import type { Harness } from '../support/harness.ts';
import { auditsOf, signInsOf } from '../support/records.ts';

/**
 * SC-3 (a lost passkey) end to end in a real Chromium, through the admin console
 * (`/{tenant}/admin`, web/console/) and the security-info portal (`/{tenant}/my-sign-ins`),
 * on the common tenant (CA001, CA002). Two browser contexts: the admin's (a platform
 * authenticator holding the admin's passkey, so the console sign-in meets CA002) and the user's
 * (authenticator A, the device that gets lost, and the new devices B and C).
 *
 * 1. The plain runbook (SC-3 step 1): in the console the admin deletes the lost passkey and issues
 *    a TAP, read from the console's show-once dialog; the user signs in to the portal with it (no
 *    step-up) and registers a passkey on B. Audit order: "Admin deleted security info", "Admin
 *    registered security info", "User registered security info".
 * 2. A recovery case (SC-3 step 2, RCV-1..RCV-3) from the console's recovery screen: the old
 *    passkey is suspended (a sign-in with it fails, 900206, and the record names the case), the
 *    user's sessions are revoked (the portal tab signed in before is told its session ended), the
 *    case TAP signs in to the portal without step-up (PLT-3 not applicable), a passkey on C
 *    completes the case (shown completed in the console), the clean-up after the grace period
 *    deletes the old passkey. A second case, cancelled in the console, restores the suspended
 *    passkey and it signs in again. Each case's audit records are read back through
 *    `GET /graph/v1.0/auditLogs/directoryAudits?$filter=correlationId eq '…'`, in order.
 *
 * Every step below goes through the console's or the portal's UI except: provisioning the admin's
 * own passkey and the users' first pass (set-up, Graph API), and the grace period's clean-up
 * (called directly with a `now` 8 days ahead, as the server's 30-second job would run it).
 * axe-core checks each console and portal state visited (no serious or critical violations).
 *
 * GATEHOUSE_SCREENSHOTS=1 also writes docs/screenshots/sc3-*.png.
 */
const SCREENSHOTS = process.env.GATEHOUSE_SCREENSHOTS === '1';
const SHOTS_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const CONSOLE = FIRST_PARTY_APPS.find((a) => a.key === 'adminConsole')!;
const DAY = 86_400_000;

type Person = { id: string; upn: string; displayName: string };
type Json = Record<string, any>;

describe('SC-3 lost passkey in Chromium: the admin console and the security-info portal (issue 7; RCV-1..RCV-3, TAP-9, LOG-2)', { timeout: 480_000 }, () => {
  let h: Harness;
  let b: WebAuthnBrowser;
  /** The user's tab (the WebAuthnBrowser's own context) and the admin's tab (a second context). */
  let user: Page;
  let adminContext: BrowserContext;
  let admin: Page;
  let adminPerson: Person;
  /** The user's authenticators: A (platform, the lost device), B and C (new security keys). */
  let A: string;
  let B: string;
  let C: string;
  let t: Awaited<ReturnType<typeof setUpCommonTenant>>;
  let seq = 0;
  const checked: string[] = [];
  /** The recovery-case user, shared by the recovery tests. */
  let cleo: Person & { laptopId: string; newId?: string; caseId?: string };

  before(async () => {
    await startServerAndBrowser((p) => { if (p.h) h = p.h; if (p.b) b = p.b; });
    user = b.page;
    await user.setViewportSize({ width: 900, height: 700 });
    // The pages' CSP (script-src 'self') would refuse axe-core's injected script; the test bypasses it, the pages keep it.
    await b.cdp.send('Page.setBypassCSP', { enabled: true });
    A = b.platformAuthenticatorId;
    B = await b.addAuthenticator({ transport: 'usb' });
    C = await b.addAuthenticator({ transport: 'usb' });

    adminContext = await b.browser.newContext();
    admin = await adminContext.newPage();
    admin.setDefaultTimeout(10_000);
    await admin.setViewportSize({ width: 1280, height: 800 });
    const adminCdp: CDPSession = await adminContext.newCDPSession(admin);
    await adminCdp.send('Page.setBypassCSP', { enabled: true });
    await adminCdp.send('WebAuthn.enable', { enableUI: false });
    await adminCdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    // The admin's own passkey, provisioned before CA002 exists: CA002 (phishing-resistant for every app but device registration) covers the console too.
    adminPerson = { id: h.tenant.admin.id, upn: h.tenant.admin.userPrincipalName, displayName: (await h.call('GET', `/graph/v1.0/users/${h.tenant.admin.id}`)).body.displayName };
    await admin.goto(`${h.baseUrl}/healthz`);
    const opts = await h.call('GET', `/graph/v1.0/users/${adminPerson.id}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`);
    assert.equal(opts.status, 200, JSON.stringify(opts.body));
    const created = await h.call('POST', `/graph/v1.0/users/${adminPerson.id}/authentication/fido2Methods`, {
      body: { displayName: 'Admin laptop', publicKeyCredential: await createCredential(admin, opts.body.publicKey) },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    t = await setUpCommonTenant(h);
    if (SCREENSHOTS) mkdirSync(SHOTS_DIR, { recursive: true });
  });
  after(async () => {
    await adminContext?.close();
    await b?.close();
    await h?.close();
  });

  // ---- helpers -------------------------------------------------------------------------------

  const newUser = async (name: string): Promise<Person> => {
    const n = ++seq;
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `${name} Sc3-${n}`, userPrincipalName: `${name.toLowerCase()}.sc3-${n}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    return { id: u.body.id, upn: u.body.userPrincipalName, displayName: u.body.displayName };
  };
  /** Which of the user's authenticators answers a ceremony: the others never do (presence simulation off). */
  const useOnly = async (which: string) => {
    for (const x of [A, B, C]) await b.setPresence(x, x === which);
  };
  const signIns = (userId: string) => signInsOf(h, userId);
  const audits = (userId: string) => auditsOf(h, userId);
  const passkeys = async (userId: string) => (await h.call('GET', `/graph/v1.0/users/${userId}/authentication/fido2Methods`)).body.value as Json[];
  const getCase = async (id: string) => {
    const r = await h.call('GET', `/api/recovery/cases/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as Json;
  };
  /**
   * A case's audit trail read back through the log query API (LOG-4), step by step: the records of
   * one step share one transaction's time, so each step's activity names are sorted.
   */
  const caseTrail = async (correlationId: string) => {
    const res = await h.call('GET', `/graph/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent(`correlationId eq '${correlationId}'`)}&$top=100`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const records = (res.body.value as Json[]).slice().sort((x, y) => Date.parse(x.activityDateTime) - Date.parse(y.activityDateTime));
    const steps = new Map<number, string[]>();
    for (const r of records) steps.set(Date.parse(r.activityDateTime), [...(steps.get(Date.parse(r.activityDateTime)) ?? []), r.activityDisplayName]);
    return { steps: [...steps.values()].map((s) => s.sort()), records };
  };
  const detail = (record: Json, key: string) => (record.additionalDetails as { key: string; value: string }[]).find((d) => d.key === key)?.value;

  /** With GATEHOUSE_SCREENSHOTS=1: docs/screenshots/sc3-{name}.png of the viewport, scrolled to `top` (a CSS selector) when given. */
  const shot = async (p: Page, name: string, top?: string) => {
    if (!SCREENSHOTS) return;
    if (top) await p.locator(top).first().evaluate((el: any) => el.scrollIntoView({ block: 'start' }));
    await p.screenshot({ path: `${SHOTS_DIR}sc3-${name}.png` });
  };
  /** axe-core on the page as it is now: no serious or critical violations. */
  const axe = async (p: Page, state: string) => { checked.push(await assertAccessible(p, state)); };

  // ---- the console (admin's tab) --------------------------------------------------------------

  const consoleUrl = (hash = '') => `${h.baseUrl}/${h.tenant.tenantId}/admin${hash}`;
  const h1 = (p: Page, name: string | RegExp) => p.getByRole('heading', { level: 1, name });
  const openConsole = async (hash: string, heading: string | RegExp) => {
    await admin.goto(consoleUrl(hash));
    await h1(admin, heading).waitFor();
  };
  /** The console's "Sign in" → the sign-in page → the admin's passkey (CA002 needs one) → the console's Users. */
  const signInToConsole = async () => {
    await admin.goto(consoleUrl());
    await admin.evaluate(() => (globalThis as any).sessionStorage.clear());
    await admin.goto(consoleUrl());
    await h1(admin, 'Sign in to the admin console').waitFor();
    await admin.getByRole('button', { name: 'Sign in', exact: true }).click();
    await admin.waitForURL((u) => u.pathname === `/${h.tenant.tenantId}/sign-in`);
    assert.equal(await admin.title(), `Sign in to ${CONSOLE.displayName}`);
    await admin.getByLabel('User name').fill(adminPerson.upn);
    await admin.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await admin.waitForURL((u) => u.pathname === `/${h.tenant.tenantId}/admin` && !u.search);
    await h1(admin, 'Users').waitFor();
    await admin.locator('#who').filter({ hasText: adminPerson.upn }).waitFor();
  };
  /** The console's show-once dialog of a pass: read the code before "Done" (the dialog forgets it). */
  const readPassOnce = async (): Promise<{ code: string; text: string }> => {
    const dialog = admin.getByRole('dialog', { name: 'Temporary Access Pass issued' });
    await dialog.waitFor();
    const code = await admin.locator('#tap-code').inputValue();
    assert.match(code, /^[A-Za-z0-9]{8,48}$/, code);
    return { code, text: await dialog.innerText() };
  };
  const closePassDialog = async () => {
    await admin.getByRole('dialog', { name: 'Temporary Access Pass issued' }).getByRole('button', { name: 'Done, I have copied it' }).click();
    await admin.getByRole('dialog', { name: 'Temporary Access Pass issued' }).waitFor({ state: 'detached' }).catch(() => undefined);
  };
  /** On the recovery screen for the user: fill in the evidence and open the case; returns the case TAP read from the dialog. */
  const openCaseInConsole = async (who: Person, method: string, reference: string, note?: string) => {
    await openConsole(`#/recovery?user=${who.id}`, 'Recovery cases');
    await admin.getByLabel('How you verified who they are').selectOption(method);
    await admin.getByLabel('Reference').fill(reference);
    if (note) await admin.getByLabel('Note (optional)').fill(note);
    await admin.getByRole('button', { name: 'Open the case' }).click();
    return readPassOnce();
  };
  const casesTable = () => admin.locator('#cases table');

  // ---- the portal and the sign-in page (user's tab) -------------------------------------------

  const portalUrl = () => `${h.baseUrl}/${h.tenant.tenantId}/my-sign-ins`;
  const listHeading = () => user.getByRole('heading', { level: 2, name: 'Your sign-in methods' });
  const methodItem = (text: string) => user.locator('#method-list > li').filter({ hasText: text });
  const openSignedOut = async () => {
    await user.goto(portalUrl());
    await user.evaluate(() => (globalThis as any).sessionStorage.clear());
    await user.goto(portalUrl());
    await user.getByRole('heading', { level: 2, name: 'Sign in to see your security info' }).waitFor();
  };
  const toSignInPage = async (button: string) => {
    await user.getByRole('button', { name: button, exact: true }).click();
    await user.waitForURL((u) => u.pathname === `/${h.tenant.tenantId}/sign-in`);
    await user.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    assert.equal(await user.title(), 'Sign in to My Sign-Ins');
  };
  const tapOnSignInPage = (upn: string, code: string) => tapOnSignInPageIn(user, upn, code);
  const passkeyOnSignInPage = async (upn: string) => {
    const name = user.getByLabel('User name');
    if ((await name.inputValue()) !== upn) await name.fill(upn);
    await user.getByRole('button', { name: 'Sign in with a passkey' }).click();
  };
  const backAtPortalList = async () => {
    await user.waitForURL((u) => u.pathname === `/${h.tenant.tenantId}/my-sign-ins` && !u.search);
    await listHeading().waitFor();
  };
  const addPasskeyOnPortal = async (name: string) => {
    await user.getByRole('button', { name: 'Add a passkey' }).click();
    await user.getByLabel('Passkey name').fill(name);
    await user.getByRole('button', { name: 'Create the passkey' }).click();
    await methodItem(name).waitFor();
    assert.match(await user.locator('#status').innerText(), new RegExp(`Passkey “${name}” added\\.`));
  };
  /** SC-1 through the portal: a TAP from the admin (Graph), a sign-in with it, a first passkey on `on`. */
  const bootstrapPasskey = async (who: Person, on: string, name: string) => {
    const code = await issueTap(h, who.id);
    await openSignedOut();
    await toSignInPage('Sign in');
    await tapOnSignInPage(who.upn, code);
    await backAtPortalList();
    await useOnly(on);
    await addPasskeyOnPortal(name);
    const mine = (await passkeys(who.id)).find((p) => p.displayName === name);
    assert.ok(mine, name);
    return mine.id as string;
  };
  /** The last sign-in of the user to My Sign-Ins. */
  const lastPortalSignIn = async (userId: string) => (await signIns(userId)).filter((r) => r.appId === PORTAL).at(-1)!;

  // ---- the tests -----------------------------------------------------------------------------

  test('the admin signs in to the console with a passkey (CA002 covers the console)', async () => {
    await signInToConsole();
    assert.match(await admin.locator('#who').innerText(), /Global Administrator/);
    const granted = (await signIns(adminPerson.id)).filter((r) => r.appId === CONSOLE.appId && r.status.errorCode === 0).at(-1);
    assert.ok(granted, JSON.stringify((await signIns(adminPerson.id)).map((r) => [r.appDisplayName, r.status])));
    assert.equal(granted.appliedConditionalAccessPolicies.find((p: Json) => p.id === t.ca002).result, 'success');
  });

  test('SC-3 step 1, the plain runbook through the console: delete the lost passkey, issue a TAP (shown once); the user signs in to the portal with it (no step-up) and registers a passkey on B', async () => {
    const bob = await newUser('Bob');
    const lostId = await bootstrapPasskey(bob, A, 'Old phone');
    const before = (await audits(bob.id)).length;

    // The admin, in the console: the user, the lost passkey deleted after confirming.
    await openConsole(`#/users/${bob.id}`, bob.displayName);
    const methods = admin.locator('#methods table');
    await methods.filter({ hasText: 'Old phone' }).waitFor();
    await admin.getByRole('button', { name: 'Delete the passkey “Old phone”' }).click();
    const confirm = admin.getByRole('dialog', { name: 'Delete the passkey “Old phone”?' });
    await confirm.waitFor();
    await axe(admin, 'console: confirm deleting the lost passkey');
    await shot(admin, '01-console-delete');
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await admin.locator('#status').filter({ hasText: 'Deleted the passkey “Old phone”.' }).waitFor();
    await admin.locator('#methods').filter({ hasNotText: 'Old phone' }).waitFor();
    assert.deepEqual((await passkeys(bob.id)).map((p) => p.id), [], 'the lost passkey is gone');
    assert.ok(!(await passkeys(bob.id)).some((p) => p.id === lostId));

    // Then a TAP: the code is shown once, in the dialog.
    await admin.getByRole('button', { name: 'Issue Temporary Access Pass' }).click();
    const { code, text } = await readPassOnce();
    assert.match(text, /This is the only time the pass is shown/);
    await axe(admin, 'console: the TAP shown once');
    await shot(admin, '02-console-tap-once');
    await closePassDialog();
    assert.ok(!(await admin.locator('body').innerText()).includes(code), 'not shown after the dialog closes (TAP-3)');

    // The user: the portal with the TAP, no step-up (SC-1 step 1): CA001 met by the TAP, CA002 superseded, PLT-1 satisfied.
    await useOnly(B);
    await openSignedOut();
    await axe(user, 'portal: signed out');
    await toSignInPage('Sign in');
    await tapOnSignInPage(bob.upn, code);
    await backAtPortalList();
    assert.match(await user.locator('#who').innerText(), /with a Temporary Access Pass/);
    assert.match(await user.locator('#empty').innerText(), /You have no passkey yet: add one/);
    const signIn = await lastPortalSignIn(bob.id);
    assert.equal(signIn.status.errorCode, 0, JSON.stringify(signIn.status));
    assert.equal(signIn.appliedConditionalAccessPolicies.find((p: Json) => p.id === t.ca001).result, 'success');
    assert.ok(signIn.appliedConditionalAccessPolicies.find((p: Json) => p.id === t.ca002).gatehouseSupersededBy, 'CA002 superseded by CA001 (CA-6)');
    assert.equal(signIn.gatehouseDecision.platformRules.find((r: Json) => r.id === 'PLT-1').result, 'satisfied');
    await axe(user, 'portal: TAP sign-in, no passkey');
    await shot(user, '03-portal-tap');
    await addPasskeyOnPortal('New phone');
    assert.deepEqual((await passkeys(bob.id)).map((p) => p.displayName), ['New phone']);
    assert.equal((await b.credentials(B)).length, 1, 'the new passkey lives on B');
    await axe(user, 'portal: the new passkey');
    await shot(user, '04-portal-new-passkey');

    // LOG-2, in order, from the runbook on: the admin (through the console) deleted, the admin issued the TAP, the user registered.
    const trail = (await audits(bob.id)).slice(before);
    assert.deepEqual(trail.map((a) => [a.activityDisplayName, a.result]), [
      ['Admin deleted security info', 'success'], ['Admin registered security info', 'success'], ['User registered security info', 'success'],
    ]);
    assert.equal(trail[0]!.initiatedBy.user?.id, adminPerson.id, 'the admin signed in to the console deleted it');
    assert.equal(detail(trail[0]!, 'Method id'), lostId);
    assert.equal(trail[1]!.initiatedBy.user?.id, adminPerson.id, 'the admin signed in to the console issued the pass');
    assert.equal(trail[2]!.initiatedBy.user?.userPrincipalName, bob.upn);
    assert.ok(!JSON.stringify(trail).includes(code), 'no audit record holds the pass');
  });

  test('SC-3 step 2, a recovery case opened in the console: passkey suspended, sessions revoked, the case TAP registers a passkey on C, the case completes, the clean-up deletes the old passkey; one correlation id', async () => {
    const who = await newUser('Cleo');
    const laptopId = await bootstrapPasskey(who, A, 'Laptop');
    cleo = { ...who, laptopId };
    // The user signs in to the portal with the passkey on A: this tab's token predates the case.
    await useOnly(A);
    await openSignedOut();
    await toSignInPage('Sign in');
    await passkeyOnSignInPage(cleo.upn);
    await backAtPortalList();
    assert.match(await user.locator('#who').innerText(), /with a passkey/);
    const validFrom = (await h.call('GET', `/graph/v1.0/users/${cleo.id}`)).body.signInSessionsValidFromDateTime as string;

    // The admin opens a case on the console's recovery screen, with the evidence; the passkey is offered for suspension.
    await openConsole(`#/recovery?user=${cleo.id}`, 'Recovery cases');
    await admin.locator('#cases').filter({ hasText: 'No recovery case here' }).waitFor();
    await admin.getByLabel(/^Laptop/).waitFor();
    assert.equal(await admin.getByLabel(/^Laptop/).isChecked(), true, 'RCV-2: all passkeys by default');
    await admin.getByLabel('How you verified who they are').selectOption('videoCall');
    await admin.getByLabel('Reference').fill('INC-4711');
    await admin.getByLabel('Note (optional)').fill('Photo ID checked on a video call');
    await axe(admin, 'console recovery: the open form');
    await shot(admin, '05-console-open-case');
    await admin.getByRole('button', { name: 'Open the case' }).click();
    const { code, text } = await readPassOnce();
    assert.match(text, /one-time/);
    await axe(admin, 'console recovery: the case TAP shown once');
    await shot(admin, '06-console-case-tap');
    await closePassDialog();
    await casesTable().filter({ hasText: 'active' }).waitFor();
    assert.match(await casesTable().innerText(), /videoCall: INC-4711/);
    assert.ok(!(await admin.locator('body').innerText()).includes(code), 'the case TAP is not shown again');
    await axe(admin, 'console recovery: an active case');

    const listed = await h.call('GET', `/api/recovery/cases?userId=${cleo.id}`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.value.length, 1);
    const c = listed.body.value[0] as Json;
    cleo.caseId = c.id;
    assert.equal(c.state, 'active', 'a member needs no approval by default');
    assert.deepEqual(c.suspendedMethodIds, [laptopId]);
    assert.deepEqual(c.verification, { method: 'videoCall', reference: 'INC-4711', note: 'Photo ID checked on a video call' });
    assert.deepEqual(c.openedBy, { kind: 'user', id: adminPerson.id, userPrincipalName: adminPerson.upn });

    // The console's user page shows the passkey suspended, with the reason (MTH-3).
    await openConsole(`#/users/${cleo.id}`, cleo.displayName);
    const methods = admin.locator('#methods table');
    await methods.filter({ hasText: 'Laptop' }).waitFor();
    assert.match(await methods.innerText(), /Not usable\s+SuspendedByRecoveryCase/);

    // Sessions revoked (PLT-6): the user's portal tab, signed in before the case, is told its session ended.
    const movedTo = (await h.call('GET', `/graph/v1.0/users/${cleo.id}`)).body.signInSessionsValidFromDateTime as string;
    assert.ok(Date.parse(movedTo) > Date.parse(validFrom), `${validFrom} → ${movedTo}`);
    await user.reload();
    await user.getByRole('heading', { level: 2, name: 'Your security-info session has ended' }).waitFor();
    assert.match(await user.locator('#refusal').innerText(), /revoked/);
    await axe(user, 'portal: session ended by the case');
    await shot(user, '07-portal-session-ended');

    // The old passkey on A can't sign in: the sign-in page refuses it, and the record says suspended, by this case.
    await toSignInPage('Sign in again');
    await passkeyOnSignInPage(cleo.upn);
    await user.getByRole('heading', { level: 2, name: 'You can’t sign in' }).waitFor();
    assert.match(await user.locator('#decision').innerText(), /900206/);
    await axe(user, 'sign-in page: the suspended passkey refused');
    await shot(user, '08-sign-in-suspended');
    const refusal = (await signIns(cleo.id)).at(-1)!;
    assert.equal(refusal.status.errorCode, 900206, JSON.stringify(refusal.status));
    assert.match(refusal.status.additionalDetails, new RegExp(`suspended by recovery case ${c.id}`));

    // The case TAP signs in to the portal without step-up: PLT-3 doesn't count the suspended passkey.
    await useOnly(C);
    await openSignedOut();
    await toSignInPage('Sign in');
    await tapOnSignInPage(cleo.upn, code);
    await backAtPortalList();
    assert.match(await user.locator('#who').innerText(), /with a Temporary Access Pass/);
    const granted = await lastPortalSignIn(cleo.id);
    assert.equal(granted.status.errorCode, 0, JSON.stringify(granted.status));
    const plt3 = granted.gatehouseDecision.platformRules.find((r: Json) => r.id === 'PLT-3');
    assert.equal(plt3.result, 'notApplicable', JSON.stringify(plt3));
    assert.match(plt3.sentence, /suspended/);
    const suspendedItem = await methodItem('Laptop').innerText();
    assert.match(suspendedItem, /Suspended: an administrator opened a recovery case.*\(SuspendedByRecoveryCase\)/);
    assert.doesNotMatch(suspendedItem, /Rename|Delete/, 'a suspended passkey is the administrator\'s to restore or delete');
    await axe(user, 'portal: case TAP sign-in, the old passkey suspended');
    await shot(user, '09-portal-case-tap');

    // A passkey on C completes the case (RCV-3); the console shows it completed.
    await addPasskeyOnPortal('New laptop');
    const completed = await getCase(c.id);
    assert.equal(completed.state, 'completed');
    cleo.newId = completed.completedByMethodId;
    assert.equal((await passkeys(cleo.id)).find((p) => p.displayName === 'New laptop')?.id, cleo.newId);
    assert.equal(Date.parse(completed.gracePeriodEndDateTime) - Date.parse(completed.completedDateTime), 7 * DAY, 'default grace period: 7 days');
    await openConsole(`#/recovery?user=${cleo.id}`, 'Recovery cases');
    await casesTable().filter({ hasText: 'completed' }).waitFor();
    assert.match(await casesTable().innerText(), /completed/);
    await axe(admin, 'console recovery: a completed case');
    await shot(admin, '10-console-completed', 'section:has(#cases)');

    // During the grace period the old passkey is still there; the clean-up after it deletes it (as the server's 30-second job would).
    assert.deepEqual((await cleanUpRecoveryCases(h.database.db, new Date(Date.now() + 6 * DAY), { tenantId: h.tenant.tenantId })).cases, []);
    assert.ok((await passkeys(cleo.id)).some((p) => p.id === laptopId));
    const cleaned = await cleanUpRecoveryCases(h.database.db, new Date(Date.now() + 8 * DAY), { tenantId: h.tenant.tenantId });
    assert.deepEqual(cleaned.deletedMethodIds, [laptopId]);
    await openConsole(`#/users/${cleo.id}`, cleo.displayName);
    await methods.filter({ hasText: 'New laptop' }).waitFor();
    assert.doesNotMatch(await methods.innerText(), /\bLaptop\b/, 'the console lists only the new passkey ("New laptop")');
    assert.deepEqual((await passkeys(cleo.id)).map((p) => p.displayName), ['New laptop'], 'the old passkey is gone');

    // The case's audit trail, through the log query API: every record under its one correlation id, in order.
    const { steps, records } = await caseTrail(c.correlationId);
    assert.deepEqual(steps, [
      ['Admin registered security info', 'Invalidate all refresh tokens for user', 'Opened recovery case', 'Suspended security info'],
      ['Completed recovery case'],
      ['Admin deleted security info', 'Cleaned up recovery case'],
    ]);
    assert.ok(records.every((r) => r.correlationId === c.correlationId && r.result === 'success'), JSON.stringify(records.map((r) => [r.correlationId, r.result])));
    assert.ok(records.every((r) => detail(r, 'Recovery case id') === c.id || r.activityDisplayName === 'Invalidate all refresh tokens for user' || r.activityDisplayName === 'Admin registered security info'),
      JSON.stringify(records.map((r) => [r.activityDisplayName, r.additionalDetails])));
    const opened = records.filter((r) => ['Opened recovery case', 'Suspended security info', 'Admin registered security info'].includes(r.activityDisplayName));
    assert.ok(opened.every((r) => r.initiatedBy.user?.id === adminPerson.id), 'opened by the admin in the console');
    assert.equal(records.find((r) => r.activityDisplayName === 'Completed recovery case')!.initiatedBy.user?.userPrincipalName, cleo.upn);
    assert.equal(detail(records.find((r) => r.activityDisplayName === 'Admin deleted security info')!, 'Method id'), laptopId);
    assert.ok(!JSON.stringify(records).includes(code), 'no audit record holds the case TAP');
    // And no record about this case sits outside its correlation id.
    const aboutCase = (await audits(cleo.id)).filter((r) => detail(r, 'Recovery case id') === c.id);
    assert.ok(aboutCase.length >= 5 && aboutCase.every((r) => r.correlationId === c.correlationId), JSON.stringify(aboutCase.map((r) => [r.activityDisplayName, r.correlationId])));
  });

  test('SC-3 step 2: a second case, cancelled in the console, restores the suspended passkey, which signs in again; one correlation id', async () => {
    assert.ok(cleo?.newId, 'needs the recovery test');
    const { code } = await openCaseInConsole(cleo, 'inPerson', 'desk 3');
    await closePassDialog();
    const active = admin.locator('#cases tbody tr').filter({ hasText: 'active' });
    await active.waitFor();
    const second = (await h.call('GET', `/api/recovery/cases?userId=${cleo.id}&state=active`)).body.value[0] as Json;
    assert.deepEqual(second.suspendedMethodIds, [cleo.newId]);

    // While the case is open, the passkey on C is refused (900206).
    await useOnly(C);
    await openSignedOut();
    await toSignInPage('Sign in');
    await passkeyOnSignInPage(cleo.upn);
    await user.getByRole('heading', { level: 2, name: 'You can’t sign in' }).waitFor();
    assert.match(await user.locator('#decision').innerText(), /900206/);

    // The admin cancels it in the console, after confirming.
    await admin.getByRole('button', { name: `Cancel case: case of ${cleo.upn}` }).click();
    const confirm = admin.getByRole('dialog', { name: 'Cancel case?' });
    await confirm.waitFor();
    await axe(admin, 'console recovery: confirm cancelling');
    await confirm.getByRole('button', { name: 'Cancel case' }).click();
    await admin.locator('#cases tbody tr').filter({ hasText: 'cancelled' }).waitFor();
    await axe(admin, 'console recovery: a cancelled and a completed case');
    await shot(admin, '11-console-cancelled', 'section:has(#cases)');
    const cancelled = await getCase(second.id);
    assert.equal(cancelled.state, 'cancelled');
    assert.deepEqual(cancelled.restoredMethodIds, [cleo.newId]);
    assert.deepEqual((await h.call('GET', `/graph/v1.0/users/${cleo.id}/authentication/temporaryAccessPassMethods`)).body.value, [], 'the case TAP is deleted');

    // The restored passkey signs in to the portal again.
    await openSignedOut();
    await toSignInPage('Sign in');
    await passkeyOnSignInPage(cleo.upn);
    await backAtPortalList();
    assert.match(await user.locator('#who').innerText(), /with a passkey/);
    assert.match(await methodItem('New laptop').innerText(), /Status\s+Usable/);
    const signedIn = await lastPortalSignIn(cleo.id);
    assert.equal(signedIn.status.errorCode, 0, JSON.stringify(signedIn.status));
    assert.equal(signedIn.authenticationDetails.at(-1).authenticationMethod, 'Passkey (FIDO2)');
    await axe(user, 'portal: the restored passkey signed in');
    await shot(user, '12-portal-restored');

    // Its trail: opened (and in effect), then cancelled: restored, the TAP deleted, the case cancelled.
    const { steps, records } = await caseTrail(second.correlationId);
    assert.deepEqual(steps, [
      ['Admin registered security info', 'Invalidate all refresh tokens for user', 'Opened recovery case', 'Suspended security info'],
      ['Admin deleted security info', 'Cancelled recovery case', 'Restored security info'],
    ]);
    assert.ok(records.every((r) => r.correlationId === second.correlationId && r.result === 'success'));
    assert.ok(records.filter((r) => r.activityDisplayName !== 'Invalidate all refresh tokens for user').every((r) => r.initiatedBy.user?.id === adminPerson.id),
      JSON.stringify(records.map((r) => [r.activityDisplayName, r.initiatedBy])));
    assert.equal(detail(records.find((r) => r.activityDisplayName === 'Restored security info')!, 'Method id'), cleo.newId);
    assert.ok(!JSON.stringify(records).includes(code));
    assert.notEqual(second.correlationId, cleo.caseId && (await getCase(cleo.caseId)).correlationId, 'each case has its own correlation id');
  });

  test('axe-core checked the console recovery screen and each portal state visited', () => {
    for (const state of ['console recovery: the open form', 'console recovery: an active case', 'console recovery: a completed case', 'portal: signed out',
      'portal: TAP sign-in, no passkey', 'portal: session ended by the case', 'portal: case TAP sign-in, the old passkey suspended']) {
      assert.ok(checked.includes(state), `${state}: ${JSON.stringify(checked)}`);
    }
  });
});
