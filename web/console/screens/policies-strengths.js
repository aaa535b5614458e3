// Authentication strengths (STR-1, STR-2): the built-ins (read-only, Entra's ids and
// combinations) and up to 15 custom strengths, created and edited with a checkbox per allowed
// combination and an optional fido2 AAGUID restriction; each strength's usage (the CA policies
// that reference it). Deleting a referenced strength is refused by the server with 409 listing
// the policies, shown as such.

import { NEEDS, checkboxGroup, modelOf, readOnly, refusal, subNav } from '../policyUi.js';

const BASE = '/policies/authenticationStrengthPolicies';
const FIDO2_CONFIG = '#microsoft.graph.fido2CombinationConfiguration';

export default {
  path: '/policies/strengths',
  title: 'Authentication strengths',
  async render(ctx) {
    const { ui, api, root, can, query } = ctx;
    const { h } = ui;
    root.append(subNav('/policies/strengths'));
    if (!can.readPolicies) {
      root.append(ui.notOffered('Reading policies needs an administrator role that can read policies.'));
      return;
    }
    const write = can.writeConditionalAccess || can.writeMethodsPolicy;
    root.append(h('p', {}, 'A strength lists the combinations of methods that satisfy it; a Conditional Access policy can require one (CA-3). A combination is met when every method in it was performed in the session, each is allowed for the user, and any AAGUID restriction matches the passkey used (STR-3).'));
    if (!write) root.append(readOnly(ui, NEEDS.strengths));
    const where = h('div', { id: 'strength-problem' });
    const region = h('div', { class: 'region' });
    root.append(where, region);
    const stop = ui.loading(region, 'Loading strengths…');
    let strengths;
    let combinations;
    let modes;
    try {
      [strengths, combinations, modes] = await Promise.all([
        api.graph('GET', BASE).then((r) => r.value),
        api.graph('GET', `${BASE}/authenticationCombinations`).then((r) => r.value),
        api.graph('GET', `${BASE}/authenticationMethodModes`).then((r) => r.value),
      ]);
    } catch (err) {
      stop();
      region.replaceChildren(refusal(ui, err, ctx.signInAgain));
      return;
    }
    const usage = new Map(await Promise.all(strengths.map((s) => api.graph('GET', `${BASE}/${s.id}/usage`)
      .then((u) => [s.id, [...(u.mfa || []), ...(u.none || [])]]).catch(() => [s.id, null]))));
    stop();
    if (!ctx.current()) return;
    region.replaceChildren();
    const unavailable = new Set(modes.filter((m) => m.gatehouseAvailability === 'notAvailableOnThisServer').map((m) => m.id));
    const usedBy = (s) => {
      const u = usage.get(s.id);
      if (u === null) return 'unknown';
      return u.length ? h('ul', { class: 'used-by' }, u.map((p) => h('li', {}, ui.link(`#/policies/ca/${encodeURIComponent(p.id)}`, p.displayName)))) : h('span', { class: 'muted' }, 'not used');
    };
    const fido2Of = (s) => (s.combinationConfigurations || []).find((c) => c['@odata.type'] === FIDO2_CONFIG);
    const combos = (s) => h('span', {}, s.allowedCombinations.map((c, i) => [i ? '; ' : '', h('code', {}, c), c.split(',').some((m) => unavailable.has(m)) ? h('span', { class: 'muted' }, ' (not available on this server)') : null]));

    const builtIn = strengths.filter((s) => s.policyType === 'builtIn');
    const custom = strengths.filter((s) => s.policyType !== 'builtIn');
    const b = ui.section('Built-in strengths (read-only)');
    b.append(ui.table({ caption: 'Built-in strengths, with Entra’s ids', captionHidden: true, rows: builtIn, columns: [
      { label: 'Strength', header: true, cell: (s) => h('span', {}, s.displayName, h('br'), h('code', { class: 'muted' }, s.id)) },
      { label: 'Satisfies', cell: (s) => s.requirementsSatisfied },
      { label: 'Allowed combinations', cell: combos },
      { label: 'Used by', cell: usedBy },
    ] }));
    region.append(b);

    const editing = query.get('edit') ? custom.find((s) => s.id === query.get('edit')) : null;
    const c = ui.section('Custom strengths', { id: 'custom-strengths' });
    if (custom.length === 0) {
      c.append(ui.empty(write ? 'There is no custom strength yet. Create one below when the built-ins don’t fit (for example “TAP or passkey” for bootstrapping).' : 'There is no custom strength yet.'));
    } else {
      const columns = [
        { label: 'Strength', header: true, cell: (s) => h('span', {}, s.displayName, s.description ? h('span', { class: 'muted' }, ` – ${s.description}`) : null) },
        { label: 'Allowed combinations', cell: combos },
        { label: 'Passkey restriction', cell: (s) => { const f = fido2Of(s); return f ? h('ul', {}, f.allowedAAGUIDs.map((a) => h('li', {}, h('code', {}, a), ` ${modelOf(a)}`))) : 'any passkey'; } },
        { label: 'Used by', cell: usedBy },
      ];
      if (write) {
        columns.push({ label: 'Actions', cell: (s) => {
          const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete the strength “${s.displayName}”`, onclick: async () => {
            const ok = await ui.confirm({ title: `Delete the strength “${s.displayName}”?`, text: 'A strength that a Conditional Access policy uses can’t be deleted (STR-2). The deletion is audited.', confirmLabel: 'Delete' });
            if (!ok) return;
            ui.status('Deleting the strength…');
            where.replaceChildren();
            try {
              await api.graph('DELETE', `${BASE}/${s.id}`);
              ui.status(`Deleted the strength “${s.displayName}”.`);
              ctx.refresh();
            } catch (err) {
              ui.status('');
              where.replaceChildren(refusal(ui, err, ctx.signInAgain));
              where.querySelector('[role="alert"]')?.focus?.();
            }
          } }, 'Delete');
          return h('div', { class: 'actions inline' }, h('a', { href: `#/policies/strengths?edit=${encodeURIComponent(s.id)}`, class: 'button secondary small', 'aria-label': `Edit the strength “${s.displayName}”` }, 'Edit'), del);
        } });
      }
      c.append(ui.table({ caption: `${custom.length} custom ${custom.length === 1 ? 'strength' : 'strengths'} (at most 15)`, columns, rows: custom }));
    }
    region.append(c);
    if (write) region.append(strengthForm(ctx, { editing, combinations, unavailable, fido2: editing ? fido2Of(editing) : null }));
  },
};

function strengthForm(ctx, { editing, combinations, unavailable, fido2 }) {
  const { ui, api } = ctx;
  const { h } = ui;
  const sec = ui.section(editing ? `Edit “${editing.displayName}”` : 'Create a custom strength', { id: 'strength-form' });
  const name = ui.field({ label: 'Name', name: 'strengthName', value: editing ? editing.displayName : '', maxlength: 30, hint: 'At most 30 characters, unique in the tenant.' });
  const description = ui.field({ label: 'Description', name: 'strengthDescription', value: editing ? editing.description || '' : '', maxlength: 256 });
  let chosen = editing ? [...editing.allowedCombinations] : [];
  const options = combinations.map((cmb) => ({ value: cmb, label: `${cmb}${cmb.split(',').some((m) => unavailable.has(m)) ? ' (not available on this server)' : ''}` }));
  const aaguids = ui.field({ kind: 'textarea', label: 'Restrict passkeys (fido2) to these AAGUIDs', name: 'strengthAaguids', value: fido2 ? fido2.allowedAAGUIDs.join('\n') : '', hint: 'One AAGUID per line; empty: any passkey. Applies to the fido2 combination only.' });
  const result = h('div', {});
  const save = h('button', { type: 'button', id: 'save-strength', onclick: async () => {
    const list = aaguids.input.value.split(/\s+/).filter(Boolean);
    const label = save.textContent;
    save.disabled = true;
    save.textContent = 'Saving…';
    ui.status('Saving the strength…');
    result.replaceChildren();
    try {
      if (!editing) {
        const body = { displayName: name.input.value.trim(), description: description.input.value.trim() || undefined, allowedCombinations: chosen };
        if (list.length) body.combinationConfigurations = [{ '@odata.type': FIDO2_CONFIG, appliesToCombinations: ['fido2'], allowedAAGUIDs: list }];
        await api.graph('POST', '/policies/authenticationStrengthPolicies', body);
      } else {
        await api.graph('PATCH', `/policies/authenticationStrengthPolicies/${editing.id}`, { displayName: name.input.value.trim(), description: description.input.value.trim() });
        await api.graph('POST', `/policies/authenticationStrengthPolicies/${editing.id}/updateAllowedCombinations`, { allowedCombinations: chosen });
        const cfgs = `/policies/authenticationStrengthPolicies/${editing.id}/combinationConfigurations`;
        if (fido2 && list.length) await api.graph('PATCH', `${cfgs}/${fido2.id}`, { '@odata.type': FIDO2_CONFIG, allowedAAGUIDs: list });
        else if (fido2 && !list.length) await api.graph('DELETE', `${cfgs}/${fido2.id}`);
        else if (list.length) await api.graph('POST', cfgs, { '@odata.type': FIDO2_CONFIG, appliesToCombinations: ['fido2'], allowedAAGUIDs: list });
      }
      ui.status(`Saved the strength “${name.input.value.trim()}”.`);
      ctx.navigate('#/policies/strengths');
    } catch (err) {
      ui.status('');
      result.replaceChildren(refusal(ui, err, ctx.signInAgain));
    } finally {
      if (save.isConnected) { save.disabled = false; save.textContent = label; }
    }
  } }, editing ? 'Save strength' : 'Create strength');
  sec.append(name.wrap, description.wrap,
    checkboxGroup({ legend: 'Allowed combinations', hint: 'Each line is one combination of methods that together satisfy the strength.', options, selected: chosen, onChange: (v) => { chosen = v; } }),
    aaguids.wrap,
    h('div', { class: 'actions' }, save, editing ? h('a', { href: '#/policies/strengths', class: 'button secondary' }, 'Cancel') : null), result);
  return sec;
}
