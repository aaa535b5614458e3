import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startHarness, type Harness } from '../../support/harness.ts';

/**
 * Hostile bodies at the write routes of the four policy families (STR-2, CA-1..CA-6, CA-2
 * named locations, PLT settings): every answer is a 2xx or a Graph-shaped 4xx whose 400s name
 * a field; never a 5xx. Bodies are mostly the right shape with wrong values in them, so the
 * deeper checks (findings, references, combinations, the WIF-3 guard) get reached.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 40);

const scalar = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom('\u0000', '\ud800', '1e309', "'; DROP TABLE users; --", 'x'.repeat(5000), 'All', 'None', '00000000-0000-0000-0000-000000000002', 'c1', '<AdministratorGroup>'));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 12 }), tie('v'), { maxKeys: 4 })),
})).v;
/** Mostly plausible, sometimes hostile. */
const maybe = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 10, arbitrary: good }, { weight: 1, arbitrary: value });
const strs = (pool: string[]) => maybe(fc.array(fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }), { maxLength: 3 }));
/** `required` keys are always present (their values may still be wrong); the others come and go. */
const record = (shape: Record<string, fc.Arbitrary<unknown>>, required: string[] = []) => fc.record(shape, { requiredKeys: required as never[] });
const withKeys = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys, '__proto__', 'constructor', '', 'unknownProperty'), value, { maxKeys: keys.length + 1 });
/** Mostly the resource's shape; sometimes its property names with anything in them. */
const shaped = (plausible: fc.Arbitrary<unknown>, keys: string[]) => fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: withKeys(keys) });
const name = maybe(fc.string({ minLength: 1, maxLength: 30 }).filter((x) => x.trim() !== ''));

/** A valid document with up to two properties (at any depth) replaced by hostile values. */
const mutated = (base: fc.Arbitrary<Record<string, unknown>>, paths: string[]) =>
  fc.tuple(base, fc.array(fc.tuple(fc.constantFrom(...paths), value), { maxLength: 2 })).map(([doc, changes]) => {
    const out = structuredClone(doc);
    for (const [path, v] of changes) {
      const keys = path.split('.');
      let cur: any = out;
      for (const k of keys.slice(0, -1)) {
        if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = {};
        cur = cur[k];
      }
      cur[keys.at(-1)!] = v;
    }
    return out;
  });

const MODES = ['fido2', 'password', 'sms', 'softwareOath', 'temporaryAccessPassOneTime', 'password,softwareOath', 'fido2,password', 'carrierPigeon', 'windowsHelloForBusiness'];
const AAGUIDS = ['cb69481e-8ff7-4039-93ec-0a2729a154a8', 'CB69481E-8FF7-4039-93EC-0A2729A154A8', 'not-a-guid'];

const strengthBody = shaped(
  record({ displayName: name, description: maybe(fc.string({ maxLength: 40 })), policyType: maybe(fc.constantFrom('custom', 'custom', 'custom', 'builtIn')), allowedCombinations: strs(MODES),
    combinationConfigurations: maybe(fc.array(record({ '@odata.type': maybe(fc.constantFrom('#microsoft.graph.fido2CombinationConfiguration', '#microsoft.graph.x509CertificateCombinationConfiguration')), appliesToCombinations: strs(MODES), allowedAAGUIDs: strs(AAGUIDS), id: maybe(fc.string({ maxLength: 10 })) }), { maxLength: 2 })) },
  ['displayName', 'allowedCombinations']),
  ['displayName', 'description', 'allowedCombinations', 'combinationConfigurations', 'requirementsSatisfied'],
);
const configurationBody = shaped(
  record({ '@odata.type': maybe(fc.constantFrom('#microsoft.graph.fido2CombinationConfiguration', '#microsoft.graph.x509CertificateCombinationConfiguration')), appliesToCombinations: strs(MODES), allowedAAGUIDs: strs(AAGUIDS), id: maybe(fc.string({ maxLength: 10 })) }, ['@odata.type', 'appliesToCombinations']),
  ['@odata.type', 'appliesToCombinations', 'allowedAAGUIDs', 'id'],
);

const USERS = ['All', 'None', 'GuestsOrExternalUsers', 'None', '6c2a0b44-8f7f-4f8e-9d4c-3f2a1b0c9d8e'];
const APPS = ['All', 'None', 'MicrosoftAdminPortals', 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c', '19db86c3-b2b9-44cc-b339-36da233a3be2'];
const validPolicy = fc.record({
  displayName: fc.string({ minLength: 1, maxLength: 30 }).filter((x) => x.trim() !== ''),
  state: fc.constantFrom('enabled', 'disabled', 'enabledForReportingButNotEnforced'),
  conditions: fc.record({
    users: fc.constantFrom({ includeUsers: ['None'] }, { includeUsers: ['GuestsOrExternalUsers'] }, { includeUsers: ['All'], excludeRoles: ['62e90394-69f5-4237-9190-012177145e10'] }),
    applications: fc.constantFrom({ includeApplications: ['All'] }, { includeApplications: ['c44b4083-3bb0-49c1-b47d-974e53cbdf3c'] }, { includeAuthenticationContextClassReferences: ['c1'] }),
    clientAppTypes: fc.constantFrom(['all'], ['browser', 'mobileAppsAndDesktopClients']),
    platforms: fc.constantFrom(null, { includePlatforms: ['android', 'iOS'] }),
    locations: fc.constantFrom(null, { includeLocations: ['All'], excludeLocations: ['AllTrusted'] }),
  }),
  grantControls: fc.constantFrom(
    { operator: 'OR', builtInControls: ['mfa'] }, { operator: 'OR', builtInControls: ['block'] },
    { operator: 'AND', builtInControls: [], authenticationStrength: { id: '00000000-0000-0000-0000-000000000004' } }),
  sessionControls: fc.constantFrom(null, { signInFrequency: { isEnabled: true, type: 'hours', value: 4, frequencyInterval: 'timeBased' } }),
});
const policyPaths = ['displayName', 'state', 'conditions', 'conditions.users', 'conditions.users.includeUsers', 'conditions.users.includeUsers.0', 'conditions.users.includeGroups',
  'conditions.applications', 'conditions.applications.includeApplications.0', 'conditions.applications.includeUserActions', 'conditions.clientAppTypes', 'conditions.platforms.includePlatforms',
  'conditions.locations.includeLocations.0', 'conditions.devices', 'conditions.authenticationFlows', 'grantControls', 'grantControls.operator', 'grantControls.builtInControls',
  'grantControls.builtInControls.0', 'grantControls.authenticationStrength', 'grantControls.authenticationStrength.id', 'sessionControls', 'sessionControls.signInFrequency',
  'sessionControls.signInFrequency.value', 'sessionControls.persistentBrowser', 'templateId', 'id', 'createdDateTime', 'gatehouseFindings', 'unknownProperty'];
const policyBody = fc.oneof({ weight: 2, arbitrary: mutated(validPolicy, policyPaths) }, { weight: 2, arbitrary: shaped(
  record({
    displayName: name,
    state: maybe(fc.constantFrom('enabled', 'disabled', 'enabledForReportingButNotEnforced')),
    conditions: maybe(record({
      users: maybe(record({ includeUsers: strs(USERS), excludeUsers: strs(USERS), includeGroups: strs(['All', '6c2a0b44-8f7f-4f8e-9d4c-3f2a1b0c9d8e']), includeRoles: strs(['62e90394-69f5-4237-9190-012177145e10']), includeGuestsOrExternalUsers: maybe(fc.constant(null)) }, ['includeUsers'])),
      applications: maybe(record({ includeApplications: strs(APPS), excludeApplications: strs(APPS), includeUserActions: strs(['urn:user:registersecurityinfo', 'urn:user:registerdevice']), includeAuthenticationContextClassReferences: strs(['c1', 'c100']), applicationFilter: value }, ['includeApplications'])),
      clientAppTypes: strs(['all', 'browser', 'other', 'mobileAppsAndDesktopClients']),
      platforms: maybe(record({ includePlatforms: strs(['all', 'android', 'iOS']), excludePlatforms: strs(['linux']) })),
      locations: maybe(record({ includeLocations: strs(['All', 'AllTrusted']), excludeLocations: strs(['AllTrusted']) })),
      authenticationFlows: maybe(record({ transferMethods: maybe(fc.constantFrom('deviceCodeFlow', 'authenticationTransfer', 'x')) })),
      signInRiskLevels: strs(['low', 'high', 'extreme']),
      devices: value,
    }, ['users', 'applications'])),
    grantControls: maybe(record({
      operator: maybe(fc.constantFrom('AND', 'OR')),
      builtInControls: strs(['block', 'mfa', 'compliantDevice', 'passwordChange']),
      authenticationStrength: maybe(record({ id: maybe(fc.constantFrom('00000000-0000-0000-0000-000000000004', '00000000-0000-0000-0000-000000000009')) })),
      termsOfUse: strs(['a1b2c3d4-0000-4000-8000-000000000001']),
    })),
    sessionControls: maybe(record({
      signInFrequency: maybe(record({ isEnabled: maybe(fc.boolean()), type: maybe(fc.constantFrom('hours', 'days')), value: maybe(fc.integer({ min: -1, max: 9000 })), frequencyInterval: maybe(fc.constantFrom('timeBased', 'everyTime')) })),
      persistentBrowser: maybe(record({ isEnabled: maybe(fc.boolean()), mode: maybe(fc.constantFrom('always', 'never')) })),
      cloudAppSecurity: value,
    })),
    templateId: value,
    gatehouseFindings: value,
  }, ['displayName', 'state', 'conditions']),
  ['displayName', 'state', 'conditions', 'grantControls', 'sessionControls', 'id', 'createdDateTime'],
) });

const locationBody = shaped(
  record({
    '@odata.type': maybe(fc.constantFrom('#microsoft.graph.ipNamedLocation', '#microsoft.graph.countryNamedLocation')),
    displayName: name,
    isTrusted: maybe(fc.boolean()),
    ipRanges: maybe(fc.array(record({ '@odata.type': maybe(fc.constantFrom('#microsoft.graph.iPv4CidrRange', '#microsoft.graph.iPv6CidrRange')), cidrAddress: maybe(fc.constantFrom('203.0.113.0/24', '2001:db8::/32', '10.0.0.0/33', '::ffff:1.2.3.4/128', '1.2.3.4')) }, ['cidrAddress']), { minLength: 1, maxLength: 3 })),
    countriesAndRegions: strs(['DE', 'fr', 'XYZ']),
    includeUnknownCountriesAndRegions: maybe(fc.boolean()),
  }, ['@odata.type', 'displayName']),
  ['@odata.type', 'displayName', 'isTrusted', 'ipRanges', 'countriesAndRegions'],
);

const platformBody = shaped(
  record({
    existingMethodStepUp: maybe(fc.constantFrom('phishingResistant', 'off')),
    securityInfoFreshnessInMinutes: maybe(fc.integer({ min: 0, max: 61 })),
    securityInfoSessionInMinutes: maybe(fc.integer({ min: 0, max: 300 })),
    registrationInterrupt: maybe(fc.constantFrom('enabled', 'disabled')),
    id: maybe(fc.constant('platformRulesPolicy')),
  }),
  ['existingMethodStepUp', 'securityInfoFreshnessInMinutes', 'registrationInterrupt', 'id'],
);

describe('policy write routes under hostile input', () => {
  let h: Harness;
  let strengthId: string;
  let configurationId: string;
  let policyId: string;
  let locationId: string;
  before(async () => {
    h = await startHarness();
    const s = await h.call('POST', '/graph/v1.0/policies/authenticationStrengthPolicies', { body: { displayName: 'Fuzzed', allowedCombinations: ['fido2', 'password,softwareOath'] } });
    strengthId = s.body.id;
    configurationId = (await h.call('POST', `/graph/v1.0/policies/authenticationStrengthPolicies/${strengthId}/combinationConfigurations`, { body: { '@odata.type': '#microsoft.graph.fido2CombinationConfiguration', appliesToCombinations: ['fido2'], allowedAAGUIDs: [AAGUIDS[0]] } })).body.id;
    policyId = (await h.call('POST', '/graph/v1.0/identity/conditionalAccess/policies', { body: { displayName: 'Fuzzed', state: 'disabled', conditions: { users: { includeUsers: ['None'] }, applications: { includeApplications: ['All'] } }, grantControls: { operator: 'OR', builtInControls: ['mfa'] } } })).body.id;
    locationId = (await h.call('POST', '/graph/v1.0/identity/conditionalAccess/namedLocations', { body: { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Fuzzed', ipRanges: [{ cidrAddress: '192.0.2.0/24' }] } })).body.id;
    assert.ok(strengthId && configurationId && policyId && locationId);
  });
  after(async () => { await h.close(); });

  const check = (r: { status: number; body: any; headers: Headers }, what: string) => {
    assert.ok(r.status < 500, `${what}: ${r.status} ${String(JSON.stringify(r.body)).slice(0, 300)}`);
    if (r.status >= 400) {
      assert.equal(typeof r.body?.error?.code, 'string', `${what}: no Graph error body`);
      assert.equal(typeof r.body.error.message, 'string', what);
      assert.equal(r.body.error.innerError['request-id'], r.headers.get('request-id'), what);
      if (r.status === 400) assert.ok(r.body.error.target, `${what}: 400 without target: ${r.body.error.message}`);
    }
  };

  const strengths = '/graph/v1.0/policies/authenticationStrengthPolicies';
  const routes: { name: string; method: string; path: () => string; body: fc.Arbitrary<unknown> }[] = [
    { name: 'POST authenticationStrengthPolicies', method: 'POST', path: () => strengths, body: strengthBody },
    { name: 'PATCH authenticationStrengthPolicy', method: 'PATCH', path: () => `${strengths}/${strengthId}`, body: strengthBody },
    { name: 'POST updateAllowedCombinations', method: 'POST', path: () => `${strengths}/${strengthId}/updateAllowedCombinations`, body: shaped(record({ allowedCombinations: maybe(fc.array(fc.constantFrom(...MODES), { maxLength: 3 }).map((c) => ['fido2', ...c])) }, ['allowedCombinations']), ['allowedCombinations']) },
    { name: 'POST combinationConfigurations', method: 'POST', path: () => `${strengths}/${strengthId}/combinationConfigurations`, body: configurationBody },
    { name: 'PATCH combinationConfiguration', method: 'PATCH', path: () => `${strengths}/${strengthId}/combinationConfigurations/${configurationId}`, body: configurationBody },
    { name: 'POST conditionalAccess/policies', method: 'POST', path: () => '/graph/v1.0/identity/conditionalAccess/policies', body: policyBody },
    { name: 'PATCH conditionalAccess/policy', method: 'PATCH', path: () => `/graph/v1.0/identity/conditionalAccess/policies/${policyId}`, body: policyBody },
    { name: 'POST namedLocations', method: 'POST', path: () => '/graph/v1.0/identity/conditionalAccess/namedLocations', body: locationBody },
    { name: 'PATCH namedLocation', method: 'PATCH', path: () => `/graph/v1.0/identity/conditionalAccess/namedLocations/${locationId}`, body: locationBody },
    { name: 'PATCH platformRulesPolicy', method: 'PATCH', path: () => '/graph/v1.0/policies/platformRulesPolicy', body: platformBody },
  ];

  for (const route of routes) {
    test(`${route.name}: hostile bodies get a 2xx or a Graph-shaped 4xx, never a 5xx`, async () => {
      await fc.assert(fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: route.body }, { weight: 1, arbitrary: value }), async (body) => {
        check(await h.call(route.method, route.path(), { rawBody: JSON.stringify(body) ?? 'null' }), `${route.name} ${String(JSON.stringify(body)).slice(0, 300)}`);
      }), { numRuns: RUNS });
    });
  }

  test('reads stay well-formed after the fuzzing (stored documents all render)', async () => {
    for (const path of [strengths, '/graph/v1.0/identity/conditionalAccess/policies', '/graph/v1.0/identity/conditionalAccess/namedLocations', '/graph/v1.0/policies/platformRulesPolicy', `${strengths}/${strengthId}/usage`]) {
      const r = await h.call('GET', path);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body).slice(0, 300)}`);
    }
  });
});
