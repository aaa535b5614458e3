import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../domain/errors.ts';
import { methodEnabledFor, type TapConfiguration } from '../../domain/methodsPolicy.ts';
import { parseInput } from '../../domain/validation.ts';
import {
  generateTapCode, hashTapCode, resolveTapRequest, toGraphTemporaryAccessPassMethod, type GraphTemporaryAccessPassMethod,
} from '../../methods/tap/index.ts';
import type { Db } from '../../store/database.ts';
import { getMethodsPolicy } from '../../store/methodsPolicy.ts';
import { serverSecret } from '../../store/serverSecrets.ts';
import { deletePass, passOf, replacePass, type StoredPass } from '../../store/temporaryAccessPasses.ts';
import { movePassToActiveCase } from '../../store/recoveryCases.ts';
import { type MethodsContext, auditUserMethod, authorizeTarget, deleteUserMethod, loadTarget, type Target } from './context.ts';

/** TAP-2: the create body. */
export const tapCreateBody = z.strictObject({
  '@odata.type': z.literal('#microsoft.graph.temporaryAccessPassAuthenticationMethod').optional(),
  startDateTime: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with Z or an offset' }).nullable().optional(),
  lifetimeInMinutes: z.number().int('must be a whole number of minutes').nullable().optional(),
  isUsableOnce: z.boolean().nullable().optional(),
});

/** The keyed-hash key for pass codes (TAP-3), shared by every server process. */
export async function tapHashKey(db: Db): Promise<Uint8Array> {
  return Buffer.from(await serverSecret(db, 'tap-hash-key'), 'base64url');
}

async function tapContext(ctx: MethodsContext, target: Target) {
  const policy = await getMethodsPolicy(ctx.db, ctx.tenantId);
  const config = policy.authenticationMethodConfigurations.find((c) => c.id === 'TemporaryAccessPass') as TapConfiguration;
  const enabled = methodEnabledFor(policy, 'TemporaryAccessPass', target.groupIds).enabled;
  return { config, enabled };
}

const toGraph = (pass: StoredPass, enabled: boolean, now: Date, code?: string) =>
  toGraphTemporaryAccessPassMethod({ pass, methodEnabledForUser: enabled, now, ...(code ? { temporaryAccessPass: code } : {}) });

/**
 * Issue a pass (TAP-2..TAP-4, TAP-9): validates against the policy, replaces any earlier pass,
 * stores only a keyed hash and returns the code this once. Audited in the same transaction;
 * a refused request is audited as a failure with the rule that refused it.
 */
export async function issueTemporaryAccessPass(ctx: MethodsContext, userRef: string, body: unknown, random: (n: number) => Uint8Array = randomBytes): Promise<GraphTemporaryAccessPassMethod> {
  const { db, tenantId } = ctx;
  const input = parseInput(tapCreateBody, body ?? {});
  const key = await tapHashKey(db);
  try {
    return await db.transaction().execute(async (trx) => {
      const target = await loadTarget(trx, tenantId, userRef);
      const issued = await issueWithin({ ...ctx, db: trx }, target, input, key, random);
      // RCV-3: during an active recovery case the new pass is the case's pass (TAP-4 replaced the
      // old one), so the passkey registered with it completes the case. Audited under the case.
      const moved = await movePassToActiveCase(trx, tenantId, target.user.id, issued.id);
      if (moved) {
        await auditUserMethod(trx, { ...ctx, db: trx, correlationId: moved.correlationId }, target, {
          activity: 'Recovery case pass replaced', operationType: 'Update', loggedByService: 'Gatehouse Recovery',
          details: { 'Recovery case id': moved.id, 'Method': 'TemporaryAccessPass', 'Method id': issued.id, 'Replaced pass': moved.previousTapId },
        });
      }
      return issued;
    });
  } catch (err) {
    if (err instanceof ValidationError) {
      await auditRefusal(ctx, userRef, 'Admin registered security info', 'Add', err.message);
    }
    throw err;
  }
}

/** The body of an issue, inside the caller's transaction (also used by `gatehouse init`). */
export async function issueWithin(
  ctx: MethodsContext, target: Target, input: z.output<typeof tapCreateBody>, key: Uint8Array, random: (n: number) => Uint8Array,
): Promise<GraphTemporaryAccessPassMethod> {
  const { db: trx, tenantId, now } = ctx;
  const { config, enabled } = await tapContext(ctx, target);
  authorizeTarget(ctx, target, 'write');
  if (target.user.userType === 'Guest') {
    throw new ValidationError('userType', 'TAP-9', 'TAP-9: external guests cannot be issued a Temporary Access Pass.');
  }
  const resolved = resolveTapRequest({
    startDateTime: input.startDateTime ?? undefined,
    lifetimeInMinutes: input.lifetimeInMinutes ?? undefined,
    isUsableOnce: input.isUsableOnce ?? undefined,
  }, config, now);
  if (!resolved.ok) {
    const v = resolved.violations[0]!;
    throw new ValidationError(v.field, v.rule, `${v.rule}: ${v.message}.`);
  }
  const code = generateTapCode(config.defaultLength, random);
  const { pass, replaced } = await replacePass(trx, tenantId, target.user.id, {
    codeHash: hashTapCode(code, key), createdDateTime: now, startDateTime: resolved.startDateTime,
    lifetimeInMinutes: resolved.lifetimeInMinutes, isUsableOnce: resolved.isUsableOnce,
  });
  await auditUserMethod(trx, ctx, target, {
    activity: 'Admin registered security info',
    operationType: 'Add',
    details: {
      'Method': 'TemporaryAccessPass', 'Method id': pass.id, 'Start': pass.startDateTime.toISOString(),
      'Lifetime in minutes': pass.lifetimeInMinutes, 'Usable once': pass.isUsableOnce,
      'Replaced pass': replaced?.id,
    },
  });
  return toGraph(pass, enabled, now, code);
}

/** A refused change leaves no data behind but does leave an audit record saying why (LOG-2). */
async function auditRefusal(ctx: MethodsContext, userRef: string, activity: string, op: 'Add' | 'Delete', reason: string): Promise<void> {
  const target = await loadTarget(ctx.db, ctx.tenantId, userRef).catch(() => undefined);
  if (!target) return;
  await auditUserMethod(ctx.db, ctx, target, { activity, operationType: op, result: 'failure', resultReason: reason, details: { 'Method': 'TemporaryAccessPass' } });
}

/** TAP-3, TAP-5: metadata only, never the code. */
export async function listTemporaryAccessPasses(ctx: MethodsContext, userRef: string): Promise<GraphTemporaryAccessPassMethod[]> {
  const target = await loadTarget(ctx.db, ctx.tenantId, userRef);
  const { enabled } = await tapContext(ctx, target);
  authorizeTarget(ctx, target, 'read');
  const pass = await passOf(ctx.db, ctx.tenantId, target.user.id);
  return pass ? [toGraph(pass, enabled, ctx.now)] : [];
}

export async function getTemporaryAccessPass(ctx: MethodsContext, userRef: string, id: string): Promise<GraphTemporaryAccessPassMethod> {
  const found = (await listTemporaryAccessPasses(ctx, userRef)).find((p) => p.id === id.toLowerCase());
  if (!found) throw new NotFoundError('temporaryAccessPassMethod', id);
  return found;
}

export async function deleteTemporaryAccessPass(ctx: MethodsContext, userRef: string, id: string): Promise<void> {
  await deleteUserMethod(ctx, userRef, id, {
    resource: 'temporaryAccessPassMethod',
    remove: (trx, userId, methodId) => deletePass(trx, ctx.tenantId, userId, methodId),
    details: (removed) => ({ 'Method': 'TemporaryAccessPass', 'Method id': removed.id }),
  });
}
