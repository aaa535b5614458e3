import type { Db } from './database.ts';

/**
 * PLT-5 registration campaign: a user's snoozes of the nudge (migration 8). The engine reads them
 * as `SignInUser.campaign`; the flow API's snooze step writes them.
 */
export type CampaignSnoozeState = { snoozeCount: number; snoozedUntil: string | null };

/** The user's snooze state; `{0, null}` for a user who never snoozed. */
export async function campaignSnoozeOf(db: Db, tenantId: string, userId: string): Promise<CampaignSnoozeState> {
  const row = await db.selectFrom('campaign_snoozes').select(['snooze_count', 'snoozed_until'])
    .where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
  return row ? { snoozeCount: row.snooze_count, snoozedUntil: new Date(row.snoozed_until).toISOString() } : { snoozeCount: 0, snoozedUntil: null };
}

/**
 * One more snooze, until `until`: the count goes up by one in the same statement, so two snoozes
 * at once both count. Returns the new state.
 */
export async function recordSnooze(db: Db, tenantId: string, userId: string, until: Date, now: Date): Promise<CampaignSnoozeState> {
  const row = await db.insertInto('campaign_snoozes')
    .values({ tenant_id: tenantId, user_id: userId, snooze_count: 1, snoozed_until: until, last_snoozed_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet((eb) => ({
      snooze_count: eb('campaign_snoozes.snooze_count', '+', 1), snoozed_until: until, last_snoozed_at: now,
    })))
    .returning(['snooze_count', 'snoozed_until'])
    .executeTakeFirstOrThrow();
  return { snoozeCount: row.snooze_count, snoozedUntil: new Date(row.snoozed_until).toISOString() };
}
