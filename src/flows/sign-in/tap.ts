import { z } from 'zod';
import { SIGN_IN_ERRORS, type SignInErrorName } from '../../domain/signInErrors.ts';
import { methodEnabledFor } from '../../domain/methodsPolicy.ts';
import { parseInput } from '../../domain/validation.ts';
import { tapCodeMatches, tapUsability } from '../../methods/tap/index.ts';
import { openGuessThrottle } from './throttle.ts';
import { writeAudit } from '../../store/audit.ts';
import { consumeOneTimePass } from '../../store/temporaryAccessPasses.ts';
import { tapHashKey } from '../methods/temporaryAccessPass.ts';
import { factorSucceeded, loadDecisionFacts, requireFlow, SignInRefused, stepLogger, type SignInContext } from './flow.ts';

export const tapStepBody = z.strictObject({
  username: z.string().min(1, 'must not be empty').max(256),
  code: z.string().min(1, 'must not be empty').max(128),
});

/** What the caller may learn: nothing about whether the user exists or holds a pass (TAP-10). */
const GENERIC = 'The user name or Temporary Access Pass is not valid.';

/**
 * Sign in with a Temporary Access Pass (TAP-5..TAP-8, TAP-10). One transaction: the throttle
 * records, the one-time consumption and the sign-in log record commit together, success or not.
 */
export async function signInWithTap(ctx: SignInContext, flowId: string, rawBody: unknown) {
  const body = parseInput(tapStepBody, rawBody);
  const upn = body.username.trim().toLowerCase();
  const key = await tapHashKey(ctx.db);
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const { tenantId, now } = ctx;
    const flow = await requireFlow(trx, tenantId, flowId, now);
    const throttle = await openGuessThrottle(trx, tenantId, 'tap', upn, ctx.ipAddress, now);
    // The user, their pass, groups and methods and the tenant's policies, in one statement.
    const loaded = await loadDecisionFacts(trx, ctx, upn);
    const user = loaded.facts?.user;

    const log = stepLogger(trx, ctx, flow, user, { method: 'Temporary Access Pass', attemptedUserPrincipalName: upn });

    const locked = throttle.decision;
    if (!locked.allowed) {
      await log('LockedOut', `TAP-10: Temporary Access Pass sign-in is locked until ${locked.lockedUntil.toISOString()} after repeated failures`);
      return { refused: new SignInRefused('LockedOut', 429, 'Too many failed attempts. Try again later.', locked.retryAfterSeconds) };
    }

    const guessFailed = async (error: SignInErrorName, detail: string) => {
      const counted = await throttle.failedWithLock();
      await log(error, detail + counted.note);
      if (user && counted.userLockedUntil) {
        // TAP-10: a lockout of a real account is an event admins look for in the audit log too.
        await writeAudit(trx, tenantId, {
          activityDisplayName: 'Temporary Access Pass sign-in locked', category: 'UserManagement', operationType: 'Update', result: 'success',
          resultReason: `repeated failed Temporary Access Pass attempts; locked until ${counted.userLockedUntil.toISOString()}`,
          loggedByService: 'Authentication Methods', correlationId: flow.state.correlationId, initiatedBy: { kind: 'operator', name: 'Gatehouse sign-in' },
          target: { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, type: 'User' },
          additionalDetails: { 'Locked until': counted.userLockedUntil.toISOString(), 'Client address': ctx.ipAddress },
        }, now);
      }
      return { refused: new SignInRefused('InvalidCredentials', 400, GENERIC) };
    };

    if (!user) return guessFailed('UserNotFound', `no user named ${upn}`);
    const pass = loaded.facts!.pass;
    if (!pass) return guessFailed('NoTapForUser', 'the user holds no Temporary Access Pass');
    if (!tapCodeMatches(body.code, pass.codeHash, key)) return guessFailed('TapInvalid', 'the code does not match the user\'s pass');

    // The code is right: from here the caller has proved possession, so reasons may be shown.
    if (!user.accountEnabled) {
      await log('AccountDisabled', 'DIR-2: the account is disabled');
      return { refused: new SignInRefused('AccountDisabled', 403, SIGN_IN_ERRORS.AccountDisabled.text) };
    }
    const policy = loaded.policies.methodsPolicy;
    const scope = methodEnabledFor(policy, 'TemporaryAccessPass', loaded.facts!.groupIds);
    const usability = tapUsability(pass, { methodEnabledForUser: scope.enabled }, now);
    const refusals = {
      DisabledByPolicy: ['TapDisabledByPolicy', `Sign-in blocked by the Temporary Access Pass policy: ${scope.why} (TAP-6).`],
      NotYetValid: ['TapNotYetValid', `The Temporary Access Pass is not valid until ${pass.startDateTime.toISOString()}.`],
      Expired: ['TapExpired', 'The Temporary Access Pass has expired; ask an administrator for a new one.'],
      OneTimeUsed: ['TapOneTimeUsed', 'This one-time Temporary Access Pass was already used; ask an administrator for a new one.'],
    } as const;
    if (usability.methodUsabilityReason !== 'EnabledByPolicy') {
      const [error, message] = refusals[usability.methodUsabilityReason];
      await log(error, `TAP-5: ${usability.methodUsabilityReason}`);
      return { refused: new SignInRefused(error, 403, message) };
    }
    if (pass.isUsableOnce && !(await consumeOneTimePass(trx, pass.id, now))) {
      await log('TapOneTimeUsed', 'TAP-7: the one-time pass was consumed by a concurrent sign-in');
      return { refused: new SignInRefused('TapOneTimeUsed', 403, refusals.OneTimeUsed[1]) };
    }
    const mode = pass.isUsableOnce ? 'temporaryAccessPassOneTime' : 'temporaryAccessPassMultiUse';
    // TAP-8: a session obtained with a pass ends no later than the pass does.
    const passEnds = new Date(pass.startDateTime.getTime() + pass.lifetimeInMinutes * 60_000).toISOString();
    flow.state.sessionNotAfter = flow.state.sessionNotAfter && flow.state.sessionNotAfter < passEnds ? flow.state.sessionNotAfter : passEnds;
    // A consumed one-time pass changes the user's methods: the decision then reads them afresh.
    const done = await factorSucceeded(trx, ctx, flow, user.id, { method: mode, methodId: pass.id, at: now.toISOString() }, log,
      `TAP-8: signed in with a ${pass.isUsableOnce ? 'one-time' : 'multi-use'} Temporary Access Pass (counts as MFA)`,
      pass.isUsableOnce ? undefined : { policies: loaded.policies, user: loaded.user! },
      // TAP-10: the success resets the user name's record, written with the flow and the sign-in record.
      [throttle.succeededWrite()]);
    return 'refused' in done ? done : { ok: { ...done.ok, sessionNotAfter: flow.state.sessionNotAfter } };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}
