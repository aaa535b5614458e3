import assert from 'node:assert/strict';
import type { Harness } from './harness.ts';

/**
 * SIG-1 / WIF-1 ("What-If for each scenario's situation returns the same outcome and requirements
 * as the live flow"): the user's latest decided sign-in record is turned into the What-If request
 * an administrator would type for that situation (the user, the app or user action, the
 * contexts, client, platform, address, transfer method, capabilities, the methods performed with
 * how long ago, the instant), sent to `POST /identity/conditionalAccess/evaluate`, and the
 * prediction compared with what the live flow decided: outcome, error code, every requirement
 * (which, satisfied or open) and every Conditional Access result.
 *
 * Call it right after the live step, before the test changes policies or methods: What-If
 * decides over the tenant as it is now (replay is what re-decides over the past: replayCheck.ts).
 */
export async function assertWhatIfMatchesLatest(h: Harness, userId: string, token?: string): Promise<{ outcome: string }> {
  const rows = await h.database.db.selectFrom('sign_ins').select('record').where('user_id', '=', userId)
    .orderBy('created_date_time', 'desc').orderBy('id', 'desc').limit(20).execute();
  const record = rows.map((r) => r.record as any).find((r) => r.gatehouseDecision && r.gatehouseInput);
  assert.ok(record, `user ${userId} has no sign-in record with a recorded decision`);
  const live = record.gatehouseDecision;
  const { request, session } = record.gatehouseInput;
  const at = Date.parse(request.at);
  const body = {
    signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId },
    signInContext: request.userAction
      ? { '@odata.type': '#microsoft.graph.userActionContext', userAction: request.userAction === 'urn:user:registersecurityinfo' ? 'registerSecurityInformation' : 'registerOrJoinDevices' }
      : request.appId
        ? { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: [request.appId] }
        : { '@odata.type': '#microsoft.graph.authContext', authenticationContextValue: request.authenticationContexts[0] },
    signInConditions: {
      ...(request.platform ? { devicePlatform: request.platform } : {}),
      ...(request.clientAppType ? { clientAppType: request.clientAppType } : {}),
      ...(request.ipAddress ? { ipAddress: request.ipAddress } : {}),
      ...(request.transferMethod ? { authenticationFlow: { transferMethod: request.transferMethod } } : {}),
    },
    gatehouse: {
      performedMethods: session.performed.map((p: any) => ({ mode: p.mode, ...(p.methodId ? { methodId: p.methodId } : {}), minutesAgo: Math.max(0, (at - Date.parse(p.at)) / 60_000) })),
      clientCapabilities: request.capabilities ?? { webauthn: false },
      dateTime: request.at,
      ...(request.securityInfoOperation ? { securityInfoOperation: request.securityInfoOperation } : {}),
      ...(request.authenticationContexts?.length && (request.userAction || request.appId) ? { authenticationContexts: request.authenticationContexts } : {}),
    },
  };
  const r = await h.call('POST', '/graph/v1.0/identity/conditionalAccess/evaluate', { body, ...(token ? { token } : {}) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const predicted = r.body.gatehouseDecision;
  const shape = (d: any) => ({
    outcome: d.outcome,
    errorCode: d.errorCode,
    requirements: d.requirements.map((q: any) => `${q.id}:${q.satisfied ? 'met' : 'open'}`).sort(),
    policies: d.appliedConditionalAccessPolicies.map((p: any) => `${p.displayName}:${p.result}`).sort(),
  });
  assert.deepEqual(shape(predicted), shape(live), `What-If for the situation of sign-in ${record.id} predicts what the live flow decided`);
  return { outcome: live.outcome };
}
