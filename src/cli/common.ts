import { Option } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import { ValidationError } from '../domain/errors.ts';
import { migrate, openDatabase, type Db, type OpenDatabase } from '../store/database.ts';
import { findTenant, listTenants } from '../store/tenants.ts';

/**
 * What every `gatehouse` command shares: --json output, opening the database, --tenant, and the
 * operator actor. Commands of one area live in their own module (src/cli/<area>.ts) and register
 * themselves on the program from main.ts.
 */
export type Out = { json?: boolean };

export function print(opts: Out, value: unknown, human: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

export async function withDatabase<T>(purpose: string, fn: (db: Db, config: Config, database: OpenDatabase) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, purpose, poolMax: 2 });
  try {
    await migrate(database.db);
    return await fn(database.db, config, database);
  } finally {
    await database.close();
  }
}

/** --tenant takes an id or a display name; without it, the only tenant. */
export async function resolveTenant(db: Db, ref: string | undefined): Promise<string> {
  const tenants = await listTenants(db);
  if (ref) {
    const byId = await findTenant(db, ref);
    if (byId) return byId.id;
    const byName = tenants.filter((t) => t.displayName.toLowerCase() === ref.toLowerCase());
    if (byName.length === 1) return byName[0]!.id;
    throw new ValidationError('--tenant', 'exists', `No single tenant is named or identified by '${ref}'. Tenants: ${tenants.map((t) => `${t.displayName} (${t.id})`).join(', ') || 'none'}.`);
  }
  if (tenants.length === 1) return tenants[0]!.id;
  throw new ValidationError('--tenant', 'required', tenants.length === 0 ? 'There is no tenant yet: run `gatehouse init --tenant NAME --admin UPN` first.' : `Several tenants exist; name one with --tenant: ${tenants.map((t) => `${t.displayName} (${t.id})`).join(', ')}.`);
}

export const jsonOption = () => new Option('--json', 'print one JSON document');
/** Changes made at the CLI are audited as the local operator. */
export const operator = { kind: 'operator' as const, name: `gatehouse CLI (${process.env.USER ?? 'local operator'})` };
