import { z } from 'zod';
import { ValidationError } from './errors.ts';
import { guid } from './validation.ts';

/**
 * MTH-1, MTH-2: the authentication methods policy with Graph's v1.0 shapes. Gatehouse
 * implements Fido2, TemporaryAccessPass, Password and SoftwareOath; every other configuration
 * (Sms, MicrosoftAuthenticator, …) is accepted and stored so imported policies load, and is
 * reported as not available on this server.
 */
export const IMPLEMENTED_METHODS = ['Fido2', 'TemporaryAccessPass', 'Password', 'SoftwareOath'] as const;
export type ImplementedMethod = (typeof IMPLEMENTED_METHODS)[number];

const target = z.looseObject({
  targetType: z.literal('group', "must be 'group'"),
  id: z.union([z.literal('all_users'), guid], "must be 'all_users' or a group id"),
  isRegistrationRequired: z.boolean().optional(),
});
const excludeTarget = z.strictObject({ targetType: z.literal('group', "must be 'group'"), id: guid });
const state = z.enum(['enabled', 'disabled'], "must be 'enabled' or 'disabled'");
const aaguid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be an AAGUID').transform((s) => s.toLowerCase());
const lifetime = (name: string) => z.number().int(`${name} must be a whole number of minutes`).min(10, `${name} must be at least 10 minutes (TAP-1)`).max(43200, `${name} must be at most 43200 minutes (30 days, TAP-1)`);

const common = {
  id: z.string(),
  state,
  includeTargets: z.array(target).max(50).default([{ targetType: 'group', id: 'all_users' }]),
  excludeTargets: z.array(excludeTarget).max(50).default([]),
};

export const fido2Configuration = z.strictObject({
  '@odata.type': z.literal('#microsoft.graph.fido2AuthenticationMethodConfiguration').default('#microsoft.graph.fido2AuthenticationMethodConfiguration'),
  ...common,
  id: z.literal('Fido2'),
  isSelfServiceRegistrationAllowed: z.boolean().default(true),
  isAttestationEnforced: z.boolean().default(false),
  keyRestrictions: z.strictObject({
    isEnforced: z.boolean().default(false),
    enforcementType: z.enum(['allow', 'block'], "must be 'allow' or 'block'").default('block'),
    aaGuids: z.array(aaguid).max(500).default([]),
  }).default({ isEnforced: false, enforcementType: 'block', aaGuids: [] }),
  /** Passkey types (PK-2), as Graph's passkey profile spells them: "deviceBound", "synced" or both. */
  passkeyProfiles: z.array(z.object({
    id: z.string(),
    name: z.string().optional(),
    passkeyTypes: z.string().regex(/^(deviceBound|synced)(,(deviceBound|synced))?$/, "must be 'deviceBound', 'synced' or 'deviceBound,synced'"),
  }).passthrough()).max(20).optional(),
});
export type Fido2Configuration = z.output<typeof fido2Configuration>;

export const tapConfiguration = z.strictObject({
  '@odata.type': z.literal('#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration').default('#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration'),
  ...common,
  id: z.literal('TemporaryAccessPass'),
  minimumLifetimeInMinutes: lifetime('minimumLifetimeInMinutes').default(60),
  maximumLifetimeInMinutes: lifetime('maximumLifetimeInMinutes').default(480),
  defaultLifetimeInMinutes: lifetime('defaultLifetimeInMinutes').default(60),
  defaultLength: z.number().int().min(8, 'defaultLength must be at least 8 (TAP-1)').max(48, 'defaultLength must be at most 48 (TAP-1)').default(8),
  isUsableOnce: z.boolean().default(false),
});
export type TapConfiguration = z.output<typeof tapConfiguration>;

export const passwordConfiguration = z.strictObject({
  '@odata.type': z.literal('#microsoft.graph.passwordAuthenticationMethodConfiguration').default('#microsoft.graph.passwordAuthenticationMethodConfiguration'),
  ...common,
  id: z.literal('Password'),
});
export const softwareOathConfiguration = z.strictObject({
  '@odata.type': z.literal('#microsoft.graph.softwareOathAuthenticationMethodConfiguration').default('#microsoft.graph.softwareOathAuthenticationMethodConfiguration'),
  ...common,
  id: z.literal('SoftwareOath'),
});
/** Methods Gatehouse doesn't implement: kept as given (MTH-1). */
export const otherConfiguration = z.object({ '@odata.type': z.string().max(200).optional(), ...common, id: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'must be a method configuration id') }).passthrough();

export type MethodConfiguration =
  | Fido2Configuration | TapConfiguration | z.output<typeof passwordConfiguration> | z.output<typeof softwareOathConfiguration> | z.output<typeof otherConfiguration>;

const SCHEMAS: Record<string, z.ZodType> = {
  Fido2: fido2Configuration, TemporaryAccessPass: tapConfiguration, Password: passwordConfiguration, SoftwareOath: softwareOathConfiguration,
};

/** Validate one configuration (a full replacement); throws ValidationError naming the field. */
export function parseMethodConfiguration(input: unknown, fieldPrefix = ''): MethodConfiguration {
  const id = (input as { id?: unknown } | null)?.id;
  if (typeof id !== 'string') throw new ValidationError(`${fieldPrefix}id`, 'required', `Property '${fieldPrefix}id' is required: the method configuration id (e.g. Fido2).`);
  const schema = SCHEMAS[id] ?? otherConfiguration;
  const r = schema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = fieldPrefix + (issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path).map(String).join('.');
    throw new ValidationError(field || `${fieldPrefix}id`, issue.code, issue.code === 'unrecognized_keys' ? `Property '${field}' is not supported on ${id}.` : `Invalid value for '${field}': ${issue.message}`);
  }
  const out = r.data as MethodConfiguration;
  if (out.id === 'TemporaryAccessPass') {
    const t = out as TapConfiguration;
    if (!(t.minimumLifetimeInMinutes <= t.defaultLifetimeInMinutes && t.defaultLifetimeInMinutes <= t.maximumLifetimeInMinutes)) {
      throw new ValidationError(`${fieldPrefix}defaultLifetimeInMinutes`, 'TAP-1',
        `TAP-1: lifetimes must satisfy minimumLifetimeInMinutes (${t.minimumLifetimeInMinutes}) <= defaultLifetimeInMinutes (${t.defaultLifetimeInMinutes}) <= maximumLifetimeInMinutes (${t.maximumLifetimeInMinutes}).`);
    }
  }
  return out;
}

export type MethodsPolicy = {
  id: 'authenticationMethodsPolicy';
  displayName: string;
  description: string;
  lastModifiedDateTime: string;
  policyVersion: string;
  registrationEnforcement: { authenticationMethodsRegistrationCampaign: Record<string, unknown> };
  authenticationMethodConfigurations: MethodConfiguration[];
};

/** MTH-2: a new tenant starts passwordless: passkeys and TAP on for all users, password and TOTP off. */
const DEFAULT_CONFIGURATIONS: readonly MethodConfiguration[] = Object.freeze([
  parseMethodConfiguration({ id: 'Fido2', state: 'enabled' }),
  parseMethodConfiguration({ id: 'TemporaryAccessPass', state: 'enabled' }),
  parseMethodConfiguration({ id: 'Password', state: 'disabled' }),
  parseMethodConfiguration({ id: 'SoftwareOath', state: 'disabled' }),
]);

export const DEFAULT_CAMPAIGN = { state: 'default', snoozeDurationInDays: 1, enforceRegistrationAfterAllowedSnoozes: true, includeTargets: [{ id: 'all_users', targetType: 'group', targetedAuthenticationMethod: 'fido2' }], excludeTargets: [] };

/** The stored document over the defaults: every implemented method always has a configuration. */
export function effectivePolicy(stored: { configurations?: unknown[]; registrationEnforcement?: unknown } | undefined, lastModified: Date | undefined): MethodsPolicy {
  // Stored configurations were validated whole when they were saved; reads (on every sign-in) don't re-parse them.
  const configs = new Map<string, MethodConfiguration>(DEFAULT_CONFIGURATIONS.map((c) => [c.id, c]));
  for (const c of (stored?.configurations ?? []) as MethodConfiguration[]) configs.set(c.id, c);
  return {
    id: 'authenticationMethodsPolicy',
    displayName: 'Authentication Methods Policy',
    description: 'The tenant-wide policy that controls which authentication methods are allowed in the tenant.',
    lastModifiedDateTime: (lastModified ?? new Date(0)).toISOString(),
    policyVersion: '1.5',
    registrationEnforcement: (stored?.registrationEnforcement as MethodsPolicy['registrationEnforcement']) ?? { authenticationMethodsRegistrationCampaign: DEFAULT_CAMPAIGN },
    authenticationMethodConfigurations: [...configs.values()],
  };
}

/**
 * MTH-2: is the method on for this user? Exclusion beats inclusion; targets are `all_users` or
 * groups (the caller passes the user's transitive group ids).
 */
export function methodEnabledFor(policy: MethodsPolicy, method: string, userGroupIds: readonly string[]): { enabled: boolean; why: string } {
  const c = policy.authenticationMethodConfigurations.find((x) => x.id === method);
  if (!c) return { enabled: false, why: `${method} has no configuration` };
  if (c.state !== 'enabled') return { enabled: false, why: `${method} is disabled in the authentication methods policy` };
  const excluded = c.excludeTargets.find((t) => userGroupIds.includes(t.id));
  if (excluded) return { enabled: false, why: `the user is in excluded group ${excluded.id} of ${method}` };
  const included = c.includeTargets.find((t) => t.id === 'all_users' || userGroupIds.includes(t.id));
  if (!included) return { enabled: false, why: `the user is in none of ${method}'s include targets` };
  return { enabled: true, why: `${method} is enabled for ${included.id === 'all_users' ? 'all users' : `group ${included.id}`}` };
}

export const methodConfigurationPatch = z.record(z.string(), z.unknown());
