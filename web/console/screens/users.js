// Users (DIR-2): search by the start of the display name or user name, page through with
// @odata.nextLink, open a user, create one (User.ReadWrite.All: Global Administrator, User Administrator).

const PAGE = 25;

export default {
  path: '/users',
  title: 'Users',
  nav: { label: 'Users', order: 10 },
  async render(ctx) {
    const { ui, api, root, query, can } = ctx;
    const { h } = ui;
    const q = (query.get('q') || '').trim();

    // Search
    const search = ui.field({ label: 'Search users', name: 'q', type: 'search', value: q, hint: 'The start of a display name or user name, for example "ada".', maxlength: 256 });
    const searchForm = h('form', { class: 'toolbar', role: 'search', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const v = search.input.value.trim();
      ctx.navigate(v ? `#/users?q=${encodeURIComponent(v)}` : '#/users');
    } }, search.wrap, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search'),
      q ? h('a', { href: '#/users', class: 'button secondary' }, 'Show all') : null));
    root.append(searchForm);

    // Create
    if (can.writeUsers) root.append(createForm(ctx));
    else root.append(ui.notOffered('Creating users needs the Global Administrator or User Administrator role; your roles can read users only.'));

    // List
    const list = ui.section(q ? `Users whose name starts with “${q}”` : 'All users');
    const region = h('div', { class: 'region' });
    list.append(region);
    root.append(list);
    const filter = q ? `&$filter=${encodeURIComponent(`startswith(displayName,${api.quote(q)}) or startswith(userPrincipalName,${api.quote(q)})`)}` : '';
    const done = ui.loading(region, 'Loading users…');
    let page;
    try {
      page = await api.graph('GET', `/users?$top=${PAGE}${filter}`);
    } catch (err) {
      done();
      region.replaceChildren(ui.problem(err, ctx.signInAgain));
      return;
    }
    done();
    if (!ctx.current()) return;
    if (page.value.length === 0) {
      region.replaceChildren(q
        ? ui.empty(`No user’s display name or user name starts with “${q}”. Check the spelling, search for less, or create the user.`)
        : ui.empty(can.writeUsers ? 'There are no users yet. Create the first one above.' : 'There are no users yet. An administrator with the User Administrator role can create them.'));
      return;
    }
    const columns = [
      { label: 'Name', header: true, cell: (u) => ui.link(`#/users/${u.id}`, u.displayName || u.userPrincipalName) },
      { label: 'User name', cell: (u) => u.userPrincipalName },
      { label: 'Type', cell: (u) => u.userType },
      { label: 'Sign-in', cell: (u) => (u.accountEnabled ? ui.badge('Enabled', 'ok') : ui.badge('Disabled', 'bad')) },
    ];
    const rows = [...page.value];
    const tableHolder = h('div', {});
    const more = h('button', { type: 'button', class: 'secondary' }, 'Load more');
    let next = page['@odata.nextLink'];
    const paint = () => {
      tableHolder.replaceChildren(ui.table({ caption: `${rows.length} user${rows.length === 1 ? '' : 's'}${next ? ' (more available)' : ''}`, columns, rows }));
      more.hidden = !next;
    };
    more.addEventListener('click', async () => {
      const p = await ui.act(more, 'Loading more users…', () => api.graph('GET', next), { done: 'More users loaded.', signInAgain: ctx.signInAgain });
      if (!p) return;
      rows.push(...p.value);
      next = p['@odata.nextLink'];
      paint();
    });
    region.replaceChildren(tableHolder, h('div', { class: 'actions' }, more));
    paint();
  },
};

function createForm(ctx) {
  const { ui, api } = ctx;
  const { h } = ui;
  const name = ui.field({ label: 'Display name', name: 'displayName', required: true, maxlength: 256 });
  const upn = ui.field({ label: 'User name', name: 'userPrincipalName', required: true, maxlength: 256, hint: 'The sign-in name, for example ada@contoso.example.', autocomplete: 'off' });
  const type = ui.field({ label: 'User type', name: 'userType', kind: 'select', options: [{ value: 'Member', label: 'Member' }, { value: 'Guest', label: 'Guest' }] });
  const result = h('div', { class: 'result' });
  const submit = h('button', { type: 'submit' }, 'Create user');
  const form = h('form', { novalidate: true, class: 'stacked', onsubmit: async (e) => {
    e.preventDefault();
    const body = { displayName: name.input.value.trim(), userPrincipalName: upn.input.value.trim(), userType: type.input.value, accountEnabled: true };
    const created = await ui.act(submit, 'Creating the user…', () => api.graph('POST', '/users', body), { where: result, done: 'User created.', signInAgain: ctx.signInAgain });
    if (created) ctx.navigate(`#/users/${created.id}`);
  } }, name.wrap, upn.wrap, type.wrap, h('div', { class: 'actions' }, submit), result);
  const details = h('details', { class: 'panel' }, h('summary', {}, 'Create a user'),
    h('p', { class: 'hint' }, 'The new user has no sign-in method yet: open them afterwards and issue a Temporary Access Pass so they can sign in and register a passkey.'), form);
  return details;
}
