import { z } from 'zod';
import type { Actor } from '../../domain/actors.ts';
import { ValidationError } from '../../domain/errors.ts';
import { isGuid, parseInput } from '../../domain/validation.ts';
import { decisiveChange, diffDecisions, hasDifferences, type DecisiveChange } from '../../engine/replayDiff.ts';
import type { Decision } from '../../engine/types.ts';
import type { Db } from '../../store/database.ts';
import { replayableSignIns } from '../../store/signIns.ts';
import { proposedSnapshot } from './proposed.ts';
import { authorizeReplay, isUnreplayable, recordedSignIn, redecide } from './replay.ts';

/**
 * WIF-2 impact analysis: re-decide every replayable sign-in of a time window against a proposed
 * policy set and count what would change. The records are read in keyset-paginated batches
 * (oldest first, `(created_date_time, id)`, the 0002/0005 indexes), so memory stays bounded
 * whatever the window holds; the proposed snapshot is compiled once (the engine caches compiled
 * snapshots per snapshot object). The comparison is with the decision each record carries.
 */
export const IMPACT_LIMITS = {
  /** The widest window, in days. */
  maxWindowDays: 366,
  /** Default and largest number of records examined. */
  defaultMaxRecords: 10_000,
  maxRecords: 100_000,
  defaultExamples: 5,
  maxExamples: 50,
  defaultAffectedUsers: 20,
  maxAffectedUsers: 500,
  batchSize: 500,
} as const;

const iso = (field: string) => z.iso.datetime({ offset: true, error: `'${field}' must be an ISO 8601 date and time` });
export const impactRequest = z.strictObject({
  proposed: z.unknown(),
  from: iso('from').optional(),
  to: iso('to').optional(),
  /** A user's object id or user principal name. */
  userId: z.string().min(1).max(320).optional(),
  appId: z.string().max(100).refine(isGuid, 'must be an application (client) id, a GUID').optional(),
  maxRecords: z.number().int().min(1).max(IMPACT_LIMITS.maxRecords, `at most ${IMPACT_LIMITS.maxRecords}`).default(IMPACT_LIMITS.defaultMaxRecords),
  examplesPerChange: z.number().int().min(0).max(IMPACT_LIMITS.maxExamples, `at most ${IMPACT_LIMITS.maxExamples}`).default(IMPACT_LIMITS.defaultExamples),
  maxAffectedUsers: z.number().int().min(0).max(IMPACT_LIMITS.maxAffectedUsers, `at most ${IMPACT_LIMITS.maxAffectedUsers}`).default(IMPACT_LIMITS.defaultAffectedUsers),
});
export type ImpactRequest = z.input<typeof impactRequest>;

export type ImpactExample = {
  signInId: string;
  createdDateTime: string;
  userId: string | null;
  userPrincipalName: string | null;
  appId: string | null;
  appDisplayName: string | null;
  recorded: { outcome: Decision['outcome']; errorCode: number | null };
  proposed: { outcome: Decision['outcome']; errorCode: number | null; failureReason: string | null };
  /** The policy or rule that made the difference. */
  cause: DecisiveChange | null;
};

export type ImpactReport = {
  window: { from: string; to: string };
  filter: { userId: string | null; appId: string | null };
  proposedOn: string | null;
  proposedChanges: string[];
  limits: { maxRecords: number; examplesPerChange: number; maxAffectedUsers: number; maxWindowDays: number };
  examined: number;
  replayable: number;
  skipped: { total: number; byReason: { code: string; reason: string; count: number }[] };
  /** Outcome transitions, `unchanged` included: `{ recorded: 'grant', proposed: 'block', count }`. */
  outcomes: { recorded: Decision['outcome']; proposed: Decision['outcome']; count: number }[];
  changedOutcomes: number;
  /** Records whose error code changes (outcome changed or not). */
  errorCodeChanges: { recorded: number | null; proposed: number | null; count: number }[];
  /** Records whose decision changes in any way a reader acts on (outcome, code, requirement, policy or rule result, acr). */
  changedDecisions: number;
  affectedUsers: { count: number; users: { id: string | null; userPrincipalName: string | null }[] };
  /** Up to `examplesPerChange` examples per change kind (`grant → block`, `challenge (50076) → challenge (900403)`, …). */
  examples: { change: string; count: number; examples: ImpactExample[] }[];
  /** More records matched than `maxRecords`: the counts cover the oldest `examined` of them. */
  truncated: boolean;
  truncatedReason?: string;
  /** Where the next analysis could continue (the first record not examined). */
  continueFrom?: string;
  elapsedMs: number;
};

/** `POST /identity/conditionalAccess/gatehouseImpact`. */
export async function analyseImpact(db: Db, tenantId: string, actor: Actor, raw: unknown, now: Date): Promise<ImpactReport> {
  authorizeReplay(actor);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('request body', 'object', 'The request body must be a JSON object: { proposed, from, to, userId?, appId?, maxRecords?, examplesPerChange?, maxAffectedUsers? }.');
  const body = parseInput(impactRequest, raw);
  if (body.proposed === undefined) throw new ValidationError('proposed', 'required', "Property 'proposed' is required: the proposed policy set to analyse (docs/replay.md).");
  const to = body.to ? new Date(body.to) : now;
  const from = body.from ? new Date(body.from) : new Date(to.getTime() - 7 * 86_400_000);
  if (from.getTime() >= to.getTime()) throw new ValidationError('from', 'window', `'from' (${from.toISOString()}) must be before 'to' (${to.toISOString()}).`);
  if (to.getTime() - from.getTime() > IMPACT_LIMITS.maxWindowDays * 86_400_000) {
    throw new ValidationError('from', 'window', `The window is at most ${IMPACT_LIMITS.maxWindowDays} days; analyse a longer period in parts.`);
  }
  const proposed = await proposedSnapshot(db, tenantId, body.proposed, now);
  const started = performance.now();

  const skipped = new Map<string, { code: string; reason: string; count: number }>();
  const outcomes = new Map<string, { recorded: Decision['outcome']; proposed: Decision['outcome']; count: number }>();
  const codes = new Map<string, { recorded: number | null; proposed: number | null; count: number }>();
  const kinds = new Map<string, { change: string; count: number; examples: ImpactExample[] }>();
  const affected = new Map<string, { id: string | null; userPrincipalName: string | null }>();
  let examined = 0;
  let replayable = 0;
  let changedOutcomes = 0;
  let changedDecisions = 0;
  let truncated = false;
  let continueFrom: string | undefined;

  const user = body.userId;
  const appId = body.appId?.toLowerCase();
  let after: { t: Date; id: string } | undefined;
  for (;;) {
    const limit = Math.min(IMPACT_LIMITS.batchSize, body.maxRecords - examined + 1);
    const rows = await replayableSignIns(db, tenantId, { from, to, ...(user ? { user } : {}), ...(appId ? { appId } : {}), ...(after ? { after } : {}), limit });
    for (const row of rows) {
      if (examined === body.maxRecords) {
        truncated = true;
        continueFrom = row.created_date_time.toISOString();
        break;
      }
      examined++;
      const recorded = recordedSignIn(row.record);
      if (isUnreplayable(recorded)) {
        const s = skipped.get(recorded.code) ?? { code: recorded.code, reason: recorded.reason, count: 0 };
        s.count++;
        skipped.set(recorded.code, s);
        continue;
      }
      replayable++;
      const decision = redecide(recorded, proposed.snapshot);
      const a = recorded.decision;
      const o = `${a.outcome}>${decision.outcome}`;
      const oc = outcomes.get(o) ?? { recorded: a.outcome, proposed: decision.outcome, count: 0 };
      oc.count++;
      outcomes.set(o, oc);
      const codeChanged = (a.errorCode ?? null) !== (decision.errorCode ?? null);
      if (codeChanged) {
        const k = `${a.errorCode}>${decision.errorCode}`;
        const c = codes.get(k) ?? { recorded: a.errorCode ?? null, proposed: decision.errorCode ?? null, count: 0 };
        c.count++;
        codes.set(k, c);
      }
      const outcomeChanged = a.outcome !== decision.outcome;
      if (!outcomeChanged && !codeChanged) {
        // Only what a reader acts on (no field-for-field comparison of explanations: not needed here).
        if (hasDifferences(diffDecisions(a, decision))) changedDecisions++;
        continue;
      }
      changedDecisions++;
      if (outcomeChanged) changedOutcomes++;
      const userKey = recorded.userId ?? recorded.userPrincipalName ?? '(unknown user)';
      if (!affected.has(userKey)) affected.set(userKey, { id: recorded.userId, userPrincipalName: recorded.userPrincipalName });
      const change = outcomeChanged ? `${a.outcome} → ${decision.outcome}` : `${a.outcome} (${a.errorCode}) → ${decision.outcome} (${decision.errorCode})`;
      const kind = kinds.get(change) ?? { change, count: 0, examples: [] };
      kind.count++;
      if (kind.examples.length < body.examplesPerChange) {
        kind.examples.push({
          signInId: recorded.id, createdDateTime: recorded.createdDateTime, userId: recorded.userId, userPrincipalName: recorded.userPrincipalName,
          appId: recorded.appId, appDisplayName: recorded.appDisplayName,
          recorded: { outcome: a.outcome, errorCode: a.errorCode ?? null },
          proposed: { outcome: decision.outcome, errorCode: decision.errorCode, failureReason: decision.failureReason },
          cause: decisiveChange(diffDecisions(a, decision)),
        });
      }
      kinds.set(change, kind);
    }
    if (truncated || rows.length < limit) break;
    const last = rows.at(-1)!;
    after = { t: last.created_date_time, id: last.id };
  }

  const users = [...affected.values()];
  return {
    window: { from: from.toISOString(), to: to.toISOString() },
    filter: { userId: user ?? null, appId: appId ?? null },
    proposedOn: proposed.baseVersion, proposedChanges: proposed.summary,
    limits: { maxRecords: body.maxRecords, examplesPerChange: body.examplesPerChange, maxAffectedUsers: body.maxAffectedUsers, maxWindowDays: IMPACT_LIMITS.maxWindowDays },
    examined, replayable,
    skipped: { total: examined - replayable, byReason: [...skipped.values()] },
    outcomes: [...outcomes.values()].sort((x, y) => y.count - x.count),
    changedOutcomes,
    errorCodeChanges: [...codes.values()].sort((x, y) => y.count - x.count),
    changedDecisions,
    affectedUsers: { count: users.length, users: users.slice(0, body.maxAffectedUsers) },
    examples: [...kinds.values()].sort((x, y) => y.count - x.count),
    truncated,
    ...(truncated ? { truncatedReason: `more than maxRecords (${body.maxRecords}) sign-ins match: the counts cover the oldest ${examined}; analyse again from ${continueFrom} for the rest, or raise maxRecords (at most ${IMPACT_LIMITS.maxRecords}).`, continueFrom } : {}),
    elapsedMs: Math.round(performance.now() - started),
  };
}
