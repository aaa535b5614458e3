/**
 * WIF-2: policy history. Every policy write takes a new version from `policy_version_seq`
 * (migration 4) and, in the same transaction, stores the tenant's whole policy snapshot under that
 * version (store/policyHistory.ts), exactly as the engine sees it. A sign-in record names the
 * version it was decided under (`gatehousePolicyVersion`), so replay can load the same policies.
 *
 * `json`, not `jsonb`: the snapshot is read back with its keys in the order they were written,
 * byte for byte what the engine was given; nothing queries inside it. A rolled-back write leaves
 * no row (same transaction). Tenants that existed before this migration get their current
 * snapshot stored the first time replay needs it (store/policyHistory.ts `policySnapshotOfVersion`).
 */
export const statements = `
    CREATE TABLE policy_history (
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      version bigint NOT NULL,
      snapshot json NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, version)
    )
`;
