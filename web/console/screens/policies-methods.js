// The authentication methods policy (MTH-1, MTH-2, PK-2, TAP-1, PLT-5): one card per method
// configuration with its state and include/exclude targets; Fido2's settings (self-service,
// attestation, key restrictions with model names where known, passkey types); the Temporary
// Access Pass settings (lifetimes within their bounds, length, one-time); the registration
// campaign. Methods this server doesn't implement are shown as "not available on this server".
// Each card saves with PATCH …/authenticationMethodConfigurations/{id} (WIF-3 guards it).

import { NEEDS, directorySearch, modelOf, picker, readOnly, refusal, select, subNav } from '../policyUi.js';

const BASE = '/policies/authenticationMethodsPolicy';
const LABEL = { Fido2: 'Passkeys (FIDO2)', TemporaryAccessPass: 'Temporary Access Pass', Password: 'Password', SoftwareOath: 'Authenticator app (TOTP, software OATH)' };
const DEFAULT_PROFILE = '00000000-0000-0000-0000-000000000001';

export default {
  path: '/policies/methods',
  title: 'Authentication methods policy',
  async render(ctx) {
    const { ui, api, root, can } = ctx;
    const { h } = ui;
    root.append(subNav('/policies/methods'));
    if (!can.readPolicies) {
      root.append(ui.notOffered('Reading policies needs an administrator role that can read policies.'));
      return;
    }
    const write = can.writeMethodsPolicy;
    root.append(h('p', {}, 'Which sign-in methods users may register and use (MTH-2). A user out of a method’s scope can neither register it nor sign in with it; exclusions beat inclusions.'));
    if (!write) root.append(readOnly(ui, NEEDS.methods));
    const region = h('div', { class: 'region' });
    root.append(region);
    const stop = ui.loading(region, 'Loading the methods policy…');
    let policy;
    let groups;
    try {
      [policy, groups] = await Promise.all([api.graph('GET', BASE), api.graph('GET', '/groups?$top=999').then((r) => r.value).catch(() => [])]);
    } catch (err) {
      stop();
      region.replaceChildren(refusal(ui, err, ctx.signInAgain));
      return;
    }
    stop();
    if (!ctx.current()) return;
    region.replaceChildren();
    const names = new Map(groups.map((g) => [g.id, g.displayName]));
    names.set('all_users', 'All users');
    const search = directorySearch(api);
    const configs = policy.authenticationMethodConfigurations || [];
    const order = (c) => { const i = ['Fido2', 'TemporaryAccessPass', 'Password', 'SoftwareOath'].indexOf(c.id); return i < 0 ? 100 : i; };
    const available = configs.filter((c) => c.gatehouseAvailability !== 'notAvailableOnThisServer').sort((a, b) => order(a) - order(b));
    const others = configs.filter((c) => c.gatehouseAvailability === 'notAvailableOnThisServer');

    for (const c of available) region.append(card(ctx, c, { write, names, search }));

    // Not implemented here (MTH-1)
    const na = ui.section('Methods not available on this server');
    na.append(h('p', {}, 'These configurations are stored (for example from an Entra import) but Gatehouse does not implement the methods: they are never offered, and strengths that name them can’t be met with them (MTH-1).'));
    na.append(others.length
      ? ui.table({ caption: 'Stored configurations of methods this server does not implement', captionHidden: true, rows: others, columns: [
        { label: 'Method', header: true, cell: (c) => c.id },
        { label: 'State as stored', cell: (c) => c.state },
        { label: 'Availability', cell: () => ui.badge('not available on this server', 'neutral') },
      ] })
      : ui.empty('No configuration of another method is stored. Importing an Entra methods policy keeps such configurations here, marked not available.'));
    region.append(na);

    region.append(campaignCard(ctx, policy, write));
  },
};

/** Include targets: all users, or groups; exclude targets: groups. */
function targetsEditor(ctx, c, { write, names, search }) {
  const { h } = ctx.ui;
  const all = (c.includeTargets || []).some((t) => t.id === 'all_users');
  const state = { all, include: (c.includeTargets || []).filter((t) => t.id !== 'all_users').map((t) => t.id), exclude: (c.excludeTargets || []).map((t) => t.id) };
  const holder = h('div', {});
  const paint = () => {
    holder.replaceChildren(select({ label: 'Applies to', name: `${c.id}-scope`, value: state.all ? 'all' : 'groups', disabled: !write,
      options: [{ value: 'all', label: 'All users' }, { value: 'groups', label: 'Selected groups' }],
      onChange: (v) => { state.all = v === 'all'; paint(); } }));
    if (!state.all) holder.append(picker({ legend: 'Included groups', ids: state.include, names, search: search.groups, disabled: !write, placeholder: 'Start of a group name', onChange: (ids) => { state.include = [...ids]; } }));
    holder.append(picker({ legend: 'Excluded groups', ids: state.exclude, names, search: search.groups, disabled: !write, placeholder: 'Start of a group name', onChange: (ids) => { state.exclude = [...ids]; } }));
  };
  paint();
  return {
    node: holder,
    value: () => ({
      includeTargets: state.all ? [{ targetType: 'group', id: 'all_users' }] : state.include.map((id) => ({ targetType: 'group', id })),
      excludeTargets: state.exclude.map((id) => ({ targetType: 'group', id })),
    }),
  };
}

function numberField(ui, label, name, value, min, max, hint, disabled) {
  const f = ui.field({ label, name, type: 'number', value: String(value), min, max, hint });
  f.input.disabled = disabled;
  return f;
}

function card(ctx, c, opts) {
  const { ui, api } = ctx;
  const { h } = ui;
  const dis = !opts.write;
  const sec = ui.section(LABEL[c.id] || c.id, { class: 'config-card', id: `method-${c.id}` }, 2);
  sec.querySelector('h2').append(' ', ui.badge(c.state === 'enabled' ? 'Enabled' : 'Disabled', c.state === 'enabled' ? 'ok' : 'neutral'));
  let stateValue = c.state;
  sec.append(select({ label: 'State', name: `${c.id}-state`, value: c.state, disabled: dis, options: [{ value: 'enabled', label: 'Enabled' }, { value: 'disabled', label: 'Disabled' }], onChange: (v) => { stateValue = v; } }));
  const targets = targetsEditor(ctx, c, opts);
  sec.append(targets.node);
  const extra = [];

  if (c.id === 'Fido2') {
    const selfService = ui.field({ kind: 'checkbox', label: 'Allow self-service registration', name: 'fido2-self', value: c.isSelfServiceRegistrationAllowed, hint: 'Stored; users register passkeys in My Sign-Ins.' });
    const attest = ui.field({ kind: 'checkbox', label: 'Enforce attestation', name: 'fido2-attest', value: c.isAttestationEnforced, hint: 'Registration then asks for direct attestation and checks it against the trust anchors (PK-2). Checked at registration only.' });
    const kr = c.keyRestrictions || { isEnforced: false, enforcementType: 'block', aaGuids: [] };
    const krOn = ui.field({ kind: 'checkbox', label: 'Enforce key restrictions', name: 'fido2-kr', value: kr.isEnforced, hint: 'Checked at registration and again at every sign-in (PK-2).' });
    let krType = kr.enforcementType;
    const aaguids = ui.field({ kind: 'textarea', label: 'AAGUIDs', name: 'fido2-aaguids', value: (kr.aaGuids || []).join('\n'), hint: 'One AAGUID per line.' });
    aaguids.input.rows = 4;
    const models = h('ul', { class: 'aaguid-models', 'aria-live': 'polite' });
    const paintModels = () => models.replaceChildren(...aaguids.input.value.split(/\s+/).filter(Boolean).map((a) => h('li', {}, h('code', {}, a), ` ${modelOf(a)}`)));
    aaguids.input.addEventListener('input', paintModels);
    paintModels();
    const profile = (c.passkeyProfiles || []).find((p) => p.id === DEFAULT_PROFILE) || (c.passkeyProfiles || [])[0];
    let types = profile ? profile.passkeyTypes : 'deviceBound,synced';
    for (const f of [selfService, attest, krOn, aaguids]) f.input.disabled = dis;
    sec.append(h('h3', {}, 'Passkey settings'), selfService.wrap, attest.wrap, krOn.wrap,
      select({ label: 'Key restriction', name: 'fido2-kr-type', value: krType, disabled: dis, options: [{ value: 'allow', label: 'Allow only the listed models' }, { value: 'block', label: 'Block the listed models' }], onChange: (v) => { krType = v; } }),
      aaguids.wrap, models,
      select({ label: 'Passkey types', name: 'fido2-types', value: types, disabled: dis, hint: 'Read from the authenticator’s backup-eligible flag; enforced at registration and at every sign-in (PK-2).',
        options: [{ value: 'deviceBound,synced', label: 'Device-bound and synced' }, { value: 'deviceBound', label: 'Device-bound only' }, { value: 'synced', label: 'Synced only' }], onChange: (v) => { types = v; } }));
    extra.push(() => ({
      isSelfServiceRegistrationAllowed: selfService.input.checked, isAttestationEnforced: attest.input.checked,
      keyRestrictions: { isEnforced: krOn.input.checked, enforcementType: krType, aaGuids: aaguids.input.value.split(/\s+/).filter(Boolean) },
      passkeyProfiles: [{ ...(profile || {}), id: profile ? profile.id : DEFAULT_PROFILE, name: profile && profile.name ? profile.name : 'Default', passkeyTypes: types }],
    }));
  }
  if (c.id === 'TemporaryAccessPass') {
    const min = numberField(ui, 'Minimum lifetime (minutes)', 'tap-min', c.minimumLifetimeInMinutes, 10, 43200, '10 to 43200 (30 days).', dis);
    const max = numberField(ui, 'Maximum lifetime (minutes)', 'tap-max', c.maximumLifetimeInMinutes, 10, 43200, '10 to 43200, at least the minimum.', dis);
    const def = numberField(ui, 'Default lifetime (minutes)', 'tap-default', c.defaultLifetimeInMinutes, 10, 43200, 'Between the minimum and the maximum (TAP-1).', dis);
    const len = numberField(ui, 'Length (characters)', 'tap-length', c.defaultLength, 8, 48, '8 to 48.', dis);
    const once = ui.field({ kind: 'checkbox', label: 'Every pass is one-time', name: 'tap-once', value: c.isUsableOnce, hint: 'Off: whoever issues a pass chooses one-time or multi-use.' });
    once.input.disabled = dis;
    sec.append(h('h3', {}, 'Temporary Access Pass settings'), h('div', { class: 'filter-grid' }, min.wrap, max.wrap, def.wrap, len.wrap), once.wrap);
    extra.push(() => ({
      minimumLifetimeInMinutes: Number(min.input.value), maximumLifetimeInMinutes: Number(max.input.value), defaultLifetimeInMinutes: Number(def.input.value),
      defaultLength: Number(len.input.value), isUsableOnce: once.input.checked,
    }));
  }

  const result = h('div', {});
  if (opts.write) {
    const save = h('button', { type: 'button', onclick: async () => {
      const body = { state: stateValue, ...targets.value(), ...Object.assign({}, ...extra.map((f) => f())) };
      const label = save.textContent;
      save.disabled = true;
      save.textContent = 'Saving…';
      ui.status(`Saving ${LABEL[c.id] || c.id}…`);
      result.replaceChildren();
      try {
        await api.graph('PATCH', `${BASE}/authenticationMethodConfigurations/${encodeURIComponent(c.id)}`, body);
        ui.status(`Saved ${LABEL[c.id] || c.id}.`);
        result.replaceChildren(h('p', { class: 'muted' }, 'Saved.'));
      } catch (err) {
        ui.status('');
        result.replaceChildren(refusal(ui, err, ctx.signInAgain));
      } finally {
        save.disabled = false;
        save.textContent = label;
      }
    } }, `Save ${LABEL[c.id] || c.id}`);
    sec.append(h('div', { class: 'actions' }, save), result);
  }
  return sec;
}

function campaignCard(ctx, policy, write) {
  const { ui, api } = ctx;
  const { h } = ui;
  const camp = (policy.registrationEnforcement || {}).authenticationMethodsRegistrationCampaign || {};
  const sec = ui.section('Registration campaign (PLT-5)', { class: 'config-card', id: 'campaign' });
  sec.append(h('p', { class: 'rule-explanation' }, 'After a successful MFA sign-in, a targeted user without a usable passkey is asked to register one, never in a client that can’t register it and never when the security-info gate would refuse. Only “Enabled” nudges; Entra’s Microsoft-managed “default” is treated as off here.'));
  let state = camp.state || 'default';
  const snooze = ui.field({ label: 'Days a user may snooze', name: 'campaign-snooze', type: 'number', value: String(camp.snoozeDurationInDays ?? 1), min: 0, max: 14, hint: '0 to 14.' });
  const enforce = ui.field({ kind: 'checkbox', label: 'Require registration after 3 snoozes', name: 'campaign-enforce', value: camp.enforceRegistrationAfterAllowedSnoozes !== false });
  snooze.input.disabled = !write;
  enforce.input.disabled = !write;
  const targets = (camp.includeTargets || []).map((t) => `${t.id === 'all_users' ? 'all users' : t.id} (${t.targetedAuthenticationMethod || 'fido2'})`).join(', ');
  sec.append(select({ label: 'State', name: 'campaign-state', value: state, disabled: !write, options: [{ value: 'default', label: 'Microsoft-managed (off here)' }, { value: 'enabled', label: 'Enabled' }, { value: 'disabled', label: 'Disabled' }], onChange: (v) => { state = v; } }),
    snooze.wrap, enforce.wrap, ui.facts([['Targets', targets || 'none'], ['Excluded', (camp.excludeTargets || []).map((t) => t.id).join(', ') || 'none']]));
  if (write) {
    const result = h('div', {});
    const save = h('button', { type: 'button', onclick: async () => {
      save.disabled = true;
      ui.status('Saving the registration campaign…');
      result.replaceChildren();
      try {
        await api.graph('PATCH', BASE, { registrationEnforcement: { authenticationMethodsRegistrationCampaign: { state, snoozeDurationInDays: Number(snooze.input.value), enforceRegistrationAfterAllowedSnoozes: enforce.input.checked } } });
        ui.status('Saved the registration campaign.');
        result.replaceChildren(h('p', { class: 'muted' }, 'Saved.'));
      } catch (err) {
        ui.status('');
        result.replaceChildren(refusal(ui, err, ctx.signInAgain));
      } finally {
        save.disabled = false;
      }
    } }, 'Save the registration campaign');
    sec.append(h('div', { class: 'actions' }, save), result);
  }
  return sec;
}
