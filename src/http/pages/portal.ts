import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { FIRST_PARTY_APPS } from '../../domain/directory.ts';
import { isGuid } from '../../domain/validation.ts';
import { graphResource, issuerFor } from '../../oidc/provider.ts';
import type { Db } from '../../store/database.ts';
import { findTenant } from '../../store/tenants.ts';
import { escapeHtml, htmlDocument } from './document.ts';

/**
 * The security-info portal, "My Sign-Ins" (docs/portal.md): the first-party app where a user
 * lists their methods (MTH-3 self-service), adds a named passkey, renames or deletes one and sees
 * their Temporary Access Pass's metadata. The page is a server-rendered shell; its script
 * (web/portal.js) signs the user in through the tenant's issuer as a public client (authorization
 * code + PKCE, `resource` = the Graph API) and calls the `/graph/v1.0/me/authentication/...`
 * twins with the access token, each decided by the security-info gate (PLT-1..PLT-3).
 *
 *   GET /{tenantId}/my-sign-ins                    the page (also the OIDC redirect URI)
 *   GET /assets/portal.js, /assets/portal.css      its script and style (CSP allows 'self' only)
 */

const WEB = new URL('../../../web/', import.meta.url);
const PORTAL = FIRST_PARTY_APPS.find((a) => a.key === 'securityInfo')!;

type PageParams = { Params: { tenantId: string } };

function layout(title: string, body: string): string {
  return htmlDocument({ title, styles: ['/assets/sign-in.css', '/assets/portal.css'], script: '/assets/portal.js', body });
}

/** The portal's shell. Everything the script needs is in data attributes; every state's markup is here, hidden. */
export function portalPage(v: { tenantId: string; tenantName: string; issuer: string; resource: string; redirectUri: string }): string {
  const data = [
    ['tenant-id', v.tenantId], ['issuer', v.issuer], ['client-id', PORTAL.appId], ['resource', v.resource], ['redirect-uri', v.redirectUri],
  ].map(([k, val]) => `data-${k}="${escapeHtml(val!)}"`).join(' ');
  return layout(`${PORTAL.displayName} – security info`, `<main id="portal" class="portal" ${data}>
  <header class="portal-header">
    <h1>${escapeHtml(PORTAL.displayName)}</h1>
    <p class="context">Security info for your account at <strong>${escapeHtml(v.tenantName)}</strong></p>
    <p id="who" class="who" hidden></p>
    <p class="header-actions"><button type="button" id="sign-out" class="link" hidden>Sign out</button></p>
  </header>
  <div id="alert" role="alert" aria-live="assertive"></div>
  <p id="status" role="status" aria-live="polite"></p>
  <noscript><p class="problem">This page needs JavaScript to sign you in and show your security info.</p></noscript>

  <section id="signed-out" hidden aria-labelledby="signed-out-heading">
    <h2 id="signed-out-heading" tabindex="-1">Sign in to see your security info</h2>
    <p>Here you can see how you sign in, add a passkey, and rename or remove the ones you have. You sign in first, on your organisation's sign-in page.</p>
    <div class="actions"><button type="button" id="sign-in">Sign in</button></div>
  </section>

  <section id="refusal" hidden aria-labelledby="refusal-heading">
    <h2 id="refusal-heading" tabindex="-1"></h2>
    <p id="refusal-text"></p>
    <ul id="refusal-list"></ul>
    <p id="refusal-code" class="code"></p>
    <div class="actions">
      <button type="button" id="refusal-sign-in">Sign in again</button>
      <button type="button" id="refusal-back" class="secondary" hidden>Back to my methods</button>
    </div>
  </section>

  <section id="methods" hidden aria-labelledby="methods-heading">
    <h2 id="methods-heading" tabindex="-1">Your sign-in methods</h2>
    <p id="empty" class="empty" hidden>You have no methods yet: add a passkey.</p>
    <ul id="method-list" class="method-list" aria-labelledby="methods-heading"></ul>
    <div class="actions"><button type="button" id="add-passkey">Add a passkey</button></div>
  </section>

  <section id="add" hidden aria-labelledby="add-heading">
    <h2 id="add-heading" tabindex="-1">Add a passkey</h2>
    <form id="add-form" novalidate>
      <label for="add-name">Passkey name</label>
      <input id="add-name" name="displayName" type="text" autocomplete="off" spellcheck="false" maxlength="200" required aria-describedby="add-name-hint">
      <p id="add-name-hint" class="hint">A name that helps you recognise this passkey later, for example “Work laptop” or “Blue security key”.</p>
      <div class="actions">
        <button type="submit" id="add-submit">Create the passkey</button>
        <button type="button" id="add-cancel" class="secondary">Cancel</button>
      </div>
    </form>
  </section>

  <template id="method-template">
    <li class="method">
      <h3 class="method-title"><span class="method-type"></span> <span class="method-name"></span></h3>
      <dl class="method-facts"></dl>
      <div class="method-actions actions"></div>
    </li>
  </template>
</main>`);
}

function problemPage(title: string, message: string): string {
  return layout(title, `<main id="portal-problem">
  <h1>${escapeHtml(title)}</h1>
  <p class="problem" role="alert">${escapeHtml(message)}</p>
</main>`);
}

export function portalRoutes(app: FastifyInstance, db: Db, publicBaseUrl: string): void {
  const script = readFileSync(new URL('portal.js', WEB));
  const style = readFileSync(new URL('portal.css', WEB));
  app.get('/assets/portal.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(script));
  app.get('/assets/portal.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(style));

  // The OIDC redirect URI too: the script reads `code` and `state` from the query, then drops them from the address.
  app.get<PageParams>('/:tenantId/my-sign-ins', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const tenant = isGuid(req.params.tenantId) ? await findTenant(db, req.params.tenantId.toLowerCase()) : undefined;
    if (!tenant) {
      return reply.status(404).type('text/html; charset=utf-8').send(problemPage('No such organisation', 'There is no such organisation on this server. Check the link you followed.'));
    }
    return reply.type('text/html; charset=utf-8').send(portalPage({
      tenantId: tenant.id, tenantName: tenant.displayName, issuer: issuerFor(publicBaseUrl, tenant.id),
      resource: graphResource(publicBaseUrl), redirectUri: `${publicBaseUrl}/${tenant.id}/my-sign-ins`,
    }));
  });
}
