/**
 * Directory constants (DIR-4, DIR-5, DIR-6): Entra's role template ids, the first-party apps
 * every tenant has, and the Graph application permissions the admin API checks.
 */

export type RoleTemplate = { id: string; displayName: string; description: string };

/** DIR-4: Entra's built-in role template ids and names. */
export const ROLE_TEMPLATES: readonly RoleTemplate[] = [
  { id: '62e90394-69f5-4237-9190-012177145e10', displayName: 'Global Administrator', description: 'Can manage all aspects of the directory.' },
  { id: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13', displayName: 'Privileged Authentication Administrator', description: 'Can access to view, set and reset authentication method information for any user (admin or non-admin).' },
  { id: 'c4e39bd9-1100-46d3-8c65-fb160da0071f', displayName: 'Authentication Administrator', description: 'Can access to view, set and reset authentication method information for any non-admin user.' },
  { id: '0526716b-113d-4c15-b2c8-68e3c22b9f80', displayName: 'Authentication Policy Administrator', description: 'Can create and manage the authentication methods policy, tenant-wide MFA settings and authentication strengths.' },
  { id: 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9', displayName: 'Conditional Access Administrator', description: 'Can manage Conditional Access capabilities.' },
  { id: '194ae4cb-b126-40b2-bd5b-6091b380977d', displayName: 'Security Administrator', description: 'Can read security information and reports, and manage security policies.' },
  { id: '5d6b6bb7-de71-4623-b4af-96380a352509', displayName: 'Security Reader', description: 'Can read security information and reports.' },
  { id: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451', displayName: 'Global Reader', description: 'Can read everything that a Global Administrator can, but not update anything.' },
  { id: '4a5d8f65-41da-4de4-8968-e035b65339cf', displayName: 'Reports Reader', description: 'Can read sign-in and audit reports.' },
  { id: 'fe930be7-5e62-47db-91af-98c3a49a38b1', displayName: 'User Administrator', description: 'Can manage all aspects of users and groups.' },
];

export const GLOBAL_ADMINISTRATOR = '62e90394-69f5-4237-9190-012177145e10';

export function roleTemplate(id: string): RoleTemplate | undefined {
  return ROLE_TEMPLATES.find((r) => r.id === id);
}

export type FirstPartyApp = { appId: string; displayName: string; key: 'securityInfo' | 'adminConsole' | 'deviceRegistration' };

/**
 * DIR-5: the three first-party apps. Their appIds are Entra's own ("My Signins", "Azure Portal",
 * "Device Registration Service"), so exported Conditional Access policies that name them keep
 * meaning the same thing here.
 */
export const FIRST_PARTY_APPS: readonly FirstPartyApp[] = [
  { key: 'securityInfo', appId: '19db86c3-b2b9-44cc-b339-36da233a3be2', displayName: 'My Sign-Ins' },
  { key: 'adminConsole', appId: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c', displayName: 'Gatehouse admin console' },
  { key: 'deviceRegistration', appId: '01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9', displayName: 'Device Registration Service' },
];

/** DIR-6: Graph application permissions Gatehouse understands. */
export const GRAPH_PERMISSIONS = [
  'User.Read.All',
  'User.ReadWrite.All',
  'User.RevokeSessions.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'GroupMember.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'RoleManagement.Read.Directory',
  'RoleManagement.ReadWrite.Directory',
  'Application.Read.All',
  'Application.ReadWrite.All',
  'UserAuthenticationMethod.Read.All',
  'UserAuthenticationMethod.ReadWrite.All',
  'Policy.Read.All',
  'Policy.ReadWrite.AuthenticationMethod',
  'Policy.ReadWrite.ConditionalAccess',
  'AuditLog.Read.All',
] as const;
export type GraphPermission = (typeof GRAPH_PERMISSIONS)[number];

export function isGraphPermission(p: string): p is GraphPermission {
  return (GRAPH_PERMISSIONS as readonly string[]).includes(p);
}

/** Which permissions open a route family: any one of the list suffices (Graph's least-privilege tables). */
export const ROUTE_PERMISSIONS = {
  'users.read': ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'users.write': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'users.revokeSessions': ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'groups.read': ['Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'groups.write': ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  'groups.members.write': ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  'roles.read': ['RoleManagement.Read.Directory', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'roles.write': ['RoleManagement.ReadWrite.Directory'],
  'applications.read': ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'applications.write': ['Application.ReadWrite.All'],
  'methods.read': ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'],
  'methods.write': ['UserAuthenticationMethod.ReadWrite.All'],
  'policy.read': ['Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod', 'Policy.ReadWrite.ConditionalAccess'],
  'policy.methods.write': ['Policy.ReadWrite.AuthenticationMethod'],
  'policy.ca.write': ['Policy.ReadWrite.ConditionalAccess'],
  'audit.read': ['AuditLog.Read.All'],
} as const satisfies Record<string, readonly GraphPermission[]>;
export type RouteScope = keyof typeof ROUTE_PERMISSIONS;

export function permits(granted: readonly string[], scope: RouteScope): boolean {
  const needed: readonly string[] = ROUTE_PERMISSIONS[scope];
  return granted.some((p) => needed.includes(p));
}

const READ_PERMISSIONS = GRAPH_PERMISSIONS.filter((p) => /\.Read\.(All|Directory)$/.test(p));

/**
 * DIR-6 for interactive admins: the Graph permissions a directory role (DIR-4) carries when an
 * admin calls the API through the admin console (a delegated token). Route families check these;
 * the finer rules (TAP-9's split between admins and members, nobody for themselves, WIF-3) are
 * checked again by the flows against the admin's roles.
 */
export const ROLE_PERMISSIONS: Readonly<Record<string, readonly GraphPermission[]>> = {
  [GLOBAL_ADMINISTRATOR]: GRAPH_PERMISSIONS,
  // Privileged Authentication Administrator, Authentication Administrator
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13': ['User.Read.All', 'Group.Read.All', 'User.RevokeSessions.All', 'UserAuthenticationMethod.ReadWrite.All'],
  'c4e39bd9-1100-46d3-8c65-fb160da0071f': ['User.Read.All', 'Group.Read.All', 'User.RevokeSessions.All', 'UserAuthenticationMethod.ReadWrite.All'],
  // Authentication Policy Administrator
  '0526716b-113d-4c15-b2c8-68e3c22b9f80': ['User.Read.All', 'Group.Read.All', 'Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod'],
  // Conditional Access Administrator
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9': ['User.Read.All', 'Group.Read.All', 'Application.Read.All', 'Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
  // Security Administrator
  '194ae4cb-b126-40b2-bd5b-6091b380977d': ['User.Read.All', 'Group.Read.All', 'Application.Read.All', 'RoleManagement.Read.Directory', 'UserAuthenticationMethod.Read.All', 'Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess', 'Policy.ReadWrite.AuthenticationMethod', 'AuditLog.Read.All'],
  // Security Reader
  '5d6b6bb7-de71-4623-b4af-96380a352509': ['User.Read.All', 'Group.Read.All', 'Application.Read.All', 'RoleManagement.Read.Directory', 'UserAuthenticationMethod.Read.All', 'Policy.Read.All', 'AuditLog.Read.All'],
  // Global Reader
  'f2ef992c-3afb-46b9-b7cf-a126ee74c451': [...READ_PERMISSIONS, 'AuditLog.Read.All'],
  // Reports Reader
  '4a5d8f65-41da-4de4-8968-e035b65339cf': ['User.Read.All', 'AuditLog.Read.All'],
  // User Administrator
  'fe930be7-5e62-47db-91af-98c3a49a38b1': ['User.ReadWrite.All', 'User.RevokeSessions.All', 'Group.ReadWrite.All', 'GroupMember.ReadWrite.All', 'RoleManagement.Read.Directory', 'Application.Read.All'],
};

/** The union of the permissions of the roles held (DIR-4 → DIR-6). */
export function permissionsOfRoles(roleTemplateIds: readonly string[]): GraphPermission[] {
  return [...new Set(roleTemplateIds.flatMap((r) => ROLE_PERMISSIONS[r] ?? []))];
}
