/**
 * AAGUID names (PK-5) and attestation trust anchors from metadata files (PK-2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import {
  AuthenticatorCatalogError,
  buildTrustAnchors,
  defaultAaguidNames,
  loadAuthenticatorCatalog,
  modelName,
  parseMetadataDocument,
} from '../../../../src/methods/passkey/aaguid.ts';
import { anchorsFor, attestationKeyIdentifier, validateAttestationChain } from '../../../../src/methods/passkey/attestationTrust.ts';

const FIXTURES = new URL('../../../fixtures/', import.meta.url);
const STATEMENTS_DIR = new URL('aaguid/fido2-net-lib-metadata-statements', FIXTURES).pathname;
const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8'));

function x5cOf(file: string, pointer: string[]): Uint8Array[] {
  const response = pointer.reduce((o, k) => o[k], readJson(file));
  const attStmt = decodeAttestationObject(new Uint8Array(Buffer.from(response.response.attestationObject, 'base64url'))).get('attStmt');
  return attStmt.get('x5c') ?? [];
}

test('PK-5: the shipped list names models; the all-zero AAGUID has no name', () => {
  assert.equal(modelName('CB69481E-8FF7-4039-93EC-0A2729A154A8'), 'YubiKey 5 Series');
  assert.equal(modelName('00000000-0000-0000-0000-000000000000'), undefined);
  assert.equal(modelName('01234567-89ab-cdef-0123-456789abcdef'), undefined);
  assert.ok(defaultAaguidNames().size > 300);
});

test('catalog: metadata statements and operator name files add and override names', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-aaguid-'));
  try {
    const names = join(dir, 'names.json');
    await writeFile(names, JSON.stringify({ 'CB69481E-8FF7-4039-93EC-0A2729A154A8': 'Our YubiKeys' }));
    const catalog = await loadAuthenticatorCatalog({ metadataPaths: [STATEMENTS_DIR], aaguidNameFiles: [names] });
    assert.equal(catalog.modelName('cb69481e-8ff7-4039-93ec-0a2729a154a8'), 'Our YubiKeys');
    assert.equal(catalog.modelName('00000000-0000-0000-0000-000000000004'), 'Virtual Packed authenticator');
    assert.equal(catalog.trustAnchors.models.length, 4);
    assert.deepEqual(catalog.trustAnchors.models[0]?.keyIdentifiers, ['564df7c0f8c655b6a11f6c4d19f3bf41e2fd0179']);
    // Apple and Google roots are there by default, bound to their formats.
    assert.deepEqual([...catalog.trustAnchors.formats.keys()].sort(), ['android-key', 'apple']);

    const bare = await loadAuthenticatorCatalog({ includeShippedNames: false, includePlatformRoots: false });
    assert.equal(bare.names.size, 0);
    assert.equal(bare.trustAnchors.formats.size, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('catalog: bad files stop start-up with AuthenticatorCatalogError naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-aaguid-'));
  try {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ 'not-an-aaguid': 'X' }));
    await assert.rejects(loadAuthenticatorCatalog({ aaguidNameFiles: [bad] }), (err: unknown) => {
      assert.ok(err instanceof AuthenticatorCatalogError);
      assert.equal(err.code, 'AuthenticatorCatalogInvalid');
      assert.match(err.message, /bad\.json: "not-an-aaguid" is not an AAGUID/);
      return true;
    });
    const badCert = join(dir, 'statement.json');
    await writeFile(badCert, JSON.stringify({ description: 'X', aaguid: '00000000-0000-0000-0000-000000000009', attestationRootCertificates: ['AAAA'] }));
    await assert.rejects(loadAuthenticatorCatalog({ metadataPaths: [badCert] }), AuthenticatorCatalogError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('MDS3 payload: entries whose latest status is a compromise are dropped', () => {
  const statement = readJson('aaguid/fido2-net-lib-metadata-statements/Secp256R1_Packed_Authenticator.json');
  const payload = {
    entries: [
      { aaguid: statement.aaguid, metadataStatement: statement, statusReports: [{ status: 'FIDO_CERTIFIED' }] },
      {
        metadataStatement: { ...statement, aaguid: '00000000-0000-0000-0000-000000000005' },
        statusReports: [{ status: 'FIDO_CERTIFIED' }, { status: 'ATTESTATION_KEY_COMPROMISE' }],
      },
      { aaid: '4e4e#4005' }, // UAF entries have no statement we use
    ],
  };
  const statements = parseMetadataDocument(payload, 'payload.json');
  assert.deepEqual(statements.map((s) => s.aaguid), ['00000000-0000-0000-0000-000000000004']);
});

test('PK-2 trust: an attestation chain must reach an anchor and be valid at the injected now', () => {
  const root = readJson('webauthn/w3c-webauthn-test-vectors/attestation-root.json').attestation_ca_cert_der_b64url;
  const anchors = [new X509Certificate(Buffer.from(root, 'base64url'))];
  const x5c = x5cOf('webauthn/w3c-webauthn-test-vectors/packed-es256.json', ['registration', 'response']);

  const ok = validateAttestationChain(x5c, anchors, new Date('2026-01-01T00:00:00Z'));
  assert.equal(ok.ok, true);
  const early = validateAttestationChain(x5c, anchors, new Date('2023-12-31T00:00:00Z'));
  assert.equal(early.ok, false);
  assert.match(early.ok ? '' : early.detail, /valid from 2024-01-01T00:00:00\.000Z .* not at 2023-12-31T00:00:00\.000Z/);

  const apple = buildTrustAnchors().formats.get('apple')!.roots;
  const elsewhere = validateAttestationChain(x5c, apple, new Date('2026-01-01T00:00:00Z'));
  assert.equal(elsewhere.ok, false);
  assert.match(elsewhere.ok ? '' : elsewhere.detail, /does not lead to a trust anchor/);
  assert.equal(validateAttestationChain([], anchors, new Date()).ok, false);
  assert.equal(validateAttestationChain([Uint8Array.of(1, 2, 3)], anchors, new Date()).ok, false);
});

test('PK-2 trust: statements bind roots to a model; U2F keys are found by key identifier', async () => {
  const catalog = await loadAuthenticatorCatalog({ metadataPaths: [STATEMENTS_DIR], formatRoots: { packed: [] } });
  const [leafDer] = x5cOf('webauthn/py_webauthn/registration/VerifyRegistrationResponseFIDOU2F__test_verify_attestation_from_fido_conformance.json', [
    'credential',
  ]);
  const leaf = new X509Certificate(leafDer!);
  assert.equal(attestationKeyIdentifier(leaf), '564df7c0f8c655b6a11f6c4d19f3bf41e2fd0179');

  const u2f = anchorsFor(catalog.trustAnchors, { fmt: 'fido-u2f', aaguid: '00000000-0000-0000-0000-000000000000', leaf });
  assert.match(u2f?.description ?? '', /Virtual Secp256K1 U2F authenticator/);
  // The same certificate presented as packed with the zero AAGUID names no model and no format root.
  assert.equal(anchorsFor(catalog.trustAnchors, { fmt: 'packed', aaguid: '00000000-0000-0000-0000-000000000000', leaf }), undefined);
  const packed = anchorsFor(catalog.trustAnchors, { fmt: 'packed', aaguid: '00000000-0000-0000-0000-000000000004', leaf });
  assert.match(packed?.description ?? '', /Virtual Packed authenticator/);
});
