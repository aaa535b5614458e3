import { platformSettingsPatch, platformSettingsSchema, type PlatformSettings } from '../../domain/platformRules.ts';
import { parseInput } from '../../domain/validation.ts';
import type { Db } from '../../store/database.ts';
import { getPlatformSettings, lockPolicies, savePlatformSettings } from '../../store/policies.ts';
import { auditPolicyChange, authorizePolicyChange, enforceLockoutGuard, requireObject, type PolicyContext } from './conditionalAccess.ts';

/**
 * PLT-1..PLT-4 settings at /policies/platformRulesPolicy (Gatehouse's own resource). PATCH changes
 * only the properties it names; PLT-3 `off` and a disabled PLT-4 can lock administrators out, so
 * every change goes through the WIF-3 guard.
 */
export type PlatformRulesPolicy = { id: 'platformRulesPolicy' } & PlatformSettings & { modifiedDateTime: string | null };

const SETTINGS = Object.keys(platformSettingsSchema.shape) as (keyof PlatformSettings)[];

export async function readPlatformRulesPolicy(db: Db, tenantId: string): Promise<PlatformRulesPolicy> {
  const { settings, modifiedDateTime } = await getPlatformSettings(db, tenantId);
  return { id: 'platformRulesPolicy', ...settings, modifiedDateTime };
}

export async function patchPlatformRulesPolicy(ctx: PolicyContext, raw: unknown): Promise<PlatformRulesPolicy> {
  authorizePolicyChange(ctx.actor, 'platformRules');
  const body = requireObject(raw, 'a platformRulesPolicy');
  const parsed = parseInput(platformSettingsPatch, body);
  // The patch schema fills defaults for absent properties: take only what the request named.
  const named = SETTINGS.filter((k) => k in body);
  return ctx.db.transaction().execute(async (trx) => {
    await lockPolicies(trx, ctx.tenantId);
    const current = await getPlatformSettings(trx, ctx.tenantId);
    const changed = named.filter((k) => parsed[k] !== current.settings[k]);
    if (changed.length === 0) return { id: 'platformRulesPolicy' as const, ...current.settings, modifiedDateTime: current.modifiedDateTime };
    const next = parseInput(platformSettingsSchema, { ...current.settings, ...Object.fromEntries(changed.map((k) => [k, parsed[k]])) });
    await savePlatformSettings(trx, ctx.tenantId, next, ctx.now);
    const lockout = await enforceLockoutGuard(trx, ctx.tenantId, ctx.now, ctx.force);
    await auditPolicyChange(trx, ctx, {
      activity: 'Update platform rules policy', operationType: 'Update', loggedByService: 'Authentication Methods',
      target: { id: 'platformRulesPolicy', displayName: 'Platform rules policy' }, property: 'PlatformRulesPolicy', before: current.settings, after: next, lockout,
    });
    return { id: 'platformRulesPolicy' as const, ...next, modifiedDateTime: ctx.now.toISOString() };
  });
}
