import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../../support/harness.ts';

/**
 * The flow's start for an app (flow.ts `startSignIn`): the app's lookup and the flow (and, with
 * passkey options, its challenge) are one statement (signInFlows.ts `createFlow`). An
 * unknown app or tenant is refused with 404 and nothing is stored; a known app's name is kept in
 * the flow for the steps' sign-in records (LOG-1).
 */
describe('sign-in flow start for an app: one statement, nothing stored when refused', () => {
  let h: Harness;
  const app = { appId: '', displayName: 'Start app' };

  before(async () => {
    h = await startHarness();
    const w = await h.call('POST', '/graph/v1.0/applications', { body: { displayName: app.displayName, web: { redirectUris: ['http://127.0.0.1:9/callback'] } } });
    assert.equal(w.status, 201, JSON.stringify(w.body));
    app.appId = w.body.appId;
  });
  after(async () => { await h.close(); });

  const start = (tenantId: string, body: unknown) => h.call('POST', `/api/flows/${tenantId}/sign-in`, { token: null, body });
  const counts = async () => ({
    flows: Number((await h.database.db.selectFrom('sign_in_flows').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    challenges: Number((await h.database.db.selectFrom('webauthn_challenges').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
  });
  const stateOf = async (flowId: string) => (await h.database.db.selectFrom('sign_in_flows').select('state').where('id', '=', flowId).executeTakeFirstOrThrow()).state as any;

  test('an unknown app or tenant: 404 (a client id that is no GUID: 400 naming it), no flow and no challenge stored', async () => {
    const before = await counts();
    for (const [tenantId, clientId, status] of [
      [h.tenant.tenantId, '00000000-0000-4000-8000-000000000001', 404],
      [h.tenant.tenantId, 'not-a-guid', 400],
      ['00000000-0000-4000-8000-000000000002', app.appId, 404],
    ] as const) {
      for (const extra of [{}, { passkeyOptions: {} }]) {
        const r = await start(tenantId, { clientId, capabilities: { webauthn: true }, ...extra });
        assert.equal(r.status, status, `${tenantId} ${clientId} ${JSON.stringify(extra)}: ${JSON.stringify(r.body)}`);
        if (status === 400) assert.equal(r.body.error.target, 'clientId');
      }
    }
    assert.deepEqual(await counts(), before);
  });

  test('a known app (any case): the flow keeps the app\'s name; with passkey options its challenge is stored with it', async () => {
    const before = await counts();
    const plain = await start(h.tenant.tenantId, { clientId: app.appId.toUpperCase(), capabilities: { webauthn: false } });
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    const s = await stateOf(plain.body.flowId);
    assert.equal(s.appDisplayName, app.displayName);
    assert.equal(s.appId.toLowerCase(), app.appId.toLowerCase());
    assert.deepEqual(await counts(), { flows: before.flows + 1, challenges: before.challenges });

    const withOptions = await start(h.tenant.tenantId, { clientId: app.appId, capabilities: { webauthn: true }, passkeyOptions: {} });
    assert.equal(withOptions.status, 201, JSON.stringify(withOptions.body));
    assert.equal((await stateOf(withOptions.body.flowId)).appDisplayName, app.displayName);
    const challenge = await h.database.db.selectFrom('webauthn_challenges').selectAll().where('flow_id', '=', withOptions.body.flowId).execute();
    assert.equal(challenge.length, 1);
    assert.equal(challenge[0]!.purpose, 'authentication');
    assert.equal(challenge[0]!.user_id, null);
    assert.deepEqual(await counts(), { flows: before.flows + 2, challenges: before.challenges + 1 });
  });
});
