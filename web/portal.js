/* global document, window, fetch, location, URLSearchParams, TextDecoder */
// The security-info portal, "My Sign-Ins" (src/http/pages/portal.ts renders the shell; docs/portal.md).
//
// It signs the user in through the tenant's issuer as a public client: authorization code with
// PKCE (S256), `resource` = the Graph API, back to this page, then the code is exchanged at the
// token endpoint. The access token stays in sessionStorage (this tab only). With it the page calls
// the `/graph/v1.0/me/authentication/...` twins, each decided by the security-info gate
// (PLT-1..PLT-3); a refusal (403) is shown with its rule and the ways forward, and a security-info
// session that ended (401) asks the user to sign in again. The OIDC protocol itself is
// web/oidcClient.js, shared with the admin console.

import { beginSignIn, finishSignIn, tabStorage } from './oidcClient.js';
import { createPasskey as createCredential, fromB64url } from './webauthn.js';

const main = document.getElementById('portal');
if (main) start(main);

function start(main) {
  const cfg = {
    tenantId: main.dataset.tenantId,
    issuer: main.dataset.issuer,
    clientId: main.dataset.clientId,
    resource: main.dataset.resource,
    redirectUri: main.dataset.redirectUri,
  };
  const KEY = `gatehouse.portal.${cfg.tenantId}`;
  const webauthn = typeof window.PublicKeyCredential === 'function';
  const $ = (id) => document.getElementById(id);
  const ui = {
    alert: $('alert'), status: $('status'), who: $('who'), signOut: $('sign-out'),
    signedOut: $('signed-out'), signedOutHeading: $('signed-out-heading'), signIn: $('sign-in'),
    refusal: $('refusal'), refusalHeading: $('refusal-heading'), refusalText: $('refusal-text'), refusalList: $('refusal-list'),
    refusalCode: $('refusal-code'), refusalSignIn: $('refusal-sign-in'), refusalBack: $('refusal-back'),
    methods: $('methods'), methodsHeading: $('methods-heading'), empty: $('empty'), list: $('method-list'), addPasskey: $('add-passkey'),
    add: $('add'), addHeading: $('add-heading'), addForm: $('add-form'), addName: $('add-name'), addSubmit: $('add-submit'), addCancel: $('add-cancel'),
    template: $('method-template'),
  };
  /** The signed-in user (GET /me), once known. */
  let me = null;

  // ---- helpers -------------------------------------------------------------------------------

  const { get: stored, set: store } = tabStorage(KEY);

  function status(text) {
    ui.status.textContent = text || '';
  }

  function showAlert(text, focus) {
    ui.alert.textContent = text || '';
    if (focus) {
      focus.setAttribute('aria-invalid', 'true');
      focus.setAttribute('aria-errormessage', 'alert');
      focus.focus();
    }
    if (text && ui.alert.scrollIntoView) ui.alert.scrollIntoView({ block: 'nearest' });
  }

  function clearAlert() {
    ui.alert.textContent = '';
    for (const el of document.querySelectorAll('[aria-invalid]')) {
      el.removeAttribute('aria-invalid');
      el.removeAttribute('aria-errormessage');
    }
  }

  function busy(on) {
    for (const b of document.querySelectorAll('button')) {
      if (on) {
        b.dataset.wasDisabled = b.disabled ? '1' : '';
        b.disabled = true;
      } else {
        b.disabled = b.dataset.wasDisabled === '1';
      }
    }
    main.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  function show(section) {
    for (const s of [ui.signedOut, ui.refusal, ui.methods, ui.add]) s.hidden = s !== section;
  }

  const listItems = (list, items) => {
    list.replaceChildren(...items.map((t) => {
      const li = document.createElement('li');
      li.textContent = t;
      return li;
    }));
    list.hidden = items.length === 0;
  };

  const when = (s) => (s ? new Date(s).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '');

  // ---- signing in (OIDC authorization code + PKCE) -------------------------------------------

  /** Off to the organisation's sign-in page; it comes back to this page with a code. */
  async function signIn(loginHint) {
    clearAlert();
    busy(true);
    try {
      status('Opening the sign-in page…');
      await beginSignIn(cfg, KEY, { loginHint });
    } catch (err) {
      status('');
      busy(false);
      showAlert(err.message, null);
    }
  }

  /** Back from the sign-in page: `code` (or `error`) in the query. Exchanges the code for the token. */
  async function redeem(params) {
    status('Signing you in…');
    const r = await finishSignIn(cfg, KEY, params);
    if (!r) return;
    if (r.step === 'state') throw new Error('This sign-in answer does not belong to this page (it may be from another tab). Sign in again.');
    if (r.step) throw new Error(r.message);
    // The ID token's claims say how the user signed in (amr); shown, not trusted: the Graph API checks the access token.
    let how = null;
    try {
      const claims = JSON.parse(new TextDecoder().decode(fromB64url(r.idToken.split('.')[1])));
      how = { amr: claims.amr || [], acr: claims.acr || null };
    } catch {
      how = null;
    }
    store('token', { accessToken: r.accessToken, expiresAt: r.expiresAt, how });
  }

  function signOut() {
    store('token', null);
    me = null;
    ui.who.hidden = true;
    ui.signOut.hidden = true;
    clearAlert();
    showSignedOut('You are signed out of the portal.');
  }

  // ---- the Graph API -------------------------------------------------------------------------

  async function graph(method, path, body) {
    const token = stored('token');
    if (!token || token.expiresAt <= Date.now()) {
      const e = new Error('You need to sign in again: your sign-in to the portal has ended.');
      e.status = 401;
      throw e;
    }
    const headers = { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`/graph/v1.0${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 204) return null;
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const e = (data && data.error) || {};
      const err = new Error(e.message || `The server answered ${res.status}.`);
      err.status = res.status;
      err.code = e.code || null;
      err.errorCode = e.errorCode || null;
      err.decision = e.decision || (e.innerError && e.innerError.gatehouseDecision) || null;
      throw err;
    }
    return data;
  }

  // ---- states --------------------------------------------------------------------------------

  function showSignedOut(message) {
    show(ui.signedOut);
    status(message || '');
    ui.signedOutHeading.focus();
  }

  const REFUSALS = {
    ExistingMethodRequired: { heading: 'Use your existing passkey first', button: 'Sign in with your passkey' },
    SecurityInfoNotFresh: { heading: 'Sign in again to make this change', button: 'Sign in again' },
    SecurityInfoMfaRequired: { heading: 'More verification needed', button: 'Sign in again' },
  };

  /**
   * A refusal of the security-info gate (403) or an ended session (401): what happened, the rule
   * and its sentence, the ways forward, the code, and a button to sign in again. `canGoBack`: the
   * list is still valid (a change was refused), so "Back to my methods" is offered too.
   */
  function showRefusal(err, canGoBack) {
    const known = REFUSALS[err.code] || {};
    const d = err.decision || {};
    const ended = err.status === 401;
    ui.refusalHeading.textContent = ended ? 'Your security-info session has ended' : (known.heading || 'You can’t change your security info now');
    ui.refusalText.textContent = err.message;
    const items = [];
    for (const r of d.platformRules || []) items.push(`Rule: ${r.sentence}`);
    if (err.code === 'ExistingMethodRequired') {
      const names = (d.requirements || []).filter((r) => r.id === 'PLT-3').flatMap((r) => r.candidates.map((c) => c.displayName || 'your passkey'));
      items.push(`Way forward: sign in again with your existing passkey${names.length ? ` (${names.join(', ')})` : ''}.`);
      items.push('Way forward: if you lost it, ask an administrator to open a recovery case for you.');
    } else if (err.code === 'SecurityInfoNotFresh') {
      items.push('Way forward: sign in again with your passkey; then you have 5 minutes to make the change.');
    } else if (ended) {
      items.push('Way forward: sign in again; a security-info session lasts 15 minutes.');
    }
    listItems(ui.refusalList, items);
    ui.refusalCode.textContent = err.code ? `Error code: ${err.code}${err.errorCode ? ` (${err.errorCode})` : ''}` : '';
    ui.refusalSignIn.textContent = known.button || 'Sign in again';
    ui.refusalBack.hidden = !canGoBack;
    show(ui.refusal);
    status('');
    ui.refusalHeading.focus();
  }

  const TYPES = {
    '#microsoft.graph.fido2AuthenticationMethod': 'Passkey',
    '#microsoft.graph.temporaryAccessPassAuthenticationMethod': 'Temporary Access Pass',
    '#microsoft.graph.passwordAuthenticationMethod': 'Password',
    '#microsoft.graph.softwareOathAuthenticationMethod': 'Authenticator app',
  };
  const REASONS = {
    EnabledByPolicy: 'Usable',
    DisabledByPolicy: 'Not usable: your organisation’s policy does not allow it for you (DisabledByPolicy)',
    Expired: 'Not usable: it has expired (Expired)',
    NotYetValid: 'Not usable yet: it starts later (NotYetValid)',
    OneTimeUsed: 'Not usable: it could be used once and has been (OneTimeUsed)',
    SuspendedByRecoveryCase: 'Suspended: an administrator opened a recovery case for your account; it comes back if the case is cancelled, and is deleted once the case completes and its grace period ends (SuspendedByRecoveryCase)',
  };
  const usability = (m) => (m.isUsable ? 'Usable' : REASONS[m.methodUsabilityReason] || `Not usable (${m.methodUsabilityReason})`);
  const lifetime = (min) => (min % 60 === 0 ? `${min / 60} hour${min === 60 ? '' : 's'}` : `${min} minutes`);

  /** The facts shown for a method, as [term, description] pairs. A pass's code is never shown (TAP-3). */
  function facts(m) {
    const f = [];
    if (m['@odata.type'] === '#microsoft.graph.fido2AuthenticationMethod') {
      f.push(['Model', m.model || `Unknown (AAGUID ${m.aaGuid})`]);
      f.push(['Kind', m.passkeyType === 'synced' ? 'Synced passkey' : 'Device-bound passkey']);
      f.push(['Added', when(m.createdDateTime)]);
      f.push(['Last used', m.lastUsedDateTime ? when(m.lastUsedDateTime) : 'Never']);
    } else if (m['@odata.type'] === '#microsoft.graph.temporaryAccessPassAuthenticationMethod') {
      const end = new Date(Date.parse(m.startDateTime) + m.lifetimeInMinutes * 60_000).toISOString();
      f.push(['Valid from', when(m.startDateTime)]);
      f.push(['Lifetime', `${lifetime(m.lifetimeInMinutes)}, until ${when(end)}`]);
      f.push(['Use', m.isUsableOnce ? 'Once' : 'Several times']);
    } else if (m.createdDateTime) {
      f.push(['Added', when(m.createdDateTime)]);
    }
    f.push(['Status', usability(m)]);
    return f;
  }

  function methodItem(m) {
    const li = ui.template.content.firstElementChild.cloneNode(true);
    const type = TYPES[m['@odata.type']] || 'Method';
    li.dataset.methodId = m.id;
    li.querySelector('.method-type').textContent = type;
    const name = li.querySelector('.method-name');
    name.textContent = m.displayName ? `“${m.displayName}”` : '';
    const title = li.querySelector('.method-title');
    title.id = `method-${m.id}`;
    title.tabIndex = -1;
    li.setAttribute('aria-labelledby', title.id);
    li.classList.toggle('unusable', !m.isUsable);
    const dl = li.querySelector('.method-facts');
    for (const [t, d] of facts(m)) {
      const dt = document.createElement('dt');
      dt.textContent = t;
      const dd = document.createElement('dd');
      dd.textContent = d;
      dl.append(dt, dd);
    }
    const actions = li.querySelector('.method-actions');
    const label = m.displayName ? `${type} “${m.displayName}”` : type;
    // A passkey suspended by a recovery case is the administrator's to restore or delete (RCV-2).
    const suspended = m.methodUsabilityReason === 'SuspendedByRecoveryCase';
    if (m['@odata.type'] === '#microsoft.graph.fido2AuthenticationMethod' && !suspended) {
      actions.append(button('Rename', `Rename ${label}`, () => startRename(li, m)));
    }
    if (!suspended && (m['@odata.type'] === '#microsoft.graph.fido2AuthenticationMethod' || m['@odata.type'] === '#microsoft.graph.softwareOathAuthenticationMethod')) {
      actions.append(button('Delete', `Delete ${label}`, () => confirmDelete(li, m, label), 'secondary'));
    }
    actions.hidden = actions.childElementCount === 0;
    return li;
  }

  function button(text, ariaLabel, onClick, cls) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    if (ariaLabel && ariaLabel !== text) b.setAttribute('aria-label', ariaLabel);
    if (cls) b.className = cls;
    b.addEventListener('click', onClick);
    return b;
  }

  function renderMethods(methods) {
    ui.list.replaceChildren(...methods.map(methodItem));
    ui.list.hidden = methods.length === 0;
    const passkeys = methods.filter((m) => m['@odata.type'] === '#microsoft.graph.fido2AuthenticationMethod');
    ui.empty.hidden = passkeys.length > 0;
    ui.empty.textContent = methods.length === 0
      ? 'You have no methods yet: add a passkey.'
      : 'You have no passkey yet: add one, so that you can sign in without a Temporary Access Pass.';
    ui.addPasskey.disabled = !webauthn;
    ui.addPasskey.title = webauthn ? '' : 'This browser does not support passkeys.';
  }

  /** GET /me and the methods; shows the list, or the refusal. `message`: what to announce once shown. */
  async function load(message, focusId) {
    status('Loading your security info…');
    if (!me) {
      me = await graph('GET', '/me');
      const how = (stored('token') || {}).how;
      const amr = how && how.amr ? how.amr : [];
      const withWhat = amr.includes('fido') ? ' with a passkey' : amr.includes('tap') ? ' with a Temporary Access Pass' : '';
      ui.who.textContent = `Signed in as ${me.displayName} (${me.userPrincipalName})${withWhat}`;
      ui.who.hidden = false;
      ui.signOut.hidden = false;
    }
    const methods = (await graph('GET', '/me/authentication/methods')).value;
    renderMethods(methods);
    show(ui.methods);
    status(message || '');
    const focus = (focusId && document.getElementById(`method-${focusId}`)) || ui.methodsHeading;
    focus.focus();
  }

  /** Runs one call; a gate refusal or an ended session shows the refusal, anything else the alert. */
  async function run(work, canGoBack, field) {
    clearAlert();
    busy(true);
    try {
      await work();
    } catch (err) {
      status('');
      if (err.status === 401) {
        store('token', null);
        showRefusal(err, false);
      } else if (err.status === 403 && err.code && err.code !== 'Authorization_RequestDenied') {
        showRefusal(err, canGoBack && !err.noBack);
      } else {
        showAlert(`${err.message}${err.code ? ` (error ${err.code})` : ''}`, err.field || field || null);
      }
    } finally {
      busy(false);
    }
  }

  // ---- changes -------------------------------------------------------------------------------

  async function createPasskey(displayName) {
    status('Preparing your new passkey…');
    const options = await graph('GET', '/me/authentication/fido2Methods/creationOptions');
    status('Create your passkey: follow your browser’s or device’s prompt.');
    let publicKeyCredential;
    try {
      publicKeyCredential = await createCredential(options.publicKey, 'This device already holds one of your passkeys. Use another device or security key.');
    } catch (err) {
      err.field = ui.addName;
      throw err;
    }
    status('Saving your passkey…');
    try {
      return await graph('POST', '/me/authentication/fido2Methods', { displayName, publicKeyCredential });
    } catch (err) {
      if (err.status === 400) err.field = ui.addName;
      throw err;
    }
  }

  async function addPasskey() {
    const name = ui.addName.value.trim();
    if (!name) return showAlert('Give the passkey a name.', ui.addName);
    return run(async () => {
      const created = await createPasskey(name);
      ui.addName.value = '';
      try {
        await load(`Passkey “${created.displayName}” added.`, created.id);
      } catch (err) {
        // A session that had only a Temporary Access Pass now holds a passkey: PLT-3 wants it used.
        if (err.status === 403 && err.code === 'ExistingMethodRequired') {
          err.message = `Your passkey “${created.displayName}” was added. ${err.message}`;
          err.noBack = true;
        }
        throw err;
      }
    }, true, ui.addName);
  }

  function startRename(li, m) {
    clearAlert();
    const form = document.createElement('form');
    form.className = 'rename';
    form.noValidate = true;
    const id = `rename-${m.id}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = `New name for “${m.displayName}”`;
    const input = document.createElement('input');
    input.id = id;
    input.type = 'text';
    input.maxLength = 200;
    input.autocomplete = 'off';
    input.value = m.displayName || '';
    const actions = document.createElement('div');
    actions.className = 'actions';
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = 'Save the name';
    const cancel = button('Cancel', null, () => load('', m.id).catch(() => undefined), 'secondary');
    actions.append(save, cancel);
    form.append(label, input, actions);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      if (!name) return showAlert('The name must not be empty.', input);
      return run(async () => {
        status('Renaming…');
        await graph('PATCH', `/me/authentication/fido2Methods/${encodeURIComponent(m.id)}`, { displayName: name });
        await load(`Passkey renamed to “${name}”.`, m.id);
      }, true, input);
    });
    li.querySelector('.method-actions').replaceChildren(form);
    input.focus();
    input.select();
  }

  function confirmDelete(li, m, label) {
    clearAlert();
    const box = document.createElement('div');
    box.className = 'confirm';
    box.setAttribute('role', 'group');
    const q = document.createElement('p');
    q.id = `confirm-${m.id}`;
    q.textContent = `Delete ${label}? You won’t be able to sign in with it any more.`;
    box.setAttribute('aria-labelledby', q.id);
    const actions = document.createElement('div');
    actions.className = 'actions';
    const yes = button('Yes, delete', `Yes, delete ${label}`, () => run(async () => {
      status('Deleting…');
      const set = m['@odata.type'] === '#microsoft.graph.fido2AuthenticationMethod' ? 'fido2Methods' : 'softwareOathMethods';
      await graph('DELETE', `/me/authentication/${set}/${encodeURIComponent(m.id)}`);
      await load(`${label} deleted.`);
    }, true), 'danger');
    const no = button('Keep', `Keep ${label}`, () => load('', m.id).catch(() => undefined), 'secondary');
    actions.append(yes, no);
    box.append(q, actions);
    li.querySelector('.method-actions').replaceChildren(box);
    no.focus();
  }

  // ---- wiring --------------------------------------------------------------------------------

  ui.signIn.addEventListener('click', () => signIn(null));
  ui.refusalSignIn.addEventListener('click', () => {
    store('token', null);
    signIn(me ? me.userPrincipalName : null);
  });
  ui.refusalBack.addEventListener('click', () => run(() => load(''), false));
  ui.signOut.addEventListener('click', signOut);
  ui.addPasskey.addEventListener('click', () => {
    clearAlert();
    show(ui.add);
    status('');
    ui.addName.focus();
  });
  ui.addForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    return addPasskey();
  });
  ui.addCancel.addEventListener('click', () => run(() => load(''), false));

  // ---- start ---------------------------------------------------------------------------------

  (async () => {
    const params = new URLSearchParams(location.search);
    if (params.has('code') || params.has('error')) {
      try {
        await redeem(params);
      } catch (err) {
        status('');
        showSignedOut();
        showAlert(err.message, null);
        return;
      }
    }
    const token = stored('token');
    if (!token || token.expiresAt <= Date.now()) {
      store('token', null);
      showSignedOut();
      return;
    }
    await run(() => load(''), false);
  })();
}
