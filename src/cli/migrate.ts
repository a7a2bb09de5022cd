import { Command } from 'commander';
import { migrate } from '../storage/migrate.js';
import { openDatabase } from '../storage/open-database.js';
import { createLogger } from '../telemetry/logger.js';
import { loadConfigOrExit } from './load-config-or-exit.js';

/** `gantry migrate`: applies pending database migrations (safe to run from several replicas at once). */
export function migrateCommand() {
  return new Command('migrate')
    .description('apply pending database migrations (DATABASE_URL, or the embedded database in DATA_DIR)')
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .action(async (options: { config?: string }) => {
      const config = loadConfigOrExit({ env: process.env, file: options.config });
      const logger = createLogger(config);
      let handle: Awaited<ReturnType<typeof openDatabase>>;
      try {
        handle = await openDatabase({ url: config.database.url, dataDir: config.database.data_dir }, logger);
      } catch (error) {
        process.stderr.write(`gantry: ${(error as Error).message}\n`);
        process.exit(1);
      }
      try {
        const applied = await migrate(handle.db, logger);
        process.stderr.write(
          applied.length > 0
            ? `applied migrations: ${applied.join(', ')}\n`
            : 'database is up to date; nothing to apply\n',
        );
      } finally {
        await handle.close();
        logger.flush();
      }
    });
}
