import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FIRST_PARTY_APPS, GLOBAL_ADMINISTRATOR, ROLE_TEMPLATES } from '../../../src/domain/directory.ts';
import { startHarness, type Harness } from '../../support/harness.ts';

const ref = (h: Harness, id: string) => ({ '@odata.id': `${h.baseUrl}/graph/v1.0/directoryObjects/${id}` });

describe('Graph groups, roles and applications (DIR-3..DIR-5)', () => {
  let h: Harness;
  let user: { id: string };
  before(async () => {
    h = await startHarness();
    user = (await h.call('POST', '/graph/v1.0/users', { body: { displayName: 'Member', userPrincipalName: 'member@contoso.test' } })).body;
  });
  after(async () => { await h.close(); });

  const group = async (name: string) => {
    const r = await h.call('POST', '/graph/v1.0/groups', { body: { displayName: name, mailEnabled: false, securityEnabled: true, mailNickname: name.replace(/\W/g, '') } });
    assert.equal(r.status, 201);
    return r.body as { id: string };
  };

  test('DIR-3: nested membership counts transitively; a cycle is refused with 400 and nothing is written', async () => {
    const outer = await group('Outer');
    const inner = await group('Inner');
    assert.equal((await h.call('POST', `/graph/v1.0/groups/${inner.id}/members/$ref`, { body: ref(h, user.id) })).status, 204);
    assert.equal((await h.call('POST', `/graph/v1.0/groups/${outer.id}/members/$ref`, { body: ref(h, inner.id) })).status, 204);
    const direct = await h.call('GET', `/graph/v1.0/groups/${outer.id}/members`);
    assert.deepEqual(direct.body.value.map((m: { id: string }) => m.id), [inner.id]);
    const transitive = await h.call('GET', `/graph/v1.0/groups/${outer.id}/transitiveMembers`);
    assert.deepEqual(transitive.body.value.map((m: { id: string }) => m.id).sort(), [inner.id, user.id].sort());
    const memberOf = await h.call('GET', `/graph/v1.0/users/${user.id}/transitiveMemberOf`);
    assert.deepEqual(memberOf.body.value.map((m: { id: string }) => m.id).sort(), [inner.id, outer.id].sort());

    const cycle = await h.call('POST', `/graph/v1.0/groups/${inner.id}/members/$ref`, { body: ref(h, outer.id) });
    assert.equal(cycle.status, 400);
    assert.match(cycle.body.error.message, /cycle/);
    const self = await h.call('POST', `/graph/v1.0/groups/${inner.id}/members/$ref`, { body: ref(h, inner.id) });
    assert.equal(self.status, 400);
    const innerMembers = await h.call('GET', `/graph/v1.0/groups/${inner.id}/members`);
    assert.deepEqual(innerMembers.body.value.map((m: { id: string }) => m.id), [user.id]);

    const dup = await h.call('POST', `/graph/v1.0/groups/${inner.id}/members/$ref`, { body: ref(h, user.id) });
    assert.equal(dup.status, 409);
    assert.equal((await h.call('DELETE', `/graph/v1.0/groups/${inner.id}/members/${user.id}/$ref`)).status, 204);
    assert.equal((await h.call('DELETE', `/graph/v1.0/groups/${inner.id}/members/${user.id}/$ref`)).status, 404);
  });

  test('DIR-3: concurrent opposite additions cannot form a cycle', async () => {
    const a = await group('A');
    const b = await group('B');
    const [r1, r2] = await Promise.all([
      h.call('POST', `/graph/v1.0/groups/${a.id}/members/$ref`, { body: ref(h, b.id) }),
      h.call('POST', `/graph/v1.0/groups/${b.id}/members/$ref`, { body: ref(h, a.id) }),
    ]);
    assert.deepEqual([r1.status, r2.status].sort(), [204, 400]);
  });

  test('DIR-4: role definitions carry Entra template ids; assignments are created, filtered and deleted', async () => {
    const defs = await h.call('GET', '/graph/v1.0/roleManagement/directory/roleDefinitions');
    assert.equal(defs.body.value.length, ROLE_TEMPLATES.length);
    assert.ok(defs.body.value.some((d: { id: string; displayName: string }) => d.id === GLOBAL_ADMINISTRATOR && d.displayName === 'Global Administrator'));
    const admins = await h.call('GET', `/graph/v1.0/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`roleDefinitionId eq '${GLOBAL_ADMINISTRATOR}'`)}`);
    assert.deepEqual(admins.body.value.map((a: { principalId: string }) => a.principalId), [h.tenant.admin.id]);

    const authAdmin = 'c4e39bd9-1100-46d3-8c65-fb160da0071f';
    const c = await h.call('POST', '/graph/v1.0/roleManagement/directory/roleAssignments', { body: { roleDefinitionId: authAdmin, principalId: user.id, directoryScopeId: '/' } });
    assert.equal(c.status, 201);
    const mine = await h.call('GET', `/graph/v1.0/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${user.id}'`)}`);
    assert.deepEqual(mine.body.value.map((a: { id: string }) => a.id), [c.body.id]);
    assert.equal((await h.call('POST', '/graph/v1.0/roleManagement/directory/roleAssignments', { body: { roleDefinitionId: authAdmin, principalId: user.id } })).status, 409);
    const unknownRole = await h.call('POST', '/graph/v1.0/roleManagement/directory/roleAssignments', { body: { roleDefinitionId: '11111111-1111-1111-1111-111111111111', principalId: user.id } });
    assert.equal(unknownRole.status, 400);
    assert.equal(unknownRole.body.error.target, 'roleDefinitionId');
    assert.equal((await h.call('DELETE', `/graph/v1.0/roleManagement/directory/roleAssignments/${encodeURIComponent(c.body.id)}`)).status, 204);
    // LOG-2: both changes are audited with Entra's activity names
    const audits = (await h.database.db.selectFrom('directory_audits').select('record').where('target_user_id', '=', user.id).orderBy('activity_date_time').orderBy('id').execute()).map((r) => r.record as any);
    assert.deepEqual(audits.map((a) => a.activityDisplayName), ['Add member to role', 'Remove member from role']);
    assert.equal(audits[0].targetResources[0].modifiedProperties[0].newValue, JSON.stringify('Authentication Administrator'));
    assert.equal(audits[0].initiatedBy.app.appId, h.tenant.automation.appId);
  });

  test('DIR-5: the three first-party apps exist with fixed appIds and cannot be deleted', async () => {
    for (const fp of FIRST_PARTY_APPS) {
      const r = await h.call('GET', `/graph/v1.0/applications?$filter=${encodeURIComponent(`appId eq '${fp.appId}'`)}`);
      assert.equal(r.body.value.length, 1, fp.displayName);
      assert.equal(r.body.value[0].gatehouseKind, 'firstParty');
      const del = await h.call('DELETE', `/graph/v1.0/applications/${r.body.value[0].id}`);
      assert.equal(del.status, 400);
    }
  });

  test('DIR-5: an application with a caller-chosen appId (migration from Entra); the secret is shown once', async () => {
    const appId = '4a0c6f7e-8b1d-4e2f-9a3b-5c6d7e8f9a0b';
    const c = await h.call('POST', '/graph/v1.0/applications', { body: { displayName: 'Chat', appId, web: { redirectUris: ['https://chat.example/cb'] } } });
    assert.equal(c.status, 201);
    assert.equal(c.body.appId, appId);
    assert.equal((await h.call('POST', '/graph/v1.0/applications', { body: { displayName: 'Chat 2', appId } })).status, 409);
    const pw = await h.call('POST', `/graph/v1.0/applications/${c.body.id}/addPassword`, { body: { passwordCredential: { displayName: 'ci' } } });
    assert.equal(pw.status, 200);
    assert.equal(typeof pw.body.secretText, 'string');
    assert.ok(pw.body.secretText.length >= 40);
    const read = await h.call('GET', `/graph/v1.0/applications/${c.body.id}`);
    assert.equal(read.body.passwordCredentials.length, 1);
    assert.equal(read.body.passwordCredentials[0].secretText, null);
    assert.equal(read.body.passwordCredentials[0].hint, pw.body.secretText.slice(0, 3));
    const stored = await h.database.db.selectFrom('application_secrets').select('secret_hash').where('application_id', '=', c.body.id).execute();
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0]!.secret_hash, pw.body.secretText);
    assert.ok(!JSON.stringify(stored).includes(pw.body.secretText));
  });
});
