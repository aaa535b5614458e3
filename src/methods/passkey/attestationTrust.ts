/**
 * Attestation trust (PK-2): does an attestation certificate chain (x5c) lead to a trust anchor,
 * with every certificate valid at `now`?
 *
 * Our own code on node:crypto, not simplewebauthn's `validateCertificatePath`, for two reasons:
 * the library reads the wall clock (`new Date()`) with no way to pass a time, and it downloads
 * CRLs from URLs inside the certificates during verification. Revocation is covered instead by
 * MDS3 status reports when metadata is loaded (see aaguid.ts).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { ZERO_AAGUID, type TrustAnchors } from './aaguid.ts';

export interface AnchorCandidates {
  description: string;
  roots: readonly X509Certificate[];
}

/**
 * The roots an attestation may chain to: the model's metadata statement (by AAGUID, or for
 * fido-u2f by attestation key identifier) when there is one, else the roots configured for the
 * format. A statement binds roots to a model, so a certificate from vendor A cannot vouch for an
 * AAGUID of vendor B.
 */
export function anchorsFor(
  trust: TrustAnchors,
  attestation: { fmt: string; aaguid: string; leaf: X509Certificate },
): AnchorCandidates | undefined {
  const keyId = attestation.fmt === 'fido-u2f' ? attestationKeyIdentifier(attestation.leaf) : undefined;
  const models = trust.models.filter(
    (m) =>
      // The all-zero AAGUID names no model (U2F keys are found by key identifier instead).
      (attestation.aaguid !== ZERO_AAGUID && m.aaguid === attestation.aaguid) ||
      (keyId !== undefined && m.keyIdentifiers.includes(keyId)),
  );
  if (models.length > 0) {
    return {
      description: models.map((m) => `metadata statement "${m.description}" (${m.source})`).join(', '),
      roots: models.flatMap((m) => m.roots),
    };
  }
  const byFormat = trust.formats.get(attestation.fmt);
  return byFormat && byFormat.roots.length > 0 ? byFormat : undefined;
}

/** FIDO U2F key identifier: hex SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 (1)). */
export function attestationKeyIdentifier(cert: X509Certificate): string | undefined {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  const outer = readTlv(spki, 0);
  if (!outer || outer.tag !== 0x30) return undefined;
  const alg = readTlv(spki, outer.start);
  if (!alg) return undefined;
  const bits = readTlv(spki, alg.end);
  if (!bits || bits.tag !== 0x03) return undefined;
  // Skip the "unused bits" byte.
  return createHash('sha1').update(spki.subarray(bits.start + 1, bits.end)).digest('hex');
}

function readTlv(buf: Uint8Array, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > buf.length) return undefined;
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || start + n > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | buf[start + i]!;
    start += n;
  }
  const end = start + len;
  return end <= buf.length ? { tag, start, end } : undefined;
}

export type ChainResult = { ok: true; path: readonly X509Certificate[] } | { ok: false; detail: string };

const MAX_PATH_LENGTH = 6;

function name(cert: X509Certificate): string {
  return (cert.subject ?? '').replace(/\n/g, ', ');
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Build a path leaf → x5c intermediates → one of `roots`, then require every certificate on it
 * to be valid at `now` and every issuer to be a CA. A root may also be an intermediate CA
 * (MDS statements sometimes list those); the path stops at the first trusted certificate.
 */
export function validateAttestationChain(
  x5c: readonly Uint8Array[],
  roots: readonly X509Certificate[],
  now: Date,
): ChainResult {
  let certs: X509Certificate[];
  try {
    certs = x5c.map((der) => new X509Certificate(der));
  } catch {
    return { ok: false, detail: 'an x5c certificate does not parse' };
  }
  const [leaf, ...intermediates] = certs;
  if (!leaf) return { ok: false, detail: 'x5c is empty' };

  const path: X509Certificate[] = [leaf];
  let current = leaf;
  let anchored = false;
  for (let depth = 0; depth < MAX_PATH_LENGTH && !anchored; depth++) {
    if (roots.some((r) => r.raw.equals(current.raw))) {
      anchored = true;
      break;
    }
    const root = roots.find((r) => issuedBy(current, r));
    if (root) {
      path.push(root);
      anchored = true;
      break;
    }
    const next = intermediates.find((c) => !path.includes(c) && issuedBy(current, c));
    if (!next) break;
    path.push(next);
    current = next;
  }
  if (!anchored) {
    return {
      ok: false,
      detail: `certificate chain from "${name(leaf)}" (issuer "${(current.issuer ?? '').replace(/\n/g, ', ')}") does not lead to a trust anchor`,
    };
  }

  for (const [i, cert] of path.entries()) {
    if (cert.validFromDate > now || cert.validToDate < now) {
      return {
        ok: false,
        detail: `certificate "${name(cert)}" is valid from ${cert.validFromDate.toISOString()} to ${cert.validToDate.toISOString()}, not at ${now.toISOString()}`,
      };
    }
    // RFC 5280 §6.1: a trust anchor is trusted by configuration, whatever its extensions (the
    // FIDO conformance root is a v1 certificate); an intermediate must be a CA.
    const isAnchor = i === path.length - 1;
    if (i > 0 && !isAnchor && !cert.ca) return { ok: false, detail: `intermediate certificate "${name(cert)}" is not a CA` };
  }
  return { ok: true, path };
}
