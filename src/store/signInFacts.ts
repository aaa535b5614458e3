import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { User } from '../domain/resources.ts';
import { isCleanText, isGuid } from '../domain/validation.ts';
import type { Db } from './database.ts';
import { toMethod, type StoredFido2Method } from './passkeys.ts';
import { flowOf, type SignInFlow } from './signInFlows.ts';
import type { Fido2MethodTable, TemporaryAccessPassTable, UserTable } from './schema.ts';
import { toPass, type StoredPass } from './temporaryAccessPasses.ts';
import { toUser } from './users.ts';

/**
 * What a sign-in decision needs to know about a user (SIG-1), in one statement instead of one
 * per table (the function `gatehouse_sign_in_facts`, migration 4): the user, their transitive groups, role template ids, passkeys, Temporary Access
 * Pass, whether they have a password, their authenticator apps, and the tenant's policy version
 * (so the cached policy snapshot can be checked in the same round trip). Each part reads exactly
 * what the single-table helpers read (users.findUser, groups.transitiveGroupIdsOf, roles.rolesOf,
 * passkeys.passkeysOf, temporaryAccessPasses.passOf, passwordsAndOath.passwordOf/oathMethodsOf).
 */
export type SignInFacts = {
  policyVersion: string;
  user: User;
  groupIds: string[];
  roleTemplateIds: string[];
  passkeys: StoredFido2Method[];
  pass: StoredPass | undefined;
  hasPassword: boolean;
  oathIds: string[];
  /** RCV-2: the user's methods suspended by a recovery case, with the case (migration 9). */
  suspensions: { methodId: string; caseId: string }[];
};

type JsonRow<T> = { [K in keyof T]: T[K] extends Date | null ? string | null : T[K] extends Date ? string : T[K] };
const date = (v: string | null | Date): Date | null => (v === null ? null : new Date(v));

/** `userRef`: an object id or a userPrincipalName, as `findUser` takes it. `policyVersion` is '0' before any policy write. */
export async function loadSignInFacts(db: Db, tenantId: string, userRef: string): Promise<{ policyVersion: string; facts: SignInFacts | undefined }> {
  const valid = isCleanText(userRef) && userRef.length <= 256;
  const byId = valid && isGuid(userRef);
  // An invalid reference finds no one (as findUser), but the policy version is still read.
  const f = await factsQuery(db, tenantId, byId ? userRef.toLowerCase() : null, valid && !byId ? userRef.toLowerCase() : '', null);
  return { policyVersion: versionOf(f), facts: factsOf(f) };
}

/**
 * The passkey step's reads and its challenge, in one statement: the live flow, row-locked as
 * `lockFlow` locks it; the challenge consumed as `consumeChallenge` consumes it (only for that
 * flow, and only once the flow is locked: the update's condition reads the locked row, so two
 * steps on one flow still queue on the flow first); and the passkey with its owner's facts as
 * passkeys.passkeyByCredentialId and `loadSignInFacts` read them. `flow` undefined: no live flow, nothing consumed.
 * `consumed` undefined: the challenge (null when the client data had none) was not consumed.
 */
export async function openPasskeyStep(db: Db, tenantId: string, flowId: string, now: Date, challenge: string | null, credentialId: string): Promise<{
  flow: SignInFlow | undefined; consumed: { userId: string | null } | undefined; policyVersion: string; passkey: StoredFido2Method | undefined; facts: SignInFacts | undefined;
}> {
  const none = { flow: undefined, consumed: undefined, policyVersion: '0', passkey: undefined, facts: undefined };
  if (!/^[0-9a-f-]{36}$/i.test(flowId)) return none;
  const r = await sql<{ id: string; tenant_id: string; user_id: string | null; state: unknown; expires_at: Date; consumed: { userId: string | null } | null; facts: FactsJson }>`
    WITH f AS (
      SELECT * FROM sign_in_flows WHERE tenant_id = ${tenantId} AND id = ${flowId.toLowerCase()}::uuid AND expires_at > ${now}::timestamptz FOR UPDATE
    ), c AS (
      UPDATE webauthn_challenges SET consumed_at = ${now}::timestamptz
      WHERE tenant_id = ${tenantId} AND challenge = ${challenge}::text AND flow_id = (SELECT f.id::text FROM f) AND purpose = 'authentication'
        AND consumed_at IS NULL AND expires_at > ${now}::timestamptz
      RETURNING user_id
    )
    SELECT f.id, f.tenant_id, f.user_id, f.state, f.expires_at,
      (SELECT json_build_object('userId', c.user_id) FROM c) AS consumed,
      gatehouse_sign_in_facts(${tenantId}::uuid, NULL, NULL, ${credentialId}::text) AS facts
    FROM f`.execute(db);
  const row = r.rows[0];
  if (!row) return none;
  const f = row.facts;
  return {
    flow: flowOf(row), consumed: row.consumed ?? undefined,
    policyVersion: versionOf(f), passkey: f.credential ? suspendedBy(f, passkeyOf(f.credential)) : undefined, facts: f.credential ? factsOf(f) : undefined,
  };
}

async function factsQuery(db: Db, tenantId: string, id: string | null, upn: string | null, credentialId: string | null): Promise<FactsJson> {
  const r = await sql<{ facts: FactsJson }>`SELECT gatehouse_sign_in_facts(${tenantId}::uuid, ${id}::uuid, ${upn}::text, ${credentialId}::text) AS facts`.execute(db);
  return r.rows[0]!.facts;
}

const versionOf = (f: FactsJson): string => String(f.policyVersion ?? '0');
const passkeyOf = (m: JsonRow<Selectable<Fido2MethodTable>>): StoredFido2Method => toMethod({
  ...m, created_at: date(m.created_at)!, last_used_at: date(m.last_used_at), possibly_cloned_at: date(m.possibly_cloned_at),
});

/** RCV-2: the passkey with the case that suspended it, if any. */
function suspendedBy(f: FactsJson, m: StoredFido2Method): StoredFido2Method {
  return { ...m, suspendedByCaseId: f.suspensions?.find((s) => s.methodId === m.id)?.caseId ?? null };
}

function factsOf(f: FactsJson): SignInFacts | undefined {
  if (!f.user) return undefined;
  const u = f.user;
  const policyVersion = versionOf(f);
  return {
    policyVersion,
    user: toUser({ ...u, sign_in_sessions_valid_from: date(u.sign_in_sessions_valid_from)!, created_at: date(u.created_at)! }),
    groupIds: f.groupIds ?? [],
    roleTemplateIds: f.roleIds ?? [],
    passkeys: (f.passkeys ?? []).map((m) => suspendedBy(f, passkeyOf(m))),
    pass: f.pass ? toPass({ ...f.pass, created_at: date(f.pass.created_at)!, start_at: date(f.pass.start_at)!, used_at: date(f.pass.used_at) }) : undefined,
    hasPassword: f.hasPassword === true,
    oathIds: f.oathIds ?? [],
    suspensions: f.suspensions ?? [],
  };
}

/** What `gatehouse_sign_in_facts` (migration 4) returns: rows as JSON, so timestamps are strings. */
type FactsJson = {
  policyVersion: string | number | null;
  credential: JsonRow<Selectable<Fido2MethodTable>> | null;
  user: JsonRow<Selectable<UserTable>> | null;
  groupIds: string[] | null;
  roleIds: string[] | null;
  passkeys: JsonRow<Selectable<Fido2MethodTable>>[] | null;
  pass: JsonRow<Selectable<TemporaryAccessPassTable>> | null;
  hasPassword: boolean | null;
  oathIds: string[] | null;
  suspensions?: { methodId: string; caseId: string }[] | null;
};

/** An application's display name for a sign-in record (LOG-1), or undefined when the tenant has no such app. */
export async function applicationForLog(db: Db, tenantId: string, appId: string): Promise<{ appId: string; displayName: string } | undefined> {
  if (!isGuid(appId)) return undefined;
  const r = await db.selectFrom('applications').select(['app_id', 'display_name']).where('tenant_id', '=', tenantId).where('app_id', '=', appId.toLowerCase()).executeTakeFirst();
  return r ? { appId: r.app_id, displayName: r.display_name } : undefined;
}
