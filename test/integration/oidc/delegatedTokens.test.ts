import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import * as client from 'openid-client';
import { FIRST_PARTY_APPS } from '../../../src/domain/directory.ts';
import { startHarness, type Harness } from '../../support/harness.ts';
import { authorize, Browser } from '../../support/oidcBrowser.ts';
import { createSoftAuthenticator, type SoftAuthenticator } from '../../support/softAuthenticator.ts';

const PORTAL = FIRST_PARTY_APPS.find((a) => a.key === 'securityInfo')!.appId;
const CONSOLE = FIRST_PARTY_APPS.find((a) => a.key === 'adminConsole')!.appId;
const SECURITY_READER = '5d6b6bb7-de71-4623-b4af-96380a352509';

/**
 * Delegated Graph tokens: the first-party security-info portal and admin console sign users in
 * through the tenant's own issuer (public clients, code + PKCE, `resource` = the Graph API) and
 * call Graph with the user's token. `/me/authentication/...` is decided by the security-info gate
 * (PLT-1..PLT-3) over the sign-in the token came from; the console acts with the permissions of
 * the user's directory roles (DIR-4, DIR-6). openid-client is the relying party.
 */
describe('delegated Graph tokens: /me for the portal, roles for the console (MTH-3, PLT-1..3, DIR-6)', () => {
  let h: Harness;
  let seq = 0;

  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  const redirectFor = (appId: string) => `${h.baseUrl}/${h.tenant.tenantId}/${appId === PORTAL ? 'my-sign-ins' : 'admin'}`;
  const flowApi = (path: string, body: unknown) => h.call('POST', `/api/flows/${h.tenant.tenantId}/sign-in${path}`, { token: null, body });

  const newUser = async (opts: { roles?: string[] } = {}) => {
    seq++;
    const u = await h.call('POST', '/graph/v1.0/users', { body: { displayName: `Delegated ${seq}`, userPrincipalName: `delegated${seq}@contoso.test` } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    for (const role of opts.roles ?? []) {
      const r = await h.call('POST', '/graph/v1.0/roleManagement/directory/roleAssignments', { body: { principalId: u.body.id, roleDefinitionId: role, directoryScopeId: '/' } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const pass = await h.call('POST', `/graph/v1.0/users/${u.body.id}/authentication/temporaryAccessPassMethods`, { body: { lifetimeInMinutes: 240, isUsableOnce: false } });
    assert.equal(pass.status, 201, JSON.stringify(pass.body));
    return { id: u.body.id as string, upn: u.body.userPrincipalName as string, code: pass.body.temporaryAccessPass as string };
  };

  /** The app's side (openid-client) and the page's side (the flow API) of one sign-in; returns the tokens. */
  const signIn = async (appId: string, user: { upn: string; code: string }, factor: 'tap' | SoftAuthenticator = 'tap', expect: 'grant' | 'challenge' = 'grant', scope = 'openid') => {
    const config = await client.discovery(new URL(h.tenant.issuer), appId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const browser = new Browser();
    const { verifier, state, uid } = await authorize(browser, config, { redirect_uri: redirectFor(appId), scope, resource: `${h.baseUrl}/graph` });
    const started = await flowApi('', { clientId: appId, interactionUid: uid, capabilities: { webauthn: true }, ...(appId === PORTAL ? { userAction: 'urn:user:registersecurityinfo' } : {}) });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const flowId = started.body.flowId as string;
    let step;
    if (factor === 'tap') {
      step = await flowApi(`/${flowId}/tap`, { username: user.upn, code: user.code });
    } else {
      const o = await flowApi(`/${flowId}/passkey/options`, { username: user.upn });
      assert.equal(o.status, 200, JSON.stringify(o.body));
      step = await flowApi(`/${flowId}/passkey`, { credential: factor.authenticate(o.body, h.baseUrl) });
    }
    assert.equal(step.status, 200, JSON.stringify(step.body));
    assert.equal(step.body.decision.outcome, expect, JSON.stringify(step.body.decision));
    if (expect !== 'grant') return { token: '', flowId, decision: step.body.decision, config, refreshToken: undefined };
    const done = await browser.request(`${h.baseUrl}/${h.tenant.tenantId}/sign-in/${uid}/complete`, { method: 'POST', body: { flowId } });
    const body = await done.json() as { redirectTo: string };
    assert.equal(done.status, 200, JSON.stringify(body));
    const { url: callback } = await browser.follow(body.redirectTo, redirectFor(appId));
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    return { token: tokens.access_token, flowId, decision: step.body.decision, config, refreshToken: tokens.refresh_token };
  };

  test('the portal gets a delegated Graph token naming its sign-in; /me lists, registers, renames and deletes under the gate', async () => {
    const user = await newUser();
    const { token, flowId } = await signIn(PORTAL, user);
    const claims = decodeJwt(token);
    assert.equal(claims.aud, `${h.baseUrl}/graph`);
    assert.equal(claims.idtyp, 'user');
    assert.equal(claims.sub, user.id);
    assert.equal(claims.client_id, PORTAL);
    assert.equal(claims.gh_sif, flowId, 'the token names the sign-in the gate decides over');
    assert.ok((claims.exp as number) - (claims.iat as number) <= 15 * 60, 'no longer than a security-info session');

    const me = await h.call('GET', '/graph/v1.0/me', { token });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.userPrincipalName, user.upn);

    const methods = await h.call('GET', '/graph/v1.0/me/authentication/methods', { token });
    assert.equal(methods.status, 200, JSON.stringify(methods.body));
    const tap = methods.body.value.find((m: any) => m['@odata.type'] === '#microsoft.graph.temporaryAccessPassAuthenticationMethod');
    assert.ok(tap, JSON.stringify(methods.body));
    assert.equal(tap.temporaryAccessPass, null, 'TAP-3: never the code');

    // PLT-1 with no usable MFA method yet: the TAP opens security info; a passkey may be added.
    const options = await h.call('GET', '/graph/v1.0/me/authentication/fido2Methods/creationOptions', { token });
    assert.equal(options.status, 200, JSON.stringify(options.body));
    const auth = createSoftAuthenticator();
    const created = await h.call('POST', '/graph/v1.0/me/authentication/fido2Methods', { token, body: { displayName: 'Laptop', publicKeyCredential: auth.register(options.body.publicKey, h.baseUrl) } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.displayName, 'Laptop');

    const renamed = await h.call('PATCH', `/graph/v1.0/me/authentication/fido2Methods/${created.body.id}`, { token, body: { displayName: 'Work laptop' } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    const listed = await h.call('GET', '/graph/v1.0/me/authentication/fido2Methods', { token });
    assert.deepEqual(listed.body.value.map((m: any) => m.displayName), ['Work laptop']);

    // LOG-2: the changes are the user's own, audited as such.
    const audits = (await h.database.db.selectFrom('directory_audits').select('record').where('target_user_id', '=', user.id).execute()).map((r) => r.record as any);
    const names = audits.map((a) => a.activityDisplayName);
    assert.ok(names.includes('User registered security info') && names.includes('User updated security info'), JSON.stringify(names));
    assert.ok(audits.filter((a) => a.activityDisplayName.startsWith('User ')).every((a) => a.initiatedBy.user?.id === user.id), 'initiated by the user');

    // The portal's token opens nothing but /me.
    for (const path of [
      '/users', '/groups', '/applications', '/roleManagement/directory/roleAssignments', `/users/${user.id}/authentication/methods`,
      '/policies/authenticationMethodsPolicy', '/policies/authenticationStrengthPolicies', '/identity/conditionalAccess/policies',
      '/identity/conditionalAccess/namedLocations', '/policies/platformRulesPolicy', '/policies/gatehouseLogRetentionPolicy',
      '/auditLogs/signIns', '/auditLogs/directoryAudits', '/auditLogs/gatehouseVerify',
    ]) {
      const r = await h.call('GET', `/graph/v1.0${path}`, { token });
      assert.equal(r.status, 403, `${path}: ${JSON.stringify(r.body)}`);
    }
    const whatIf = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/evaluate', { token, body: { signInIdentity: { userId: user.id }, signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: [PORTAL] } } });
    assert.equal(whatIf.status, 403, JSON.stringify(whatIf.body));
    assert.equal((await h.call('GET', '/api/recovery/cases', { token })).status, 403);
    // Nor can it change a policy.
    const patch = await h.call('PATCH', '/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/SoftwareOath', { token, body: { state: 'enabled' } });
    assert.equal(patch.status, 403, JSON.stringify(patch.body));
    // And an application token can't use /me.
    assert.equal((await h.call('GET', '/graph/v1.0/me')).status, 403);

    const deleted = await h.call('DELETE', `/graph/v1.0/me/authentication/fido2Methods/${created.body.id}`, { token });
    assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
  });

  test('PLT-3: a TAP-only sign-in of a user holding a passkey is challenged at the portal, and refused at /me from the console, naming the rule', async () => {
    const user = await newUser();
    const first = await signIn(PORTAL, user);
    const auth = createSoftAuthenticator();
    const options = await h.call('GET', '/graph/v1.0/me/authentication/fido2Methods/creationOptions', { token: first.token });
    const created = await h.call('POST', '/graph/v1.0/me/authentication/fido2Methods', { token: first.token, body: { displayName: 'Key', publicKeyCredential: auth.register(options.body.publicKey, h.baseUrl) } });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    // The portal's sign-in is the security-info action itself: the TAP alone gets the PLT-3 step-up.
    const challenged = await signIn(PORTAL, user, 'tap', 'challenge');
    assert.equal(challenged.decision.requirements[0].id, 'PLT-3');
    // A console sign-in with the TAP is granted (no policy here), but its token can't open security info.
    const tapOnly = await signIn(CONSOLE, user);
    const refused = await h.call('GET', '/graph/v1.0/me/authentication/methods', { token: tapOnly.token });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.error.message, /PLT-3/);
    assert.equal(refused.body.error.decision.outcome, 'challenge');
    // LOG-1: the refusal is a sign-in record naming PLT-3 as the source.
    const records = (await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', user.id).execute()).map((r) => r.record as any);
    assert.ok(records.some((r) => r.status.errorCode !== 0 && JSON.stringify(r.authenticationRequirementPolicies).includes('PLT-3')), JSON.stringify(records.map((r) => r.authenticationRequirementPolicies)));

    const withKey = await signIn(PORTAL, user, auth);
    const ok = await h.call('GET', '/graph/v1.0/me/authentication/methods', { token: withKey.token! });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('one record per Grant names the sign-in: a refreshed portal token carries the same gh_sif, another user\'s record gives none', async () => {
    const user = await newUser();
    const first = await signIn(PORTAL, user, 'tap', 'grant', 'openid offline_access');
    const second = await signIn(PORTAL, user, 'tap', 'grant', 'openid offline_access');
    assert.notEqual(first.flowId, second.flowId);
    assert.equal(decodeJwt(first.token).gh_sif, first.flowId, 'each token names the flow that signed it in');
    assert.equal(decodeJwt(second.token).gh_sif, second.flowId);
    // The flow is kept with the Grant's saved sign-in session, the one record per Grant (no other table).
    const saved = await h.database.db.selectFrom('oidc_artefacts').select(['id', 'payload']).where('model', '=', 'GatehouseSignInSession').where('account_id', '=', user.id).execute();
    assert.deepEqual(saved.map((r) => (r.payload as { flowId?: string }).flowId).sort(), [first.flowId, second.flowId].sort(), JSON.stringify(saved));
    const { rows } = await sql<{ t: string | null }>`SELECT to_regclass('oidc_grant_sign_ins')::text AS t`.execute(h.database.db);
    assert.equal(rows[0]!.t, null, 'migration 0011 dropped the second per-Grant table');

    // A refresh re-issues the Graph token from the same Grant: it names the same sign-in.
    assert.ok(first.refreshToken, 'the portal may ask for offline_access');
    const refreshed = await client.refreshTokenGrant(first.config, first.refreshToken, { resource: `${h.baseUrl}/graph` });
    assert.equal(decodeJwt(refreshed.access_token).gh_sif, first.flowId);
    assert.equal((await h.call('GET', '/graph/v1.0/me/authentication/methods', { token: refreshed.access_token })).status, 200);

    // A saved record that is not the token's user's names no sign-in: no gh_sif, and the gate's 401.
    await sql`UPDATE oidc_artefacts SET payload = jsonb_set(payload, '{accountId}', to_jsonb(${'00000000-0000-0000-0000-000000000001'}::text))
      WHERE model = 'GatehouseSignInSession' AND payload->>'flowId' = ${second.flowId}`.execute(h.database.db);
    assert.ok(second.refreshToken);
    const foreign = await client.refreshTokenGrant(second.config, second.refreshToken, { resource: `${h.baseUrl}/graph` });
    assert.equal(decodeJwt(foreign.access_token).gh_sif, undefined);
    const ended = await h.call('GET', '/graph/v1.0/me/authentication/methods', { token: foreign.access_token });
    assert.equal(ended.status, 401, JSON.stringify(ended.body));
  });

  test('the security-info session ends with its sign-in (401), and revocation ends delegated tokens (PLT-6)', async () => {
    const user = await newUser();
    const { token, flowId } = await signIn(PORTAL, user);
    assert.equal((await h.call('GET', '/graph/v1.0/me/authentication/methods', { token })).status, 200);
    await h.database.db.updateTable('sign_in_flows').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', flowId).execute();
    const ended = await h.call('GET', '/graph/v1.0/me/authentication/methods', { token });
    assert.equal(ended.status, 401, JSON.stringify(ended.body));
    assert.match(ended.body.error.message, /sign in .*again/i);

    const second = await signIn(PORTAL, user);
    assert.equal((await h.call('POST', `/graph/v1.0/users/${user.id}/revokeSignInSessions`)).status, 200);
    const revoked = await h.call('GET', '/graph/v1.0/me', { token: second.token });
    assert.equal(revoked.status, 401, JSON.stringify(revoked.body));
    assert.match(revoked.body.error.message, /revoked/);
  });

  test("the admin console acts with the user's roles: a Security Reader reads, never changes; a member without a role gets nothing", async () => {
    const reader = await newUser({ roles: [SECURITY_READER] });
    const { token } = await signIn(CONSOLE, reader);
    assert.equal(decodeJwt(token).client_id, CONSOLE);
    const users = await h.call('GET', '/graph/v1.0/users', { token });
    assert.equal(users.status, 200, JSON.stringify(users.body));
    const policies = await h.call('GET', '/graph/v1.0/identity/conditionalAccess/policies', { token });
    assert.equal(policies.status, 200, JSON.stringify(policies.body));
    const create = await h.call('POST', '/graph/v1.0/users', { token, body: { displayName: 'Nope', userPrincipalName: 'nope@contoso.test' } });
    assert.equal(create.status, 403, JSON.stringify(create.body));
    const tap = await h.call('POST', `/graph/v1.0/users/${reader.id}/authentication/temporaryAccessPassMethods`, { token, body: {} });
    assert.equal(tap.status, 403, JSON.stringify(tap.body));
    for (const [path, body] of [
      ['/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/SoftwareOath', { state: 'enabled' }],
      ['/policies/authenticationMethodsPolicy', { registrationEnforcement: { authenticationMethodsRegistrationCampaign: { state: 'enabled' } } }],
      ['/policies/platformRulesPolicy', { existingMethodStepUp: 'off' }],
    ] as const) {
      const r = await h.call('PATCH', `/graph/v1.0${path}`, { token, body });
      assert.equal(r.status, 403, `${path}: ${JSON.stringify(r.body)}`);
    }
    const whatIf = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/evaluate', { token, body: { signInIdentity: { userId: reader.id }, signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: [PORTAL] } } });
    assert.equal(whatIf.status, 200, 'a Security Reader may run What-If');

    const member = await newUser();
    const m = await signIn(CONSOLE, member);
    assert.equal((await h.call('GET', '/graph/v1.0/users', { token: m.token })).status, 403);

    // Other apps can't get Graph tokens for their users.
    const chat = await h.call('POST', '/graph/v1.0/applications', { body: { displayName: 'Chat', spa: { redirectUris: [`${h.baseUrl}/chat`] } } });
    assert.equal(chat.status, 201);
    const config = await client.discovery(new URL(h.tenant.issuer), chat.body.appId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const url = client.buildAuthorizationUrl(config, { redirect_uri: `${h.baseUrl}/chat`, scope: 'openid', resource: `${h.baseUrl}/graph`, code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const res = await new Browser().request(url);
    const location = new URL(res.headers.get('location') ?? url.href, url);
    assert.equal(location.searchParams.get('error'), 'invalid_target', location.href);
  });
});
