import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../domain/errors.ts';
import { parseInput } from '../../domain/validation.ts';
import { hashPassword, passwordPolicyViolations } from '../../methods/password/index.ts';
import { generateTotpSecret, totpUri } from '../../methods/totp/index.ts';
import { addOathMethod, setPassword } from '../../store/passwordsAndOath.ts';
import { type MethodsContext, auditUserMethod, authorizedTarget } from './context.ts';
import { PASSWORD_METHOD_ID } from './methods.ts';

const resetBody = z.strictObject({ newPassword: z.string().max(1024) });

/**
 * Graph's `passwordMethods/{id}/resetPassword` with an admin-chosen password (MTH-4: Argon2id).
 * Like a TAP (TAP-6), a password can be set while the Password method is off; signing in with
 * it needs the method enabled for the user.
 */
export async function adminResetPassword(ctx: MethodsContext, userRef: string, methodId: string, raw: unknown): Promise<void> {
  if (methodId !== PASSWORD_METHOD_ID) throw new NotFoundError('passwordAuthenticationMethod', methodId);
  const body = parseInput(resetBody, raw);
  const violation = passwordPolicyViolations(body.newPassword)[0];
  if (violation) throw new ValidationError('newPassword', violation.rule, violation.message);
  const hash = await hashPassword(body.newPassword);
  await ctx.db.transaction().execute(async (trx) => {
    const target = await authorizedTarget(trx, ctx, userRef, 'write');
    await setPassword(trx, ctx.tenantId, target.user.id, hash, ctx.now);
    await auditUserMethod(trx, ctx, target, {
      activity: 'Reset password (by admin)',
      operationType: 'Update',
      loggedByService: 'Self-service Password Management',
      details: { 'Method': 'Password' },
    });
  });
}

/**
 * Enrol a TOTP authenticator app for a user (operator tooling; self-service enrolment belongs to
 * the security-info portal). The secret is returned once, for the QR code.
 */
export async function enrolSoftwareOath(ctx: MethodsContext, userRef: string, random: (n: number) => Uint8Array = randomBytes) {
  return ctx.db.transaction().execute(async (trx) => {
    const target = await authorizedTarget(trx, ctx, userRef, 'write');
    const secret = generateTotpSecret(random);
    const id = await addOathMethod(trx, ctx.tenantId, target.user.id, secret, ctx.now);
    await auditUserMethod(trx, ctx, target, {
      activity: 'Admin registered security info',
      operationType: 'Add',
      details: { 'Method': 'SoftwareOath', 'Method id': id },
    });
    return { id, secretKey: secret, uri: totpUri({ secret, accountName: target.user.userPrincipalName, issuer: 'Gatehouse' }) };
  });
}
