import { methodEnabledFor, type MethodsPolicy } from '../domain/methodsPolicy.ts';
import { MODE_CONFIGURATION } from '../domain/strengths.ts';
import type { CompiledStrength } from './compiled.ts';
import type { Candidate, PerformedMethod, UserMethod } from './types.ts';

/** STR-3 "each method is allowed for the user by the methods policy", answered once per mode per decision. */
export type ModeAllowed = (mode: string) => boolean;

export function modeAllowedFor(policy: MethodsPolicy, groupIds: readonly string[]): ModeAllowed {
  const memo = new Map<string, boolean>();
  return (mode) => {
    let v = memo.get(mode);
    if (v === undefined) {
      const config = MODE_CONFIGURATION[mode];
      v = config ? methodEnabledFor(policy, config, groupIds).enabled : false;
      memo.set(mode, v);
    }
    return v;
  };
}

function aaguidOk(s: CompiledStrength, mode: string, aaGuid: string | null | undefined): boolean {
  return mode !== 'fido2' || !s.allowedAaguids || (!!aaGuid && s.allowedAaguids.has(aaGuid.toLowerCase()));
}

/**
 * `strengthSatisfied` (STR-3): a combination is satisfied when every mode in it was performed in
 * the session, each allowed for the user by the methods policy, and a fido2 AAGUID restriction
 * matches the credential used. Returns the first satisfied combination and the methods used.
 */
export function strengthSatisfied(s: CompiledStrength, performed: readonly PerformedMethod[], allowed: ModeAllowed): { combination: string; methods: PerformedMethod[] } | undefined {
  for (const combo of s.combinations) {
    const used: PerformedMethod[] = [];
    for (const mode of combo) {
      const p = performed.find((x) => x.mode === mode && allowed(mode) && aaguidOk(s, mode, x.aaGuid));
      if (!p) break;
      used.push(p);
    }
    if (used.length === combo.length) return { combination: combo.join(','), methods: used };
  }
  return undefined;
}

export function usableMethods(methods: readonly UserMethod[]): UserMethod[] {
  return methods.filter((m) => m.usable && !m.suspended);
}

/**
 * The user's usable methods that would, with what was already performed, complete a combination
 * of the strength: what a challenge offers (SIG-1's "which of the user's methods would satisfy").
 */
export function candidatesFor(s: CompiledStrength, performed: readonly PerformedMethod[], usable: readonly UserMethod[], allowed: ModeAllowed): Candidate[] {
  const out: Candidate[] = [];
  for (const m of usable) {
    const fits = s.combinations.some((combo) => {
      if (!combo.every((mode) => allowed(mode))) return false;
      let contributes = false;
      for (const mode of combo) {
        if (performed.some((p) => p.mode === mode && aaguidOk(s, mode, p.aaGuid))) continue;
        if (m.modes.includes(mode) && aaguidOk(s, mode, m.aaGuid)) { contributes = true; continue; }
        // Another usable method of the user could supply this mode.
        if (!usable.some((o) => o !== m && o.modes.includes(mode) && aaguidOk(s, mode, o.aaGuid))) return false;
      }
      return contributes;
    });
    if (fits) out.push({ methodId: m.id, type: m.type, modes: m.modes, displayName: m.displayName ?? null });
  }
  return out;
}
