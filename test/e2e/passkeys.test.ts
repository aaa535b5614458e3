import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCredential, getAssertion, hasNativeWebAuthnJson, parseAuthenticatorData, startServerAndBrowser, type WebAuthnBrowser } from '../support/browser.ts';
import type { Harness } from '../support/harness.ts';
import { auditsOf } from '../support/records.ts';

/**
 * The browser tier: real Chromium, CDP virtual authenticators, the real server on
 * http://localhost:PORT. Registration goes through Graph provisioning (fido2Methods/creationOptions
 * then POST fido2Methods), sign-in through the flow API; every step is checked in the sign-in log
 * and the directory audit as well as in the HTTP answers. Tests run in order and share the
 * passkey that the first one registers.
 */
describe('Passkeys from Chromium virtual authenticators (PK-1..PK-6)', { timeout: 60_000 }, () => {
  let h: Harness;
  let b: WebAuthnBrowser;
  let seq = 0;
  /** The first user and the passkey Chromium's platform authenticator made for them (test 1). */
  let alice: { id: string; userPrincipalName: string };
  let alicePasskey: { credentialId: string; methodId: string; aaguid: string };

  before(async () => {
    await startServerAndBrowser((p) => { if (p.h) h = p.h; if (p.b) b = p.b; });
  });
  after(async () => {
    await b?.close();
    await h?.close();
  });

  const T = () => h.tenant.tenantId;
  const fido2Policy = '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2';
  const newUser = async () => {
    const n = ++seq;
    const r = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Passkey user ${n}`, userPrincipalName: `pk${n}@contoso.test` } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string; userPrincipalName: string };
  };
  /** The user handle the server puts in creation options: the user id's 16 bytes. */
  const userHandleOf = (userId: string) => Buffer.from(userId.replace(/-/g, ''), 'hex').toString('base64url');
  const audits = (userId: string) => auditsOf(h, userId);
  const signIns = async (upn: string) => (await h.database.db.selectFrom('sign_ins').select('record').where('user_principal_name', '=', upn)
    .orderBy('created_date_time').orderBy('id').execute()).map((r) => r.record as any);
  /** Graph's audit additionalDetails are [{ key, value }]. */
  const detail = (audit: any, key: string) => (audit.additionalDetails as { key: string; value: string | null }[]).find((d) => d.key === key)?.value;
  const lastSignIn = async (upn: string) => (await signIns(upn)).at(-1);

  const DEFAULT_PROFILE = '00000000-0000-0000-0000-000000000001';
  /** Drop a credential the server refused from every attached authenticator, so usernameless get() stays unambiguous. */
  const forgetOnDevice = async (credentialIdB64u: string, authenticatorIds = [b.platformAuthenticatorId]) => {
    for (const authenticatorId of authenticatorIds) {
      for (const c of await b.credentials(authenticatorId)) {
        if (Buffer.from(c.credentialId, 'base64').toString('base64url') === credentialIdB64u) {
          await b.cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: c.credentialId });
        }
      }
    }
  };
  /** Admin provisioning with Chromium as the security key: creationOptions → create() → POST. */
  const provision = async (userId: string, displayName: string, override: Record<string, unknown> = {}) => {
    const opts = await h.call('GET', `/graph/v1.0/users/${userId}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`);
    assert.equal(opts.status, 200, JSON.stringify(opts.body));
    const registration = await createCredential(b.page, { ...opts.body.publicKey, ...override });
    const created = await h.call('POST', `/graph/v1.0/users/${userId}/authentication/fido2Methods`, { body: { displayName, publicKeyCredential: registration } });
    return { options: opts.body, registration, created };
  };
  const startFlow = async () => {
    const r = await h.call('POST', `/api/flows/${T()}/sign-in`, { token: null, body: {} });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.flowId as string;
  };
  const requestOptions = async (flowId: string, username?: string) => {
    const r = await h.call('POST', `/api/flows/${T()}/sign-in/${flowId}/passkey/options`, { token: null, body: username ? { username } : {} });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const postAssertion = (flowId: string, credential: unknown) => h.call('POST', `/api/flows/${T()}/sign-in/${flowId}/passkey`, { token: null, body: { credential } });
  /** A whole sign-in: flow, options, navigator.credentials.get(), POST. */
  const passkeySignIn = async (username?: string) => {
    const flowId = await startFlow();
    const options = await requestOptions(flowId, username);
    const assertion = await getAssertion(b.page, options);
    return { flowId, options, assertion, res: await postAssertion(flowId, assertion) };
  };
  const assertSignedIn = async (res: { status: number; body: any }, user: { id: string; userPrincipalName: string }) => {
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.userId, user.id);
    assert.deepEqual(res.body.performedMethods, ['fido2']);
    const rec = await lastSignIn(user.userPrincipalName);
    assert.equal(rec.status.errorCode, 0, JSON.stringify(rec.status));
    assert.equal(rec.userId, user.id);
    assert.equal(rec.authenticationDetails.length, 1);
    assert.equal(rec.authenticationDetails[0].authenticationMethod, 'Passkey (FIDO2)');
    assert.equal(rec.authenticationDetails[0].succeeded, true);
    assert.equal(rec.correlationId, res.body.correlationId);
  };

  test("PK-1/PK-5: an admin provisions a passkey from Chromium's virtual authenticator; audit 'Admin registered security info' success with the AAGUID", async () => {
    alice = await newUser();
    const { options, registration, created } = await provision(alice.id, 'Chromium platform passkey');

    // PK-1: the options ask for a discoverable, user-verified credential on rpID localhost
    const pk = options.publicKey;
    assert.equal(pk.rp.id, 'localhost');
    assert.equal(pk.user.id, userHandleOf(alice.id));
    assert.equal(pk.user.name, alice.userPrincipalName);
    assert.equal(pk.authenticatorSelection.residentKey, 'required');
    assert.equal(pk.authenticatorSelection.userVerification, 'required');
    assert.deepEqual(pk.pubKeyCredParams.map((p: any) => p.alg), [-7, -8, -257]);
    assert.deepEqual(pk.excludeCredentials, []);
    const ttl = Date.parse(options.challengeTimeoutDateTime) - Date.now();
    assert.ok(ttl > 4 * 60_000 && ttl <= 5 * 60_000 + 1_000, `challenge lives 5 minutes, got ${ttl} ms`);

    // what the authenticator actually made
    assert.equal(registration.response.publicKeyAlgorithm, -7, 'Chromium picks ES256 from the offered list');
    assert.deepEqual(registration.response.transports, ['internal']);
    assert.equal(registration.clientExtensionResults?.credProps?.rk, true, 'a resident (discoverable) credential');
    const flags = parseAuthenticatorData(registration.response.authenticatorData);
    assert.ok(flags.up && flags.uv && flags.at, JSON.stringify(flags));
    assert.ok(flags.aaguid);
    const onDevice = await b.credentials(b.platformAuthenticatorId);
    assert.equal(onDevice.length, 1);
    assert.equal(onDevice[0]!.isResidentCredential, true);
    assert.equal(onDevice[0]!.rpId, 'localhost');

    // what the server stored and reports
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const m = created.body;
    assert.equal(m['@odata.type'], '#microsoft.graph.fido2AuthenticationMethod');
    assert.equal(m.displayName, 'Chromium platform passkey');
    assert.equal(m.aaGuid, flags.aaguid);
    assert.equal(m.passkeyType, flags.be ? 'synced' : 'deviceBound', `BE=${flags.be}`);
    assert.equal(m.passkeyType, 'deviceBound', "Chromium's virtual authenticator is not backup eligible by default");
    assert.equal(m.attestationLevel, 'notAttested');
    assert.equal(m.lastUsedDateTime, null);
    alicePasskey = { credentialId: registration.id, methodId: m.id, aaguid: flags.aaguid };

    const list = await h.call('GET', `/graph/v1.0/users/${alice.id}/authentication/fido2Methods`);
    assert.equal(list.status, 200);
    assert.equal(list.body.value.length, 1);
    assert.deepEqual(
      { id: list.body.value[0].id, aaGuid: list.body.value[0].aaGuid, passkeyType: list.body.value[0].passkeyType, isUsable: list.body.value[0].isUsable, reason: list.body.value[0].methodUsabilityReason },
      { id: m.id, aaGuid: flags.aaguid, passkeyType: 'deviceBound', isUsable: true, reason: 'EnabledByPolicy' },
    );
    const one = await h.call('GET', `/graph/v1.0/users/${alice.id}/authentication/fido2Methods/${m.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, m.id);

    const audit = (await audits(alice.id)).filter((a) => a.activityDisplayName === 'Admin registered security info');
    assert.equal(audit.length, 1, JSON.stringify(audit));
    assert.equal(audit[0].result, 'success');
    assert.equal(detail(audit[0], 'AAGUID'), flags.aaguid);
    assert.equal(detail(audit[0], 'Method id'), m.id);
    assert.equal(detail(audit[0], 'Passkey type'), 'deviceBound');

    // the same authenticator can't be registered twice: excludeCredentials now names it, Chromium refuses
    const again = await h.call('GET', `/graph/v1.0/users/${alice.id}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`);
    assert.deepEqual(again.body.publicKey.excludeCredentials.map((c: any) => c.id), [registration.id]);
    await assert.rejects(createCredential(b.page, again.body.publicKey), /InvalidStateError/);
  });

  test('PK-6: usernameless sign-in (empty allow list) with the Chromium passkey', async () => {
    const { options, assertion, res } = await passkeySignIn();
    assert.equal(options.rpId, 'localhost');
    assert.deepEqual(options.allowCredentials, []);
    assert.equal(options.userVerification, 'required');
    assert.equal(assertion.id, alicePasskey.credentialId);
    assert.equal(assertion.response.userHandle, userHandleOf(alice.id), 'the discoverable credential returns the user handle');
    assert.ok(parseAuthenticatorData(assertion.response.authenticatorData).uv);
    await assertSignedIn(res, alice);
    const rec = await lastSignIn(alice.userPrincipalName);
    assert.equal(rec.authenticationDetails[0].authenticationMethodDetail, alicePasskey.aaguid, 'no model name for the virtual AAGUID: the AAGUID');
    const m = (await h.call('GET', `/graph/v1.0/users/${alice.id}/authentication/fido2Methods/${alicePasskey.methodId}`)).body;
    assert.ok(m.lastUsedDateTime, 'PK-5: lastUsedDateTime is recorded');
  });

  test('PK-6: username-first sign-in', async () => {
    const { options, assertion, res } = await passkeySignIn(alice.userPrincipalName);
    assert.deepEqual(options.allowCredentials, [{ id: alicePasskey.credentialId, type: 'public-key' }]);
    assert.equal(assertion.id, alicePasskey.credentialId);
    await assertSignedIn(res, alice);

    // a name that matches no one gets an empty allow list (no user enumeration), and the passkey still works
    const other = await passkeySignIn('nobody@contoso.test');
    assert.deepEqual(other.options.allowCredentials, []);
    await assertSignedIn(other.res, alice);
  });

  test('PK-3: a challenge is single use', async () => {
    const { flowId, assertion, res } = await passkeySignIn();
    await assertSignedIn(res, alice);
    const before = (await signIns(alice.userPrincipalName)).length;

    const replay = await postAssertion(flowId, assertion);
    assert.equal(replay.status, 400, JSON.stringify(replay.body));
    assert.equal(replay.body.error.code, 'ChallengeInvalid');
    // replayed into a fresh flow: the challenge belongs to neither that flow nor anyone any more
    const elsewhere = await postAssertion(await startFlow(), assertion);
    assert.equal(elsewhere.status, 400, JSON.stringify(elsewhere.body));
    assert.equal(elsewhere.body.error.code, 'ChallengeInvalid');

    const recs = (await signIns(alice.userPrincipalName)).slice(before);
    assert.equal(recs.length, 2, 'each refused replay is logged');
    for (const rec of recs) {
      assert.equal(rec.status.errorCode, 900205, JSON.stringify(rec.status));
      assert.match(rec.status.additionalDetails, /PK-3/);
      assert.equal(rec.authenticationDetails[0].authenticationMethod, 'Passkey (FIDO2)');
      assert.equal(rec.authenticationDetails[0].succeeded, false);
    }
  });

  test('PK-2: key restrictions are enforced at sign-in too', async () => {
    const original = (await h.call('GET', fido2Policy)).body;
    assert.equal(original.keyRestrictions.isEnforced, false);
    try {
      const patch = await h.call('PATCH', fido2Policy, { body: { keyRestrictions: { isEnforced: true, enforcementType: 'block', aaGuids: [alicePasskey.aaguid] } } });
      assert.equal(patch.status, 204, JSON.stringify(patch.body));
      const listed = (await h.call('GET', `/graph/v1.0/users/${alice.id}/authentication/fido2Methods`)).body.value[0];
      assert.equal(listed.isUsable, false);
      assert.equal(listed.methodUsabilityReason, 'DisabledByKeyRestrictions');

      const { res } = await passkeySignIn();
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'PasskeyDisabledByPolicy');
      const rec = await lastSignIn(alice.userPrincipalName);
      assert.equal(rec.status.errorCode, 900204, JSON.stringify(rec.status));
      assert.match(rec.status.additionalDetails, /DisabledByKeyRestrictions/);
      assert.equal(rec.authenticationDetails[0].succeeded, false);

      // ...and at registration: a new user's passkey of that model is refused, audited, and not stored
      const carol = await newUser();
      const refused = await provision(carol.id, 'Blocked model');
      await forgetOnDevice(refused.registration.id);
      assert.equal(refused.created.status, 400, JSON.stringify(refused.created.body));
      assert.equal(refused.created.body.error.target ?? 'publicKeyCredential', 'publicKeyCredential');
      assert.match(refused.created.body.error.message, /AaguidBlocked/);
      assert.equal((await h.call('GET', `/graph/v1.0/users/${carol.id}/authentication/fido2Methods`)).body.value.length, 0);
      const failure = (await audits(carol.id)).filter((a) => a.activityDisplayName === 'Admin registered security info');
      assert.equal(failure.length, 1);
      assert.equal(failure[0].result, 'failure');
      assert.match(failure[0].resultReason, /^AaguidBlocked/);

      // an allow list that doesn't name the key refuses it as well
      assert.equal((await h.call('PATCH', fido2Policy, { body: { keyRestrictions: { isEnforced: true, enforcementType: 'allow', aaGuids: ['00000000-0000-0000-0000-0000000000aa'] } } })).status, 204);
      const allowList = await passkeySignIn(alice.userPrincipalName);
      assert.equal(allowList.res.status, 403, JSON.stringify(allowList.res.body));
      assert.equal(allowList.res.body.error.code, 'PasskeyDisabledByPolicy');

      // passkey types are re-checked at sign-in too: a synced-only profile refuses this device-bound passkey
      assert.equal((await h.call('PATCH', fido2Policy, { body: { keyRestrictions: original.keyRestrictions, passkeyProfiles: [{ id: DEFAULT_PROFILE, name: 'Default', passkeyTypes: 'synced' }] } })).status, 204);
      assert.equal((await h.call('GET', `/graph/v1.0/users/${alice.id}/authentication/fido2Methods`)).body.value[0].methodUsabilityReason, 'DisabledByPasskeyType');
      const typed = await passkeySignIn();
      assert.equal(typed.res.status, 403, JSON.stringify(typed.res.body));
      assert.equal(typed.res.body.error.code, 'PasskeyDisabledByPolicy');
      assert.match((await lastSignIn(alice.userPrincipalName)).status.additionalDetails, /DisabledByPasskeyType/);
    } finally {
      const restore = await h.call('PATCH', fido2Policy, {
        body: { keyRestrictions: original.keyRestrictions, passkeyProfiles: original.passkeyProfiles ?? [{ id: DEFAULT_PROFILE, name: 'Default', passkeyTypes: 'deviceBound,synced' }] },
      });
      assert.equal(restore.status, 204, JSON.stringify(restore.body));
    }
    const policyAudits = await h.database.db.selectFrom('directory_audits').select('record').where('activity_display_name', '=', 'Authentication Methods Policy Update').execute();
    assert.ok(policyAudits.length >= 4, `each policy change is audited, got ${policyAudits.length}`);
    // restored: the same passkey signs in again
    await assertSignedIn((await passkeySignIn()).res, alice);
  });

  test('two devices: a second (usb) authenticator registers and signs in as a second user', async () => {
    const bob = await newUser();
    const usb = await b.addAuthenticator({ transport: 'usb' });
    try {
      // steer: only the security key answers while Bob's key is made and used
      await b.setPresence(b.platformAuthenticatorId, false);
      const { registration, created } = await provision(bob.id, 'USB security key');
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(registration.response.transports, ['usb']);
      const flags = parseAuthenticatorData(registration.response.authenticatorData);
      assert.equal(created.body.aaGuid, flags.aaguid);
      assert.equal(created.body.passkeyType, flags.be ? 'synced' : 'deviceBound');
      assert.equal((await b.credentials(usb)).length, 1, 'the credential lives on the usb authenticator');
      assert.equal((await b.credentials(b.platformAuthenticatorId)).length, 1, 'the platform authenticator still holds only Alice\'s');
      const audit = (await audits(bob.id)).filter((a) => a.activityDisplayName === 'Admin registered security info');
      assert.equal(audit.length, 1);
      assert.equal(audit[0].result, 'success');
      assert.equal(detail(audit[0], 'AAGUID'), flags.aaguid);

      const usernameless = await passkeySignIn();
      assert.equal(usernameless.assertion.id, registration.id);
      await assertSignedIn(usernameless.res, bob);
      const usernameFirst = await passkeySignIn(bob.userPrincipalName);
      assert.deepEqual(usernameFirst.options.allowCredentials, [{ id: registration.id, type: 'public-key' }]);
      await assertSignedIn(usernameFirst.res, bob);

      // the other device answers for Alice, and a sign-in started for Bob can't be finished with Alice's key
      await b.setPresence(usb, false);
      await b.setPresence(b.platformAuthenticatorId, true);
      await assertSignedIn((await passkeySignIn()).res, alice);
      const flowId = await startFlow();
      const bobOptions = await requestOptions(flowId, bob.userPrincipalName);
      const aliceAssertion = await getAssertion(b.page, { ...bobOptions, allowCredentials: [] });
      assert.equal(aliceAssertion.id, alicePasskey.credentialId);
      const crossed = await postAssertion(flowId, aliceAssertion);
      assert.equal(crossed.status, 400, JSON.stringify(crossed.body));
      assert.equal(crossed.body.error.code, 'PasskeyUnknown');
    } finally {
      await b.removeAuthenticator(usb);
      await b.setPresence(b.platformAuthenticatorId, true);
    }
  });

  test('the page-side JSON conversion: native toJSON() and the hand-written base64url path both verify', async () => {
    // Chromium >= 129 has PublicKeyCredential.parse…FromJSON and toJSON(); the fallback must agree
    const major = Number(b.browser.version().split('.')[0]);
    if (major >= 129) assert.equal(await hasNativeWebAuthnJson(b.page), true, `Chromium ${b.browser.version()}`);
    const flowId = await startFlow();
    const options = await requestOptions(flowId, alice.userPrincipalName);
    const assertion = await getAssertion(b.page, options, { forceManualJson: true });
    await assertSignedIn(await postAssertion(flowId, assertion), alice);
  });

  test('PK-2: a blocked security-key model is refused when registered with the options the server hands out', async () => {
    const usb = await b.addAuthenticator({ transport: 'usb' });
    const original = (await h.call('GET', fido2Policy)).body;
    const made: string[] = [];
    try {
      await b.setPresence(b.platformAuthenticatorId, false);
      // Chromium's virtual security key is the same model (AAGUID) as the platform one Alice registered
      assert.equal((await h.call('PATCH', fido2Policy, { body: { keyRestrictions: { isEnforced: true, enforcementType: 'block', aaGuids: [alicePasskey.aaguid] } } })).status, 204);
      const dave = await newUser();
      // asked for attestation, the key reveals its model and the server refuses it, as PK-2 says
      const direct = await provision(dave.id, 'Security key', { attestation: 'direct' });
      made.push(direct.registration.id);
      assert.equal(parseAuthenticatorData(direct.registration.response.authenticatorData).aaguid, alicePasskey.aaguid);
      assert.equal(direct.created.status, 400, JSON.stringify(direct.created.body));
      assert.match(direct.created.body.error.message, /AaguidBlocked/);
      // the server's own options ask for attestation while key restrictions are enforced (without it
      // Chromium zeroes a security key's AAGUID and the block list would never see the model)
      const plain = await provision(dave.id, 'Security key');
      made.push(plain.registration.id);
      assert.equal(plain.options.publicKey.attestation, 'direct');
      assert.equal(parseAuthenticatorData(plain.registration.response.authenticatorData).aaguid, alicePasskey.aaguid);
      assert.equal(plain.created.status, 400, `blocked model registered: ${JSON.stringify({ status: plain.created.status, aaGuid: plain.created.body.aaGuid })}`);
      assert.match(plain.created.body.error.message, /AaguidBlocked/);
    } finally {
      for (const id of made) await forgetOnDevice(id, [usb, b.platformAuthenticatorId]);
      await b.removeAuthenticator(usb);
      await b.setPresence(b.platformAuthenticatorId, true);
      assert.equal((await h.call('PATCH', fido2Policy, { body: { keyRestrictions: original.keyRestrictions } })).status, 204);
    }
  });

  // runs last: it leaves Alice's passkey flagged
  test('PK-4: a cloned authenticator (signature counter goes backwards) fails the sign-in and flags the passkey', async () => {
    const [cred] = await b.credentials(b.platformAuthenticatorId);
    assert.ok(cred && cred.signCount > 1, `Chromium's virtual authenticator counts signatures: ${cred?.signCount}`);
    // the clone: the same private key on an authenticator whose counter restarts at 0
    await b.cdp.send('WebAuthn.removeCredential', { authenticatorId: b.platformAuthenticatorId, credentialId: cred.credentialId });
    await b.cdp.send('WebAuthn.addCredential', { authenticatorId: b.platformAuthenticatorId, credential: { ...(cred as any), signCount: 0 } });
    const { assertion, res } = await passkeySignIn();
    assert.equal(parseAuthenticatorData(assertion.response.authenticatorData).signCount, 1);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'PasskeyPossiblyCloned');
    const rec = await lastSignIn(alice.userPrincipalName);
    assert.equal(rec.status.errorCode, 900203);
    assert.match(rec.status.additionalDetails, /PK-4/);
    const m = (await h.call('GET', `/graph/v1.0/users/${alice.id}/authentication/fido2Methods/${alicePasskey.methodId}`)).body;
    assert.ok(m.possiblyClonedDateTime, JSON.stringify(m));
    const flagged = (await audits(alice.id)).filter((a) => a.activityDisplayName === 'Passkey flagged as possibly cloned');
    assert.equal(flagged.length, 1);
    assert.equal(detail(flagged[0], 'Method id'), alicePasskey.methodId);
  });
});
