// Named locations (CA-2): IP ranges with a trusted flag, listed, created, edited and deleted.
// Country locations (from an Entra import) are listed but can't be evaluated here (no IP
// geolocation). Every write goes through the WIF-3 lockout guard.

import { NEEDS, readOnly, refusal, subNav } from '../policyUi.js';

const BASE = '/identity/conditionalAccess/namedLocations';
const IP = '#microsoft.graph.ipNamedLocation';

export default {
  path: '/policies/locations',
  title: 'Named locations',
  async render(ctx) {
    const { ui, api, root, can, query } = ctx;
    const { h } = ui;
    root.append(subNav('/policies/locations'));
    if (!can.readPolicies) {
      root.append(ui.notOffered('Reading policies needs an administrator role that can read policies.'));
      return;
    }
    const write = can.writeConditionalAccess;
    root.append(h('p', {}, 'Named locations are sets of IP ranges a Conditional Access policy can include or exclude; “trusted” ones also match “All trusted locations”.'));
    if (!write) root.append(readOnly(ui, NEEDS.ca));
    const where = h('div', {});
    const region = h('div', { class: 'region' });
    root.append(where, region);
    const stop = ui.loading(region, 'Loading named locations…');
    let rows;
    try {
      rows = (await api.graph('GET', BASE)).value;
    } catch (err) {
      stop();
      region.replaceChildren(refusal(ui, err, ctx.signInAgain));
      return;
    }
    stop();
    if (!ctx.current()) return;
    region.replaceChildren();
    if (rows.length === 0) {
      region.append(ui.empty(write ? 'There is no named location yet. Add your offices’ IP ranges below, mark them trusted, then use them in a policy.' : 'There is no named location yet.'));
    } else {
      const columns = [
        { label: 'Location', header: true, cell: (l) => l.displayName },
        { label: 'Kind', cell: (l) => (l['@odata.type'] === IP ? 'IP ranges' : 'Countries (not evaluated: no IP geolocation here)') },
        { label: 'Trusted', cell: (l) => (l.isTrusted ? ui.badge('Trusted', 'ok') : h('span', { class: 'muted' }, 'no')) },
        { label: 'Ranges', cell: (l) => (l.ipRanges ? l.ipRanges.map((r) => r.cidrAddress).join(', ') : (l.countriesAndRegions || []).join(', ')) },
      ];
      if (write) {
        columns.push({ label: 'Actions', cell: (l) => {
          const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete the location “${l.displayName}”`, onclick: async () => {
            const ok = await ui.confirm({ title: `Delete the location “${l.displayName}”?`, text: 'Policies that name it must be changed first. The deletion is audited.', confirmLabel: 'Delete' });
            if (!ok) return;
            ui.status('Deleting the location…');
            where.replaceChildren();
            try {
              await api.graph('DELETE', `${BASE}/${l.id}`);
              ui.status(`Deleted the location “${l.displayName}”.`);
              ctx.refresh();
            } catch (err) {
              ui.status('');
              where.replaceChildren(refusal(ui, err, ctx.signInAgain));
            }
          } }, 'Delete');
          return h('div', { class: 'actions inline' }, l['@odata.type'] === IP ? h('a', { href: `#/policies/locations?edit=${encodeURIComponent(l.id)}`, class: 'button secondary small', 'aria-label': `Edit the location “${l.displayName}”` }, 'Edit') : null, del);
        } });
      }
      region.append(ui.table({ caption: `${rows.length} named ${rows.length === 1 ? 'location' : 'locations'}`, columns, rows }));
    }
    if (!write) return;
    const editing = query.get('edit') ? rows.find((l) => l.id === query.get('edit') && l['@odata.type'] === IP) : null;
    const sec = ui.section(editing ? `Edit “${editing.displayName}”` : 'Add a named location', { id: 'location-form' });
    const name = ui.field({ label: 'Name', name: 'locationName', value: editing ? editing.displayName : '', maxlength: 256 });
    const ranges = ui.field({ kind: 'textarea', label: 'IP ranges', name: 'locationRanges', value: editing ? editing.ipRanges.map((r) => r.cidrAddress).join('\n') : '', hint: 'One IPv4 or IPv6 CIDR range per line, for example 203.0.113.0/24.' });
    const trusted = ui.field({ kind: 'checkbox', label: 'Mark as trusted location', name: 'locationTrusted', value: editing ? editing.isTrusted : false });
    const result = h('div', {});
    const save = h('button', { type: 'button', id: 'save-location', onclick: async () => {
      const ipRanges = ranges.input.value.split(/[\s,]+/).filter(Boolean).map((cidr) => ({ '@odata.type': cidr.includes(':') ? '#microsoft.graph.iPv6CidrRange' : '#microsoft.graph.iPv4CidrRange', cidrAddress: cidr }));
      const body = { '@odata.type': IP, displayName: name.input.value.trim(), isTrusted: trusted.input.checked, ipRanges };
      save.disabled = true;
      ui.status('Saving the location…');
      result.replaceChildren();
      try {
        if (editing) await api.graph('PATCH', `${BASE}/${editing.id}`, body);
        else await api.graph('POST', BASE, body);
        ui.status(`Saved the location “${body.displayName}”.`);
        ctx.navigate('#/policies/locations');
      } catch (err) {
        ui.status('');
        result.replaceChildren(refusal(ui, err, ctx.signInAgain));
      } finally {
        if (save.isConnected) save.disabled = false;
      }
    } }, editing ? 'Save location' : 'Add location');
    sec.append(name.wrap, ranges.wrap, trusted.wrap, h('div', { class: 'actions' }, save, editing ? h('a', { href: '#/policies/locations', class: 'button secondary' }, 'Cancel') : null), result);
    root.append(sec);
  },
};
