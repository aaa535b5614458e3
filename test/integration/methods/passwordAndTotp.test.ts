import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PASSWORD_METHOD_ID } from '../../../src/flows/methods/methods.ts';
import { enrolSoftwareOath } from '../../../src/flows/methods/passwordAndTotp.ts';
import { generateTotp } from '../../../src/methods/totp/index.ts';
import { startHarness, type Harness } from '../../support/harness.ts';

describe('Password (Argon2id) and TOTP (RFC 6238): off in new tenants, real when enabled (MTH-2, MTH-4)', () => {
  let h: Harness;
  let user: { id: string; userPrincipalName: string };
  const policy = (id: string) => `/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/${id}`;
  const flow = async () => (await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in`, { token: null, body: {} })).body.flowId as string;
  const step = (flowId: string, name: string, body: unknown) => h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in/${flowId}/${name}`, { token: null, body });
  before(async () => {
    h = await startHarness();
    user = (await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'Pat', userPrincipalName: 'pat@contoso.test' } })).body;
  });
  after(async () => { await h.close(); });

  test('MTH-2: a new tenant is passwordless: Password and SoftwareOath are disabled', async () => {
    const p = await h.call('GET', '/graph/v1.0/policies/authenticationMethodsPolicy');
    const state = Object.fromEntries(p.body.authenticationMethodConfigurations.map((c: { id: string; state: string }) => [c.id, c.state]));
    assert.deepEqual(state, { Fido2: 'enabled', TemporaryAccessPass: 'enabled', Password: 'disabled', SoftwareOath: 'disabled' });
  });

  test('MTH-4: resetPassword stores an Argon2id hash; weak passwords are refused naming newPassword; audited', async () => {
    const path = `/graph/v1.0/users/${user.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}/resetPassword`;
    const weak = await h.call('POST', path, { body: { newPassword: 'short' } });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.target, 'newPassword');
    assert.equal((await h.call('POST', path, { body: { newPassword: 'correct horse battery staple' } })).status, 202);
    const row = await h.database.db.selectFrom('password_methods').select('hash').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    assert.match(row.hash, /^\$argon2id\$/);
    const methods = await h.call('GET', `/graph/v1.0/users/${user.id}/authentication/passwordMethods`);
    assert.equal(methods.body.value[0].id, PASSWORD_METHOD_ID);
    assert.equal(methods.body.value[0].methodUsabilityReason, 'DisabledByPolicy');
    const audit = await h.database.db.selectFrom('directory_audits').select('record').where('activity_display_name', '=', 'Reset password (by admin)').execute();
    assert.equal(audit.length, 1);
  });

  test('password sign-in is refused while the method is off, works when on, and is throttled like a TAP', async () => {
    const off = await step(await flow(), 'password', { username: user.userPrincipalName, password: 'correct horse battery staple' });
    assert.equal(off.status, 403);
    assert.match(off.body.error.message, /Password is disabled/);
    assert.equal((await h.call('PATCH', policy('Password'), { body: { state: 'enabled' } })).status, 204);
    const on = await step(await flow(), 'password', { username: user.userPrincipalName, password: 'correct horse battery staple' });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.deepEqual(on.body.performedMethods, ['password']);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await step(await flow(), 'password', { username: 'ghost@contoso.test', password: 'wrong wrong wrong' })).status);
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429]);
  });

  test('MTH-4: password + TOTP is two factors; a TOTP code is accepted once', async () => {
    await h.call('PATCH', policy('Password'), { body: { state: 'enabled' } });
    const enrolled = await enrolSoftwareOath({ db: h.database.db, tenantId: h.tenant.tenantId, actor: { kind: 'operator', name: 'test' }, now: new Date() }, user.id);
    assert.match(enrolled.uri, /^otpauth:\/\/totp\/Gatehouse:pat%40contoso\.test\?secret=/);
    const flowId = await flow();
    assert.equal((await step(flowId, 'password', { username: user.userPrincipalName, password: 'correct horse battery staple' })).status, 200);
    const code = generateTotp(enrolled.secretKey, new Date());
    const off = await step(flowId, 'totp', { code });
    assert.equal(off.status, 400, 'SoftwareOath is still disabled');
    assert.equal((await h.call('PATCH', policy('SoftwareOath'), { body: { state: 'enabled' } })).status, 204);
    const ok = await step(flowId, 'totp', { code });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.performedMethods, ['password', 'softwareOath']);
    const replay = await step(flowId, 'totp', { code });
    assert.equal(replay.status, 400);
    assert.match(replay.body.error.message, /already used/);
    const log = (await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', user.id).orderBy('created_date_time').orderBy('id').execute()).map((r) => r.record as any);
    const passwordOnly = log.find((l) => l.authenticationDetails[0].authenticationMethod === 'Password' && l.status.errorCode === 0);
    assert.equal(passwordOnly.authenticationRequirement, 'singleFactorAuthentication');
    const totpSuccess = log.find((l) => l.authenticationDetails[0].authenticationMethod === 'Software OATH token' && l.status.errorCode === 0);
    assert.equal(totpSuccess.authenticationRequirement, 'singleFactorAuthentication', 'no policy required more (as in Entra)');
    assert.ok(totpSuccess.gatehouseDecision.explanation.includes('Session: password, softwareOath.'), 'the decision saw both factors');
    // guessing codes is throttled per user like a TAP (TAP-10)
    const wrong = String((Number(generateTotp(enrolled.secretKey, new Date())) + 500_000) % 1_000_000).padStart(6, '0');
    const guesses = [];
    for (let i = 0; i < 6; i++) guesses.push((await step(flowId, 'totp', { code: wrong })).status);
    assert.deepEqual(guesses, [400, 400, 400, 400, 400, 429]);
    const noFirst = await step(await flow(), 'totp', { code: '123456' });
    assert.equal(noFirst.status, 400);
    assert.equal(noFirst.body.error.code, 'MfaRequired');
  });
});
