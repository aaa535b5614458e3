import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * TAP-8: tokens obtained with a Temporary Access Pass end no later than the pass. The sign-in
 * flow reports the instant (`sessionNotAfter`); `finishInteraction` (interactions.ts) saves the
 * sign-in's Grant with that expiry instead of the default 90 days. oidc-provider loads the Grant
 * as `ctx.oidc.entities.Grant` wherever it issues tokens for a user (code exchange, refresh,
 * authorization resume), so every ttl below is capped at the Grant's `exp`; and a refresh after
 * it is refused by oidc-provider itself (`invalid_grant`: the refresh token or the grant has
 * expired). ttl functions must be synchronous and positive: an already-expired grant yields 1
 * second, but oidc-provider refuses to issue from an expired grant before any ttl is asked for.
 */
export function grantExpiry(ctx: KoaContextWithOIDC | undefined): number | undefined {
  const exp = (ctx?.oidc?.entities as { Grant?: { exp?: unknown } } | undefined)?.Grant?.exp;
  return typeof exp === 'number' ? exp : undefined;
}

/** `ttl` seconds, or fewer so that the token ends no later than its Grant (never below 1). */
export function cappedTtl(ctx: KoaContextWithOIDC | undefined, ttl: number, nowSeconds = Math.floor(Date.now() / 1000)): number {
  const exp = grantExpiry(ctx);
  if (exp === undefined) return ttl;
  return Math.max(1, Math.min(ttl, exp - nowSeconds));
}

/**
 * The Grant's lifetime for a sign-in: `familySeconds` (the refresh token family's 90 days), or
 * up to `sessionNotAfter` when the sign-in used a pass. Whole seconds, at least 1.
 */
export function grantTtlFor(sessionNotAfter: string | null, familySeconds: number, now: Date): number {
  if (!sessionNotAfter) return familySeconds;
  const left = Math.floor((Date.parse(sessionNotAfter) - now.getTime()) / 1000);
  return Math.max(1, Math.min(familySeconds, left));
}
