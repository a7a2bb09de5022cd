import { Command } from 'commander';
import { stringify } from 'yaml';
import { maskSecrets } from '../config/mask-secrets.js';
import { loadConfigOrExit } from './load-config-or-exit.js';

/** `gantry config check`: validates the configuration and prints it, secrets masked. */
export function configCheckCommand() {
  const config = new Command('config').description('inspect the configuration');
  config
    .command('check')
    .description(
      'validate the configuration (file + environment) and print the effective config, secrets masked',
    )
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .option('--json', 'print JSON instead of YAML')
    .action((options: { config?: string; json?: boolean }) => {
      const loaded = loadConfigOrExit({ env: process.env, file: options.config });
      const masked = maskSecrets(loaded);
      process.stdout.write(options.json ? `${JSON.stringify(masked, null, 2)}\n` : stringify(masked));
      process.stderr.write('configuration is valid\n');
    });
  return config;
}
