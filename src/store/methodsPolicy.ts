import { sql } from 'kysely';
import { effectivePolicy, type MethodConfiguration, type MethodsPolicy } from '../domain/methodsPolicy.ts';
import type { Db } from './database.ts';
import { bumpPolicyVersion } from './policies.ts';

export async function getMethodsPolicy(db: Db, tenantId: string): Promise<MethodsPolicy> {
  const r = await db.selectFrom('authentication_methods_policies').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  // Never changed: the defaults have been in force since the tenant was created.
  const since = r?.last_modified ?? (await db.selectFrom('tenants').select('created_at').where('id', '=', tenantId).executeTakeFirst())?.created_at;
  return effectivePolicy(r?.document as { configurations?: unknown[] } | undefined, since);
}

/** Replace configurations (already validated) and/or the registration campaign; serialised per tenant. */
export async function saveMethodsPolicy(
  db: Db, tenantId: string, change: { configurations?: MethodConfiguration[]; registrationEnforcement?: unknown }, now: Date,
): Promise<{ before: MethodsPolicy; after: MethodsPolicy }> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${'gatehouse:methods-policy:' + tenantId}))`.execute(db);
  const before = await getMethodsPolicy(db, tenantId);
  const configs = new Map(before.authenticationMethodConfigurations.map((c) => [c.id, c]));
  for (const c of change.configurations ?? []) configs.set(c.id, c);
  const document = {
    configurations: [...configs.values()],
    registrationEnforcement: change.registrationEnforcement ?? before.registrationEnforcement,
  };
  await db.insertInto('authentication_methods_policies').values({ tenant_id: tenantId, document: JSON.stringify(document), last_modified: now })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ document: JSON.stringify(document), last_modified: now })).execute();
  await bumpPolicyVersion(db, tenantId);
  return { before, after: await getMethodsPolicy(db, tenantId) };
}
