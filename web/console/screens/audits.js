/* global URLSearchParams */
// The audit log (LOG-2, LOG-4): GET /auditLogs/directoryAudits filtered by activity, result,
// time window, correlation id and target user (targetResources/any(t: t/id eq '…')).

const ACTIVITIES = [
  'Admin registered security info', 'Admin deleted security info', 'User registered security info', 'User deleted security info',
  'User updated security info', 'Suspended security info', 'Opened recovery case', 'Invalidate all refresh tokens for user',
  'Add user', 'Update user', 'Delete user', 'Add member to role', 'Update conditional access policy', 'Add conditional access policy',
  'Update authentication methods policy',
];
const RESULTS = [{ value: '', label: 'Any' }, { value: 'success', label: 'success' }, { value: 'failure', label: 'failure' }];
const TOPS = ['25', '50', '100', '200'].map((v) => ({ value: v, label: v }));
/** `top` from the address: 1..1000 (the server's cap), 50 by default. */
const pageSize = (q) => Math.min(Math.max(Math.trunc(Number(q.get('top'))) || 50, 1), 1000);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isoFromLocal(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function auditFilter(q, quote) {
  const parts = [];
  const activity = (q.get('activity') || '').trim();
  if (activity) parts.push(`activityDisplayName eq ${quote(activity)}`);
  if (q.get('result')) parts.push(`result eq ${quote(q.get('result'))}`);
  const from = isoFromLocal(q.get('from'));
  if (from) parts.push(`activityDateTime ge ${from}`);
  const to = isoFromLocal(q.get('to'));
  if (to) parts.push(`activityDateTime le ${to}`);
  const corr = (q.get('correlation') || '').trim();
  if (corr) parts.push(`correlationId eq ${quote(corr)}`);
  const target = (q.get('target') || '').trim();
  if (target) parts.push(GUID.test(target) ? `targetResources/any(t: t/id eq ${quote(target)})` : `targetResources/any(t: t/userPrincipalName eq ${quote(target)})`);
  return parts.join(' and ');
}

const by = (a) => {
  const i = a.initiatedBy || {};
  if (i.user) return i.user.userPrincipalName || i.user.displayName || i.user.id;
  if (i.app) return `${i.app.displayName || 'app'} (${i.app.appId || i.app.servicePrincipalId || ''})`;
  return '';
};

export default {
  path: '/logs/audits',
  title: 'Audit log',
  nav: { label: 'Audits', order: 50 },
  async render(ctx) {
    const { ui, api, root, query, can } = ctx;
    const { h } = ui;
    if (!can.readLogs) {
      root.append(ui.notOffered('Reading the audit log needs one of the roles Global Administrator, Global Reader, Security Administrator, Security Reader or Reports Reader.'));
      return;
    }
    const listId = ui.uid('activities');
    const f = {
      activity: ui.field({ label: 'Activity', name: 'activity', value: query.get('activity') || '', hint: 'The exact activity name, for example “Admin registered security info”.' }),
      result: ui.field({ label: 'Result', name: 'result', kind: 'select', options: RESULTS, value: query.get('result') || '' }),
      from: ui.field({ label: 'From', name: 'from', type: 'datetime-local', value: query.get('from') || '' }),
      to: ui.field({ label: 'To', name: 'to', type: 'datetime-local', value: query.get('to') || '' }),
      correlation: ui.field({ label: 'Correlation id', name: 'correlation', value: query.get('correlation') || '' }),
      target: ui.field({ label: 'Target user', name: 'target', value: query.get('target') || '', hint: 'Object id or user name of the user the change was about.' }),
      top: ui.field({ label: 'Per page', name: 'top', kind: 'select', options: TOPS, value: query.get('top') || '50' }),
    };
    f.activity.input.setAttribute('list', listId);
    const form = h('form', { class: 'filters', novalidate: true, 'aria-label': 'Filter audit records', onsubmit: (e) => {
      e.preventDefault();
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(f)) if (v.input.value.trim() && !(k === 'top' && v.input.value === '50')) q.set(k, v.input.value.trim());
      const s = q.toString();
      ctx.navigate(`#/logs/audits${s ? `?${s}` : ''}`);
    } }, h('datalist', { id: listId }, ACTIVITIES.map((a) => h('option', { value: a }))),
    h('div', { class: 'filter-grid' }, Object.values(f).map((x) => x.wrap)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters'), h('a', { href: '#/logs/audits', class: 'button secondary' }, 'Clear')));
    root.append(form);

    const filter = auditFilter(query, api.quote);
    const list = ui.section('Audit records, newest first');
    if (filter) list.append(h('p', { class: 'hint' }, 'Filter: ', h('code', {}, filter)));
    const region = h('div', { class: 'region' });
    list.append(region);
    root.append(list);
    await ui.pagedTable(ctx, {
      region, noun: ['audit record', 'audit records'],
      url: `/auditLogs/directoryAudits?$top=${pageSize(query)}${filter ? `&$filter=${encodeURIComponent(filter)}` : ''}`,
      emptyState: ui.empty(filter ? 'No audit record matches these filters. Check the activity name, widen the time window or clear a filter.' : 'No audit records yet. Every change to users, methods, passes, policies and roles is recorded here.'),
      columns: [
        { label: 'Date', header: true, cell: (a) => ui.when(a.activityDateTime) },
        { label: 'Activity', cell: (a) => a.activityDisplayName },
        { label: 'Result', cell: (a) => h('span', {}, ui.badge(a.result, a.result === 'success' ? 'ok' : 'bad'), a.resultReason ? ` ${a.resultReason}` : '') },
        { label: 'By', cell: (a) => by(a) },
        { label: 'Target', cell: (a) => (a.targetResources || []).map((t) => (t.type === 'User' && t.id ? ui.link(`#/users/${t.id}`, t.userPrincipalName || t.displayName || t.id) : (t.displayName || t.id))) },
        { label: 'Details', cell: (a) => (a.additionalDetails || []).map((x) => `${x.key}: ${x.value}`).join('; ') },
        { label: 'Correlation', cell: (a) => (a.correlationId ? ui.link(`#/logs/audits?correlation=${encodeURIComponent(a.correlationId)}`, a.correlationId.slice(0, 8), { 'aria-label': `Audit records with correlation id ${a.correlationId}` }) : '') },
      ],
    });
  },
};
