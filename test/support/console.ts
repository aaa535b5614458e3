/**
 * The admin console in Chromium, for the console's browser tests: open a route, sign in through
 * the tenant's sign-in page with a Temporary Access Pass, run axe-core, take screenshots; used by
 * test/e2e/console.test.ts and consolePolicies.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { FIRST_PARTY_APPS } from '../../src/domain/directory.ts';
import { tapOnSignInPage } from './browser.ts';
import { issueTap } from './commonTenant.ts';
import type { Harness } from './harness.ts';

export { assertAccessible } from './browser.ts';
export { issueTap } from './commonTenant.ts';

export const CONSOLE_APP = FIRST_PARTY_APPS.find((a) => a.key === 'adminConsole')!;
export const SECURITY_READER_ROLE = '5d6b6bb7-de71-4623-b4af-96380a352509';
export const SCREENSHOTS = process.env.GATEHOUSE_SCREENSHOTS === '1';
const SHOTS_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

export type ConsolePerson = { id: string; upn: string; code: string };

export const consoleUrl = (h: Harness, hash = '') => `${h.baseUrl}/${h.tenant.tenantId}/admin${hash}`;
export const heading1 = (p: Page, name: string | RegExp) => p.getByRole('heading', { level: 1, name });

/** Open a console route and wait for its heading. */
export async function openConsole(h: Harness, p: Page, hash: string, heading: string | RegExp): Promise<void> {
  await p.goto(consoleUrl(h, hash));
  await heading1(p, heading).waitFor();
}

/** A user with the given directory roles and a multi-use TAP. */
export async function consoleUser(h: Harness, displayName: string, upn: string, roles: string[] = []): Promise<ConsolePerson> {
  const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName, userPrincipalName: upn } });
  assert.equal(u.status, 201, JSON.stringify(u.body));
  for (const role of roles) {
    const r = await h.call('POST', '/graph/v1.0/roleManagement/directory/roleAssignments', { body: { principalId: u.body.id, roleDefinitionId: role, directoryScopeId: '/' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  return { id: u.body.id, upn: u.body.userPrincipalName, code: await issueTap(h, u.body.id) };
}

/** The console's "Sign in" → the tenant's sign-in page → TAP → back at the console, signed in (lands on Users). */
export async function signInToConsole(h: Harness, p: Page, who: ConsolePerson): Promise<void> {
  await p.goto(consoleUrl(h));
  await p.evaluate(() => (globalThis as any).sessionStorage.clear());
  await p.goto(consoleUrl(h));
  await heading1(p, 'Sign in to the admin console').waitFor();
  await p.getByRole('button', { name: 'Sign in', exact: true }).click();
  await p.waitForURL((u) => u.pathname === `/${h.tenant.tenantId}/sign-in`);
  assert.equal(await p.title(), `Sign in to ${CONSOLE_APP.displayName}`);
  await tapOnSignInPage(p, who.upn, who.code);
  await p.waitForURL((u) => u.pathname === `/${h.tenant.tenantId}/admin` && !u.search);
  await heading1(p, 'Users').waitFor();
  await p.locator('#who').filter({ hasText: who.upn }).waitFor();
}

/** With GATEHOUSE_SCREENSHOTS=1: docs/screenshots/{name}.png of the viewport, scrolled to `top` (a CSS selector) or to the page's top. */
export async function screenshot(p: Page, name: string, top?: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SHOTS_DIR, { recursive: true });
  await p.evaluate((sel) => {
    const g = globalThis as any;
    if (g.document.activeElement) g.document.activeElement.blur();
    const el = sel ? g.document.querySelector(sel) : null;
    if (el) el.scrollIntoView({ block: 'start' });
    else g.scrollTo(0, 0);
  }, top ?? null);
  await p.screenshot({ path: `${SHOTS_DIR}${name}.png`, fullPage: false });
}
