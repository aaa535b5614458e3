/** DIR-1..DIR-6, signing keys and oidc-provider artefacts. SQL stays within PostgreSQL 15. */
export const statements = `
    CREATE TABLE server_secrets (
      name text PRIMARY KEY,
      value text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE tenants (
      id uuid PRIMARY KEY,
      display_name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE users (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_principal_name text NOT NULL,
      display_name text NOT NULL,
      account_enabled boolean NOT NULL DEFAULT true,
      user_type text NOT NULL DEFAULT 'Member',
      mail text,
      mail_nickname text,
      sign_in_sessions_valid_from timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT users_upn_lower CHECK (user_principal_name = lower(user_principal_name)),
      UNIQUE (tenant_id, user_principal_name)
    );
    CREATE INDEX users_tenant_display_name ON users (tenant_id, display_name, id);
    CREATE TABLE groups (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      display_name text NOT NULL,
      description text,
      mail_nickname text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX groups_tenant_display_name ON groups (tenant_id, display_name, id);
    CREATE TABLE group_members (
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      group_id uuid NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
      member_id uuid NOT NULL,
      member_type text NOT NULL CHECK (member_type IN ('user', 'group')),
      PRIMARY KEY (group_id, member_id)
    );
    CREATE INDEX group_members_member ON group_members (member_id);
    CREATE TABLE role_assignments (
      id text NOT NULL,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      role_definition_id uuid NOT NULL,
      principal_id uuid NOT NULL,
      directory_scope_id text NOT NULL DEFAULT '/',
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      UNIQUE (tenant_id, role_definition_id, principal_id, directory_scope_id)
    );
    CREATE INDEX role_assignments_principal ON role_assignments (principal_id);
    CREATE TABLE applications (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      app_id uuid NOT NULL,
      display_name text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('firstParty', 'automation', 'registered')),
      web_redirect_uris jsonb NOT NULL DEFAULT '[]',
      spa_redirect_uris jsonb NOT NULL DEFAULT '[]',
      public_client_redirect_uris jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (tenant_id, app_id)
    );
    CREATE TABLE application_secrets (
      key_id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
      display_name text,
      hint text NOT NULL,
      secret_hash text NOT NULL,
      start_date_time timestamptz NOT NULL,
      end_date_time timestamptz NOT NULL
    );
    CREATE INDEX application_secrets_app ON application_secrets (application_id);
    CREATE TABLE application_permissions (
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
      permission text NOT NULL,
      PRIMARY KEY (application_id, permission)
    );
    CREATE TABLE signing_keys (
      kid text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      alg text NOT NULL,
      private_jwk jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      retired_at timestamptz,
      publish_until timestamptz
    );
    CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, created_at);
    CREATE TABLE oidc_artefacts (
      model text NOT NULL,
      id text NOT NULL,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      payload jsonb NOT NULL,
      grant_id text,
      user_code text,
      uid text,
      account_id text,
      expires_at timestamptz,
      consumed_at timestamptz,
      PRIMARY KEY (model, id)
    );
    CREATE INDEX oidc_artefacts_grant ON oidc_artefacts (grant_id) WHERE grant_id IS NOT NULL;
    CREATE INDEX oidc_artefacts_user_code ON oidc_artefacts (user_code) WHERE user_code IS NOT NULL;
    CREATE INDEX oidc_artefacts_uid ON oidc_artefacts (uid) WHERE uid IS NOT NULL;
    CREATE INDEX oidc_artefacts_account ON oidc_artefacts (tenant_id, account_id) WHERE account_id IS NOT NULL;
    CREATE INDEX oidc_artefacts_expires ON oidc_artefacts (expires_at);
`;
