import type { Config } from '../config/load.js';
import type { Database } from '../storage/tables.js';
import type { Logger } from '../telemetry/logger.js';

/** Opens the configured database, applies pending migrations, runs `work`, closes it; connection errors exit 1. */
export async function withDatabase<T>(
  config: Config,
  work: (db: Database, logger: Logger, applied: readonly number[]) => Promise<T>,
): Promise<T> {
  // Loaded on use, so that `gantry version` or `healthcheck` does not load the database layer.
  const [{ migrate }, { databaseSettings, openDatabase }, { createLogger }] = await Promise.all([
    import('../storage/migrate.js'),
    import('../storage/open-database.js'),
    import('../telemetry/logger.js'),
  ]);
  const logger = createLogger({ ...config, logging: { ...config.logging, level: 'warn' } });
  let handle: Awaited<ReturnType<typeof openDatabase>>;
  try {
    handle = await openDatabase(databaseSettings(config.database), logger);
  } catch (error) {
    process.stderr.write(`gantry: ${(error as Error).message}\n`);
    process.exit(1);
  }
  try {
    const applied = await migrate(handle.db, logger);
    return await work(handle.db, logger, applied);
  } finally {
    await handle.close();
  }
}
