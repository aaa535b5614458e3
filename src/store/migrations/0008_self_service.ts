/**
 * PLT-5 registration campaign: each user's snoozes of the nudge (SC-7). One row per user who has
 * snoozed at least once: how many times, until when the nudge stays away, and when they last
 * snoozed. The sign-in reads the row (store/campaignSnoozes.ts) only while the tenant's campaign
 * is enabled, so the hot path doesn't pay for it otherwise; the engine gets it as
 * `SignInUser.campaign` and decides nudge, nothing, or (after the allowed snoozes) `register`.
 */
export const statements = `
    CREATE TABLE campaign_snoozes (
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      snooze_count integer NOT NULL CHECK (snooze_count >= 0),
      snoozed_until timestamptz NOT NULL,
      last_snoozed_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, user_id)
    )
`;
