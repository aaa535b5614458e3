/** STR-1..3, CA-1..6, PLT-1..5: strengths, Conditional Access, named locations, platform-rule settings. */
export const statements = `
    CREATE TABLE authentication_strengths (
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      id uuid NOT NULL,
      display_name text NOT NULL,
      document jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      modified_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id)
    );
    CREATE TABLE conditional_access_policies (
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      id uuid NOT NULL,
      display_name text NOT NULL,
      state text NOT NULL CHECK (state IN ('enabled', 'disabled', 'enabledForReportingButNotEnforced')),
      document jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      modified_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id)
    );
    CREATE TABLE named_locations (
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      id uuid NOT NULL,
      display_name text NOT NULL,
      document jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      modified_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id)
    );
    CREATE TABLE platform_settings (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      document jsonb NOT NULL,
      modified_at timestamptz NOT NULL
    );
    CREATE TABLE policy_versions (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      version bigint NOT NULL
    )
`;
