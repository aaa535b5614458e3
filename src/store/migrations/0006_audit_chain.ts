/**
 * LOG-3 and LOG-4 retention (docs/logs-integrity.md, docs/decisions/0006-log-retention.md).
 *
 * - directory_audits gets `seq` (per tenant, gapless from 1), `prev_hash` and `hash`; the hash is
 *   defined in src/domain/auditChain.ts. Existing rows are chained here in (activity_date_time, id)
 *   order so that an upgraded database verifies: `gatehouse_canonical_json` is the SQL twin of
 *   domain/auditChain.ts canonicalJson (keys in byte order, jsonb's own escaping of strings and
 *   scalars, which equals JSON.stringify's for what records hold), used for the backfill only and
 *   dropped afterwards.
 * - audit_chain_heads: one row per tenant with the last seq and hash. writeAudit bumps it first
 *   thing, so its row lock serialises the audit writers of one tenant until they commit.
 * - audit_checkpoints: what pruning leaves in place of a chain prefix, HMAC-signed.
 * - log_retention_policies: the tenant's retention windows (absent row: the defaults).
 *
 * Servers of an older version still running against the database can't write audits once this
 * has run (seq is NOT NULL): upgrade them together. The runner splits statements at a semicolon
 * that ends a line: inside the function body no line ends with one.
 */
export const statements = `
    ALTER TABLE directory_audits ADD COLUMN seq bigint;
    ALTER TABLE directory_audits ADD COLUMN prev_hash text;
    ALTER TABLE directory_audits ADD COLUMN hash text;
    UPDATE directory_audits d SET seq = n.rn
      FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY activity_date_time, id) AS rn FROM directory_audits) n
      WHERE d.id = n.id;
    CREATE UNIQUE INDEX directory_audits_chain ON directory_audits (tenant_id, seq);
    CREATE FUNCTION gatehouse_canonical_json(j jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $fn$
    BEGIN
      IF jsonb_typeof(j) = 'object' THEN
        RETURN '{' || coalesce((SELECT string_agg(to_jsonb(e.k)::text || ':' || gatehouse_canonical_json(e.v), ',' ORDER BY e.k COLLATE "C") FROM jsonb_each(j) AS e(k, v)), '') || '}'
      ; ELSIF jsonb_typeof(j) = 'array' THEN
        RETURN '[' || coalesce((SELECT string_agg(gatehouse_canonical_json(a.v), ',' ORDER BY a.i) FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, i)), '') || ']'
      ; END IF
      ; RETURN j::text
    ; END
    $fn$;
    WITH RECURSIVE chain(id, tenant_id, seq, prev_hash, hash) AS (
      SELECT d.id, d.tenant_id, d.seq, repeat('0', 64),
        encode(sha256(convert_to('gatehouse-audit-v1' || chr(10) || repeat('0', 64) || chr(10) || d.seq::text || chr(10) || d.tenant_id::text || chr(10) || gatehouse_canonical_json(d.record), 'UTF8')), 'hex')
      FROM directory_audits d WHERE d.seq = 1
      UNION ALL
      SELECT d.id, d.tenant_id, d.seq, c.hash,
        encode(sha256(convert_to('gatehouse-audit-v1' || chr(10) || c.hash || chr(10) || d.seq::text || chr(10) || d.tenant_id::text || chr(10) || gatehouse_canonical_json(d.record), 'UTF8')), 'hex')
      FROM chain c JOIN directory_audits d ON d.tenant_id = c.tenant_id AND d.seq = c.seq + 1
    )
    UPDATE directory_audits d SET prev_hash = chain.prev_hash, hash = chain.hash FROM chain WHERE d.id = chain.id;
    DROP FUNCTION gatehouse_canonical_json(jsonb);
    ALTER TABLE directory_audits ALTER COLUMN seq SET NOT NULL;
    ALTER TABLE directory_audits ALTER COLUMN prev_hash SET NOT NULL;
    ALTER TABLE directory_audits ALTER COLUMN hash SET NOT NULL;
    CREATE TABLE audit_chain_heads (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      seq bigint NOT NULL,
      hash text NOT NULL
    );
    INSERT INTO audit_chain_heads (tenant_id, seq, hash)
      SELECT DISTINCT ON (tenant_id) tenant_id, seq, hash FROM directory_audits ORDER BY tenant_id, seq DESC;
    CREATE TABLE audit_checkpoints (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      first_seq bigint NOT NULL,
      last_seq bigint NOT NULL,
      last_hash text NOT NULL,
      pruned_count bigint NOT NULL,
      oldest_activity_date_time timestamptz NOT NULL,
      newest_activity_date_time timestamptz NOT NULL,
      created_at timestamptz NOT NULL,
      signature text NOT NULL,
      UNIQUE (tenant_id, last_seq)
    );
    CREATE TABLE log_retention_policies (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      sign_in_retention_in_days integer NOT NULL,
      audit_retention_in_days integer NOT NULL,
      modified_at timestamptz NOT NULL
    )
`;
