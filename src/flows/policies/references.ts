import { isGuid } from '../../domain/validation.ts';
import { referencesOf, type CaPolicy, type PolicyFinding } from '../../domain/conditionalAccess.ts';
import type { Db } from '../../store/database.ts';
import { allStrengths, existingDirectoryIds, namedLocations } from '../../store/policies.ts';

/** Objects being written in the same operation (an import), counted as existing. */
export type PendingObjects = { strengthIds?: readonly string[]; namedLocationIds?: readonly string[] };

/**
 * CA-1/CA-4: every directory object a policy names must exist in the tenant: users, groups,
 * applications (by appId), named locations and strengths. Roles are Entra's global role template
 * ids, so any GUID is accepted (a role nobody holds simply matches nobody). Country named
 * locations need geolocation, which Gatehouse doesn't have (CA-4). Placeholders from policy
 * templates (`<AdministratorGroup>`) and display names are reported as invalid references.
 */
export async function referenceFindings(db: Db, tenantId: string, policy: Pick<CaPolicy, 'conditions' | 'grantControls'>, pending: PendingObjects = {}): Promise<PolicyFinding[]> {
  const refs = referencesOf(policy);
  const findings: PolicyFinding[] = [];
  const byKind = (k: string) => refs.filter((r) => r.kind === k && isGuid(r.value)).map((r) => r.value.toLowerCase());
  const users = byKind('user');
  const groups = byKind('group');
  const apps = byKind('application');
  const known = await existingDirectoryIds(db, tenantId, { users, groups, appIds: apps });
  const locations = new Map((await namedLocations(db, tenantId)).map((l) => [l.id.toLowerCase(), l]));
  const strengths = new Set((await allStrengths(db, tenantId)).map((s) => s.id.toLowerCase()));
  for (const id of pending.namedLocationIds ?? []) if (!locations.has(id.toLowerCase())) known.add(`namedLocation:${id.toLowerCase()}`);
  for (const id of pending.strengthIds ?? []) strengths.add(id.toLowerCase());

  for (const r of refs) {
    const noun = { user: 'user', group: 'group', role: 'directory role template', application: 'application (appId)', namedLocation: 'named location', authenticationStrength: 'authentication strength' }[r.kind];
    if (!isGuid(r.value)) {
      const placeholder = /^<.*>$/.test(r.value.trim());
      findings.push({ field: r.field, rule: 'CA-4', reason: placeholder
        ? `invalid reference: '${r.value.slice(0, 80)}' is a template placeholder, not ${/^[aeio]/.test(noun) ? 'an' : 'a'} ${noun} id.`
        : `invalid reference: '${r.value.slice(0, 80)}' is not ${/^[aeio]/.test(noun) ? 'an' : 'a'} ${noun} id (a GUID${r.kind === 'application' ? ", 'All', 'None' or 'MicrosoftAdminPortals'" : r.kind === 'user' ? ", 'All', 'None' or 'GuestsOrExternalUsers'" : r.kind === 'namedLocation' ? ", 'All' or 'AllTrusted'" : ''}).` });
      continue;
    }
    const id = r.value.toLowerCase();
    if (r.kind === 'role') continue;
    if (r.kind === 'namedLocation') {
      const l = locations.get(id);
      if (!l && !known.has(`namedLocation:${id}`)) findings.push({ field: r.field, rule: 'CA-4', reason: `invalid reference: no named location ${id} in this tenant.` });
      else if (l && l['@odata.type'] === '#microsoft.graph.countryNamedLocation') findings.push({ field: r.field, rule: 'CA-4', reason: `CA-4: named location '${l.displayName}' is a country location; Gatehouse has no IP geolocation to evaluate it.` });
      continue;
    }
    if (r.kind === 'authenticationStrength') {
      if (!strengths.has(id)) findings.push({ field: r.field, rule: 'CA-3', reason: `invalid reference: no authentication strength ${id} in this tenant.` });
      continue;
    }
    if (!known.has(`${r.kind}:${id}`)) findings.push({ field: r.field, rule: 'CA-4', reason: `invalid reference: no ${noun} ${id} in this tenant.` });
  }
  return findings;
}
