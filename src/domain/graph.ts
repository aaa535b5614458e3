import { z } from 'zod';
import { guid, isCleanText, text } from './validation.ts';

/** zod schemas of the Graph resources the admin API accepts (DIR-2, DIR-3, DIR-5, DIR-4). */

const odataType = (t: string) => z.literal(t).optional();

// local-part@domain, Entra's length limits: 64 before the @, 256 in total.
export const userPrincipalName = z.string().max(256, 'must be at most 256 characters')
  .regex(/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
    'must be user@domain with no spaces (RFC 5322 local part, DNS domain)')
  .refine((s) => !s.startsWith('.') && !s.includes('..') && !s.includes('.@'), 'must not start or end its local part with a dot, or contain two dots in a row')
  .transform((s) => s.toLowerCase());

const mail = z.email('must be an e-mail address').max(256).nullable();
const userType = z.enum(['Member', 'Guest'], 'must be Member or Guest');

export const userCreate = z.strictObject({
  '@odata.type': odataType('#microsoft.graph.user'),
  accountEnabled: z.boolean().default(true),
  displayName: text(256),
  userPrincipalName,
  mailNickname: text(64).optional(),
  mail: mail.optional(),
  userType: userType.default('Member'),
  passwordProfile: z.never('passwords are not set through the user resource: Gatehouse is passwordless by default; use the password authentication method').optional(),
});
export type UserCreate = z.output<typeof userCreate>;

export const userUpdate = z.strictObject({
  '@odata.type': odataType('#microsoft.graph.user'),
  accountEnabled: z.boolean().optional(),
  displayName: text(256).optional(),
  userPrincipalName: userPrincipalName.optional(),
  mailNickname: text(64).optional(),
  mail: mail.optional(),
  userType: userType.optional(),
});
export type UserUpdate = z.output<typeof userUpdate>;

export const groupCreate = z.strictObject({
  '@odata.type': odataType('#microsoft.graph.group'),
  displayName: text(256),
  description: text(1024).nullable().optional(),
  mailNickname: text(64).optional(),
  mailEnabled: z.literal(false, 'must be false: Gatehouse groups are security groups').default(false),
  securityEnabled: z.literal(true, 'must be true: Gatehouse groups are security groups').default(true),
  groupTypes: z.array(z.string()).max(0, 'must be empty: Microsoft 365 (Unified) and dynamic groups are not supported').default([]),
});
export type GroupCreate = z.output<typeof groupCreate>;

export const groupUpdate = z.strictObject({
  '@odata.type': odataType('#microsoft.graph.group'),
  displayName: text(256).optional(),
  description: text(1024).nullable().optional(),
  mailNickname: text(64).optional(),
});
export type GroupUpdate = z.output<typeof groupUpdate>;

/** `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}` — any base URL, the last segment is the id. */
export const memberRef = z.strictObject({
  '@odata.id': z.string().max(2048).regex(/\/(?:directoryObjects|users|groups)\/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a URL ending in /directoryObjects/{id}, /users/{id} or /groups/{id} with a GUID id")
    .transform((s) => s.slice(-36).toLowerCase()),
});

export const roleAssignmentCreate = z.strictObject({
  '@odata.type': odataType('#microsoft.graph.unifiedRoleAssignment'),
  roleDefinitionId: guid,
  principalId: guid,
  directoryScopeId: z.literal('/', "must be '/': only tenant-wide assignments are supported").default('/'),
});
export type RoleAssignmentCreate = z.output<typeof roleAssignmentCreate>;

const redirectUri = z.string().max(2048).refine(isCleanText, 'must not contain control characters or malformed Unicode').refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:' || /^[a-z][a-z0-9+.-]*:$/.test(u.protocol)) && !u.hash;
  } catch {
    return false;
  }
}, 'must be an absolute URI without a fragment');

const redirectUris = z.strictObject({ redirectUris: z.array(redirectUri).max(256).default([]) });

export const applicationCreate = z.strictObject({
  '@odata.type': odataType('#microsoft.graph.application'),
  appId: guid.optional(),
  displayName: text(256),
  signInAudience: z.literal('AzureADMyOrg', 'must be AzureADMyOrg: applications are single-tenant').optional(),
  web: redirectUris.optional(),
  spa: redirectUris.optional(),
  publicClient: redirectUris.optional(),
});
export type ApplicationCreate = z.output<typeof applicationCreate>;

export const applicationUpdate = z.strictObject({
  '@odata.type': odataType('#microsoft.graph.application'),
  displayName: text(256).optional(),
  web: redirectUris.optional(),
  spa: redirectUris.optional(),
  publicClient: redirectUris.optional(),
});
export type ApplicationUpdate = z.output<typeof applicationUpdate>;

export const addPassword = z.strictObject({
  passwordCredential: z.strictObject({
    displayName: text(256).optional(),
    endDateTime: z.iso.datetime({ offset: true }).refine((s) => new Date(s).getUTCFullYear() <= 9999, 'must be no later than 9999-12-31T23:59:59Z').optional(),
  }).optional(),
});
