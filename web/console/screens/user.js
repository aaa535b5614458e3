// One user: profile, roles, groups, sign-in methods with usability and its reason (MTH-3), delete
// a passkey ("Admin deleted security info"), issue and delete a Temporary Access Pass (TAP-2,
// TAP-3: the code is shown once, never kept), revoke sessions (PLT-6). Role rules (TAP-9): the
// change controls are offered only to roles that may use them, never on your own page; the
// server checks again and its refusal is shown as it is.

const TYPES = {
  '#microsoft.graph.fido2AuthenticationMethod': { label: 'Passkey', collection: 'fido2Methods', deletable: true },
  '#microsoft.graph.temporaryAccessPassAuthenticationMethod': { label: 'Temporary Access Pass', collection: 'temporaryAccessPassMethods', deletable: true },
  '#microsoft.graph.passwordAuthenticationMethod': { label: 'Password', collection: 'passwordMethods', deletable: false },
  '#microsoft.graph.softwareOathAuthenticationMethod': { label: 'Authenticator app (TOTP)', collection: 'softwareOathMethods', deletable: true },
};

/** MTH-3, TAP-5, RCV-2: what a usability reason means, in a sentence. */
const REASONS = {
  EnabledByPolicy: 'Usable: the methods policy enables it for this user.',
  DisabledByPolicy: 'Not usable: the methods policy disables this method, or this user is out of its scope (MTH-2).',
  DisabledByKeyRestrictions: 'Not usable: the passkey key restrictions block this authenticator model (PK-2).',
  DisabledByPasskeyType: 'Not usable: the methods policy does not allow this passkey type (device-bound or synced) (PK-2).',
  NotYetValid: 'Not usable yet: the pass starts later (TAP-5).',
  Expired: 'Not usable: the pass has expired (TAP-5).',
  OneTimeUsed: 'Not usable: this one-time pass has been used (TAP-5).',
  SuspendedByRecoveryCase: 'Not usable: suspended by a recovery case (RCV-2) until the case completes, is cancelled, or an admin restores it.',
};

const TAP9_SELF = 'You can’t issue a Temporary Access Pass to yourself or change your own sign-in methods here: another administrator must (TAP-9). To manage your own methods use the My Sign-Ins portal.';

export default {
  path: '/users/:id',
  title: 'User',
  async render(ctx) {
    const { ui, api, root, params, session, can } = ctx;
    const { h } = ui;
    const id = params.id;
    const done = ui.loading(root, 'Loading the user…');
    let user;
    try {
      user = await api.graph('GET', `/users/${encodeURIComponent(id)}`);
    } catch (err) {
      done();
      root.replaceChildren(ui.problem(err, ctx.signInAgain), h('p', {}, ui.link('#/users', 'Back to users')));
      return;
    }
    done();
    if (!ctx.current()) return;
    const self = user.id === session.id;
    ctx.setTitle(user.displayName || user.userPrincipalName);
    root.replaceChildren();

    // Profile
    const profile = ui.section('Profile');
    profile.append(ui.facts([
      ['User name', user.userPrincipalName], ['Object id', h('code', {}, user.id)], ['Type', user.userType],
      ['Sign-in', user.accountEnabled ? 'Enabled' : 'Disabled (DIR-2: this user can’t sign in)'], ['Mail', user.mail],
      ['Sessions valid from', ui.when(user.signInSessionsValidFromDateTime)],
    ]));
    profile.append(h('p', { class: 'links' },
      ui.link(`#/logs/sign-ins?user=${encodeURIComponent(user.userPrincipalName)}`, 'Sign-ins of this user'), ' · ',
      ui.link(`#/logs/audits?target=${encodeURIComponent(user.id)}`, 'Audit records about this user'), ' · ',
      ui.link(`#/recovery?user=${encodeURIComponent(user.id)}`, 'Recovery cases')));
    root.append(profile);
    if (self) root.append(h('p', { class: 'notice', id: 'self-notice' }, TAP9_SELF));

    // Roles and groups
    const membership = ui.section('Roles and groups');
    const memberRegion = h('div', { class: 'region' });
    membership.append(memberRegion);
    root.append(membership);
    loadMembership(ctx, user, memberRegion);

    // Methods
    const methods = ui.section('Sign-in methods', { id: 'methods' });
    const methodsRegion = h('div', { class: 'region' });
    methods.append(methodsRegion);
    root.append(methods);

    // Temporary Access Pass
    const tap = ui.section('Temporary Access Pass', { id: 'tap' });
    root.append(tap);

    // Sessions
    const sessions = ui.section('Sessions');
    root.append(sessions);
    if (can.revokeSessions && !self) {
      const result = h('div', { class: 'result' });
      const button = h('button', { type: 'button', class: 'danger', onclick: async () => {
        const ok = await ui.confirm({ title: 'Revoke sessions?', text: `${user.displayName} will have to sign in again everywhere: their sessions and refresh tokens issued before now stop working (PLT-6).`, confirmLabel: 'Revoke sessions' });
        if (!ok) return;
        await ui.act(button, 'Revoking sessions…', () => api.graph('POST', `/users/${user.id}/revokeSignInSessions`), { where: result, done: 'Sessions revoked: the user must sign in again.', signInAgain: ctx.signInAgain });
      } }, 'Revoke sessions');
      sessions.append(h('p', {}, 'Ends every session and refresh token issued before now, for example after a lost device.'), h('div', { class: 'actions' }, button), result);
    } else {
      sessions.append(ui.notOffered(self ? 'To end your own sessions, sign out; revoking is for other users.' : 'Revoking sessions needs the Global Administrator, User Administrator, Authentication Administrator or Privileged Authentication Administrator role.'));
    }

    const reload = () => renderMethods(ctx, user, self, methodsRegion, tap, reload);
    await reload();
  },
};

async function loadMembership(ctx, user, region) {
  const { ui, api, can } = ctx;
  const { h } = ui;
  const parts = [];
  if (can.readRoles) {
    try {
      const [assignments, definitions] = await Promise.all([
        api.graph('GET', `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq ${api.quote(user.id)}`)}`),
        api.graph('GET', '/roleManagement/directory/roleDefinitions'),
      ]);
      const name = (rid) => (definitions.value.find((d) => d.id === rid) || {}).displayName || rid;
      parts.push(h('h3', {}, 'Directory roles'), assignments.value.length
        ? h('ul', {}, assignments.value.map((a) => h('li', {}, name(a.roleDefinitionId))))
        : h('p', {}, 'No directory role: not an admin (DIR-4).'));
    } catch (err) {
      parts.push(h('h3', {}, 'Directory roles'), ui.problem(err, ctx.signInAgain));
    }
  } else {
    parts.push(ui.notOffered('Your roles can’t read role assignments.'));
  }
  if (can.readGroups) {
    try {
      const groups = await api.graph('GET', `/users/${user.id}/memberOf`);
      parts.push(h('h3', {}, 'Groups'), groups.value.length
        ? h('ul', {}, groups.value.map((g) => h('li', {}, g.displayName || g.id)))
        : h('p', {}, 'Not a member of any group.'));
    } catch (err) {
      parts.push(h('h3', {}, 'Groups'), ui.problem(err, ctx.signInAgain));
    }
  }
  if (ctx.current()) region.replaceChildren(...parts);
}

async function renderMethods(ctx, user, self, region, tapSection, reload) {
  const { ui, api, can } = ctx;
  const { h } = ui;
  const done = ui.loading(region, 'Loading sign-in methods…');
  let methods;
  try {
    methods = (await api.graph('GET', `/users/${user.id}/authentication/methods`)).value;
  } catch (err) {
    done();
    region.replaceChildren(ui.problem(err, ctx.signInAgain));
    tapSection.replaceChildren(tapSection.firstChild);
    return;
  }
  done();
  if (!ctx.current()) return;
  const canChange = can.manageMethods && !self;
  const result = h('div', { class: 'result', id: 'methods-result' });
  if (methods.length === 0) {
    region.replaceChildren(ui.empty(canChange
      ? 'This user has no sign-in method yet. Issue a Temporary Access Pass below: with it they sign in once and register a passkey.'
      : 'This user has no sign-in method yet. An Authentication Administrator can issue a Temporary Access Pass so they can sign in and register a passkey.'), result);
  } else {
    const columns = [
      { label: 'Method', header: true, cell: (m) => (TYPES[m['@odata.type']] || { label: m['@odata.type'] }).label },
      { label: 'Details', cell: (m) => details(ui, m) },
      { label: 'Usable', cell: (m) => h('span', {}, m.isUsable ? ui.badge('Usable', 'ok') : ui.badge('Not usable', 'bad'), ' ', h('span', { class: 'reason' }, m.methodUsabilityReason || '')) },
      { label: 'Why', cell: (m) => REASONS[m.methodUsabilityReason] || m.methodUsabilityReason || '' },
    ];
    if (canChange) {
      columns.push({ label: 'Actions', cell: (m) => {
        const t = TYPES[m['@odata.type']];
        if (!t || !t.deletable) return '';
        const what = t.label === 'Passkey' ? `the passkey “${m.displayName || m.id}”` : t.label === 'Temporary Access Pass' ? 'the Temporary Access Pass' : `this ${t.label}`;
        const button = h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${what}`, onclick: async () => {
          const ok = await ui.confirm({ title: `Delete ${what}?`, text: `${user.displayName} will no longer be able to sign in with it. This is recorded in the audit log (“Admin deleted security info”).`, confirmLabel: 'Delete' });
          if (!ok) return;
          const r = await ui.act(button, 'Deleting…', () => api.graph('DELETE', `/users/${user.id}/authentication/${t.collection}/${m.id}`).then(() => true), { where: result, done: `Deleted ${what}.`, signInAgain: ctx.signInAgain });
          if (r) await reload();
        } }, 'Delete');
        return button;
      } });
    }
    region.replaceChildren(ui.table({ caption: `${methods.length} method${methods.length === 1 ? '' : 's'} of ${user.displayName}`, columns, rows: methods }), result);
  }
  if (!can.manageMethods) {
    region.append(ui.notOffered('Deleting methods needs the Authentication Administrator or Privileged Authentication Administrator role (TAP-9); your roles can read them only.'));
  }
  await renderTap(ctx, user, self, methods, tapSection, reload);
}

function details(ui, m) {
  const { h } = ui;
  const type = m['@odata.type'];
  if (type === '#microsoft.graph.fido2AuthenticationMethod') {
    return ui.facts([
      ['Name', m.displayName], ['Model', m.model], ['Type', m.passkeyType], ['Created', ui.when(m.createdDateTime)], ['Last used', ui.when(m.lastUsedDateTime) || 'never'],
      ['Possibly cloned', m.possiblyClonedDateTime ? `since ${ui.when(m.possiblyClonedDateTime)} (PK-4)` : ''],
      ['Recovery case', m.gatehouseSuspendedByRecoveryCaseId ? ui.link(`#/recovery?case=${m.gatehouseSuspendedByRecoveryCaseId}`, 'the case that suspended it') : ''],
    ], { class: 'facts compact' });
  }
  if (type === '#microsoft.graph.temporaryAccessPassAuthenticationMethod') {
    const ends = m.startDateTime && m.lifetimeInMinutes ? new Date(Date.parse(m.startDateTime) + m.lifetimeInMinutes * 60_000).toISOString() : null;
    return ui.facts([
      ['Starts', ui.when(m.startDateTime)], ['Expires', ui.when(ends)], ['Lifetime', m.lifetimeInMinutes ? `${m.lifetimeInMinutes} minutes` : ''],
      ['Use', m.isUsableOnce ? 'one-time' : 'multi-use'], ['Code', h('span', { class: 'muted' }, 'never shown again after it was issued (TAP-3)')],
    ], { class: 'facts compact' });
  }
  return ui.facts([['Created', ui.when(m.createdDateTime)]], { class: 'facts compact' });
}

async function renderTap(ctx, user, self, methods, section, reload) {
  const { ui, api, can } = ctx;
  const { h } = ui;
  const heading = section.firstChild;
  section.replaceChildren(heading);
  if (self) {
    section.append(ui.notOffered(TAP9_SELF));
    return;
  }
  if (!can.manageMethods) {
    section.append(ui.notOffered('Issuing a Temporary Access Pass needs the Authentication Administrator (members only) or Privileged Authentication Administrator role (TAP-9). Readers see a pass’s metadata above, never its code.'));
    return;
  }
  if (user.userType === 'Guest') {
    section.append(ui.notOffered('External guests can’t get a Temporary Access Pass (TAP-9).'));
    return;
  }
  let policy = null;
  if (can.readPolicies) {
    try {
      policy = await api.graph('GET', '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass');
    } catch {
      policy = null;
    }
  }
  if (!ctx.current()) return;
  const existing = methods.find((m) => m['@odata.type'] === '#microsoft.graph.temporaryAccessPassAuthenticationMethod');
  const min = policy ? policy.minimumLifetimeInMinutes : 10;
  const max = policy ? policy.maximumLifetimeInMinutes : 43200;
  const def = policy ? policy.defaultLifetimeInMinutes : 60;
  const onceForced = Boolean(policy && policy.isUsableOnce);
  section.append(h('p', {}, policy
    ? `The Temporary Access Pass policy allows lifetimes from ${min} to ${max} minutes (default ${def})${onceForced ? ' and only one-time passes' : ''}${policy.state === 'disabled' ? '. The method is disabled in the methods policy: the pass can be issued but not used to sign in until it is enabled (TAP-6)' : ''}.`
    : 'The server checks the lifetime against the Temporary Access Pass policy (TAP-2).'));
  if (existing) section.append(h('p', { class: 'notice' }, 'This user already has a pass: issuing a new one replaces it (TAP-4).'));
  const lifetime = ui.field({ label: 'Lifetime in minutes', name: 'lifetimeInMinutes', type: 'number', value: String(def), min: String(min), max: String(max), hint: `From ${min} to ${max}.` });
  const once = ui.field({ label: 'One-time pass (usable for one sign-in)', name: 'isUsableOnce', kind: 'checkbox', value: onceForced, hint: onceForced ? 'The policy requires one-time passes.' : 'A multi-use pass works until it expires.' });
  if (onceForced) once.input.disabled = true;
  const start = ui.field({ label: 'Start (optional)', name: 'startDateTime', type: 'datetime-local', hint: 'Leave empty to start now.' });
  const result = h('div', { class: 'result', id: 'tap-result' });
  const submit = h('button', { type: 'submit', id: 'issue-tap' }, 'Issue Temporary Access Pass');
  const form = h('form', { class: 'stacked', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const body = { lifetimeInMinutes: Number(lifetime.input.value), isUsableOnce: once.input.checked };
    if (start.input.value) body.startDateTime = new Date(start.input.value).toISOString();
    const created = await ui.act(submit, 'Issuing the pass…', () => api.graph('POST', `/users/${user.id}/authentication/temporaryAccessPassMethods`, body), { where: result, done: 'Temporary Access Pass issued.', signInAgain: ctx.signInAgain });
    if (!created) return;
    await showPassOnce(ui, user, created);
    await reload();
  } }, lifetime.wrap, once.wrap, start.wrap, h('div', { class: 'actions' }, submit), result);
  section.append(form);
}

/** TAP-3: the code, once, with Copy and the expiry. Nothing keeps it after the dialog closes. */
export async function showPassOnce(ui, user, created) {
  const { h } = ui;
  const code = h('input', { type: 'text', readonly: true, class: 'pass-code', id: 'tap-code', value: created.temporaryAccessPass, 'aria-describedby': 'tap-code-help' });
  const copied = h('p', { class: 'copied', role: 'status' });
  const ends = new Date(Date.parse(created.startDateTime) + created.lifetimeInMinutes * 60_000).toISOString();
  const copy = h('button', { type: 'button', class: 'secondary', onclick: async () => { copied.textContent = await ui.copyText(created.temporaryAccessPass, code); } }, 'Copy');
  await ui.dialog({
    title: 'Temporary Access Pass issued',
    body: [
      h('p', {}, `Give this pass to ${user.displayName} (${user.userPrincipalName}) through a channel you trust.`),
      h('label', { for: 'tap-code' }, 'Temporary Access Pass'),
      h('div', { class: 'code-row' }, code, copy),
      copied,
      h('p', { id: 'tap-code-help', class: 'hint' }, 'This is the only time the pass is shown: Gatehouse keeps only a keyed hash of it (TAP-3). Copy it now.'),
      ui.facts([
        ['Valid from', ui.when(created.startDateTime)], ['Expires', ui.when(ends)],
        ['Use', created.isUsableOnce ? 'one-time' : `multi-use until it expires (${created.lifetimeInMinutes} minutes)`],
      ]),
    ],
    buttons: [{ label: 'Done, I have copied it', value: 'done' }],
  });
  code.value = '';
}
