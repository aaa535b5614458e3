/**
 * One per-Grant store instead of two. Migration 0010's `oidc_grant_sign_ins` (Grant -> sign-in
 * flow, for a delegated Graph token's `gh_sif`) duplicated what every Grant already has: the
 * saved sign-in session that refreshes are re-decided over (oidc artefact model
 * `GatehouseSignInSession`, keyed and expiring with the Grant, src/oidc/refreshLog.ts), which now
 * also names the flow (`flowId`). The flows of Grants made before this migration are copied into
 * their saved sessions, so tokens issued after the upgrade still name their sign-in; then the
 * table goes.
 */
export const statements = `
UPDATE oidc_artefacts a SET payload = a.payload || jsonb_build_object('flowId', g.flow_id::text)
  FROM oidc_grant_sign_ins g
  WHERE a.model = 'GatehouseSignInSession' AND a.id = g.grant_id AND a.tenant_id = g.tenant_id;
DROP TABLE IF EXISTS oidc_grant_sign_ins;
`;
