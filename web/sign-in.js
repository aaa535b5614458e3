/* global document, window, navigator, fetch, location, atob, btoa */
// The sign-in page's script (src/http/pages/signIn.ts renders the page). It drives the JSON flow
// API (docs/flows.md) for the OIDC interaction named in the page, shows each decision, and once
// a decision grants, completes the interaction and follows the app's redirect.

const main = document.getElementById('sign-in');
if (main) start(main);

function start(main) {
  const cfg = {
    tenantId: main.dataset.tenantId,
    uid: main.dataset.uid,
    clientId: main.dataset.clientId,
    contexts: JSON.parse(main.dataset.contexts || '[]'),
    userAction: main.dataset.userAction || null,
  };
  const api = `/api/flows/${encodeURIComponent(cfg.tenantId)}/sign-in`;
  const interaction = `/${encodeURIComponent(cfg.tenantId)}/sign-in/${encodeURIComponent(cfg.uid)}`;
  const webauthn = typeof window.PublicKeyCredential === 'function';
  const $ = (id) => document.getElementById(id);
  const ui = {
    alert: $('alert'), status: $('status'),
    start: $('start'), username: $('username'), passkeyButton: $('passkey-button'), tapButton: $('tap-button'),
    tap: $('tap'), tapHeading: $('tap-heading'), tapCode: $('tap-code'), tapBack: $('tap-back'),
    decision: $('decision'), decisionHeading: $('decision-heading'), decisionText: $('decision-text'), decisionList: $('decision-list'),
    decisionCode: $('decision-code'), decisionPasskey: $('decision-passkey'), decisionRestart: $('decision-restart'),
    cancel: $('cancel'),
  };
  let flowId = null;

  if (!webauthn) {
    ui.passkeyButton.disabled = true;
    ui.passkeyButton.title = 'This browser does not support passkeys.';
  }

  // ---- helpers -------------------------------------------------------------------------------

  const fromB64url = (s) => {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  };
  const toB64url = (buf) => {
    let bin = '';
    for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  async function post(url, body) {
    const res = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const e = data && data.error ? data.error : {};
      const err = new Error(e.message || `The server answered ${res.status}.`);
      err.status = res.status;
      err.code = e.code || null;
      err.errorCode = e.errorCode || null;
      throw err;
    }
    return data;
  }

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
  }

  function clearAlert() {
    ui.alert.textContent = '';
    for (const el of [ui.username, ui.tapCode]) {
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
    for (const s of [ui.start, ui.tap, ui.decision]) s.hidden = s !== section;
  }

  async function flow() {
    if (flowId) return flowId;
    const body = { interactionUid: cfg.uid, capabilities: { webauthn }, authenticationContexts: cfg.contexts };
    if (cfg.clientId) body.clientId = cfg.clientId;
    if (cfg.userAction) body.userAction = cfg.userAction;
    flowId = (await post(api, body)).flowId;
    return flowId;
  }

  const methodLabel = (type) => ({
    fido2: 'Passkey', temporaryAccessPass: 'Temporary Access Pass', password: 'Password', softwareOath: 'Authenticator app code',
  })[type] || type;

  // ---- steps ---------------------------------------------------------------------------------

  async function usePasskey(username) {
    const id = await flow();
    const options = await post(`${api}/${id}/passkey/options`, username ? { username } : {});
    const publicKey = {
      ...options,
      challenge: fromB64url(options.challenge),
      allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: fromB64url(c.id) })),
    };
    status('Use your passkey: follow your browser’s or device’s prompt.');
    let cred;
    try {
      cred = await navigator.credentials.get({ publicKey });
    } catch (err) {
      const e = new Error(err && err.name === 'NotAllowedError'
        ? 'The passkey prompt was cancelled or timed out. Try again, or use a Temporary Access Pass.'
        : `The browser could not use a passkey: ${err && err.message ? err.message : err}`);
      e.field = ui.username;
      throw e;
    }
    const r = cred.response;
    const credential = {
      id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
      response: {
        clientDataJSON: toB64url(r.clientDataJSON), authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature), userHandle: r.userHandle ? toB64url(r.userHandle) : null,
      },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      authenticatorAttachment: cred.authenticatorAttachment || null,
    };
    status('Checking your passkey…');
    return post(`${api}/${id}/passkey`, { credential });
  }

  async function useTap(username, code) {
    const id = await flow();
    status('Checking your Temporary Access Pass…');
    return post(`${api}/${id}/tap`, { username, code });
  }

  async function complete() {
    status('Signed in. Returning to the app…');
    const r = await post(`${interaction}/complete`, { flowId });
    location.assign(r.redirectTo);
  }

  // ---- decisions -----------------------------------------------------------------------------

  function showDecision(heading, text, items, errorCode, offerPasskey) {
    ui.decisionHeading.textContent = heading;
    ui.decisionText.textContent = text || '';
    ui.decisionList.replaceChildren(...items.map((t) => {
      const li = document.createElement('li');
      li.textContent = t;
      return li;
    }));
    ui.decisionList.hidden = items.length === 0;
    ui.decisionCode.textContent = errorCode ? `Error code: ${errorCode}` : '';
    ui.decisionPasskey.hidden = !offerPasskey;
    show(ui.decision);
    status('');
    ui.decisionHeading.focus();
  }

  async function decided(result) {
    const d = result && result.decision;
    if (!d || d.outcome === 'grant') return complete();
    if (d.outcome === 'challenge') {
      const items = d.requirements.map((r) => `${r.description}${r.candidates.length ? ` — you can use: ${r.candidates.map((c) => c.displayName || methodLabel(c.type)).join(', ')}` : ''}`);
      const passkey = webauthn && d.requirements.some((r) => r.candidates.some((c) => c.type === 'fido2'));
      return showDecision('More verification needed', d.failureReason || 'This app needs you to verify with another method.', items, d.errorCode,
        passkey);
    }
    if (d.outcome === 'register') {
      const reg = d.registration || {};
      const items = [];
      if (reg.modes && reg.modes.length) items.push(`Method to register: ${reg.modes.map((m) => (m === 'fido2' ? 'a passkey' : m)).join(' or ')}`);
      if (reg.rule) items.push(`Rule: ${reg.rule}`);
      return showDecision('Registration required', reg.sentence || d.failureReason || 'You need to register a security method before you can continue.', items, d.errorCode, false);
    }
    return showDecision('You can’t sign in', d.failureReason || 'Sign-in was blocked.', [], d.errorCode, false);
  }

  async function run(step, field) {
    clearAlert();
    busy(true);
    try {
      await decided(await step());
    } catch (err) {
      status('');
      if (err.code === 'FlowExpired' && err.status === 404) flowId = null;
      if (err.status === 403 && err.errorCode) {
        // A refusal after the user proved who they are: the reason and its code (SIG-2).
        showDecision('You can’t sign in', err.message, [], err.errorCode, false);
      } else {
        showAlert(`${err.message}${err.errorCode ? ` (error ${err.errorCode})` : ''}`, err.field || field);
      }
    } finally {
      busy(false);
    }
  }

  // ---- wiring --------------------------------------------------------------------------------

  ui.start.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!webauthn) return showAlert('This browser does not support passkeys. Use a Temporary Access Pass.', ui.username);
    return run(() => usePasskey(ui.username.value.trim()), ui.username);
  });

  ui.tapButton.addEventListener('click', () => {
    clearAlert();
    if (!ui.username.value.trim()) return showAlert('Enter your user name first.', ui.username);
    show(ui.tap);
    ui.tapCode.focus();
  });

  ui.tap.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const code = ui.tapCode.value.trim();
    if (!code) return showAlert('Enter your Temporary Access Pass.', ui.tapCode);
    return run(() => useTap(ui.username.value.trim(), code), ui.tapCode);
  });

  ui.tapBack.addEventListener('click', () => {
    clearAlert();
    show(ui.start);
    ui.username.focus();
  });

  ui.decisionPasskey.addEventListener('click', () => run(() => usePasskey(ui.username.value.trim()), null));

  ui.decisionRestart.addEventListener('click', () => {
    flowId = null;
    clearAlert();
    ui.tapCode.value = '';
    show(ui.start);
    ui.username.focus();
  });

  ui.cancel.addEventListener('click', async () => {
    busy(true);
    try {
      const r = await post(`${interaction}/abort`, {});
      location.assign(r.redirectTo);
    } catch (err) {
      showAlert(err.message, null);
      busy(false);
    }
  });

  if (!ui.username.value) ui.username.focus();
}
