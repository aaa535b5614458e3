// What-If (WIF-1): describe a sign-in (user, app or user action or authentication context,
// platform, client app type, address, device code flow, WebAuthn capability, methods already
// performed with how long ago, security-info operation) and see what the engine would decide:
// the outcome, each requirement with its source, each CA policy's result with the first unmet
// condition, and each platform rule's sentence (POST /identity/conditionalAccess/evaluate).
// Read-only: nothing is written.

import { decisionView } from '../decisionView.js';
import { refusal, select, subNav } from '../policyUi.js';

const PLATFORMS = ['unknown', 'android', 'iOS', 'windows', 'windowsPhone', 'macOS', 'linux'];
const CLIENT_TYPES = [['browser', 'Browser'], ['mobileAppsAndDesktopClients', 'Mobile apps and desktop clients'], ['exchangeActiveSync', 'Exchange ActiveSync'], ['easSupported', 'EAS supported'], ['other', 'Other clients']];
const ACTIONS = [['registerSecurityInformation', 'Register security information (My Sign-Ins)'], ['registerOrJoinDevices', 'Register or join devices']];

export default {
  path: '/policies/whatif',
  title: 'What-If',
  async render(ctx) {
    const { ui, api, root, can, query } = ctx;
    const { h } = ui;
    root.append(subNav('/policies/whatif'));
    if (!can.readPolicies) {
      root.append(ui.notOffered('What-If needs an administrator role that can read policies.'));
      return;
    }
    root.append(h('p', {}, 'Describe a sign-in; the same engine that decides live sign-ins says what it would decide, and why. Nothing is written.'));
    let apps = [];
    let modes = [];
    let users = [];
    try {
      [apps, modes, users] = await Promise.all([
        api.graph('GET', '/applications?$top=999').then((r) => r.value).catch(() => []),
        api.graph('GET', '/policies/authenticationStrengthPolicies/authenticationMethodModes').then((r) => r.value),
        api.graph('GET', '/users?$top=100&$select=displayName,userPrincipalName').then((r) => r.value).catch(() => []),
      ]);
    } catch (err) {
      root.append(refusal(ui, err, ctx.signInAgain));
      return;
    }
    if (!ctx.current()) return;

    const listId = ui.uid('users');
    const user = ui.field({ label: 'User', name: 'whatifUser', value: query.get('user') || '', hint: 'A user name (UPN) or an object id. Suggestions list the first 100 users.' });
    user.input.setAttribute('list', listId);
    const datalist = h('datalist', { id: listId }, users.map((u) => h('option', { value: u.userPrincipalName }, u.displayName)));
    let kind = 'app';
    let app = apps[0] ? apps[0].appId : '';
    let action = ACTIONS[0][0];
    const targetHolder = h('div', {});
    const authContext = ui.field({ label: 'Authentication context', name: 'whatifContext', value: 'c1', hint: 'c1 to c99.' });
    const paintTarget = () => {
      targetHolder.replaceChildren(kind === 'app'
        ? select({ label: 'Application', name: 'whatifApp', value: app, options: apps.map((a) => ({ value: a.appId, label: `${a.displayName} (${a.appId})` })), onChange: (v) => { app = v; } })
        : kind === 'action'
          ? select({ label: 'User action', name: 'whatifAction', value: action, options: ACTIONS.map(([value, label]) => ({ value, label })), onChange: (v) => { action = v; } })
          : authContext.wrap);
    };
    paintTarget();
    let platform = 'windows';
    let clientType = 'browser';
    let operation = '';
    const ip = ui.field({ label: 'IP address', name: 'whatifIp', value: '', hint: 'Optional; matched against the named locations.', placeholder: '203.0.113.7' });
    const deviceCode = ui.field({ kind: 'checkbox', label: 'Device code flow', name: 'whatifDeviceCode', value: false });
    const webauthn = ui.field({ kind: 'checkbox', label: 'The client can use and register passkeys (WebAuthn)', name: 'whatifWebauthn', value: true, hint: 'Off for a client such as a device-enrolment web view (PLT-4).' });
    const performed = [0, 1, 2].map((i) => {
      const row = { mode: '', minutes: ui.field({ label: `Method ${i + 1}: minutes ago`, name: `whatifMinutes${i}`, type: 'number', value: '0', min: 0, max: 129600 }) };
      row.node = h('div', { class: 'filter-grid' },
        select({ label: `Method ${i + 1} already performed`, name: `whatifMode${i}`, value: '', options: [{ value: '', label: 'None' }, ...modes.map((m) => ({ value: m.id, label: `${m.displayName || m.id} (${m.id})${m.gatehouseAvailability === 'notAvailableOnThisServer' ? ', not available on this server' : ''}` }))], onChange: (v) => { row.mode = v; } }),
        row.minutes.wrap);
      return row;
    });
    const result = h('div', { id: 'whatif-result' });
    const run = h('button', { type: 'submit', id: 'run-whatif' }, 'Evaluate');
    const form = h('form', { class: 'whatif', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const signInContext = kind === 'app'
        ? { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: [app] }
        : kind === 'action'
          ? { '@odata.type': '#microsoft.graph.userActionContext', userAction: action }
          : { '@odata.type': '#microsoft.graph.authContext', authenticationContextValue: authContext.input.value.trim() };
      const signInConditions = { devicePlatform: platform, clientAppType: clientType };
      if (ip.input.value.trim()) signInConditions.ipAddress = ip.input.value.trim();
      if (deviceCode.input.checked) signInConditions.authenticationFlow = { transferMethod: 'deviceCodeFlow' };
      const gatehouse = {
        performedMethods: performed.filter((p) => p.mode).map((p) => ({ mode: p.mode, minutesAgo: Number(p.minutes.input.value) || 0 })),
        clientCapabilities: { webauthn: webauthn.input.checked },
      };
      if (operation) gatehouse.securityInfoOperation = operation;
      const body = { signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId: user.input.value.trim() }, signInContext, signInConditions, appliedPoliciesOnly: false, gatehouse };
      run.disabled = true;
      result.setAttribute('aria-busy', 'true');
      result.replaceChildren(h('p', { class: 'loading' }, 'Evaluating…'));
      ui.status('Evaluating…');
      try {
        const r = await api.graph('POST', '/identity/conditionalAccess/evaluate', body);
        const d = r.gatehouseDecision;
        result.replaceChildren(h('h2', { id: 'whatif-heading' }, `What would happen: ${d.outcome}`), ...decisionView(ui, d, 'whatif'));
        ui.status(`Evaluated: the outcome would be ${d.outcome}.`);
      } catch (err) {
        ui.status('');
        result.replaceChildren(refusal(ui, err, ctx.signInAgain));
      } finally {
        result.removeAttribute('aria-busy');
        run.disabled = false;
      }
    } },
    user.wrap, datalist,
    h('fieldset', {}, h('legend', {}, 'What the user signs in to'),
      select({ label: 'Kind', name: 'whatifKind', value: kind, options: [{ value: 'app', label: 'An application' }, { value: 'action', label: 'A user action' }, { value: 'context', label: 'An authentication context' }], onChange: (v) => { kind = v; paintTarget(); } }),
      targetHolder),
    h('fieldset', {}, h('legend', {}, 'Conditions'), h('div', { class: 'filter-grid' },
      select({ label: 'Device platform', name: 'whatifPlatform', value: platform, options: PLATFORMS.map((p) => ({ value: p, label: p })), onChange: (v) => { platform = v; } }),
      select({ label: 'Client app type', name: 'whatifClient', value: clientType, options: CLIENT_TYPES.map(([value, label]) => ({ value, label })), onChange: (v) => { clientType = v; } }),
      ip.wrap), deviceCode.wrap, webauthn.wrap),
    h('fieldset', {}, h('legend', {}, 'The session so far'), ...performed.map((p) => p.node),
      select({ label: 'Security-info operation (PLT-2)', name: 'whatifOperation', value: '', options: [{ value: '', label: 'Not a security-info operation' }, { value: 'view', label: 'View' }, { value: 'register', label: 'Register a method' }, { value: 'change', label: 'Change a method' }, { value: 'delete', label: 'Delete a method' }], onChange: (v) => { operation = v; } })),
    h('div', { class: 'actions' }, run));
    root.append(form, result);
  },
};
