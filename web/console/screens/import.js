// Import from Entra (CA-4, docs/admin-guide.md "Importing policies from Entra"): upload or paste
// exported JSON files (CA policies, templates, strengths, named locations, the methods policy),
// check them with a dry run (the server imports and rolls back, so the report is exactly what an
// import would do), then import. Each object gets one line: stored, stored disabled with the
// findings that keep it disabled, invalid, not stored, skipped or unrecognised. Large uploads are
// sent in batches under the server's body limit, with progress.

import { NEEDS, findingsList, readOnly, refusal, subNav } from '../policyUi.js';

const BATCH_CHARS = 200_000;
const STATUS_TONE = { stored: 'ok', storedDisabled: 'warn', partiallyStored: 'warn', invalid: 'bad', notStored: 'bad', skipped: 'neutral', unrecognised: 'neutral' };
const STATUS_TEXT = { stored: 'Stored', storedDisabled: 'Stored disabled', partiallyStored: 'Partly stored', invalid: 'Invalid', notStored: 'Not stored', skipped: 'Skipped', unrecognised: 'Unrecognised' };

export default {
  path: '/policies/import',
  title: 'Import policies from Entra',
  async render(ctx) {
    const { ui, api, root, can } = ctx;
    const { h } = ui;
    root.append(subNav('/policies/import'));
    root.append(h('p', {}, 'Load JSON exported from Microsoft Entra: Conditional Access policies and templates, custom authentication strengths, named locations and the authentication methods policy. A policy Gatehouse can’t evaluate is stored disabled with the reasons, never silently treated as not applying (CA-4). Check first with a dry run: nothing is stored.'));
    if (!can.writeConditionalAccess) {
      root.append(readOnly(ui, NEEDS.import));
      return;
    }
    const docs = [];
    const listRegion = h('div', { id: 'import-files' });
    const paintList = () => {
      listRegion.replaceChildren(docs.length
        ? ui.table({ caption: `${docs.length} ${docs.length === 1 ? 'file' : 'files'} to import`, rows: docs, columns: [
          { label: 'File', header: true, cell: (d) => d.name },
          { label: 'Size', cell: (d) => `${Math.ceil(d.content.length / 1024)} KB` },
          { label: '', cell: (d) => h('button', { type: 'button', class: 'small secondary', 'aria-label': `Remove ${d.name}`, onclick: () => { docs.splice(docs.indexOf(d), 1); paintList(); } }, 'Remove') },
        ] })
        : ui.empty('No file chosen yet. Choose exported .json files, or paste one below.'));
      importButton.disabled = true;
      dryButton.disabled = docs.length === 0;
    };
    const fileId = ui.uid('files');
    const files = h('input', { type: 'file', id: fileId, multiple: true, accept: '.json,application/json', onchange: async () => {
      for (const f of files.files) docs.push({ name: f.name, content: await f.text() });
      files.value = '';
      paintList();
    } });
    const pasteName = ui.field({ label: 'Name of the pasted file', name: 'pasteName', value: 'pasted.json' });
    const paste = ui.field({ kind: 'textarea', label: 'Or paste exported JSON', name: 'pasteJson' });
    paste.input.rows = 6;
    const addPasted = h('button', { type: 'button', class: 'secondary', onclick: () => {
      if (!paste.input.value.trim()) return;
      docs.push({ name: pasteName.input.value.trim() || 'pasted.json', content: paste.input.value });
      paste.input.value = '';
      paintList();
    } }, 'Add the pasted JSON');
    const progress = h('div', { id: 'import-progress' });
    const report = h('div', { id: 'import-report' });
    const dryButton = h('button', { type: 'button', id: 'dry-run', disabled: true, onclick: () => go(true) }, 'Check (dry run)');
    const importButton = h('button', { type: 'button', id: 'do-import', disabled: true, onclick: async () => {
      const ok = await ui.confirm({ title: `Import ${docs.length} ${docs.length === 1 ? 'file' : 'files'}?`, text: 'Everything the dry run reported as stored will be stored now, and each object is audited. Policies with findings are stored disabled.', confirmLabel: 'Import', danger: false });
      if (ok) go(false);
    } }, 'Import');

    async function go(dryRun) {
      const batches = [];
      let cur = [];
      let size = 0;
      for (const d of docs) {
        if (cur.length && size + d.content.length > BATCH_CHARS) { batches.push(cur); cur = []; size = 0; }
        cur.push(d);
        size += d.content.length;
      }
      if (cur.length) batches.push(cur);
      dryButton.disabled = true;
      importButton.disabled = true;
      report.replaceChildren();
      const bar = h('progress', { max: String(batches.length), value: '0', 'aria-label': dryRun ? 'Dry run progress' : 'Import progress' });
      const label = h('span', {}, '');
      progress.replaceChildren(h('div', { class: 'progress' }, bar, label));
      const merged = { dryRun, summary: null, items: [] };
      try {
        for (let i = 0; i < batches.length; i++) {
          label.textContent = `${dryRun ? 'Checking' : 'Importing'}: batch ${i + 1} of ${batches.length} (${batches[i].length} files)…`;
          ui.status(label.textContent);
          const r = await api.graph('POST', '/policies/gatehouseImport', { documents: batches[i].map((d) => ({ name: d.name, content: d.content })), dryRun, forceLockout: false });
          merged.items.push(...r.items);
          merged.summary = addSummary(merged.summary, r.summary);
          bar.value = i + 1;
        }
        label.textContent = dryRun ? 'Dry run finished: nothing was stored.' : 'Import finished.';
        ui.status(dryRun ? `Dry run finished: ${merged.items.length} objects checked, nothing stored.` : `Import finished: ${merged.items.length} objects.`);
        report.replaceChildren(...reportView(ui, merged));
        importButton.disabled = !dryRun;
        if (!dryRun) { docs.length = 0; paintList(); }
      } catch (err) {
        label.textContent = 'Stopped.';
        ui.status('');
        report.replaceChildren(refusal(ui, err, ctx.signInAgain), batches.length > 1 ? h('p', {}, 'Batches before the failing one were processed; check the Conditional Access list.') : null);
      } finally {
        dryButton.disabled = docs.length === 0;
      }
    }

    const filesSection = ui.section('Files');
    filesSection.append(h('div', { class: 'field' }, h('label', { for: fileId }, 'Exported JSON files'), files, h('p', { class: 'hint' }, 'Several at once is fine; named locations and strengths are imported before the policies that name them.')),
      pasteName.wrap, paste.wrap, h('div', { class: 'actions' }, addPasted), listRegion);
    const run = ui.section('Check and import');
    run.append(h('div', { class: 'actions' }, dryButton, importButton), progress, report);
    root.append(filesSection, run);
    paintList();
  },
};

function addSummary(a, b) {
  if (!a) return JSON.parse(JSON.stringify(b));
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (typeof v === 'number') out[k] = (out[k] || 0) + v;
    else if (v && typeof v === 'object') out[k] = addSummary(out[k] || {}, v);
  }
  return out;
}

function reportView(ui, r) {
  const { h } = ui;
  const s = r.summary || {};
  const p = s.policies || {};
  const out = [h('h3', {}, r.dryRun ? 'Dry run report (nothing was stored)' : 'Import report')];
  out.push(ui.facts([
    ['Files', `${s.files ?? 0}${s.unreadableFiles ? `, ${s.unreadableFiles} unreadable` : ''}`],
    ['Policies', `${p.stored ?? 0} stored, ${p.storedDisabled ?? 0} stored disabled, ${p.invalid ?? 0} invalid, ${p.notStored ?? 0} not stored`],
    ['Strengths', s.strengths ? `${s.strengths.stored ?? 0} stored, ${s.strengths.invalid ?? 0} invalid, ${s.strengths.notStored ?? 0} not stored, ${s.strengths.skipped ?? 0} skipped` : ''],
    ['Named locations', s.namedLocations ? `${s.namedLocations.stored ?? 0} stored, ${s.namedLocations.invalid ?? 0} invalid` : ''],
    ['Methods policy', s.methodsPolicy ? `${s.methodsPolicy.stored ?? 0} stored, ${s.methodsPolicy.partiallyStored ?? 0} partly stored, ${s.methodsPolicy.invalid ?? 0} invalid` : ''],
    ['Other', `${s.skipped ?? 0} skipped, ${s.unrecognised ?? 0} unrecognised`],
  ], { id: 'import-summary' }));
  out.push(r.items.length ? ui.table({ caption: `${r.items.length} objects`, rows: r.items, columns: [
    { label: 'Object', header: true, cell: (i) => h('span', {}, i.id && !r.dryRun && i.kind === 'caPolicy' ? ui.link(`#/policies/ca/${encodeURIComponent(i.id)}`, i.displayName || i.id) : (i.displayName || i.sourceId || '(no name)'), h('br'), h('span', { class: 'muted' }, `${i.kind} · ${i.file}${i.index !== undefined ? ` #${i.index}` : ''}`)) },
    { label: 'Status', cell: (i) => ui.badge(STATUS_TEXT[i.status] || i.status, STATUS_TONE[i.status] || 'neutral') },
    { label: 'State', cell: (i) => (i.exportedState ? `${i.exportedState} → ${i.storedState || 'not stored'}` : '') },
    { label: 'Findings and notes', cell: (i) => h('div', {}, (i.findings || []).length ? findingsList(i.findings) : null, i.message ? h('p', { class: 'reason' }, i.message) : null) },
  ] }) : ui.empty('The files held nothing to import.'));
  return out;
}
