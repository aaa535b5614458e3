import { GatehouseError } from '../../domain/errors.ts';
import { recordSnooze } from '../../store/campaignSnoozes.ts';
import { findUser } from '../../store/users.ts';
import { decide, publicDecision, requireFlow, signInInput, SignInRefused, stepLogger, type SignInContext } from './flow.ts';

const DAY_MS = 24 * 60 * 60_000;

/**
 * PLT-5 "Not now": the user snoozes the registration campaign's nudge of a granted sign-in. One
 * transaction: the flow locked, the decision taken again now (the nudge must still be offered and
 * snoozable: a second snooze in the same sign-in, or after the campaign was switched off, is
 * refused), the snooze counted (`snoozeCount` + 1, away for `snoozeDurationInDays`), and the
 * flow's sign-in record for the step (LOG-1: like Entra, the campaign's outcome is part of the
 * sign-in, not a directory audit). Once the allowed snoozes are used, the next sign-in's decision
 * is `register` (PLT-5 enforcement).
 */
export async function snoozeCampaign(ctx: SignInContext, flowId: string) {
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const flow = await requireFlow(trx, ctx.tenantId, flowId, ctx.now);
    if (flow.state.completedAt) return { refused: new SignInRefused('FlowExpired', 409, 'This sign-in was already completed; start again.') };
    if (!flow.userId || flow.state.decision?.outcome !== 'grant') {
      return { refused: new SignInRefused('FlowNotGranted', 409, 'Only a granted sign-in can snooze the registration campaign.') };
    }
    const decision = decide(await signInInput(trx, ctx, flow, flow.userId));
    const nudge = decision.nudge;
    if (decision.outcome !== 'grant' || !nudge || !nudge.canSnooze) {
      const why = decision.platformRules.find((r) => r.id === 'PLT-5')?.sentence ?? 'PLT-5: no nudge.';
      return { refused: new GatehouseError(409, 'NoCampaignNudge', `There is no registration campaign nudge to snooze in this sign-in now (${why})`) };
    }
    const until = new Date(ctx.now.getTime() + nudge.snoozeDurationInDays * DAY_MS);
    const state = await recordSnooze(trx, ctx.tenantId, flow.userId, until, ctx.now);
    const user = await findUser(trx, ctx.tenantId, flow.userId);
    const of = nudge.snoozesAllowed === null ? 'no limit' : `${nudge.snoozesAllowed} allowed`;
    await stepLogger(trx, ctx, flow, user, { method: 'Registration campaign', methodDetail: 'Snoozed' })(
      null, `PLT-5: the user snoozed the registration campaign (${nudge.mode}) until ${until.toISOString()}: snooze ${state.snoozeCount} (${of}).`, decision);
    return {
      ok: {
        flowId: flow.id, mode: nudge.mode, snoozeCount: state.snoozeCount, snoozesAllowed: nudge.snoozesAllowed, snoozedUntil: state.snoozedUntil,
        decision: publicDecision(decision),
      },
    };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}
