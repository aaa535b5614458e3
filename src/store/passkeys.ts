import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db } from './database.ts';
import type { Fido2MethodTable } from './schema.ts';

export type StoredFido2Method = {
  id: string; userId: string; credentialId: string; publicKey: Uint8Array; signCount: number; displayName: string; aaguid: string;
  model: string | null; passkeyType: 'deviceBound' | 'synced'; backedUp: boolean; transports: string[]; attestationFormat: string;
  attestationVerified: boolean; createdDateTime: Date; lastUsedDateTime: Date | null; possiblyClonedDateTime: Date | null;
  /** RCV-2: the recovery case that suspended it (unusable until restored or deleted); absent or null when not suspended. */
  suspendedByCaseId?: string | null;
};

export const toMethod = (r: Selectable<Fido2MethodTable>): StoredFido2Method => ({
  id: r.id, userId: r.user_id, credentialId: r.credential_id, publicKey: Buffer.from(r.public_key, 'base64url'), signCount: Number(r.sign_count),
  displayName: r.display_name, aaguid: r.aaguid, model: r.model, passkeyType: r.passkey_type, backedUp: r.backed_up, transports: r.transports,
  attestationFormat: r.attestation_format, attestationVerified: r.attestation_verified, createdDateTime: r.created_at,
  lastUsedDateTime: r.last_used_at, possiblyClonedDateTime: r.possibly_cloned_at,
});

export async function passkeysOf(db: Db, tenantId: string, userId: string): Promise<StoredFido2Method[]> {
  const rows = await db.selectFrom('fido2_methods').selectAll('fido2_methods')
    .select((eb) => eb.selectFrom('method_suspensions').select('method_suspensions.case_id').whereRef('method_suspensions.method_id', '=', 'fido2_methods.id').as('suspended_by_case_id'))
    .where('fido2_methods.tenant_id', '=', tenantId).where('fido2_methods.user_id', '=', userId).orderBy('fido2_methods.created_at').execute();
  return rows.map(({ suspended_by_case_id: caseId, ...r }) => ({ ...toMethod(r), suspendedByCaseId: caseId ?? null }));
}

export async function passkeyByCredentialId(db: Db, tenantId: string, credentialId: string): Promise<StoredFido2Method | undefined> {
  const r = await db.selectFrom('fido2_methods').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).executeTakeFirst();
  return r ? toMethod(r) : undefined;
}

/** PK-5: serialise registrations per user so the limit of 10 holds under concurrency. Inside a transaction. */
export async function lockUserPasskeys(db: Db, userId: string): Promise<void> {
  await db.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}

export async function insertPasskey(db: Db, tenantId: string, m: Omit<StoredFido2Method, 'id' | 'lastUsedDateTime' | 'possiblyClonedDateTime'>): Promise<StoredFido2Method> {
  const r = await db.insertInto('fido2_methods').values({
    id: randomUUID(), tenant_id: tenantId, user_id: m.userId, credential_id: m.credentialId, public_key: Buffer.from(m.publicKey).toString('base64url'),
    sign_count: m.signCount, display_name: m.displayName, aaguid: m.aaguid, model: m.model, passkey_type: m.passkeyType, backed_up: m.backedUp,
    transports: JSON.stringify(m.transports), attestation_format: m.attestationFormat, attestation_verified: m.attestationVerified, created_at: m.createdDateTime,
  }).returningAll().executeTakeFirstOrThrow();
  return toMethod(r);
}

export async function deletePasskey(db: Db, tenantId: string, userId: string, id: string): Promise<StoredFido2Method | undefined> {
  const r = await db.deleteFrom('fido2_methods').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('id', '=', id).returningAll().executeTakeFirst();
  return r ? toMethod(r) : undefined;
}

/** After a good assertion: the new counter (never lower) and when it was used. */
export async function recordPasskeyUse(db: Db, id: string, signCount: number, backedUp: boolean, now: Date): Promise<void> {
  await recordPasskeyUseQuery(db, id, signCount, backedUp, now).execute();
}

/** `recordPasskeyUse` as a statement not yet run, e.g. for `writeSignInWith`. */
export function recordPasskeyUseQuery(db: Db, id: string, signCount: number, backedUp: boolean, now: Date) {
  return db.updateTable('fido2_methods').set({ sign_count: signCount, backed_up: backedUp, last_used_at: now }).where('id', '=', id);
}

/** PK-4: a counter went backwards; the credential may have been cloned. */
export async function flagPossiblyCloned(db: Db, id: string, now: Date): Promise<void> {
  await db.updateTable('fido2_methods').set({ possibly_cloned_at: now }).where('id', '=', id).where('possibly_cloned_at', 'is', null).execute();
}

/** PK-5: the user renames one of their passkeys; returns it as it was before, or undefined. */
export async function renamePasskey(db: Db, tenantId: string, userId: string, id: string, displayName: string): Promise<StoredFido2Method | undefined> {
  const before = await db.selectFrom('fido2_methods').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!before) return undefined;
  await db.updateTable('fido2_methods').set({ display_name: displayName }).where('id', '=', id).execute();
  return toMethod(before);
}
