import { USER_ACTION_REGISTER_SECURITY_INFO, type DevicePlatform } from '../domain/conditionalAccess.ts';
import { parseCidr } from '../domain/conditionalAccess.ts';
import { evaluateSignIn } from './evaluateSignIn.ts';
import type { Decision, PerformedMethod, PolicySnapshot, SignInRequest, SignInUser } from './types.ts';

export type AdminAccess = { userId: string; userPrincipalName: string; canSignIn: boolean; how: string };
export type LockoutVerdict = { ok: true; admins: AdminAccess[] } | { ok: false; reason: string; admins: AdminAccess[]; globalAdministrators: string[] };

const PLATFORMS: DevicePlatform[] = ['windows', 'macOS', 'linux', 'iOS', 'android'];

/** Addresses worth trying: none, and the first address of each IP named location (trusted ones first). */
function addresses(p: PolicySnapshot): (string | null)[] {
  const out: (string | null)[] = [null];
  const locations = [...p.namedLocations].sort((a, b) => Number('isTrusted' in b && b.isTrusted) - Number('isTrusted' in a && a.isTrusted));
  for (const l of locations) {
    if (l['@odata.type'] !== '#microsoft.graph.ipNamedLocation') continue;
    const c = l.ipRanges.map((r) => parseCidr(r.cidrAddress)).find((x) => x !== undefined);
    if (!c) continue;
    const host = c.bits === (c.v === 4 ? 32 : 128) ? c.net : c.net + 1n;
    out.push(c.v === 4 ? [24n, 16n, 8n, 0n].map((s) => String((host >> s) & 255n)).join('.') : Array.from({ length: 8 }, (_, i) => ((host >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':'));
    if (out.length >= 6) break;
  }
  return out;
}

/**
 * Can this user finish a sign-in to `appId` in this context? Starting from each usable method,
 * follow the engine's answers: a challenge performs its candidates, a PLT-4 registration (after
 * a TAP) registers a passkey if the security-info decision allows it, until grant or a dead end.
 */
function reachable(policies: PolicySnapshot, user: SignInUser, base: SignInRequest): string | undefined {
  const usable = user.methods.filter((m) => m.usable && !m.suspended);
  for (const start of usable) {
    let performed: PerformedMethod[] = start.modes.map((mode) => ({ mode, at: base.at, methodId: start.id, aaGuid: start.aaGuid ?? null }));
    let registered = false;
    for (let step = 0; step < 5; step++) {
      const d: Decision = evaluateSignIn({ policies, user, request: base, session: { performed } });
      if (d.outcome === 'grant') return `${start.type}${performed.length > start.modes.length ? ' then ' + performed.slice(start.modes.length).map((p) => p.mode).join(', ') : ''}${registered ? ' (after registering a passkey, PLT-4)' : ''}`;
      if (d.outcome === 'block') break;
      if (d.outcome === 'challenge') {
        const more = d.requirements.filter((r) => !r.satisfied).flatMap((r) => r.candidates)
          .flatMap((c) => c.modes.map((mode) => ({ mode, at: base.at, methodId: c.methodId, aaGuid: usable.find((m) => m.id === c.methodId)?.aaGuid ?? null })))
          .filter((p) => !performed.some((x) => x.methodId === p.methodId && x.mode === p.mode));
        if (more.length === 0) break;
        performed = [...performed, ...more];
        continue;
      }
      // register: only PLT-4 after a TAP counts (WIF-3), and the security-info decision must allow it.
      if (registered || d.registration?.rule !== 'PLT-4' || !performed.some((p) => p.mode.startsWith('temporaryAccessPass'))) break;
      const si = evaluateSignIn({ policies, user, request: { ...base, userAction: USER_ACTION_REGISTER_SECURITY_INFO, securityInfoOperation: 'register' }, session: { performed } });
      if (si.outcome !== 'grant') break;
      registered = true;
      const withPasskey: SignInUser = { ...user, methods: [...user.methods, { id: 'wif3-new-passkey', type: 'fido2', modes: ['fido2'], usable: true, usabilityReason: 'EnabledByPolicy', aaGuid: null }] };
      user = withPasskey;
      performed = [...performed, { mode: 'fido2', at: base.at, methodId: 'wif3-new-passkey', aaGuid: null }];
    }
  }
  return undefined;
}

/**
 * WIF-3: would this policy set leave no enabled Global Administrator able to sign in to the admin
 * console, with a method they hold or by registering a passkey through PLT-4 with a usable TAP?
 * Tries a browser with WebAuthn on each common platform, with no address and with an address in
 * each IP named location, so a location- or platform-scoped policy doesn't count as a lockout.
 */
export function lockoutVerdict(policies: PolicySnapshot, globalAdministrators: readonly SignInUser[], consoleAppId: string, at: string): LockoutVerdict {
  const ips = addresses(policies);
  const admins: AdminAccess[] = globalAdministrators.map((u) => {
    if (!u.accountEnabled) return { userId: u.id, userPrincipalName: u.userPrincipalName, canSignIn: false, how: 'account disabled' };
    for (const platform of PLATFORMS) {
      for (const ip of ips) {
        const how = reachable(policies, u, { at, appId: consoleAppId, clientAppType: 'browser', platform, ipAddress: ip, capabilities: { webauthn: true } });
        if (how) return { userId: u.id, userPrincipalName: u.userPrincipalName, canSignIn: true, how: `${how} on ${platform}${ip ? ` from ${ip}` : ''}` };
      }
    }
    return { userId: u.id, userPrincipalName: u.userPrincipalName, canSignIn: false, how: u.methods.some((m) => m.usable) ? 'no usable method leads to a grant' : 'no usable method' };
  });
  if (admins.some((a) => a.canSignIn)) return { ok: true, admins };
  const reason = globalAdministrators.length === 0
    ? 'the tenant has no Global Administrator.'
    : `with these policies no enabled Global Administrator could sign in to the admin console (${admins.map((a) => `${a.userPrincipalName}: ${a.how}`).join('; ')}).`;
  return { ok: false, reason, admins, globalAdministrators: admins.map((a) => a.userPrincipalName) };
}
