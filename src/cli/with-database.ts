import type { Config } from '../config/load.js';
import { migrate } from '../storage/migrate.js';
import { openDatabase } from '../storage/open-database.js';
import type { Database } from '../storage/tables.js';
import { createLogger } from '../telemetry/logger.js';

/** Opens the configured database, applies pending migrations, runs `work`, closes it; connection errors exit 1. */
export async function withDatabase<T>(
  config: Config,
  work: (db: Database, logger: ReturnType<typeof createLogger>, applied: readonly number[]) => Promise<T>,
): Promise<T> {
  const logger = createLogger({ ...config, logging: { ...config.logging, level: 'warn' } });
  let handle: Awaited<ReturnType<typeof openDatabase>>;
  try {
    handle = await openDatabase({ url: config.database.url, dataDir: config.database.data_dir }, logger);
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
