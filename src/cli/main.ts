#!/usr/bin/env node
import { Command } from 'commander';
import { GANTRY_VERSION } from '../version.js';
import { configCheckCommand } from './config-check.js';
import { healthcheckCommand } from './healthcheck.js';
import { ingestCommand } from './ingest.js';
import { keysCommand } from './keys.js';
import { maintenanceCommand } from './maintenance.js';
import { migrateCommand } from './migrate.js';
import { searchCommand } from './search.js';
import { serveCommand } from './serve.js';
import { workerCommand } from './worker.js';

const program = new Command()
  .name('gantry')
  .description('Gantry — an OpenAI-compatible LLM gateway')
  .version(GANTRY_VERSION, '-v, --version')
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(configCheckCommand());
program.addCommand(healthcheckCommand());
program.addCommand(migrateCommand());
program.addCommand(maintenanceCommand());
program.addCommand(keysCommand());
program.addCommand(workerCommand());
program.addCommand(ingestCommand());
program.addCommand(searchCommand());
program
  .command('version')
  .description('print the version')
  .action(() => console.log(GANTRY_VERSION));

await program.parseAsync(process.argv);
