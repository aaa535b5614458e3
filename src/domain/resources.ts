/** The Graph shapes of directory resources, as the admin API returns them (DIR-1..DIR-6). */

export type Tenant = { id: string; displayName: string; createdDateTime: string };

export type User = {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  mail: string | null;
  mailNickname: string | null;
  signInSessionsValidFromDateTime: string;
  createdDateTime: string;
};
export const USER_PROPERTIES = ['id', 'userPrincipalName', 'displayName', 'accountEnabled', 'userType', 'mail', 'mailNickname', 'signInSessionsValidFromDateTime', 'createdDateTime'] as const;

export type Group = {
  id: string;
  displayName: string;
  description: string | null;
  mailNickname: string;
  mailEnabled: false;
  securityEnabled: true;
  groupTypes: string[];
  createdDateTime: string;
};
export const GROUP_PROPERTIES = ['id', 'displayName', 'description', 'mailNickname', 'mailEnabled', 'securityEnabled', 'groupTypes', 'createdDateTime'] as const;

export type DirectoryObjectRef = { '@odata.type': '#microsoft.graph.user' | '#microsoft.graph.group'; id: string; displayName: string; userPrincipalName?: string };

export type RoleAssignment = {
  id: string;
  roleDefinitionId: string;
  principalId: string;
  directoryScopeId: string;
};

export type Application = {
  id: string;
  appId: string;
  displayName: string;
  signInAudience: 'AzureADMyOrg';
  web: { redirectUris: string[] };
  spa: { redirectUris: string[] };
  publicClient: { redirectUris: string[] };
  passwordCredentials: PasswordCredential[];
  /** Gatehouse: firstParty (DIR-5), automation (DIR-6) or registered. */
  gatehouseKind: 'firstParty' | 'automation' | 'registered';
  /** Gatehouse: Graph application permissions granted to this app (DIR-6). */
  gatehouseGraphPermissions: string[];
  createdDateTime: string;
};
export const APPLICATION_PROPERTIES = ['id', 'appId', 'displayName', 'signInAudience', 'web', 'spa', 'publicClient', 'passwordCredentials', 'gatehouseKind', 'gatehouseGraphPermissions', 'createdDateTime'] as const;

export type PasswordCredential = {
  keyId: string;
  displayName: string | null;
  hint: string;
  startDateTime: string;
  endDateTime: string;
  /** Only in the response that created it. */
  secretText: string | null;
};

export type Page<T> = { items: T[]; nextSkipToken: string | undefined };
