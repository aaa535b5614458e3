import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { rotateSigningKey } from '../../../src/oidc/keys.ts';
import { addPassword, createApplication, grantPermissions } from '../../../src/store/applications.ts';
import { startHarness, type Harness } from '../../support/harness.ts';

describe('OIDC per tenant and the client-credentials grant (DIR-1, DIR-6)', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  const discover = (id: string, secret: string) =>
    client.discovery(new URL(h.tenant.issuer), id, { client_secret: secret }, client.ClientSecretPost(secret), { execute: [client.allowInsecureRequests] });

  test('openid-client discovers the tenant issuer and gets a Graph token whose roles are the app permissions', async () => {
    const config = await discover(h.tenant.automation.clientId, h.tenant.automation.clientSecret);
    assert.equal(config.serverMetadata().issuer, h.tenant.issuer);
    const tokens = await client.clientCredentialsGrant(config);
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.iss, h.tenant.issuer);
    assert.equal(claims.aud, `${h.baseUrl}/graph`);
    assert.equal(claims.tid, h.tenant.tenantId);
    assert.deepEqual([...(claims.roles as string[])].sort(), [...h.tenant.automation.permissions].sort());
    const created = await h.call('POST', '/graph/v1.0/users', { token: tokens.access_token, body: { displayName: 'Via RP', userPrincipalName: 'rp@contoso.test' } });
    assert.equal(created.status, 201);
  });

  test('a wrong secret is invalid_client; the stored hash is not a usable secret', async () => {
    const invalidClient = (e: unknown) => (e as { error?: string }).error === 'invalid_client';
    await assert.rejects(client.clientCredentialsGrant(await discover(h.tenant.automation.clientId, 'not-the-secret')), invalidClient);
    const row = await h.database.db.selectFrom('application_secrets').select('secret_hash').where('application_id', '=', h.tenant.automation.objectId).executeTakeFirstOrThrow();
    await assert.rejects(client.clientCredentialsGrant(await discover(h.tenant.automation.clientId, row.secret_hash)), invalidClient);
  });

  test('a token without the permission gets 403 naming what is needed; reading with User.Read.All works', async () => {
    const { db } = h.database;
    const made = await db.transaction().execute(async (trx) => {
      const app = await createApplication(trx, h.tenant.tenantId, { displayName: 'Reader' }, 'automation');
      await grantPermissions(trx, h.tenant.tenantId, app.id, ['User.Read.All']);
      return { app, secret: await addPassword(trx, h.tenant.tenantId, app.id, {}, new Date()) };
    });
    const tokens = await client.clientCredentialsGrant(await discover(made.app.appId, made.secret.secretText!));
    const denied = await h.call('POST', '/graph/v1.0/users', { token: tokens.access_token, body: { displayName: 'No', userPrincipalName: 'no@contoso.test' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
    assert.match(denied.body.error.message, /User\.ReadWrite\.All/);
    const groups = await h.call('POST', '/graph/v1.0/groups', { token: tokens.access_token, body: { displayName: 'No' } });
    assert.equal(groups.status, 403);
    const read = await h.call('GET', '/graph/v1.0/users?$top=1', { token: tokens.access_token });
    assert.equal(read.status, 200);
    const count = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('user_principal_name', '=', 'no@contoso.test').executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 0);
  });

  test('tokens are checked for presence, signature, issuer and audience', async () => {
    assert.equal((await h.call('GET', '/graph/v1.0/users', { token: null })).status, 401);
    assert.equal((await h.call('GET', '/graph/v1.0/users', { token: 'not.a.jwt' })).status, 401);
    const good = await h.token();
    const [hd, pl, sig] = good.split('.');
    const forged = [hd, Buffer.from(JSON.stringify({ ...decodeJwt(good), roles: ['Directory.ReadWrite.All'], aud: 'x' })).toString('base64url'), sig].join('.');
    const r = await h.call('GET', '/graph/v1.0/users', { token: forged });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'InvalidAuthenticationToken');
    void pl;
  });

  test('keys rotate: new tokens use the new key, old tokens keep working, JWKS publishes both', async () => {
    const before = await h.token();
    const oldKid = decodeProtectedHeader(before).kid;
    const rotated = await rotateSigningKey(h.database.db, h.tenant.tenantId, new Date());
    assert.deepEqual(rotated.retired, [oldKid]);
    // servers re-read the key set within KEY_RECHECK_MS; poll rather than sleep a fixed time
    const config = await discover(h.tenant.automation.clientId, h.tenant.automation.clientSecret);
    let newKid: string | undefined;
    for (let i = 0; i < 60 && newKid !== rotated.kid; i++) {
      newKid = decodeProtectedHeader((await client.clientCredentialsGrant(config)).access_token).kid;
      if (newKid !== rotated.kid) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(newKid, rotated.kid);
    const jwks = await (await fetch(`${h.tenant.issuer}/jwks`)).json() as { keys: { kid: string; d?: string }[] };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, rotated.kid].sort());
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private parts in JWKS');
    assert.equal((await h.call('GET', '/graph/v1.0/users?$top=1', { token: before })).status, 200);
  });

  test('an unknown tenant has no issuer', async () => {
    const r = await fetch(`${h.baseUrl}/00000000-0000-0000-0000-000000000001/v2.0/.well-known/openid-configuration`);
    assert.equal(r.status, 404);
  });
});
