import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { evaluateSignIn } from '../../../src/engine/evaluateSignIn.ts';
import { whatIfInput, whatIfRequest } from '../../../src/flows/policies/whatIf.ts';
import { startHarness, type Harness } from '../../support/harness.ts';
import { cliTenant, runCli } from '../../support/processes.ts';
import { createSoftAuthenticator } from '../../support/softAuthenticator.ts';
import { setUpCommonTenant } from '../../support/commonTenant.ts';


/** WIF-1 over HTTP and the CLI, on the spec's common tenant built through the Graph API. */
describe('What-If: POST /identity/conditionalAccess/evaluate and gatehouse whatif (WIF-1, SIG-1)', () => {
  let h: Harness;
  let ca001: string;
  let ca002: string;
  let seq = 0;
  before(async () => {
    h = await startHarness();
    ({ ca001, ca002 } = await setUpCommonTenant(h));
  });
  after(async () => { await h.close(); });

  const newUser = async () => {
    const r = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `What-If user ${++seq}`, userPrincipalName: `whatif${seq}@contoso.test` } });
    assert.equal(r.status, 201);
    const tap = await h.call('POST', `/graph/v1.0/users/${r.body.id}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes: 240, isUsableOnce: false } });
    assert.equal(tap.status, 201, JSON.stringify(tap.body));
    return r.body as { id: string; userPrincipalName: string };
  };
  const evaluate = (body: unknown) => h.call('POST', '/graph/v1.0/identity/conditionalAccess/evaluate', { body });
  const securityInfo = (userId: string, performed: string[]) => ({
    signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId },
    signInContext: { '@odata.type': '#microsoft.graph.userActionContext', userAction: 'registerSecurityInformation' },
    signInConditions: { devicePlatform: 'windows', clientAppType: 'browser' },
    gatehouse: { performedMethods: performed.map((mode) => ({ mode })) },
  });

  test('SC-1: a new user with a TAP at security info: granted; Graph shape lists each policy with policyApplies and analysisReasons', async () => {
    const u = await newUser();
    const r = await evaluate(securityInfo(u.id, ['temporaryAccessPassMultiUse']));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.gatehouseDecision.outcome, 'grant');
    const byId = new Map(r.body.value.map((p: any) => [p.id, p]));
    assert.equal((byId.get(ca001) as any).policyApplies, true);
    assert.equal((byId.get(ca001) as any).analysisReasons, 'notSet');
    assert.equal((byId.get(ca001) as any)['@odata.type'], '#microsoft.graph.whatIfAnalysisResult');
    assert.equal((byId.get(ca002) as any).policyApplies, true);
    assert.deepEqual((byId.get(ca002) as any).gatehouseResult.result, 'success');
    assert.match((byId.get(ca002) as any).gatehouseResult.explanation, /CA-6/);
    assert.equal(r.body.gatehouseDecision.platformRules.find((x: any) => x.id === 'PLT-1').result, 'satisfied');
  });

  test('SC-1 step 3 and SC-5: Chat with a TAP asks for registration; device registration without WebAuthn is not affected by CA002', async () => {
    const u = await newUser();
    const chat = await evaluate({ signInIdentity: { userId: u.userPrincipalName }, signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: ['5a4e1c2b-0000-4000-8000-00000000c4a7'] }, gatehouse: { performedMethods: [{ mode: 'temporaryAccessPassMultiUse' }] } });
    assert.equal(chat.status, 200, JSON.stringify(chat.body));
    assert.equal(chat.body.gatehouseDecision.outcome, 'register');
    assert.equal(chat.body.gatehouseDecision.registration.rule, 'PLT-4');
    const device = await evaluate({ signInIdentity: { userId: u.id }, signInContext: { '@odata.type': '#microsoft.graph.userActionContext', userAction: 'registerOrJoinDevices' }, signInConditions: { authenticationFlow: { transferMethod: 'deviceCodeFlow' } }, appliedPoliciesOnly: true, gatehouse: { performedMethods: [{ mode: 'temporaryAccessPassMultiUse' }], clientCapabilities: { webauthn: false } } });
    assert.equal(device.status, 200, JSON.stringify(device.body));
    assert.equal(device.body.gatehouseDecision.outcome, 'grant');
    assert.deepEqual(device.body.value, [], 'appliedPoliciesOnly: CA002 excludes the device registration app and CA001 targets another action');
  });

  test('SC-2: a passkey holder with a TAP meets PLT-3; with PLT-3 off the same request is granted; the answer equals a direct engine call', async () => {
    const u = await newUser();
    const o = await h.call('GET', `/graph/v1.0/users/${u.id}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=5)`);
    const auth = createSoftAuthenticator();
    const reg = await h.call('POST', `/graph/v1.0/users/${u.id}/authentication/fido2Methods`, { body: { displayName: 'Desk key', publicKeyCredential: auth.register(o.body.publicKey, h.baseUrl) } });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const body = securityInfo(u.id, ['temporaryAccessPassMultiUse']);
    const on = await evaluate(body);
    assert.equal(on.body.gatehouseDecision.outcome, 'challenge');
    assert.equal(on.body.gatehouseDecision.errorCode, 900403);
    assert.deepEqual(on.body.gatehouseDecision.requirements.filter((q: any) => !q.satisfied).map((q: any) => q.id), ['PLT-3']);
    assert.deepEqual(on.body.gatehouseDecision.requirements.find((q: any) => q.id === 'PLT-3').candidates.map((c: any) => c.methodId), [reg.body.id]);

    // The same input through the engine directly gives the same decision (SIG-1: one function).
    const now = new Date(on.body.gatehouseInput.request.at);
    const direct = evaluateSignIn(await whatIfInput(h.database.db, h.tenant.tenantId, whatIfRequest.parse(body), now));
    assert.deepEqual(JSON.parse(JSON.stringify(direct)), on.body.gatehouseDecision);

    const off = await h.call('PATCH', '/graph/v1.0/policies/platformRulesPolicy', { body: { existingMethodStepUp: 'off' } });
    assert.ok(off.status === 200 || off.status === 204, JSON.stringify(off.body));
    try {
      const granted = await evaluate(body);
      assert.equal(granted.body.gatehouseDecision.outcome, 'grant');
      assert.equal(granted.body.gatehouseDecision.platformRules.find((x: any) => x.id === 'PLT-3').result, 'notApplicable');
    } finally {
      await h.call('PATCH', '/graph/v1.0/policies/platformRulesPolicy', { body: { existingMethodStepUp: 'phishingResistant' } });
    }
  });

  test('bad input: a clear 400 naming the field; an unknown user is 404', async () => {
    const missing = await evaluate({ signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: ['x'] } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.target, 'signInIdentity');
    const badMode = await evaluate({ ...securityInfo('nobody@contoso.test', []), gatehouse: { performedMethods: [{ mode: 'carrierPigeon' }] } });
    assert.equal(badMode.status, 400);
    assert.equal(badMode.body.error.target, 'gatehouse.performedMethods.0.mode');
    const nobody = await evaluate(securityInfo('nobody@contoso.test', []));
    assert.equal(nobody.status, 404);
    const noRights = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/evaluate', { token: null, body: securityInfo('x', []) });
    assert.equal(noRights.status, 401);
  });

});

describe('gatehouse whatif for the local operator', () => {
  let env: Record<string, string>;
  let close: () => Promise<void>;
  before(async () => { ({ env, close } = await cliTenant('gatehouse-cli-whatif-')); });
  after(async () => { await close(); });

  test('prints the decision with each policy and platform rule; --json parses; a bad combination of options is a clear error', async () => {
    const text = await runCli(['whatif', '--user', 'admin@contoso.test', '--action', 'registerSecurityInformation', '--performed', 'temporaryAccessPassOneTime'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Outcome: grant/);
    assert.match(text.stdout, /PLT-1 Security-info gate: the user holds no usable multifactor method|PLT-1 Security-info gate: multifactor/);
    const json = await runCli(['whatif', '--user', 'admin@contoso.test', '--app', '5a4e1c2b-0000-4000-8000-00000000c4a7', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout);
    assert.equal(body.gatehouseDecision.outcome, 'grant');
    assert.equal(body.gatehouseDecision.conditionalAccessStatus, 'notApplied');
    const bad = await runCli(['whatif', '--user', 'admin@contoso.test', '--app', 'x', '--action', 'registerSecurityInformation'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /exactly one of --app, --action or --context/);
  });
});
