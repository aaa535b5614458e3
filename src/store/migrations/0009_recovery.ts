/**
 * RCV-1..RCV-3: recovery cases, the methods a case suspends, the tenant's recovery policy and the
 * outbox of webhook notifications (docs/recovery.md).
 *
 * - `recovery_cases`: one row per case. At most one open case (`pendingApproval` or `active`)
 *   per user (partial unique index), so two admins can't suspend the same methods twice.
 * - `method_suspensions`: which methods a case suspended. A suspended method is not deleted: it is
 *   unusable (`gatehouse_sign_in_facts` reports it) until it is restored or the clean-up deletes it
 *   after the grace period. One suspension per method.
 * - `recovery_policies`: per tenant; a missing row means the defaults.
 * - `notification_outbox`: written in the transaction of the step it reports; a delivery job
 *   (several processes may run it: rows are claimed with FOR UPDATE SKIP LOCKED and leased)
 *   posts them with retries.
 * - `gatehouse_sign_in_facts` (migration 4) gains `suspensions`: the user's suspended methods and
 *   the case that suspended each (store/signInFacts.ts).
 *
 * The migration runner splits statements at a semicolon that ends a line: inside the function
 * body no line ends with one.
 */
export const statements = `
    CREATE TABLE recovery_policies (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      require_approval_for_admins boolean NOT NULL DEFAULT true,
      require_approval_for_all boolean NOT NULL DEFAULT false,
      grace_period_in_days integer NOT NULL DEFAULT 7 CHECK (grace_period_in_days BETWEEN 0 AND 365),
      webhook_url text,
      webhook_secret text,
      modified_at timestamptz NOT NULL
    );
    CREATE TABLE recovery_cases (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      state text NOT NULL CHECK (state IN ('pendingApproval', 'active', 'completed', 'cancelled')),
      verification jsonb NOT NULL,
      opened_by jsonb NOT NULL,
      approved_by jsonb,
      requested_method_ids jsonb,
      suspended_method_ids jsonb NOT NULL DEFAULT '[]',
      restored_method_ids jsonb NOT NULL DEFAULT '[]',
      deleted_method_ids jsonb NOT NULL DEFAULT '[]',
      tap_id uuid,
      correlation_id uuid NOT NULL,
      grace_period_ends_at timestamptz,
      completed_by_method_id uuid,
      created_at timestamptz NOT NULL,
      modified_at timestamptz NOT NULL,
      effective_at timestamptz,
      completed_at timestamptz,
      cancelled_at timestamptz,
      cleaned_up_at timestamptz
    );
    CREATE INDEX recovery_cases_user ON recovery_cases (tenant_id, user_id, created_at);
    CREATE INDEX recovery_cases_state ON recovery_cases (tenant_id, state, created_at);
    CREATE UNIQUE INDEX recovery_cases_one_open ON recovery_cases (tenant_id, user_id) WHERE state IN ('pendingApproval', 'active');
    CREATE INDEX recovery_cases_cleanup ON recovery_cases (grace_period_ends_at) WHERE state = 'completed' AND cleaned_up_at IS NULL;
    CREATE TABLE method_suspensions (
      method_id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      method_type text NOT NULL CHECK (method_type IN ('fido2', 'softwareOath')),
      case_id uuid NOT NULL REFERENCES recovery_cases(id) ON DELETE CASCADE,
      suspended_at timestamptz NOT NULL
    );
    CREATE INDEX method_suspensions_user ON method_suspensions (user_id);
    CREATE INDEX method_suspensions_case ON method_suspensions (case_id);
    CREATE TABLE notification_outbox (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      case_id uuid,
      correlation_id uuid NOT NULL,
      event text NOT NULL,
      url text NOT NULL,
      payload jsonb NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      last_error text,
      delivered_at timestamptz,
      failed_at timestamptz,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
    CREATE OR REPLACE FUNCTION gatehouse_sign_in_facts(p_tenant uuid, p_user uuid, p_upn text, p_credential text) RETURNS json
    LANGUAGE plpgsql STABLE AS $fn$
    DECLARE
      uid uuid := p_user; credential json; result json
      ; BEGIN
      IF p_credential IS NOT NULL THEN
        SELECT row_to_json(c), c.user_id INTO credential, uid FROM fido2_methods c WHERE c.tenant_id = p_tenant AND c.credential_id = p_credential
      ; ELSIF uid IS NULL THEN SELECT u.id INTO uid FROM users u WHERE u.tenant_id = p_tenant AND u.user_principal_name = p_upn
      ; END IF
      ; WITH RECURSIVE outer_groups(id) AS (
        SELECT gm.group_id FROM group_members gm WHERE gm.tenant_id = p_tenant AND gm.member_id = uid
        UNION
        SELECT gm.group_id FROM group_members gm JOIN outer_groups og ON gm.member_id = og.id
      )
      SELECT json_build_object(
        'policyVersion', (SELECT pv.version FROM policy_versions pv WHERE pv.tenant_id = p_tenant),
        'credential', credential,
        'user', (SELECT row_to_json(u) FROM users u WHERE u.tenant_id = p_tenant AND u.id = uid),
        'groupIds', (SELECT json_agg(og.id) FROM outer_groups og),
        'roleIds', (SELECT json_agg(DISTINCT ra.role_definition_id) FROM role_assignments ra
          WHERE ra.tenant_id = p_tenant AND (ra.principal_id = uid OR ra.principal_id IN (SELECT og.id FROM outer_groups og))),
        'passkeys', (SELECT json_agg(f ORDER BY f.created_at) FROM fido2_methods f WHERE f.tenant_id = p_tenant AND f.user_id = uid),
        'pass', (SELECT row_to_json(p) FROM temporary_access_passes p WHERE p.tenant_id = p_tenant AND p.user_id = uid LIMIT 1),
        'hasPassword', EXISTS (SELECT 1 FROM password_methods pm WHERE pm.user_id = uid),
        'oathIds', (SELECT json_agg(o.id ORDER BY o.created_at) FROM software_oath_methods o WHERE o.user_id = uid),
        'suspensions', (SELECT json_agg(json_build_object('methodId', s.method_id, 'caseId', s.case_id)) FROM method_suspensions s WHERE s.user_id = uid)
      ) INTO result
      ; RETURN result
      ; END
    $fn$
`;
