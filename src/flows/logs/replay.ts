import type { Actor } from '../../domain/actors.ts';
import { permits, ROLE_TEMPLATES } from '../../domain/directory.ts';
import { ConflictError, ForbiddenError, ValidationError } from '../../domain/errors.ts';
import { evaluateSignIn } from '../../engine/evaluateSignIn.ts';
import { compareDecisions, type DecisionDifferences } from '../../engine/replayDiff.ts';
import type { Decision, PolicySnapshot, SessionState, SignInRequest, SignInUser } from '../../engine/types.ts';
import type { Db } from '../../store/database.ts';
import { getSignIn } from '../../store/logQueries.ts';
import { policySnapshotOfVersion, isMissingVersion } from '../../store/policyHistory.ts';
import { loadPolicySnapshot, policyVersionOf } from '../../store/policies.ts';
import { proposedSnapshot, type ProposedSet } from './proposed.ts';

/**
 * WIF-2: re-decide a logged sign-in. The record carries the engine's input minus the policies
 * (`gatehouseInput`) and the policy version it was decided under (`gatehousePolicyVersion`,
 * whose snapshot store/policyHistory.ts keeps), so the same pure function (SIG-1) can decide it
 * again against those policies (it must reproduce the recorded decision), the current ones, or
 * a proposed set. Nothing is written (except, once, the snapshot of a tenant's current version
 * when it predates policy history).
 */

const role = (name: string) => ROLE_TEMPLATES.find((r) => r.displayName === name)!.id;
const READERS = ['Global Administrator', 'Security Administrator', 'Conditional Access Administrator', 'Global Reader', 'Security Reader'].map(role);

/** Replay shows sign-in logs and policies: an app needs AuditLog.Read.All and a Policy permission; a user one of the readers' roles. */
export function authorizeReplay(actor: Actor): void {
  if (actor.kind === 'operator') return;
  if (actor.kind === 'app') {
    if (!permits(actor.permissions, 'audit.read') || !permits(actor.permissions, 'policy.read')) {
      throw new ForbiddenError('Insufficient privileges: replay and impact analysis need AuditLog.Read.All and one of Policy.Read.All, Policy.ReadWrite.ConditionalAccess, Policy.ReadWrite.AuthenticationMethod.');
    }
    return;
  }
  if (!actor.roles.some((r) => READERS.includes(r))) {
    throw new ForbiddenError('Insufficient privileges: replay and impact analysis need one of the roles Global Administrator, Security Administrator, Conditional Access Administrator, Global Reader, Security Reader.');
  }
}

/** What a sign-in record keeps for replay. */
export type RecordedSignIn = {
  id: string;
  createdDateTime: string;
  userId: string | null;
  userPrincipalName: string | null;
  appId: string | null;
  appDisplayName: string | null;
  decision: Decision;
  input: { user: SignInUser; request: SignInRequest; session: SessionState };
  policyVersion: string;
};

/** Why a record can't be replayed (stable codes, counted by impact analysis). */
export type Unreplayable = { code: 'noDecision' | 'noRecordedInput'; reason: string };

/** The replayable parts of a stored record, or why it has none. */
export function recordedSignIn(record: Record<string, unknown>): RecordedSignIn | Unreplayable {
  const decision = record.gatehouseDecision as Decision | undefined;
  if (!decision || typeof decision !== 'object') {
    return { code: 'noDecision', reason: 'the record holds no decision: the engine did not decide this attempt (a failed or refused first factor, a token refresh, or a step before any factor)' };
  }
  const input = record.gatehouseInput as RecordedSignIn['input'] | undefined;
  const version = record.gatehousePolicyVersion;
  if (!input || typeof input !== 'object' || !input.user || !input.request || !input.session || (typeof version !== 'string' && typeof version !== 'number')) {
    return { code: 'noRecordedInput', reason: "the record holds a decision but not the engine's input and policy version (recorded before replay was added), so it can't be decided again" };
  }
  return {
    id: String(record.id), createdDateTime: String(record.createdDateTime),
    userId: (record.userId as string | null) ?? null, userPrincipalName: (record.userPrincipalName as string | null) ?? null,
    appId: (record.appId as string | null) ?? null, appDisplayName: (record.appDisplayName as string | null) ?? null,
    decision, input, policyVersion: String(version),
  };
}

export const isUnreplayable = (r: RecordedSignIn | Unreplayable): r is Unreplayable => 'code' in r && 'reason' in r && !('decision' in r);

/** Decide a recorded sign-in again under these policies (the same engine call as the live sign-in). */
export function redecide(recorded: RecordedSignIn, policies: PolicySnapshot): Decision {
  return evaluateSignIn({ policies, user: recorded.input.user, request: recorded.input.request, session: recorded.input.session });
}

export type Against = 'recorded' | 'current' | { proposed: unknown };

export type ReplayResult = {
  signInId: string;
  createdDateTime: string;
  userId: string | null;
  userPrincipalName: string | null;
  appId: string | null;
  appDisplayName: string | null;
  against: 'recorded' | 'current' | 'proposed';
  policyVersions: { recorded: string; replayed: string | null; proposedOn?: string | null };
  /** Against a proposed set: what it changes. */
  proposedChanges?: string[];
  recordedDecision: Decision;
  replayedDecision: Decision;
  /** An outcome, code, requirement, policy or rule result, or acr differs. */
  changed: boolean;
  differences: DecisionDifferences;
  /** Against the recorded policies: the replayed decision is the recorded one, field for field. */
  reproduces?: boolean;
};


/**
 * `POST /auditLogs/signIns/{id}/gatehouseReplay`: re-decide one sign-in against the policies it
 * was decided under (`recorded`), the tenant's current ones, or a proposed set. A record that
 * can't be replayed is a 409 saying why.
 */
export async function replaySignIn(db: Db, tenantId: string, actor: Actor, signInId: string, opts: { against: Against; proposed?: ProposedSet }, now: Date): Promise<ReplayResult> {
  authorizeReplay(actor);
  const proposed = typeof opts.against === 'object' ? opts.proposed ?? await proposedSnapshot(db, tenantId, opts.against.proposed, now) : undefined;
  const recorded = recordedSignIn(await getSignIn(db, tenantId, signInId));
  if (isUnreplayable(recorded)) throw new ConflictError(`WIF-2: sign-in ${signInId} can't be replayed: ${recorded.reason}.`, { gatehouseRule: 'WIF-2', gatehouseReason: recorded.code });
  let policies: PolicySnapshot;
  let replayedVersion: string | null;
  if (opts.against === 'recorded') {
    const loaded = await policySnapshotOfVersion(db, tenantId, recorded.policyVersion);
    if (isMissingVersion(loaded)) throw new ConflictError(`WIF-2: sign-in ${signInId} can't be replayed against its recorded policies: ${loaded.reason}. Replay it against the current policies instead.`, { gatehouseRule: 'WIF-2', gatehouseReason: 'policyVersionNotKept' });
    policies = loaded;
    replayedVersion = recorded.policyVersion;
  } else if (opts.against === 'current') {
    policies = await loadPolicySnapshot(db, tenantId);
    replayedVersion = policyVersionOf(policies) ?? null;
  } else {
    policies = proposed!.snapshot;
    replayedVersion = null;
  }
  const replayed = redecide(recorded, policies);
  const comparison = compareDecisions(recorded.decision, replayed);
  const against = typeof opts.against === 'object' ? 'proposed' : opts.against;
  return {
    signInId: recorded.id, createdDateTime: recorded.createdDateTime, userId: recorded.userId, userPrincipalName: recorded.userPrincipalName,
    appId: recorded.appId, appDisplayName: recorded.appDisplayName, against,
    policyVersions: { recorded: recorded.policyVersion, replayed: replayedVersion, ...(proposed ? { proposedOn: proposed.baseVersion } : {}) },
    ...(proposed ? { proposedChanges: proposed.summary } : {}),
    recordedDecision: recorded.decision, replayedDecision: replayed,
    changed: comparison.changed, differences: comparison.differences,
    ...(against === 'recorded' ? { reproduces: comparison.identical } : {}),
  };
}

/**
 * The API's body: a proposed set (any of its families) replays against it; `{ "against":
 * "recorded" | "current" }` against one of those; an empty body against both.
 */
export function replayTargets(body: unknown): Against[] {
  if (body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)) return ['recorded', 'current'];
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('request body', 'object', 'The request body must be a JSON object: a proposed policy set, { "against": "recorded" | "current" }, or empty.');
  const { against, ...rest } = body as Record<string, unknown>;
  if (against !== undefined && against !== 'recorded' && against !== 'current' && against !== 'proposed') throw new ValidationError('against', 'enum', "'against' must be 'recorded', 'current' or 'proposed'.");
  if (Object.keys(rest).length > 0 || against === 'proposed') return [{ proposed: rest }];
  return [against as 'recorded' | 'current'];
}
