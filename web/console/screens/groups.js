// Groups (DIR-3) with their members: each group opens to its direct members, loaded on demand.

export default {
  path: '/groups',
  title: 'Groups',
  nav: { label: 'Groups', order: 20 },
  async render(ctx) {
    const { ui, api, root, can } = ctx;
    const { h } = ui;
    if (!can.readGroups) {
      root.append(ui.notOffered('Reading groups needs a role with Group.Read.All (for example Global Reader, Security Reader or User Administrator).'));
      return;
    }
    const region = h('div', { class: 'region' });
    root.append(region);
    const done = ui.loading(region, 'Loading groups…');
    const groups = [];
    let next;
    try {
      const page = await api.graph('GET', '/groups?$top=50');
      groups.push(...page.value);
      next = page['@odata.nextLink'];
    } catch (err) {
      done();
      region.replaceChildren(ui.problem(err, ctx.signInAgain));
      return;
    }
    done();
    if (!ctx.current()) return;
    if (groups.length === 0) {
      region.replaceChildren(ui.empty('There are no groups yet. Create them through the Graph API (POST /graph/v1.0/groups) or the CLI; Conditional Access and the methods policy can then target them.'));
      return;
    }
    const list = h('ul', { class: 'group-list' });
    const more = h('button', { type: 'button', class: 'secondary', hidden: !next }, 'Load more');
    const paint = (items) => {
      for (const g of items) {
        const members = h('div', { class: 'region' });
        let loaded = false;
        const details = h('details', { class: 'panel', ontoggle: async () => {
          if (!details.open || loaded) return;
          loaded = true;
          const stop = ui.loading(members, 'Loading members…');
          try {
            const m = await api.graph('GET', `/groups/${g.id}/members`);
            stop();
            members.replaceChildren(m.value.length
              ? h('ul', {}, m.value.map((x) => h('li', {}, x['@odata.type'] === '#microsoft.graph.user' ? ui.link(`#/users/${x.id}`, x.displayName || x.userPrincipalName || x.id) : `${x.displayName || x.id} (group)`)))
              : ui.empty('This group has no members yet. Add them through the Graph API (POST /groups/{id}/members/$ref).'));
          } catch (err) {
            stop();
            loaded = false;
            members.replaceChildren(ui.problem(err, ctx.signInAgain));
          }
        } }, h('summary', {}, g.displayName, g.description ? h('span', { class: 'muted' }, ` – ${g.description}`) : null), members);
        list.append(h('li', {}, details));
      }
    };
    more.addEventListener('click', async () => {
      const p = await ui.act(more, 'Loading more groups…', () => api.graph('GET', next), { signInAgain: ctx.signInAgain });
      if (!p) return;
      next = p['@odata.nextLink'];
      more.hidden = !next;
      paint(p.value);
    });
    paint(groups);
    region.replaceChildren(h('p', {}, 'Open a group to see its direct members.'), list, h('div', { class: 'actions' }, more));
  },
};
