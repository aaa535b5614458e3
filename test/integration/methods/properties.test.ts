import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startHarness, type Harness } from '../../support/harness.ts';

/**
 * Hostile bodies at the methods and sign-in routes (MTH-2, TAP-2, PK-1, flow API): every answer is
 * a 2xx or a 4xx with the Graph error body naming a field for body-validation 400s; never a 5xx.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 40);

const scalar = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom('\u0000', '\ud800', '1e309', "'; DROP TABLE users; --", 'x'.repeat(5000), '2000-01-01T00:00:00Z', '9999-12-31T23:59:59-00:01'));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 12 }), tie('v'), { maxKeys: 4 })),
})).v;
const withKeys = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys, '__proto__', 'constructor', ''), value, { maxKeys: keys.length + 1 });

describe('methods and sign-in routes under hostile input', () => {
  let h: Harness;
  let userId: string;
  before(async () => {
    h = await startHarness();
    userId = (await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'Target', userPrincipalName: 'target@contoso.test' } })).body.id;
  });
  after(async () => { await h.close(); });

  const check = (r: { status: number; body: any; headers: Headers }, what: string) => {
    assert.ok(r.status < 500, `${what}: ${r.status} ${String(JSON.stringify(r.body)).slice(0, 300)}`);
    if (r.status >= 400) {
      assert.equal(typeof r.body?.error?.code, 'string', `${what}: no Graph error body`);
      assert.equal(r.body.error.innerError['request-id'], r.headers.get('request-id'), what);
      if (r.status === 400 && r.body.error.code === 'Request_BadRequest') assert.ok(r.body.error.target, `${what}: 400 without target: ${r.body.error.message}`);
    }
  };

  const routes: { name: string; method: string; path: () => Promise<string> | string; token?: null; body: fc.Arbitrary<unknown> }[] = [
    { name: 'POST temporaryAccessPassMethods', method: 'POST', path: () => `/graph/v1.0/users/${userId}/authentication/temporaryAccessPassMethods`, body: withKeys(['startDateTime', 'lifetimeInMinutes', 'isUsableOnce', '@odata.type']) },
    { name: 'POST fido2Methods', method: 'POST', path: () => `/graph/v1.0/users/${userId}/authentication/fido2Methods`,
      body: fc.record({ displayName: value, publicKeyCredential: fc.oneof(value, fc.record({ id: value, response: fc.record({ clientDataJSON: value, attestationObject: value }) })) }, { requiredKeys: [] }) },
    { name: 'PATCH methods policy', method: 'PATCH', path: () => '/graph/v1.0/policies/authenticationMethodsPolicy',
      body: fc.record({ registrationEnforcement: value, authenticationMethodConfigurations: fc.array(withKeys(['id', 'state', 'includeTargets', 'excludeTargets', 'keyRestrictions', 'defaultLength']), { maxLength: 3 }) }, { requiredKeys: [] }) },
    { name: 'PATCH Fido2 configuration', method: 'PATCH', path: () => '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2',
      body: withKeys(['state', 'isAttestationEnforced', 'keyRestrictions', 'passkeyProfiles', 'includeTargets', 'excludeTargets', 'id']) },
    { name: 'PATCH TemporaryAccessPass configuration', method: 'PATCH', path: () => '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass',
      body: withKeys(['state', 'minimumLifetimeInMinutes', 'maximumLifetimeInMinutes', 'defaultLifetimeInMinutes', 'defaultLength', 'isUsableOnce']) },
    { name: 'POST resetPassword', method: 'POST', path: () => `/graph/v1.0/users/${userId}/authentication/passwordMethods/28c10230-6103-485e-b985-444c60001490/resetPassword`, body: withKeys(['newPassword']) },
    { name: 'POST sign-in start', method: 'POST', token: null, path: () => `/api/flows/${h.tenant.tenantId}/sign-in`, body: withKeys(['clientId']) },
    ...(['tap', 'password', 'totp', 'passkey/options', 'passkey'] as const).map((step) => ({
      name: `POST sign-in ${step}`, method: 'POST', token: null as null,
      path: async () => `/api/flows/${h.tenant.tenantId}/sign-in/${(await h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in`, { token: null, body: {} })).body.flowId}/${step}`,
      body: fc.oneof(withKeys(['username', 'code', 'password', 'credential']), fc.record({ credential: fc.record({ id: value, response: fc.record({ clientDataJSON: value, authenticatorData: value, signature: value }) }) })),
    })),
  ];

  for (const route of routes) {
    test(`${route.name}: hostile bodies get a 2xx or a Graph-shaped 4xx, never a 5xx`, async () => {
      await fc.assert(fc.asyncProperty(route.body, async (body) => {
        const path = await route.path();
        check(await h.call(route.method, path, { rawBody: JSON.stringify(body), ...(route.token === null ? { token: null } : {}) }), `${route.name} ${JSON.stringify(body).slice(0, 200)}`);
      }), { numRuns: RUNS });
    });
  }
});
