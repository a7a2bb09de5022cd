import { Command } from 'commander';
import { loadConfigOrExit } from './load-config-or-exit.js';
import { withDatabase } from './with-database.js';

/** `gantry migrate`: applies pending database migrations (safe to run from several replicas at once). */
export function migrateCommand() {
  return new Command('migrate')
    .description('apply pending database migrations (DATABASE_URL, or the embedded database in DATA_DIR)')
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .action(async (options: { config?: string }) => {
      const config = loadConfigOrExit({ env: process.env, file: options.config });
      await withDatabase(config, async (_db, _logger, applied) => {
        process.stderr.write(
          applied.length > 0
            ? `applied migrations: ${applied.join(', ')}\n`
            : 'database is up to date; nothing to apply\n',
        );
      });
    });
}
