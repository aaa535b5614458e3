import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { lockDataDir, type DataDirLock } from './dataDirLock.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export type DatabaseOptions = {
  /** PostgreSQL connection string; when absent, the embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory (default ./data); `memory://` keeps it in memory (tests). */
  dataDir: string;
  /** Who holds the embedded directory, for the message a second process gets. */
  purpose: string;
  poolMax?: number;
};

export type PoolStats = { total: number; idle: number; waiting: number };

export type OpenDatabase = {
  db: Db;
  kind: 'pglite' | 'postgres';
  poolStats(): PoolStats;
  close(): Promise<void>;
};

/** pg returns int8 and numeric as strings; make both drivers agree on numbers. */
pg.types.setTypeParser(20, (v) => Number(v));

export async function openDatabase(opts: DatabaseOptions): Promise<OpenDatabase> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolMax ?? 10 });
    pool.on('error', () => {
      // an idle client lost its connection; the pool replaces it
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    };
  }
  const inMemory = opts.dataDir === 'memory://';
  const lock: DataDirLock | undefined = inMemory ? undefined : lockDataDir(opts.dataDir, opts.purpose);
  try {
    const pglite = new PGlite(inMemory ? undefined : opts.dataDir);
    await pglite.waitReady;
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
    return {
      db,
      kind: 'pglite',
      poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
      close: async () => {
        await db.destroy();
        lock?.release();
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

/** An arbitrary, fixed advisory-lock key: "gatehouse migrations". */
const MIGRATION_LOCK = 0x6761_7465;

/**
 * Apply pending migrations in one transaction under an advisory lock, so two processes starting
 * at once on one PostgreSQL never race: the second waits, then finds nothing left to do.
 * Returns the versions applied by this call.
 */
export async function migrate(db: Db): Promise<number[]> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS gatehouse_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`.execute(trx);
    const done = new Set((await trx.selectFrom('gatehouse_migrations').select('version').execute()).map((r) => r.version));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of m.sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) {
        await sql.raw(statement).execute(trx);
      }
      await trx.insertInto('gatehouse_migrations').values({ version: m.version, name: m.name }).execute();
      applied.push(m.version);
    }
    return applied;
  });
}

export async function schemaVersion(db: Db): Promise<number> {
  const row = await db.selectFrom('gatehouse_migrations').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
  return Number(row?.v ?? 0);
}

/** /readyz: is the database answering? */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
