import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../../support/harness.ts';

describe('Graph /users (DIR-2)', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  test('create stores the UPN lower-case and returns the Graph shape; the UPN is unique case-insensitively', async () => {
    const r = await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'Ada Lovelace', userPrincipalName: 'Ada@Contoso.TEST', accountEnabled: true } });
    assert.equal(r.status, 201);
    assert.equal(r.body.userPrincipalName, 'ada@contoso.test');
    assert.equal(r.body.userType, 'Member');
    assert.match(r.body['@odata.context'], /\$metadata#users\/\$entity$/);
    assert.equal(r.headers.get('location'), `${h.baseUrl}/graph/v1.0/users/${r.body.id}`);
    const dup = await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'Other', userPrincipalName: 'ADA@contoso.test' } });
    assert.equal(dup.status, 409);
    assert.match(dup.body.error.message, /userPrincipalName/);
    const byUpn = await h.call('GET', '/graph/v1.0/users/ADA@CONTOSO.TEST');
    assert.equal(byUpn.body.id, r.body.id);
  });

  test('PATCH updates, GET with $select projects, DELETE removes', async () => {
    const c = await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'Grace', userPrincipalName: 'grace@contoso.test' } });
    const p = await h.call('PATCH', `/graph/v1.0/users/${c.body.id}`, { body: { displayName: 'Grace Hopper', accountEnabled: false } });
    assert.equal(p.status, 204);
    const g = await h.call('GET', `/graph/v1.0/users/${c.body.id}?$select=displayName,accountEnabled`);
    assert.deepEqual(Object.keys(g.body).sort(), ['@odata.context', 'accountEnabled', 'displayName', 'id']);
    assert.equal(g.body.displayName, 'Grace Hopper');
    assert.equal(g.body.accountEnabled, false);
    assert.equal((await h.call('DELETE', `/graph/v1.0/users/${c.body.id}`)).status, 204);
    const gone = await h.call('GET', `/graph/v1.0/users/${c.body.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'Request_ResourceNotFound');
  });

  test('$filter eq/startswith on userPrincipalName and displayName, $top and @odata.nextLink paging', async () => {
    for (let i = 0; i < 7; i++) {
      const r = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Pager ${i}`, userPrincipalName: `pager${i}@contoso.test` } });
      assert.equal(r.status, 201);
    }
    const eq = await h.call('GET', `/graph/v1.0/users?$filter=${encodeURIComponent("userPrincipalName eq 'PAGER3@contoso.test'")}`);
    assert.deepEqual(eq.body.value.map((u: { displayName: string }) => u.displayName), ['Pager 3']);
    const dn = await h.call('GET', `/graph/v1.0/users?$filter=${encodeURIComponent("displayName eq 'pager 4'")}`);
    assert.equal(dn.body.value.length, 1);
    const seen: string[] = [];
    let url: string | undefined = `/graph/v1.0/users?$filter=${encodeURIComponent("startswith(displayName,'Pager')")}&$top=3&$select=displayName`;
    let pages = 0;
    while (url) {
      const page = await h.call('GET', url);
      assert.equal(page.status, 200);
      assert.ok(page.body.value.length <= 3);
      for (const u of page.body.value) {
        assert.deepEqual(Object.keys(u).sort(), ['displayName', 'id']);
        seen.push(u.displayName);
      }
      const next: string | undefined = page.body['@odata.nextLink'];
      url = next ? next.slice(h.baseUrl.length) : undefined;
      if (next) assert.ok(next.startsWith(`${h.baseUrl}/graph/v1.0/users?`));
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6].map((i) => `Pager ${i}`));
    const upnPrefix = await h.call('GET', `/graph/v1.0/users?$filter=${encodeURIComponent("startswith(userPrincipalName,'pager1')")}`);
    assert.deepEqual(upnPrefix.body.value.map((u: { userPrincipalName: string }) => u.userPrincipalName), ['pager1@contoso.test']);
  });

  test('$filter on an unsupported property is a 400 naming $filter', async () => {
    const r = await h.call('GET', `/graph/v1.0/users?$filter=${encodeURIComponent("jobTitle eq 'x'")}`);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.target, '$filter');
    assert.match(r.body.error.message, /jobTitle/);
  });

  test('passwordProfile is refused with a message, not silently ignored', async () => {
    const r = await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'P', userPrincipalName: 'p@contoso.test', passwordProfile: { password: 'x' } } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.target, 'passwordProfile');
  });

  test('revokeSignInSessions moves signInSessionsValidFromDateTime forward (PLT-6)', async () => {
    const c = await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'Rev', userPrincipalName: 'rev@contoso.test' } });
    const before = Date.parse(c.body.signInSessionsValidFromDateTime);
    await new Promise((r) => setTimeout(r, 5));
    const r = await h.call('POST', `/graph/v1.0/users/${c.body.id}/revokeSignInSessions`);
    assert.equal(r.status, 200);
    assert.equal(r.body.value, true);
    const g = await h.call('GET', `/graph/v1.0/users/${c.body.id}`);
    assert.ok(Date.parse(g.body.signInSessionsValidFromDateTime) > before);
  });

  test('errors carry Graph innerError with the request id that the response header and logs carry', async () => {
    const r = await h.call('GET', '/graph/v1.0/users/00000000-0000-0000-0000-000000000000', { headers: { 'client-request-id': 'my-trace-1' } });
    assert.equal(r.status, 404);
    assert.equal(r.body.error.innerError['request-id'], r.headers.get('request-id'));
    assert.equal(r.body.error.innerError['client-request-id'], 'my-trace-1');
    assert.match(r.body.error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('security headers are on every API response', async () => {
    const r = await h.call('GET', '/graph/v1.0/users?$top=1');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.ok(r.headers.get('content-security-policy'));
  });
});
