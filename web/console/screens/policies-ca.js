// Conditional Access policies (CA-1..CA-6): the list with each policy's state, grant, what it
// targets and, for disabled or imported ones, the findings that keep it disabled (CA-4). A policy
// opens in the editor (policies-ca-edit.js); deleting one asks first and goes through the WIF-3
// lockout guard like any policy write.

import { NEEDS, STATE_LABEL, STATE_TONE, findingsList, grantOf, readOnly, refusal, subNav, targetsOf } from '../policyUi.js';

export default {
  path: '/policies/ca',
  title: 'Conditional Access policies',
  nav: { label: 'Policies', order: 60, href: '/policies/ca', section: '/policies' },
  async render(ctx) {
    const { ui, api, root, can } = ctx;
    const { h } = ui;
    root.append(subNav('/policies/ca'));
    if (!can.readPolicies) {
      root.append(ui.notOffered('Reading policies needs an administrator role that can read policies (for example Security Reader, Global Reader or Conditional Access Administrator).'));
      return;
    }
    const write = can.writeConditionalAccess;
    root.append(h('p', {}, 'Every enabled policy that applies to a sign-in must be satisfied; any applicable block ends it; when none applies, the sign-in is allowed after its first factor (CA-5). Report-only policies are evaluated and logged, never enforced.'));
    root.append(write
      ? h('div', { class: 'actions' }, h('a', { href: '#/policies/ca/new', class: 'button', id: 'new-policy' }, 'New policy'), h('a', { href: '#/policies/import', class: 'button secondary' }, 'Import from Entra'))
      : readOnly(ui, NEEDS.ca));
    const where = h('div', { id: 'ca-problem' });
    const region = h('div', { class: 'region', id: 'ca-list' });
    root.append(where, region);
    const stop = ui.loading(region, 'Loading Conditional Access policies…');
    let page;
    try {
      page = await api.graph('GET', '/identity/conditionalAccess/policies');
    } catch (err) {
      stop();
      region.replaceChildren(refusal(ui, err, ctx.signInAgain));
      return;
    }
    stop();
    if (!ctx.current()) return;
    const rows = page.value;
    if (rows.length === 0) {
      region.replaceChildren(ui.empty(write
        ? 'There is no Conditional Access policy yet, so every sign-in is allowed after its first factor. Create a policy, or import the policies exported from Entra.'
        : 'There is no Conditional Access policy yet. An administrator with the Conditional Access Administrator role can create or import them.',
      ...(write ? [h('a', { href: '#/policies/ca/new', class: 'button' }, 'New policy'), h('a', { href: '#/policies/import', class: 'button secondary' }, 'Import from Entra')] : [])));
      return;
    }
    const columns = [
      { label: 'Policy', header: true, cell: (p) => ui.link(`#/policies/ca/${encodeURIComponent(p.id)}`, p.displayName) },
      { label: 'State', cell: (p) => ui.badge(STATE_LABEL[p.state] || p.state, STATE_TONE[p.state] || 'neutral') },
      { label: 'Grant', cell: (p) => grantOf(p) },
      { label: 'Targets', cell: (p) => targetsOf(p) },
      { label: 'Findings', cell: (p) => ((p.gatehouseFindings || []).length ? h('details', { class: 'findings' }, h('summary', { class: 'reason' }, `Kept disabled: ${p.gatehouseFindings.length} finding(s)`), findingsList(p.gatehouseFindings)) : '') },
    ];
    if (write) {
      columns.push({ label: 'Actions', cell: (p) => {
        const b = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete the policy “${p.displayName}”`, onclick: async () => {
          const ok = await ui.confirm({ title: `Delete the policy “${p.displayName}”?`, text: 'The policy stops applying to sign-ins at once. The deletion is audited; the policy can’t be restored except by creating it again.', confirmLabel: 'Delete' });
          if (!ok) return;
          b.disabled = true;
          ui.status('Deleting the policy…');
          try {
            await api.graph('DELETE', `/identity/conditionalAccess/policies/${encodeURIComponent(p.id)}`);
            ui.status(`Deleted the policy “${p.displayName}”.`);
            ctx.refresh();
          } catch (err) {
            ui.status('');
            b.disabled = false;
            where.replaceChildren(refusal(ui, err, ctx.signInAgain));
          }
        } }, 'Delete');
        return b;
      } });
    }
    region.replaceChildren(ui.table({ caption: `${rows.length} ${rows.length === 1 ? 'policy' : 'policies'} (at most 195, CA-1)`, columns, rows }));
  },
};
