import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MAX_CA_POLICIES, parsePolicy } from '../../../src/domain/conditionalAccess.ts';
import { MFA_STRENGTH_ID, PHISHING_RESISTANT_STRENGTH_ID } from '../../../src/domain/strengths.ts';
import { saveConditionalAccessPolicy } from '../../../src/store/policies.ts';
import { startHarness, type Harness } from '../../support/harness.ts';

/**
 * STR-1, STR-2, CA-1..CA-6, PLT settings and WIF-3 over the Graph-shaped admin API: round trips,
 * the 400s that name the field and rule, the 409s that name what is in the way, the audit record
 * of every write, and no partial write when a request fails.
 */
const STRENGTHS = '/graph/v1.0/policies/authenticationStrengthPolicies';
const POLICIES = '/graph/v1.0/identity/conditionalAccess/policies';
const LOCATIONS = '/graph/v1.0/identity/conditionalAccess/namedLocations';
const PLATFORM = '/graph/v1.0/policies/platformRulesPolicy';
const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';

describe('policies admin API (STR-1, STR-2, CA-1..CA-6, WIF-3)', () => {
  let h: Harness;
  let userId: string;
  let groupId: string;
  before(async () => {
    h = await startHarness();
    userId = (await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'Policy target', userPrincipalName: 'target@contoso.test' } })).body.id;
    groupId = (await h.call('POST', '/graph/v1.0/groups', { body: { displayName: 'Pilot users' } })).body.id;
  });
  after(async () => { await h.close(); });

  const tenantId = () => h.tenant.tenantId;
  const audits = async (activity: string) => (await h.database.db.selectFrom('directory_audits').select('record').where('tenant_id', '=', tenantId())
    .where('activity_display_name', '=', activity).orderBy('activity_date_time').orderBy('id').execute()).map((r) => r.record as any);
  const rows = async () => {
    const count = async (table: 'conditional_access_policies' | 'authentication_strengths' | 'named_locations' | 'directory_audits' | 'platform_settings') =>
      Number((await h.database.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId()).executeTakeFirstOrThrow()).n);
    return {
      policies: await count('conditional_access_policies'), strengths: await count('authentication_strengths'), locations: await count('named_locations'),
      audits: await count('directory_audits'), platform: await count('platform_settings'),
    };
  };
  /** A policy scoped to the test user only, so it never concerns the tenant's Global Administrator (WIF-3). */
  const policy = (extra: Record<string, unknown> = {}) => ({
    displayName: 'Require MFA for the target', state: 'enabled',
    conditions: { users: { includeUsers: [userId] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
    grantControls: { operator: 'OR', builtInControls: ['mfa'] },
    ...extra,
  });
  const expect400 = async (method: string, path: string, body: unknown, field: string, rule?: string) => {
    const before = await rows();
    const r = await h.call(method, path, { body });
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 200)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'Request_BadRequest');
    assert.equal(r.body.error.target, field, r.body.error.message);
    if (rule) assert.match(r.body.error.message, new RegExp(rule));
    assert.deepEqual(await rows(), before, 'a refused request writes nothing');
    return r;
  };

  test('STR-1: the built-ins come first, read-only, with Entra ids and combinations; $filter on policyType', async () => {
    const all = await h.call('GET', STRENGTHS);
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.value.slice(0, 3).map((s: any) => s.id), ['00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000004']);
    const phishing = all.body.value.find((s: any) => s.id === PHISHING_RESISTANT_STRENGTH_ID);
    assert.deepEqual(phishing.allowedCombinations, ['windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor']);
    assert.equal(phishing.policyType, 'builtIn');
    assert.equal(all.body.value[0].allowedCombinations.length, 19);
    const builtIn = await h.call('GET', `${STRENGTHS}?$filter=${encodeURIComponent("policyType eq 'builtIn'")}`);
    assert.equal(builtIn.body.value.length, 3);
    const one = await h.call('GET', `${STRENGTHS}/${MFA_STRENGTH_ID}`);
    assert.equal(one.body.displayName, 'Multifactor authentication');
    assert.equal(one.body.requirementsSatisfied, 'mfa');
    assert.equal((await h.call('GET', `${STRENGTHS}/${randomUUID()}`)).status, 404);
  });

  test('STR-1: built-in strengths can be neither changed nor deleted', async () => {
    await expect400('PATCH', `${STRENGTHS}/${MFA_STRENGTH_ID}`, { displayName: 'Mine now' }, 'policyType', 'read-only');
    await expect400('POST', `${STRENGTHS}/${MFA_STRENGTH_ID}/updateAllowedCombinations`, { allowedCombinations: ['fido2'] }, 'policyType', 'read-only');
    const del = await h.call('DELETE', `${STRENGTHS}/${PHISHING_RESISTANT_STRENGTH_ID}`);
    assert.equal(del.status, 400);
    assert.equal(del.body.error.target, 'policyType');
    assert.equal((await h.call('GET', `${STRENGTHS}/${MFA_STRENGTH_ID}`)).body.displayName, 'Multifactor authentication');
  });

  test('STR-2: modes and combinations in Graph shape, each mode marked available here or not (MTH-1)', async () => {
    const modes = await h.call('GET', `${STRENGTHS}/authenticationMethodModes`);
    assert.equal(modes.status, 200);
    const byId = new Map(modes.body.value.map((m: any) => [m.id, m]));
    assert.deepEqual(byId.get('fido2'), { id: 'fido2', displayName: 'FIDO2 Security Key', authenticationMethod: 'fido2', gatehouseAvailability: 'available' });
    assert.equal((byId.get('sms') as any).gatehouseAvailability, 'notAvailableOnThisServer');
    assert.equal((byId.get('temporaryAccessPassOneTime') as any).authenticationMethod, 'temporaryAccessPass');
    const combos = await h.call('GET', `${STRENGTHS}/authenticationCombinations`);
    assert.ok(combos.body.value.includes('password,softwareOath'));
  });

  test('STR-2: a custom strength round trip: create, read, rename, change combinations and AAGUID configurations, delete; every write audited', async () => {
    const created = await h.call('POST', STRENGTHS, { body: { '@odata.type': '#microsoft.graph.authenticationStrengthPolicy', id: 'ignored', displayName: 'Keys or TAP', description: 'Bootstrap', allowedCombinations: ['fido2', 'temporaryAccessPassOneTime'] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const s = created.body;
    assert.match(s.id, /^[0-9a-f-]{36}$/);
    assert.equal(s.policyType, 'custom');
    assert.equal(s.requirementsSatisfied, 'mfa');
    assert.equal(created.headers.get('location'), `${h.baseUrl}/graph/v1.0/policies/authenticationStrengthPolicies/${s.id}`);
    assert.equal((await h.call('GET', `${STRENGTHS}/${s.id}`)).body.displayName, 'Keys or TAP');
    assert.equal((await h.call('GET', `${STRENGTHS}?$filter=${encodeURIComponent("policyType eq 'custom'")}`)).body.value.some((x: any) => x.id === s.id), true);

    assert.equal((await h.call('PATCH', `${STRENGTHS}/${s.id}`, { body: { displayName: 'Keys or a pass' } })).status, 204);
    await expect400('PATCH', `${STRENGTHS}/${s.id}`, { allowedCombinations: ['password'] }, 'allowedCombinations', 'updateAllowedCombinations');

    const upd = await h.call('POST', `${STRENGTHS}/${s.id}/updateAllowedCombinations`, { body: { allowedCombinations: ['fido2', 'password'] } });
    assert.equal(upd.status, 200, JSON.stringify(upd.body));
    assert.deepEqual(upd.body.previousCombinations, ['fido2', 'temporaryAccessPassOneTime']);
    assert.deepEqual(upd.body.currentCombinations, ['fido2', 'password']);
    assert.deepEqual(upd.body.conditionalAccessReferences, []);
    assert.equal((await h.call('GET', `${STRENGTHS}/${s.id}`)).body.requirementsSatisfied, 'none', 'a single-factor combination makes it a non-MFA strength');

    const cfg = await h.call('POST', `${STRENGTHS}/${s.id}/combinationConfigurations`, { body: { '@odata.type': '#microsoft.graph.fido2CombinationConfiguration', allowedAAGUIDs: [YUBIKEY_5.toUpperCase()], appliesToCombinations: ['fido2'] } });
    assert.equal(cfg.status, 201, JSON.stringify(cfg.body));
    assert.deepEqual(cfg.body.allowedAAGUIDs, [YUBIKEY_5]);
    await expect400('POST', `${STRENGTHS}/${s.id}/combinationConfigurations`, { '@odata.type': '#microsoft.graph.fido2CombinationConfiguration', allowedAAGUIDs: [YUBIKEY_5], appliesToCombinations: ['fido2'] }, 'appliesToCombinations', 'already has');
    await expect400('POST', `${STRENGTHS}/${s.id}/combinationConfigurations`, { '@odata.type': '#microsoft.graph.fido2CombinationConfiguration', allowedAAGUIDs: [YUBIKEY_5], appliesToCombinations: ['password'] }, 'appliesToCombinations', 'fido2');
    await expect400('POST', `${STRENGTHS}/${s.id}/updateAllowedCombinations`, { allowedCombinations: ['password'] }, 'allowedCombinations', 'configuration');
    const other = '2fc0579f-8113-47ea-b2cf-b6f2f6f1c1a4';
    const patched = await h.call('PATCH', `${STRENGTHS}/${s.id}/combinationConfigurations/${cfg.body.id}`, { body: { '@odata.type': '#microsoft.graph.fido2CombinationConfiguration', allowedAAGUIDs: [YUBIKEY_5, other] } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const list = await h.call('GET', `${STRENGTHS}/${s.id}/combinationConfigurations`);
    assert.deepEqual(list.body.value.map((c: any) => c.allowedAAGUIDs), [[YUBIKEY_5, other]]);
    assert.equal((await h.call('GET', `${STRENGTHS}/${s.id}/combinationConfigurations/${cfg.body.id}`)).body.id, cfg.body.id);
    assert.equal((await h.call('DELETE', `${STRENGTHS}/${s.id}/combinationConfigurations/${cfg.body.id}`)).status, 204);
    assert.equal((await h.call('GET', `${STRENGTHS}/${s.id}/combinationConfigurations/${cfg.body.id}`)).status, 404);

    assert.equal((await h.call('DELETE', `${STRENGTHS}/${s.id}`)).status, 204);
    assert.equal((await h.call('GET', `${STRENGTHS}/${s.id}`)).status, 404);

    const added = (await audits('Add authentication strength policy')).filter((a) => a.targetResources[0].id === s.id);
    assert.equal(added.length, 1);
    assert.equal(added[0].category, 'Policy');
    assert.equal(added[0].loggedByService, 'Conditional Access');
    assert.equal(added[0].initiatedBy.app.appId, h.tenant.automation.appId);
    assert.equal(JSON.parse(added[0].targetResources[0].modifiedProperties[0].newValue).displayName, 'Keys or TAP');
    const updates = (await audits('Update authentication strength policy')).filter((a) => a.targetResources[0].id === s.id);
    assert.equal(updates.length, 5, 'rename, combinations, add/patch/delete configuration');
    const rename = updates[0].targetResources[0].modifiedProperties[0];
    assert.equal(JSON.parse(rename.oldValue).displayName, 'Keys or TAP');
    assert.equal(JSON.parse(rename.newValue).displayName, 'Keys or a pass');
    assert.equal((await audits('Delete authentication strength policy')).filter((a) => a.targetResources[0].id === s.id).length, 1);
  });

  test('STR-2: an invalid combination is refused naming allowedCombinations.N; nothing is written', async () => {
    await expect400('POST', STRENGTHS, { displayName: 'Bad', allowedCombinations: ['fido2', 'password,carrierPigeon'] }, 'allowedCombinations.1', 'carrierPigeon');
    await expect400('POST', STRENGTHS, { displayName: 'Bad', allowedCombinations: ['fido2', 'sms,email'] }, 'allowedCombinations.1', 'not a valid combination');
    await expect400('POST', STRENGTHS, { displayName: 'Bad', allowedCombinations: [] }, 'allowedCombinations');
    await expect400('POST', STRENGTHS, { displayName: 'Bad', allowedCombinations: ['fido2'], combinationConfigurations: [{ '@odata.type': '#microsoft.graph.fido2CombinationConfiguration', appliesToCombinations: ['fido2'], allowedAAGUIDs: ['not-a-guid'] }] }, 'combinationConfigurations.0.allowedAAGUIDs.0');
    await expect400('POST', STRENGTHS, { displayName: 'x'.repeat(31), allowedCombinations: ['fido2'] }, 'displayName');
  });

  test('STR-2: a strength a policy uses can\'t be deleted (409 lists the policies); usage lists them; the policy GET expands the strength', async () => {
    const s = (await h.call('POST', STRENGTHS, { body: { displayName: 'Passkeys only', allowedCombinations: ['fido2'] } })).body;
    const p = await h.call('POST', POLICIES, { body: policy({ displayName: 'Passkeys for the target', grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: s.id } } }) });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    assert.deepEqual(p.body.grantControls.authenticationStrength, {
      id: s.id, createdDateTime: s.createdDateTime, modifiedDateTime: s.modifiedDateTime, displayName: 'Passkeys only', description: null,
      policyType: 'custom', requirementsSatisfied: 'mfa', allowedCombinations: ['fido2'],
    });
    const before = await rows();
    const del = await h.call('DELETE', `${STRENGTHS}/${s.id}`);
    assert.equal(del.status, 409);
    assert.equal(del.body.error.code, 'Request_Conflict');
    assert.match(del.body.error.message, new RegExp(`Passkeys for the target.*${p.body.id}`));
    assert.deepEqual(del.body.error.conditionalAccessPolicies, [{ id: p.body.id, displayName: 'Passkeys for the target' }]);
    assert.deepEqual(await rows(), before);
    const usage = await h.call('GET', `${STRENGTHS}/${s.id}/usage`);
    assert.equal(usage.status, 200);
    assert.deepEqual(usage.body.mfa.map((x: any) => x.id), [p.body.id]);
    assert.deepEqual(usage.body.none, []);
    const upd = await h.call('POST', `${STRENGTHS}/${s.id}/updateAllowedCombinations`, { body: { allowedCombinations: ['fido2', 'windowsHelloForBusiness'] } });
    assert.deepEqual(upd.body.conditionalAccessReferences, [p.body.id]);
    assert.equal((await h.call('DELETE', `${POLICIES}/${p.body.id}`)).status, 204);
    assert.equal((await h.call('DELETE', `${STRENGTHS}/${s.id}`)).status, 204);
  });

  test('STR-2: at most 15 custom strengths; the 16th is refused naming the limit', async () => {
    const existing = (await h.call('GET', `${STRENGTHS}?$filter=${encodeURIComponent("policyType eq 'custom'")}`)).body.value.length;
    const made: string[] = [];
    for (let i = existing; i < 15; i++) {
      const r = await h.call('POST', STRENGTHS, { body: { displayName: `Strength ${i}`, allowedCombinations: ['fido2'] } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      made.push(r.body.id);
    }
    const before = await rows();
    const r = await h.call('POST', STRENGTHS, { body: { displayName: 'One too many', allowedCombinations: ['fido2'] } });
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, /STR-2.*at most 15/);
    assert.deepEqual(await rows(), before);
    for (const id of made) assert.equal((await h.call('DELETE', `${STRENGTHS}/${id}`)).status, 204);
  });

  test('CA-1: a policy round trip in Graph shape: server-chosen id and dates, PATCH merges, conditions replace whole, DELETE; audited with old and new', async () => {
    const clientId = randomUUID();
    const created = await h.call('POST', POLICIES, { body: { ...policy(), id: clientId, createdDateTime: '2001-01-01T00:00:00Z', '@odata.context': 'x' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const p = created.body;
    assert.notEqual(p.id, clientId);
    assert.notEqual(p.createdDateTime, '2001-01-01T00:00:00.000Z');
    assert.equal(p.createdDateTime, p.modifiedDateTime);
    assert.equal(p.state, 'enabled');
    assert.equal(p.templateId, null);
    assert.deepEqual(p.conditions.users.includeUsers, [userId]);
    assert.deepEqual(p.grantControls.builtInControls, ['mfa']);
    assert.deepEqual(p.gatehouseFindings, []);
    const got = await h.call('GET', `${POLICIES}/${p.id}`);
    assert.deepEqual(got.body, { ...p, '@odata.context': got.body['@odata.context'] });

    const patch = await h.call('PATCH', `${POLICIES}/${p.id}`, { body: { displayName: 'Pilot group, MFA', conditions: { users: { includeGroups: [groupId] }, applications: { includeApplications: ['All'] } } } });
    assert.equal(patch.status, 204, JSON.stringify(patch.body));
    const after = (await h.call('GET', `${POLICIES}/${p.id}`)).body;
    assert.equal(after.displayName, 'Pilot group, MFA');
    assert.deepEqual(after.conditions.users.includeUsers, [], 'a conditions object replaces the old one');
    assert.deepEqual(after.conditions.users.includeGroups, [groupId]);
    assert.deepEqual(after.grantControls.builtInControls, ['mfa'], 'untouched properties stay');
    assert.equal(after.createdDateTime, p.createdDateTime);
    assert.ok(after.modifiedDateTime >= p.modifiedDateTime);

    const listed = await h.call('GET', `${POLICIES}?$filter=${encodeURIComponent("state eq 'enabled'")}`);
    assert.ok(listed.body.value.some((x: any) => x.id === p.id));
    assert.equal((await h.call('DELETE', `${POLICIES}/${p.id}`)).status, 204);
    assert.equal((await h.call('GET', `${POLICIES}/${p.id}`)).status, 404);
    assert.equal((await h.call('DELETE', `${POLICIES}/${p.id}`)).status, 404);

    const [add] = (await audits('Add conditional access policy')).filter((a) => a.targetResources[0].id === p.id);
    assert.equal(add.category, 'Policy');
    assert.equal(add.loggedByService, 'Conditional Access');
    assert.equal(add.targetResources[0].modifiedProperties[0].oldValue, null);
    assert.equal(JSON.parse(add.targetResources[0].modifiedProperties[0].newValue).displayName, 'Require MFA for the target');
    const [upd] = (await audits('Update conditional access policy')).filter((a) => a.targetResources[0].id === p.id);
    assert.equal(JSON.parse(upd.targetResources[0].modifiedProperties[0].oldValue).displayName, 'Require MFA for the target');
    assert.equal(JSON.parse(upd.targetResources[0].modifiedProperties[0].newValue).displayName, 'Pilot group, MFA');
    const [del] = (await audits('Delete conditional access policy')).filter((a) => a.targetResources[0].id === p.id);
    assert.equal(del.targetResources[0].modifiedProperties[0].newValue, null);
  });

  test('CA-3..CA-6: rule violations are 400s naming the field and rule, and nothing is written', async () => {
    await expect400('POST', POLICIES, policy({ grantControls: { operator: 'OR', builtInControls: ['mfa'], authenticationStrength: { id: MFA_STRENGTH_ID } } }), 'grantControls.authenticationStrength', 'CA-3');
    await expect400('POST', POLICIES, policy({ state: 'enabledForReportingButNotEnforced', conditions: { users: { includeUsers: [userId] }, applications: { includeUserActions: ['urn:user:registersecurityinfo'] } } }), 'state', 'CA-5');
    await expect400('POST', POLICIES, policy({ conditions: { users: { includeUsers: [userId] }, applications: { includeUserActions: ['urn:user:registerdevice'] } }, grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: MFA_STRENGTH_ID } } }), 'grantControls', 'CA-6');
    const unknownGroup = randomUUID();
    const r = await expect400('POST', POLICIES, policy({ conditions: { users: { includeGroups: [unknownGroup] }, applications: { includeApplications: ['All'] } } }), 'conditions.users.includeGroups.0', unknownGroup);
    assert.equal(r.body.error.gatehouseFindings[0].field, 'conditions.users.includeGroups.0');
    await expect400('POST', POLICIES, policy({ state: 'on' }), 'state');
    await expect400('POST', POLICIES, { ...policy(), displayName: undefined }, 'displayName');
    await expect400('POST', POLICIES, policy({ conditions: { users: { includeUsers: [userId] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['carrierPigeon'] } }), 'conditions.clientAppTypes.0');
    await expect400('POST', POLICIES, policy({ displayName: 'nul \u0000 inside' }), 'displayName');
  });

  test('CA-4: an unsupported grant is refused in an enabled policy, stored when disabled with gatehouseFindings, and can\'t be enabled later', async () => {
    const body = policy({ displayName: 'Compliant devices', grantControls: { operator: 'AND', builtInControls: ['mfa', 'compliantDevice'] }, partialEnablementStrategy: null });
    const refused = await expect400('POST', POLICIES, body, 'grantControls.builtInControls.1', 'CA-4');
    assert.match(refused.body.error.message, /compliantDevice/);
    const stored = await h.call('POST', POLICIES, { body: { ...body, state: 'disabled', conditions: { ...body.conditions, devices: { deviceFilter: { mode: 'include', rule: 'device.isCompliant -eq True' } } } } });
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    assert.deepEqual(stored.body.gatehouseFindings.map((f: any) => [f.field, f.rule]), [['conditions.devices', 'CA-4'], ['grantControls.builtInControls.1', 'CA-4']]);
    const got = (await h.call('GET', `${POLICIES}/${stored.body.id}`)).body;
    assert.deepEqual(got.gatehouseFindings, stored.body.gatehouseFindings);
    assert.deepEqual(got.grantControls.builtInControls, ['mfa', 'compliantDevice'], 'stored as given, never silently dropped');
    await expect400('PATCH', `${POLICIES}/${stored.body.id}`, { state: 'enabled' }, 'conditions.devices', 'CA-4');
    // Fix what the findings name, and it can be enabled.
    const fixed = await h.call('PATCH', `${POLICIES}/${stored.body.id}`, { body: { state: 'enabled', conditions: body.conditions, grantControls: { operator: 'OR', builtInControls: ['mfa'] } } });
    assert.equal(fixed.status, 204, JSON.stringify(fixed.body));
    assert.deepEqual((await h.call('GET', `${POLICIES}/${stored.body.id}`)).body.gatehouseFindings, []);
    assert.equal((await h.call('DELETE', `${POLICIES}/${stored.body.id}`)).status, 204);
  });

  test('CA-1: at most 195 policies whatever their state; the 196th is refused naming the limit and nothing is written', async () => {
    const existing = (await h.call('GET', POLICIES)).body.value.length;
    const at = new Date().toISOString();
    const filler: string[] = [];
    for (let i = existing; i < MAX_CA_POLICIES - 1; i++) {
      const id = randomUUID();
      filler.push(id);
      const { policy: parsed } = parsePolicy(policy({ displayName: `Filler ${i}`, state: 'disabled' }));
      await saveConditionalAccessPolicy(h.database.db, tenantId(), { ...parsed, id, createdDateTime: at, modifiedDateTime: at });
    }
    const last = await h.call('POST', POLICIES, { body: policy({ displayName: 'Number 195', state: 'disabled' }) });
    assert.equal(last.status, 201, JSON.stringify(last.body));
    const before = await rows();
    const over = await h.call('POST', POLICIES, { body: policy({ displayName: 'Number 196', state: 'disabled' }) });
    assert.equal(over.status, 409);
    assert.match(over.body.error.message, /CA-1.*at most 195/);
    assert.equal(over.body.error.gatehouseRule, 'CA-1');
    assert.deepEqual(await rows(), before);
    await h.database.db.deleteFrom('conditional_access_policies').where('tenant_id', '=', tenantId()).where('id', 'in', [...filler, last.body.id]).execute();
  });

  test('CA-2: named locations round trip (IP and country); a location a policy uses can\'t be deleted (409 lists the policies); audited', async () => {
    const ip = await h.call('POST', LOCATIONS, { body: { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Office', isTrusted: true, ipRanges: [{ cidrAddress: '203.0.113.0/24' }, { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8::/32' }] } });
    assert.equal(ip.status, 201, JSON.stringify(ip.body));
    assert.deepEqual(ip.body.ipRanges, [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' }, { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8::/32' }]);
    const country = await h.call('POST', LOCATIONS, { body: { '@odata.type': '#microsoft.graph.countryNamedLocation', displayName: 'Home countries', countriesAndRegions: ['de', 'FR'] } });
    assert.equal(country.status, 201);
    assert.deepEqual(country.body.countriesAndRegions, ['DE', 'FR']);
    assert.equal(country.body.countryLookupMethod, 'clientIpAddress');
    await expect400('POST', LOCATIONS, { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Bad', ipRanges: [{ cidrAddress: '300.1.1.1/8' }] }, 'ipRanges.0.cidrAddress');
    await expect400('POST', LOCATIONS, { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Bad', ipRanges: [{ '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '10.0.0.0/8' }] }, 'ipRanges.0.@odata.type');

    assert.equal((await h.call('PATCH', `${LOCATIONS}/${ip.body.id}`, { body: { '@odata.type': '#microsoft.graph.ipNamedLocation', ipRanges: [{ cidrAddress: '198.51.100.0/24' }] } })).status, 204);
    const got = (await h.call('GET', `${LOCATIONS}/${ip.body.id}`)).body;
    assert.deepEqual(got.ipRanges, [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }]);
    assert.equal(got.displayName, 'Office');
    assert.equal(got.isTrusted, true);
    await expect400('PATCH', `${LOCATIONS}/${ip.body.id}`, { '@odata.type': '#microsoft.graph.countryNamedLocation' }, '@odata.type');
    assert.equal((await h.call('GET', LOCATIONS)).body.value.length, 2);

    const p = await h.call('POST', POLICIES, { body: policy({ displayName: 'Block outside the office', grantControls: { operator: 'OR', builtInControls: ['block'] }, conditions: { users: { includeUsers: [userId] }, applications: { includeApplications: ['All'] }, locations: { includeLocations: ['All'], excludeLocations: [ip.body.id] } } }) });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    const before = await rows();
    const del = await h.call('DELETE', `${LOCATIONS}/${ip.body.id}`);
    assert.equal(del.status, 409);
    assert.match(del.body.error.message, /Block outside the office/);
    assert.deepEqual(del.body.error.conditionalAccessPolicies.map((x: any) => x.id), [p.body.id]);
    assert.deepEqual(await rows(), before);
    // A country location can be referenced only by a disabled policy (no geolocation here, CA-4).
    const geo = await h.call('POST', POLICIES, { body: policy({ conditions: { users: { includeUsers: [userId] }, applications: { includeApplications: ['All'] }, locations: { includeLocations: [country.body.id] } } }) });
    assert.equal(geo.status, 400);
    assert.equal(geo.body.error.target, 'conditions.locations.includeLocations.0');

    assert.equal((await h.call('DELETE', `${POLICIES}/${p.body.id}`)).status, 204);
    assert.equal((await h.call('DELETE', `${LOCATIONS}/${ip.body.id}`)).status, 204);
    assert.equal((await h.call('DELETE', `${LOCATIONS}/${country.body.id}`)).status, 204);
    assert.equal((await h.call('GET', `${LOCATIONS}/${ip.body.id}`)).status, 404);
    for (const activity of ['Add named location', 'Update named location', 'Delete named location']) {
      assert.ok((await audits(activity)).some((a) => a.targetResources[0].id === ip.body.id), activity);
    }
  });

  test('PLT-2..PLT-4 settings: GET shows the defaults; PATCH changes only what it names; unknown properties are refused; audited', async () => {
    const initial = await h.call('GET', PLATFORM);
    assert.equal(initial.status, 200);
    assert.equal(initial.body.id, 'platformRulesPolicy');
    assert.equal(initial.body.existingMethodStepUp, 'phishingResistant');
    assert.equal(initial.body.securityInfoFreshnessInMinutes, 5);
    const fresh = await h.call('PATCH', PLATFORM, { body: { securityInfoFreshnessInMinutes: 10 } });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    const off = await h.call('PATCH', PLATFORM, { body: { existingMethodStepUp: 'off' } });
    assert.equal(off.body.existingMethodStepUp, 'off');
    assert.equal(off.body.securityInfoFreshnessInMinutes, 10, 'a PATCH leaves the other settings alone');
    assert.ok(off.body.modifiedDateTime);
    const got = (await h.call('GET', PLATFORM)).body;
    assert.equal(got.existingMethodStepUp, 'off');
    assert.equal(got.securityInfoFreshnessInMinutes, 10);
    await expect400('PATCH', PLATFORM, { existingMethodStepUp: 'sometimes' }, 'existingMethodStepUp', 'PLT-3');
    await expect400('PATCH', PLATFORM, { securityInfoFreshnessInMinutes: 61 }, 'securityInfoFreshnessInMinutes', 'PLT-2');
    await expect400('PATCH', PLATFORM, { riskDetection: true }, 'riskDetection');
    const [audit] = (await audits('Update platform rules policy')).slice(-1);
    const prop = audit.targetResources[0].modifiedProperties[0];
    assert.equal(JSON.parse(prop.oldValue).existingMethodStepUp, 'phishingResistant');
    assert.equal(JSON.parse(prop.newValue).existingMethodStepUp, 'off');
    await h.call('PATCH', PLATFORM, { body: { existingMethodStepUp: 'phishingResistant', securityInfoFreshnessInMinutes: 5 } });
  });

  test('WIF-3: a policy that would lock every Global Administrator out is refused with 409 and the reason; forceLockout=true saves it, audited as forced', async () => {
    const lockout = { displayName: 'Block everyone', state: 'enabled', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } }, grantControls: { operator: 'OR', builtInControls: ['block'] } };
    const before = await rows();
    const refused = await h.call('POST', POLICIES, { body: lockout });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'Request_Conflict');
    assert.match(refused.body.error.message, /WIF-3.*forceLockout=true/s);
    assert.equal(refused.body.error.gatehouseRule, 'WIF-3');
    assert.deepEqual(await rows(), before, 'the transaction rolled back');

    const forced = await h.call('POST', `${POLICIES}?forceLockout=true`, { body: lockout });
    assert.equal(forced.status, 201, JSON.stringify(forced.body));
    const [audit] = (await audits('Add conditional access policy')).filter((a) => a.targetResources[0].id === forced.body.id);
    assert.ok(audit.additionalDetails.some((d: any) => d.key === 'forceLockout' && d.value === 'true'));
    assert.ok(audit.additionalDetails.some((d: any) => d.key === 'WIF-3' && /forceLockout=true/.test(d.value)));
    assert.ok(audit.targetResources[0].modifiedProperties.some((m: any) => m.displayName === 'ForcedPastLockoutGuard'));
    assert.equal((await h.call('POST', `${POLICIES}?forceLockout=maybe`, { body: lockout })).body.error.target, 'forceLockout');
    // Taking the block away restores access, so it needs no force.
    assert.equal((await h.call('DELETE', `${POLICIES}/${forced.body.id}`)).status, 204);
  });

  test('WIF-3: the methods policy is guarded too: turning off every method the administrator holds is refused unless forced', async () => {
    const path = '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass';
    const before = await rows();
    const refused = await h.call('PATCH', path, { body: { state: 'disabled' } });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.body.error.message, /WIF-3/);
    assert.deepEqual(await rows(), before);
    assert.equal((await h.call('GET', path)).body.state, 'enabled');
    assert.equal((await h.call('PATCH', `${path}?forceLockout=true`, { body: { state: 'disabled' } })).status, 204);
    const [audit] = (await audits('Authentication Methods Policy Update')).slice(-1);
    assert.ok(audit.additionalDetails.some((d: any) => d.key === 'forceLockout'));
    assert.equal((await h.call('PATCH', path, { body: { state: 'enabled' } })).status, 204);
  });

  test('permissions: policy writes need Policy.ReadWrite.ConditionalAccess; reads take Policy.Read.All', async () => {
    const { clientCredentialsToken } = await import('../../support/harness.ts');
    const { addPassword, createApplication, grantPermissions } = await import('../../../src/store/applications.ts');
    const app = await h.database.db.transaction().execute(async (trx) => {
      const a = await createApplication(trx, tenantId(), { displayName: 'Reader' }, 'automation');
      await grantPermissions(trx, tenantId(), a.id, ['Policy.Read.All']);
      return { appId: a.appId, secret: (await addPassword(trx, tenantId(), a.id, { displayName: 't' }, new Date())).secretText! };
    });
    const token = await clientCredentialsToken(h.tenant.tokenEndpoint, app.appId, app.secret);
    assert.equal((await h.call('GET', POLICIES, { token })).status, 200);
    assert.equal((await h.call('GET', STRENGTHS, { token })).status, 200);
    const before = await rows();
    for (const [method, path, body] of [['POST', POLICIES, policy()], ['POST', STRENGTHS, { displayName: 'x', allowedCombinations: ['fido2'] }], ['POST', LOCATIONS, { '@odata.type': '#microsoft.graph.countryNamedLocation', displayName: 'x', countriesAndRegions: ['DE'] }], ['PATCH', PLATFORM, { existingMethodStepUp: 'off' }]] as const) {
      const r = await h.call(method, path, { token, body });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.error.code, 'Authorization_RequestDenied');
    }
    assert.deepEqual(await rows(), before);
  });
});
