/** MTH-1..4, PK-1..6, TAP-1..10, LOG-1/LOG-2: methods, their policy, challenges, throttles, logs. */
export const statements = `
    CREATE TABLE authentication_methods_policies (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      document jsonb NOT NULL,
      last_modified timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE fido2_methods (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      credential_id text NOT NULL,
      public_key text NOT NULL,
      sign_count bigint NOT NULL DEFAULT 0,
      display_name text NOT NULL,
      aaguid text NOT NULL,
      model text,
      passkey_type text NOT NULL CHECK (passkey_type IN ('deviceBound', 'synced')),
      backed_up boolean NOT NULL DEFAULT false,
      transports jsonb NOT NULL DEFAULT '[]',
      attestation_format text NOT NULL,
      attestation_verified boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL,
      last_used_at timestamptz,
      possibly_cloned_at timestamptz,
      UNIQUE (tenant_id, credential_id)
    );
    CREATE INDEX fido2_methods_user ON fido2_methods (user_id);
    CREATE TABLE temporary_access_passes (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      code_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      start_at timestamptz NOT NULL,
      lifetime_minutes integer NOT NULL,
      is_usable_once boolean NOT NULL,
      used_at timestamptz,
      UNIQUE (tenant_id, user_id)
    );
    CREATE TABLE password_methods (
      user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      hash text NOT NULL,
      created_at timestamptz NOT NULL
    );
    CREATE TABLE software_oath_methods (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      secret text NOT NULL,
      last_used_step bigint,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX software_oath_methods_user ON software_oath_methods (user_id);
    CREATE TABLE webauthn_challenges (
      challenge text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      flow_id text NOT NULL,
      user_id uuid,
      purpose text NOT NULL CHECK (purpose IN ('registration', 'authentication')),
      expires_at timestamptz NOT NULL,
      consumed_at timestamptz
    );
    CREATE INDEX webauthn_challenges_expires ON webauthn_challenges (expires_at);
    CREATE TABLE throttles (
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      key text NOT NULL,
      record jsonb NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, key)
    );
    CREATE TABLE sign_in_flows (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid,
      state jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    );
    CREATE TABLE directory_audits (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      activity_date_time timestamptz NOT NULL,
      activity_display_name text NOT NULL,
      result text NOT NULL,
      correlation_id uuid NOT NULL,
      target_user_id uuid,
      record jsonb NOT NULL
    );
    CREATE INDEX directory_audits_tenant_time ON directory_audits (tenant_id, activity_date_time, id);
    CREATE INDEX directory_audits_target ON directory_audits (tenant_id, target_user_id);
    CREATE TABLE sign_ins (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      created_date_time timestamptz NOT NULL,
      user_id uuid,
      user_principal_name text,
      app_id text,
      ip_address text,
      error_code integer NOT NULL,
      correlation_id uuid NOT NULL,
      record jsonb NOT NULL
    );
    CREATE INDEX sign_ins_tenant_time ON sign_ins (tenant_id, created_date_time, id);
    CREATE INDEX sign_ins_user ON sign_ins (tenant_id, user_id);
`;
