import { randomBytes } from 'node:crypto';
import type { TapConfiguration } from '../../domain/methodsPolicy.ts';
import { getMethodsPolicy } from '../../store/methodsPolicy.ts';
import { loadTarget } from '../methods/context.ts';
import { issueWithin, tapHashKey } from '../methods/temporaryAccessPass.ts';
import { FIRST_PARTY_APPS, GLOBAL_ADMINISTRATOR, GRAPH_PERMISSIONS } from '../../domain/directory.ts';
import { userPrincipalName } from '../../domain/graph.ts';
import { parseInput, text } from '../../domain/validation.ts';
import { z } from 'zod';
import { newSigningKey, MAX_TOKEN_LIFETIME_SECONDS } from '../../oidc/keys.ts';
import { graphResource, issuerFor } from '../../oidc/provider.ts';
import { addPassword, createApplication, grantPermissions } from '../../store/applications.ts';
import type { Db } from '../../store/database.ts';
import { assignRoleWithin } from '../directory/roles.ts';
import { rotateIn } from '../../store/signingKeys.ts';
import { createTenant, listTenants, lockBootstrap } from '../../store/tenants.ts';
import { createUser } from '../../store/users.ts';

export const initInput = z.strictObject({
  tenant: text(256),
  admin: userPrincipalName,
  adminDisplayName: text(256).optional(),
});

export type InitResult = {
  tenantId: string;
  tenantName: string;
  issuer: string;
  graphBaseUrl: string;
  graphAudience: string;
  tokenEndpoint: string;
  admin: {
    id: string; userPrincipalName: string; roles: string[];
    temporaryAccessPass: { code: string; id: string; isUsableOnce: boolean; startDateTime: string; lifetimeInMinutes: number };
  };
  automation: { appId: string; objectId: string; clientId: string; clientSecret: string; permissions: string[] };
  firstPartyApps: { key: string; appId: string; displayName: string }[];
  signInFlowUrl: string;
};

/**
 * `gatehouse init` and first start: a tenant with its signing key, the three first-party apps
 * (DIR-5), a Global Administrator and an automation app holding every Graph permission (DIR-6).
 * One transaction: on any failure nothing is left behind.
 */
export type InitOptions = { tenant: string; admin: string; adminDisplayName?: string | undefined };

export async function initTenant(db: Db, raw: InitOptions, publicBaseUrl: string, now: Date): Promise<InitResult> {
  const input = parseInput(initInput, raw, 'init options');
  const key = await newSigningKey();
  return db.transaction().execute((trx) => createTenantWithAdmin(trx, input, key, publicBaseUrl, now));
}

/**
 * First start on an empty database: set up a default tenant, once, even when several servers
 * start together on one PostgreSQL. Returns undefined when a tenant already exists.
 */
export async function bootstrapIfEmpty(db: Db, raw: InitOptions, publicBaseUrl: string, now: Date): Promise<InitResult | undefined> {
  const input = parseInput(initInput, raw, 'bootstrap options');
  const key = await newSigningKey();
  return db.transaction().execute(async (trx) => {
    await lockBootstrap(trx);
    if ((await listTenants(trx)).length > 0) return undefined;
    return createTenantWithAdmin(trx, input, key, publicBaseUrl, now);
  });
}

async function createTenantWithAdmin(
  trx: Db, input: z.output<typeof initInput>, key: Awaited<ReturnType<typeof newSigningKey>>, publicBaseUrl: string, now: Date,
): Promise<InitResult> {
  const tenant = await createTenant(trx, input.tenant);
  await rotateIn(trx, tenant.id, key, now, MAX_TOKEN_LIFETIME_SECONDS);
  const firstParty = [];
  for (const fp of FIRST_PARTY_APPS) {
    const app = await createApplication(trx, tenant.id, { appId: fp.appId, displayName: fp.displayName }, 'firstParty');
    firstParty.push({ key: fp.key, appId: app.appId, displayName: app.displayName });
  }
  const admin = await createUser(trx, tenant.id, {
    userPrincipalName: input.admin,
    displayName: input.adminDisplayName ?? input.admin.split('@')[0]!,
    accountEnabled: true,
    userType: 'Member',
  });
  await assignRoleWithin(trx, tenant.id, { kind: 'operator', name: 'gatehouse init' }, { roleDefinitionId: GLOBAL_ADMINISTRATOR, principalId: admin.id, directoryScopeId: '/' }, now);
  // The first admin's one-time TAP: the very first sign-in is the bootstrap path (TAP, then a passkey).
  const tapConfig = (await getMethodsPolicy(trx, tenant.id)).authenticationMethodConfigurations.find((c) => c.id === 'TemporaryAccessPass') as TapConfiguration;
  const target = await loadTarget(trx, tenant.id, admin.id);
  const tap = await issueWithin(
    { db: trx, tenantId: tenant.id, actor: { kind: 'operator', name: 'gatehouse init' }, now },
    target, { isUsableOnce: true, lifetimeInMinutes: tapConfig.maximumLifetimeInMinutes }, await tapHashKey(trx), randomBytes,
  );
  const automation = await createApplication(trx, tenant.id, { displayName: 'Gatehouse automation' }, 'automation');
  await grantPermissions(trx, tenant.id, automation.id, GRAPH_PERMISSIONS);
  const secret = await addPassword(trx, tenant.id, automation.id, { displayName: 'created by gatehouse init' }, now);
  const issuer = issuerFor(publicBaseUrl, tenant.id);
  return {
    tenantId: tenant.id,
    tenantName: tenant.displayName,
    issuer,
    graphBaseUrl: `${publicBaseUrl}/graph/v1.0`,
    graphAudience: graphResource(publicBaseUrl),
    tokenEndpoint: `${issuer}/token`,
    admin: {
      id: admin.id, userPrincipalName: admin.userPrincipalName, roles: ['Global Administrator'],
      temporaryAccessPass: { code: tap.temporaryAccessPass!, id: tap.id, isUsableOnce: tap.isUsableOnce, startDateTime: tap.startDateTime, lifetimeInMinutes: tap.lifetimeInMinutes },
    },
    automation: {
      appId: automation.appId, objectId: automation.id, clientId: automation.appId, clientSecret: secret.secretText!, permissions: [...GRAPH_PERMISSIONS],
    },
    firstPartyApps: firstParty,
    signInFlowUrl: `${publicBaseUrl}/api/flows/${tenant.id}/sign-in`,
  };
}
