import { z } from 'zod';
import { SIGN_IN_ERRORS } from '../../domain/signInErrors.ts';
import { methodEnabledFor } from '../../domain/methodsPolicy.ts';
import { parseInput } from '../../domain/validation.ts';
import { randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from '../../methods/password/index.ts';
import { verifyTotp } from '../../methods/totp/index.ts';
import { transitiveGroupIdsOf } from '../../store/groups.ts';
import { getMethodsPolicy } from '../../store/methodsPolicy.ts';
import { findUser } from '../../store/users.ts';
import { claimOathStep, oathMethodsOf, passwordOf } from '../../store/passwordsAndOath.ts';
import { suspensionsOfUser } from '../../store/recoveryCases.ts';
import { factorSucceeded, requireFlow, SignInRefused, stepLogger, type SignInContext } from './flow.ts';
import { openGuessThrottle } from './throttle.ts';

export const passwordStepBody = z.strictObject({ username: z.string().min(1).max(256), password: z.string().min(1).max(1024) });
export const totpStepBody = z.strictObject({ code: z.string().min(1).max(16) });

const GENERIC = 'The user name or password is not valid.';

let decoy: Promise<string> | undefined;
/** A hash of a random password with the same parameters, verified when there is no real one. */
const decoyHash = () => (decoy ??= hashPassword(randomBytes(24).toString('base64url')));

/** First factor: password (MTH-4), throttled like a TAP (TAP-10). Disabled in new tenants (MTH-2). */
export async function signInWithPassword(ctx: SignInContext, flowId: string, raw: unknown) {
  const body = parseInput(passwordStepBody, raw);
  const upn = body.username.trim().toLowerCase();
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const flow = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
    const throttle = await openGuessThrottle(trx, ctx.tenantId, 'password', upn, ctx.ipAddress, ctx.now);
    const user = await findUser(trx, ctx.tenantId, upn);
    const log = stepLogger(trx, ctx, flow, user, { method: 'Password', attemptedUserPrincipalName: upn });
    if (!throttle.decision.allowed) {
      await log('LockedOut', `password sign-in locked until ${throttle.decision.lockedUntil.toISOString()} after repeated failures`);
      return { refused: new SignInRefused('LockedOut', 429, 'Too many failed attempts. Try again later.', throttle.decision.retryAfterSeconds) };
    }
    const row = user ? await passwordOf(trx, user.id) : undefined;
    // Always pay for one Argon2id verification, so the answer time doesn't tell whether the user exists (TAP-10).
    const good = await verifyPassword(body.password, row?.hash ?? await decoyHash()) && row !== undefined;
    if (!user || !row || !good) {
      const why = !user ? `no user named ${upn}` : !row ? 'the user has no password' : 'wrong password';
      await log(!user ? 'UserNotFound' : 'InvalidCredentials', why + await throttle.failed());
      return { refused: new SignInRefused('InvalidCredentials', 400, GENERIC) };
    }
    if (!user.accountEnabled) {
      await log('AccountDisabled', 'DIR-2: the account is disabled');
      return { refused: new SignInRefused('AccountDisabled', 403, SIGN_IN_ERRORS.AccountDisabled.text) };
    }
    const scope = methodEnabledFor(await getMethodsPolicy(trx, ctx.tenantId), 'Password', await transitiveGroupIdsOf(trx, ctx.tenantId, user.id));
    if (!scope.enabled) {
      await log('InvalidCredentials', `MTH-2: ${scope.why}`);
      return { refused: new SignInRefused('InvalidCredentials', 403, `Password sign-in is not allowed for this account: ${scope.why}.`) };
    }
    await throttle.succeeded();
    return factorSucceeded(trx, ctx, flow, user.id, { method: 'password', methodId: 'password', at: ctx.now.toISOString() }, log, 'password verified');
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}

/**
 * Second factor: a TOTP code (RFC 6238) for the user already identified in this flow. A code's
 * time step is accepted once (MTH-4); the conditional update makes that hold under concurrency.
 */
export async function signInWithTotp(ctx: SignInContext, flowId: string, raw: unknown) {
  const body = parseInput(totpStepBody, raw);
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const flow = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
    const user = flow.userId ? await findUser(trx, ctx.tenantId, flow.userId) : undefined;
    const log = stepLogger(trx, ctx, flow, user, { method: 'Software OATH token' });
    if (!user) {
      await log('MfaRequired', 'a TOTP code needs a first factor in this flow');
      return { refused: new SignInRefused('MfaRequired', 400, 'Sign in with a first factor before entering a code.') };
    }
    const throttle = await openGuessThrottle(trx, ctx.tenantId, 'totp', user.id, ctx.ipAddress, ctx.now);
    if (!throttle.decision.allowed) {
      await log('LockedOut', `TOTP codes locked until ${throttle.decision.lockedUntil.toISOString()} after repeated failures`);
      return { refused: new SignInRefused('LockedOut', 429, 'Too many failed attempts. Try again later.', throttle.decision.retryAfterSeconds) };
    }
    const scope = methodEnabledFor(await getMethodsPolicy(trx, ctx.tenantId), 'SoftwareOath', await transitiveGroupIdsOf(trx, ctx.tenantId, user.id));
    const tokens = await oathMethodsOf(trx, user.id, { forUpdate: true });
    const suspensions = await suspensionsOfUser(trx, user.id);
    for (const t of scope.enabled ? tokens : []) {
      const v = verifyTotp(body.code, t.secret, ctx.now, t.lastUsedStep);
      const suspendedBy = suspensions.find((s) => s.methodId === t.id)?.caseId;
      if (v.ok && suspendedBy) {
        // RCV-2: the right code from a suspended authenticator app is refused, and the log says why.
        await log('MethodSuspended', `RCV-2: authenticator app ${t.id} is suspended by recovery case ${suspendedBy}`);
        return { refused: new SignInRefused('MethodSuspended', 403, 'This authenticator app is suspended while your account is being recovered. Ask your administrator.') };
      }
      if (!v.ok && v.reason === 'Replayed') {
        await log('InvalidCredentials', 'MTH-4: this code was already used');
        return { refused: new SignInRefused('InvalidCredentials', 400, 'This code was already used; wait for the next one.') };
      }
      if (v.ok) {
        if (!(await claimOathStep(trx, t.id, v.step))) break;
        await throttle.succeeded();
        return factorSucceeded(trx, ctx, flow, flow.userId!, { method: 'softwareOath', methodId: t.id, at: ctx.now.toISOString() }, log, 'TOTP code verified');
      }
    }
    await log('InvalidCredentials', (scope.enabled ? (tokens.length ? 'wrong code' : 'the user has no authenticator app') : `MTH-2: ${scope.why}`) + await throttle.failed());
    return { refused: new SignInRefused('InvalidCredentials', 400, 'The code is not valid.') };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}
