import { Command } from 'commander';
import { parseDuration } from '../config/duration.js';
import { loadConfigOrExit } from './load-config-or-exit.js';
import { withDatabase } from './with-database.js';

/** `gantry maintenance`: scheduled housekeeping (the Kubernetes CronJob runs it daily). */
export function maintenanceCommand() {
  return new Command('maintenance')
    .description('roll usage records older than usage.retention up into daily totals and delete them')
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .option('--retention <duration>', 'override usage.retention, e.g. "30d"')
    .action(async (options: { config?: string; retention?: string }) => {
      const config = loadConfigOrExit({ env: process.env, file: options.config });
      const retention =
        options.retention === undefined ? config.usage.retention : parseDuration(options.retention);
      if (retention === undefined) {
        process.stderr.write(`gantry: --retention: invalid duration ${JSON.stringify(options.retention)}\n`);
        process.exit(64);
      }
      const before = new Date(Date.now() - retention);
      const { rollUpUsage } = await import('../usage/roll-up-usage.js');
      const result = await withDatabase(config, (db) => rollUpUsage(db, before));
      process.stdout.write(
        `${JSON.stringify({ before: before.toISOString(), rolled_up_groups: result.rolledUp, deleted_records: result.deleted })}\n`,
      );
    });
}
