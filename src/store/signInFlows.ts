import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from './database.ts';

export type PerformedMethod = { method: string; methodId: string; at: string; aaGuid?: string | null };
/** The last decision of the flow (SIG-1), kept so completion and the next step know where it stands. */
export type FlowDecision = {
  outcome: 'grant' | 'challenge' | 'register' | 'block'; errorCode: number | null; acr: string[]; at: string; registration?: { modes: readonly string[]; rule: string } | null;
  /** The reason of a block, so what ends the sign-in elsewhere (a device code, SC-5) can say why. */
  failureReason?: string | null;
};
export type SignInFlowState = {
  appId: string | null;
  /** The app's display name when the flow started, for the steps' sign-in records (LOG-1); absent in older flows. */
  appDisplayName?: string | null;
  performed: PerformedMethod[];
  /** Passkeys registered in this sign-in (PLT-3 does not count them as existing methods). */
  registeredMethodIds?: string[];
  correlationId: string;
  userAction?: 'urn:user:registersecurityinfo' | 'urn:user:registerdevice' | null;
  authenticationContexts?: string[];
  capabilities?: { webauthn: boolean };
  /** CA-2 `authenticationFlows`: how the sign-in reached this browser (the OAuth device authorization grant). */
  transferMethod?: 'deviceCodeFlow' | null;
  /** The oidc-provider interaction this flow signs in for, if any. */
  interactionUid?: string | null;
  startedAt?: string;
  decision?: FlowDecision | null;
  completedAt?: string | null;
  /** TAP-8: when a session obtained with a pass must end. */
  sessionNotAfter?: string | null;
};
export type FlowOptions = Pick<SignInFlowState, 'userAction' | 'authenticationContexts' | 'capabilities' | 'interactionUid' | 'transferMethod'>;
export type SignInFlow = { id: string; tenantId: string; userId: string | null; state: SignInFlowState; expiresAt: Date };

/**
 * A new flow, in one statement. With `appId`, the app is looked up (as signInFacts.applicationForLog
 * looks it up) and its display name kept in the flow's state for the steps' sign-in records; when
 * the tenant has no such app (or there is no such tenant) nothing is stored and the result is
 * undefined. With `challenge`, a usernameless passkey challenge bound to the flow is stored too, as
 * `saveChallengeForLiveFlow` would store it. Without an app, the flow's foreign key checks the tenant.
 */
export async function createFlow(db: Db, tenantId: string, appId: string | null, now: Date, lifetimeMs: number, options: FlowOptions = {},
  challenge?: { challenge: string; expiresAt: Date }): Promise<SignInFlow | undefined> {
  if (appId !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(appId)) return undefined;
  const id = randomUUID();
  const state: SignInFlowState = { appId, performed: [], correlationId: randomUUID(), startedAt: now.toISOString(), ...options };
  const expiresAt = new Date(now.getTime() + lifetimeMs);
  // `a`: one row, the app's name (or none without an app). Data-modifying WITH parts run whether or not the final SELECT reads them.
  const r = await sql<{ display_name: string | null }>`
    WITH a AS (
      SELECT NULL::text AS display_name WHERE ${appId}::uuid IS NULL
      UNION ALL
      SELECT display_name FROM applications WHERE tenant_id = ${tenantId}::uuid AND app_id = ${appId?.toLowerCase() ?? null}::uuid
    ), f AS (
      INSERT INTO sign_in_flows (id, tenant_id, user_id, state, created_at, expires_at)
      SELECT ${id}::uuid, ${tenantId}::uuid, NULL, ${JSON.stringify(state)}::jsonb || jsonb_strip_nulls(jsonb_build_object('appDisplayName', a.display_name)),
        ${now}::timestamptz, ${expiresAt}::timestamptz FROM a
      RETURNING id, tenant_id
    ), c AS (
      INSERT INTO webauthn_challenges (challenge, tenant_id, flow_id, user_id, purpose, expires_at)
      SELECT ${challenge?.challenge ?? null}::text, f.tenant_id, f.id::text, NULL, 'authentication', ${challenge?.expiresAt ?? null}::timestamptz FROM f WHERE ${challenge ? 1 : 0}::int = 1
    )
    SELECT display_name FROM a`.execute(db);
  const found = r.rows[0];
  if (!found) return undefined;
  if (found.display_name !== null) state.appDisplayName = found.display_name;
  return { id, tenantId, userId: null, state, expiresAt };
}

/** The live flow, row-locked for the rest of the step's transaction. */
export async function lockFlow(db: Db, tenantId: string, id: string, now: Date): Promise<SignInFlow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const r = await db.selectFrom('sign_in_flows').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).where('expires_at', '>', now).forUpdate().executeTakeFirst();
  return r ? flowOf(r) : undefined;
}

/** A `sign_in_flows` row as a flow. */
export const flowOf = (r: { id: string; tenant_id: string; user_id: string | null; state: unknown; expires_at: Date }): SignInFlow =>
  ({ id: r.id, tenantId: r.tenant_id, userId: r.user_id, state: r.state as SignInFlowState, expiresAt: r.expires_at });

export async function saveFlow(db: Db, flow: SignInFlow): Promise<void> {
  await saveFlowQuery(db, flow).execute();
}

/** `saveFlow` as a statement not yet run (the flow as it is now), e.g. for `writeSignInWith`. */
export function saveFlowQuery(db: Db, flow: SignInFlow) {
  return db.updateTable('sign_in_flows').set({ user_id: flow.userId, state: JSON.stringify(flow.state) }).where('id', '=', flow.id);
}
