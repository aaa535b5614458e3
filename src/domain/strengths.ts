import { z } from 'zod';
import { ValidationError } from './errors.ts';

/**
 * STR-1..3: authentication strengths. Modes use Graph's `authenticationMethodModes` vocabulary;
 * a combination is a comma-joined set of modes that together satisfy the strength.
 */
export const AUTHENTICATION_METHOD_MODES = [
  'password', 'voice', 'hardwareOath', 'softwareOath', 'sms', 'fido2', 'windowsHelloForBusiness',
  'microsoftAuthenticatorPush', 'deviceBasedPush', 'temporaryAccessPassOneTime', 'temporaryAccessPassMultiUse',
  'email', 'x509CertificateSingleFactor', 'x509CertificateMultiFactor', 'federatedSingleFactor', 'federatedMultiFactor',
  'qrCodePin',
] as const;
export type AuthenticationMethodMode = (typeof AUTHENTICATION_METHOD_MODES)[number];

/** MTH-1: the modes this server can perform. Every other mode is "not available on this server". */
export const IMPLEMENTED_MODES: readonly string[] = ['fido2', 'temporaryAccessPassOneTime', 'temporaryAccessPassMultiUse', 'password', 'softwareOath'];

/** Modes a user can register in the security-info portal here (PLT-4, PLT-5). */
export const REGISTRABLE_MODES: readonly string[] = ['fido2'];

/** Phishing-resistant modes (STR-1's Phishing-resistant MFA). */
export const PHISHING_RESISTANT_MODES: readonly string[] = ['fido2', 'windowsHelloForBusiness', 'x509CertificateMultiFactor'];

/** Which authentication methods policy configuration governs a mode (STR-3: "each method is allowed for the user"). */
export const MODE_CONFIGURATION: Readonly<Record<string, string>> = {
  fido2: 'Fido2', temporaryAccessPassOneTime: 'TemporaryAccessPass', temporaryAccessPassMultiUse: 'TemporaryAccessPass',
  password: 'Password', softwareOath: 'SoftwareOath', hardwareOath: 'HardwareOath', sms: 'Sms', voice: 'Voice',
  email: 'Email', microsoftAuthenticatorPush: 'MicrosoftAuthenticator', deviceBasedPush: 'MicrosoftAuthenticator',
  x509CertificateSingleFactor: 'X509Certificate', x509CertificateMultiFactor: 'X509Certificate',
  windowsHelloForBusiness: 'WindowsHelloForBusiness', federatedSingleFactor: 'Federation', federatedMultiFactor: 'Federation',
  qrCodePin: 'QRCodePin',
};

/**
 * The combinations Entra accepts in a strength (Graph's `authenticationStrength/combinations`).
 * A custom strength may use only these.
 */
export const VALID_COMBINATIONS: readonly string[] = [
  'windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor', 'deviceBasedPush', 'temporaryAccessPassOneTime',
  'temporaryAccessPassMultiUse', 'password,microsoftAuthenticatorPush', 'password,softwareOath', 'password,hardwareOath',
  'password,x509CertificateSingleFactor', 'password,x509CertificateMultiFactor', 'password,sms', 'password,voice',
  'federatedMultiFactor', 'microsoftAuthenticatorPush,federatedSingleFactor', 'softwareOath,federatedSingleFactor',
  'hardwareOath,federatedSingleFactor', 'sms,federatedSingleFactor', 'voice,federatedSingleFactor',
  'x509CertificateSingleFactor', 'sms', 'password', 'federatedSingleFactor', 'email', 'qrCodePin',
];

/** The same combination however its modes are ordered or spaced. */
export function canonicalCombination(c: string): string {
  return c.split(',').map((m) => m.trim()).filter(Boolean).sort().join(',');
}
const VALID_CANONICAL = new Map(VALID_COMBINATIONS.map((c) => [canonicalCombination(c), c]));

export type CombinationConfiguration = {
  '@odata.type': string;
  id: string;
  appliesToCombinations: string[];
  /** fido2CombinationConfiguration */
  allowedAAGUIDs?: string[];
  [k: string]: unknown;
};

export type AuthenticationStrength = {
  id: string;
  displayName: string;
  description: string | null;
  policyType: 'builtIn' | 'custom';
  requirementsSatisfied: 'none' | 'mfa';
  allowedCombinations: string[];
  combinationConfigurations: CombinationConfiguration[];
  createdDateTime: string;
  modifiedDateTime: string;
};

export const MFA_STRENGTH_ID = '00000000-0000-0000-0000-000000000002';
export const PASSWORDLESS_STRENGTH_ID = '00000000-0000-0000-0000-000000000003';
export const PHISHING_RESISTANT_STRENGTH_ID = '00000000-0000-0000-0000-000000000004';

const BUILT_IN_DATE = '2021-12-01T00:00:00Z';
function builtIn(id: string, displayName: string, description: string, allowedCombinations: string[]): AuthenticationStrength {
  return Object.freeze({
    id, displayName, description, policyType: 'builtIn', requirementsSatisfied: 'mfa', allowedCombinations: Object.freeze(allowedCombinations) as string[],
    combinationConfigurations: [], createdDateTime: BUILT_IN_DATE, modifiedDateTime: BUILT_IN_DATE,
  }) as AuthenticationStrength;
}

/** STR-1: the built-ins, read-only, with Entra's ids and exactly these combinations. */
export const BUILT_IN_STRENGTHS: readonly AuthenticationStrength[] = Object.freeze([
  builtIn(MFA_STRENGTH_ID, 'Multifactor authentication', 'Combinations of methods that satisfy strong authentication, such as a password + SMS', [
    'windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor', 'deviceBasedPush', 'temporaryAccessPassOneTime',
    'temporaryAccessPassMultiUse', 'password,microsoftAuthenticatorPush', 'password,softwareOath', 'password,hardwareOath',
    'password,x509CertificateSingleFactor', 'password,x509CertificateMultiFactor', 'password,sms', 'password,voice',
    'federatedMultiFactor', 'microsoftAuthenticatorPush,federatedSingleFactor', 'softwareOath,federatedSingleFactor',
    'hardwareOath,federatedSingleFactor', 'sms,federatedSingleFactor', 'voice,federatedSingleFactor',
  ]),
  builtIn(PASSWORDLESS_STRENGTH_ID, 'Passwordless MFA', 'Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator', [
    'windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor', 'deviceBasedPush',
  ]),
  builtIn(PHISHING_RESISTANT_STRENGTH_ID, 'Phishing-resistant MFA', 'Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key', [
    'windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor',
  ]),
]);

export const MAX_CUSTOM_STRENGTHS = 15; // STR-2

const aaguid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be an AAGUID').transform((s) => s.toLowerCase());

const combinationConfigurationInput = z.looseObject({
  '@odata.type': z.string().max(200),
  id: z.string().max(64).optional(),
  appliesToCombinations: z.array(z.string().max(200)).min(1, 'must name at least one combination').max(25),
  allowedAAGUIDs: z.array(aaguid).max(500).optional(),
});

export const strengthCreate = z.looseObject({
  '@odata.type': z.string().optional(),
  displayName: z.string().trim().min(1, 'is required').max(30, 'must be at most 30 characters'),
  description: z.string().max(256, 'must be at most 256 characters').nullish(),
  policyType: z.literal('custom', "must be 'custom' (built-in strengths can't be created)").optional(),
  requirementsSatisfied: z.enum(['none', 'mfa']).optional(),
  allowedCombinations: z.array(z.string().max(200)).min(1, 'must list at least one combination (STR-2)').max(25),
  combinationConfigurations: z.array(combinationConfigurationInput).max(25).optional(),
});
export const strengthUpdate = z.strictObject({
  '@odata.type': z.string().optional(),
  displayName: z.string().trim().min(1, 'is required').max(30, 'must be at most 30 characters').optional(),
  description: z.string().max(256, 'must be at most 256 characters').nullish(),
});

/** STR-2: each combination must be one Entra accepts; returns them in Entra's spelling, without duplicates. */
export function validateCombinations(combos: readonly string[], field = 'allowedCombinations'): string[] {
  const out: string[] = [];
  combos.forEach((c, i) => {
    const valid = VALID_CANONICAL.get(canonicalCombination(c));
    if (!valid) {
      const unknown = c.split(',').map((m) => m.trim()).find((m) => !(AUTHENTICATION_METHOD_MODES as readonly string[]).includes(m));
      throw new ValidationError(`${field}.${i}`, 'STR-2', unknown
        ? `STR-2: '${c.slice(0, 100)}' names '${unknown.slice(0, 60)}', which is not an authentication method mode.`
        : `STR-2: '${c.slice(0, 100)}' is not a valid combination of authentication method modes (see /policies/authenticationStrengthPolicies/authenticationCombinations).`);
    }
    if (!out.includes(valid)) out.push(valid);
  });
  return out;
}

/** STR-2: combination configurations apply to combinations of the strength; fido2 ones restrict AAGUIDs. */
export function validateCombinationConfigurations(
  configs: readonly z.output<typeof combinationConfigurationInput>[], combinations: readonly string[], newId: () => string,
): CombinationConfiguration[] {
  return configs.map((c, i) => {
    const applies = c.appliesToCombinations.map((a, j) => {
      const canon = canonicalCombination(a);
      const own = combinations.find((x) => canonicalCombination(x) === canon);
      if (!own) throw new ValidationError(`combinationConfigurations.${i}.appliesToCombinations.${j}`, 'STR-2', `STR-2: '${a.slice(0, 100)}' is not one of this strength's allowedCombinations.`);
      return own;
    });
    if (c['@odata.type'] === '#microsoft.graph.fido2CombinationConfiguration') {
      if (applies.some((a) => a !== 'fido2')) throw new ValidationError(`combinationConfigurations.${i}.appliesToCombinations`, 'STR-2', "STR-2: a fido2CombinationConfiguration applies to the 'fido2' combination only.");
      if (!c.allowedAAGUIDs || c.allowedAAGUIDs.length === 0) throw new ValidationError(`combinationConfigurations.${i}.allowedAAGUIDs`, 'STR-2', 'STR-2: a fido2CombinationConfiguration must list at least one allowed AAGUID.');
    }
    return { ...c, id: c.id ?? newId(), appliesToCombinations: applies } as CombinationConfiguration;
  });
}

/** The fido2 AAGUIDs a strength allows, or undefined when any passkey will do (STR-3). */
export function allowedAaguidsOf(strength: AuthenticationStrength): string[] | undefined {
  const c = strength.combinationConfigurations.find((x) => x['@odata.type'] === '#microsoft.graph.fido2CombinationConfiguration' && x.appliesToCombinations.includes('fido2'));
  return c?.allowedAAGUIDs?.map((a) => a.toLowerCase());
}
