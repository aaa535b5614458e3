import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { MAX_CA_POLICIES } from '../../../src/domain/conditionalAccess.ts';
import { addPassword, createApplication, grantPermissions } from '../../../src/store/applications.ts';
import type { Db } from '../../../src/store/database.ts';
import { clientCredentialsToken, startHarness, type Harness } from '../../support/harness.ts';
import { cliTenant, runCli } from '../../support/processes.ts';

/**
 * CA-4 bulk import of exported Entra JSON, over the whole Conditional Access corpus
 * (test/fixtures/conditional-access, every file its index.json lists): nothing crashes, nothing
 * is silently dropped, the database holds exactly what the report says; a dry run writes nothing
 * and reports the same; CA-1's cap, WIF-3's guard, and the CLI.
 */

const FIXTURES = fileURLToPath(new URL('../../fixtures/conditional-access/', import.meta.url));
type IndexEntry = { file: string; kind: string; state?: string; displayName?: string; usesPlaceholders?: boolean };
const INDEX: IndexEntry[] = JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')).entries;
/** The corpus as an API client would send it: each file's text (the j0eyv ones were UTF-16 upstream; here UTF-8). */
const CORPUS = INDEX.map((e) => ({ name: e.file, content: readFileSync(join(FIXTURES, e.file), 'utf8') }));
const json = (file: string) => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8').replace(/^\uFEFF/, ''));

type Item = { file: string; index?: number; kind: string; displayName: string; sourceId: string | null; id?: string; status: string; exportedState?: string; storedState?: string; findings: { field: string; rule: string; reason: string }[]; message?: string };
type Report = { dryRun: boolean; summary: any; items: Item[] };

/** Rows an import can write, for one tenant. */
async function rowCounts(db: Db, tenantId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['conditional_access_policies', 'named_locations', 'authentication_strengths', 'authentication_methods_policies', 'directory_audits'] as const) {
    const r = await db.selectFrom(t).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    out[t] = Number(r.n);
  }
  return out;
}

/** The whole corpus is about 0.4 MB; the default GATEHOUSE_BODY_LIMIT_BYTES is 256 KiB (see the 413 test below). */
async function startLargeBodyServer() {
  const h = await startHarness({ tenant: 'Fabrikam', admin: 'admin@fabrikam.test', env: { GATEHOUSE_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) } });
  return { database: h.database, tenant: h.tenant, post: (body: unknown) => h.call('POST', '/graph/v1.0/policies/gatehouseImport', { body }), close: () => h.close() };
}

/** Placeholder values (`<AdministratorGroup>`) in a template's conditions, with their dotted paths. */
function placeholders(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return /^<[^<>]+>$/.test(value.trim()) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => placeholders(v, `${path}.${i}`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => placeholders(v, path ? `${path}.${k}` : k));
  return [];
}

describe('policy import: the whole corpus through POST /policies/gatehouseImport (CA-4)', () => {
  let s: Awaited<ReturnType<typeof startLargeBodyServer>>;
  let dry: Report;
  let real: Report;
  let before0: Record<string, number>;
  before(async () => {
    s = await startLargeBodyServer();
    before0 = await rowCounts(s.database.db, s.tenant.tenantId);
    const d = await s.post({ documents: CORPUS, dryRun: true });
    assert.equal(d.status, 200, JSON.stringify(d.body).slice(0, 500));
    dry = d.body;
    assert.deepEqual(await rowCounts(s.database.db, s.tenant.tenantId), before0, 'a dry run writes nothing');
    const r = await s.post({ documents: CORPUS });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    real = r.body;
  });
  after(async () => { await s?.close(); });

  test('every file and every policy in the index is in the report; each policy has one of the four outcomes, with its reasons', () => {
    assert.equal(real.dryRun, false);
    assert.equal(real.summary.files, INDEX.length);
    const files = new Set(real.items.map((i) => i.file));
    for (const e of INDEX) assert.ok(files.has(e.file), `${e.file} is missing from the report`);
    assert.ok(real.items.every((i) => INDEX.some((e) => e.file === i.file)), 'no item from a file that was not sent');
    for (const e of INDEX.filter((x) => x.kind === 'conditionalAccessPolicy')) {
      const items = real.items.filter((i) => i.file === e.file);
      assert.equal(items.length, 1, e.file);
      assert.equal(items[0]!.kind, 'caPolicy', e.file);
      assert.equal(items[0]!.displayName, e.displayName);
      assert.equal(items[0]!.exportedState, e.state, e.file);
    }
    // Collections and template lists: one policy item per element, in order.
    for (const e of INDEX.filter((x) => /collection/.test(x.kind))) {
      const list = json(e.file).value as unknown[];
      const items = real.items.filter((i) => i.file === e.file);
      assert.deepEqual(items.map((i) => i.index), list.map((_, i) => i), e.file);
      assert.ok(items.every((i) => i.kind === 'caPolicy'), e.file);
    }
    const policies = real.items.filter((i) => i.kind === 'caPolicy');
    assert.equal(policies.length, 146 + 21 + 4);
    for (const p of policies) {
      const where = `${p.file}[${p.index ?? ''}] ${p.status}`;
      for (const f of p.findings) {
        assert.ok(f.field && f.rule && f.reason, `${where}: a finding names field, rule and reason: ${JSON.stringify(f)}`);
      }
      if (p.status === 'stored') {
        assert.equal(p.findings.length, 0, where);
        assert.equal(p.storedState, p.exportedState ?? 'enabledForReportingButNotEnforced', where);
        assert.ok(p.id, where);
      } else if (p.status === 'storedDisabled') {
        assert.ok(p.findings.length > 0, where);
        assert.equal(p.storedState, 'disabled', where);
        assert.ok(p.id, where);
      } else if (p.status === 'invalid') {
        assert.equal(p.findings.length, 1, where);
        assert.equal(p.id, undefined, where);
      } else {
        assert.equal(p.status, 'notStored', where);
        assert.ok(p.findings.some((f) => f.rule === 'CA-1'), where);
      }
    }
    const count = (status: string) => policies.filter((p) => p.status === status).length;
    assert.deepEqual(real.summary.policies, { stored: count('stored'), storedDisabled: count('storedDisabled'), invalid: count('invalid'), notStored: count('notStored') });
    assert.equal(count('notStored'), 0, 'the corpus (171 policies) fits under CA-1 in an empty tenant');
    assert.ok(count('stored') > 0 && count('storedDisabled') > 0 && count('invalid') > 0);
  });

  test('the database holds exactly the stored objects, in the reported states, each audited with its source file', async () => {
    const { db } = s.database;
    const t = s.tenant.tenantId;
    const rows = await db.selectFrom('conditional_access_policies').select(['id', 'state']).where('tenant_id', '=', t).execute();
    const stored = real.items.filter((i) => i.kind === 'caPolicy' && (i.status === 'stored' || i.status === 'storedDisabled'));
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.state])), Object.fromEntries(stored.map((i) => [i.id, i.storedState])));
    const ids = async (table: 'named_locations' | 'authentication_strengths') => (await db.selectFrom(table).select('id').where('tenant_id', '=', t).execute()).map((r) => r.id).sort();
    assert.deepEqual(await ids('named_locations'), real.items.filter((i) => i.kind === 'namedLocation' && i.status === 'stored').map((i) => i.id).sort());
    assert.deepEqual(await ids('authentication_strengths'), real.items.filter((i) => i.kind === 'strength' && i.status === 'stored').map((i) => i.id).sort());

    const audits = await db.selectFrom('directory_audits').select(['activity_date_time', 'activity_display_name', 'correlation_id', 'record']).where('tenant_id', '=', t).execute();
    const fromImport = audits.filter((a) => (a.record as any).additionalDetails.some((d: any) => d.key === 'source' && d.value === 'import'));
    const n = (activity: string) => fromImport.filter((a) => a.activity_display_name === activity).length;
    assert.equal(n('Add conditional access policy'), stored.length);
    assert.equal(n('Add named location'), real.summary.namedLocations.stored);
    assert.equal(n('Add authentication strength policy'), real.summary.strengths.stored);
    assert.equal(n('Authentication Methods Policy Update'), real.summary.methodsPolicy.stored + real.summary.methodsPolicy.partiallyStored);
    assert.equal(n('Import policies'), 1);
    assert.equal(new Set(fromImport.map((a) => a.correlation_id)).size, 1, 'one correlation id for the whole import');
    const one = fromImport.find((a) => a.activity_display_name === 'Add conditional access policy')!;
    const details = Object.fromEntries((one.record as any).additionalDetails.map((d: any) => [d.key, d.value]));
    assert.ok(INDEX.some((e) => e.file === details.sourceFile), details.sourceFile);
    const summary = Object.fromEntries((fromImport.find((a) => a.activity_display_name === 'Import policies')!.record as any).additionalDetails.map((d: any) => [d.key, d.value]));
    assert.equal(summary.policiesStoredDisabled, String(real.summary.policies.storedDisabled));
  });

  test('a dry run reports exactly what the real run then did (ids chosen by the server aside)', () => {
    assert.equal(dry.dryRun, true);
    const same = (r: Report) => ({
      summary: r.summary,
      items: r.items.map(({ id, ...i }) => ({ ...i, id: id === undefined ? undefined : id === i.sourceId?.toLowerCase() || id === 'authenticationMethodsPolicy' ? id : '(new)' })),
    });
    assert.deepEqual(same(dry), same(real));
  });

  test('templates with placeholders: each placeholder is an invalid-reference finding naming its field', () => {
    const alex = INDEX.filter((e) => e.file.startsWith('AlexFilipin-'));
    assert.equal(alex.length, 59);
    let checked = 0;
    for (const e of alex) {
      const item = real.items.find((i) => i.file === e.file)!;
      if (item.status === 'invalid') continue;
      const raw = json(e.file);
      for (const field of placeholders(raw.conditions, 'conditions')) {
        const f = item.findings.find((x) => x.field === field);
        assert.ok(f, `${e.file}: no finding for ${field}`);
        assert.match(f.reason, /invalid reference: '<[^>]+>' is a template placeholder/);
        checked += 1;
      }
      if (/<RING>/.test(raw.displayName)) assert.match(item.message ?? '', /template placeholder \(<RING>\)/);
    }
    assert.ok(checked > 100, `placeholders checked: ${checked}`);
  });

  test('display names instead of ids (Fortigi) are invalid references on the fields that hold them', () => {
    for (const e of INDEX.filter((x) => x.file.startsWith('Fortigi-'))) {
      const item = real.items.find((i) => i.file === e.file)!;
      assert.equal(item.status, 'storedDisabled', e.file);
      const raw = json(e.file);
      for (const side of ['includeGroups', 'excludeGroups'] as const) {
        (raw.conditions.users[side] as string[]).forEach((name, i) => {
          const f = item.findings.find((x) => x.field === `conditions.users.${side}.${i}`);
          assert.ok(f, `${e.file}: conditions.users.${side}.${i}`);
          assert.equal(f.reason, `invalid reference: '${name}' is not a group id (a GUID).`);
        });
      }
      (raw.conditions.applications.includeApplications as string[]).forEach((name, i) => {
        if (name === 'All') return;
        const f = item.findings.find((x) => x.field === `conditions.applications.includeApplications.${i}`);
        assert.ok(f && f.reason.startsWith(`invalid reference: '${name}' is not a`), `${e.file}: includeApplications.${i}`);
      });
      (raw.conditions.users.includeUsers as string[]).forEach((name, i) => {
        if (name === 'All') return;
        assert.ok(item.findings.some((x) => x.field === `conditions.users.includeUsers.${i}` && x.reason.includes(`'${name}' is not a user id`)), `${e.file}: includeUsers.${i}`);
      });
      // Graph reads enum values case-insensitively; the file says "All".
      assert.match(item.message ?? '', /conditions\.clientAppTypes\.0: 'All' read as 'all'/);
    }
  });

  test('the other kinds: named locations, strengths, the methods policy, contexts, reference data', () => {
    const by = (file: string) => real.items.filter((i) => i.file === file);
    const compliant = by('j0eyv-ConditionalAccessBaseline/named-locations/All_Compliant_Network_locations.json')[0]!;
    assert.equal(compliant.status, 'invalid');
    assert.equal(compliant.findings[0]!.field, '@odata.type');
    // The j0eyv policies name the j0eyv country locations by their exported ids, which were kept.
    const allowed = by('j0eyv-ConditionalAccessBaseline/named-locations/ALLOWED_COUNTRIES.json')[0]!;
    assert.equal(allowed.status, 'stored');
    assert.equal(allowed.id, allowed.sourceId);
    assert.ok(real.items.some((i) => i.file.startsWith('j0eyv-') && i.findings.some((f) => f.reason.includes("named location 'ALLOWED COUNTRIES' is a country location"))));
    // An exported id that is a built-in strength's can't be kept.
    const minimal = by('deploymenttheory-terraform-provider-microsoft365/authentication-strengths/validate_create__get_authentication_strength_policy_minimal.json')[0]!;
    assert.equal(minimal.status, 'stored');
    assert.notEqual(minimal.id, '00000000-0000-0000-0000-000000000002');
    assert.deepEqual(by('msgraph-docs/authenticationStrengthPolicies.builtIn.list.v1.json').map((i) => i.status), ['skipped', 'skipped', 'skipped']);
    for (const i of real.items.filter((x) => x.file.includes('/authentication-contexts/'))) {
      assert.equal(i.kind, 'authenticationContext');
      assert.equal(i.status, 'skipped');
      assert.equal(i.message, 'skipped: authentication contexts need no import; c1..c99 are always available');
    }
    for (const f of ['msgraph-docs/authenticationStrength.combinations.list.v1.json', 'msgraph-docs/temporaryAccessPassMethod.create.v1.json']) {
      assert.deepEqual(by(f).map((i) => [i.kind, i.status]), [['unrecognised', 'unrecognised']], f);
    }
    const methods = by('msgraph-docs/authenticationMethodsPolicy.get.v1.json')[0]!;
    assert.equal(methods.kind, 'methodsPolicy');
    assert.equal(methods.status, 'partiallyStored');
    assert.ok(methods.findings.some((f) => f.field === 'registrationEnforcement'));
    assert.equal(real.summary.unrecognised, 3);
    assert.equal(real.summary.skipped, 6);
  });

  test('CA-1: beyond 195 policies the rest are reported notStored, in order, never dropped (dry run of a second import)', async () => {
    const before1 = await rowCounts(s.database.db, s.tenant.tenantId);
    const held = before1.conditional_access_policies!;
    const r = await s.post({ documents: CORPUS, dryRun: true });
    assert.equal(r.status, 200);
    const policies = (r.body as Report).items.filter((i) => i.kind === 'caPolicy' && i.status !== 'invalid');
    const storedNow = policies.filter((i) => i.status === 'stored' || i.status === 'storedDisabled').length;
    assert.equal(storedNow, MAX_CA_POLICIES - held);
    const notStored = policies.filter((i) => i.status === 'notStored');
    assert.equal(notStored.length, policies.length - storedNow);
    assert.ok(notStored.length > 100);
    for (const p of notStored) {
      assert.equal(p.findings[0]!.rule, 'CA-1');
      assert.match(p.findings[0]!.reason, /195/);
      assert.equal(p.id, undefined);
    }
    assert.deepEqual(await rowCounts(s.database.db, s.tenant.tenantId), before1);
  });
});

describe('policy import: WIF-3, permissions, input errors', () => {
  let h: Harness;
  const blockAll = readFileSync(join(FIXTURES, 'gatehouse/block-all-users-all-apps.json'), 'utf8');
  before(async () => { h = await startHarness(); });
  after(async () => { await h?.close(); });

  test('the default body limit refuses the whole corpus in one request with 413', async () => {
    const r = await h.call('POST', '/graph/v1.0/policies/gatehouseImport', { body: { documents: CORPUS, dryRun: true } });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'Request_EntityTooLarge');
  });

  test('WIF-3: an enabled block-everyone policy is stored disabled with a WIF-3 finding; with forceLockout it is stored enabled, audited as forced', async () => {
    const r = await h.call('POST', '/graph/v1.0/policies/gatehouseImport', { body: { documents: [{ name: 'block-all.json', content: `\uFEFF${blockAll}` }] } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [item] = r.body.items as Item[];
    assert.equal(item!.status, 'storedDisabled');
    assert.equal(item!.exportedState, 'enabled');
    assert.equal(item!.storedState, 'disabled');
    assert.equal(item!.id, '6f0e2b7a-3c1d-4e5f-9a8b-7c6d5e4f3a2b', 'an unused exported id is kept');
    assert.deepEqual(item!.findings.map((f) => [f.field, f.rule]), [['state', 'WIF-3']]);
    assert.match(item!.findings[0]!.reason, /no enabled Global Administrator could sign in/);
    assert.match(item!.message ?? '', /byte-order mark/);

    const forced = await h.call('POST', '/graph/v1.0/policies/gatehouseImport', { body: { documents: [{ name: 'block-all.json', content: JSON.parse(blockAll) }], forceLockout: true } });
    assert.equal(forced.status, 200);
    const [f] = forced.body.items as Item[];
    assert.equal(f!.status, 'stored');
    assert.equal(f!.storedState, 'enabled');
    assert.notEqual(f!.id, item!.id, 'the exported id is taken now, so a new one');
    assert.match(f!.message ?? '', /already used in this tenant/);
    assert.match(f!.message ?? '', /WIF-3 overridden with forceLockout/);
    const row = await h.database.db.selectFrom('conditional_access_policies').select('state').where('id', '=', f!.id!).executeTakeFirstOrThrow();
    assert.equal(row.state, 'enabled');
    const audit = await h.database.db.selectFrom('directory_audits').select('record').where('tenant_id', '=', h.tenant.tenantId)
      .where('activity_display_name', '=', 'Add conditional access policy').execute();
    const details = audit.map((a) => Object.fromEntries((a.record as any).additionalDetails.map((d: any) => [d.key, d.value])));
    assert.ok(details.some((d) => d.forceLockout === 'true' && /Global Administrator/.test(d.lockoutReason) && d.sourceFile === 'block-all.json'));
    // The override also works as the query parameter every policy write takes.
    const query = await h.call('POST', '/graph/v1.0/policies/gatehouseImport?forceLockout=true', { body: { documents: [{ name: 'block-all.json', content: blockAll }], dryRun: true } });
    assert.deepEqual([query.body.items[0].status, query.body.items[0].storedState], ['stored', 'enabled']);
    // Leave the tenant usable for the other tests.
    await h.database.db.deleteFrom('conditional_access_policies').where('tenant_id', '=', h.tenant.tenantId).execute();
  });

  test('permissions: Policy.ReadWrite.ConditionalAccess for the route; a methods policy also needs Policy.ReadWrite.AuthenticationMethod', async () => {
    const made = await h.database.db.transaction().execute(async (trx) => {
      const app = await createApplication(trx, h.tenant.tenantId, { displayName: 'CA importer' }, 'automation');
      await grantPermissions(trx, h.tenant.tenantId, app.id, ['Policy.ReadWrite.ConditionalAccess']);
      return { app, secret: await addPassword(trx, h.tenant.tenantId, app.id, {}, new Date()) };
    });
    const token = await clientCredentialsToken(h.tenant.tokenEndpoint, made.app.appId, made.secret.secretText!);
    const methods = { name: 'm.json', content: json('msgraph-docs/authenticationMethodsPolicy.get.v1.json') };
    const denied = await h.call('POST', '/graph/v1.0/policies/gatehouseImport', { token, body: { documents: [methods], dryRun: true } });
    assert.equal(denied.status, 403);
    assert.match(denied.body.error.message, /Policy\.ReadWrite\.AuthenticationMethod/);
    const ok = await h.call('POST', '/graph/v1.0/policies/gatehouseImport', { token, body: { documents: [{ name: 'p.json', content: json('Fortigi-ConditionalAccess/CA-01-_All_Apps_-_All_Admins_-_Require_MFA.json') }], dryRun: true } });
    assert.equal(ok.status, 200);

    const reader = await h.database.db.transaction().execute(async (trx) => {
      const app = await createApplication(trx, h.tenant.tenantId, { displayName: 'Reader' }, 'automation');
      await grantPermissions(trx, h.tenant.tenantId, app.id, ['Policy.Read.All']);
      return { app, secret: await addPassword(trx, h.tenant.tenantId, app.id, {}, new Date()) };
    });
    const readerToken = await clientCredentialsToken(h.tenant.tokenEndpoint, reader.app.appId, reader.secret.secretText!);
    const r = await h.call('POST', '/graph/v1.0/policies/gatehouseImport', { token: readerToken, body: { documents: [{ name: 'p.json', content: {} }] } });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /Policy\.ReadWrite\.ConditionalAccess/);
  });

  test('malformed request bodies are 400 naming the field; unreadable documents are report items, not failures', async () => {
    const bad = await h.call('POST', '/graph/v1.0/policies/gatehouseImport', { body: { documents: [] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.target, 'documents');
    const r = await h.call('POST', '/graph/v1.0/policies/gatehouseImport', {
      body: { documents: [{ name: 'broken.json', content: '{"displayName": ' }, { name: 'empty.json', content: '' }, { name: 'number.json', content: 42 }], dryRun: true },
    });
    assert.equal(r.status, 200);
    const items = r.body.items as Item[];
    assert.deepEqual(items.map((i) => [i.file, i.kind, i.status]), [['broken.json', 'file', 'invalid'], ['empty.json', 'file', 'invalid'], ['number.json', 'unrecognised', 'unrecognised']]);
    assert.match(items[0]!.findings[0]!.reason, /not valid JSON/);
    assert.equal(r.body.summary.unreadableFiles, 2);
  });
});

describe('gatehouse policies import (CLI)', () => {
  let env: Record<string, string>;
  let dir: string;
  let close: () => Promise<void>;
  let exports: string;
  before(async () => {
    ({ env, dir, close } = await cliTenant('gatehouse-cli-import-'));
    // A folder as an export tool leaves it: the j0eyv policies and named locations (one policy
    // back in its upstream UTF-16LE-with-BOM encoding), a broken file, and files to skip.
    exports = join(dir, 'exports');
    const j0eyv = join(FIXTURES, 'j0eyv-ConditionalAccessBaseline');
    mkdirSync(join(exports, 'named-locations'), { recursive: true });
    for (const e of INDEX.filter((x) => x.file.startsWith('j0eyv-'))) {
      const rel = e.file.slice('j0eyv-ConditionalAccessBaseline/'.length);
      mkdirSync(join(exports, rel, '..'), { recursive: true });
      const text = readFileSync(join(j0eyv, rel), 'utf8');
      if (rel.startsWith('policies/CA000')) writeFileSync(join(exports, rel), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replace(/\n/g, '\r\n'), 'utf16le')]));
      else writeFileSync(join(exports, rel), text);
    }
    writeFileSync(join(exports, 'broken.json'), '{ "displayName": "half a policy"');
    writeFileSync(join(exports, 'index.json'), '{"entries": []}');
    writeFileSync(join(exports, 'LICENSE.json'), '{}');
    writeFileSync(join(exports, 'README.md'), '# not JSON');
  });
  after(async () => {
    await close();
  });

  test('on a folder: prints the counts and a line per item; --dry-run writes nothing; --json parses', async () => {
    const text = await runCli(['policies', 'import', exports, '--dry-run'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Dry run \(nothing was written\): 40 files, 1 unreadable/);
    assert.match(text.stdout, /Conditional Access policies: \d+ stored, \d+ stored disabled, 0 invalid, 0 not stored/);
    assert.match(text.stdout, /named locations: +2 stored, 1 invalid/);
    assert.match(text.stdout, /storedDisabled +caPolicy +CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA \(enabled → disabled\)/);
    assert.match(text.stdout, /conditions\.users\.excludeGroups\.0 \(CA-4\): invalid reference: no group/);
    assert.ok(!text.stdout.includes('index.json') && !text.stdout.includes('LICENSE'));

    const real = await runCli(['policies', 'import', exports, '--json'], env);
    assert.equal(real.code, 0, real.stderr);
    const report = JSON.parse(real.stdout) as Report;
    assert.equal(report.dryRun, false);
    assert.equal(report.summary.files, 40);
    assert.equal(report.summary.policies.stored + report.summary.policies.storedDisabled, 36);
    const utf16 = report.items.find((i) => i.file.endsWith('policies/CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA.json'))!;
    assert.equal(utf16.status, 'storedDisabled');
    assert.match(utf16.message ?? '', /UTF-16LE with a byte-order mark/);
    const broken = report.items.find((i) => i.file.endsWith('broken.json'))!;
    assert.deepEqual([broken.kind, broken.status, broken.findings[0]!.rule], ['file', 'invalid', 'JSON']);
    // The j0eyv policies reference the j0eyv named locations by the ids the import kept.
    assert.ok(report.items.every((i) => !i.findings.some((f) => /no named location 185c993e/.test(f.reason))));
  });
});
