/**
 * LOG-4: `/auditLogs/signIns` and `/auditLogs/directoryAudits` queries (store/logQueries.ts,
 * docs/logs.md).
 *
 * Both lists are read newest first, `(time DESC, id DESC)`, with a keyset cursor, so every
 * filter that narrows by an equality gets an index that leads with `tenant_id`, the equality
 * column(s), then `(time, id)`: the first page and every later page are one short index range
 * scan (PostgreSQL reads a btree backwards for DESC). The plain `(tenant_id, time, id)` indexes
 * of 0002 serve the unfiltered list and time windows.
 *
 * Sign-in records written before this migration get the fields of Graph's `signIn` they lack
 * (risk `none`, empty device and location: store/signIns.ts `signInDefaults`, store/logQueries.ts
 * `COMPLETE_SIGN_IN`).
 *
 * New columns for filters that were only inside `record` (filled by writeSignIn/writeAudit,
 * backfilled here): sign_ins.conditional_access_status and is_interactive; directory_audits.category,
 * logged_by_service, target_ids (the ids of `targetResources`, GIN-indexed for
 * `targetResources/any(t: t/id eq …)`), initiated_by_user_id and initiated_by_app_id.
 */
export const statements = `
    ALTER TABLE sign_ins ADD COLUMN conditional_access_status text NOT NULL DEFAULT 'notApplied';
    ALTER TABLE sign_ins ADD COLUMN is_interactive boolean NOT NULL DEFAULT true;
    UPDATE sign_ins SET
      conditional_access_status = coalesce(record->>'conditionalAccessStatus', 'notApplied'),
      is_interactive = coalesce((record->>'isInteractive')::boolean, true);
    UPDATE sign_ins SET record = jsonb_build_object(
        'userDisplayName', NULL, 'userPrincipalName', NULL, 'userId', NULL, 'appId', NULL, 'appDisplayName', NULL, 'ipAddress', NULL,
        'clientAppUsed', 'Browser', 'isInteractive', true, 'conditionalAccessStatus', 'notApplied', 'appliedConditionalAccessPolicies', '[]'::jsonb,
        'authenticationDetails', '[]'::jsonb, 'authenticationRequirement', 'singleFactorAuthentication', 'authenticationRequirementPolicies', '[]'::jsonb,
        'riskDetail', 'none', 'riskLevelAggregated', 'none', 'riskLevelDuringSignIn', 'none', 'riskState', 'none', 'riskEventTypes_v2', '[]'::jsonb,
        'resourceDisplayName', record -> 'appDisplayName', 'resourceId', record -> 'appId',
        'deviceDetail', jsonb_build_object('deviceId', '', 'displayName', '', 'operatingSystem', '', 'browser', '', 'isCompliant', false, 'isManaged', false, 'trustType', ''),
        'location', jsonb_build_object('city', NULL, 'state', NULL, 'countryOrRegion', NULL, 'geoCoordinates', NULL)
      ) || record
      WHERE NOT record ? 'riskState';
    DROP INDEX sign_ins_user;
    CREATE INDEX sign_ins_user_time ON sign_ins (tenant_id, user_id, created_date_time, id);
    CREATE INDEX sign_ins_upn_time ON sign_ins (tenant_id, lower(user_principal_name), created_date_time, id);
    CREATE INDEX sign_ins_app_time ON sign_ins (tenant_id, app_id, created_date_time, id);
    CREATE INDEX sign_ins_error_time ON sign_ins (tenant_id, error_code, created_date_time, id);
    CREATE INDEX sign_ins_correlation ON sign_ins (tenant_id, correlation_id);
    ALTER TABLE directory_audits ADD COLUMN category text NOT NULL DEFAULT '';
    ALTER TABLE directory_audits ADD COLUMN logged_by_service text NOT NULL DEFAULT '';
    ALTER TABLE directory_audits ADD COLUMN target_ids text[] NOT NULL DEFAULT '{}';
    ALTER TABLE directory_audits ADD COLUMN initiated_by_user_id uuid;
    ALTER TABLE directory_audits ADD COLUMN initiated_by_app_id text;
    UPDATE directory_audits SET
      category = coalesce(record->>'category', ''),
      logged_by_service = coalesce(record->>'loggedByService', ''),
      target_ids = ARRAY(SELECT lower(t->>'id') FROM jsonb_array_elements(coalesce(record->'targetResources', '[]'::jsonb)) AS t WHERE t->>'id' IS NOT NULL),
      initiated_by_user_id = CASE WHEN record#>>'{initiatedBy,user,id}' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (record#>>'{initiatedBy,user,id}')::uuid END,
      initiated_by_app_id = lower(record#>>'{initiatedBy,app,appId}');
    CREATE INDEX directory_audits_activity_time ON directory_audits (tenant_id, lower(activity_display_name), activity_date_time, id);
    CREATE INDEX directory_audits_correlation ON directory_audits (tenant_id, correlation_id);
    CREATE INDEX directory_audits_targets ON directory_audits USING gin (target_ids);
    CREATE INDEX directory_audits_initiator_time ON directory_audits (tenant_id, initiated_by_user_id, activity_date_time, id);
`;
