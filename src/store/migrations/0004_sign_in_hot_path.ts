/**
 * The sign-in hot path (docs/performance.md, "Sign-in flows").
 *
 * - Policy versions come from one sequence, so a version number is never used twice, not even by
 *   a write that rolled back. A policy snapshot cached under a version (possibly read inside the
 *   writing transaction, as the WIF-3 guard does) can then never be mistaken for the policies a
 *   later, different write commits under the same number (store/policies.ts).
 * - `gatehouse_sign_in_facts`: everything a sign-in decision needs about a user, and the tenant's
 *   policy version, as one JSON value (store/signInFacts.ts); the user by id, by user principal
 *   name, or as the owner of a passkey credential id (then with that passkey, as
 *   passkeys.passkeyByCredentialId reads it). A PL/pgSQL function so that each
 *   connection plans the statement once: as a plain query its planning cost more than running it.
 *   It reads exactly what users.findUser, groups.transitiveGroupIdsOf, roles.rolesOf,
 *   passkeys.passkeysOf, temporaryAccessPasses.passOf and passwordsAndOath.passwordOf and
 *   oathMethodsOf read. Changing it takes a new migration (CREATE OR REPLACE).
 *
 * The migration runner splits statements at a semicolon that ends a line: inside the function
 * body no line ends with one.
 */
export const statements = `
    CREATE SEQUENCE policy_version_seq;
    SELECT setval('policy_version_seq', (SELECT coalesce(max(version), 0) + 1 FROM policy_versions), false);
    CREATE FUNCTION gatehouse_sign_in_facts(p_tenant uuid, p_user uuid, p_upn text, p_credential text) RETURNS json
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
        'oathIds', (SELECT json_agg(o.id ORDER BY o.created_at) FROM software_oath_methods o WHERE o.user_id = uid)
      ) INTO result
      ; RETURN result
      ; END
    $fn$
`;
