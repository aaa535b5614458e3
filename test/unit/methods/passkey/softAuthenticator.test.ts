/**
 * Full ceremonies: our options → the software authenticator → our verify functions
 * (PK-1, PK-2, PK-4, PK-6), and a property that tampered assertions never verify and never throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import {
  authenticationOptions,
  buildTrustAnchors,
  DEFAULT_FIDO2_POLICY,
  defaultAaguidNames,
  registrationOptions,
  verifyPasskeyAuthentication,
  verifyPasskeyRegistration,
  type Fido2Policy,
  type RegisteredPasskey,
  type StoredPasskey,
} from '../../../../src/methods/passkey/index.ts';
import { createSoftAuthenticator, type SoftAuthenticator, type SoftAuthenticatorOptions } from '../../../support/softAuthenticator.ts';

const RP_ID = 'login.example.test';
const ORIGIN = 'https://login.example.test';
const NOW = new Date('2026-03-01T12:00:00Z');
const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
const TRUST = buildTrustAnchors();

function challenge(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

function policy(overrides: Partial<Fido2Policy> = {}): Fido2Policy {
  return { ...DEFAULT_FIDO2_POLICY, ...overrides };
}

async function register(auth: SoftAuthenticator, p: Fido2Policy = policy(), origin = ORIGIN) {
  const c = challenge();
  const options = registrationOptions({
    rpId: RP_ID,
    rpName: 'Gatehouse',
    user: { id: new Uint8Array(randomBytes(16)), name: 'ada@example.test', displayName: 'Ada' },
    challenge: c,
    excludeCredentialIds: [],
    attestation: p.isAttestationEnforced ? 'direct' : 'none',
  });
  const response = auth.register(options, origin);
  const result = await verifyPasskeyRegistration({
    response,
    expectedChallenge: c,
    expectedOrigins: [ORIGIN],
    expectedRpId: RP_ID,
    policy: p,
    trustAnchors: TRUST,
    aaguidNames: defaultAaguidNames(),
    now: NOW,
  });
  return { options, response, result };
}

function stored(credential: RegisteredPasskey): StoredPasskey {
  return {
    credentialId: credential.credentialId,
    publicKey: credential.publicKey,
    counter: credential.counter,
    aaguid: credential.aaguid,
    backupEligible: credential.deviceType === 'synced',
  };
}

async function registered(opts: SoftAuthenticatorOptions = {}) {
  const auth = createSoftAuthenticator(opts);
  const { result, options } = await register(auth);
  assert.ok(result.ok, result.ok ? '' : `${result.reason}: ${result.detail}`);
  return { auth, credential: result.credential, userHandle: options.user.id };
}

function signIn(auth: SoftAuthenticator, allowCredentialIds?: string[]) {
  const c = challenge();
  const response = auth.authenticate(authenticationOptions({ rpId: RP_ID, challenge: c, ...(allowCredentialIds ? { allowCredentialIds } : {}) }), ORIGIN);
  return { challenge: c, response };
}

function verifySignIn(
  response: AuthenticationResponseJSON,
  expectedChallenge: Uint8Array,
  credential: StoredPasskey,
  p: Fido2Policy = policy(),
  origins: string[] = [ORIGIN],
) {
  return verifyPasskeyAuthentication({
    response,
    expectedChallenge,
    expectedOrigins: origins,
    expectedRpId: RP_ID,
    credential,
    policy: p,
    now: NOW,
  });
}

test('PK-1: registration options ask for a discoverable credential with UV required, ES256/EdDSA/RS256', () => {
  const options = registrationOptions({
    rpId: RP_ID,
    rpName: 'Gatehouse',
    user: { id: Uint8Array.of(1, 2, 3), name: 'ada', displayName: 'Ada' },
    challenge: new Uint8Array(32),
    excludeCredentialIds: ['AAAA'],
    attestation: 'none',
  });
  assert.equal(options.authenticatorSelection?.residentKey, 'required');
  assert.equal(options.authenticatorSelection?.userVerification, 'required');
  assert.deepEqual(options.pubKeyCredParams.map((p) => p.alg), [-7, -8, -257]);
  assert.equal(options.timeout, 300_000);
  assert.equal(options.user.id, 'AQID');
  assert.deepEqual(options.excludeCredentials, [{ id: 'AAAA', type: 'public-key' }]);
  assert.throws(() => authenticationOptions({ rpId: RP_ID, challenge: new Uint8Array(8) }), RangeError);
});

test('PK-1/PK-6: a soft authenticator registers, then signs in usernameless and username-first', async () => {
  const { auth, credential, userHandle } = await registered({ signCountMode: 'increment' });
  assert.equal(credential.attestationFormat, 'none');
  assert.equal(credential.attestationVerified, false);
  assert.equal(credential.deviceType, 'deviceBound');
  assert.equal(credential.counter, 1);
  assert.deepEqual(credential.transports, ['internal', 'hybrid']);

  const usernameless = signIn(auth);
  const first = await verifySignIn(usernameless.response, usernameless.challenge, stored(credential));
  assert.ok(first.ok, first.ok ? '' : first.detail);
  assert.equal(first.newCounter, 2);
  assert.equal(first.userVerified, true);
  assert.equal(first.userHandle, userHandle, 'the user handle identifies the user in usernameless sign-in');

  const usernameFirst = signIn(auth, [credential.credentialId]);
  const second = await verifySignIn(usernameFirst.response, usernameFirst.challenge, { ...stored(credential), counter: first.newCounter });
  assert.ok(second.ok, second.ok ? '' : second.detail);
  assert.equal(second.newCounter, 3);
});

test('PK-4: a replayed assertion with the same counter fails with CounterRegression', async () => {
  const { auth, credential } = await registered({ signCountMode: 'increment' });
  const { response, challenge: c } = signIn(auth);
  const first = await verifySignIn(response, c, stored(credential));
  assert.ok(first.ok);
  const replay = await verifySignIn(response, c, { ...stored(credential), counter: first.newCounter });
  assert.equal(replay.ok, false);
  assert.equal(replay.ok ? '' : replay.reason, 'CounterRegression');
});

test('PK-4: counters that stay 0 (synced passkeys) are fine', async () => {
  const { auth, credential } = await registered({ signCountMode: 'zero', backupEligible: true });
  assert.equal(credential.counter, 0);
  assert.equal(credential.deviceType, 'synced');
  for (let i = 0; i < 2; i++) {
    const { response, challenge: c } = signIn(auth);
    const result = await verifySignIn(response, c, stored(credential));
    assert.ok(result.ok, result.ok ? '' : result.detail);
    assert.equal(result.newCounter, 0);
  }
});

test('PK-2: a blocked AAGUID fails with AaguidBlocked naming the model, at registration and at sign-in', async () => {
  const blockYubiKey = policy({ keyRestrictions: { isEnforced: true, enforcementType: 'block', aaGuids: [YUBIKEY_5.toUpperCase()] } });
  const { result } = await register(createSoftAuthenticator({ aaguid: YUBIKEY_5 }), blockYubiKey);
  assert.equal(result.ok, false);
  assert.equal(result.ok ? '' : result.reason, 'AaguidBlocked');
  assert.equal(result.ok ? '' : result.detail, `AAGUID ${YUBIKEY_5} (YubiKey 5 Series) is blocked by key restrictions`);

  // Registered while allowed, blocked later: the next sign-in fails.
  const { auth, credential } = await registered({ aaguid: YUBIKEY_5 });
  assert.equal(credential.modelName, 'YubiKey 5 Series');
  const { response, challenge: c } = signIn(auth);
  const later = await verifyPasskeyAuthentication({
    response,
    expectedChallenge: c,
    expectedOrigins: [ORIGIN],
    expectedRpId: RP_ID,
    credential: stored(credential),
    policy: blockYubiKey,
    now: NOW,
    modelName: credential.modelName ?? undefined,
  });
  assert.equal(later.ok ? '' : later.reason, 'AaguidBlocked');
  assert.match(later.ok ? '' : later.detail, /YubiKey 5 Series/);
});

test('PK-2: an allow list admits only listed AAGUIDs', async () => {
  const allow = policy({ keyRestrictions: { isEnforced: true, enforcementType: 'allow', aaGuids: [YUBIKEY_5] } });
  const other = await register(createSoftAuthenticator(), allow);
  assert.equal(other.result.ok ? '' : other.result.reason, 'AaguidNotAllowed');
  const yubikey = await register(createSoftAuthenticator({ aaguid: YUBIKEY_5 }), allow);
  assert.ok(yubikey.result.ok);
});

test('PK-2: passkey types are enforced at registration and at every sign-in', async () => {
  const deviceBoundOnly = policy({ passkeyTypes: 'deviceBound' });
  const synced = await register(createSoftAuthenticator({ backupEligible: true }), deviceBoundOnly);
  assert.equal(synced.result.ok ? '' : synced.result.reason, 'PasskeyTypeNotAllowed');

  const { auth, credential } = await registered({ backupEligible: true, backedUp: false, signCountMode: 'zero' });
  assert.equal(credential.deviceType, 'synced');
  assert.equal(credential.backedUp, false);
  const { response, challenge: c } = signIn(auth);
  const result = await verifySignIn(response, c, stored(credential), deviceBoundOnly);
  assert.equal(result.ok ? '' : result.reason, 'PasskeyTypeNotAllowed');
});

test('PK-1: a wrong origin fails with OriginMismatch naming both origins', async () => {
  const auth = createSoftAuthenticator();
  const { result } = await register(auth, policy(), 'https://evil.login.example.test');
  assert.equal(result.ok ? '' : result.reason, 'OriginMismatch');
  assert.match(result.ok ? '' : result.detail, /"https:\/\/evil\.login\.example\.test", expected one of: https:\/\/login\.example\.test/);

  const { auth: a2, credential } = await registered();
  const { response, challenge: c } = signIn(a2);
  const signInResult = await verifySignIn(response, c, stored(credential), policy(), ['https://other.example.test']);
  assert.equal(signInResult.ok ? '' : signInResult.reason, 'OriginMismatch');
});

test('PK-1: user verification is required at registration and sign-in', async () => {
  const { result } = await register(createSoftAuthenticator({ userVerification: false }));
  assert.equal(result.ok ? '' : result.reason, 'UserVerificationRequired');
});

test('PK-2: packed self attestation registers unverified; with attestation enforced it is untrusted', async () => {
  const open = await register(createSoftAuthenticator({ attestation: 'packed' }));
  assert.ok(open.result.ok, open.result.ok ? '' : open.result.detail);
  assert.equal(open.result.credential.attestationFormat, 'packed');
  assert.equal(open.result.credential.attestationVerified, false);
  assert.match(open.result.credential.attestationDetail, /self attestation/);

  const enforced = await register(createSoftAuthenticator({ attestation: 'packed' }), policy({ isAttestationEnforced: true }));
  assert.equal(enforced.result.ok ? '' : enforced.result.reason, 'AttestationUntrusted');
  const none = await register(createSoftAuthenticator(), policy({ isAttestationEnforced: true }));
  assert.equal(none.result.ok ? '' : none.result.reason, 'AttestationUntrusted');
});

test('challenge and RP ID are checked: ChallengeMismatch, RpIdMismatch, CredentialMismatch', async () => {
  const { auth, credential } = await registered();
  const { response } = signIn(auth);
  const wrongChallenge = await verifySignIn(response, challenge(), stored(credential));
  assert.equal(wrongChallenge.ok ? '' : wrongChallenge.reason, 'ChallengeMismatch');

  const { response: r2, challenge: c2 } = signIn(auth);
  const wrongRp = await verifyPasskeyAuthentication({
    response: r2,
    expectedChallenge: c2,
    expectedOrigins: [ORIGIN],
    expectedRpId: 'example.test',
    credential: stored(credential),
    policy: policy(),
    now: NOW,
  });
  assert.equal(wrongRp.ok ? '' : wrongRp.reason, 'RpIdMismatch');

  const other = await registered();
  const { response: r3, challenge: c3 } = signIn(auth);
  const wrongCredential = await verifySignIn(r3, c3, stored(other.credential));
  assert.equal(wrongCredential.ok ? '' : wrongCredential.reason, 'CredentialMismatch');
});

// ---------------------------------------------------------------------------------------------
// Tampering.

type Field = 'clientDataJSON' | 'authenticatorData' | 'signature';
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'append'; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

/** Applies a mutation; `undefined` when it would leave the bytes unchanged. */
function mutate(bytes: Uint8Array, m: Mutation): Uint8Array | undefined {
  const out = Uint8Array.from(bytes);
  switch (m.kind) {
    case 'flip':
      out[m.at % out.length]! ^= 1 << m.bit;
      return out;
    case 'set': {
      const i = m.at % out.length;
      if (out[i] === m.value) return undefined;
      out[i] = m.value;
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, m.keep % bytes.length);
    case 'append':
      return new Uint8Array(Buffer.concat([bytes, m.bytes]));
  }
}

test('property: tampered clientDataJSON, authenticatorData or signature never verify and never throw', async () => {
  const { auth, credential } = await registered({ signCountMode: 'increment' });
  const { response, challenge: c } = signIn(auth);
  const genuine = await verifySignIn(response, c, stored(credential));
  assert.ok(genuine.ok, 'the untampered assertion verifies');

  await fc.assert(
    fc.asyncProperty(fc.constantFrom<Field>('clientDataJSON', 'authenticatorData', 'signature'), mutation, async (field, m) => {
      const original = new Uint8Array(Buffer.from(response.response[field], 'base64url'));
      const changed = mutate(original, m);
      fc.pre(changed !== undefined);
      const tampered: AuthenticationResponseJSON = {
        ...response,
        response: { ...response.response, [field]: Buffer.from(changed!).toString('base64url') },
      };
      const result = await verifySignIn(tampered, c, stored(credential));
      assert.equal(result.ok, false, `${field} ${JSON.stringify(m)} verified`);
    }),
    { numRuns: 300 },
  );
});

test('property: arbitrary registration responses never throw', async () => {
  const auth = createSoftAuthenticator({ attestation: 'packed' });
  const c = challenge();
  const response = auth.register(
    registrationOptions({
      rpId: RP_ID,
      rpName: 'Gatehouse',
      user: { id: Uint8Array.of(7), name: 'ada', displayName: 'Ada' },
      challenge: c,
      excludeCredentialIds: [],
      attestation: 'direct',
    }),
    ORIGIN,
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('clientDataJSON' as const, 'attestationObject' as const), mutation, async (field, m) => {
      const changed = mutate(new Uint8Array(Buffer.from(response.response[field], 'base64url')), m);
      fc.pre(changed !== undefined);
      const tampered: RegistrationResponseJSON = {
        ...response,
        response: { ...response.response, [field]: Buffer.from(changed!).toString('base64url') },
      };
      // Resolves (never rejects) whatever the bytes; with attestation enforced nothing registers.
      const result = await verifyPasskeyRegistration({
        response: tampered,
        expectedChallenge: c,
        expectedOrigins: [ORIGIN],
        expectedRpId: RP_ID,
        policy: policy({ isAttestationEnforced: true }),
        trustAnchors: TRUST,
        aaguidNames: defaultAaguidNames(),
        now: NOW,
      });
      assert.equal(result.ok, false);
    }),
    { numRuns: 200 },
  );
  // Junk that is not even shaped like a response.
  for (const junk of [null, 42, 'x', {}, { id: 'AA', rawId: 'AA', type: 'public-key' }, { id: 'AA', rawId: 'AA', type: 'public-key', response: { clientDataJSON: 5 } }]) {
    const result = await verifyPasskeyRegistration({
      response: junk as unknown as RegistrationResponseJSON,
      expectedChallenge: c,
      expectedOrigins: [ORIGIN],
      expectedRpId: RP_ID,
      policy: policy(),
      trustAnchors: TRUST,
      aaguidNames: defaultAaguidNames(),
      now: NOW,
    });
    assert.equal(result.ok ? '' : result.reason, 'MalformedResponse');
  }
});
