/**
 * Passkeys (WebAuthn, method `fido2`): options, verification and the Fido2 policy checks.
 * Knows nothing about HTTP, storage or tenants: everything, the clock included, comes in.
 */
export { registrationOptions, authenticationOptions, SUPPORTED_ALGORITHM_IDS, CEREMONY_TIMEOUT_MS } from './options.ts';
export type { RegistrationOptionsInput, AuthenticationOptionsInput } from './options.ts';
export {
  DEFAULT_FIDO2_POLICY,
  checkKeyRestrictions,
  checkPasskeyType,
  checkSignCounter,
  passkeyTypeOf,
} from './policy.ts';
export type { Fido2Policy, Fido2KeyRestrictions, PasskeyType, PolicyCheck, CounterCheck } from './policy.ts';
export { verifyPasskeyRegistration } from './verifyRegistration.ts';
export type { VerifyPasskeyRegistrationInput, RegisteredPasskey, PasskeyRegistrationResult } from './verifyRegistration.ts';
export { verifyPasskeyAuthentication } from './verifyAuthentication.ts';
export type { VerifyPasskeyAuthenticationInput, StoredPasskey, PasskeyAuthenticationResult } from './verifyAuthentication.ts';
export {
  AuthenticatorCatalogError,
  ZERO_AAGUID,
  buildTrustAnchors,
  defaultAaguidNames,
  loadAuthenticatorCatalog,
  modelName,
  normalizeAaguid,
  parseAaguidNames,
  parseMetadataDocument,
  parseMetadataStatement,
} from './aaguid.ts';
export type {
  AaguidNames,
  AuthenticatorCatalog,
  LoadCatalogOptions,
  MetadataStatement,
  ModelTrustAnchor,
  TrustAnchors,
  TrustAnchorsInput,
} from './aaguid.ts';
export type { PasskeyFailure, PasskeyFailureReason } from './result.ts';
