import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Config } from '../config/load.js';
import { DEFAULT_SHARED_BUFFERS } from '../config/schema.js';
import type { Logger } from '../telemetry/logger.js';
import { describeConnectionError } from './describe-connection-error.js';
import { pgliteDialect } from './pglite-dialect.js';
import {
  type EmbeddedDatabaseOptions,
  type EmbeddedDatabaseThread,
  openEmbeddedDatabase,
  type ThreadHeap,
} from './pglite-worker-client.js';
import type { Database } from './tables.js';

export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: 'postgres' | 'pglite';
  /** Fails when the database does not answer. */
  ping(signal?: AbortSignal): Promise<void>;
  /** The embedded database's thread's V8 heap; a database server has none in this process. */
  readonly threadHeap?: (() => Promise<ThreadHeap>) | undefined;
  close(): Promise<void>;
}

export interface DatabaseSettings {
  readonly url: string | undefined;
  readonly dataDir: string;
  /** The embedded database's shared_buffers (database.shared_buffers); its default when unset. */
  readonly sharedBuffers?: string | undefined;
  /** V8's optimizing tier for the embedded database (database.wasm_tier_up); off when unset. */
  readonly wasmTierUp?: boolean | undefined;
  /** A data directory to copy for a new embedded database instead of running initdb, if it exists. */
  readonly template?: string | undefined;
}

/**
 * Where the image keeps a data directory made by initdb at build time (dist/pglite-template, next to
 * the compiled code; the Dockerfile makes it): a first start copies it instead of running initdb,
 * which takes seconds and, on Node 24, more memory than a 512 MiB container has (see
 * wasm-tier-up-flags.ts). A checkout has none, and creates its data directory with initdb.
 */
const BUILT_TEMPLATE = fileURLToPath(new URL('../pglite-template', import.meta.url));

/** The database settings of a parsed config, as openDatabase takes them. */
export function databaseSettings(database: Config['database']): DatabaseSettings {
  return {
    url: database.url,
    dataDir: database.data_dir,
    sharedBuffers: database.shared_buffers,
    wasmTierUp: database.wasm_tier_up,
    template: BUILT_TEMPLATE,
  };
}

const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Opens PostgreSQL (pooled) when a URL is set, else the embedded PGlite under dataDir. Verifies the
 * connection and throws an Error naming the setting when it fails.
 */
export async function openDatabase(settings: DatabaseSettings, logger: Logger): Promise<DatabaseHandle> {
  return settings.url
    ? openPostgres(settings.url, logger)
    : openPglite(settings.dataDir, {
        sharedBuffers: settings.sharedBuffers ?? DEFAULT_SHARED_BUFFERS,
        wasmTierUp: settings.wasmTierUp ?? false,
        template: settings.template,
      });
}

async function openPostgres(url: string, logger: Logger): Promise<DatabaseHandle> {
  // Loaded only when configured: the embedded default never pays for the driver.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    // A server that stops answering (not closing) must not hang usage flushes or key lookups forever.
    query_timeout: 10_000,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', (error) => logger.warn({ err: error.message }, 'database connection lost'));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(describeConnectionError('database.url (DATABASE_URL)', url, error));
  }
  const db: Database = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    ping: (signal) => pingDatabase(db, signal),
    close: () => db.destroy(),
  };
}

async function openPglite(dataDir: string, options: EmbeddedDatabaseOptions): Promise<DatabaseHandle> {
  const directory = resolve(dataDir, 'pglite');
  mkdirSync(directory, { recursive: true });
  const lockFile = join(resolve(dataDir), 'pglite.lock');
  claimDataDir(lockFile);
  let database: EmbeddedDatabaseThread;
  try {
    database = await openEmbeddedDatabase(directory, options);
  } catch (error) {
    rmSync(lockFile, { force: true });
    throw new Error(
      `database.data_dir (DATA_DIR): cannot open the embedded database in ${directory}: ${(error as Error).message}`,
    );
  }
  const db: Database = new Kysely({ dialect: pgliteDialect(database) });
  return {
    db,
    kind: 'pglite',
    ping: (signal) => pingDatabase(db, signal),
    threadHeap: () => database.heap(),
    async close() {
      await db.destroy();
      rmSync(lockFile, { force: true });
    },
  };
}

/** PGlite is single-process: two processes on one data directory would corrupt it. */
function claimDataDir(lockFile: string) {
  try {
    const owner = Number(readFileSync(lockFile, 'utf8'));
    if (owner && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `database.data_dir (DATA_DIR): the embedded database is in use by process ${owner}; ` +
          'set DATABASE_URL to share a PostgreSQL database between processes',
      );
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  writeFileSync(lockFile, String(process.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pingDatabase(db: Database, signal: AbortSignal | undefined): Promise<void> {
  const query = sql`select 1`.execute(db);
  if (!signal) return void (await query);
  query.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new Error('database did not answer in time'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    query.then(
      () => resolve(),
      (error: unknown) => reject(error),
    );
  });
}
