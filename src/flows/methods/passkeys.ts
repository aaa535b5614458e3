import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../domain/errors.ts';
import { methodEnabledFor, type Fido2Configuration, type MethodsPolicy } from '../../domain/methodsPolicy.ts';
import { parseInput, text } from '../../domain/validation.ts';
import {
  registrationOptions, verifyPasskeyRegistration, type AuthenticatorCatalog, type Fido2Policy, type PasskeyFailureReason,
} from '../../methods/passkey/index.ts';
import { graphDateTime } from '../../methods/tap/index.ts';
import { consumeChallenge, saveChallenge } from '../../store/challenges.ts';
import { getMethodsPolicy } from '../../store/methodsPolicy.ts';
import { deletePasskey, insertPasskey, lockUserPasskeys, passkeysOf, type StoredFido2Method } from '../../store/passkeys.ts';
import { type MethodsContext, auditUserMethod, authorizeTarget, authorizedTarget, deleteUserMethod, loadTarget, type Target } from './context.ts';
import type { Db } from '../../store/database.ts';
import { completeRecoveryCaseOnRegistration } from '../recovery/completion.ts';

/** PK-1: where passkeys are bound. From configuration, checked on every ceremony. */
export type RelyingParty = { rpId: string; rpName: string; origins: string[]; catalog: AuthenticatorCatalog };

export const MAX_PASSKEYS_PER_USER = 10; // PK-5
export const CHALLENGE_LIFETIME_MS = 5 * 60_000; // PK-3

/** The tenant's Fido2 configuration as the passkey checks take it (PK-2). */
export function fido2PolicyOf(policy: MethodsPolicy): Fido2Policy {
  const c = policy.authenticationMethodConfigurations.find((x) => x.id === 'Fido2') as Fido2Configuration;
  const profile = c.passkeyProfiles?.find((p) => p.id === '00000000-0000-0000-0000-000000000001') ?? c.passkeyProfiles?.[0];
  const types = profile?.passkeyTypes.split(',') ?? ['deviceBound', 'synced'];
  return {
    isAttestationEnforced: c.isAttestationEnforced,
    keyRestrictions: { isEnforced: c.keyRestrictions.isEnforced, enforcementType: c.keyRestrictions.enforcementType, aaGuids: c.keyRestrictions.aaGuids },
    passkeyTypes: types.length === 2 ? 'both' : (types[0] as 'deviceBound' | 'synced'),
  };
}

/** Graph's fido2AuthenticationMethod, plus usability (MTH-3). */
export function toGraphPasskey(m: StoredFido2Method, usable: { isUsable: boolean; methodUsabilityReason: string }) {
  return {
    '@odata.type': '#microsoft.graph.fido2AuthenticationMethod',
    id: m.id,
    displayName: m.displayName,
    createdDateTime: graphDateTime(m.createdDateTime),
    aaGuid: m.aaguid,
    model: m.model,
    attestationCertificates: [],
    attestationLevel: m.attestationVerified ? 'attested' : 'notAttested',
    passkeyType: m.passkeyType,
    lastUsedDateTime: m.lastUsedDateTime ? graphDateTime(m.lastUsedDateTime) : null,
    isUsable: usable.isUsable,
    methodUsabilityReason: usable.methodUsabilityReason,
    possiblyClonedDateTime: m.possiblyClonedDateTime ? graphDateTime(m.possiblyClonedDateTime) : null,
    ...(m.suspendedByCaseId ? { gatehouseSuspendedByRecoveryCaseId: m.suspendedByCaseId } : {}),
  };
}

const provisioningFlow = (userId: string) => `admin-provisioning:${userId}`;
const userHandle = (userId: string) => Buffer.from(userId.replace(/-/g, ''), 'hex');

/**
 * Graph's `fido2Methods/creationOptions` for provisioning a security key on a user's behalf:
 * a single-use challenge bound to this user's provisioning flow, valid 5 minutes (PK-3).
 */
export async function adminCreationOptions(ctx: MethodsContext, rp: RelyingParty, userRef: string, random: (n: number) => Uint8Array = randomBytes) {
  return ctx.db.transaction().execute(async (trx) => {
    const target = await authorizedTarget(trx, ctx, userRef, 'write');
    return passkeyCreationOptions(trx, ctx.tenantId, rp, target, provisioningFlow(target.user.id), ctx.now, random);
  });
}

/**
 * WebAuthn creation options for `target` (PK-1), with a single-use challenge bound to `flowId`
 * and valid 5 minutes (PK-3), in the caller's transaction; refused when the methods policy keeps
 * the user from registering a passkey or they hold the maximum (PK-5).
 */
export async function passkeyCreationOptions(trx: Db, tenantId: string, rp: RelyingParty, target: Target, flowId: string, now: Date, random: (n: number) => Uint8Array = randomBytes) {
  const policy = await getMethodsPolicy(trx, tenantId);
  const scope = methodEnabledFor(policy, 'Fido2', target.groupIds);
  if (!scope.enabled) throw new ValidationError('user', 'MTH-2', `Passkeys can't be registered for this user: ${scope.why} (MTH-2).`);
  const existing = await passkeysOf(trx, tenantId, target.user.id);
  if (existing.length >= MAX_PASSKEYS_PER_USER) throw new ValidationError('user', 'PK-5', `PK-5: the user already holds ${existing.length} passkeys, the maximum.`);
  const challenge = random(32);
  const expires = new Date(now.getTime() + CHALLENGE_LIFETIME_MS);
  await saveChallenge(trx, { challenge: Buffer.from(challenge).toString('base64url'), tenantId, flowId, userId: target.user.id, purpose: 'registration', expiresAt: expires });
  const publicKey = registrationOptions({
    rpId: rp.rpId, rpName: rp.rpName,
    user: { id: userHandle(target.user.id), name: target.user.userPrincipalName, displayName: target.user.displayName },
    challenge, excludeCredentialIds: existing.map((m) => m.credentialId),
    // Without attestation, browsers zero a security key's AAGUID, so key restrictions need 'direct' too.
    attestation: fido2PolicyOf(policy).isAttestationEnforced || fido2PolicyOf(policy).keyRestrictions.isEnforced ? 'direct' : 'none',
  });
  return { '@odata.type': '#microsoft.graph.webauthnCredentialCreationOptions', challengeTimeoutDateTime: graphDateTime(expires), publicKey };
}

export const passkeyRegistrationBody = z.strictObject({
  '@odata.type': z.literal('#microsoft.graph.fido2AuthenticationMethod').optional(),
  displayName: text(200).optional(),
  publicKeyCredential: z.looseObject({
    id: z.string().min(1).max(2048),
    rawId: z.string().max(2048).optional(),
    type: z.literal('public-key').optional(),
    response: z.looseObject({
      clientDataJSON: z.string().min(1).max(65536),
      attestationObject: z.string().min(1).max(262144),
      transports: z.array(z.string().max(32)).max(10).optional(),
    }),
    clientExtensionResults: z.record(z.string(), z.unknown()).optional(),
    authenticatorAttachment: z.string().max(32).optional(),
  }),
});

/** The challenge the browser signed, read from clientDataJSON (verified properly later). */
export function challengeOf(clientDataJSON: string): string | undefined {
  try {
    const c = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof c.challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(c.challenge) ? c.challenge : undefined;
  } catch {
    return undefined;
  }
}

export type RegistrationFailure = { reason: PasskeyFailureReason | 'DisabledByPolicy' | 'ChallengeUnknown' | 'ChallengeExpired' | 'ChallengeUsed' | 'ChallengeOtherFlow' | 'TooManyPasskeys' | 'DuplicateCredential'; detail: string };

const FAILURE_MESSAGES: Partial<Record<RegistrationFailure['reason'], string>> = {
  AaguidBlocked: 'This security key model is not allowed by your organisation\'s policy.',
  AaguidNotAllowed: 'This security key model is not allowed by your organisation\'s policy.',
  PasskeyTypeNotAllowed: 'This kind of passkey (synced or device-bound) is not allowed by your organisation\'s policy.',
  OriginMismatch: 'The passkey was created for a different web address than this server.',
  ChallengeExpired: 'The registration took too long; start again.',
  ChallengeUsed: 'This registration was already completed; start again.',
  AttestationUntrusted: 'Your organisation requires security keys whose make can be verified; this one could not be.',
  AttestationInvalid: 'The security key sent an attestation that does not verify.',
};

/**
 * Verify and store a passkey (PK-1..PK-5). `activity` is the audit activity: "Admin registered
 * security info" or "User registered security info". Both outcomes are audited; a failure
 * names the precise reason (SC-8) and leaves no credential behind.
 */
export async function registerPasskey(
  ctx: MethodsContext, rp: RelyingParty, userRef: string, body: z.output<typeof passkeyRegistrationBody>,
  step: {
    activity: string; flowIdFor: (userId: string) => string; authorize?: (target: Target, trx: Db) => void | Promise<void>;
    /** The Temporary Access Passes the registering session signed in with: one of a recovery case's completes it (RCV-3). */
    sessionTapIds?: readonly string[];
    /** Runs in the registration's transaction once the passkey is stored. */
    onStored?: (methodId: string, trx: Db) => Promise<void>;
  },
) {
  const { db, tenantId, now } = ctx;
  const { activity } = step;
  const outcome = await db.transaction().execute(async (trx) => {
    const target = await loadTarget(trx, tenantId, userRef);
    await step.authorize?.(target, trx);
    const flowId = step.flowIdFor(target.user.id);
    await lockUserPasskeys(trx, target.user.id);
    const policy = await getMethodsPolicy(trx, tenantId);
    const fail = async (f: RegistrationFailure) => {
      await auditUserMethod(trx, ctx, target, {
        activity,
        operationType: 'Add',
        result: 'failure',
        resultReason: `${f.reason}: ${f.detail}`,
        details: { 'Method': 'Fido2', 'Failure reason': f.reason },
      });
      return { ok: false as const, failure: f };
    };
    const scope = methodEnabledFor(policy, 'Fido2', target.groupIds);
    if (!scope.enabled) return fail({ reason: 'DisabledByPolicy', detail: `Fido2 is not enabled for this user: ${scope.why} (MTH-2)` });
    const existing = await passkeysOf(trx, tenantId, target.user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER) return fail({ reason: 'TooManyPasskeys', detail: `PK-5: the user already holds ${existing.length} passkeys` });
    const challenge = challengeOf(body.publicKeyCredential.response.clientDataJSON);
    if (!challenge) return fail({ reason: 'MalformedResponse', detail: 'clientDataJSON carries no challenge' });
    const consumed = await consumeChallenge(trx, tenantId, challenge, flowId, 'registration', now);
    if (!consumed.ok) return fail({ reason: consumed.reason, detail: `challenge ${challenge.slice(0, 12)}…: ${consumed.reason}` });
    const result = await verifyPasskeyRegistration({
      response: { ...body.publicKeyCredential, rawId: body.publicKeyCredential.rawId ?? body.publicKeyCredential.id, type: 'public-key', clientExtensionResults: body.publicKeyCredential.clientExtensionResults ?? {} } as never,
      expectedChallenge: Buffer.from(challenge, 'base64url'), expectedOrigins: rp.origins, expectedRpId: rp.rpId,
      policy: fido2PolicyOf(policy), trustAnchors: rp.catalog.trustAnchors, aaguidNames: rp.catalog.names, now,
    });
    if (!result.ok) return fail({ reason: result.reason, detail: result.detail });
    const c = result.credential;
    if (existing.some((m) => m.credentialId === c.credentialId)) return fail({ reason: 'DuplicateCredential', detail: 'this credential is already registered' });
    const stored = await insertPasskey(trx, tenantId, {
      userId: target.user.id, credentialId: c.credentialId, publicKey: c.publicKey, signCount: c.counter,
      displayName: body.displayName ?? c.modelName ?? 'Passkey', aaguid: c.aaguid, model: c.modelName, passkeyType: c.deviceType, backedUp: c.backedUp,
      transports: c.transports, attestationFormat: c.attestationFormat, attestationVerified: c.attestationVerified, createdDateTime: now,
    });
    await auditUserMethod(trx, ctx, target, {
      activity,
      operationType: 'Add',
      details: {
        'Method': 'Fido2', 'Method id': stored.id, 'AAGUID': c.aaguid, 'Model': c.modelName, 'Passkey type': c.deviceType,
        'Attestation format': c.attestationFormat, 'Attestation verified': c.attestationVerified, 'Attestation detail': c.attestationDetail,
      },
    });
    await completeRecoveryCaseOnRegistration(trx, ctx, target.user, stored, step.sessionTapIds ?? []);
    await step.onStored?.(stored.id, trx);
    return { ok: true as const, passkey: toGraphPasskey(stored, { isUsable: true, methodUsabilityReason: 'EnabledByPolicy' }) };
  });
  if (!outcome.ok) {
    const f = outcome.failure;
    throw new ValidationError('publicKeyCredential', f.reason, `Passkey registration failed (${f.reason}): ${FAILURE_MESSAGES[f.reason] ?? f.detail}`);
  }
  return outcome.passkey;
}

export async function adminRegisterPasskey(ctx: MethodsContext, rp: RelyingParty, userRef: string, rawBody: unknown) {
  const body = parseInput(passkeyRegistrationBody, rawBody);
  return registerPasskey(ctx, rp, userRef, body, {
    activity: 'Admin registered security info',
    flowIdFor: provisioningFlow,
    authorize: (target) => authorizeTarget(ctx, target, 'write'),
  });
}

/** MTH-3 `methodUsabilityReason` of a method suspended by a recovery case (RCV-2). */
export const SUSPENDED_BY_RECOVERY_CASE = 'SuspendedByRecoveryCase';

/** Usability of one passkey under the current policy (PK-2 re-checked for sign-in), and RCV-2 suspension. */
export function passkeyUsability(m: StoredFido2Method, policy: MethodsPolicy, groupIds: readonly string[]): { isUsable: boolean; methodUsabilityReason: string } {
  // RCV-2: suspended by a recovery case: unusable whatever the policy says, until restored.
  if (m.suspendedByCaseId) return { isUsable: false, methodUsabilityReason: SUSPENDED_BY_RECOVERY_CASE };
  if (!methodEnabledFor(policy, 'Fido2', groupIds).enabled) return { isUsable: false, methodUsabilityReason: 'DisabledByPolicy' };
  const p = fido2PolicyOf(policy);
  const kr = p.keyRestrictions;
  if (kr.isEnforced && (kr.enforcementType === 'block') === kr.aaGuids.includes(m.aaguid)) return { isUsable: false, methodUsabilityReason: 'DisabledByKeyRestrictions' };
  if (p.passkeyTypes !== 'both' && p.passkeyTypes !== m.passkeyType) return { isUsable: false, methodUsabilityReason: 'DisabledByPasskeyType' };
  return { isUsable: true, methodUsabilityReason: 'EnabledByPolicy' };
}

export async function listPasskeys(ctx: MethodsContext, userRef: string) {
  const target = await authorizedTarget(ctx.db, ctx, userRef, 'read');
  const policy = await getMethodsPolicy(ctx.db, ctx.tenantId);
  return (await passkeysOf(ctx.db, ctx.tenantId, target.user.id)).map((m) => toGraphPasskey(m, passkeyUsability(m, policy, target.groupIds)));
}

export async function getPasskey(ctx: MethodsContext, userRef: string, id: string) {
  const found = (await listPasskeys(ctx, userRef)).find((m) => m.id === id.toLowerCase());
  if (!found) throw new NotFoundError('fido2AuthenticationMethod', id);
  return found;
}

export async function adminDeletePasskey(ctx: MethodsContext, userRef: string, id: string): Promise<void> {
  await deleteUserMethod(ctx, userRef, id, {
    resource: 'fido2AuthenticationMethod',
    remove: (trx, userId, methodId) => deletePasskey(trx, ctx.tenantId, userId, methodId),
    details: (removed) => ({ 'Method': 'Fido2', 'Method id': removed.id, 'AAGUID': removed.aaguid, 'Model': removed.model }),
  });
}
