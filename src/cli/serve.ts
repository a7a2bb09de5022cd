import { Command, InvalidArgumentError } from 'commander';
import type { ServeOptions } from './run-serve.js';

function parseWorkers(value: string): number {
  if (value === 'auto') return 0;
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a number of workers or "auto"');
  return Number(value);
}

/** `gantry serve`: runs the gateway (one process, or a node:cluster primary and its workers). */
export function serveCommand() {
  return new Command('serve')
    .description('run the gateway until SIGTERM/SIGINT, then drain; SIGHUP reloads the configuration')
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .option('--host <host>', 'listen address (default: $HOST or 0.0.0.0)')
    .option('-p, --port <port>', 'listen port (default: $PORT or 8000)')
    .option(
      '-w, --workers <n>',
      'worker processes; 0 or "auto" = one per available CPU (default: $GANTRY_WORKERS or 1)',
      parseWorkers,
    )
    .action(async (options: ServeOptions) => {
      // Loaded on use: `gantry version` and `gantry healthcheck` (run every few seconds by Docker)
      // need none of the server.
      const { runServe } = await import('./run-serve.js');
      await runServe(options);
    });
}
