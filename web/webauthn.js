/* global navigator, atob, btoa */
// WebAuthn in JSON for the sign-in page and the security-info portal: base64url conversion and
// passkey creation from the server's creation options (PublicKeyCredentialCreationOptionsJSON) to
// the registration response JSON the server verifies (RegistrationResponseJSON).

export const fromB64url = (s) => {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
};

export const toB64url = (buf) => {
  let bin = '';
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/**
 * `navigator.credentials.create()` for the options JSON. A browser refusal becomes an Error with
 * a sentence for the user; `existsMessage` is said when the authenticator already holds one of
 * the user's passkeys (InvalidStateError).
 */
export async function createPasskey(o, existsMessage) {
  const publicKey = {
    ...o,
    challenge: fromB64url(o.challenge),
    user: { ...o.user, id: fromB64url(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: fromB64url(c.id) })),
  };
  let cred;
  try {
    cred = await navigator.credentials.create({ publicKey });
  } catch (err) {
    throw new Error(err && err.name === 'NotAllowedError'
      ? 'The passkey prompt was cancelled or timed out. Try again.'
      : err && err.name === 'InvalidStateError'
        ? existsMessage
        : `The browser could not create a passkey: ${err && err.message ? err.message : err}`);
  }
  const r = cred.response;
  const response = {
    clientDataJSON: toB64url(r.clientDataJSON), attestationObject: toB64url(r.attestationObject),
    transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
  };
  if (typeof r.getAuthenticatorData === 'function') response.authenticatorData = toB64url(r.getAuthenticatorData());
  if (typeof r.getPublicKeyAlgorithm === 'function') response.publicKeyAlgorithm = r.getPublicKeyAlgorithm();
  return {
    id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, response,
    clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
    authenticatorAttachment: cred.authenticatorAttachment || null,
  };
}
