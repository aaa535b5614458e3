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
  sign_ins: SignInTable;
  authentication_strengths: PolicyDocumentTable;
  conditional_access_policies: ConditionalAccessPolicyTable;
  named_locations: PolicyDocumentTable;
  platform_settings: PlatformSettingsTable;
  policy_versions: PolicyVersionTable;
}

export type { Generated };
