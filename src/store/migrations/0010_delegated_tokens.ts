/**
 * Delegated Graph tokens for the first-party apps (docs/developer-guide.md, "Delegated Graph
 * tokens"). The security-info gate (PLT-1..PLT-3) decides over the methods performed in the
 * sign-in a token came from, so every Grant made by a sign-in remembers that sign-in's flow.
 * First-party apps get a Grant per sign-in, so a Grant names exactly one flow.
 */
export const statements = `
CREATE TABLE oidc_grant_sign_ins (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  grant_id text NOT NULL,
  flow_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, grant_id)
);
CREATE INDEX oidc_grant_sign_ins_expiry ON oidc_grant_sign_ins (expires_at);
`;
