import { CLIENT_APP_TYPES, DEVICE_PLATFORMS, KNOWN_UNSUPPORTED_GRANTS, SUPPORTED_GRANTS, type PolicyFinding } from './conditionalAccess.ts';
import { BUILT_IN_STRENGTHS } from './strengths.ts';

/**
 * CA-4: importing exported Microsoft Entra JSON. This module is the pure half: it decodes each
 * document (UTF-8 or UTF-16, with or without a byte-order mark), finds the importable objects in
 * it (Conditional Access policies, CA templates, authentication strengths, named locations, the
 * authentication methods policy or one method configuration, authentication contexts, and
 * collections `{value: [...]}` of any of them) and says what it could not use. Every object
 * becomes exactly one report item, so nothing is silently dropped; src/flows/policies/import.ts
 * does the storing.
 */

export type ImportDocument = { name: string; content: unknown };

export type ImportKind = 'caPolicy' | 'strength' | 'namedLocation' | 'methodsPolicy' | 'authenticationContext' | 'unrecognised' | 'file';
export type ImportStatus = 'stored' | 'storedDisabled' | 'partiallyStored' | 'invalid' | 'notStored' | 'skipped' | 'unrecognised';

export type ImportReportItem = {
  file: string;
  /** Position in a collection (`value[index]`) or a template list; absent for a single-object file. */
  index?: number;
  kind: ImportKind;
  displayName: string;
  /** The object's id in the export (a template's id for a policy made from a template). */
  sourceId: string | null;
  /** The id it was stored under in this tenant. */
  id?: string;
  status: ImportStatus;
  exportedState?: string;
  storedState?: string;
  findings: PolicyFinding[];
  message?: string;
};

export type ImportSummary = {
  files: number;
  unreadableFiles: number;
  policies: { stored: number; storedDisabled: number; invalid: number; notStored: number };
  strengths: { stored: number; invalid: number; notStored: number; skipped: number };
  namedLocations: { stored: number; invalid: number };
  methodsPolicy: { stored: number; partiallyStored: number; invalid: number };
  skipped: number;
  unrecognised: number;
};

export type ImportReport = { dryRun: boolean; summary: ImportSummary; items: ImportReportItem[] };

/** One object found in a document, as exported (annotations kept: named locations need `@odata.type`). */
export type ImportCandidate = {
  file: string;
  index?: number;
  kind: ImportKind;
  displayName: string;
  sourceId: string | null;
  value: Record<string, unknown>;
  /** For a policy made from a conditionalAccessTemplate: the template's id. */
  templateId?: string;
  /** Said about the file (decoded from UTF-16, byte-order mark removed); repeated on each of its items. */
  notes: string[];
  /** Known but needing no import (authentication contexts, built-in strengths): the reason. */
  skip?: string;
  /** The file could not be read, or the object is not one the import knows. */
  problem?: PolicyFinding;
};

/** Policies made from Microsoft's templates have no state; Entra's template wizard defaults to report-only. */
export const TEMPLATE_POLICY_STATE = 'enabledForReportingButNotEnforced';

const AUTH_CONTEXT_SKIP = 'skipped: authentication contexts need no import; c1..c99 are always available';

/** Decode a document's content: parsed JSON as is; a string or bytes are JSON text. */
export function decodeContent(content: unknown): { value?: unknown; notes: string[]; problem?: PolicyFinding } {
  const notes: string[] = [];
  let text: string;
  if (content instanceof Uint8Array) {
    const b = content;
    let encoding: 'utf-8' | 'utf-16le' | 'utf-16be' = 'utf-8';
    let skip = 0;
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) { skip = 3; notes.push('the file starts with a UTF-8 byte-order mark; it was removed'); }
    else if (b[0] === 0xff && b[1] === 0xfe) { encoding = 'utf-16le'; skip = 2; notes.push('the file is UTF-16LE with a byte-order mark (as PowerShell writes); it was decoded'); }
    else if (b[0] === 0xfe && b[1] === 0xff) { encoding = 'utf-16be'; skip = 2; notes.push('the file is UTF-16BE with a byte-order mark; it was decoded'); }
    else if (b.length >= 4 && b[0] !== 0 && b[1] === 0 && b[3] === 0) { encoding = 'utf-16le'; notes.push('the file is UTF-16LE without a byte-order mark; it was decoded'); }
    else if (b.length >= 4 && b[0] === 0 && b[1] !== 0 && b[2] === 0) { encoding = 'utf-16be'; notes.push('the file is UTF-16BE without a byte-order mark; it was decoded'); }
    try {
      text = new TextDecoder(encoding, { fatal: true }).decode(b.subarray(skip));
    } catch {
      return { notes, problem: { field: '(file)', rule: 'encoding', reason: `the file is not valid ${encoding.toUpperCase()} text.` } };
    }
  } else if (typeof content === 'string') {
    text = content;
  } else if (content === undefined) {
    return { notes, problem: { field: '(file)', rule: 'JSON', reason: 'the document has no content.' } };
  } else {
    return { value: content, notes };
  }
  if (text.startsWith('\uFEFF')) {
    text = text.slice(1);
    notes.push('the text starts with a byte-order mark; it was removed');
  }
  if (text.trim() === '') return { notes, problem: { field: '(file)', rule: 'JSON', reason: 'the file is empty.' } };
  try {
    return { value: JSON.parse(text), notes };
  } catch (err) {
    return { notes, problem: { field: '(file)', rule: 'JSON', reason: `the file is not valid JSON: ${(err as Error).message.slice(0, 200)}` } };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const odataType = (o: Record<string, unknown>): string => (typeof o['@odata.type'] === 'string' ? o['@odata.type'] : '').toLowerCase();
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** What kind of exported object this is, by its `@odata.type`, the collection's `@odata.context`, then its shape. */
export function kindOf(o: Record<string, unknown>, context = ''): ImportKind | 'template' | 'methodConfiguration' {
  const t = odataType(o);
  const ctx = (typeof o['@odata.context'] === 'string' ? o['@odata.context'] : context).toLowerCase();
  if (t === '#microsoft.graph.conditionalaccesstemplate' || (isObject(o.details) && isObject(o.details.conditions) && ('name' in o || 'scenarios' in o))) return 'template';
  if (t === '#microsoft.graph.conditionalaccesspolicy' || (isObject(o.conditions) && ('grantControls' in o || 'sessionControls' in o || 'state' in o))) return 'caPolicy';
  if (t.endsWith('namedlocation') || ctx.includes('namedlocations') || 'ipRanges' in o || 'countriesAndRegions' in o) return 'namedLocation';
  if (t === '#microsoft.graph.authenticationstrengthpolicy' || Array.isArray(o.allowedCombinations)) return 'strength';
  if (t === '#microsoft.graph.authenticationmethodspolicy' || o.id === 'authenticationMethodsPolicy' || Array.isArray(o.authenticationMethodConfigurations)) return 'methodsPolicy';
  if (t.endsWith('authenticationmethodconfiguration')) return 'methodConfiguration';
  if (t === '#microsoft.graph.authenticationcontextclassreference' || ctx.includes('authenticationcontextclassreferences') || (typeof o.id === 'string' && /^c\d{1,2}$/.test(o.id) && 'isAvailable' in o)) return 'authenticationContext';
  return 'unrecognised';
}

/** Find every importable object in one document. */
export function candidatesOf(doc: ImportDocument): ImportCandidate[] {
  const decoded = decodeContent(doc.content);
  const notes = decoded.notes;
  if (decoded.problem) {
    return [{ file: doc.name, kind: 'file', displayName: doc.name, sourceId: null, value: {}, notes, problem: decoded.problem }];
  }
  const v = decoded.value;
  let list: unknown[] | undefined;
  let context = '';
  if (Array.isArray(v)) list = v;
  else if (isObject(v) && Array.isArray(v.value) && Object.keys(v).every((k) => k === 'value' || k.startsWith('@odata.'))) {
    list = v.value;
    context = typeof v['@odata.context'] === 'string' ? v['@odata.context'] : '';
  }
  if (!list) return [one(doc.name, v, undefined, '', notes)];
  const items = list.map((x, i) => one(doc.name, x, i, context, notes));
  if (items.length === 0 || items.every((i) => i.kind === 'unrecognised')) {
    const what = list.length === 0 ? 'an empty collection' : `a collection of ${list.length} value${list.length === 1 ? '' : 's'} (${describe(list[0])}), none of them an object the import knows`;
    return [{
      file: doc.name, kind: 'unrecognised', displayName: doc.name, sourceId: null, value: {}, notes,
      problem: { field: 'value', rule: 'import', reason: `${what}.` },
    }];
  }
  return items;
}

function describe(x: unknown): string {
  if (isObject(x)) return `objects with ${Object.keys(x).filter((k) => !k.includes('@odata.')).slice(0, 6).join(', ') || 'no properties'}`;
  return Array.isArray(x) ? 'arrays' : typeof x === 'string' ? `strings such as '${x.slice(0, 40)}'` : `${typeof x} values`;
}

function one(file: string, x: unknown, index: number | undefined, context: string, notes: string[]): ImportCandidate {
  const base = { file, ...(index === undefined ? {} : { index }), notes };
  if (!isObject(x)) {
    return { ...base, kind: 'unrecognised', displayName: file, sourceId: null, value: {}, problem: { field: index === undefined ? '(file)' : `value.${index}`, rule: 'import', reason: `a JSON ${Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x} is not an object the import knows.` } };
  }
  const kind = kindOf(x, context);
  const sourceId = text(x.id);
  const displayName = text(x.displayName) ?? text(x.name) ?? sourceId ?? '(no displayName)';
  if (kind === 'template') {
    const d = x.details as Record<string, unknown>;
    const value: Record<string, unknown> = {
      displayName: text(x.name) ?? text(x.displayName) ?? `Template ${sourceId ?? ''}`.trim(),
      state: TEMPLATE_POLICY_STATE,
      conditions: d.conditions, grantControls: d.grantControls ?? null, sessionControls: d.sessionControls ?? null,
    };
    return { ...base, kind: 'caPolicy', displayName: value.displayName as string, sourceId, value, ...(sourceId ? { templateId: sourceId } : {}) };
  }
  if (kind === 'methodConfiguration') {
    return { ...base, kind: 'methodsPolicy', displayName: `${sourceId ?? '?'} (authentication method configuration)`, sourceId, value: { authenticationMethodConfigurations: [x] } };
  }
  if (kind === 'methodsPolicy') return { ...base, kind, displayName: text(x.displayName) ?? 'Authentication Methods Policy', sourceId, value: x };
  if (kind === 'authenticationContext') return { ...base, kind, displayName, sourceId, value: x, skip: AUTH_CONTEXT_SKIP };
  if (kind === 'strength') {
    const builtIn = BUILT_IN_STRENGTHS.find((s) => s.id === sourceId?.toLowerCase());
    if (String(x.policyType).toLowerCase() === 'builtin') {
      return { ...base, kind, displayName, sourceId, value: x, skip: builtIn
        ? `skipped: '${builtIn.displayName}' is a built-in strength, present in every tenant with this id (STR-1).`
        : 'skipped: built-in strengths can\'t be created; Gatehouse has Entra\'s three (STR-1), and this id is not one of them.' };
    }
  }
  if (kind === 'unrecognised') {
    const keys = Object.keys(x).filter((k) => !k.includes('@odata.')).slice(0, 8);
    return { ...base, kind, displayName: displayName === '(no displayName)' ? file : displayName, sourceId, value: x, problem: { field: index === undefined ? '(file)' : `value.${index}`, rule: 'import',
      reason: `not a Conditional Access policy or template, authentication strength, named location, authentication methods policy or authentication context${keys.length ? ` (it has ${keys.join(', ')})` : ''}.` } };
  }
  return { ...base, kind, displayName, sourceId, value: x };
}

/**
 * Graph reads enum values case-insensitively, and exports written by hand or by tools (e.g.
 * `"clientAppTypes": ["All"]`) rely on it. Rewrite such values to Graph's spelling before parsing;
 * returns what was changed, for the report.
 */
export function normaliseEnumCase(policy: Record<string, unknown>): string[] {
  const changed: string[] = [];
  const fix = (holder: unknown, key: string, vocabulary: readonly string[], path: string) => {
    if (!isObject(holder) || !Array.isArray(holder[key])) return;
    holder[key] = (holder[key] as unknown[]).map((v, i) => {
      if (typeof v !== 'string' || vocabulary.includes(v)) return v;
      const canonical = vocabulary.find((w) => w.toLowerCase() === v.toLowerCase());
      if (!canonical) return v;
      changed.push(`${path}.${key}.${i}: '${v}' read as '${canonical}'`);
      return canonical;
    });
  };
  const c = policy.conditions;
  fix(c, 'clientAppTypes', CLIENT_APP_TYPES, 'conditions');
  if (isObject(c)) {
    fix(c.platforms, 'includePlatforms', ['all', ...DEVICE_PLATFORMS], 'conditions.platforms');
    fix(c.platforms, 'excludePlatforms', ['all', ...DEVICE_PLATFORMS], 'conditions.platforms');
  }
  fix(policy.grantControls, 'builtInControls', [...SUPPORTED_GRANTS, ...KNOWN_UNSUPPORTED_GRANTS], 'grantControls');
  return changed;
}

/** Replace exported ids of named locations and strengths by the ids they were stored under. */
export function rewriteReferences(policy: Record<string, unknown>, map: { namedLocations: ReadonlyMap<string, string>; strengths: ReadonlyMap<string, string> }): string[] {
  const changed: string[] = [];
  const c = policy.conditions;
  if (isObject(c) && isObject(c.locations)) {
    for (const side of ['includeLocations', 'excludeLocations']) {
      const list = c.locations[side];
      if (!Array.isArray(list)) continue;
      c.locations[side] = list.map((v, i) => {
        const to = typeof v === 'string' ? map.namedLocations.get(v.toLowerCase()) : undefined;
        if (!to || to === v.toLowerCase()) return v;
        changed.push(`conditions.locations.${side}.${i}: named location ${String(v)} → ${to}`);
        return to;
      });
    }
  }
  const g = policy.grantControls;
  if (isObject(g) && isObject(g.authenticationStrength) && typeof g.authenticationStrength.id === 'string') {
    const from = g.authenticationStrength.id;
    const to = map.strengths.get(from.toLowerCase());
    if (to && to !== from.toLowerCase()) {
      g.authenticationStrength = { ...g.authenticationStrength, id: to };
      changed.push(`grantControls.authenticationStrength.id: strength ${from} → ${to}`);
    }
  }
  return changed;
}

export function summarise(items: readonly ImportReportItem[], files: number): ImportSummary {
  const n = (kind: ImportKind, status: ImportStatus) => items.filter((i) => i.kind === kind && i.status === status).length;
  return {
    files,
    unreadableFiles: items.filter((i) => i.kind === 'file').length,
    policies: { stored: n('caPolicy', 'stored'), storedDisabled: n('caPolicy', 'storedDisabled'), invalid: n('caPolicy', 'invalid'), notStored: n('caPolicy', 'notStored') },
    strengths: { stored: n('strength', 'stored'), invalid: n('strength', 'invalid'), notStored: n('strength', 'notStored'), skipped: n('strength', 'skipped') },
    namedLocations: { stored: n('namedLocation', 'stored'), invalid: n('namedLocation', 'invalid') },
    methodsPolicy: { stored: n('methodsPolicy', 'stored'), partiallyStored: n('methodsPolicy', 'partiallyStored'), invalid: n('methodsPolicy', 'invalid') },
    skipped: items.filter((i) => i.status === 'skipped').length,
    unrecognised: items.filter((i) => i.kind === 'unrecognised').length,
  };
}

/** The report as text: counts, then one line per item with its status and the fields that decided it. */
export function formatImportReport(r: ImportReport): string {
  const s = r.summary;
  const lines = [
    `${r.dryRun ? 'Dry run (nothing was written): ' : ''}${s.files} file${s.files === 1 ? '' : 's'}${s.unreadableFiles ? `, ${s.unreadableFiles} unreadable` : ''}`,
    `  Conditional Access policies: ${s.policies.stored} stored, ${s.policies.storedDisabled} stored disabled, ${s.policies.invalid} invalid, ${s.policies.notStored} not stored (CA-1 limit)`,
    `  authentication strengths:    ${s.strengths.stored} stored, ${s.strengths.invalid} invalid, ${s.strengths.notStored} not stored, ${s.strengths.skipped} skipped`,
    `  named locations:             ${s.namedLocations.stored} stored, ${s.namedLocations.invalid} invalid`,
    `  methods policy:              ${s.methodsPolicy.stored} stored, ${s.methodsPolicy.partiallyStored} partially stored, ${s.methodsPolicy.invalid} invalid`,
    `  skipped: ${s.skipped}; unrecognised: ${s.unrecognised}`,
    '',
  ];
  for (const i of r.items) {
    const where = `${i.file}${i.index === undefined ? '' : `[${i.index}]`}`;
    const state = i.kind === 'caPolicy' && i.storedState ? ` (${i.exportedState ?? 'no state'} → ${i.storedState})` : '';
    lines.push(`${i.status.padEnd(15)} ${i.kind.padEnd(21)} ${i.displayName}${state}${i.id ? ` id ${i.id}` : ''}  [${where}]`);
    for (const f of i.findings) lines.push(`${' '.repeat(18)}${f.field} (${f.rule}): ${f.reason}`);
    if (i.message) lines.push(`${' '.repeat(18)}${i.message}`);
  }
  return lines.join('\n');
}
