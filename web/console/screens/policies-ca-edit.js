/* global document */
// One Conditional Access policy (CA-1..CA-6): a form editor and a JSON view of the same Graph
// JSON, switchable without losing edits. The server validates (a 400 names the field); the WIF-3
// lockout guard refuses a save that would leave no Global Administrator able to sign in to the
// admin console (409, shown with the administrators it names; no force button here: the API's
// `?forceLockout=true` exists and is audited). "Preview impact" decides the logged sign-ins of a
// window again against the draft (WIF-2, POST …/gatehouseImpact) before anything is saved.

import {
  NEEDS, checkboxGroup, directorySearch, editable, findingsList, jsonArea, picker, readOnly, refusal, select, subNav,
} from '../policyUi.js';

const PLATFORMS = ['android', 'iOS', 'windows', 'windowsPhone', 'macOS', 'linux'];
const CLIENT_TYPES = [
  ['all', 'All client apps'], ['browser', 'Browser'], ['mobileAppsAndDesktopClients', 'Mobile apps and desktop clients'],
  ['exchangeActiveSync', 'Exchange ActiveSync clients'], ['other', 'Other clients'],
];
const USER_ACTIONS = [['urn:user:registersecurityinfo', 'Register security information'], ['urn:user:registerdevice', 'Register or join devices']];
const WINDOWS = [['1', 'the last 24 hours'], ['7', 'the last 7 days'], ['30', 'the last 30 days'], ['90', 'the last 90 days']];

const blank = () => ({
  displayName: '', state: 'enabledForReportingButNotEnforced',
  conditions: {
    users: { includeUsers: [], excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [] },
    applications: { includeApplications: [], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [] },
    clientAppTypes: ['all'], platforms: null, locations: null,
  },
  grantControls: { operator: 'OR', builtInControls: ['mfa'] },
  sessionControls: null,
});

/** Fills what an imported or minimal policy may lack, so the form can bind to it (the JSON keeps everything else). */
function normalise(p) {
  const d = p;
  d.conditions = d.conditions || {};
  const c = d.conditions;
  c.users = { includeUsers: [], excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [], ...(c.users || {}) };
  c.applications = { includeApplications: [], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [], ...(c.applications || {}) };
  c.clientAppTypes = c.clientAppTypes || [];
  return d;
}

export default {
  path: '/policies/ca/:id',
  title: 'Conditional Access policy',
  async render(ctx) {
    const { ui, api, root, params, can } = ctx;
    const { h } = ui;
    root.append(subNav('/policies/ca'));
    const isNew = params.id === 'new';
    const write = can.writeConditionalAccess;
    if (isNew && !write) {
      root.append(readOnly(ui, NEEDS.ca));
      return;
    }
    const stop = ui.loading(root, 'Loading the policy…');
    let stored = null;
    let strengths = [];
    let locations = [];
    let apps = [];
    let roles = [];
    try {
      [stored, strengths, locations, apps, roles] = await Promise.all([
        isNew ? null : api.graph('GET', `/identity/conditionalAccess/policies/${encodeURIComponent(params.id)}`),
        api.graph('GET', '/policies/authenticationStrengthPolicies').then((r) => r.value),
        api.graph('GET', '/identity/conditionalAccess/namedLocations').then((r) => r.value),
        api.graph('GET', '/applications?$top=999').then((r) => r.value).catch(() => []),
        api.graph('GET', '/roleManagement/directory/roleDefinitions').then((r) => r.value).catch(() => []),
      ]);
    } catch (err) {
      stop();
      root.replaceChildren(subNav('/policies/ca'), refusal(ui, err, ctx.signInAgain), h('p', {}, ui.link('#/policies/ca', 'Back to the policies')));
      return;
    }
    stop();
    if (!ctx.current()) return;
    root.replaceChildren(subNav('/policies/ca'));
    ctx.setTitle(isNew ? 'New Conditional Access policy' : `Policy “${stored.displayName}”`);
    let draft = normalise(isNew ? blank() : editable(stored));
    const names = new Map();
    for (const r of roles) names.set(r.templateId || r.id, r.displayName);
    for (const a of apps) names.set(a.appId, a.displayName);
    // Names of the users and groups the policy already names (a few lookups; an id that is gone shows as the id).
    const u = draft.conditions.users;
    await Promise.all([
      ...[...u.includeUsers, ...u.excludeUsers].filter((x) => /^[0-9a-f-]{36}$/i.test(x)).map((id) => api.graph('GET', `/users/${id}`).then((x) => names.set(id, `${x.displayName} (${x.userPrincipalName})`)).catch(() => null)),
      ...[...u.includeGroups, ...u.excludeGroups].map((id) => api.graph('GET', `/groups/${id}`).then((x) => names.set(id, x.displayName)).catch(() => null)),
    ]);
    if (!ctx.current()) return;

    if (!write) root.append(readOnly(ui, NEEDS.ca));
    if (stored && (stored.gatehouseFindings || []).length) {
      root.append(h('div', { class: 'notice', id: 'findings' }, h('p', {}, h('strong', {}, 'This policy is kept disabled by these findings (CA-4). '), stored.exportedState ? `It was exported as “${stored.exportedState}”. ` : '', 'Fix them in the form or the JSON, then turn it on.'), findingsList(stored.gatehouseFindings)));
    }

    // ---- the two views -------------------------------------------------------------------
    let view = 'form';
    const formHolder = h('div', { id: 'policy-form' });
    const json = jsonArea({ label: 'The policy as Graph JSON', value: draft, disabled: !write, hint: 'The same policy as the form shows, in Microsoft Graph’s conditionalAccessPolicy shape. The server validates it when you save.' });
    const jsonHolder = h('div', { id: 'policy-json', hidden: true }, json.wrap);
    const switchProblem = h('div', {});
    const formButton = h('button', { type: 'button', 'aria-pressed': 'true', onclick: () => show('form') }, 'Form');
    const jsonButton = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => show('json') }, 'JSON');
    /** Switching keeps the edits: the JSON is written from the draft, or parsed back into it. */
    function show(next) {
      if (next === view) return;
      switchProblem.replaceChildren();
      if (next === 'form') {
        let parsed;
        try {
          parsed = json.get();
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the policy must be a JSON object');
        } catch (err) {
          switchProblem.replaceChildren(h('p', { class: 'problem', role: 'alert' }, `The JSON can’t be read, so the form can’t show it: ${err.message}. Fix it, or keep editing in the JSON view.`));
          return;
        }
        draft = normalise(parsed);
        paintForm();
      } else {
        json.set(draft);
      }
      view = next;
      formHolder.hidden = next !== 'form';
      jsonHolder.hidden = next !== 'json';
      formButton.setAttribute('aria-pressed', String(next === 'form'));
      jsonButton.setAttribute('aria-pressed', String(next === 'json'));
    }
    /** The draft as it stands in whichever view is showing (throws when the JSON can't be read). */
    function current() {
      if (view === 'json') {
        const parsed = json.get();
        draft = normalise(parsed);
      }
      return draft;
    }

    const search = directorySearch(api);
    function paintForm() {
      const keep = document.activeElement && document.activeElement.name ? document.activeElement.name : null;
      formHolder.replaceChildren(...formSections());
      if (keep) { const el = formHolder.querySelector(`[name="${keep}"]`); if (el) el.focus(); }
    }
    const set = (fn, repaint = false) => { fn(draft); if (repaint) paintForm(); };

    function formSections() {
      const c = draft.conditions;
      const users = c.users;
      const a = c.applications;
      const dis = !write;
      const out = [];

      const basics = ui.section('Name and state');
      const nameField = ui.field({ label: 'Name', name: 'displayName', value: draft.displayName || '', maxlength: 256, hint: 'For example “CA010 Require MFA for admins”.' });
      nameField.input.disabled = dis;
      nameField.input.addEventListener('input', () => { draft.displayName = nameField.input.value; });
      basics.append(nameField.wrap, select({ label: 'State', name: 'state', value: draft.state, disabled: dis, onChange: (v) => set((d) => { d.state = v; }),
        options: [{ value: 'enabledForReportingButNotEnforced', label: 'Report-only (evaluated and logged, not enforced)' }, { value: 'enabled', label: 'On' }, { value: 'disabled', label: 'Off' }] }));
      out.push(basics);

      // Users
      const who = ui.section('Users');
      const mode = users.includeUsers.includes('All') ? 'All' : users.includeUsers.includes('None') ? 'None' : 'select';
      who.append(select({ label: 'Include', name: 'usersInclude', value: mode, disabled: dis, options: [{ value: 'All', label: 'All users' }, { value: 'None', label: 'None' }, { value: 'select', label: 'Select users, groups and roles' }],
        onChange: (v) => set((d) => {
          const x = d.conditions.users;
          x.includeUsers = v === 'select' ? x.includeUsers.filter((i) => i !== 'All' && i !== 'None') : [v];
          if (v !== 'select') { x.includeGroups = []; x.includeRoles = []; }
        }, true) }));
      if (mode === 'select') {
        who.append(
          picker({ legend: 'Included users', ids: users.includeUsers, names, search: search.users, disabled: dis, placeholder: 'Start of a name', onChange: (ids) => { draft.conditions.users.includeUsers = [...ids]; } }),
          picker({ legend: 'Included groups', ids: users.includeGroups, names, search: search.groups, disabled: dis, placeholder: 'Start of a group name', onChange: (ids) => { draft.conditions.users.includeGroups = [...ids]; } }),
          picker({ legend: 'Included roles', ids: users.includeRoles, names, search: search.roles, disabled: dis, placeholder: 'Part of a role name', onChange: (ids) => { draft.conditions.users.includeRoles = [...ids]; } }),
        );
      }
      who.append(
        picker({ legend: 'Excluded users', ids: users.excludeUsers, names, search: search.users, disabled: dis, placeholder: 'Start of a name', onChange: (ids) => { draft.conditions.users.excludeUsers = [...ids]; } }),
        picker({ legend: 'Excluded groups', ids: users.excludeGroups, names, search: search.groups, disabled: dis, placeholder: 'Start of a group name', onChange: (ids) => { draft.conditions.users.excludeGroups = [...ids]; } }),
        picker({ legend: 'Excluded roles', ids: users.excludeRoles, names, search: search.roles, disabled: dis, placeholder: 'Part of a role name', onChange: (ids) => { draft.conditions.users.excludeRoles = [...ids]; } }),
        h('p', { class: 'hint' }, 'Exclusions beat inclusions (CA-2). Guests and external users can be set in the JSON view (includeGuestsOrExternalUsers).'),
      );
      out.push(who);

      // Target resources
      const target = ui.section('Target resources');
      const kind = a.includeUserActions.length ? 'userAction' : a.includeAuthenticationContextClassReferences.length ? 'authContext' : 'apps';
      target.append(select({ label: 'This policy applies to', name: 'targetKind', value: kind, disabled: dis,
        options: [{ value: 'apps', label: 'Applications' }, { value: 'userAction', label: 'A user action' }, { value: 'authContext', label: 'Authentication contexts' }],
        onChange: (v) => set((d) => {
          const x = d.conditions.applications;
          x.includeApplications = v === 'apps' ? ['All'] : [];
          x.excludeApplications = [];
          x.includeUserActions = v === 'userAction' ? [USER_ACTIONS[0][0]] : [];
          x.includeAuthenticationContextClassReferences = v === 'authContext' ? ['c1'] : [];
        }, true) }));
      const appOptions = apps.map((x) => ({ value: x.appId, label: `${x.displayName}` }));
      if (kind === 'apps') {
        const appMode = a.includeApplications.includes('All') ? 'All' : a.includeApplications.includes('None') ? 'None' : 'select';
        target.append(select({ label: 'Include applications', name: 'appsInclude', value: appMode, disabled: dis, options: [{ value: 'All', label: 'All applications' }, { value: 'None', label: 'None' }, { value: 'select', label: 'Select applications' }],
          onChange: (v) => set((d) => { d.conditions.applications.includeApplications = v === 'select' ? [] : [v]; }, true) }));
        if (appMode === 'select') {
          target.append(checkboxGroup({ legend: 'Included applications', disabled: dis, options: [...appOptions, { value: 'MicrosoftAdminPortals', label: 'Microsoft admin portals (the admin console)' }], selected: a.includeApplications, onChange: (v) => { draft.conditions.applications.includeApplications = v; } }));
        }
        target.append(checkboxGroup({ legend: 'Excluded applications', disabled: dis, options: appOptions, selected: a.excludeApplications, onChange: (v) => { draft.conditions.applications.excludeApplications = v; } }));
      } else if (kind === 'userAction') {
        target.append(select({ label: 'User action', name: 'userAction', value: a.includeUserActions[0], disabled: dis, options: USER_ACTIONS.map(([value, label]) => ({ value, label })),
          hint: 'Report-only policies can’t target a user action (CA-5); a device-registration policy may only require MFA (CA-6).',
          onChange: (v) => set((d) => { d.conditions.applications.includeUserActions = [v]; }) }));
      } else {
        const ctxField = ui.field({ label: 'Authentication contexts', name: 'authContexts', value: a.includeAuthenticationContextClassReferences.join(', '), hint: 'c1 to c99, separated by commas. Apps ask for one with acr_values or claims (CA-7).' });
        ctxField.input.disabled = dis;
        ctxField.input.addEventListener('input', () => { draft.conditions.applications.includeAuthenticationContextClassReferences = ctxField.input.value.split(',').map((s) => s.trim()).filter(Boolean); });
        target.append(ctxField.wrap);
      }
      out.push(target);

      // Conditions
      const cond = ui.section('Conditions');
      const grid = h('div', { class: 'editor-grid' });
      grid.append(checkboxGroup({ legend: 'Client app types', disabled: dis, options: CLIENT_TYPES.map(([value, label]) => ({ value, label })), selected: c.clientAppTypes, onChange: (v) => { draft.conditions.clientAppTypes = v; } }));
      const pl = c.platforms || { includePlatforms: [], excludePlatforms: [] };
      const platforms = (key) => (v) => {
        const next = { includePlatforms: [], excludePlatforms: [], ...(draft.conditions.platforms || {}), [key]: v };
        draft.conditions.platforms = next.includePlatforms.length || next.excludePlatforms.length ? next : null;
      };
      grid.append(checkboxGroup({ legend: 'Device platforms: include', hint: 'None ticked: platforms are not a condition.', disabled: dis, options: [{ value: 'all', label: 'Any platform' }, ...PLATFORMS.map((p) => ({ value: p, label: p }))], selected: pl.includePlatforms || [], onChange: platforms('includePlatforms') }));
      grid.append(checkboxGroup({ legend: 'Device platforms: exclude', disabled: dis, options: PLATFORMS.map((p) => ({ value: p, label: p })), selected: pl.excludePlatforms || [], onChange: platforms('excludePlatforms') }));
      const loc = c.locations || { includeLocations: [], excludeLocations: [] };
      const locOptions = locations.map((l) => ({ value: l.id, label: `${l.displayName}${l.isTrusted ? ' (trusted)' : ''}` }));
      const locs = (key) => (v) => {
        const next = { includeLocations: [], excludeLocations: [], ...(draft.conditions.locations || {}), [key]: v };
        draft.conditions.locations = next.includeLocations.length || next.excludeLocations.length ? next : null;
      };
      grid.append(checkboxGroup({ legend: 'Locations: include', hint: 'None ticked: locations are not a condition.', disabled: dis, options: [{ value: 'All', label: 'Any location' }, { value: 'AllTrusted', label: 'All trusted locations' }, ...locOptions], selected: loc.includeLocations || [], onChange: locs('includeLocations') }));
      grid.append(checkboxGroup({ legend: 'Locations: exclude', disabled: dis, options: [{ value: 'AllTrusted', label: 'All trusted locations' }, ...locOptions], selected: loc.excludeLocations || [], onChange: locs('excludeLocations') }));
      const flows = c.authenticationFlows && c.authenticationFlows.transferMethods ? c.authenticationFlows.transferMethods.split(',').map((s) => s.trim()).filter(Boolean) : [];
      grid.append(checkboxGroup({ legend: 'Authentication flows (transfer methods)', disabled: dis, options: [{ value: 'deviceCodeFlow', label: 'Device code flow' }, { value: 'authenticationTransfer', label: 'Authentication transfer' }], selected: flows,
        onChange: (v) => { draft.conditions.authenticationFlows = v.length ? { transferMethods: v.join(',') } : null; } }));
      cond.append(grid);
      out.push(cond);

      // Grant
      const grant = ui.section('Grant');
      const g = draft.grantControls || { operator: 'OR', builtInControls: [] };
      const gKind = !draft.grantControls ? 'none' : (g.builtInControls || []).includes('block') ? 'block' : 'grant';
      grant.append(select({ label: 'Access', name: 'grantKind', value: gKind, disabled: dis, options: [{ value: 'grant', label: 'Grant access, requiring…' }, { value: 'block', label: 'Block access' }, { value: 'none', label: 'No grant control' }],
        onChange: (v) => set((d) => { d.grantControls = v === 'none' ? null : v === 'block' ? { operator: 'OR', builtInControls: ['block'] } : { operator: 'OR', builtInControls: ['mfa'] }; }, true) }));
      if (gKind === 'grant') {
        const mfa = ui.field({ kind: 'checkbox', label: 'Require multifactor authentication (mfa)', name: 'grantMfa', value: (g.builtInControls || []).includes('mfa'), hint: 'The same as the built-in Multifactor authentication strength; can’t be combined with a strength (CA-3).' });
        mfa.input.disabled = dis;
        mfa.input.addEventListener('change', () => {
          const others = (draft.grantControls.builtInControls || []).filter((x) => x !== 'mfa');
          draft.grantControls.builtInControls = mfa.input.checked ? ['mfa', ...others] : others;
        });
        grant.append(mfa.wrap,
          select({ label: 'Require authentication strength', name: 'grantStrength', value: g.authenticationStrength ? g.authenticationStrength.id : '', disabled: dis,
            options: [{ value: '', label: 'No strength' }, ...strengths.map((s) => ({ value: s.id, label: `${s.displayName}${s.policyType === 'builtIn' ? ' (built-in)' : ''}` }))],
            onChange: (v) => set((d) => { d.grantControls.authenticationStrength = v ? { id: v } : null; }) }),
          select({ label: 'When several are required', name: 'grantOperator', value: g.operator || 'OR', disabled: dis, options: [{ value: 'OR', label: 'Require one of the selected controls (OR)' }, { value: 'AND', label: 'Require all the selected controls (AND)' }],
            onChange: (v) => set((d) => { d.grantControls.operator = v; }) }));
      }
      out.push(grant);

      // Session
      const session = ui.section('Session');
      const s = draft.sessionControls || {};
      const f = s.signInFrequency && s.signInFrequency.isEnabled ? s.signInFrequency : null;
      const fKind = !f ? 'off' : f.frequencyInterval === 'everyTime' ? 'everyTime' : (f.type || 'hours');
      const setSession = (key, value) => {
        const next = { ...(draft.sessionControls || {}), [key]: value };
        if (!next.signInFrequency) delete next.signInFrequency;
        if (!next.persistentBrowser) delete next.persistentBrowser;
        draft.sessionControls = Object.keys(next).length ? next : null;
      };
      session.append(select({ label: 'Sign-in frequency', name: 'frequency', value: fKind, disabled: dis,
        options: [{ value: 'off', label: 'Not configured' }, { value: 'everyTime', label: 'Every time' }, { value: 'hours', label: 'Periodic, in hours' }, { value: 'days', label: 'Periodic, in days' }],
        onChange: (v) => set(() => setSession('signInFrequency', v === 'off' ? null : v === 'everyTime'
          ? { isEnabled: true, frequencyInterval: 'everyTime', authenticationType: 'primaryAndSecondaryAuthentication' }
          : { isEnabled: true, frequencyInterval: 'timeBased', type: v, value: (f && f.value) || (v === 'hours' ? 8 : 1), authenticationType: 'primaryAndSecondaryAuthentication' }), true) }));
      if (fKind === 'hours' || fKind === 'days') {
        const val = ui.field({ label: `Every how many ${fKind}`, name: 'frequencyValue', type: 'number', value: String(f.value || ''), min: 1, max: 365 });
        val.input.disabled = dis;
        val.input.addEventListener('input', () => { draft.sessionControls.signInFrequency.value = Number(val.input.value); });
        session.append(val.wrap);
      }
      const pb = s.persistentBrowser && s.persistentBrowser.isEnabled ? s.persistentBrowser.mode : 'off';
      session.append(select({ label: 'Persistent browser session', name: 'persistentBrowser', value: pb, disabled: dis,
        options: [{ value: 'off', label: 'Not configured' }, { value: 'always', label: 'Always persistent' }, { value: 'never', label: 'Never persistent' }],
        onChange: (v) => set(() => setSession('persistentBrowser', v === 'off' ? null : { isEnabled: true, mode: v })) }));
      out.push(session);
      return out;
    }
    paintForm();

    const editor = ui.section('Policy', { id: 'editor' });
    editor.append(h('div', { class: 'view-switch', role: 'group', 'aria-label': 'Edit as' }, formButton, jsonButton), switchProblem, formHolder, jsonHolder);
    root.append(editor);

    // ---- save, delete --------------------------------------------------------------------
    const outcome = h('div', { id: 'save-result' });
    if (write) {
      const save = h('button', { type: 'button', id: 'save-policy', onclick: async () => {
        let body;
        try {
          body = editable(current());
        } catch (err) {
          outcome.replaceChildren(h('div', { class: 'problem', role: 'alert' }, h('p', {}, `The JSON can’t be read: ${err.message}. Nothing was saved.`)));
          return;
        }
        delete body.id;
        const saved = await attemptSave(ctx, save, outcome, () => (isNew
          ? api.graph('POST', '/identity/conditionalAccess/policies', body)
          : api.graph('PATCH', `/identity/conditionalAccess/policies/${encodeURIComponent(stored.id)}`, body)));
        if (saved === undefined) return;
        if (isNew) {
          ui.status(`Saved the policy “${saved.displayName}”.`);
          ctx.navigate(`#/policies/ca/${encodeURIComponent(saved.id)}`);
        } else {
          ui.status(`Saved the policy “${body.displayName}”.`);
          ctx.refresh();
        }
      } }, isNew ? 'Create policy' : 'Save changes');
      const actions = h('div', { class: 'actions' }, save);
      if (!isNew) {
        const del = h('button', { type: 'button', class: 'danger', onclick: async () => {
          const ok = await ui.confirm({ title: `Delete the policy “${stored.displayName}”?`, text: 'The policy stops applying to sign-ins at once. The deletion is audited.', confirmLabel: 'Delete' });
          if (!ok) return;
          const r = await attemptSave(ctx, del, outcome, () => api.graph('DELETE', `/identity/conditionalAccess/policies/${encodeURIComponent(stored.id)}`));
          if (r === undefined) return;
          ui.status(`Deleted the policy “${stored.displayName}”.`);
          ctx.navigate('#/policies/ca');
        } }, 'Delete policy');
        actions.append(del);
      }
      actions.append(h('a', { href: '#/policies/ca', class: 'button secondary' }, 'Back to the policies'));
      root.append(h('section', { 'aria-label': 'Save' }, actions, outcome));
    } else {
      root.append(h('p', {}, ui.link('#/policies/ca', 'Back to the policies')));
    }

    // ---- preview impact (WIF-2) ----------------------------------------------------------
    root.append(impactSection(ctx, () => {
      const d = editable(current());
      if (isNew) delete d.id;
      return d;
    }));
  },
};

async function attemptSave(ctx, button, where, fn) {
  const { ui } = ctx;
  const label = button.textContent;
  button.disabled = true;
  button.textContent = 'Saving…';
  button.setAttribute('aria-busy', 'true');
  ui.status('Saving…');
  where.replaceChildren();
  try {
    const r = await fn();
    return r === undefined ? null : r;
  } catch (err) {
    ui.status('');
    where.replaceChildren(refusal(ui, err, ctx.signInAgain));
    const lock = where.querySelector('#lockout');
    if (lock) { lock.setAttribute('tabindex', '-1'); lock.focus(); }
    return undefined;
  } finally {
    if (button.isConnected) { button.disabled = false; button.textContent = label; button.removeAttribute('aria-busy'); }
  }
}

/** "Preview impact": the logged sign-ins of a window decided again against the draft (WIF-2). */
export function impactSection(ctx, draftOf) {
  const { ui, api } = ctx;
  const { h } = ui;
  const sec = ui.section('Preview impact before saving', { id: 'impact' });
  sec.append(h('p', {}, 'Decides every logged sign-in of the window again against the tenant’s policies with this draft in place, and compares with what was decided at the time. Policy changes saved since a sign-in count too, so the examples name the policy or rule that made each difference. Nothing is saved or written.'));
  let days = '7';
  const result = h('div', { id: 'impact-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', id: 'preview-impact', class: 'secondary', onclick: async () => {
    let draft;
    try {
      draft = draftOf();
    } catch (err) {
      result.replaceChildren(h('p', { class: 'problem', role: 'alert' }, `The JSON can’t be read: ${err.message}.`));
      return;
    }
    const to = new Date();
    const from = new Date(to.getTime() - Number(days) * 86_400_000);
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    result.setAttribute('aria-busy', 'true');
    result.replaceChildren(h('div', { class: 'progress' }, h('progress', { 'aria-label': 'Impact analysis in progress' }), h('span', {}, `Deciding the sign-ins of ${WINDOWS.find(([v]) => v === days)[1]} again…`)));
    ui.status('Analysing the impact…');
    try {
      const report = await api.graph('POST', '/identity/conditionalAccess/gatehouseImpact', {
        proposed: { conditionalAccessPolicies: { upsert: [draft] } }, from: from.toISOString(), to: to.toISOString(), examplesPerChange: 5, maxAffectedUsers: 20,
      });
      result.replaceChildren(...impactView(ui, report));
      ui.status(`Impact analysis finished: ${report.changedOutcomes} of ${report.examined} sign-ins would change outcome.`);
    } catch (err) {
      ui.status('');
      result.replaceChildren(refusal(ui, err, ctx.signInAgain));
    } finally {
      result.removeAttribute('aria-busy');
      if (button.isConnected) { button.disabled = false; button.removeAttribute('aria-busy'); }
    }
  } }, 'Preview impact');
  sec.append(h('div', { class: 'toolbar' }, select({ label: 'Window', name: 'impactWindow', value: days, options: WINDOWS.map(([value, label]) => ({ value, label })), onChange: (v) => { days = v; } }),
    h('div', { class: 'actions' }, button)), result);
  return sec;
}

function impactView(ui, r) {
  const { h } = ui;
  const out = [];
  out.push(h('div', { class: 'impact-counts' },
    h('p', {}, h('strong', {}, String(r.examined)), 'sign-ins examined'),
    h('p', {}, h('strong', {}, String(r.replayable)), 'could be decided again'),
    h('p', {}, h('strong', { id: 'changed-outcomes' }, String(r.changedOutcomes)), 'would change outcome'),
    h('p', {}, h('strong', {}, String(r.changedDecisions)), 'would change in any way'),
    h('p', {}, h('strong', {}, String(r.affectedUsers ? r.affectedUsers.count : 0)), 'users affected')));
  if (r.truncated) out.push(h('p', { class: 'notice' }, r.truncatedReason || 'More sign-ins matched than were examined.'));
  if ((r.proposedChanges || []).length) out.push(h('p', {}, 'The draft: ', r.proposedChanges.join('; ')));
  if (r.examined === 0) {
    out.push(ui.empty('No sign-in was logged in this window, so there is nothing to compare. Choose a longer window, or preview again once people have signed in.'));
    return out;
  }
  out.push(ui.table({ caption: 'Outcomes: as decided, and with the draft', rows: r.outcomes || [], columns: [
    { label: 'As decided', header: true, cell: (x) => x.recorded },
    { label: 'With the draft', cell: (x) => x.proposed },
    { label: 'Sign-ins', cell: (x) => String(x.count) },
    { label: '', cell: (x) => (x.recorded === x.proposed ? h('span', { class: 'muted' }, 'unchanged') : ui.badge('changes', 'warn')) },
  ] }));
  if (r.affectedUsers && r.affectedUsers.users.length) {
    out.push(h('h3', {}, 'Affected users'), h('ul', { id: 'affected-users' }, r.affectedUsers.users.map((u) => h('li', {}, u.id ? ui.link(`#/users/${u.id}`, u.userPrincipalName || u.id) : (u.userPrincipalName || 'unknown')))));
  }
  for (const kind of r.examples || []) {
    out.push(h('h3', {}, `${kind.change}: ${kind.count} sign-in(s)`), h('ul', { class: 'impact-examples', 'data-change': kind.change }, kind.examples.map((e) => h('li', {},
      ui.link(`#/logs/sign-ins/${encodeURIComponent(e.signInId)}`, `${ui.when(e.createdDateTime)}: ${e.userPrincipalName || 'unknown user'} at ${e.appDisplayName || e.appId || 'an app'}`),
      ` (${e.recorded.outcome} → ${e.proposed.outcome})`, e.cause ? h('span', { class: 'muted' }, ` because ${causeText(e.cause)}`) : null))));
  }
  if ((r.skipped || {}).total) {
    out.push(h('p', { class: 'muted' }, `${r.skipped.total} sign-in(s) could not be decided again: ${r.skipped.byReason.map((b) => `${b.reason} (${b.count})`).join('; ')}.`));
  }
  return out;
}

function causeText(c) {
  if (c.kind === 'conditionalAccess') return `CA policy “${c.displayName}” ${c.recorded ?? 'absent'} → ${c.replayed ?? 'absent'}`;
  if (c.kind === 'platformRule') return `${c.id} ${c.recorded ?? 'absent'} → ${c.replayed ?? 'absent'}`;
  if (c.kind === 'requirement') return `requirement “${c.description}” ${c.change}`;
  return c.detail || '';
}
