/* global URLSearchParams */
// The sign-in log (LOG-1, LOG-4): GET /auditLogs/signIns with a $filter built from the form,
// newest first, "Load more" through @odata.nextLink. The filters live in the address
// (#/logs/sign-ins?user=…&status=failure), so a filtered list can be shared and reloaded.

const STATUS = [
  { value: '', label: 'Any' }, { value: 'success', label: 'Success (error code 0)' }, { value: 'failure', label: 'Failure or interrupted (error code not 0)' },
];
const CA = [
  { value: '', label: 'Any' }, { value: 'success', label: 'success' }, { value: 'failure', label: 'failure' }, { value: 'notApplied', label: 'notApplied' },
];
const TOPS = ['25', '50', '100', '200'].map((v) => ({ value: v, label: v }));

/** The $filter for the form's values (exported for the docs and tests). */
export function signInFilter(q, quote) {
  const parts = [];
  const user = (q.get('user') || '').trim();
  if (user) parts.push(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(user) ? `userId eq ${quote(user)}` : `userPrincipalName eq ${quote(user)}`);
  const app = (q.get('app') || '').trim();
  if (app) parts.push(`appId eq ${quote(app)}`);
  const from = isoFromLocal(q.get('from'));
  if (from) parts.push(`createdDateTime ge ${from}`);
  const to = isoFromLocal(q.get('to'));
  if (to) parts.push(`createdDateTime le ${to}`);
  if (q.get('status') === 'success') parts.push('status/errorCode eq 0');
  if (q.get('status') === 'failure') parts.push('status/errorCode ne 0');
  const ca = q.get('ca');
  if (ca) parts.push(`conditionalAccessStatus eq ${quote(ca)}`);
  const corr = (q.get('correlation') || '').trim();
  if (corr) parts.push(`correlationId eq ${quote(corr)}`);
  return parts.join(' and ');
}

function isoFromLocal(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** "Success", "Interrupted: …" or "Failure: …" for a record's status. */
export function outcomeOf(r) {
  const s = r.status || {};
  if (s.errorCode === 0) return { text: 'Success', tone: 'ok' };
  const interrupted = typeof s.additionalDetails === 'string' && /decision: (challenge|register)/.test(s.additionalDetails);
  return { text: `${interrupted ? 'Interrupted' : 'Failure'} ${s.errorCode}`, tone: interrupted ? 'warn' : 'bad' };
}

export default {
  path: '/logs/sign-ins',
  title: 'Sign-in log',
  nav: { label: 'Sign-ins', order: 40 },
  async render(ctx) {
    const { ui, api, root, query, can } = ctx;
    const { h } = ui;
    if (!can.readLogs) {
      root.append(ui.notOffered('Reading the sign-in log needs one of the roles Global Administrator, Global Reader, Security Administrator, Security Reader or Reports Reader.'));
      return;
    }
    const f = {
      user: ui.field({ label: 'User', name: 'user', value: query.get('user') || '', hint: 'User name (ada@contoso.example) or object id.' }),
      app: ui.field({ label: 'Application id', name: 'app', value: query.get('app') || '', hint: 'The appId (a GUID).' }),
      from: ui.field({ label: 'From', name: 'from', type: 'datetime-local', value: query.get('from') || '' }),
      to: ui.field({ label: 'To', name: 'to', type: 'datetime-local', value: query.get('to') || '' }),
      status: ui.field({ label: 'Status', name: 'status', kind: 'select', options: STATUS, value: query.get('status') || '' }),
      ca: ui.field({ label: 'Conditional Access', name: 'ca', kind: 'select', options: CA, value: query.get('ca') || '' }),
      correlation: ui.field({ label: 'Correlation id', name: 'correlation', value: query.get('correlation') || '', hint: 'Every step of one sign-in shares it.' }),
      top: ui.field({ label: 'Per page', name: 'top', kind: 'select', options: TOPS, value: query.get('top') || '50' }),
    };
    const form = h('form', { class: 'filters', novalidate: true, 'aria-label': 'Filter sign-ins', onsubmit: (e) => {
      e.preventDefault();
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(f)) if (v.input.value.trim() && !(k === 'top' && v.input.value === '50')) q.set(k, v.input.value.trim());
      const s = q.toString();
      ctx.navigate(`#/logs/sign-ins${s ? `?${s}` : ''}`);
    } }, h('div', { class: 'filter-grid' }, Object.values(f).map((x) => x.wrap)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters'), h('a', { href: '#/logs/sign-ins', class: 'button secondary' }, 'Clear')));
    root.append(form);

    const filter = signInFilter(query, api.quote);
    const top = Math.min(Math.max(Math.trunc(Number(query.get('top'))) || 50, 1), 1000);
    const list = ui.section('Sign-ins, newest first');
    if (filter) list.append(h('p', { class: 'hint' }, 'Filter: ', h('code', {}, filter)));
    const region = h('div', { class: 'region' });
    list.append(region);
    root.append(list);
    const columns = [
      { label: 'Date', header: true, cell: (r) => ui.link(`#/logs/sign-ins/${r.id}`, ui.when(r.createdDateTime), { 'aria-label': `Sign-in of ${r.userPrincipalName || 'an unknown user'} at ${ui.when(r.createdDateTime)}: details` }) },
      { label: 'User', cell: (r) => r.userPrincipalName || h('span', { class: 'muted' }, 'unknown') },
      { label: 'Application', cell: (r) => r.appDisplayName || r.appId || '' },
      { label: 'Status', cell: (r) => { const o = outcomeOf(r); return h('span', {}, ui.badge(o.text, o.tone), ' ', (r.status && r.status.errorCode !== 0 && r.status.failureReason) || ''); } },
      { label: 'Conditional Access', cell: (r) => r.conditionalAccessStatus || '' },
      { label: 'Address', cell: (r) => r.ipAddress || '' },
    ];
    await ui.pagedTable(ctx, {
      region, columns, noun: ['sign-in', 'sign-ins'],
      url: `/auditLogs/signIns?$top=${top}${filter ? `&$filter=${encodeURIComponent(filter)}` : ''}`,
      emptyState: ui.empty(filter ? 'No sign-in matches these filters. Widen the time window or clear a filter.' : 'No sign-ins yet. Every sign-in attempt (OIDC, the flow API, token refreshes) is listed here once it happens.'),
    });
  },
};
