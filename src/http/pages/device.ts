import type { FastifyInstance } from 'fastify';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { isGuid } from '../../domain/validation.ts';
import type { DevicePages } from '../../oidc/provider.ts';
import { escapeHtml } from './document.ts';

/**
 * The device code flow's pages (SC-5, OAuth device authorization grant, RFC 8628), rendered for
 * oidc-provider's `features.deviceFlow` at `{issuer}/device` (= `/{tenantId}/v2.0/device`), with
 * the sign-in page's look (web/sign-in.css) and no script:
 *
 *   GET  /{tenantId}/device[?user_code=…]     short link: 303 to {issuer}/device (what users type)
 *   GET  {issuer}/device                       enter the code shown on the device
 *   POST {issuer}/device                       the code → confirm page (which app, where the
 *                                              request came from) → Continue → the sign-in page
 *   GET  {issuer}/device/{uid}                 after the sign-in: success, or why it failed
 *
 * oidc-provider checks the code (unknown, expired, already used: each gets its own message here),
 * keeps the form's anti-forgery secret in its session, and after "Continue" runs the request
 * through the same interaction as an authorization request: the sign-in page, whose flow carries
 * `transferMethod: deviceCodeFlow` (CA-2). A refused sign-in ends the device's request with
 * `access_denied` and the decision's code (interactions.ts `abortInteraction`); this page then
 * shows that reason and code.
 */

/** The same headers the rest of the server's pages get (server.ts): these responses bypass Fastify. */
const HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};

function page(ctx: KoaContextWithOIDC, title: string, body: string, status?: number): void {
  for (const [k, v] of Object.entries(HEADERS)) ctx.set(k, v);
  if (status) ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/sign-in.css">
</head>
<body>
<main id="device">
${body}
</main>
</body>
</html>
`;
}

const secretOf = (ctx: KoaContextWithOIDC) => String((ctx.oidc.session as unknown as { state?: { secret?: string } } | undefined)?.state?.secret ?? '');
const clientName = (ctx: KoaContextWithOIDC) => ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? 'the app';

/** What went wrong with a typed code, in words a user can act on (oidc-provider's re-render errors). */
function codeProblem(err: Error | undefined): string | null {
  switch (err?.name) {
    case undefined: return null;
    case 'NoCodeError': return 'Enter the code shown on your device.';
    case 'NotFoundError': return 'That code isn’t valid here. It may have expired (codes last 10 minutes), or it was issued for another organisation. Check the code your device shows, or start again on the device to get a new one.';
    case 'ExpiredError': return 'That code has expired. Start again on your device to get a new code.';
    case 'AlreadyUsedError': return 'That code has already been used. Start again on your device to get a new code.';
    default: return `That didn’t work (${(err as { error_description?: string }).error_description ?? err!.message}). Enter the code again.`;
  }
}

/** The user-code form: oidc-provider's fields (`xsrf`, `user_code`), the sign-in page's look. */
function inputForm(ctx: KoaContextWithOIDC, problem: string | null, code: string | undefined): string {
  const action = ctx.oidc.urlFor('code_verification');
  return `<h1>Sign in on a device</h1>
<p class="context">at <strong>${escapeHtml(ctx.oidc.provider.issuer)}</strong></p>
<div id="alert" role="alert">${problem ? escapeHtml(problem) : ''}</div>
<form id="device-code" method="post" action="${escapeHtml(action)}" novalidate>
  <input type="hidden" name="xsrf" value="${escapeHtml(secretOf(ctx))}">
  <label for="user-code">Code</label>
  <p id="user-code-hint" class="hint">Enter the code your device shows, for example BCDF-GHJK. Dashes and case don’t matter.</p>
  <input id="user-code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="64" required autofocus
    aria-describedby="user-code-hint"${problem ? ' aria-invalid="true"' : ''}${code ? ` value="${escapeHtml(code)}"` : ''}>
  <div class="actions"><button type="submit" id="device-next">Next</button></div>
</form>`;
}

/**
 * After the sign-in was refused or cancelled, oidc-provider re-renders the input page with an
 * `AbortedError` whose cause is the `access_denied` the interaction ended with: its description
 * is the decision's `AADSTS<code>: <reason>` (interactions.ts `abortInteraction`).
 */
function refusal(err: Error | undefined): { code: string | null; reason: string } | null {
  if (err?.name !== 'AbortedError') return null;
  const cause = (err as { cause?: { error_description?: string } }).cause;
  const description = cause?.error_description ?? 'The sign-in was cancelled.';
  const m = /^AADSTS(\d+): ([\s\S]*)$/.exec(description);
  return m ? { code: m[1]!, reason: m[2]! } : { code: null, reason: description };
}

export function devicePages(): DevicePages {
  return {
    async userCodeInputSource(ctx, _form, _out, err) {
      const refused = refusal(err);
      if (refused) {
        return page(ctx, 'Device sign-in failed', `<h1>${refused.code ? 'You can’t sign in on this device' : 'Device sign-in cancelled'}</h1>
<p class="problem" role="alert" id="device-reason">${escapeHtml(refused.reason)}</p>
${refused.code ? `<p class="code" id="device-code">Error code: ${escapeHtml(refused.code)}</p>` : ''}
<p>Your device has been told that the sign-in did not complete. You can close this window.</p>`, refused.code ? 403 : 200);
      }
      const problem = codeProblem(err);
      const typed = (err as { userCode?: string } | undefined)?.userCode;
      return page(ctx, problem ? 'Sign in on a device: check the code' : 'Sign in on a device', inputForm(ctx, problem, typed), problem ? 400 : 200);
    },

    async userCodeConfirmSource(ctx, _form, client, deviceInfo, userCode) {
      const action = ctx.oidc.urlFor('code_verification');
      const info = (deviceInfo ?? {}) as { ip?: string; ua?: string };
      const app = client.clientName ?? client.clientId;
      return page(ctx, `Sign in to ${app} on a device`, `<h1>Sign in on a device</h1>
<p class="context">to <strong>${escapeHtml(app)}</strong></p>
<p>Check that your device shows this code:</p>
<p class="code" id="confirm-code" aria-label="Code ${escapeHtml(userCode.split('').join(' '))}">${escapeHtml(userCode)}</p>
<dl>
  <dt>Requested from</dt><dd>${escapeHtml(info.ip ?? 'unknown address')}</dd>
  ${info.ua ? `<dt>Device software</dt><dd>${escapeHtml(info.ua.slice(0, 200))}</dd>` : ''}
</dl>
<p class="hint">Only continue if you started this on a device you have with you. If the code doesn’t match, or you didn’t start it, cancel.</p>
<form id="device-confirm" method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="xsrf" value="${escapeHtml(secretOf(ctx))}">
  <input type="hidden" name="user_code" value="${escapeHtml(userCode)}">
  <div class="actions">
    <button type="submit" name="confirm" value="yes" id="device-continue" autofocus>Continue</button>
    <button type="submit" name="abort" value="yes" id="device-cancel" class="secondary">Cancel</button>
  </div>
</form>`);
    },

    async successSource(ctx) {
      return page(ctx, 'Signed in on your device', `<h1>You’re signed in</h1>
<p role="status" id="device-success">You signed in to <strong>${escapeHtml(clientName(ctx))}</strong> on your device. You can close this window and go back to it.</p>`);
    },
  };
}

/** `/{tenantId}/device`: the short address users type, to the tenant issuer's device page (a `user_code` carries over). */
export function devicePageRoutes(app: FastifyInstance): void {
  app.get<{ Params: { tenantId: string }; Querystring: { user_code?: string } }>('/:tenantId/device', async (req, reply) => {
    if (!isGuid(req.params.tenantId)) return reply.callNotFound();
    const code = typeof req.query.user_code === 'string' && req.query.user_code.length <= 64 ? req.query.user_code : undefined;
    const target = `/${req.params.tenantId.toLowerCase()}/v2.0/device${code ? `?${new URLSearchParams({ user_code: code }).toString()}` : ''}`;
    return reply.header('cache-control', 'no-store').redirect(target, 303);
  });
}
