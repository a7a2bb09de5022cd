import { readdirSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { Logger } from '../telemetry/logger.js';
import type { Database } from './tables.js';

/** The folder of versioned SQL files, shipped with the package (package.json "files"). */
export const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);

/** Arbitrary constant shared by every Gantry process: the advisory lock that serialises migrations. */
const MIGRATION_LOCK_ID = 7_342_001;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Reads NNNN_name.sql files in version order. */
export function readMigrations(directory: URL = MIGRATIONS_DIR): Migration[] {
  return readdirSync(directory)
    .flatMap((file) => {
      const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
      if (!match) return [];
      return [
        { version: Number(match[1]), name: match[2]!, sql: readFileSync(new URL(file, directory), 'utf8') },
      ];
    })
    .sort((left, right) => left.version - right.version);
}

/**
 * Applies pending migrations, each in its own transaction, while holding a session advisory lock:
 * replicas starting together wait for the first one and then find nothing left to do.
 * Returns the versions this call applied.
 */
export async function migrate(
  db: Database,
  logger: Logger,
  migrations: readonly Migration[] = readMigrations(),
): Promise<number[]> {
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`.execute(connection);
    try {
      await sql`create table if not exists gantry_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`.execute(connection);
      const applied = await connection.selectFrom('gantry_migrations').select('version').execute();
      const done = new Set(applied.map((row) => row.version));
      const appliedNow: number[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await sql.raw('begin').execute(connection);
        try {
          await sql.raw(migration.sql).execute(connection);
          await connection
            .insertInto('gantry_migrations')
            .values({ version: migration.version, name: migration.name })
            .execute();
          await sql.raw('commit').execute(connection);
        } catch (error) {
          await sql.raw('rollback').execute(connection);
          throw new Error(
            `migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`,
          );
        }
        appliedNow.push(migration.version);
        logger.info({ version: migration.version, name: migration.name }, 'migration applied');
      }
      return appliedNow;
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.execute(connection);
    }
  });
}
