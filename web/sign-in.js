/* global document, window, navigator, fetch, location */
// The sign-in page's script (src/http/pages/signIn.ts renders the page). It drives the JSON flow
// API (docs/flows.md) for the OIDC interaction named in the page, shows each decision, and once
// a decision grants, completes the interaction and follows the app's redirect.
//
// A `register` decision (PLT-4 registration interrupt, or an enforced PLT-5 campaign) is handled
// here: the page says why, registers a passkey inside the flow (`register/options`,
// navigator.credentials.create, `register`), then has the user use it at once (the passkey
// step), whose decision grants. A `nudge` on a grant (PLT-5 campaign) offers "Add a passkey" or
// "Not now" (recorded as a snooze: `campaign/snooze`) before completing.

import { createPasskey, fromB64url, toB64url } from './webauthn.js';

const main = document.getElementById('sign-in');
if (main) start(main);

function start(main) {
  const cfg = {
    tenantId: main.dataset.tenantId,
    uid: main.dataset.uid,
    clientId: main.dataset.clientId,
    contexts: JSON.parse(main.dataset.contexts || '[]'),
    userAction: main.dataset.userAction || null,
    // SC-5: this sign-in completes a device code (OAuth device authorization grant).
    transferMethod: main.dataset.transferMethod || null,
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
    register: $('register'), registerHeading: $('register-heading'), registerText: $('register-text'), registerList: $('register-list'),
    registerCode: $('register-code'), registerForm: $('register-form'), registerSubmit: $('register-submit'), passkeyName: $('passkey-name'), registerOther: $('register-other'),
    nudge: $('nudge'), nudgeHeading: $('nudge-heading'), nudgeText: $('nudge-text'), nudgeAdd: $('nudge-add'), nudgeLater: $('nudge-later'),
    cancel: $('cancel'),
  };
  let flowId = null;
  /** 'required' (a register decision: register, then use the passkey) or 'nudge' (optional: register, then complete). */
  let registerMode = 'required';
  /** The flow in which a passkey was already registered (so a retry only uses it). */
  let registeredIn = null;

  if (!webauthn) {
    ui.passkeyButton.disabled = true;
    ui.passkeyButton.title = 'This browser does not support passkeys.';
  }

  // ---- helpers -------------------------------------------------------------------------------


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
      err.decision = e.decision || null;
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
    // The alert sits above the forms: keep it in sight when the field that failed is further down.
    if (ui.alert.scrollIntoView) ui.alert.scrollIntoView({ block: 'nearest' });
  }

  function clearAlert() {
    ui.alert.textContent = '';
    for (const el of [ui.username, ui.tapCode, ui.passkeyName]) {
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
    for (const s of [ui.start, ui.tap, ui.decision, ui.register, ui.nudge]) s.hidden = s !== section;
  }

  // The flow this page signs in with, started on first use. `extra` goes into the start request
  // (e.g. `passkeyOptions: {}`); the start's whole answer is returned, or {} when a flow exists.
  async function startFlow(extra = {}) {
    if (flowId) return {};
    const body = { interactionUid: cfg.uid, capabilities: { webauthn }, authenticationContexts: cfg.contexts, ...extra };
    if (cfg.clientId) body.clientId = cfg.clientId;
    if (cfg.userAction) body.userAction = cfg.userAction;
    if (cfg.transferMethod) body.transferMethod = cfg.transferMethod;
    const started = await post(api, body);
    flowId = started.flowId;
    return started;
  }

  async function flow() {
    await startFlow();
    return flowId;
  }

  const listItems = (list, items) => {
    list.replaceChildren(...items.map((t) => {
      const li = document.createElement('li');
      li.textContent = t;
      return li;
    }));
    list.hidden = items.length === 0;
  };

  const methodLabel = (type) => ({
    fido2: 'Passkey', temporaryAccessPass: 'Temporary Access Pass', password: 'Password', softwareOath: 'Authenticator app code',
  })[type] || type;

  // ---- steps ---------------------------------------------------------------------------------

  async function usePasskey(username) {
    // Usernameless on a new flow: the start answers the options too (one request fewer).
    const started = !username ? await startFlow({ passkeyOptions: {} }) : {};
    const id = await flow();
    const options = started.passkeyOptions || await post(`${api}/${id}/passkey/options`, username ? { username } : {});
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

  /** register/options → navigator.credentials.create → register. Resolves with the register step's answer. */
  async function registerPasskey(displayName) {
    const id = await flow();
    status('Preparing your new passkey…');
    const options = await post(`${api}/${id}/register/options`, {});
    status('Create your passkey: follow your browser’s or device’s prompt.');
    let publicKeyCredential;
    try {
      publicKeyCredential = await createPasskey(options.publicKey, 'This device already holds a passkey for your account here. Use another device or security key.');
    } catch (err) {
      err.field = ui.passkeyName;
      throw err;
    }
    status('Saving your passkey…');
    const body = { publicKeyCredential };
    if (displayName) body.displayName = displayName;
    return post(`${api}/${id}/register`, body);
  }

  async function useTap(username, code) {
    const id = await flow();
    status('Checking your Temporary Access Pass…');
    return post(`${api}/${id}/tap`, { username, code });
  }

  /** SC-5: end the device's request with the refused flow's reason, then show the device page's answer. */
  async function endDeviceSignIn() {
    try {
      const r = await post(`${interaction}/abort`, { flowId });
      location.assign(r.redirectTo);
    } catch (e) {
      showAlert(e.message, null);
    }
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

  /** The rule, policies and methods behind a register decision, as list items. */
  function registrationReasons(d) {
    const reg = d.registration || {};
    const items = [];
    if (reg.modes && reg.modes.length) items.push(`Method to add: ${reg.modes.map((m) => (m === 'fido2' ? 'a passkey' : methodLabel(m))).join(' or ')}`);
    const rule = (d.platformRules || []).find((p) => p.id === reg.rule);
    if (reg.rule) items.push(`Rule: ${rule ? rule.sentence.replace(/:.*$/, '') : reg.rule}`);
    for (const q of d.requirements || []) {
      if ((reg.requirementIds || []).includes(q.id) && q.source && q.source.displayName) items.push(`Policy: ${q.source.displayName}`);
    }
    return items;
  }

  function showRegister(d) {
    registerMode = 'required';
    const reg = d.registration || {};
    ui.registerHeading.textContent = 'Add a passkey to continue';
    ui.registerText.textContent = reg.rule === 'PLT-5'
      ? `Your organisation asks everyone to add a passkey, and this sign-in can't continue without one (${reg.sentence || reg.rule}).`
      : `Your organisation requires a passkey to sign in here, and you don't have one yet. ${reg.sentence || d.failureReason || ''}`.trim();
    listItems(ui.registerList, registrationReasons(d));
    ui.registerCode.textContent = d.errorCode ? `Error code: ${d.errorCode}` : '';
    ui.registerOther.textContent = 'Start again';
    ui.registerSubmit.textContent = 'Create a passkey';
    show(ui.register);
    status('');
    ui.registerHeading.focus();
  }

  function showNudge(n) {
    const left = typeof n.snoozesAllowed === 'number' ? Math.max(n.snoozesAllowed - (n.snoozesUsed || 0), 0) : null;
    const later = left === null ? ' You can also do it later.'
      : ` You can put it off ${left} more time${left === 1 ? '' : 's'} (for ${n.snoozeDurationInDays} day${n.snoozeDurationInDays === 1 ? '' : 's'} each); after that, adding one is required.`;
    ui.nudgeText.textContent = `Passkeys are faster and safer than other ways to sign in. Add one now; it takes a moment.${
      n.canSnooze === false ? '' : later}`;
    ui.nudgeLater.hidden = n.canSnooze === false;
    show(ui.nudge);
    status('');
    ui.nudgeHeading.focus();
  }

  async function decided(result) {
    const d = result && result.decision;
    if (d && d.outcome === 'grant' && d.nudge && webauthn) return showNudge(d.nudge);
    if (!d || d.outcome === 'grant') return complete();
    if (d.outcome === 'challenge') {
      const items = d.requirements.map((r) => {
        const use = r.candidates.length ? `You can use: ${r.candidates.map((c) => c.displayName || methodLabel(c.type)).join(', ')}` : '';
        // The single requirement's description is usually the reason shown above it: don't say it twice.
        if (r.description === d.failureReason && use) return use;
        return `${r.description}${use ? ` — ${use[0].toLowerCase()}${use.slice(1)}` : ''}`;
      });
      const passkey = webauthn && d.requirements.some((r) => r.candidates.some((c) => c.type === 'fido2'));
      return showDecision('More verification needed', d.failureReason || 'This app needs you to verify with another method.', items, d.errorCode,
        passkey);
    }
    if (d.outcome === 'register') {
      const reg = d.registration || {};
      if (webauthn && (reg.modes || []).includes('fido2')) return showRegister(d);
      return showDecision('Registration required', reg.sentence || d.failureReason || 'You need to register a security method before you can continue.', registrationReasons(d), d.errorCode, false);
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
      if (err.status === 403 && err.errorCode && cfg.transferMethod && flowId) {
        // A refused sign-in for a device code (SC-5): the device's request ends with this reason
        // (access_denied), and the device page that follows shows the reason and its code.
        showDecision('You can’t sign in', err.message, [], err.errorCode, false);
        await endDeviceSignIn();
      } else if (err.status === 403 && err.errorCode) {
        // A refusal after the user proved who they are: the reason and its code (SIG-2).
        showDecision('You can’t sign in', err.message, [], err.errorCode, false);
      } else {
        showAlert(`${err.message}${err.errorCode ? ` (error ${err.errorCode})` : ''}`, err.field || field);
      }
    } finally {
      busy(false);
    }
  }

  /**
   * Register, then (for a required registration) use the new passkey at once: the passkey step's
   * decision grants and the sign-in completes. A refusal or failure stays on this form, in the
   * alert region with its code (a 403 carries the security-info decision, a 400 the SC-8 reason).
   */
  async function runRegister() {
    clearAlert();
    busy(true);
    try {
      // After a successful registration whose use then failed, a retry only uses the passkey.
      if (!registeredIn || registeredIn !== flowId) {
        await registerPasskey(ui.passkeyName.value.trim());
        registeredIn = flowId;
      }
      if (registerMode === 'nudge') {
        await complete();
        return;
      }
      status('Passkey added. Now use it to finish signing in.');
      await decided(await usePasskey(ui.username.value.trim()));
    } catch (err) {
      status('');
      if (err.code === 'FlowExpired' && err.status === 404) flowId = null;
      const codes = [err.code, err.errorCode].filter(Boolean).join(' ');
      const rule = err.decision && err.decision.platformRules && err.decision.platformRules.length
        ? ` ${err.decision.platformRules.map((p) => p.id).join(', ')}.` : '';
      showAlert(`${err.message}${rule}${codes ? ` (error ${codes})` : ''}`, err.field || ui.passkeyName);
      if (registeredIn && registeredIn === flowId) ui.registerSubmit.textContent = 'Use the new passkey';
    } finally {
      busy(false);
    }
  }

  /**
   * "Not now" on the campaign's nudge (PLT-5): the snooze is recorded (it counts towards the
   * allowed snoozes), then the sign-in completes. When there is no nudge to snooze any more
   * (409), the sign-in still completes.
   */
  async function snoozeAndFinish() {
    clearAlert();
    busy(true);
    try {
      status('Reminding you later…');
      try {
        await post(`${api}/${flowId}/campaign/snooze`, {});
      } catch (err) {
        if (err.status !== 409) throw err;
      }
      await complete();
    } catch (err) {
      status('');
      showAlert(`${err.message}${err.errorCode ? ` (error ${err.errorCode})` : ''}`, null);
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

  ui.registerForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    return runRegister();
  });

  ui.registerOther.addEventListener('click', () => {
    if (registerMode === 'nudge') {
      // "Not now" from the nudge's form: snooze, and carry on signing in.
      return snoozeAndFinish();
    }
    flowId = null;
    clearAlert();
    ui.tapCode.value = '';
    show(ui.start);
    return ui.username.focus();
  });

  ui.nudgeAdd.addEventListener('click', () => {
    registerMode = 'nudge';
    clearAlert();
    ui.registerHeading.textContent = 'Add a passkey';
    ui.registerText.textContent = 'Your organisation’s registration campaign (PLT-5) asks you to add a passkey. You are already signed in; after this you return to the app.';
    listItems(ui.registerList, []);
    ui.registerCode.textContent = '';
    ui.registerOther.textContent = 'Not now';
    show(ui.register);
    ui.passkeyName.focus();
  });

  // "Not now" snoozes the campaign (PLT-5), then completes.
  ui.nudgeLater.addEventListener('click', () => snoozeAndFinish());

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
