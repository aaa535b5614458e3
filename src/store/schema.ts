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
}

export type { Generated };
