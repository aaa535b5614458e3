import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** Row types of every table, as Kysely sees them. Timestamps are timestamptz, returned as Date. */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface TenantTable {
  id: string;
  display_name: string;
  created_at: CreatedAt;
}

export interface UserTable {
  id: string;
  tenant_id: string;
  user_principal_name: string;
  display_name: string;
  account_enabled: boolean;
  user_type: string;
  mail: string | null;
  mail_nickname: string | null;
  sign_in_sessions_valid_from: Timestamp;
  created_at: CreatedAt;
}

export interface GroupTable {
  id: string;
  tenant_id: string;
  display_name: string;
  description: string | null;
  mail_nickname: string;
  created_at: CreatedAt;
}

export interface GroupMemberTable {
  tenant_id: string;
  group_id: string;
  member_id: string;
  member_type: 'user' | 'group';
}

export interface RoleAssignmentTable {
  id: string;
  tenant_id: string;
  role_definition_id: string;
  principal_id: string;
  directory_scope_id: string;
  created_at: CreatedAt;
}

export interface ApplicationTable {
  id: string;
  tenant_id: string;
  app_id: string;
  display_name: string;
  /** 'firstParty' | 'automation' | 'registered' */
  kind: string;
  web_redirect_uris: JSONColumnType<string[]>;
  spa_redirect_uris: JSONColumnType<string[]>;
  public_client_redirect_uris: JSONColumnType<string[]>;
  created_at: CreatedAt;
}

export interface ApplicationSecretTable {
  key_id: string;
  tenant_id: string;
  application_id: string;
  display_name: string | null;
  hint: string;
  /** base64url SHA-256 of the secret; the secret itself is shown once and never stored. */
  secret_hash: string;
  start_date_time: Timestamp;
  end_date_time: Timestamp;
}

export interface ApplicationPermissionTable {
  tenant_id: string;
  application_id: string;
  permission: string;
}

export interface SigningKeyTable {
  kid: string;
  tenant_id: string;
  alg: string;
  private_jwk: JSONColumnType<Record<string, unknown>>;
  created_at: CreatedAt;
  /** When a newer key took over signing; the key stays published until `publish_until`. */
  retired_at: Timestamp | null;
  publish_until: Timestamp | null;
}

export interface OidcArtefactTable {
  model: string;
  id: string;
  tenant_id: string;
  payload: JSONColumnType<Record<string, unknown>>;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  account_id: string | null;
  expires_at: Timestamp | null;
  consumed_at: Timestamp | null;
}

export interface MethodsPolicyTable {
  tenant_id: string;
  document: JSONColumnType<Record<string, unknown>>;
  last_modified: Timestamp;
}

export interface Fido2MethodTable {
  id: string;
  tenant_id: string;
  user_id: string;
  credential_id: string;
  /** base64url COSE public key */
  public_key: string;
  sign_count: number;
  display_name: string;
  aaguid: string;
  model: string | null;
  passkey_type: 'deviceBound' | 'synced';
  backed_up: boolean;
  transports: JSONColumnType<string[]>;
  attestation_format: string;
  attestation_verified: boolean;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  possibly_cloned_at: Timestamp | null;
}

export interface TemporaryAccessPassTable {
  id: string;
  tenant_id: string;
  user_id: string;
  code_hash: string;
  created_at: Timestamp;
  start_at: Timestamp;
  lifetime_minutes: number;
  is_usable_once: boolean;
  used_at: Timestamp | null;
}

export interface PasswordMethodTable {
  user_id: string;
  tenant_id: string;
  hash: string;
  created_at: Timestamp;
}

export interface SoftwareOathMethodTable {
  id: string;
  tenant_id: string;
  user_id: string;
  secret: string;
  last_used_step: number | null;
  created_at: Timestamp;
}

export interface WebauthnChallengeTable {
  challenge: string;
  tenant_id: string;
  flow_id: string;
  user_id: string | null;
  purpose: 'registration' | 'authentication';
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
}

export interface ThrottleTable {
  tenant_id: string;
  key: string;
  record: JSONColumnType<Record<string, unknown>>;
  updated_at: Timestamp;
}

export interface SignInFlowTable {
  id: string;
  tenant_id: string;
  user_id: string | null;
  state: JSONColumnType<Record<string, unknown>>;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface DirectoryAuditTable {
  id: string;
  tenant_id: string;
  activity_date_time: Timestamp;
  activity_display_name: string;
  result: string;
  correlation_id: string;
  target_user_id: string | null;
  record: JSONColumnType<Record<string, unknown>>;
  /** LOG-4 filter columns (0005), copies of the record's fields. */
  category: ColumnType<string, string | undefined, string>;
  logged_by_service: ColumnType<string, string | undefined, string>;
  /** Lower-cased ids of `targetResources`. */
  target_ids: ColumnType<string[], string[] | undefined, string[]>;
  initiated_by_user_id: string | null;
  initiated_by_app_id: string | null;
  /** LOG-3 hash chain (0006, domain/auditChain.ts): per-tenant gapless seq, the previous record's hash, this one's. */
  seq: number;
  prev_hash: string;
  hash: string;
}

/** LOG-3 (0006): the last seq and hash of each tenant's audit chain; its row lock serialises writers. */
export interface AuditChainHeadTable {
  tenant_id: string;
  seq: number;
  hash: string;
}

/** LOG-4 retention (0006): a signed stand-in for a pruned prefix of a tenant's audit chain. */
export interface AuditCheckpointTable {
  id: string;
  tenant_id: string;
  first_seq: number;
  last_seq: number;
  last_hash: string;
  pruned_count: number;
  oldest_activity_date_time: Timestamp;
  newest_activity_date_time: Timestamp;
  created_at: Timestamp;
  signature: string;
}

/** LOG-4 retention windows per tenant (0006); no row means the defaults. */
export interface LogRetentionPolicyTable {
  tenant_id: string;
  sign_in_retention_in_days: number;
  audit_retention_in_days: number;
  modified_at: Timestamp;
}

export interface SignInTable {
  id: string;
  tenant_id: string;
  created_date_time: Timestamp;
  user_id: string | null;
  user_principal_name: string | null;
  app_id: string | null;
  ip_address: string | null;
  error_code: number;
  correlation_id: string;
  record: JSONColumnType<Record<string, unknown>>;
  /** LOG-4 filter columns (0005), copies of the record's fields. */
  conditional_access_status: ColumnType<string, string | undefined, string>;
  is_interactive: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface ServerSecretTable {
  name: string;
  value: string;
  created_at: CreatedAt;
}

export interface MigrationTable {
  version: number;
  name: string;
  applied_at: CreatedAt;
}

export interface PolicyDocumentTable {
  tenant_id: string;
  id: string;
  display_name: string;
  document: JSONColumnType<Record<string, unknown>>;
  created_at: Timestamp;
  modified_at: Timestamp;
}
export interface ConditionalAccessPolicyTable extends PolicyDocumentTable {
  state: string;
}
export interface PlatformSettingsTable {
  tenant_id: string;
  document: JSONColumnType<Record<string, unknown>>;
  modified_at: Timestamp;
}
export interface PolicyVersionTable {
  tenant_id: string;
  version: ColumnType<string, string | number | bigint, string | number | bigint>;
}
/** WIF-2: the policy snapshot stored under each version (migration 7). */
export interface PolicyHistoryTable {
  tenant_id: string;
  version: ColumnType<string, string | number | bigint, string | number | bigint>;
  snapshot: JSONColumnType<Record<string, unknown>>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/** RCV-1..RCV-3 (migration 9, docs/recovery.md). */
export interface RecoveryPolicyTable {
  tenant_id: string;
  require_approval_for_admins: boolean;
  require_approval_for_all: boolean;
  grace_period_in_days: number;
  webhook_url: string | null;
  webhook_secret: string | null;
  modified_at: Timestamp;
}
export interface RecoveryCaseTable {
  id: string;
  tenant_id: string;
  user_id: string;
  state: 'pendingApproval' | 'active' | 'completed' | 'cancelled';
  verification: JSONColumnType<{ method: string; reference: string; note: string | null }>;
  opened_by: JSONColumnType<Record<string, unknown>>;
  approved_by: JSONColumnType<Record<string, unknown>> | null;
  requested_method_ids: JSONColumnType<string[]> | null;
  suspended_method_ids: JSONColumnType<string[], string | undefined, string>;
  restored_method_ids: JSONColumnType<string[], string | undefined, string>;
  deleted_method_ids: JSONColumnType<string[], string | undefined, string>;
  tap_id: string | null;
  correlation_id: string;
  grace_period_ends_at: Timestamp | null;
  completed_by_method_id: string | null;
  created_at: Timestamp;
  modified_at: Timestamp;
  effective_at: Timestamp | null;
  completed_at: Timestamp | null;
  cancelled_at: Timestamp | null;
  cleaned_up_at: Timestamp | null;
}
export interface MethodSuspensionTable {
  method_id: string;
  tenant_id: string;
  user_id: string;
  method_type: 'fido2' | 'softwareOath';
  case_id: string;
  suspended_at: Timestamp;
}
export interface NotificationOutboxTable {
  id: string;
  tenant_id: string;
  case_id: string | null;
  correlation_id: string;
  event: string;
  url: string;
  payload: JSONColumnType<Record<string, unknown>>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
  delivered_at: Timestamp | null;
  failed_at: Timestamp | null;
  created_at: Timestamp;
}

/** PLT-5: a user's snoozes of the registration campaign's nudge (migration 8). */
export interface CampaignSnoozeTable {
  tenant_id: string;
  user_id: string;
  snooze_count: number;
  snoozed_until: Timestamp;
  last_snoozed_at: Timestamp;
}

export interface Database {
  tenants: TenantTable;
  users: UserTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  role_assignments: RoleAssignmentTable;
  applications: ApplicationTable;
  application_secrets: ApplicationSecretTable;
  application_permissions: ApplicationPermissionTable;
  signing_keys: SigningKeyTable;
  oidc_artefacts: OidcArtefactTable;
  gatehouse_migrations: MigrationTable;
  server_secrets: ServerSecretTable;
  authentication_methods_policies: MethodsPolicyTable;
  fido2_methods: Fido2MethodTable;
  temporary_access_passes: TemporaryAccessPassTable;
  password_methods: PasswordMethodTable;
  software_oath_methods: SoftwareOathMethodTable;
  webauthn_challenges: WebauthnChallengeTable;
  throttles: ThrottleTable;
  sign_in_flows: SignInFlowTable;
  directory_audits: DirectoryAuditTable;
  audit_chain_heads: AuditChainHeadTable;
  audit_checkpoints: AuditCheckpointTable;
  log_retention_policies: LogRetentionPolicyTable;
  sign_ins: SignInTable;
  authentication_strengths: PolicyDocumentTable;
  conditional_access_policies: ConditionalAccessPolicyTable;
  named_locations: PolicyDocumentTable;
  platform_settings: PlatformSettingsTable;
  policy_versions: PolicyVersionTable;
  policy_history: PolicyHistoryTable;
  recovery_policies: RecoveryPolicyTable;
  recovery_cases: RecoveryCaseTable;
  method_suspensions: MethodSuspensionTable;
  notification_outbox: NotificationOutboxTable;
  campaign_snoozes: CampaignSnoozeTable;
}

export type { Generated };
