import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SIGN_IN_ERRORS, type SignInErrorName } from '../../domain/signInErrors.ts';
import { parseInput } from '../../domain/validation.ts';
import { authenticationOptions, verifyPasskeyAuthentication } from '../../methods/passkey/index.ts';
import { writeAudit } from '../../store/audit.ts';
import { saveChallenge, saveChallengeForLiveFlow, whyChallengeUnusable } from '../../store/challenges.ts';
import { flagPossiblyCloned, passkeysOf, recordPasskeyUseQuery } from '../../store/passkeys.ts';
import { findUser } from '../../store/users.ts';
import { CHALLENGE_LIFETIME_MS, challengeOf, fido2PolicyOf, passkeyUsability, type RelyingParty } from '../methods/passkeys.ts';
import { factorSucceeded, openPasskeyStep, requireFlow, SignInRefused, startSignIn, stepLogger, type SignInContext, type StartOptions } from './flow.ts';

export const passkeyOptionsBody = z.strictObject({ username: z.string().min(1).max(256).optional() });

/**
 * PK-3, PK-6: request options with a challenge bound to this flow. With a user name, the allow
 * list holds that user's passkeys; without one (or for a name that matches no one), it is empty
 * and the authenticator offers its discoverable credentials.
 */
export async function passkeyOptions(ctx: SignInContext, rp: RelyingParty, flowId: string, rawBody: unknown, random: (n: number) => Uint8Array = randomBytes) {
  const body = parseInput(passkeyOptionsBody, rawBody ?? {});
  if (!body.username) {
    // Usernameless: one statement stores the challenge if the flow is live (and row-locks it, as requireFlow does).
    const challenge = random(32);
    const saved = await saveChallengeForLiveFlow(ctx.db, { challenge: Buffer.from(challenge).toString('base64url'), tenantId: ctx.tenantId, flowId, userId: null, purpose: 'authentication', expiresAt: new Date(ctx.now.getTime() + CHALLENGE_LIFETIME_MS) }, ctx.now);
    if (!saved) throw new SignInRefused('FlowExpired', 404, 'This sign-in has expired or does not exist; start again.');
    return authenticationOptions({ rpId: rp.rpId, challenge, allowCredentialIds: [] });
  }
  return ctx.db.transaction().execute(async (trx) => {
    const flow = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
    const user = body.username ? await findUser(trx, ctx.tenantId, body.username.trim()) : undefined;
    const allow = user ? (await passkeysOf(trx, ctx.tenantId, user.id)).map((m) => m.credentialId) : [];
    const challenge = random(32);
    await saveChallenge(trx, { challenge: Buffer.from(challenge).toString('base64url'), tenantId: ctx.tenantId, flowId: flow.id, userId: user?.id ?? null, purpose: 'authentication', expiresAt: new Date(ctx.now.getTime() + CHALLENGE_LIFETIME_MS) });
    return authenticationOptions({ rpId: rp.rpId, challenge, allowCredentialIds: allow });
  });
}

/**
 * Start a flow and get usernameless request options for it in one step (one statement): what
 * `startSignIn` and then `passkeyOptions` with `{}` do, for a client that signs in with a passkey
 * straight away (the sign-in page's passkey button, a headless client).
 */
export async function startPasskeySignIn(ctx: SignInContext, rp: RelyingParty, opts: StartOptions, random: (n: number) => Uint8Array = randomBytes) {
  const challenge = random(32);
  const started = await startSignIn(ctx.db, ctx.tenantId, opts, ctx.now,
    { challenge: Buffer.from(challenge).toString('base64url'), expiresAt: new Date(ctx.now.getTime() + CHALLENGE_LIFETIME_MS) });
  return { ...started, passkeyOptions: authenticationOptions({ rpId: rp.rpId, challenge, allowCredentialIds: [] }) };
}

export const passkeyAssertionBody = z.strictObject({
  credential: z.looseObject({
    id: z.string().min(1).max(2048),
    rawId: z.string().max(2048).optional(),
    type: z.literal('public-key').optional(),
    response: z.looseObject({
      clientDataJSON: z.string().min(1).max(65536),
      authenticatorData: z.string().min(1).max(65536),
      signature: z.string().min(1).max(16384),
      userHandle: z.string().max(1024).nullable().optional(),
    }),
    clientExtensionResults: z.record(z.string(), z.unknown()).optional(),
    authenticatorAttachment: z.string().max(32).nullable().optional(),
  }),
});

const GENERIC = 'This passkey could not be used to sign in.';

/**
 * Sign in with a passkey (PK-2..PK-4, PK-6). Key restrictions and passkey types are re-checked
 * at every sign-in; a counter that goes backwards fails the sign-in and flags the credential
 * (with an audit entry). One transaction with the sign-in log record.
 */
export async function signInWithPasskey(ctx: SignInContext, rp: RelyingParty, flowId: string, rawBody: unknown) {
  const body = parseInput(passkeyAssertionBody, rawBody);
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const { tenantId, now } = ctx;
    // One statement: the flow locked (FlowExpired without one), the challenge consumed, and the
    // passkey with its owner's groups and methods and the tenant's policy version. The policy
    // check below and the decision after the factor both use them (this step's writes, the
    // challenge and the passkey's counter, change none of them).
    const challenge = challengeOf(body.credential.response.clientDataJSON);
    const loaded = await openPasskeyStep(trx, ctx, flowId, challenge ?? null, body.credential.id);
    const { flow, passkey: stored } = loaded;
    const user = loaded.facts?.user;
    const log = stepLogger(trx, ctx, flow, user,
      { method: 'Passkey (FIDO2)', methodDetail: stored?.model ?? stored?.aaguid ?? null });
    const refuse = async (error: SignInErrorName, detail: string, status = 400, message = GENERIC) => {
      await log(error, detail);
      return { refused: new SignInRefused(error, status, message) };
    };

    const consumed = loaded.consumed ? { ok: true as const, userId: loaded.consumed.userId }
      : challenge ? await whyChallengeUnusable(trx, tenantId, challenge, flow.id, 'authentication') : { ok: false as const, reason: 'ChallengeUnknown' as const };
    if (!consumed.ok) return refuse('ChallengeInvalid', `PK-3: ${consumed.reason}`, 400, 'This sign-in attempt expired or was already used; start again.');
    if (!stored || !user) return refuse('PasskeyUnknown', `credential ${body.credential.id.slice(0, 24)}… is not registered in this tenant`);
    if (consumed.userId && consumed.userId !== stored.userId) return refuse('PasskeyUnknown', 'the passkey belongs to a different user than the one who started this sign-in');

    const { policies, facts, user: signInUser } = loaded;
    const policy = policies.methodsPolicy;
    // RCV-2: a passkey suspended by a recovery case can't sign in; the record names the case.
    if (stored.suspendedByCaseId) return refuse('PasskeySuspended', `RCV-2: suspended by recovery case ${stored.suspendedByCaseId}`, 403, 'This passkey is suspended while your account is being recovered; use the Temporary Access Pass your administrator gave you.');
    const usable = passkeyUsability(stored, policy, facts!.groupIds);
    if (!usable.isUsable) return refuse('PasskeyDisabledByPolicy', `PK-2: ${usable.methodUsabilityReason}`, 403, `Sign-in blocked by the passkey policy (${usable.methodUsabilityReason}).`);

    const result = await verifyPasskeyAuthentication({
      response: { ...body.credential, rawId: body.credential.rawId ?? body.credential.id, type: 'public-key', clientExtensionResults: body.credential.clientExtensionResults ?? {} } as never,
      expectedChallenge: Buffer.from(challenge!, 'base64url'), expectedOrigins: rp.origins, expectedRpId: rp.rpId,
      credential: { credentialId: stored.credentialId, publicKey: stored.publicKey, counter: stored.signCount, aaguid: stored.aaguid, backupEligible: stored.passkeyType === 'synced' },
      policy: fido2PolicyOf(policy), now, ...(stored.model ? { modelName: stored.model } : {}),
    });
    if (!result.ok) {
      if (result.reason === 'CounterRegression') {
        await flagPossiblyCloned(trx, stored.id, now);
        await writeAudit(trx, tenantId, {
          activityDisplayName: 'Passkey flagged as possibly cloned', category: 'UserManagement', operationType: 'Update', result: 'success',
          loggedByService: 'Authentication Methods', correlationId: flow.state.correlationId, initiatedBy: { kind: 'operator', name: 'Gatehouse sign-in' },
          target: { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, type: 'User' },
          modifiedProperties: [{ displayName: 'possiblyClonedDateTime', oldValue: null, newValue: now.toISOString() }],
          additionalDetails: { 'Method': 'Fido2', 'Method id': stored.id, 'Detail': result.detail },
        }, now);
        return refuse('PasskeyPossiblyCloned', `PK-4: ${result.detail}`);
      }
      return refuse('PasskeyVerificationFailed', `${result.reason}: ${result.detail}`);
    }
    if (!user.accountEnabled) return refuse('AccountDisabled', 'DIR-2: the account is disabled', 403, SIGN_IN_ERRORS.AccountDisabled.text);
    // The new counter and last use are written with the flow and the sign-in record (one statement).
    return factorSucceeded(trx, ctx, flow, user.id, { method: 'fido2', methodId: stored.id, at: now.toISOString(), aaGuid: stored.aaguid }, log,
      `signed in with passkey ${stored.displayName}${stored.model ? ` (${stored.model})` : ''}`, { policies, user: signInUser! },
      [recordPasskeyUseQuery(trx, stored.id, result.newCounter, result.backedUp, now)]);
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}
