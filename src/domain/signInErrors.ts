/**
 * SIG-2: sign-in failure codes. Where Entra documents an equivalent, its AADSTS number is used;
 * the 9001xx-9004xx codes are Gatehouse's own (docs/errors.md lists them all).
 */
export const SIGN_IN_ERRORS = {
  AccountDisabled: { code: 50057, text: 'User account is disabled.' },
  LockedOut: { code: 50053, text: 'Sign-in is locked because of too many failed attempts.' },
  InvalidCredentials: { code: 50126, text: 'Invalid user name or credential.' },
  MfaRequired: { code: 50076, text: 'Multifactor authentication required.' },
  TapInvalid: { code: 900101, text: 'The Temporary Access Pass is not valid for this user.' },
  TapNotYetValid: { code: 900102, text: 'The Temporary Access Pass is not valid yet.' },
  TapExpired: { code: 900103, text: 'The Temporary Access Pass has expired.' },
  TapOneTimeUsed: { code: 900104, text: 'The one-time Temporary Access Pass was already used.' },
  TapDisabledByPolicy: { code: 900105, text: 'Sign-in blocked by the Temporary Access Pass policy.' },
  NoTapForUser: { code: 900106, text: 'The user holds no Temporary Access Pass.' },
  UserNotFound: { code: 900107, text: 'No user with this user name.' },
  PasskeyUnknown: { code: 900201, text: 'The passkey is not registered in this tenant.' },
  PasskeyVerificationFailed: { code: 900202, text: 'The passkey assertion did not verify.' },
  PasskeyPossiblyCloned: { code: 900203, text: 'The passkey signature counter went backwards; the credential may be cloned.' },
  PasskeyDisabledByPolicy: { code: 900204, text: 'Sign-in blocked by the passkey (FIDO2) policy.' },
  ChallengeInvalid: { code: 900205, text: 'The WebAuthn challenge is unknown, used, expired or from another flow.' },
  PasskeySuspended: { code: 900206, text: 'The passkey is suspended by a recovery case (RCV-2).' },
  MethodSuspended: { code: 900207, text: 'The authenticator app is suspended by a recovery case (RCV-2).' },
  FlowExpired: { code: 900301, text: 'The sign-in flow is unknown or has expired.' },
  FlowNotGranted: { code: 900302, text: 'The sign-in flow has not been granted yet.' },
  RegistrationRequired: { code: 50079, text: 'The user must register a security method before continuing.' },
  BlockedByConditionalAccess: { code: 53003, text: 'Access has been blocked by Conditional Access policies.' },
  BlockedFromRegistering: { code: 53010, text: 'Security information registration is blocked by policy.' },
  SignInFrequency: { code: 70043, text: 'The session is older than the sign-in frequency allows; sign in again.' },
  SessionRevoked: { code: 50173, text: 'The session was revoked; sign in again.' },
  InvalidGrant: { code: 70000, text: 'The refresh token is not valid: unknown, already used, or for another app.' },
  ExpiredOrRevokedGrant: { code: 70008, text: 'The refresh token or its grant has expired or was revoked.' },
  SecurityInfoMfaRequired: { code: 900401, text: 'Opening security info needs multifactor authentication in this session (PLT-1).' },
  SecurityInfoNotFresh: { code: 900402, text: 'This security-info change needs a recent strong authentication (PLT-2).' },
  ExistingMethodRequired: { code: 900403, text: 'Sign in with an existing phishing-resistant method before changing security info (PLT-3).' },
  RegistrationNotPossibleInClient: { code: 900404, text: 'A required method would have to be registered, and this client cannot register one (PLT-4).' },
  NoMethodSatisfiesRequirement: { code: 900405, text: 'None of the user\'s usable methods satisfies a requirement, and none can be registered here.' },
} as const;
export type SignInErrorName = keyof typeof SIGN_IN_ERRORS;
