import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { FIRST_PARTY_APPS, permits, roleTemplate, type RouteScope } from '../../domain/directory.ts';
import { ForbiddenError } from '../../domain/errors.ts';
import { isGuid } from '../../domain/validation.ts';
import type { GraphTokenVerifier } from '../../oidc/graphTokens.ts';
import { graphResource, issuerFor } from '../../oidc/provider.ts';
import type { Db } from '../../store/database.ts';
import { findTenant } from '../../store/tenants.ts';
import { findUser } from '../../store/users.ts';
import { LOG_READER_ROLES } from '../graph/auditLogs.ts';
import { escapeHtml, htmlDocument } from './document.ts';

/**
 * The admin console (docs/admin-console.md): the first-party app "Gatehouse admin console"
 * (DIR-5). It signs in through the tenant's own issuer like any app (authorization code + PKCE,
 * public client, `resource` = the Graph API), so Conditional Access applies to it, and then calls
 * the Graph API and `/api/recovery` with the user's delegated token, whose permissions are those
 * of the user's directory roles (DIR-4, DIR-6). The page is a server-rendered shell; the screens
 * are native ES modules under web/console/ (no bundler), one module per screen.
 *
 *   GET /{tenantId}/admin                          the shell (also the OIDC redirect URI)
 *   GET /{tenantId}/admin/session                  who the bearer is and what the console may offer them
 *   GET /assets/console/{name}.js|css              the shell's modules and style (allow-list, CSP 'self')
 *   GET /assets/console/screens/{name}.js          one module per screen
 */

const CONSOLE_DIR = new URL('../../../web/console/', import.meta.url);
const CONSOLE = FIRST_PARTY_APPS.find((a) => a.key === 'adminConsole')!;
const ASSET_NAME = /^[a-z][a-zA-Z0-9-]{0,63}\.(js|css)$/;

type PageParams = { Params: { tenantId: string } };

/**
 * Every file the console may serve, read once at start: web/console/*.js|css and
 * web/console/screens/*.js. The URL names a key of this map or nothing: no path is ever joined
 * from the request.
 */
export function consoleAssets(dir: URL = CONSOLE_DIR): Map<string, { body: Buffer; type: string }> {
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const sub of ['', 'screens/']) {
    let names: string[];
    try {
      names = readdirSync(new URL(sub, dir));
    } catch {
      continue;
    }
    for (const name of names) {
      if (!ASSET_NAME.test(name) || (sub && !name.endsWith('.js'))) continue;
      const type = name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8';
      out.set(`${sub}${name}`, { body: readFileSync(new URL(`${sub}${name}`, dir)), type });
    }
  }
  return out;
}

function layout(title: string, body: string): string {
  return htmlDocument({ title, styles: ['/assets/console/console.css'], script: '/assets/console/main.js', body, wrapBody: false });
}

/** The shell: landmarks, navigation (filled by main.js from the screen list), the live regions and the content area. */
export function consolePage(v: { tenantId: string; tenantName: string; issuer: string; resource: string; redirectUri: string }): string {
  const data = [
    ['tenant-id', v.tenantId], ['tenant-name', v.tenantName], ['issuer', v.issuer], ['client-id', CONSOLE.appId], ['resource', v.resource], ['redirect-uri', v.redirectUri],
  ].map(([k, val]) => `data-${k}="${escapeHtml(val!)}"`).join(' ');
  return layout(`${CONSOLE.displayName} – ${v.tenantName}`, `<body id="console" ${data}>
<a class="skip-link" href="#content" id="skip-link">Skip to content</a>
<header class="console-header">
  <p class="brand"><strong>${escapeHtml(CONSOLE.displayName)}</strong> <span class="tenant">${escapeHtml(v.tenantName)}</span></p>
  <p id="who" class="who" hidden></p>
  <p class="header-actions"><button type="button" id="sign-out" class="link" hidden>Sign out</button></p>
</header>
<nav id="nav" class="console-nav" aria-label="Console" hidden><ul id="nav-list"></ul></nav>
<div id="live" class="live">
  <div id="alert" role="alert" aria-live="assertive"></div>
  <p id="status" role="status" aria-live="polite"></p>
</div>
<main id="content" class="console-main" tabindex="-1">
  <noscript><p class="problem">The admin console needs JavaScript.</p></noscript>
  <p class="loading">Loading the admin console…</p>
</main>
</body>`);
}

function problemPage(title: string, message: string): string {
  return layout(title, `<body><main id="content" class="console-main">
  <h1>${escapeHtml(title)}</h1>
  <p class="problem" role="alert">${escapeHtml(message)}</p>
</main></body>`);
}

/** What the console offers a user: computed from the same tables the API checks (the API still decides). */
function capabilities(permissions: readonly string[], roles: readonly string[]) {
  const can = (s: RouteScope) => permits(permissions, s);
  return {
    readUsers: can('users.read'), writeUsers: can('users.write'), revokeSessions: can('users.revokeSessions'),
    readGroups: can('groups.read'), readRoles: can('roles.read'),
    readMethods: can('methods.read'), manageMethods: can('methods.write'),
    readPolicies: can('policy.read'), writeMethodsPolicy: can('policy.methods.write'), writeConditionalAccess: can('policy.ca.write'),
    readLogs: roles.some((r) => LOG_READER_ROLES.includes(r)),
    // RCV-1: opening and acting on cases needs the TAP-9 roles, the same permission as managing methods.
    manageRecovery: can('methods.write'), readRecovery: can('methods.read'),
  };
}

export function consoleRoutes(app: FastifyInstance, db: Db, publicBaseUrl: string, verifier: GraphTokenVerifier): void {
  const assets = consoleAssets();
  app.get<{ Params: { name: string } }>('/assets/console/:name', async (req, reply) => {
    const a = assets.get(req.params.name);
    if (!a) return reply.callNotFound();
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  });
  app.get<{ Params: { name: string } }>('/assets/console/screens/:name', async (req, reply) => {
    const a = assets.get(`screens/${req.params.name}`);
    if (!a) return reply.callNotFound();
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  });

  // The OIDC redirect URI too: the script reads `code` and `state` from the query, then drops them from the address.
  app.get<PageParams>('/:tenantId/admin', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const tenant = isGuid(req.params.tenantId) ? await findTenant(db, req.params.tenantId.toLowerCase()) : undefined;
    if (!tenant) {
      return reply.status(404).type('text/html; charset=utf-8').send(problemPage('No such organisation', 'There is no such organisation on this server. Check the link you followed.'));
    }
    return reply.type('text/html; charset=utf-8').send(consolePage({
      tenantId: tenant.id, tenantName: tenant.displayName, issuer: issuerFor(publicBaseUrl, tenant.id),
      resource: graphResource(publicBaseUrl), redirectUri: `${publicBaseUrl}/${tenant.id}/admin`,
    }));
  });

  // The signed-in admin, their roles and what the console may offer them. Errors have the Graph error body.
  app.get<PageParams>('/:tenantId/admin/session', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const caller = await verifier.verify(req.headers.authorization);
    if (caller.kind !== 'user' || caller.appId !== CONSOLE.appId || caller.tenantId !== req.params.tenantId.toLowerCase()) {
      throw new ForbiddenError('This call needs a delegated token of the admin console for this tenant.');
    }
    const user = await findUser(db, caller.tenantId, caller.id);
    return {
      id: caller.id, userPrincipalName: caller.userPrincipalName, displayName: user?.displayName ?? caller.userPrincipalName,
      roles: caller.roles.map((id) => ({ id, displayName: roleTemplate(id)?.displayName ?? id })),
      permissions: caller.permissions,
      can: capabilities(caller.permissions, caller.roles),
    };
  });
}
