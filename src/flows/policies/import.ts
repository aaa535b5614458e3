import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { Actor } from '../../domain/actors.ts';
import {
  MAX_CA_POLICIES, parsePolicy, stripAnnotations, type CaGrantControls, type CaPolicy, type NamedLocation, type PolicyFinding,
} from '../../domain/conditionalAccess.ts';
import { permits, ROLE_TEMPLATES } from '../../domain/directory.ts';
import { ForbiddenError, ValidationError } from '../../domain/errors.ts';
import { parseMethodConfiguration, type MethodConfiguration, type MethodsPolicy } from '../../domain/methodsPolicy.ts';
import {
  candidatesOf, normaliseEnumCase, rewriteReferences, summarise, TEMPLATE_POLICY_STATE,
  type ImportCandidate, type ImportDocument, type ImportReport, type ImportReportItem,
} from '../../domain/policyImport.ts';
import { BUILT_IN_STRENGTHS, MAX_CUSTOM_STRENGTHS, type AuthenticationStrength } from '../../domain/strengths.ts';
import { isGuid } from '../../domain/validation.ts';
import type { PolicySnapshot } from '../../engine/types.ts';
import { writeAudit, type AuditEntry } from '../../store/audit.ts';
import type { Db } from '../../store/database.ts';
import { saveMethodsPolicy } from '../../store/methodsPolicy.ts';
import {
  allStrengths, countConditionalAccessPolicies, customStrengths, findConditionalAccessPolicy, findNamedLocation, findStrength, loadPolicySnapshot,
  lockPolicies, saveConditionalAccessPolicy, saveNamedLocation, saveStrength,
} from '../../store/policies.ts';
import { auditActor } from '../methods/context.ts';
import { assertDisplayName, assertStorable, authorizePolicyChange } from './conditionalAccess.ts';
import { guardAgainstLockout } from './guard.ts';
import { referenceFindings } from './references.ts';
import { namedLocationDocument } from './namedLocations.ts';
import { customStrengthDocument } from './strengths.ts';

/**
 * CA-4 bulk import of exported Entra JSON (see docs/admin-guide.md, "Importing policies from
 * Entra"). Named locations and strengths go first so policies can reference them, then the
 * methods policy, then Conditional Access policies. A policy with any finding (something
 * Gatehouse can't evaluate, an invalid reference, a WIF-3 lockout) is stored `disabled` and
 * reported with every finding; a malformed one is reported `invalid`; beyond CA-1's 195 it is
 * reported `notStored`. One transaction under `lockPolicies`; a dry run is the same transaction
 * rolled back, so its report is exactly what a real run would do.
 */
export type ImportOptions = {
  dryRun?: boolean;
  /** WIF-3: store enabled policies even when they would lock out every Global Administrator (audited as forced). */
  forceLockout?: boolean;
  now: Date;
};

class DryRunRollback extends Error {
  readonly report: ImportReport;
  constructor(report: ImportReport) {
    super('dry run: rolled back');
    this.report = report;
  }
}

const METHODS_WRITERS = ['Global Administrator', 'Authentication Policy Administrator'].map((n) => ROLE_TEMPLATES.find((r) => r.displayName === n)!.id);

/** Conditional Access writers may import; an import that changes the methods policy also needs its writers' permission (MTH-2). */
function authorizeImport(actor: Actor, methodsPolicy: boolean): void {
  authorizePolicyChange(actor, 'conditionalAccess');
  if (!methodsPolicy) return;
  if (actor.kind === 'app' && !permits(actor.permissions, 'policy.methods.write')) {
    throw new ForbiddenError('Insufficient privileges: this import includes an authentication methods policy, which also needs Policy.ReadWrite.AuthenticationMethod.');
  }
  if (actor.kind === 'user' && !actor.roles.some((r) => METHODS_WRITERS.includes(r))) {
    throw new ForbiddenError('Insufficient privileges: this import includes an authentication methods policy, which needs the Authentication Policy Administrator or Global Administrator role.');
  }
}

export async function importPolicies(db: Db, tenantId: string, actor: Actor, documents: ImportDocument[], options: ImportOptions): Promise<ImportReport> {
  const candidates = documents.flatMap((d) => candidatesOf(d));
  authorizeImport(actor, candidates.some((c) => c.kind === 'methodsPolicy'));
  try {
    return await db.transaction().execute(async (trx) => {
      await lockPolicies(trx, tenantId);
      const report = await run(trx, tenantId, actor, candidates, documents, options);
      if (options.dryRun) throw new DryRunRollback(report);
      return report;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.report;
    throw err;
  }
}

type Run = {
  db: Db; tenantId: string; actor: Actor; now: Date; correlationId: string; force: boolean;
  usedIds: Set<string>;
  map: { namedLocations: Map<string, string>; strengths: Map<string, string> };
  pending: { strengthIds: string[]; namedLocationIds: string[] };
};

async function run(db: Db, tenantId: string, actor: Actor, candidates: ImportCandidate[], documents: ImportDocument[], options: ImportOptions): Promise<ImportReport> {
  const r: Run = {
    db, tenantId, actor, now: options.now, correlationId: randomUUID(), force: options.forceLockout === true,
    usedIds: new Set(), map: { namedLocations: new Map(), strengths: new Map() }, pending: { strengthIds: [], namedLocationIds: [] },
  };
  const results = new Map<ImportCandidate, ImportReportItem>();
  const item = (c: ImportCandidate, rest: Omit<ImportReportItem, 'file' | 'kind' | 'displayName' | 'sourceId' | 'findings'> & { findings?: PolicyFinding[]; kind?: ImportReportItem['kind'] }) => {
    const message = [rest.message, ...c.notes].filter(Boolean).join('; ');
    results.set(c, {
      file: c.file, ...(c.index === undefined ? {} : { index: c.index }), kind: rest.kind ?? c.kind, displayName: c.displayName, sourceId: c.sourceId,
      ...(rest.id ? { id: rest.id } : {}), status: rest.status,
      ...(rest.exportedState ? { exportedState: rest.exportedState } : {}), ...(rest.storedState ? { storedState: rest.storedState } : {}),
      findings: rest.findings ?? [], ...(message ? { message } : {}),
    });
  };

  for (const c of candidates) {
    if (c.problem) item(c, { status: c.kind === 'file' ? 'invalid' : 'unrecognised', findings: [c.problem] });
    else if (c.skip) item(c, { status: 'skipped', message: c.skip });
    else {
      try {
        assertStorable(c.value); // the database can't hold NUL characters or lone surrogates
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        item(c, { status: 'invalid', findings: [findingOf(err)] });
      }
    }
  }
  const todo = (kind: ImportCandidate['kind']) => candidates.filter((c) => c.kind === kind && !results.has(c));
  /** Validation problems become the item's finding; they are all found before anything of the item is written. */
  const attempt = async (c: ImportCandidate, f: () => Promise<Outcome>) => {
    try {
      item(c, await f());
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      item(c, { status: 'invalid', findings: [findingOf(err)], ...(typeof c.value.state === 'string' && c.kind === 'caPolicy' ? { exportedState: c.value.state } : {}) });
    }
  };

  for (const c of todo('namedLocation')) await attempt(c, () => importNamedLocation(r, c));
  const strengthRoom = { left: MAX_CUSTOM_STRENGTHS - (await customStrengths(db, tenantId)).length };
  for (const c of todo('strength')) await attempt(c, () => importStrength(r, c, strengthRoom));
  for (const c of todo('methodsPolicy')) {
    const before = await loadPolicySnapshot(db, tenantId); // each document is guarded against what the previous ones applied
    await attempt(c, () => importMethodsPolicy(r, c, before));
  }
  const snapshot = await loadPolicySnapshot(db, tenantId);
  const policies = { room: MAX_CA_POLICIES - await countConditionalAccessPolicies(db, tenantId), current: [...snapshot.conditionalAccessPolicies] };
  for (const c of todo('caPolicy')) await attempt(c, () => importCaPolicy(r, c, snapshot, policies));

  const items = candidates.map((c) => results.get(c)!);
  const report: ImportReport = { dryRun: options.dryRun === true, summary: summarise(items, documents.length), items };
  const s = report.summary;
  await writeAudit(db, tenantId, {
    activityDisplayName: 'Import policies', category: 'Policy', operationType: 'Add', result: 'success', loggedByService: 'Conditional Access',
    correlationId: r.correlationId, initiatedBy: auditActor(actor),
    additionalDetails: {
      source: 'import', files: s.files, sourceFiles: documents.map((d) => d.name).join(', ').slice(0, 4000), unreadableFiles: s.unreadableFiles,
      policiesStored: s.policies.stored, policiesStoredDisabled: s.policies.storedDisabled, policiesInvalid: s.policies.invalid, policiesNotStored: s.policies.notStored,
      strengthsStored: s.strengths.stored, strengthsInvalid: s.strengths.invalid, strengthsNotStored: s.strengths.notStored,
      namedLocationsStored: s.namedLocations.stored, namedLocationsInvalid: s.namedLocations.invalid,
      methodsPolicyStored: s.methodsPolicy.stored + s.methodsPolicy.partiallyStored, skipped: s.skipped, unrecognised: s.unrecognised,
      forceLockout: r.force,
    },
  }, r.now);
  return report;
}

type Outcome = Omit<ImportReportItem, 'file' | 'kind' | 'displayName' | 'sourceId' | 'findings'> & { findings?: PolicyFinding[] };

const findingOf = (err: ValidationError): PolicyFinding => ({ field: err.target?.field ?? '(object)', rule: err.target?.rule ?? 'invalid', reason: err.message });

/** Keep the exported id when it is a GUID nobody uses yet (in the tenant or earlier in this import); otherwise a new one. */
async function chooseId(r: Run, sourceId: string | null, taken: (id: string) => Promise<boolean>, noun: string): Promise<{ id: string; note?: string }> {
  const exported = sourceId && isGuid(sourceId) ? sourceId.toLowerCase() : undefined;
  const earlier = exported !== undefined && r.usedIds.has(exported);
  if (exported && !earlier && !(await taken(exported))) {
    r.usedIds.add(exported);
    return { id: exported };
  }
  const id = randomUUID();
  r.usedIds.add(id);
  if (!exported) return { id };
  return { id, note: earlier
    ? `the exported id ${exported} is used by an earlier object in this import; this ${noun} was stored with a new id`
    : `the exported id ${exported} is already used in this tenant; this ${noun} was stored with a new id` };
}

function importAudit(r: Run, c: ImportCandidate, e: Pick<AuditEntry, 'activityDisplayName' | 'target' | 'modifiedProperties'> & { loggedByService?: string; operationType?: AuditEntry['operationType']; details?: AuditEntry['additionalDetails'] }) {
  return writeAudit(r.db, r.tenantId, {
    activityDisplayName: e.activityDisplayName, category: 'Policy', operationType: e.operationType ?? 'Add', result: 'success',
    loggedByService: e.loggedByService ?? 'Conditional Access', correlationId: r.correlationId, initiatedBy: auditActor(r.actor),
    target: e.target, modifiedProperties: e.modifiedProperties,
    additionalDetails: { source: 'import', sourceFile: c.file, sourceIndex: c.index, sourceId: c.sourceId, ...e.details },
  }, r.now);
}

async function importNamedLocation(r: Run, c: ImportCandidate): Promise<Outcome> {
  const at = r.now.toISOString();
  const document = { ...namedLocationDocument(c.value), createdDateTime: at, modifiedDateTime: at };
  const { id, note } = await chooseId(r, c.sourceId, async (x) => (await findNamedLocation(r.db, r.tenantId, x)) !== undefined, 'named location');
  const location = { ...document, id } as NamedLocation;
  await saveNamedLocation(r.db, r.tenantId, location);
  await importAudit(r, c, {
    activityDisplayName: 'Add named location', target: { id, displayName: location.displayName, type: 'Policy' },
    modifiedProperties: [{ displayName: 'NamedLocation', oldValue: null, newValue: location }],
  });
  if (c.sourceId && isGuid(c.sourceId) && !r.map.namedLocations.has(c.sourceId.toLowerCase())) r.map.namedLocations.set(c.sourceId.toLowerCase(), id);
  r.pending.namedLocationIds.push(id);
  const country = location['@odata.type'] === '#microsoft.graph.countryNamedLocation'
    ? 'a country location: stored, but policies using it are stored disabled, as Gatehouse has no IP geolocation (CA-4)' : undefined;
  return { status: 'stored', id, message: [note, country].filter(Boolean).join('; ') || undefined };
}

async function importStrength(r: Run, c: ImportCandidate, room: { left: number }): Promise<Outcome> {
  const p = customStrengthDocument(c.value, r.now);
  const clash = (await allStrengths(r.db, r.tenantId)).find((s) => s.displayName.trim().toLowerCase() === p.displayName.trim().toLowerCase());
  if (clash) {
    return { status: 'notStored', findings: [{ field: 'displayName', rule: 'STR-2', reason: `STR-2: an authentication strength named '${clash.displayName}' already exists (${clash.id}); strength names are unique in a tenant.` }] };
  }
  if (room.left <= 0) {
    return { status: 'notStored', findings: [{ field: '(strength)', rule: 'STR-2', reason: `STR-2: the tenant already has ${MAX_CUSTOM_STRENGTHS} custom authentication strengths, the most it can hold.` }] };
  }
  const builtIn = BUILT_IN_STRENGTHS.find((s) => s.id === c.sourceId?.toLowerCase());
  const { id, note } = builtIn
    ? { id: randomUUID(), note: `the exported id is the built-in '${builtIn.displayName}' strength's id; stored with a new id, and policies naming that id keep meaning the built-in` }
    : await chooseId(r, c.sourceId, async (x) => (await findStrength(r.db, r.tenantId, x)) !== undefined, 'strength');
  r.usedIds.add(id);
  const strength: AuthenticationStrength = { id, ...p };
  await saveStrength(r.db, r.tenantId, strength);
  room.left -= 1;
  await importAudit(r, c, {
    activityDisplayName: 'Add authentication strength policy', target: { id, displayName: strength.displayName, type: 'Policy' },
    modifiedProperties: [{ displayName: 'AuthenticationStrengthPolicy', oldValue: null, newValue: strength }],
  });
  if (!builtIn && c.sourceId && isGuid(c.sourceId) && !r.map.strengths.has(c.sourceId.toLowerCase())) r.map.strengths.set(c.sourceId.toLowerCase(), id);
  r.pending.strengthIds.push(id);
  return { status: 'stored', id, message: note };
}

/** Read-only or descriptive properties of an exported methods policy: nothing to import. */
const METHODS_POLICY_METADATA = new Set(['id', 'displayName', 'description', 'lastModifiedDateTime', 'policyVersion', 'authenticationMethodConfigurations']);

async function importMethodsPolicy(r: Run, c: ImportCandidate, snapshot: PolicySnapshot): Promise<Outcome> {
  const findings: PolicyFinding[] = [];
  for (const [k, v] of Object.entries(c.value)) {
    if (METHODS_POLICY_METADATA.has(k) || k.includes('@odata.') || k.startsWith('#') || v === null) continue;
    findings.push({ field: k, rule: 'MTH-2', reason: k === 'registrationEnforcement'
      ? 'not imported: the registration campaign (PLT-5) is Gatehouse\'s own; set it with PATCH /policies/authenticationMethodsPolicy.'
      : `not imported: '${k}' is not a setting of Gatehouse's authentication methods policy.` });
  }
  const list = c.value.authenticationMethodConfigurations;
  if (!Array.isArray(list)) {
    findings.unshift({ field: 'authenticationMethodConfigurations', rule: 'MTH-2', reason: 'an authentication methods policy lists its configurations in authenticationMethodConfigurations.' });
    return { status: 'invalid', findings };
  }
  let current: MethodsPolicy = snapshot.methodsPolicy;
  const accepted: MethodConfiguration[] = [];
  let lockouts = 0;
  for (const [i, raw] of list.entries()) {
    let config: MethodConfiguration;
    try {
      const type = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)['@odata.type'] : undefined;
      const clean = stripAnnotations(raw) as Record<string, unknown>;
      config = parseMethodConfiguration(type === undefined || clean === null || typeof clean !== 'object' ? clean : { '@odata.type': type, ...clean }, `authenticationMethodConfigurations.${i}.`);
    } catch (err) {
      if (err instanceof ValidationError) { findings.push(findingOf(err)); continue; }
      throw err;
    }
    const proposed: MethodsPolicy = { ...current, authenticationMethodConfigurations: [...current.authenticationMethodConfigurations.filter((x) => x.id !== config.id), config] };
    const verdict = await guardAgainstLockout(r.db, r.tenantId, { ...snapshot, methodsPolicy: proposed }, r.now);
    if (!verdict.ok && !r.force) {
      lockouts += 1;
      findings.push({ field: `authenticationMethodConfigurations.${i}`, rule: 'WIF-3', reason: `Not applied: ${verdict.reason}` });
      continue;
    }
    accepted.push(config);
    current = proposed;
  }
  if (accepted.length === 0) return { status: findings.length > 0 && lockouts === findings.length ? 'notStored' : 'invalid', findings };
  const { before, after } = await saveMethodsPolicy(r.db, r.tenantId, { configurations: accepted }, r.now);
  await importAudit(r, c, {
    activityDisplayName: 'Authentication Methods Policy Update', operationType: 'Update', loggedByService: 'Authentication Methods',
    target: { id: 'authenticationMethodsPolicy', displayName: 'Authentication Methods Policy', type: 'Policy' },
    modifiedProperties: accepted.map((x) => ({
      displayName: x.id,
      oldValue: before.authenticationMethodConfigurations.find((b) => b.id === x.id) ?? null,
      newValue: after.authenticationMethodConfigurations.find((a) => a.id === x.id) ?? null,
    })),
    details: { configurationsApplied: accepted.map((x) => x.id).join(', '), configurationsNotApplied: findings.filter((f) => f.field.startsWith('authenticationMethodConfigurations.')).length, forceLockout: r.force || undefined },
  });
  return {
    status: findings.length ? 'partiallyStored' : 'stored', id: 'authenticationMethodsPolicy', findings,
    message: `applied: ${accepted.map((x) => `${x.id} (${x.state})`).join(', ')}`,
  };
}

/** Graph's conditionalAccessPolicy properties (as the policies API lists them) and those the server sets. */
const POLICY_PROPERTIES = new Set(['id', 'displayName', 'state', 'createdDateTime', 'modifiedDateTime', 'templateId', 'deletedDateTime', 'partialEnablementStrategy', 'conditions', 'grantControls', 'sessionControls', 'description']);
const SERVER_SET = ['id', 'createdDateTime', 'modifiedDateTime', 'gatehouseFindings'];

async function importCaPolicy(r: Run, c: ImportCandidate, snapshot: PolicySnapshot, policies: { room: number; current: CaPolicy[] }): Promise<Outcome> {
  const exportedState = typeof c.value.state === 'string' ? c.value.state : undefined;
  const raw = stripAnnotations(c.value) as Record<string, unknown>;
  if (c.templateId) raw.templateId = c.templateId;
  const notes = [
    ...(c.templateId ? [`made from the conditionalAccessTemplate ${c.templateId}; a template has no state, so the policy is ${TEMPLATE_POLICY_STATE} unless findings disable it`] : []),
    ...normaliseEnumCase(raw), ...rewriteReferences(raw, r.map),
    ...(typeof raw.displayName === 'string' && /<[A-Za-z][^<>]*>/.test(raw.displayName) ? [`the displayName contains a template placeholder (${/<[A-Za-z][^<>]*>/.exec(raw.displayName)![0]}): this looks like a template that was not filled in`] : []),
  ];
  const message = notes.join('; ') || undefined;
  let parsed: ReturnType<typeof parsePolicy>;
  try {
    for (const k of SERVER_SET) delete raw[k];
    assertDisplayName(raw.displayName);
    parsed = parsePolicy(raw);
  } catch (err) {
    if (err instanceof ValidationError) return { status: 'invalid', exportedState, findings: [findingOf(err)], message };
    throw err;
  }
  // Stored as the policies API stores a document: properties Gatehouse doesn't know are kept (so
  // their CA-4 finding stays true until an admin removes them), the strength reference is its id.
  const extras = Object.fromEntries(Object.entries(raw).filter(([k]) => !POLICY_PROPERTIES.has(k)));
  const g = parsed.policy.grantControls;
  const grantControls: CaGrantControls | null = g ? { ...g, authenticationStrength: g.authenticationStrength ? { id: g.authenticationStrength.id.toLowerCase() } : null } : null;
  const findings = [...parsed.findings, ...await referenceFindings(r.db, r.tenantId, parsed.policy, r.pending)];
  if (policies.room <= 0) {
    return {
      status: 'notStored', exportedState, message,
      findings: [{ field: '(policy)', rule: 'CA-1', reason: `CA-1: the tenant already holds ${MAX_CA_POLICIES} Conditional Access policies, the most it can hold; this one was not stored.` }, ...findings],
    };
  }
  let state = findings.length ? 'disabled' : parsed.policy.state;
  const { id, note } = await chooseId(r, c.sourceId && !c.templateId ? c.sourceId : null, async (x) => (await findConditionalAccessPolicy(r.db, r.tenantId, x)) !== undefined, 'policy');
  const at = r.now.toISOString();
  const policy = (s: CaPolicy['state']): CaPolicy => ({
    id, displayName: parsed.policy.displayName, state: s, createdDateTime: at, modifiedDateTime: at, templateId: parsed.policy.templateId ?? null,
    conditions: parsed.policy.conditions, grantControls, sessionControls: parsed.policy.sessionControls, ...extras,
  });
  let forced: string | undefined;
  if (state !== 'disabled') {
    // WIF-3: policies are switched on one at a time, each checked against everything stored before it.
    const verdict = await guardAgainstLockout(r.db, r.tenantId, { ...snapshot, conditionalAccessPolicies: [...policies.current, policy(state)] }, r.now);
    if (!verdict.ok) {
      if (r.force) forced = verdict.reason;
      else {
        findings.push({ field: 'state', rule: 'WIF-3', reason: `Stored disabled instead of ${state}: ${verdict.reason}` });
        state = 'disabled';
      }
    }
  }
  const stored = policy(state);
  await saveConditionalAccessPolicy(r.db, r.tenantId, stored);
  policies.room -= 1;
  policies.current.push(stored);
  await importAudit(r, c, {
    activityDisplayName: 'Add conditional access policy', target: { id, displayName: stored.displayName, type: 'Policy' },
    modifiedProperties: [{ displayName: 'ConditionalAccessPolicy', oldValue: null, newValue: stored }],
    details: {
      exportedState: exportedState ?? null, storedState: state, findings: findings.length,
      findingFields: findings.map((f) => `${f.field} (${f.rule})`).join(', ').slice(0, 2000) || undefined,
      ...(forced ? { forceLockout: true, lockoutReason: forced } : {}),
    },
  });
  return {
    status: findings.length ? 'storedDisabled' : 'stored', id, exportedState, storedState: state, findings,
    message: [message, note, forced ? `WIF-3 overridden with forceLockout: ${forced}` : undefined].filter(Boolean).join('; ') || undefined,
  };
}

const SKIPPED_NAMES = /^(licen[cs]e|readme|provenance)/i;

/**
 * The CLI's input: files as given; folders walked recursively for *.json, skipping licence,
 * README and provenance files and `index.json` manifests. Names are the paths as the operator
 * gave them (folder + path inside it), with forward slashes.
 */
export async function readImportPaths(paths: readonly string[]): Promise<ImportDocument[]> {
  const out: ImportDocument[] = [];
  const walk = async (root: string, dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(root, full);
      else if (e.isFile() && e.name.toLowerCase().endsWith('.json') && e.name.toLowerCase() !== 'index.json' && !SKIPPED_NAMES.test(e.name)) {
        out.push({ name: join(root, relative(root, full)).split(sep).join('/'), content: await readFile(full) });
      }
    }
  };
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch {
      throw new ValidationError('paths', 'exists', `No file or folder '${p}'.`);
    }
    if (s.isDirectory()) await walk(p, p);
    else out.push({ name: p.split(sep).join('/') || basename(p), content: await readFile(p) });
  }
  if (out.length === 0) throw new ValidationError('paths', 'json', `No .json files under ${paths.join(', ')}.`);
  return out;
}
