#!/usr/bin/env node
import { Command } from 'commander';
import { GANTRY_VERSION } from '../version.js';
import { configCheckCommand } from './config-check.js';
import { healthcheckCommand } from './healthcheck.js';
import { keysCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { serveCommand } from './serve.js';

const program = new Command()
  .name('gantry')
  .description('Gantry — an OpenAI-compatible LLM gateway')
  .version(GANTRY_VERSION, '-v, --version')
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(configCheckCommand());
program.addCommand(healthcheckCommand());
program.addCommand(migrateCommand());
program.addCommand(keysCommand());
program
  .command('version')
  .description('print the version')
  .action(() => console.log(GANTRY_VERSION));

await program.parseAsync(process.argv);
