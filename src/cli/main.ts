#!/usr/bin/env node
import { Command, Option } from 'commander';
import { jsonOption, operator, print, resolveTenant, withDatabase, type Out } from './common.ts';
import { registerRecoveryCommands } from './recovery.ts';
import { runRecoveryJobs } from '../flows/recovery/jobs.ts';
import { whatIf } from '../flows/policies/whatIf.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { GatehouseError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { deleteSoftwareOathMethod, listMethods } from '../flows/methods/methods.ts';
import { enrolSoftwareOath } from '../flows/methods/passwordAndTotp.ts';
import { adminDeletePasskey } from '../flows/methods/passkeys.ts';
import { deleteTemporaryAccessPass, issueTemporaryAccessPass, listTemporaryAccessPasses } from '../flows/methods/temporaryAccessPass.ts';
import { GRAPH_PERMISSIONS, isGraphPermission, ROLE_TEMPLATES } from '../domain/directory.ts';
import { groupCreate, userCreate } from '../domain/graph.ts';
import { parseCollectionQuery } from '../domain/odata.ts';
import { parseInput } from '../domain/validation.ts';
import { bootstrapIfEmpty, initTenant, type InitResult } from '../flows/init/flow.ts';
import { importPolicies, readImportPaths } from '../flows/policies/import.ts';
import { getConditionalAccessPolicy, listConditionalAccessPolicies } from '../flows/policies/conditionalAccess.ts';
import { patchPlatformRulesPolicy, readPlatformRulesPolicy } from '../flows/policies/platformSettings.ts';
import { listStrengths } from '../flows/policies/strengths.ts';
import { formatImportReport } from '../domain/policyImport.ts';
import { buildServer } from '../http/server.ts';
import { rotateSigningKey } from '../oidc/keys.ts';
import { addPassword, createApplication, grantPermissions } from '../store/applications.ts';
import { migrate, openDatabase, schemaVersion } from '../store/database.ts';
import { addMember, createGroup, listGroups } from '../store/groups.ts';
import { listRoleAssignments } from '../store/roles.ts';
import { assignRole } from '../flows/directory/roles.ts';
import { listTenants } from '../store/tenants.ts';
import { purgeExpired } from '../store/housekeeping.ts';
import { registerLogsCommands } from './logs.ts';
import { registerReplayCommands } from './replay.ts';
import { runLogRetention } from '../flows/logs/retention.ts';
import { createUser, deleteUser, getUser, listUsers } from '../store/users.ts';

/**
 * The `gatehouse` command. Thin: parse options, open the database, call a flow or a repository,
 * print text or (with --json) one JSON document.
 */
function banner(r: InitResult): string {
  return [
    `Tenant "${r.tenantName}" (${r.tenantId})`,
    `  issuer:            ${r.issuer}`,
    `  first admin:       ${r.admin.userPrincipalName} (Global Administrator)`,
    `  admin's TAP:       ${r.admin.temporaryAccessPass.code}   (one-time, valid ${r.admin.temporaryAccessPass.lifetimeInMinutes} min from ${r.admin.temporaryAccessPass.startDateTime}; shown once)`,
    `  security info:     ${r.graphBaseUrl.replace(/\/graph\/v1\.0$/, '')}/${r.tenantId}/my-sign-ins   (first: sign in with the TAP, add a passkey)`,
    `  admin console:     ${r.graphBaseUrl.replace(/\/graph\/v1\.0$/, '')}/${r.tenantId}/admin   (then: sign in with the passkey)`,
    `  sign-in flow API:  POST ${r.signInFlowUrl}  (docs/flows.md)`,
    `  automation client: ${r.automation.clientId}`,
    `  client secret:     ${r.automation.clientSecret}   (shown once; stored hashed)`,
    `  token endpoint:    ${r.tokenEndpoint}  (client_credentials, client_secret_post)`,
    `  Graph API:         ${r.graphBaseUrl}`,
  ].join('\n');
}

const program = new Command('gatehouse')
  .description('Gatehouse: a passkey-first OpenID Connect identity provider')
  .showHelpAfterError()
  .exitOverride();


program.command('serve').description('run the server (PORT, HOST, DATABASE_URL, GATEHOUSE_DATA_DIR, GATEHOUSE_PUBLIC_URL)')
  .action(async () => {
    const config = loadConfig();
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, purpose: 'gatehouse serve', poolMax: config.poolMax });
    await migrate(database.db);
    const boot = await bootstrapIfEmpty(database.db, {
      tenant: process.env.GATEHOUSE_TENANT || 'Default',
      admin: process.env.GATEHOUSE_ADMIN || 'admin@gatehouse.localhost',
    }, config.publicBaseUrl, new Date());
    if (boot) {
      process.stdout.write(`\nFirst start: set up a default tenant.\n${banner(boot)}\n\n`);
    }
    const { app } = await buildServer({ database, config });
    // Expired artefacts, challenges and flows go every 10 minutes (and once at start).
    const sweep = () => purgeExpired(database.db, new Date()).catch((err: unknown) => app.log.warn({ err }, 'housekeeping failed'))
      .then(() => runLogRetention(database.db, new Date(), app.log)); // LOG-4 retention (docs/logs-integrity.md)
    void sweep();
    const housekeeping = setInterval(sweep, 10 * 60_000);
    housekeeping.unref();
    // RCV-3 clean-up and webhook notifications every 30 s (safe with several servers: docs/recovery.md).
    const recoveryJobs = setInterval(() => void runRecoveryJobs(database.db, new Date()).catch((err: unknown) => app.log.warn({ err }, 'recovery jobs failed')), 30_000);
    recoveryJobs.unref();
    let closing = false;
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      const force = setTimeout(() => {
        app.log.error('in-flight requests did not finish within 30 s; exiting');
        process.exit(1);
      }, 30_000);
      force.unref();
      clearInterval(housekeeping);
      clearInterval(recoveryJobs);
      await app.close();
      await database.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
    await app.listen({ port: config.port, host: config.host });
    process.stdout.write(`Gatehouse listening on ${config.publicBaseUrl} (${database.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'})\n`);
  });

program.command('init').description('create a tenant, its first Global Administrator and an automation client')
  .requiredOption('--tenant <name>', 'tenant display name')
  .requiredOption('--admin <upn>', "first admin's userPrincipalName")
  .option('--admin-name <name>', "first admin's display name")
  .addOption(jsonOption())
  .action(async (o: { tenant: string; admin: string; adminName?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse init', (db, config) => initTenant(db, { tenant: o.tenant, admin: o.admin, adminDisplayName: o.adminName }, config.publicBaseUrl, new Date()));
    print(o, r, () => banner(r));
  });

program.command('migrate').description('apply pending database migrations').addOption(jsonOption())
  .action(async (o: Out) => {
    const r = await withDatabase('gatehouse migrate', async (db) => ({ schemaVersion: await schemaVersion(db) }));
    print(o, r, () => `Database schema at version ${r.schemaVersion}.`);
  });

const keys = program.command('keys').description('signing keys');
keys.command('rotate').description("make a new signing key active; the old one stays published until its tokens expire")
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse keys rotate', async (db) => {
      const tenantId = await resolveTenant(db, o.tenant);
      return { tenantId, ...(await rotateSigningKey(db, tenantId, new Date())) };
    });
    print(o, r, () => `New signing key ${r.kid} is active for ${r.tenantId}; retired (still published until their tokens expire): ${r.retired.join(', ') || 'none'}.`);
  });

program.command('tenants').description('list tenants').addOption(jsonOption())
  .action(async (o: Out) => {
    const r = await withDatabase('gatehouse tenants', (db) => listTenants(db));
    print(o, r, () => r.map((t) => `${t.id}  ${t.displayName}`).join('\n') || 'No tenants.');
  });

const user = program.command('user').description('users (DIR-2)');
user.command('create').requiredOption('--upn <upn>').requiredOption('--name <displayName>').option('--guest', 'userType Guest')
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { upn: string; name: string; guest?: boolean; tenant?: string; json?: boolean }) => {
    const input = parseInput(userCreate, { userPrincipalName: o.upn, displayName: o.name, userType: o.guest ? 'Guest' : 'Member' }, 'options');
    const r = await withDatabase('gatehouse user create', async (db) => {
      const t = await resolveTenant(db, o.tenant);
      return db.transaction().execute((trx) => createUser(trx, t, input));
    });
    print(o, r, () => `Created ${r.userPrincipalName} (${r.id}).`);
  });
user.command('list').option('--filter <odata>', "e.g. \"startswith(displayName,'A')\"").option('--top <n>').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { filter?: string; top?: string; tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse user list', async (db) => {
      const t = await resolveTenant(db, o.tenant);
      const q = parseCollectionQuery({ ...(o.filter ? { $filter: o.filter } : {}), ...(o.top ? { $top: o.top } : {}) }, { filterFields: ['userPrincipalName', 'displayName', 'id', 'accountEnabled'], selectFields: [], defaultTop: 999 });
      return (await listUsers(db, t, q)).items;
    });
    print(o, r, () => r.map((u) => `${u.id}  ${u.userPrincipalName}  ${u.displayName}${u.accountEnabled ? '' : '  (disabled)'}`).join('\n') || 'No users.');
  });
user.command('get').argument('<id|upn>').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (ref: string, o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse user get', async (db) => getUser(db, await resolveTenant(db, o.tenant), ref));
    print(o, r, () => Object.entries(r).map(([k, v]) => `${k}: ${String(v)}`).join('\n'));
  });
user.command('delete').argument('<id|upn>').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (ref: string, o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse user delete', async (db) => {
      const t = await resolveTenant(db, o.tenant);
      return db.transaction().execute((trx) => deleteUser(trx, t, ref));
    });
    print(o, { deleted: r.id, userPrincipalName: r.userPrincipalName }, () => `Deleted ${r.userPrincipalName} (${r.id}).`);
  });

const group = program.command('group').description('groups (DIR-3)');
group.command('create').requiredOption('--name <displayName>').option('--description <text>').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { name: string; description?: string; tenant?: string; json?: boolean }) => {
    const input = parseInput(groupCreate, { displayName: o.name, ...(o.description ? { description: o.description } : {}) }, 'options');
    const r = await withDatabase('gatehouse group create', async (db) => {
      const t = await resolveTenant(db, o.tenant);
      return db.transaction().execute((trx) => createGroup(trx, t, input));
    });
    print(o, r, () => `Created group ${r.displayName} (${r.id}).`);
  });
group.command('list').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse group list', async (db) => (await listGroups(db, await resolveTenant(db, o.tenant), { filter: undefined, top: 999, select: undefined, skipToken: undefined })).items);
    print(o, r, () => r.map((g) => `${g.id}  ${g.displayName}`).join('\n') || 'No groups.');
  });
group.command('add-member').requiredOption('--group <id>').requiredOption('--member <id|upn>', 'a user (id or UPN) or a group id').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { group: string; member: string; tenant?: string; json?: boolean }) => {
    await withDatabase('gatehouse group add-member', async (db) => {
      const t = await resolveTenant(db, o.tenant);
      const memberId = o.member.includes('@') ? (await getUser(db, t, o.member)).id : o.member.toLowerCase();
      await db.transaction().execute((trx) => addMember(trx, t, o.group, memberId));
    });
    print(o, { group: o.group, member: o.member, added: true }, () => `Added ${o.member} to ${o.group}.`);
  });

const role = program.command('role').description('directory role assignments (DIR-4)');
role.command('assign').requiredOption('--role <name|id>', `one of: ${ROLE_TEMPLATES.map((r) => r.displayName).join(', ')}`)
  .requiredOption('--principal <id|upn>').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { role: string; principal: string; tenant?: string; json?: boolean }) => {
    const def = ROLE_TEMPLATES.find((r) => r.id === o.role.toLowerCase() || r.displayName.toLowerCase() === o.role.toLowerCase());
    if (!def) throw new ValidationError('--role', 'knownRole', `Unknown role '${o.role}'. Roles: ${ROLE_TEMPLATES.map((r) => r.displayName).join(', ')}.`);
    const r = await withDatabase('gatehouse role assign', async (db) => {
      const t = await resolveTenant(db, o.tenant);
      const principalId = o.principal.includes('@') ? (await getUser(db, t, o.principal)).id : o.principal.toLowerCase();
      return assignRole(db, t, operator, { roleDefinitionId: def.id, principalId, directoryScopeId: '/' }, new Date());
    });
    print(o, r, () => `Assigned ${def.displayName} to ${r.principalId} (assignment ${r.id}).`);
  });
role.command('list').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse role list', async (db) => (await listRoleAssignments(db, await resolveTenant(db, o.tenant), { filter: undefined, top: 999, select: undefined, skipToken: undefined })).items);
    print(o, r, () => r.map((a) => `${ROLE_TEMPLATES.find((t) => t.id === a.roleDefinitionId)?.displayName ?? a.roleDefinitionId}  ${a.principalId}`).join('\n') || 'No role assignments.');
  });

const appCmd = program.command('app').description('applications (DIR-5, DIR-6)');
appCmd.command('create-automation').description('an automation app with client credentials and the Graph permissions named')
  .requiredOption('--name <displayName>')
  .option('--permission <name...>', `Graph application permissions: ${GRAPH_PERMISSIONS.join(', ')}`, [])
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { name: string; permission: string[]; tenant?: string; json?: boolean }) => {
    const bad = o.permission.find((p) => !isGraphPermission(p));
    if (bad) throw new ValidationError('--permission', 'knownPermission', `Unknown Graph permission '${bad}'. Known: ${GRAPH_PERMISSIONS.join(', ')}.`);
    const r = await withDatabase('gatehouse app create-automation', async (db) => {
      const t = await resolveTenant(db, o.tenant);
      return db.transaction().execute(async (trx) => {
        const a = await createApplication(trx, t, { displayName: o.name }, 'automation');
        await grantPermissions(trx, t, a.id, o.permission);
        const secret = await addPassword(trx, t, a.id, { displayName: 'created by gatehouse app create-automation' }, new Date());
        return { objectId: a.id, appId: a.appId, clientId: a.appId, clientSecret: secret.secretText!, permissions: o.permission };
      });
    });
    print(o, r, () => `Created automation app ${r.clientId}\n  client secret: ${r.clientSecret}   (shown once; stored hashed)\n  permissions: ${r.permissions.join(', ') || 'none'}`);
  });

const tap = program.command('tap').description('Temporary Access Passes (TAP-1..TAP-10)');
tap.command('issue').argument('<user>', 'user id or UPN').option('--lifetime <minutes>', 'lifetime in minutes (policy bounds apply)')
  .option('--start <iso-date-time>', 'when the pass starts (default now)').option('--once', 'one-time pass').option('--multi', 'multi-use pass')
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (userRef: string, o: { lifetime?: string; start?: string; once?: boolean; multi?: boolean; tenant?: string; json?: boolean }) => {
    if (o.lifetime !== undefined && !/^[0-9]{1,6}$/.test(o.lifetime)) throw new ValidationError('--lifetime', 'integer', `--lifetime '${o.lifetime}' must be a whole number of minutes.`);
    const body = {
      ...(o.lifetime !== undefined ? { lifetimeInMinutes: Number(o.lifetime) } : {}),
      ...(o.start ? { startDateTime: o.start } : {}),
      ...(o.once ? { isUsableOnce: true } : o.multi ? { isUsableOnce: false } : {}),
    };
    const r = await withDatabase('gatehouse tap issue', async (db) => issueTemporaryAccessPass({ db, tenantId: await resolveTenant(db, o.tenant), actor: operator, now: new Date() }, userRef, body));
    print(o, r, () => `Temporary Access Pass for ${userRef}: ${r.temporaryAccessPass}   (shown once)\n  ${r.isUsableOnce ? 'one-time' : 'multi-use'}, from ${r.startDateTime} for ${r.lifetimeInMinutes} minutes; usable now: ${r.isUsable} (${r.methodUsabilityReason})`);
  });
tap.command('show').argument('<user>', 'user id or UPN').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (userRef: string, o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse tap show', async (db) => listTemporaryAccessPasses({ db, tenantId: await resolveTenant(db, o.tenant), actor: operator, now: new Date() }, userRef));
    print(o, r, () => r.map((p) => `${p.id}  ${p.isUsableOnce ? 'one-time' : 'multi-use'}  from ${p.startDateTime} for ${p.lifetimeInMinutes} min  usable: ${p.isUsable} (${p.methodUsabilityReason})`).join('\n') || 'No Temporary Access Pass.');
  });
tap.command('delete').argument('<user>', 'user id or UPN').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (userRef: string, o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse tap delete', async (db) => {
      const ctx = { db, tenantId: await resolveTenant(db, o.tenant), actor: operator, now: new Date() };
      const [pass] = await listTemporaryAccessPasses(ctx, userRef);
      if (!pass) throw new NotFoundError('temporaryAccessPassMethod', userRef);
      await deleteTemporaryAccessPass(ctx, userRef, pass.id);
      return { deleted: pass.id };
    });
    print(o, r, () => `Deleted Temporary Access Pass ${r.deleted}.`);
  });

const methods = program.command('methods').description("a user's authentication methods (MTH-3)");
methods.command('list').argument('<user>', 'user id or UPN').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (userRef: string, o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse methods list', async (db) => listMethods({ db, tenantId: await resolveTenant(db, o.tenant), actor: operator, now: new Date() }, userRef));
    print(o, r, () => r.map((m) => `${String(m.id)}  ${String(m['@odata.type']).replace('#microsoft.graph.', '')}  ${String(m.displayName ?? m.model ?? '')}  usable: ${String(m.isUsable)} (${String(m.methodUsabilityReason)})`).join('\n') || 'No methods.');
  });
methods.command('delete').argument('<user>', 'user id or UPN').argument('<methodId>').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (userRef: string, methodId: string, o: { tenant?: string; json?: boolean }) => {
    await withDatabase('gatehouse methods delete', async (db) => {
      const ctx = { db, tenantId: await resolveTenant(db, o.tenant), actor: operator, now: new Date() };
      const all = await listMethods(ctx, userRef);
      const m = all.find((x) => x.id === methodId.toLowerCase());
      if (!m) throw new NotFoundError('authenticationMethod', methodId);
      const type = String(m['@odata.type']);
      if (type.endsWith('fido2AuthenticationMethod')) await adminDeletePasskey(ctx, userRef, methodId);
      else if (type.endsWith('temporaryAccessPassAuthenticationMethod')) await deleteTemporaryAccessPass(ctx, userRef, methodId);
      else if (type.endsWith('softwareOathAuthenticationMethod')) await deleteSoftwareOathMethod(ctx, userRef, methodId);
      else throw new ValidationError('methodId', 'deletable', `A ${type.replace('#microsoft.graph.', '')} can't be deleted this way.`);
    });
    print(o, { deleted: methodId }, () => `Deleted method ${methodId}.`);
  });

methods.command('add-totp').description('enrol an authenticator app (TOTP) for a user; prints the secret once')
  .argument('<user>', 'user id or UPN').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (userRef: string, o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse methods add-totp', async (db) => enrolSoftwareOath({ db, tenantId: await resolveTenant(db, o.tenant), actor: operator, now: new Date() }, userRef));
    print(o, r, () => `Authenticator app enrolled (${r.id}). Secret (shown once): ${r.secretKey}\n  ${r.uri}\n  Note: sign-in with it needs the SoftwareOath method enabled (off in new tenants).`);
  });

const policies = program.command('policies').description('Conditional Access, strengths, named locations and the methods policy');
policies.command('import').description('import exported Entra JSON (CA-4); files, or folders walked for *.json')
  .argument('<paths...>', 'files or folders').option('--dry-run', 'report what would happen; write nothing')
  .option('--force-lockout', 'store enabled policies even if they would lock out every Global Administrator (WIF-3)')
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (paths: string[], o: { dryRun?: boolean; forceLockout?: boolean; tenant?: string; json?: boolean }) => {
    const documents = await readImportPaths(paths);
    const r = await withDatabase('gatehouse policies import', async (db) => importPolicies(db, await resolveTenant(db, o.tenant), operator, documents, { dryRun: o.dryRun, forceLockout: o.forceLockout, now: new Date() }));
    print(o, r, () => formatImportReport(r));
  });
policies.command('list').description('Conditional Access policies (CA-1), with why a policy can only stay disabled (CA-4)')
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse policies list', async (db) => listConditionalAccessPolicies(db, await resolveTenant(db, o.tenant)));
    print(o, r, () => r.map((p) => `${p.id}  ${p.state.padEnd(34)}  ${p.displayName}${p.gatehouseFindings.length ? `  (${p.gatehouseFindings.length} finding${p.gatehouseFindings.length === 1 ? '' : 's'})` : ''}`).join('\n') || 'No Conditional Access policies.');
  });
policies.command('show').argument('<id>', 'policy id').description('one Conditional Access policy in Graph JSON, with its findings')
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (id: string, o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse policies show', async (db) => getConditionalAccessPolicy(db, await resolveTenant(db, o.tenant), id));
    print(o, r, () => {
      const { gatehouseFindings, ...policy } = r;
      const findings = gatehouseFindings.map((f) => `  ${f.field} (${f.rule}): ${f.reason}`).join('\n');
      return `${JSON.stringify(policy, null, 2)}\n${findings ? `Findings (the policy can only stay disabled):\n${findings}` : 'No findings.'}`;
    });
  });

const strengths = program.command('strengths').description('authentication strengths (STR-1, STR-2)');
strengths.command('list').option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse strengths list', async (db) => listStrengths(db, await resolveTenant(db, o.tenant)));
    print(o, r, () => r.map((s) => `${s.id}  ${s.policyType.padEnd(7)}  ${s.displayName}: ${s.allowedCombinations.join(' | ')}`).join('\n'));
  });

const settings = program.command('settings').description("the tenant's platform-rule settings (PLT-1..PLT-4)");
settings.command('platform').description('show the platform-rule settings, or change them with the options')
  .addOption(new Option('--existing-method-step-up <mode>', 'PLT-3: a TAP-only session must first prove an existing phishing-resistant method').choices(['phishingResistant', 'off']))
  .option('--force-lockout', 'save even if no Global Administrator could sign in to the admin console afterwards (WIF-3; audited)')
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { existingMethodStepUp?: string; forceLockout?: boolean; tenant?: string; json?: boolean }) => {
    const r = await withDatabase('gatehouse settings platform', async (db) => {
      const tenantId = await resolveTenant(db, o.tenant);
      if (o.existingMethodStepUp === undefined) return readPlatformRulesPolicy(db, tenantId);
      return patchPlatformRulesPolicy({ db, tenantId, actor: operator, now: new Date(), force: Boolean(o.forceLockout) }, { existingMethodStepUp: o.existingMethodStepUp });
    });
    print(o, r, () => Object.entries(r).filter(([k]) => k !== 'id').map(([k, v]) => `${k}: ${String(v)}`).join('\n'));
  });

program.command('whatif').description('What-If (WIF-1): decide a hypothetical sign-in with the engine and explain it')
  .requiredOption('--user <id|upn>', 'the user signing in')
  .option('--app <appId>', 'the application signed in to')
  .addOption(new Option('--action <action>', 'a user action instead of an app').choices(['registerSecurityInformation', 'registerOrJoinDevices']))
  .option('--context <cN>', 'an authentication context instead of an app (CA-7)')
  .option('--performed <modes>', 'methods already performed, comma-separated modes (e.g. temporaryAccessPassMultiUse,fido2)')
  .addOption(new Option('--platform <platform>').choices(['android', 'iOS', 'windows', 'windowsPhone', 'macOS', 'linux', 'unknown']))
  .addOption(new Option('--client-app-type <type>').choices(['browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'other']))
  .option('--ip <address>', 'client address, for named locations')
  .option('--device-code', 'the sign-in completes an OAuth device-code flow')
  .option('--no-webauthn', 'the client cannot register or use passkeys')
  .addOption(new Option('--operation <op>', 'security-info operation (PLT-2)').choices(['view', 'register', 'change', 'delete']))
  .option('--tenant <id|name>').addOption(jsonOption())
  .action(async (o: { user: string; app?: string; action?: string; context?: string; performed?: string; platform?: string; clientAppType?: string; ip?: string; deviceCode?: boolean; webauthn: boolean; operation?: string; tenant?: string; json?: boolean }) => {
    const chosen = [o.app, o.action, o.context].filter(Boolean).length;
    if (chosen !== 1) throw new ValidationError('--app', 'WIF-1', 'Name exactly one of --app, --action or --context.');
    const body = {
      signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId: o.user },
      signInContext: o.app ? { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: [o.app] }
        : o.action ? { '@odata.type': '#microsoft.graph.userActionContext', userAction: o.action }
          : { '@odata.type': '#microsoft.graph.authContext', authenticationContextValue: o.context },
      signInConditions: {
        ...(o.platform ? { devicePlatform: o.platform } : {}), ...(o.clientAppType ? { clientAppType: o.clientAppType } : {}),
        ...(o.ip ? { ipAddress: o.ip } : {}), ...(o.deviceCode ? { authenticationFlow: { transferMethod: 'deviceCodeFlow' } } : {}),
      },
      gatehouse: {
        performedMethods: (o.performed ?? '').split(',').map((m) => m.trim()).filter(Boolean).map((mode) => ({ mode })),
        clientCapabilities: { webauthn: o.webauthn },
        ...(o.operation ? { securityInfoOperation: o.operation } : {}),
      },
    };
    const r = await withDatabase('gatehouse whatif', async (db) => whatIf(db, await resolveTenant(db, o.tenant), operator, body, new Date()));
    print(o, r, () => {
      const d = r.gatehouseDecision;
      const lines = [`Outcome: ${d.outcome}${d.errorCode ? ` (${d.errorCode})` : ''}${d.failureReason ? `: ${d.failureReason}` : ''}`];
      for (const q of d.requirements) lines.push(`  ${q.satisfied ? 'met ' : 'OPEN'}  ${q.description}${q.satisfied ? '' : `  -> ${q.candidates.length ? q.candidates.map((c) => c.displayName ?? c.type).join(' or ') : 'no method the user holds'}`}`);
      lines.push('Conditional Access:');
      for (const p of d.appliedConditionalAccessPolicies) lines.push(`  ${p.result.padEnd(20)} ${p.displayName}${p.firstUnmetCondition ? `  (${p.firstUnmetCondition.condition}: ${p.firstUnmetCondition.detail})` : ''}`);
      lines.push('Platform rules:');
      for (const pr of d.platformRules) lines.push(`  ${pr.result.padEnd(13)} ${pr.sentence}`);
      return lines.join('\n');
    });
  });
registerRecoveryCommands(program);

registerLogsCommands(program);
registerReplayCommands(program); // after registerLogsCommands: it adds to the `logs` group

async function main(argv: string[]): Promise<number> {
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    if (err instanceof GatehouseError || err instanceof ConfigError) {
      const code = err instanceof GatehouseError ? err.code : 'ConfigurationError';
      const field = err instanceof GatehouseError ? err.target?.field : undefined;
      if (wantsJson) process.stdout.write(`${JSON.stringify({ error: { code, message: err.message, ...(field ? { target: field } : {}) } }, null, 2)}\n`);
      else process.stderr.write(`gatehouse: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`gatehouse: unexpected failure: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv);
// A command may set a non-zero exit code itself on success (e.g. `audit verify`: 3 when the chain is broken).
if (code !== 0 || !['serve'].includes(process.argv[2] ?? '')) process.exitCode = code !== 0 ? code : (process.exitCode ?? 0);
