import { z } from 'zod';

/**
 * LOG-3: the per-tenant hash chain over directoryAudit records, as pure functions (the SHA-256 and
 * HMAC over these inputs are in store/auditChain.ts: domain does no crypto) so that the
 * writer (store/audit.ts), the verifier (flows/logs/integrity.ts), the migration's backfill (the
 * same definition in SQL, store/migrations/0006_audit_chain.ts) and an outside auditor
 * (docs/logs-integrity.md) all compute the same bytes.
 *
 *   hash(n) = hex(SHA-256( "gatehouse-audit-v1\n" + prevHash + "\n" + seq + "\n" + tenantId + "\n" + canonical(record) ))
 *
 * prevHash is hash(n-1), or GENESIS_HASH for seq 1; seq is a decimal integer; tenantId is the
 * lower-case GUID; canonical(record) is canonicalJson of the record exactly as stored.
 */
export const CHAIN_VERSION = 'gatehouse-audit-v1';
export const GENESIS_HASH = '0'.repeat(64);

/** Why a JSON value can't be hashed so that PostgreSQL's jsonb gives back the same bytes. */
export class NotCanonicalisable extends Error {}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const byCodePoint = (a: string, b: string) => Buffer.compare(utf8(a), utf8(b));

/**
 * Canonical JSON: no whitespace, object keys sorted by their UTF-8 bytes (Unicode code point
 * order), strings escaped as JSON.stringify does (which is also what PostgreSQL's jsonb output
 * does), numbers only as safe integers (jsonb keeps numerics as decimals: 1.0 would come back as
 * "1.0", 1e21 as 22 digits; records hold none). Strings with NUL or lone surrogates are refused
 * (jsonb can't hold them).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      if (value.includes('\0') || !value.isWellFormed()) throw new NotCanonicalisable('a string holds NUL or a lone surrogate');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new NotCanonicalisable(`the number ${value} is not a safe integer`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort(byCodePoint);
      return `{${keys.map((k) => `${canonicalJson(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default:
      throw new NotCanonicalisable(`a ${typeof value} is not JSON`);
  }
}

export type ChainLink = { prevHash: string; seq: number; tenantId: string; canonicalRecord: string };

export function chainHashInput(l: ChainLink): string {
  return `${CHAIN_VERSION}\n${l.prevHash}\n${l.seq}\n${l.tenantId.toLowerCase()}\n${l.canonicalRecord}`;
}


/**
 * A checkpoint stands for the pruned prefix `firstSeq..lastSeq` of a tenant's chain: the next
 * record's prev_hash must equal `lastHash`. Signed with HMAC-SHA256 over its canonical JSON.
 */
export type AuditCheckpoint = {
  id: string;
  tenantId: string;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  prunedCount: number;
  oldestActivityDateTime: string;
  newestActivityDateTime: string;
  createdDateTime: string;
};

export function checkpointSigningInput(c: AuditCheckpoint): string {
  return canonicalJson({
    v: 'gatehouse-audit-checkpoint-v1', id: c.id, tenantId: c.tenantId.toLowerCase(), firstSeq: c.firstSeq, lastSeq: c.lastSeq, lastHash: c.lastHash,
    prunedCount: c.prunedCount, oldestActivityDateTime: c.oldestActivityDateTime, newestActivityDateTime: c.newestActivityDateTime, createdDateTime: c.createdDateTime,
  });
}

// ---------------------------------------------------------------------------------------------
// LOG-4 retention (docs/decisions/0006-log-retention.md)

export const RETENTION_DEFAULTS = { signInRetentionInDays: 30, auditRetentionInDays: 365 } as const;
export const RETENTION_BOUNDS = { signInRetentionInDays: { min: 1, max: 3650 }, auditRetentionInDays: { min: 30, max: 3650 } } as const;

const days = (b: { min: number; max: number }) => z.number().int('must be a whole number of days').min(b.min, `must be at least ${b.min} days`).max(b.max, `must be at most ${b.max} days`);

export const logRetentionSchema = z.strictObject({
  signInRetentionInDays: days(RETENTION_BOUNDS.signInRetentionInDays),
  auditRetentionInDays: days(RETENTION_BOUNDS.auditRetentionInDays),
});
export type LogRetention = z.infer<typeof logRetentionSchema>;
/** PATCH: any subset; the server-set `id`, `modifiedDateTime` and `@odata.*` are ignored by the caller of this schema. */
export const logRetentionPatch = logRetentionSchema.partial();

const DAY_MS = 86_400_000;
/** Records strictly older than this instant are outside the window. */
export function retentionCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}
