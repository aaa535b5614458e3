import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startServerAndBrowser, type WebAuthnBrowser } from '../support/browser.ts';
import { setUpCommonTenant } from '../support/commonTenant.ts';
import {
  SECURITY_READER_ROLE, assertAccessible, consoleUser, heading1, issueTap, openConsole, screenshot, signInToConsole, type ConsolePerson,
} from '../support/console.ts';
import type { Harness } from '../support/harness.ts';
import { createSoftAuthenticator } from '../support/softAuthenticator.ts';

/**
 * The admin console's policy screens (issue 7, part 2) in a real Chromium, on the common
 * "passkey-only" tenant (scenarios.md) set up through Graph: the methods policy (MTH-1, MTH-2,
 * TAP-1), strengths (STR-1, STR-2: delete refused while referenced), Conditional Access in the
 * form editor and the JSON view (CA-1..CA-6; a 400 names the field), the WIF-3 lockout guard's
 * refusal shown with the administrators it names, Preview impact of a draft (WIF-2) showing the
 * logged sign-ins it would change, What-If for SC-2 (PLT-3), named locations, platform rules,
 * import of an Entra export with a dry run, and the role rules: a Security Reader sees, never
 * changes. axe-core checks every screen.
 *
 * GATEHOUSE_SCREENSHOTS=1 writes docs/screenshots/console-policies-*.png (1280×800).
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/conditional-access/', import.meta.url));
const UA = { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0' };

describe('The admin console\'s policy screens in Chromium (issue 7: methods, strengths, CA editor, impact, What-If, import, role rules)', { timeout: 480_000 }, () => {
  let h: Harness;
  let b: WebAuthnBrowser;
  let page: Page;
  let readerPage: Page;
  let admin: ConsolePerson;
  let reader: ConsolePerson;
  let ada: ConsolePerson;
  let bob: ConsolePerson;
  let pilot: { id: string };
  let t: Awaited<ReturnType<typeof setUpCommonTenant>>;
  const bobSignIns: string[] = [];
  const checked: string[] = [];

  const caPolicies = async () => (await h.call('GET', '/graph/v1.0/identity/conditionalAccess/policies')).body.value as any[];
  const flow = (path: string, body: unknown) => h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in${path}`, { token: null, body, headers: UA });

  before(async () => {
    await startServerAndBrowser((p) => { if (p.h) h = p.h; if (p.b) b = p.b; });
    page = b.page;
    await page.setViewportSize({ width: 1280, height: 800 });
    // The page's CSP (script-src 'self') would refuse axe-core's injected script; the test bypasses it, the page keeps it.
    await b.cdp.send('Page.setBypassCSP', { enabled: true });
    admin = { id: h.tenant.admin.id, upn: h.tenant.admin.userPrincipalName, code: await issueTap(h, h.tenant.admin.id) };
    reader = await consoleUser(h, 'Rita Reader', 'rita.policies@contoso.test', [SECURITY_READER_ROLE]);
    ada = await consoleUser(h, 'Ada Passkey', 'ada.policies@contoso.test');
    bob = await consoleUser(h, 'Bob Pilot', 'bob.policies@contoso.test');
    // Ada holds a passkey (provisioned by an admin with a software authenticator): SC-2's situation.
    const opts = await h.call('GET', `/graph/v1.0/users/${ada.id}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`);
    assert.equal(opts.status, 200, JSON.stringify(opts.body));
    const pk = await h.call('POST', `/graph/v1.0/users/${ada.id}/authentication/fido2Methods`, { body: { displayName: 'Ada key', publicKeyCredential: createSoftAuthenticator().register(opts.body.publicKey, h.baseUrl) } });
    assert.equal(pk.status, 201, JSON.stringify(pk.body));
    const g = await h.call('POST', '/graph/v1.0/groups', { body: { displayName: 'Pilot', mailEnabled: false, securityEnabled: true, mailNickname: 'pilot' } });
    assert.equal(g.status, 201, JSON.stringify(g.body));
    pilot = { id: g.body.id };
    assert.equal((await h.call('POST', `/graph/v1.0/groups/${pilot.id}/members/$ref`, { body: { '@odata.id': `${h.baseUrl}/graph/v1.0/directoryObjects/${bob.id}` } })).status, 204);

    // Both admins sign in before any CA policy exists (the TAP grants; tokens last 15 minutes).
    await signInToConsole(h, page, admin);
    const readerContext = await b.browser.newContext();
    readerPage = await readerContext.newPage();
    readerPage.setDefaultTimeout(10_000);
    await readerPage.setViewportSize({ width: 1280, height: 800 });
    await (await readerContext.newCDPSession(readerPage)).send('Page.setBypassCSP', { enabled: true });
    await signInToConsole(h, readerPage, reader);

    t = await setUpCommonTenant(h);
    // Bob's sign-ins at Chat with his pass: CA002 (phishing-resistant) → the registration interrupt (PLT-4).
    for (let i = 0; i < 2; i++) {
      const f = await flow('', { clientId: t.chat, capabilities: { webauthn: true } });
      assert.equal(f.status, 201, JSON.stringify(f.body));
      const r = await flow(`/${f.body.flowId}/tap`, { username: bob.upn, code: bob.code });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.decision.outcome, 'register', JSON.stringify(r.body.decision));
    }
  });
  after(async () => {
    await b?.close();
    await h?.close();
  });

  test('Conditional Access list: the common tenant\'s policies with state, grant and targets; the policy tabs', async () => {
    await openConsole(h, page, '#/policies/ca', 'Conditional Access policies');
    const table = page.locator('#ca-list table.data');
    await table.waitFor();
    const text = await table.innerText();
    assert.match(text, /CA001 Protect security info registration/);
    assert.match(text, /CA002 Require phishing-resistant authentication/);
    assert.match(text, /strength “Phishing-resistant MFA”/);
    assert.match(text, /user action urn:user:registersecurityinfo/);
    assert.equal(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Policies' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.getByRole('navigation', { name: 'Policies' }).getByRole('link', { name: 'Conditional Access' }).getAttribute('aria-current'), 'page');
    checked.push(await assertAccessible(page, 'CA list'));
    await screenshot(page, 'console-policies-1-ca-list');
  });

  test('methods policy: Fido2 and TAP settings, methods not available here (MTH-1); a TAP bound is refused with its message, a valid change saved (TAP-1)', async () => {
    await openConsole(h, page, '#/policies/methods', 'Authentication methods policy');
    await page.locator('#method-Fido2').waitFor();
    await page.locator('#method-TemporaryAccessPass').waitFor();
    assert.match(await page.locator('#method-Fido2').innerText(), /Enforce key restrictions/);
    assert.match(await page.locator('main').innerText(), /Methods not available on this server/);
    checked.push(await assertAccessible(page, 'methods policy'));
    await screenshot(page, 'console-policies-2-methods');

    const tap = page.locator('#method-TemporaryAccessPass');
    await tap.getByLabel('Default lifetime (minutes)').fill('30');
    await tap.getByRole('button', { name: 'Save Temporary Access Pass' }).click();
    await tap.locator('.problem').filter({ hasText: /TAP-1/ }).waitFor();
    await tap.getByLabel('Default lifetime (minutes)').fill('90');
    await tap.getByLabel('Length (characters)').fill('12');
    await tap.getByRole('button', { name: 'Save Temporary Access Pass' }).click();
    await page.locator('#status').filter({ hasText: 'Saved Temporary Access Pass.' }).waitFor();
    const stored = await h.call('GET', '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass');
    assert.equal(stored.body.defaultLifetimeInMinutes, 90);
    assert.equal(stored.body.defaultLength, 12);
  });

  test('strengths: built-ins read-only with usage; create a custom one; deleting a referenced strength is refused with the policies (STR-2)', async () => {
    await openConsole(h, page, '#/policies/strengths', 'Authentication strengths');
    await page.locator('#custom-strengths table.data').waitFor();
    assert.match(await page.locator('main').innerText(), /Phishing-resistant MFA/);
    assert.match(await page.locator('#custom-strengths').innerText(), /Bootstrap and Recovery[\s\S]*CA001 Protect security info registration/);
    checked.push(await assertAccessible(page, 'strengths'));
    await screenshot(page, 'console-policies-3-strengths');

    await page.getByLabel('Name', { exact: true }).fill('Passkey or one-time TAP');
    await page.getByRole('checkbox', { name: 'fido2', exact: true }).check();
    await page.getByRole('checkbox', { name: 'temporaryAccessPassOneTime', exact: true }).check();
    await page.getByRole('button', { name: 'Create strength' }).click();
    await page.locator('#custom-strengths').filter({ hasText: 'Passkey or one-time TAP' }).waitFor();
    const created = (await h.call('GET', '/graph/v1.0/policies/authenticationStrengthPolicies')).body.value.find((s: any) => s.displayName === 'Passkey or one-time TAP');
    assert.deepEqual([...created.allowedCombinations].sort(), ['fido2', 'temporaryAccessPassOneTime']);

    await page.getByRole('button', { name: 'Delete the strength “Bootstrap and Recovery”' }).click();
    await page.getByRole('dialog', { name: 'Delete the strength “Bootstrap and Recovery”?' }).getByRole('button', { name: 'Delete', exact: true }).click();
    const refusal = page.locator('#strength-problem .problem');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /STR-2[\s\S]*CA001 Protect security info registration/);
    assert.equal((await h.call('GET', `/graph/v1.0/policies/authenticationStrengthPolicies/${t.strength}`)).status, 200, 'still there');
    checked.push(await assertAccessible(page, 'strength delete refused'));

    await page.getByRole('button', { name: 'Delete the strength “Passkey or one-time TAP”' }).click();
    await page.getByRole('dialog', { name: 'Delete the strength “Passkey or one-time TAP”?' }).getByRole('button', { name: 'Delete', exact: true }).click();
    await page.locator('#status').filter({ hasText: 'Deleted the strength “Passkey or one-time TAP”.' }).waitFor();
    assert.equal((await h.call('GET', `/graph/v1.0/policies/authenticationStrengthPolicies/${created.id}`)).status, 404);
  });

  test('CA editor: create in the form, see it in the JSON view, save; edit in JSON, save; a 400 shows the field', async () => {
    await openConsole(h, page, '#/policies/ca/new', 'New Conditional Access policy');
    await page.getByLabel('Name', { exact: true }).fill('CA100 MFA for the pilot');
    await page.getByLabel('State', { exact: true }).selectOption('enabledForReportingButNotEnforced');
    await page.getByLabel('Include', { exact: true }).selectOption('select');
    const groups = page.getByRole('group', { name: 'Included groups' });
    await groups.getByRole('searchbox').fill('Pil');
    await groups.getByRole('button', { name: 'Search' }).click();
    await groups.getByRole('button', { name: 'Add Pilot to Included groups' }).click();
    await groups.getByRole('listitem').filter({ hasText: 'Pilot' }).waitFor();
    await page.getByLabel('This policy applies to').selectOption('apps');
    await page.getByLabel('Include applications').selectOption('All');
    await page.getByLabel('Access', { exact: true }).selectOption('grant');
    checked.push(await assertAccessible(page, 'CA editor form'));
    await screenshot(page, 'console-policies-4-ca-form');

    // The same draft in the JSON view.
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const json = page.getByLabel('The policy as Graph JSON');
    const draft = JSON.parse(await json.inputValue());
    assert.equal(draft.displayName, 'CA100 MFA for the pilot');
    assert.deepEqual(draft.conditions.users.includeGroups, [pilot.id]);
    assert.deepEqual(draft.conditions.applications.includeApplications, ['All']);
    assert.deepEqual(draft.grantControls.builtInControls, ['mfa']);
    checked.push(await assertAccessible(page, 'CA editor JSON'));
    await screenshot(page, 'console-policies-5-ca-json', '#editor');
    // An edit in JSON shows in the form.
    await json.fill(JSON.stringify({ ...draft, displayName: 'CA100 MFA for the pilot group' }, null, 2));
    await page.getByRole('button', { name: 'Form', exact: true }).click();
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'CA100 MFA for the pilot group');
    await page.getByRole('button', { name: 'Create policy' }).click();
    await heading1(page, 'Policy “CA100 MFA for the pilot group”').waitFor();
    const id = decodeURIComponent(/#\/policies\/ca\/([^/?]+)$/.exec(page.url())?.[1] ?? '');
    let stored = (await h.call('GET', `/graph/v1.0/identity/conditionalAccess/policies/${id}`)).body;
    assert.equal(stored.state, 'enabledForReportingButNotEnforced');
    assert.deepEqual(stored.conditions.users.includeGroups, [pilot.id]);
    const audits = await h.database.db.selectFrom('directory_audits').select('record').where('tenant_id', '=', h.tenant.tenantId).execute();
    assert.ok(audits.some((a) => (a.record as any).activityDisplayName === 'Add conditional access policy' && (a.record as any).initiatedBy?.user?.id === admin.id), 'audited as the admin');

    // Edit in JSON: turn it on, save.
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const edited = JSON.parse(await page.getByLabel('The policy as Graph JSON').inputValue());
    edited.state = 'enabled';
    await page.getByLabel('The policy as Graph JSON').fill(JSON.stringify(edited, null, 2));
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#status').filter({ hasText: 'Saved the policy “CA100 MFA for the pilot group”.' }).waitFor();
    stored = (await h.call('GET', `/graph/v1.0/identity/conditionalAccess/policies/${id}`)).body;
    assert.equal(stored.state, 'enabled');

    // A grant Gatehouse can't evaluate on an enabled policy: 400 naming the field (CA-4); nothing changes.
    await heading1(page, 'Policy “CA100 MFA for the pilot group”').waitFor();
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const bad = JSON.parse(await page.getByLabel('The policy as Graph JSON').inputValue());
    bad.grantControls.builtInControls = ['compliantDevice'];
    await page.getByLabel('The policy as Graph JSON').fill(JSON.stringify(bad, null, 2));
    await page.getByRole('button', { name: 'Save changes' }).click();
    const problem = page.locator('#save-result .problem');
    await problem.waitFor();
    assert.match(await problem.innerText(), /Field: grantControls\.builtInControls/);
    checked.push(await assertAccessible(page, 'CA editor 400'));
    stored = (await h.call('GET', `/graph/v1.0/identity/conditionalAccess/policies/${id}`)).body;
    assert.deepEqual(stored.grantControls.builtInControls, ['mfa']);
  });

  test('WIF-3: a policy that blocks every user on every app is refused with the reason naming the Global Administrators; nothing is saved', async () => {
    const before = (await caPolicies()).length;
    await openConsole(h, page, '#/policies/ca/new', 'New Conditional Access policy');
    await page.getByLabel('Name', { exact: true }).fill('CA999 Block everyone');
    await page.getByLabel('State', { exact: true }).selectOption('enabled');
    await page.getByLabel('Include', { exact: true }).selectOption('All');
    await page.getByLabel('This policy applies to').selectOption('apps');
    await page.getByLabel('Include applications').selectOption('All');
    await page.getByLabel('Access', { exact: true }).selectOption('block');
    await page.getByRole('button', { name: 'Create policy' }).click();
    const lockout = page.locator('#lockout');
    await lockout.waitFor();
    const text = await lockout.innerText();
    assert.match(text, /lock every Global Administrator out of the admin console \(WIF-3\)/);
    assert.match(text, /WIF-3:/);
    assert.ok(text.includes(admin.upn), text);
    assert.equal(await page.getByRole('button', { name: /force/i }).count(), 0, 'no force button');
    checked.push(await assertAccessible(page, 'WIF-3 refusal'));
    await screenshot(page, 'console-policies-6-lockout', '#save-result');
    assert.equal((await caPolicies()).length, before);
  });

  test('Preview impact: a draft that blocks the Pilot group shows the logged sign-ins it would change, linking to each one (WIF-2)', async () => {
    // From the list (the previous test left the page on #/policies/ca/new: a fresh editor, not its leftovers).
    await openConsole(h, page, '#/policies/ca', 'Conditional Access policies');
    await page.getByRole('link', { name: 'New policy' }).first().click();
    await heading1(page, 'New Conditional Access policy').waitFor();
    assert.equal(await page.locator('#lockout').count(), 0);
    await page.getByLabel('Name', { exact: true }).fill('CA200 Block the pilot');
    await page.getByLabel('State', { exact: true }).selectOption('enabled');
    await page.getByLabel('Include', { exact: true }).selectOption('select');
    const groups = page.getByRole('group', { name: 'Included groups' });
    await groups.getByRole('searchbox').fill('Pilot');
    await groups.getByRole('button', { name: 'Search' }).click();
    await groups.getByRole('button', { name: 'Add Pilot to Included groups' }).click();
    await page.getByLabel('This policy applies to').selectOption('apps');
    await page.getByLabel('Include applications').selectOption('All');
    await page.getByLabel('Access', { exact: true }).selectOption('block');
    await page.getByRole('button', { name: 'Preview impact' }).click();
    const result = page.locator('#impact-result');
    await result.locator('#changed-outcomes').waitFor();
    assert.ok(Number(await result.locator('#changed-outcomes').innerText()) >= 2, await result.innerText());
    assert.match(await result.innerText(), /register\s+block/);
    assert.ok((await result.locator('#affected-users').innerText()).includes(bob.upn));
    const rows = await h.database.db.selectFrom('sign_ins').select('id').where('user_id', '=', bob.id).execute();
    bobSignIns.push(...rows.map((r) => r.id));
    assert.ok(bobSignIns.length >= 2, `bob's sign-ins: ${bobSignIns.length}`);
    // The examples of the outcome change register → block are Bob's sign-ins (other kinds, such as a new notApplied result, may list anyone).
    const changes = await result.locator('.impact-examples').evaluateAll((uls) => uls.map((u) => (u as any).dataset.change as string));
    const toBlock = changes.filter((c) => /^register.*→ block/.test(c));
    assert.equal(toBlock.length, 1, JSON.stringify(changes));
    const hrefs = await result.locator(`.impact-examples[data-change="${toBlock[0]}"] a`).evaluateAll((as) => as.map((a) => (a as any).getAttribute('href') as string));
    assert.ok(hrefs.length >= 2, 'examples');
    for (const href of hrefs) {
      const sid = decodeURIComponent(/^#\/logs\/sign-ins\/(.+)$/.exec(href)?.[1] ?? '');
      assert.ok(bobSignIns.includes(sid), `${href} is one of bob's sign-ins: ${bobSignIns.join(', ')}`);
    }
    assert.match(await result.innerText(), /because CA policy “CA200 Block the pilot”/);
    checked.push(await assertAccessible(page, 'impact'));
    await screenshot(page, 'console-policies-7-impact', '#impact');
    assert.ok(!(await caPolicies()).some((p) => p.displayName === 'CA200 Block the pilot'), 'nothing saved');
    // The example opens the sign-in's "why" page.
    await result.locator(`.impact-examples[data-change="${toBlock[0]}"] a`).first().click();
    await heading1(page, /Sign-in of bob\.policies@contoso\.test/).waitFor();
  });

  test('What-If for SC-2: a passkey holder with only a TAP at security info is stopped by PLT-3', async () => {
    await openConsole(h, page, '#/policies/whatif', 'What-If');
    await page.getByLabel('User', { exact: true }).fill(ada.upn);
    await page.getByLabel('Kind').selectOption('action');
    await page.getByLabel('User action').selectOption('registerSecurityInformation');
    await page.getByLabel('Method 1 already performed').selectOption('temporaryAccessPassMultiUse');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    const rules = page.locator('#whatif-platform-rules table');
    await rules.waitFor();
    const row = rules.locator('tr').filter({ hasText: 'PLT-3' });
    assert.match(await row.innerText(), /required/);
    assert.match(await page.locator('#whatif-requirements').innerText(), /Platform rule PLT-3/);
    assert.match(await page.locator('#whatif-outcome').innerText(), /900403/);
    assert.match(await page.locator('#whatif-policies').innerText(), /CA001 Protect security info registration/);
    checked.push(await assertAccessible(page, 'What-If'));
    await screenshot(page, 'console-policies-8-whatif', '#whatif-result');
  });

  test('named locations: add a trusted office range; platform rules: each rule explained with its settings', async () => {
    await openConsole(h, page, '#/policies/locations', 'Named locations');
    await page.locator('.empty-state').filter({ hasText: 'There is no named location yet' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Head office');
    await page.getByLabel('IP ranges').fill('203.0.113.0/24\n2001:db8::/48');
    await page.getByLabel('Mark as trusted location').check();
    await page.getByRole('button', { name: 'Add location' }).click();
    await page.locator('table.data').filter({ hasText: 'Head office' }).waitFor();
    assert.match(await page.locator('table.data').innerText(), /Trusted[\s\S]*203\.0\.113\.0\/24, 2001:db8::\/48/);
    const loc = (await h.call('GET', '/graph/v1.0/identity/conditionalAccess/namedLocations')).body.value;
    assert.equal(loc.length, 1);
    assert.equal(loc[0].isTrusted, true);
    checked.push(await assertAccessible(page, 'named locations'));
    await screenshot(page, 'console-policies-9-locations');

    await openConsole(h, page, '#/policies/platform', 'Platform rules');
    await page.getByLabel('PLT-3: existing-method step-up').waitFor();
    assert.equal(await page.getByLabel('PLT-3: existing-method step-up').inputValue(), 'phishingResistant');
    const rules = await page.locator('#platform-rules').innerText();
    for (const id of ['PLT-1', 'PLT-2', 'PLT-3', 'PLT-4', 'PLT-5', 'PLT-6']) assert.ok(rules.includes(id), id);
    await page.getByLabel('PLT-2: security-info session (minutes)').fill('20');
    await page.getByRole('button', { name: 'Save platform rules' }).click();
    await page.locator('#status').filter({ hasText: 'Saved the platform rules.' }).waitFor();
    assert.equal((await h.call('GET', '/graph/v1.0/policies/platformRulesPolicy')).body.securityInfoSessionInMinutes, 20);
    checked.push(await assertAccessible(page, 'platform rules'));
    await screenshot(page, 'console-policies-10-platform');
  });

  test('import: an Entra export checked with a dry run (nothing stored), then imported; findings shown (CA-4)', async () => {
    const files = [
      `${FIXTURES}j0eyv-ConditionalAccessBaseline/policies/CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA.json`,
      `${FIXTURES}j0eyv-ConditionalAccessBaseline/policies/CA002-Global-IdentityProtection-AnyApp-AnyPlatform-Block-LegacyAuthentication.json`,
    ];
    const before = (await caPolicies()).length;
    await openConsole(h, page, '#/policies/import', 'Import policies from Entra');
    await page.locator('#import-files .empty-state').waitFor();
    checked.push(await assertAccessible(page, 'import empty'));
    await page.getByLabel('Exported JSON files').setInputFiles(files);
    await page.locator('#import-files table').filter({ hasText: 'CA002-Global' }).waitFor();
    await page.getByRole('button', { name: 'Check (dry run)' }).click();
    const report = page.locator('#import-report');
    await report.getByRole('heading', { name: 'Dry run report (nothing was stored)' }).waitFor();
    const dry = await report.innerText();
    assert.match(dry, /CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA/);
    assert.match(dry, /Stored disabled|Stored/);
    assert.equal((await caPolicies()).length, before, 'a dry run stores nothing');
    checked.push(await assertAccessible(page, 'import dry run'));
    await screenshot(page, 'console-policies-11-import', '#import-report');

    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('dialog', { name: /Import 2 files\?/ }).getByRole('button', { name: 'Import', exact: true }).click();
    await report.getByRole('heading', { name: 'Import report' }).waitFor();
    const after = await caPolicies();
    assert.equal(after.length, before + 2, JSON.stringify(after.map((p) => p.displayName)));
    const imported = after.find((p) => p.displayName === 'CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA');
    assert.ok(imported);
    if (imported.state === 'disabled') {
      assert.ok(imported.gatehouseFindings.length > 0);
      // The list shows the findings that keep it disabled.
      await openConsole(h, page, '#/policies/ca', 'Conditional Access policies');
      await page.locator('#ca-list').filter({ hasText: 'Kept disabled' }).waitFor();
    }
  });

  test('role rules: a Security Reader sees every policy screen with no save, delete or import button, and a sentence why', async () => {
    const p = readerPage;
    await openConsole(h, p, '#/policies/ca', 'Conditional Access policies');
    await p.locator('#ca-list table.data').waitFor();
    assert.match(await p.locator('.not-offered').first().innerText(), /can’t|not change|can read this but not change/i);
    assert.equal(await p.getByRole('link', { name: 'New policy' }).count(), 0);
    assert.equal(await p.getByRole('button', { name: /Delete/ }).count(), 0);
    checked.push(await assertAccessible(p, 'reader: CA list'));
    await screenshot(p, 'console-policies-12-reader');

    await openConsole(h, p, `#/policies/ca/${t.ca002}`, /Policy “CA002/);
    await p.locator('#policy-form').waitFor();
    assert.equal(await p.getByRole('button', { name: /Save|Create|Delete/ }).count(), 0);
    assert.ok(await p.getByLabel('Name', { exact: true }).isDisabled());
    checked.push(await assertAccessible(p, 'reader: CA policy'));

    for (const [hash, title] of [['#/policies/methods', 'Authentication methods policy'], ['#/policies/strengths', 'Authentication strengths'], ['#/policies/locations', 'Named locations'], ['#/policies/platform', 'Platform rules'], ['#/policies/import', 'Import policies from Entra']] as const) {
      await openConsole(h, p, hash, title);
      await p.locator('.not-offered').first().waitFor();
      assert.match(await p.locator('.not-offered').first().innerText(), /You can read this but not change it/);
      assert.equal(await p.getByRole('button', { name: /^(Save|Create|Delete|Import|Add location|Check)/ }).count(), 0, hash);
    }
    // The server refuses a write from a reader anyway (403), whatever the console shows.
    const token = await p.evaluate((tid) => JSON.parse((globalThis as any).sessionStorage.getItem(`gatehouse.console.${tid}.token`)).accessToken, h.tenant.tenantId);
    const refused = await h.call('PATCH', '/graph/v1.0/policies/platformRulesPolicy', { token, body: { existingMethodStepUp: 'off' } });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.ok(checked.length >= 14, `axe-core ran on ${checked.length} states: ${checked.join(', ')}`);
  });
});
