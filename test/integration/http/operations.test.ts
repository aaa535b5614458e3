import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKind, startHarness, type Harness } from '../../support/harness.ts';

describe('operations: health, readiness, metrics, limits', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  test('/healthz answers without the database; /readyz checks it', async () => {
    assert.deepEqual((await h.call('GET', '/healthz', { token: null })).body, { status: 'ok' });
    assert.deepEqual((await h.call('GET', '/readyz', { token: null })).body, { status: 'ready', database: databaseKind });
  });

  test('/metrics counts requests by route and status, sign-in outcomes as they come, and the pool', async () => {
    await h.call('GET', '/graph/v1.0/users?$top=1');
    const flow = (await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in`, { token: null, body: {} })).body.flowId;
    await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in/${flow}/tap`, { token: null, body: { username: 'nobody@contoso.test', code: 'AAAAAAAA' } });
    const ok = await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in/${flow}/tap`, { token: null, body: { username: h.tenant.admin.userPrincipalName, code: h.tenant.admin.temporaryAccessPass.code } });
    assert.equal(ok.status, 200);
    const r = await fetch(`${h.baseUrl}/metrics`);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await r.text();
    assert.match(text, /^gatehouse_http_requests_total\{method="GET",route="\/graph\/v1\.0\/users",status="200"\} [1-9]/m);
    assert.match(text, /^gatehouse_http_request_duration_seconds_count\{method="GET",route="\/graph\/v1\.0\/users"\} [1-9]/m);
    assert.match(text, /^gatehouse_http_requests_total\{method="POST",route="\/\{tenant\}\/v2\.0\/token",status="200"\} 1$/m);
    assert.match(text, /^gatehouse_sign_ins_total\{outcome="success",error_code="0"\} 1$/m);
    assert.match(text, /^gatehouse_sign_ins_total\{outcome="failure",error_code="50126"\} 1$/m);
    assert.match(text, /^gatehouse_db_pool_connections\{state="total"\} \d+$/m);
  });

  test('bodies over the limit get 413 with a Graph error body', async () => {
    const big = JSON.stringify({ displayName: 'x'.repeat(300 * 1024), userPrincipalName: 'big@contoso.test' });
    const r = await h.call('POST', '/graph/v1.0/users', { rawBody: big });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'Request_EntityTooLarge');
  });
});
