/* global URLSearchParams */
// Recovery cases (RCV-1..RCV-3, /api/recovery, docs/recovery.md): the list, opening a case for a
// user with the evidence of how their identity was verified and the methods to suspend, approving
// (a second admin), cancelling and restoring suspended methods. When a case takes effect its
// one-time TAP is shown once, like an issued pass (TAP-3).

import { showPassOnce } from './user.js';

const STATES = [
  { value: '', label: 'Any' }, { value: 'pendingApproval', label: 'Waiting for approval' }, { value: 'active', label: 'Active' },
  { value: 'completed', label: 'Completed' }, { value: 'cancelled', label: 'Cancelled' },
];
const VERIFICATION = [
  { value: 'inPerson', label: 'In person' }, { value: 'videoCall', label: 'Video call' }, { value: 'managerAttestation', label: 'Manager attestation' },
  { value: 'helpdeskTicket', label: 'Helpdesk ticket' }, { value: 'other', label: 'Other' },
];
const STATE_TONE = { pendingApproval: 'warn', active: 'warn', completed: 'ok', cancelled: 'neutral' };
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default {
  path: '/recovery',
  title: 'Recovery cases',
  nav: { label: 'Recovery', order: 30 },
  async render(ctx) {
    const { ui, api, root, query, can, session } = ctx;
    const { h } = ui;
    const userParam = (query.get('user') || '').trim();
    const state = query.get('state') || '';

    root.append(h('p', {}, 'A recovery case is for a user who lost every passkey: after you verify who they are, opening the case suspends their passkeys, ends their sessions and issues a one-time Temporary Access Pass. The first passkey they register with it completes the case (RCV-1..RCV-3).'));

    // Open a case
    if (can.manageRecovery) root.append(await openForm(ctx, userParam));
    else root.append(ui.notOffered('Opening and acting on recovery cases needs the Authentication Administrator (members only) or Privileged Authentication Administrator role (RCV-1, TAP-9); your roles can read cases only.'));

    // List
    const stateField = ui.field({ label: 'State', name: 'state', kind: 'select', options: STATES, value: state });
    const filter = h('form', { class: 'toolbar', novalidate: true, 'aria-label': 'Filter recovery cases', onsubmit: (e) => {
      e.preventDefault();
      const q = new URLSearchParams();
      if (stateField.input.value) q.set('state', stateField.input.value);
      if (userParam) q.set('user', userParam);
      const s = q.toString();
      ctx.navigate(`#/recovery${s ? `?${s}` : ''}`);
    } }, stateField.wrap, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Show')));
    const list = ui.section(userParam ? 'Cases of this user' : 'Cases');
    const region = h('div', { class: 'region', id: 'cases' });
    list.append(filter, region);
    root.append(list);
    const q = new URLSearchParams();
    if (state) q.set('state', state);
    if (userParam && GUID.test(userParam)) q.set('userId', userParam);
    const stop = ui.loading(region, 'Loading recovery cases…');
    let cases;
    try {
      cases = (await api.recovery('GET', `/cases${q.toString() ? `?${q}` : ''}`)).value;
    } catch (err) {
      stop();
      region.replaceChildren(err.status === 404
        ? ui.empty('This server has no recovery API (/api/recovery). Update Gatehouse to use recovery cases.')
        : ui.problem(err, ctx.signInAgain));
      return;
    }
    stop();
    if (!ctx.current()) return;
    if (cases.length === 0) {
      region.replaceChildren(ui.empty(can.manageRecovery
        ? 'No recovery case here. When a user has lost every passkey, open a case for them above.'
        : 'No recovery case here. An Authentication Administrator opens one when a user has lost every passkey.'));
      return;
    }
    const result = h('div', { class: 'result', id: 'case-result' });
    const actions = (c) => {
      if (!can.manageRecovery) return '';
      if (c.userId === session.id) return h('span', { class: 'muted' }, 'Not yours to act on (RCV-1)');
      const out = [];
      const step = (label, busy, path, body, danger) => {
        const b = h('button', { type: 'button', class: `small ${danger ? 'danger' : ''}`, 'aria-label': `${label}: case of ${c.userPrincipalName || c.userId}`, onclick: async () => {
          if (danger && !(await ui.confirm({ title: `${label}?`, text: label === 'Cancel case' ? 'Cancelling restores the suspended methods and deletes the case’s pass (RCV-3).' : 'The suspended methods become usable again.', confirmLabel: label }))) return;
          const r = await ui.act(b, busy, () => api.recovery('POST', `/cases/${c.id}${path}`, body), { where: result, done: `${label}: done.`, signInAgain: ctx.signInAgain });
          if (!r) return;
          if (r.temporaryAccessPass) await showPassOnce(ui, { displayName: c.userDisplayName || c.userPrincipalName || c.userId, userPrincipalName: c.userPrincipalName || c.userId }, r.temporaryAccessPass);
          ctx.refresh();
        } }, label);
        out.push(b);
      };
      if (c.state === 'pendingApproval') step('Approve', 'Approving…', '/approve', {}, false);
      if (c.state === 'pendingApproval' || c.state === 'active') step('Cancel case', 'Cancelling…', '/cancel', {}, true);
      const suspended = (c.suspendedMethodIds || []).filter((m) => !(c.restoredMethodIds || []).includes(m) && !(c.deletedMethodIds || []).includes(m));
      if ((c.state === 'active' || c.state === 'completed') && suspended.length && !c.cleanedUpDateTime) step('Restore methods', 'Restoring…', '/restore', { methodIds: suspended }, true);
      return h('div', { class: 'actions inline' }, out);
    };
    region.replaceChildren(ui.table({
      caption: `${cases.length} case${cases.length === 1 ? '' : 's'}`, rows: cases,
      columns: [
        { label: 'User', header: true, cell: (c) => ui.link(`#/users/${c.userId}`, c.userPrincipalName || c.userId) },
        { label: 'State', cell: (c) => ui.badge(c.state, STATE_TONE[c.state] || 'neutral') },
        { label: 'Verified by', cell: (c) => `${c.verification.method}: ${c.verification.reference}${c.verification.note ? ` (${c.verification.note})` : ''}` },
        { label: 'Opened', cell: (c) => `${ui.when(c.createdDateTime)} by ${actorName(c.openedBy)}` },
        { label: 'Suspended', cell: (c) => `${(c.suspendedMethodIds || []).length} method(s)${(c.restoredMethodIds || []).length ? `, ${c.restoredMethodIds.length} restored` : ''}` },
        { label: 'Log', cell: (c) => ui.link(`#/logs/audits?correlation=${encodeURIComponent(c.correlationId)}`, 'audit trail', { 'aria-label': `Audit trail of the case of ${c.userPrincipalName || c.userId}` }) },
        { label: 'Actions', cell: actions },
      ],
    }), result);
  },
};

const actorName = (a) => (!a ? '' : a.kind === 'user' ? a.userPrincipalName : a.kind === 'app' ? `app ${a.appId}` : `operator ${a.name}`);

async function openForm(ctx, userParam) {
  const { ui, api, session } = ctx;
  const { h } = ui;
  const details = h('details', { class: 'panel', open: Boolean(userParam) }, h('summary', {}, 'Open a recovery case'));
  const user = ui.field({ label: 'User', name: 'userId', value: userParam, hint: 'Object id or user name of the user who lost their passkeys.' });
  const method = ui.field({ label: 'How you verified who they are', name: 'verificationMethod', kind: 'select', options: VERIFICATION });
  const reference = ui.field({ label: 'Reference', name: 'reference', maxlength: 200, hint: 'A ticket number, or who attested, so others can check.' });
  const note = ui.field({ label: 'Note (optional)', name: 'note', kind: 'textarea', maxlength: 2000 });
  const methods = h('fieldset', { class: 'methods-choice' }, h('legend', {}, 'Methods to suspend'), h('p', { class: 'hint' }, 'Default: all of the user’s passkeys (RCV-2).'));
  const result = h('div', { class: 'result', id: 'open-result' });
  const submit = h('button', { type: 'submit' }, 'Open the case');
  let passkeys = [];

  const loadMethods = async () => {
    const ref = user.input.value.trim();
    passkeys = [];
    methods.replaceChildren(methods.firstChild, methods.children[1]);
    if (!ref) return;
    try {
      const u = await api.graph('GET', `/users/${encodeURIComponent(ref)}`);
      if (u.id === session.id) {
        methods.append(ui.notOffered('Nobody can open a recovery case for themselves (RCV-1); ask another administrator.'));
        return;
      }
      passkeys = (await api.graph('GET', `/users/${u.id}/authentication/fido2Methods`)).value;
      if (!passkeys.length) methods.append(h('p', {}, 'This user has no passkey: the case will only end their sessions and issue a pass.'));
      for (const p of passkeys) {
        const f = ui.field({ label: `${p.displayName || 'Passkey'}${p.model ? ` (${p.model})` : ''}, created ${ui.when(p.createdDateTime)}`, name: 'methodIds', kind: 'checkbox', value: true });
        f.input.value = p.id;
        methods.append(f.wrap);
      }
    } catch (err) {
      methods.append(ui.problem(err, ctx.signInAgain));
    }
  };
  user.input.addEventListener('change', loadMethods);

  const form = h('form', { class: 'stacked', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const chosen = [...methods.querySelectorAll('input[type=checkbox]')].filter((c) => c.checked).map((c) => c.value);
    const body = {
      userId: user.input.value.trim(),
      verification: { method: method.input.value, reference: reference.input.value.trim(), ...(note.input.value.trim() ? { note: note.input.value.trim() } : {}) },
      ...(passkeys.length && chosen.length && chosen.length < passkeys.length ? { methodIds: chosen } : {}),
    };
    const r = await ui.act(submit, 'Opening the case…', () => api.recovery('POST', '/cases', body), { where: result, signInAgain: ctx.signInAgain });
    if (!r) return;
    if (r.temporaryAccessPass) {
      ui.status('Case opened and in effect: the user’s passkeys are suspended and their sessions ended.');
      await showPassOnce(ui, { displayName: r.case.userDisplayName || r.case.userPrincipalName || body.userId, userPrincipalName: r.case.userPrincipalName || body.userId }, r.temporaryAccessPass);
    } else {
      ui.status('Case opened: it waits for a second administrator to approve it (RCV-1).');
    }
    ctx.refresh();
  } }, user.wrap, method.wrap, reference.wrap, note.wrap, methods, h('div', { class: 'actions' }, submit), result);
  details.append(form);
  if (userParam) await loadMethods();
  return details;
}
