import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SIGN_IN_ERRORS, type SignInErrorName } from '../../domain/signInErrors.ts';
import { parseInput } from '../../domain/validation.ts';
import { authenticationOptions, verifyPasskeyAuthentication } from '../../methods/passkey/index.ts';
import { writeAudit } from '../../store/audit.ts';
import { consumeChallenge, saveChallenge } from '../../store/challenges.ts';
import { transitiveGroupIdsOf } from '../../store/groups.ts';
import { getMethodsPolicy } from '../../store/methodsPolicy.ts';
import { flagPossiblyCloned, passkeyByCredentialId, passkeysOf, recordPasskeyUse } from '../../store/passkeys.ts';
import { findUser } from '../../store/users.ts';
import { CHALLENGE_LIFETIME_MS, challengeOf, fido2PolicyOf, passkeyUsability, type RelyingParty } from '../methods/passkeys.ts';
import { factorSucceeded, requireFlow, SignInRefused, stepLogger, type SignInContext } from './flow.ts';

export const passkeyOptionsBody = z.strictObject({ username: z.string().min(1).max(256).optional() });

/**
 * PK-3, PK-6: request options with a challenge bound to this flow. With a user name, the allow
 * list holds that user's passkeys; without one (or for a name that matches no one), it is empty
 * and the authenticator offers its discoverable credentials.
 */
export async function passkeyOptions(ctx: SignInContext, rp: RelyingParty, flowId: string, rawBody: unknown, random: (n: number) => Uint8Array = randomBytes) {
  const body = parseInput(passkeyOptionsBody, rawBody ?? {});
  return ctx.db.transaction().execute(async (trx) => {
    const flow = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
    const user = body.username ? await findUser(trx, ctx.tenantId, body.username.trim()) : undefined;
    const allow = user ? (await passkeysOf(trx, ctx.tenantId, user.id)).map((m) => m.credentialId) : [];
    const challenge = random(32);
    await saveChallenge(trx, { challenge: Buffer.from(challenge).toString('base64url'), tenantId: ctx.tenantId, flowId: flow.id, userId: user?.id ?? null, purpose: 'authentication', expiresAt: new Date(ctx.now.getTime() + CHALLENGE_LIFETIME_MS) });
    return authenticationOptions({ rpId: rp.rpId, challenge, allowCredentialIds: allow });
  });
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
    const flow = await requireFlow(trx, tenantId, flowId, now);
    const stored = await passkeyByCredentialId(trx, tenantId, body.credential.id);
    const user = stored ? await findUser(trx, tenantId, stored.userId) : undefined;
    const log = stepLogger(trx, ctx, flow, user,
      { method: 'Passkey (FIDO2)', methodDetail: stored?.model ?? stored?.aaguid ?? null });
    const refuse = async (error: SignInErrorName, detail: string, status = 400, message = GENERIC) => {
      await log(error, detail);
      return { refused: new SignInRefused(error, status, message) };
    };

    const challenge = challengeOf(body.credential.response.clientDataJSON);
    const consumed = challenge ? await consumeChallenge(trx, tenantId, challenge, flow.id, 'authentication', now) : { ok: false as const, reason: 'ChallengeUnknown' as const };
    if (!consumed.ok) return refuse('ChallengeInvalid', `PK-3: ${consumed.reason}`, 400, 'This sign-in attempt expired or was already used; start again.');
    if (!stored || !user) return refuse('PasskeyUnknown', `credential ${body.credential.id.slice(0, 24)}… is not registered in this tenant`);
    if (consumed.userId && consumed.userId !== stored.userId) return refuse('PasskeyUnknown', 'the passkey belongs to a different user than the one who started this sign-in');

    const policy = await getMethodsPolicy(trx, tenantId);
    const usable = passkeyUsability(stored, policy, await transitiveGroupIdsOf(trx, tenantId, user.id));
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
    await recordPasskeyUse(trx, stored.id, result.newCounter, result.backedUp, now);
    return factorSucceeded(trx, ctx, flow, user.id, { method: 'fido2', methodId: stored.id, at: now.toISOString(), aaGuid: stored.aaguid }, log,
      `signed in with passkey ${stored.displayName}${stored.model ? ` (${stored.model})` : ''}`);
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}
