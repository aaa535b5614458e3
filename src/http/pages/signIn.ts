import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GatehouseError, NotFoundError } from '../../domain/errors.ts';
import { isGuid, parseInput } from '../../domain/validation.ts';
import { abortInteraction, finishInteraction, pendingInteraction } from '../../oidc/interactions.ts';
import type { TenantProviders } from '../../oidc/provider.ts';
import { applicationForLog } from '../../store/signInFacts.ts';
import type { Db } from '../../store/database.ts';
import { findTenant } from '../../store/tenants.ts';
import { escapeHtml, htmlDocument } from './document.ts';

/**
 * The sign-in page that oidc-provider's authorization endpoint sends browsers to
 * (`interactions.url`), and the two calls that end it. The page itself only renders what the
 * request is for; its script (web/sign-in.js) drives the JSON flow API (docs/flows.md) with the
 * interaction's uid, and once a step's decision grants, posts the flow id to `complete`, which
 * answers with the URL that resumes the authorization request.
 *
 *   GET  /{tenantId}/sign-in?uid=…              the page (HTML)
 *   POST /{tenantId}/sign-in/{uid}/complete      {flowId} → {redirectTo}
 *   POST /{tenantId}/sign-in/{uid}/abort         {} or {flowId} → {redirectTo} (access_denied to the app)
 *   GET  /assets/sign-in.js, /assets/sign-in.css the page's script and style (CSP allows 'self' only)
 *   GET  /assets/webauthn.js                     WebAuthn JSON helpers, shared with the portal
 *   GET  /assets/oidcClient.js                   the OIDC public client of the portal and the admin console
 */

const WEB = new URL('../../../web/', import.meta.url);
const completeBody = z.strictObject({ flowId: z.string().min(1, 'must not be empty').max(64) });
/** `flowId`: a refused sign-in for a device code (SC-5) ends the device's request with its reason. */
const abortBody = z.strictObject({ flowId: z.string().min(1, 'must not be empty').max(64).optional() });

type PageParams = { Params: { tenantId: string }; Querystring: { uid?: string } };
type UidParams = { Params: { tenantId: string; uid: string } };


function layout(title: string, body: string): string {
  return htmlDocument({ title, styles: ['/assets/sign-in.css'], script: '/assets/sign-in.js', body });
}

/** The page for one pending authorization request. Everything the script needs is in data attributes. */
export function signInPage(v: {
  tenantId: string; tenantName: string; uid: string; clientId: string; appName: string;
  authenticationContexts: readonly string[]; userAction: string | null; loginHint: string | null; transferMethod?: string | null;
}): string {
  const data = [
    ['tenant-id', v.tenantId], ['uid', v.uid], ['client-id', v.clientId],
    ['contexts', JSON.stringify(v.authenticationContexts)], ['user-action', v.userAction ?? ''], ['transfer-method', v.transferMethod ?? ''],
  ].map(([k, val]) => `data-${k}="${escapeHtml(val!)}"`).join(' ');
  return layout(`Sign in to ${v.appName}`, `<main id="sign-in" ${data}>
  <h1>Sign in</h1>
  <p class="context">to <strong>${escapeHtml(v.appName)}</strong> <span class="tenant">(${escapeHtml(v.tenantName)})</span></p>
  <div id="alert" role="alert" aria-live="assertive"></div>
  <p id="status" role="status" aria-live="polite"></p>
  <noscript><p class="problem">This page needs JavaScript to sign you in with a passkey or a Temporary Access Pass.</p></noscript>

  <form id="start" novalidate>
    <label for="username">User name</label>
    <input id="username" name="username" type="text" inputmode="email" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" maxlength="256" aria-describedby="username-hint"${v.loginHint ? ` value="${escapeHtml(v.loginHint)}"` : ''}>
    <p id="username-hint" class="hint">Your work account, for example ada@contoso.example. To sign in with a passkey you can leave it empty and pick the passkey.</p>
    <div class="actions">
      <button type="submit" id="passkey-button">Sign in with a passkey</button>
      <button type="button" id="tap-button" class="secondary">Use a Temporary Access Pass</button>
    </div>
  </form>

  <form id="tap" hidden novalidate aria-labelledby="tap-heading">
    <h2 id="tap-heading" tabindex="-1">Temporary Access Pass</h2>
    <p id="tap-hint" class="hint">Enter the pass an administrator gave you. Spaces and dashes don't matter.</p>
    <label for="tap-code">Temporary Access Pass</label>
    <input id="tap-code" name="code" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="128" required aria-describedby="tap-hint">
    <div class="actions">
      <button type="submit" id="tap-submit">Sign in</button>
      <button type="button" id="tap-back" class="secondary">Back</button>
    </div>
  </form>

  <section id="decision" hidden aria-labelledby="decision-heading">
    <h2 id="decision-heading" tabindex="-1"></h2>
    <p id="decision-text"></p>
    <ul id="decision-list"></ul>
    <p id="decision-code" class="code"></p>
    <div class="actions">
      <button type="button" id="decision-passkey" hidden>Use a passkey</button>
      <button type="button" id="decision-restart" class="secondary">Start again</button>
    </div>
  </section>

  <section id="register" hidden aria-labelledby="register-heading">
    <h2 id="register-heading" tabindex="-1">Add a passkey</h2>
    <p id="register-text"></p>
    <ul id="register-list"></ul>
    <p id="register-code" class="code"></p>
    <form id="register-form" novalidate>
      <label for="passkey-name">Passkey name</label>
      <input id="passkey-name" name="displayName" type="text" autocomplete="off" spellcheck="false" maxlength="200" aria-describedby="passkey-name-hint">
      <p id="passkey-name-hint" class="hint">A name that helps you recognise this passkey later, for example “Work laptop”. You can leave it empty.</p>
      <div class="actions">
        <button type="submit" id="register-submit">Create a passkey</button>
        <button type="button" id="register-other" class="secondary">Start again</button>
      </div>
    </form>
  </section>

  <section id="nudge" hidden aria-labelledby="nudge-heading">
    <h2 id="nudge-heading" tabindex="-1">Add a passkey?</h2>
    <p id="nudge-text"></p>
    <div class="actions">
      <button type="button" id="nudge-add">Add a passkey</button>
      <button type="button" id="nudge-later" class="secondary">Not now</button>
    </div>
  </section>

  <p class="cancel"><button type="button" id="cancel" class="link">Cancel and go back to ${escapeHtml(v.appName)}</button></p>
</main>`);
}

function problemPage(title: string, message: string): string {
  return layout(title, `<main id="sign-in-problem">
  <h1>${escapeHtml(title)}</h1>
  <p class="problem" role="alert">${escapeHtml(message)}</p>
</main>`);
}

export function signInPageRoutes(app: FastifyInstance, db: Db, providers: TenantProviders, clock: () => Date = () => new Date()): void {
  const script = readFileSync(new URL('sign-in.js', WEB));
  const style = readFileSync(new URL('sign-in.css', WEB));
  app.get('/assets/sign-in.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(script));
  app.get('/assets/sign-in.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(style));
  // ES modules several pages import: the WebAuthn helpers (sign-in page, security-info portal, and
  // oidcClient.js for base64url) and the OIDC public client (security-info portal, admin console).
  for (const name of ['webauthn.js', 'oidcClient.js']) {
    const body = readFileSync(new URL(name, WEB));
    app.get(`/assets/${name}`, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(body));
  }

  const providerOf = async (tenantId: string) => {
    const provider = isGuid(tenantId) ? await providers.get(tenantId.toLowerCase()) : undefined;
    if (!provider) throw new NotFoundError('tenant', tenantId.slice(0, 64));
    return provider;
  };

  app.get<PageParams>('/:tenantId/sign-in', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const uid = typeof req.query.uid === 'string' ? req.query.uid : '';
    try {
      const provider = await providerOf(req.params.tenantId);
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(uid)) throw new GatehouseError(400, 'InteractionNotFound', 'This sign-in link is not complete. Go back to the app and sign in again.');
      const tenantId = req.params.tenantId.toLowerCase();
      const pending = await pendingInteraction(provider, { req: req.raw, res: reply.raw }, uid);
      // Two display names: the tenant's, and the app's (its id and name only, not its secrets and permissions).
      const [tenant, app] = await Promise.all([findTenant(db, tenantId), applicationForLog(db, tenantId, pending.clientId)]);
      return reply.type('text/html; charset=utf-8').send(signInPage({
        tenantId, tenantName: tenant?.displayName ?? tenantId, uid, clientId: pending.clientId, appName: app?.displayName ?? pending.clientId,
        authenticationContexts: pending.authenticationContexts, userAction: pending.userAction, loginHint: pending.loginHint, transferMethod: pending.transferMethod,
      }));
    } catch (err) {
      if (!(err instanceof GatehouseError)) throw err;
      req.log.info({ code: err.code, detail: err.detail }, err.message);
      const message = err instanceof NotFoundError ? 'There is no such organisation on this server. Check the link you followed.' : err.message;
      return reply.status(err.status).type('text/html; charset=utf-8').send(problemPage("We can't sign you in", message));
    }
  });

  // JSON in and out; errors have the Graph error body (src/http/errors.ts).
  app.post<UidParams>('/:tenantId/sign-in/:uid/complete', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const provider = await providerOf(req.params.tenantId);
    const body = parseInput(completeBody, req.body ?? {});
    const redirectTo = await finishInteraction(provider, db, req.params.tenantId.toLowerCase(), { req: req.raw, res: reply.raw }, req.params.uid, body.flowId, clock());
    return { redirectTo };
  });

  app.post<UidParams>('/:tenantId/sign-in/:uid/abort', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const provider = await providerOf(req.params.tenantId);
    const body = parseInput(abortBody, req.body ?? {});
    const redirectTo = await abortInteraction(provider, db, req.params.tenantId.toLowerCase(), { req: req.raw, res: reply.raw }, req.params.uid, body.flowId, clock());
    return { redirectTo };
  });
}
