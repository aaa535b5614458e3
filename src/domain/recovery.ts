import { z } from 'zod';
import type { Actor } from './actors.ts';
import { guid, text } from './validation.ts';

/**
 * RCV-1..RCV-3: recovery cases (docs/recovery.md). Pure: the shapes, the states and which step
 * each state allows; the flows (src/flows/recovery) do the I/O.
 *
 *   open ──(approval needed)──► pendingApproval ──approve──► active ──first passkey with the case TAP──► completed
 *     └──(no approval needed)───────────────────────────────► active
 *   pendingApproval | active ──cancel──► cancelled (suspended methods restored, the case TAP deleted)
 *   completed ──grace period over──► clean-up deletes the methods still suspended (the case stays completed)
 */
export const RECOVERY_STATES = ['pendingApproval', 'active', 'completed', 'cancelled'] as const;
export type RecoveryState = (typeof RECOVERY_STATES)[number];

/** RCV-1: how the admin verified the user's identity. */
export const VERIFICATION_METHODS = ['inPerson', 'videoCall', 'managerAttestation', 'helpdeskTicket', 'other'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

export const verificationSchema = z.strictObject({
  method: z.enum(VERIFICATION_METHODS, `must be one of ${VERIFICATION_METHODS.join(', ')} (RCV-1)`),
  reference: text(200),
  note: text(2000).nullable().optional(),
});
export type Verification = { method: VerificationMethod; reference: string; note: string | null };

/** `POST /api/recovery/cases`. */
export const openCaseBody = z.strictObject({
  /** The target user: object id or userPrincipalName. */
  userId: text(256),
  verification: verificationSchema,
  /** The methods to suspend (passkey ids); default: every MFA-capable method the user holds (RCV-2). */
  methodIds: z.array(guid).min(1, 'must name at least one method, or leave methodIds out for all').max(20, 'must name at most 20 methods').optional(),
  /** The case TAP's lifetime; default: the TAP policy's default lifetime (TAP-1). */
  temporaryAccessPassLifetimeInMinutes: z.number().int('must be a whole number of minutes').optional(),
});
export type OpenCaseInput = z.output<typeof openCaseBody>;

export const approveCaseBody = z.strictObject({ note: text(2000).optional() });
export const cancelCaseBody = z.strictObject({ reason: text(2000).optional() });
export const restoreMethodsBody = z.strictObject({
  methodIds: z.array(guid).min(1, 'must name at least one method').max(20, 'must name at most 20 methods'),
});
export const listCasesQuery = z.strictObject({
  state: z.enum(RECOVERY_STATES, `must be one of ${RECOVERY_STATES.join(', ')}`).optional(),
  userId: guid.optional(),
});

/** The tenant's recovery policy (RCV-1, RCV-3, notifications). */
export type RecoveryPolicy = {
  requireApprovalForAdmins: boolean;
  requireApprovalForAll: boolean;
  gracePeriodInDays: number;
  webhookUrl: string | null;
  /** Write-only: the HMAC key for the webhook's signature header; reads say only whether one is set. */
  webhookSecret: string | null;
};

export const DEFAULT_RECOVERY_POLICY: RecoveryPolicy = {
  requireApprovalForAdmins: true, requireApprovalForAll: false, gracePeriodInDays: 7, webhookUrl: null, webhookSecret: null,
};

export const recoveryPolicyPatch = z.strictObject({
  requireApprovalForAdmins: z.boolean().optional(),
  requireApprovalForAll: z.boolean().optional(),
  gracePeriodInDays: z.number().int('must be a whole number of days').min(0, 'must be at least 0').max(365, 'must be at most 365').optional(),
  webhookUrl: z.url({ protocol: /^https?$/, message: 'must be an http or https URL' }).max(2048, 'must be at most 2048 characters').nullable().optional(),
  webhookSecret: z.string().min(16, 'must be at least 16 characters').max(256, 'must be at most 256 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').nullable().optional(),
});

/** The policy as the API shows it: never the secret. */
export function publicRecoveryPolicy(p: RecoveryPolicy) {
  return {
    requireApprovalForAdmins: p.requireApprovalForAdmins, requireApprovalForAll: p.requireApprovalForAll,
    gracePeriodInDays: p.gracePeriodInDays, webhookUrl: p.webhookUrl, hasWebhookSecret: p.webhookSecret !== null,
  };
}

/** RCV-1: does this case wait for a second admin? */
export function requiresApproval(policy: RecoveryPolicy, targetIsAdmin: boolean): boolean {
  return policy.requireApprovalForAll || (policy.requireApprovalForAdmins && targetIsAdmin);
}

/** Who acted, as stored on the case and compared for the four-eyes rule. */
export type CaseActor =
  | { kind: 'user'; id: string; userPrincipalName: string }
  | { kind: 'app'; appId: string }
  | { kind: 'operator'; name: string };

export function caseActorOf(actor: Actor): CaseActor {
  if (actor.kind === 'user') return { kind: 'user', id: actor.id, userPrincipalName: actor.userPrincipalName };
  if (actor.kind === 'app') return { kind: 'app', appId: actor.appId };
  return { kind: 'operator', name: actor.name };
}

export function sameActor(a: CaseActor, b: CaseActor): boolean {
  if (a.kind === 'user' && b.kind === 'user') return a.id === b.id;
  if (a.kind === 'app' && b.kind === 'app') return a.appId === b.appId;
  if (a.kind === 'operator' && b.kind === 'operator') return a.name === b.name;
  return false;
}

export type RecoveryStep = 'approve' | 'cancel' | 'restore' | 'complete' | 'cleanup';

/** A refused step: the rule and a sentence that names the state. */
export type StepRefusal = { rule: string; message: string };

/**
 * Which states allow a step. `restore` is allowed while the case is active, and after completion
 * until the grace period ends (RCV-3); `now` decides the latter.
 */
export function stepAllowed(
  c: { state: RecoveryState; gracePeriodEndsAt: Date | null; cleanedUpAt: Date | null }, step: RecoveryStep, now: Date,
): StepRefusal | null {
  const refuse = (rule: string, message: string) => ({ rule, message });
  switch (step) {
    case 'approve':
      return c.state === 'pendingApproval' ? null : refuse('RCV-1', `Only a case waiting for approval can be approved; this one is '${c.state}'.`);
    case 'cancel':
      return c.state === 'pendingApproval' || c.state === 'active' ? null : refuse('RCV-3', `Only an open case (pendingApproval or active) can be cancelled; this one is '${c.state}'.`);
    case 'complete':
      return c.state === 'active' ? null : refuse('RCV-3', `Only an active case can complete; this one is '${c.state}'.`);
    case 'restore':
      if (c.state === 'active') return null;
      if (c.state === 'completed' && !c.cleanedUpAt && c.gracePeriodEndsAt && now < c.gracePeriodEndsAt) return null;
      return refuse('RCV-3', c.state === 'completed'
        ? 'The grace period of this case is over: its suspended methods were or are about to be deleted.'
        : `Methods can be restored while a case is active or during its grace period; this one is '${c.state}'.`);
    case 'cleanup':
      return c.state === 'completed' && !c.cleanedUpAt && c.gracePeriodEndsAt && now >= c.gracePeriodEndsAt ? null
        : refuse('RCV-3', 'The grace period of this case is not over.');
  }
}

/**
 * RCV-1's four-eyes rule: the approver is neither the opener nor the target. (TAP-9 for the
 * approver is checked separately, like for the opener.)
 */
export function approverRefusal(approver: CaseActor, openedBy: CaseActor, targetUserId: string): StepRefusal | null {
  if (sameActor(approver, openedBy)) return { rule: 'RCV-1', message: 'RCV-1: the admin who opened the case cannot approve it; a second admin must.' };
  if (approver.kind === 'user' && approver.id === targetUserId) return { rule: 'RCV-1', message: 'RCV-1: nobody can approve a recovery case for themselves.' };
  return null;
}

export function gracePeriodEnd(completedAt: Date, days: number): Date {
  return new Date(completedAt.getTime() + days * 86_400_000);
}

/** The events a webhook receives. */
export const RECOVERY_EVENTS = ['opened', 'approved', 'completed', 'cancelled', 'restored', 'cleanedUp'] as const;
export type RecoveryEvent = (typeof RECOVERY_EVENTS)[number];

/**
 * Retry schedule of webhook deliveries: the wait after failed attempt `n` (1-based), doubling
 * from 30 s up to 1 h; after `MAX_DELIVERY_ATTEMPTS` the delivery has failed for good.
 */
export const MAX_DELIVERY_ATTEMPTS = 8;
export function retryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}
