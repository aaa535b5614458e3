/* global document, window, navigator, Node */
// Small DOM helpers for the admin console's screens (docs/admin-console.md). No framework, no
// inline style or script (the page's CSP is default-src 'self'): elements are built with h(),
// styled by classes from console.css.

/**
 * h('button', { class: 'secondary', type: 'button', onclick: fn, 'aria-describedby': 'x' }, 'Text', child, ...)
 * Props: `class`, `text`, `hidden`, `disabled`, `value`, `checked`, `for` (htmlFor), on* handlers, anything else as an attribute.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'hidden' || k === 'disabled' || k === 'checked' || k === 'required' || k === 'open') el[k] = Boolean(v);
    else if (k === 'value') el.value = v;
    else if (k === 'for') el.htmlFor = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let seq = 0;
/** A unique element id for label/aria wiring. */
export const uid = (prefix = 'f') => `${prefix}-${++seq}`;

/** "25 Nov 2026, 08:15" in the browser's time zone; '' for nothing. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

export const link = (href, text, props = {}) => h('a', { href, ...props }, text);

/** A definition list from [term, value] pairs; values may be nodes; empty values are left out. */
export function facts(pairs, props = {}) {
  const dl = h('dl', { class: 'facts', ...props });
  for (const [term, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    dl.append(h('dt', {}, term), h('dd', {}, value));
  }
  return dl;
}

/**
 * A table with a caption. columns: [{ label, cell(row) → string|Node, class? }]. rows: objects.
 * `label` names the table for screen readers when the caption is visually hidden.
 */
export function table({ caption, columns, rows, captionHidden = false, rowProps }) {
  // A wide table scrolls sideways inside its wrapper: the wrapper takes focus so keyboards can scroll it too.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { class: 'data' },
      h('caption', { class: captionHidden ? 'visually-hidden' : '' }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', rowProps ? rowProps(r) : {}, columns.map((c, i) => (i === 0 && c.header
        ? h('th', { scope: 'row', class: c.class }, c.cell(r))
        : h('td', { class: c.class }, c.cell(r)))))))));
}

/**
 * A labelled form control. kind: 'input' (default) | 'select' | 'textarea' | 'checkbox'.
 * Returns { wrap, input }.
 */
export function field({ label, name, kind = 'input', type = 'text', value, hint, required, options, min, max, placeholder, autocomplete = 'off', maxlength }) {
  const id = uid(name || 'f');
  const hintId = hint ? `${id}-hint` : undefined;
  let input;
  if (kind === 'select') {
    input = h('select', { id, name, 'aria-describedby': hintId, required }, (options || []).map((o) => h('option', { value: o.value }, o.label)));
    if (value !== undefined) input.value = value;
  } else if (kind === 'textarea') {
    input = h('textarea', { id, name, 'aria-describedby': hintId, required, maxlength, rows: 3 });
    if (value !== undefined) input.value = value;
  } else if (kind === 'checkbox') {
    input = h('input', { id, name, type: 'checkbox', checked: Boolean(value), 'aria-describedby': hintId });
    return { wrap: h('div', { class: 'field checkbox' }, input, h('label', { for: id }, label), hint ? h('p', { id: hintId, class: 'hint' }, hint) : null), input };
  } else {
    input = h('input', { id, name, type, value, required, min, max, placeholder, autocomplete, maxlength, spellcheck: 'false', 'aria-describedby': hintId });
  }
  return { wrap: h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { id: hintId, class: 'hint' }, hint) : null), input };
}

/** A paragraph that says there is nothing here and what to do next. */
export const empty = (text, ...actions) => h('div', { class: 'empty-state' }, h('p', {}, text), actions.length ? h('div', { class: 'actions' }, actions) : null);

/** A section with a heading (h2 by default), labelled by it. */
export function section(title, props = {}, level = 2) {
  const id = uid('s');
  return h('section', { 'aria-labelledby': id, ...props }, h(`h${level}`, { id }, title));
}

/** A note that a control is not offered, and why (role rules). */
export const notOffered = (text) => h('p', { class: 'not-offered' }, text);

/** Live regions of the shell. */
const live = () => ({ status: document.getElementById('status'), alert: document.getElementById('alert') });

/** The polite status line (progress, results). */
export function status(text) {
  live().status.textContent = text || '';
}

/** The assertive alert line (what went wrong, in the server's words). */
export function alert(text) {
  live().alert.textContent = text || '';
}

/**
 * A problem, shown where it happened: the server's message, and for an ended sign-in (401) a
 * "Sign in again" button. `signInAgain` comes from the screen context.
 */
export function problem(err, signInAgain) {
  const box = h('div', { class: 'problem', role: 'alert' }, h('p', {}, err && err.message ? err.message : String(err)));
  if (err && err.status === 401 && signInAgain) box.append(h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => signInAgain() }, 'Sign in again')));
  return box;
}

/** "Loading users…" with aria-busy on the region being filled. */
export function loading(region, text) {
  region.setAttribute('aria-busy', 'true');
  region.replaceChildren(h('p', { class: 'loading' }, text));
  return () => region.removeAttribute('aria-busy');
}

/**
 * Runs a long action from a button: the button is disabled and says `busyText`, the status line
 * says it too, and the result (or the server's message) is announced. Returns the action's result,
 * or undefined when it failed (the failure is shown in `where`, or the alert line).
 */
export async function act(button, busyText, fn, { where, done, signInAgain } = {}) {
  const label = button ? button.textContent : '';
  if (button) {
    button.disabled = true;
    button.textContent = busyText;
    button.setAttribute('aria-busy', 'true');
  }
  status(busyText);
  alert('');
  if (where) where.replaceChildren();
  try {
    const out = await fn();
    status(done || '');
    return out;
  } catch (err) {
    status('');
    if (where) where.replaceChildren(problem(err, signInAgain));
    else alert(err && err.message ? err.message : String(err));
    return undefined;
  } finally {
    if (button && button.isConnected) {
      button.disabled = false;
      button.textContent = label;
      button.removeAttribute('aria-busy');
    }
  }
}

/**
 * A modal <dialog>: title, body nodes and buttons [{ label, value, class }]. Resolves with the
 * value of the button pressed ('cancel' for Escape). The dialog is removed afterwards.
 */
export function dialog({ title, body, buttons, initial }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const d = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'actions' }, buttons.map((b) => h('button', { type: 'button', class: b.class, 'data-value': b.value, onclick: () => d.close(b.value) }, b.label))));
    d.addEventListener('close', () => {
      const v = d.returnValue || 'cancel';
      d.remove();
      resolve(v);
    });
    d.addEventListener('cancel', () => { d.returnValue = 'cancel'; });
    document.body.append(d);
    d.showModal();
    const first = initial ? d.querySelector(`[data-value="${initial}"]`) : d.querySelector('.actions button');
    if (first) first.focus();
  });
}

/** "Are you sure?" with a named action; true when confirmed. */
export async function confirm({ title, text, confirmLabel, danger = true }) {
  const v = await dialog({
    title, body: [h('p', {}, text)], initial: 'cancel',
    buttons: [{ label: confirmLabel, value: 'ok', class: danger ? 'danger' : '' }, { label: 'Cancel', value: 'cancel', class: 'secondary' }],
  });
  return v === 'ok';
}

/** Copies text; falls back to selecting it in `fallbackInput` (the user presses Ctrl+C) when the clipboard API is refused. */
export async function copyText(text, fallbackInput) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return 'Copied to the clipboard.';
    }
  } catch {
    // fall through to the selection fallback
  }
  if (fallbackInput) {
    fallbackInput.focus();
    fallbackInput.select();
    try {
      if (document.execCommand && document.execCommand('copy')) return 'Copied to the clipboard.';
    } catch {
      // nothing more to try
    }
  }
  return 'The browser did not allow copying: the code is selected, press Ctrl+C (or ⌘C) to copy it.';
}

/** A small pill: ok (usable, success), bad (failure, not usable), neutral. */
export const badge = (text, tone = 'neutral') => h('span', { class: `badge ${tone}` }, text);

/**
 * A Graph collection as a table with "Load more" (@odata.nextLink). Fills `region`; shows the
 * empty state when the first page is empty and the server's message when a page fails.
 * `noun`: [singular, plural]. Returns the rows loaded (first page) or null when it failed.
 */
export async function pagedTable(ctx, { region, url, columns, noun, emptyState, loadingText }) {
  const stop = loading(region, loadingText || `Loading ${noun[1]}…`);
  let page;
  try {
    page = await ctx.api.graph('GET', url);
  } catch (err) {
    stop();
    region.replaceChildren(problem(err, ctx.signInAgain));
    return null;
  }
  stop();
  if (!ctx.current()) return null;
  if (page.value.length === 0) {
    region.replaceChildren(emptyState);
    return [];
  }
  const rows = [...page.value];
  let next = page['@odata.nextLink'];
  const holder = h('div', {});
  const more = h('button', { type: 'button', class: 'secondary' }, 'Load more');
  const paint = () => {
    holder.replaceChildren(table({ caption: `${rows.length} ${rows.length === 1 ? noun[0] : noun[1]}${next ? ', more available' : ''}`, columns, rows }));
    more.hidden = !next;
  };
  more.addEventListener('click', async () => {
    const p = await act(more, `Loading more ${noun[1]}…`, () => ctx.api.graph('GET', next), { done: `More ${noun[1]} loaded.`, signInAgain: ctx.signInAgain });
    if (!p) return;
    rows.push(...p.value);
    next = p['@odata.nextLink'];
    paint();
  });
  paint();
  region.replaceChildren(holder, h('div', { class: 'actions' }, more));
  return rows;
}

/** A datetime-local value ('2026-11-25T08:15') → ISO 8601 UTC, or '' when empty or not a date. */
export function isoFromLocal(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
