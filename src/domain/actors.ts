import { ForbiddenError } from './errors.ts';
import { permits, ROLE_TEMPLATES, type RouteScope } from './directory.ts';

/**
 * Who is acting: an automation app (Graph application permissions, DIR-6), an interactive admin
 * (directory roles, DIR-4), or the local operator at the CLI, who has the machine and so the
 * database already.
 */
export type Actor =
  | { kind: 'app'; appId: string; permissions: readonly string[] }
  | { kind: 'user'; id: string; userPrincipalName: string; roles: readonly string[] }
  | { kind: 'operator'; name: string };

const ROLE = Object.fromEntries(ROLE_TEMPLATES.map((r) => [r.displayName, r.id])) as Record<string, string>;
const PRIVILEGED_AUTH_ADMIN = ROLE['Privileged Authentication Administrator']!;
const AUTH_ADMIN = ROLE['Authentication Administrator']!;
const GLOBAL_ADMIN = ROLE['Global Administrator']!;
const READERS = [ROLE['Global Reader']!, ROLE['Security Reader']!, ROLE['Security Administrator']!, ROLE['Reports Reader']!];

export type MethodTarget = { id: string; isAdmin: boolean; userType: 'Member' | 'Guest' };

/**
 * TAP-9 (and the same split for every user method): Privileged Authentication Administrator
 * (and Global Administrator) for admins and members, Authentication Administrator for members
 * only, nobody for themselves; readers see metadata. Apps need UserAuthenticationMethod.*.
 */
export function authorizeMethodAccess(actor: Actor, target: MethodTarget, access: 'read' | 'write'): void {
  if (actor.kind === 'operator') return;
  if (actor.kind === 'app') {
    const scope: RouteScope = access === 'read' ? 'methods.read' : 'methods.write';
    if (!permits(actor.permissions, scope)) {
      throw new ForbiddenError(`Insufficient privileges: this call needs ${access === 'read' ? 'UserAuthenticationMethod.Read.All or UserAuthenticationMethod.ReadWrite.All' : 'UserAuthenticationMethod.ReadWrite.All'} (TAP-9).`);
    }
    return;
  }
  if (access === 'write' && actor.id === target.id) {
    throw new ForbiddenError('TAP-9: administrators cannot manage their own authentication methods through the admin API; use the security-info portal or ask another administrator.');
  }
  const has = (r: string) => actor.roles.includes(r);
  if (has(PRIVILEGED_AUTH_ADMIN) || has(GLOBAL_ADMIN)) return;
  if (has(AUTH_ADMIN)) {
    if (target.isAdmin) throw new ForbiddenError('TAP-9: an Authentication Administrator can manage methods of non-admin users only; this user holds an admin role, which needs a Privileged Authentication Administrator.');
    return;
  }
  if (access === 'read' && READERS.some(has)) return;
  throw new ForbiddenError('TAP-9: managing authentication methods needs the Authentication Administrator or Privileged Authentication Administrator role.');
}
