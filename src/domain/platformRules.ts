import { z } from 'zod';

/**
 * PLT-1..PLT-5: the tenant's platform-rule settings (Gatehouse's own, not a Graph resource),
 * served at /graph/v1.0/policies/platformRulesPolicy. The registration campaign (PLT-5) lives in
 * the methods policy's `registrationEnforcement`, as in Graph.
 */
const settingFields = {
  /** PLT-3: with a usable phishing-resistant method, a TAP-only session can't open security info. */
  existingMethodStepUp: z.enum(['phishingResistant', 'off'], "must be 'phishingResistant' or 'off' (PLT-3)"),
  /** PLT-2: adding or changing a passkey needs a strong authentication this recent. */
  securityInfoFreshnessInMinutes: z.number().int().min(1, 'must be 1-60 minutes (PLT-2)').max(60, 'must be 1-60 minutes (PLT-2)'),
  /** PLT-2: how long a security-info session lasts after its strong authentication. */
  securityInfoSessionInMinutes: z.number().int().min(1, 'must be 1-240 minutes (PLT-2)').max(240, 'must be 1-240 minutes (PLT-2)'),
  /** PLT-4: ask for registration when a strength can't be met with the user's methods. */
  registrationInterrupt: z.enum(['enabled', 'disabled'], "must be 'enabled' or 'disabled' (PLT-4)"),
};
export const platformSettingsSchema = z.strictObject({
  existingMethodStepUp: settingFields.existingMethodStepUp.default('phishingResistant'),
  securityInfoFreshnessInMinutes: settingFields.securityInfoFreshnessInMinutes.default(5),
  securityInfoSessionInMinutes: settingFields.securityInfoSessionInMinutes.default(15),
  registrationInterrupt: settingFields.registrationInterrupt.default('enabled'),
});
export type PlatformSettings = z.output<typeof platformSettingsSchema>;
export const DEFAULT_PLATFORM_SETTINGS: PlatformSettings = Object.freeze(platformSettingsSchema.parse({}));
/** A PATCH names only what changes: no defaults here, or one setting's change would reset the others. */
export const platformSettingsPatch = z.strictObject(settingFields).partial().extend({ '@odata.type': z.string().optional(), id: z.literal('platformRulesPolicy').optional(), modifiedDateTime: z.string().optional() });

export const PLATFORM_RULES = {
  'PLT-1': 'Security-info gate',
  'PLT-2': 'Security-info freshness',
  'PLT-3': 'Existing-method step-up',
  'PLT-4': 'Registration interrupt',
  'PLT-5': 'Registration campaign',
  'PLT-6': 'Sign-in frequency and revocation',
} as const;
export type PlatformRuleId = keyof typeof PLATFORM_RULES;
