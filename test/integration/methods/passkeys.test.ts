import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSoftAuthenticator, type SoftAuthenticator } from '../../support/softAuthenticator.ts';
import { clientCredentialsToken, startHarness, type Harness } from '../../support/harness.ts';
import { auditsOf, signInsOf } from '../../support/records.ts';
import { addPassword, createApplication, grantPermissions } from '../../../src/store/applications.ts';

const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';

describe('Passkeys over real HTTP with a software authenticator (PK-1..PK-6)', () => {
  let h: Harness;
  let seq = 0;
  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  const newUser = async () => {
    const r = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Key user ${++seq}`, userPrincipalName: `key${seq}@contoso.test` } });
    return r.body as { id: string; userPrincipalName: string };
  };
  const options = (userId: string) => h.call('GET', `/graph/v1.0/users/${userId}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`);
  const provision = async (userId: string, auth: SoftAuthenticator, origin = h.baseUrl) => {
    const o = await options(userId);
    assert.equal(o.status, 200, JSON.stringify(o.body));
    const credential = auth.register(o.body.publicKey, origin);
    return h.call('POST', `/graph/v1.0/users/${userId}/authentication/fido2Methods`, { body: { displayName: 'Desk key', publicKeyCredential: credential } });
  };
  const flow = async () => (await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in`, { token: null, body: {} })).body.flowId as string;
  const signIn = async (auth: SoftAuthenticator, username?: string) => {
    const id = await flow();
    const o = await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in/${id}/passkey/options`, { token: null, body: username ? { username } : {} });
    assert.equal(o.status, 200, JSON.stringify(o.body));
    const credential = auth.authenticate(o.body, h.baseUrl);
    const r = await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in/${id}/passkey`, { token: null, body: { credential } });
    return { ...r, options: o.body, credential, flowId: id };
  };
  const audits = (userId: string) => auditsOf(h, userId);
  const signIns = (userId: string) => signInsOf(h, userId);

  test('PK-1/PK-5: admin provisioning registers a discoverable, UV-verified passkey with its model name; audited', async () => {
    const u = await newUser();
    const auth = createSoftAuthenticator({ aaguid: YUBIKEY_5 });
    const o = await options(u.id);
    assert.equal(o.body.publicKey.authenticatorSelection.residentKey, 'required');
    assert.equal(o.body.publicKey.authenticatorSelection.userVerification, 'required');
    assert.equal(o.body.publicKey.rp.id, 'localhost');
    assert.deepEqual(o.body.publicKey.pubKeyCredParams.map((p: { alg: number }) => p.alg), [-7, -8, -257]);
    const r = await h.call('POST', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`, { body: { displayName: 'Desk key', publicKeyCredential: auth.register(o.body.publicKey, h.baseUrl) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.aaGuid, YUBIKEY_5);
    assert.match(r.body.model, /YubiKey 5/);
    assert.equal(r.body.passkeyType, 'deviceBound');
    const list = await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`);
    assert.equal(list.body.value.length, 1);
    assert.equal(list.body.value[0].isUsable, true);
    const audit = (await audits(u.id)).at(-1);
    assert.equal(audit.activityDisplayName, 'Admin registered security info');
    assert.equal(audit.result, 'success');
    assert.ok(audit.additionalDetails.some((d: { key: string; value: string }) => d.key === 'AAGUID' && d.value === YUBIKEY_5));
  });

  test('PK-6: usernameless and username-first sign-in both work; counters advance; sign-in log records the passkey', async () => {
    const u = await newUser();
    const auth = createSoftAuthenticator({ aaguid: YUBIKEY_5 });
    assert.equal((await provision(u.id, auth)).status, 201);
    const nameless = await signIn(auth);
    assert.equal(nameless.status, 200, JSON.stringify(nameless.body));
    assert.deepEqual(nameless.options.allowCredentials, []);
    assert.equal(nameless.body.userId, u.id);
    assert.deepEqual(nameless.body.performedMethods, ['fido2']);
    const named = await signIn(auth, u.userPrincipalName);
    assert.equal(named.status, 200);
    assert.deepEqual(named.options.allowCredentials.map((c: { id: string }) => c.id), [auth.credentials()[0]!.id]);
    const logs = await signIns(u.id);
    assert.equal(logs.length, 2);
    assert.ok(logs.every((l) => l.status.errorCode === 0 && l.authenticationDetails[0].authenticationMethod === 'Passkey (FIDO2)'));
    const stored = await h.database.db.selectFrom('fido2_methods').select(['sign_count', 'last_used_at']).where('user_id', '=', u.id).executeTakeFirstOrThrow();
    assert.equal(Number(stored.sign_count), auth.credentials()[0]!.signCount);
    assert.ok(stored.last_used_at);
  });

  test('PK-3: a challenge is single use and bound to its flow', async () => {
    const u = await newUser();
    const auth = createSoftAuthenticator();
    await provision(u.id, auth);
    const first = await signIn(auth);
    assert.equal(first.status, 200);
    const replay = await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in/${first.flowId}/passkey`, { token: null, body: { credential: first.credential } });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error.code, 'ChallengeInvalid');
    const other = await flow();
    const crossFlow = await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in/${other}/passkey`, { token: null, body: { credential: first.credential } });
    assert.equal(crossFlow.status, 400);
    assert.equal(crossFlow.body.error.code, 'ChallengeInvalid');
    const logs = await h.database.db.selectFrom('sign_ins').select('record').where('error_code', '=', 900205).execute();
    assert.ok(logs.length >= 2);
    assert.ok(logs.some((l) => /ChallengeUsed/.test((l.record as any).status.additionalDetails)));
    assert.ok(logs.some((l) => /ChallengeOtherFlow/.test((l.record as any).status.additionalDetails)));
  });

  test('PK-3: an expired registration challenge fails with a precise audit reason', async () => {
    const u = await newUser();
    const auth = createSoftAuthenticator();
    const o = await options(u.id);
    await h.database.db.updateTable('webauthn_challenges').set({ expires_at: new Date(Date.now() - 1000) }).where('user_id', '=', u.id).execute();
    const r = await h.call('POST', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`, { body: { publicKeyCredential: auth.register(o.body.publicKey, h.baseUrl) } });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /ChallengeExpired/);
    const audit = (await audits(u.id)).at(-1);
    assert.equal(audit.result, 'failure');
    assert.match(audit.resultReason, /^ChallengeExpired/);
    assert.equal((await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`)).body.value.length, 0);
  });

  test('PK-1: a ceremony from another origin is refused and the audit says origin mismatch', async () => {
    const u = await newUser();
    // same RP id (a browser allows it), different origin: another app on another port
    const r = await provision(u.id, createSoftAuthenticator(), 'http://localhost:1');
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /OriginMismatch/);
    assert.match((await audits(u.id)).at(-1).resultReason, /^OriginMismatch: .*localhost:1/);
  });

  test('PK-2: a blocked AAGUID is refused at registration (naming the model) and at sign-in for keys registered before', async () => {
    const u = await newUser();
    const auth = createSoftAuthenticator({ aaguid: YUBIKEY_5 });
    assert.equal((await provision(u.id, auth)).status, 201);
    const fido2 = '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2';
    assert.equal((await h.call('PATCH', fido2, { body: { keyRestrictions: { isEnforced: true, enforcementType: 'block', aaGuids: [YUBIKEY_5] } } })).status, 204);
    try {
      const u2 = await newUser();
      const r = await provision(u2.id, createSoftAuthenticator({ aaguid: YUBIKEY_5 }));
      assert.equal(r.status, 400);
      assert.match(r.body.error.message, /AaguidBlocked/);
      const audit = (await audits(u2.id)).at(-1);
      assert.equal(audit.activityDisplayName, 'Admin registered security info');
      assert.equal(audit.result, 'failure');
      assert.match(audit.resultReason, new RegExp(`AaguidBlocked: .*${YUBIKEY_5}.*YubiKey 5`));
      const blocked = await signIn(auth);
      assert.equal(blocked.status, 403);
      assert.equal(blocked.body.error.code, 'PasskeyDisabledByPolicy');
      const listed = await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/methods`);
      assert.equal(listed.body.value[0].methodUsabilityReason, 'DisabledByKeyRestrictions');
    } finally {
      await h.call('PATCH', fido2, { body: { keyRestrictions: { isEnforced: false, enforcementType: 'block', aaGuids: [] } } });
    }
    assert.equal((await signIn(auth)).status, 200);
  });

  test('PK-2: synced passkeys refused when the policy allows device-bound only', async () => {
    const fido2 = '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2';
    assert.equal((await h.call('PATCH', fido2, { body: { passkeyProfiles: [{ id: '00000000-0000-0000-0000-000000000001', name: 'Default passkey profile', passkeyTypes: 'deviceBound' }] } })).status, 204);
    try {
      const u = await newUser();
      const r = await provision(u.id, createSoftAuthenticator({ backupEligible: true, signCountMode: 'zero' }));
      assert.equal(r.status, 400);
      assert.match(r.body.error.message, /PasskeyTypeNotAllowed/);
    } finally {
      await h.call('PATCH', fido2, { body: { passkeyProfiles: [{ id: '00000000-0000-0000-0000-000000000001', name: 'Default passkey profile', passkeyTypes: 'deviceBound,synced' }] } });
    }
  });

  test('PK-2/SC-8: with attestation enforced, an unverifiable attestation is refused and the audit says why', async () => {
    const fido2 = '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2';
    assert.equal((await h.call('PATCH', fido2, { body: { isAttestationEnforced: true } })).status, 204);
    try {
      const u = await newUser();
      const o = await options(u.id);
      assert.equal(o.body.publicKey.attestation, 'direct');
      for (const attestation of ['none', 'packed'] as const) {
        const again = await options(u.id);
        const r = await h.call('POST', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`, { body: { publicKeyCredential: createSoftAuthenticator({ attestation }).register(again.body.publicKey, h.baseUrl) } });
        assert.equal(r.status, 400, attestation);
        assert.match(r.body.error.message, /AttestationUntrusted/);
        assert.match((await audits(u.id)).at(-1).resultReason, /^AttestationUntrusted: /);
      }
    } finally {
      await h.call('PATCH', fido2, { body: { isAttestationEnforced: false } });
    }
  });

  test('PK-4: a counter that goes backwards fails the sign-in and flags the passkey as possibly cloned (audited); zero counters are fine', async () => {
    const u = await newUser();
    const auth = createSoftAuthenticator();
    await provision(u.id, auth);
    assert.equal((await signIn(auth)).status, 200);
    await h.database.db.updateTable('fido2_methods').set({ sign_count: 1000 }).where('user_id', '=', u.id).execute();
    const cloned = await signIn(auth);
    assert.equal(cloned.status, 400);
    assert.equal(cloned.body.error.code, 'PasskeyPossiblyCloned');
    const m = (await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`)).body.value[0];
    assert.ok(m.possiblyClonedDateTime);
    assert.ok((await audits(u.id)).some((a) => a.activityDisplayName === 'Passkey flagged as possibly cloned'));
    assert.equal((await signIns(u.id)).at(-1).status.errorCode, 900203);

    const synced = await newUser();
    const phone = createSoftAuthenticator({ backupEligible: true, signCountMode: 'zero' });
    assert.equal((await provision(synced.id, phone)).status, 201);
    assert.equal((await signIn(phone)).status, 200);
    assert.equal((await signIn(phone)).status, 200, 'counters that stay 0 are fine');
  });

  test('PK-5: at most 10 passkeys per user; deleting one is audited and stops it signing in', async () => {
    const u = await newUser();
    const keys = Array.from({ length: 10 }, () => createSoftAuthenticator());
    for (const k of keys) assert.equal((await provision(u.id, k)).status, 201);
    const eleventh = await options(u.id);
    assert.equal(eleventh.status, 400);
    assert.match(eleventh.body.error.message, /PK-5/);
    const first = (await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`)).body.value[0];
    assert.equal((await h.call('DELETE', `/graph/v1.0/users/${u.id}/authentication/fido2Methods/${first.id}`)).status, 204);
    assert.equal((await audits(u.id)).at(-1).activityDisplayName, 'Admin deleted security info');
    const gone = await signIn(keys[0]!);
    assert.equal(gone.status, 400);
    assert.equal(gone.body.error.code, 'PasskeyUnknown');
  });

  test('TAP-9/DIR-6: an app that may only read methods can neither get creation options nor register a passkey', async () => {
    const u = await newUser();
    const { app, secret } = await h.database.db.transaction().execute(async (trx) => {
      const a = await createApplication(trx, h.tenant.tenantId, { displayName: 'Methods reader' }, 'automation');
      await grantPermissions(trx, h.tenant.tenantId, a.id, ['UserAuthenticationMethod.Read.All', 'User.Read.All']);
      return { app: a, secret: await addPassword(trx, h.tenant.tenantId, a.id, {}, new Date()) };
    });
    const token = await clientCredentialsToken(h.tenant.tokenEndpoint, app.appId, secret.secretText!);
    assert.equal((await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`, { token })).status, 200);
    const denied = await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`, { token });
    assert.equal(denied.status, 403);
    const o = await options(u.id);
    const post = await h.call('POST', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`, { token, body: { publicKeyCredential: createSoftAuthenticator().register(o.body.publicKey, h.baseUrl) } });
    assert.equal(post.status, 403);
    assert.match(post.body.error.message, /UserAuthenticationMethod\.ReadWrite\.All/);
    assert.equal((await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`)).body.value.length, 0);
    assert.equal((await audits(u.id)).length, 0, 'a refused caller leaves no audit record of a change');
  });
});
