import { Command } from 'commander';
import { createGateway } from '../server/gateway.js';
import { createLogger } from '../telemetry/logger.js';
import { loadConfigOrExit } from './load-config-or-exit.js';

interface ServeOptions {
  config?: string;
  host?: string;
  port?: string;
}

/** `gantry serve`: runs the gateway until SIGTERM/SIGINT, then drains. */
export function serveCommand() {
  return new Command('serve')
    .description('run the gateway')
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .option('--host <host>', 'listen address (default: $HOST or 0.0.0.0)')
    .option('-p, --port <port>', 'listen port (default: $PORT or 8000)')
    .action(async (options: ServeOptions) => {
      const config = loadConfigOrExit({
        env: process.env,
        file: options.config,
        overrides: {
          'server.host': options.host,
          'server.port': options.port === undefined ? undefined : Number(options.port),
        },
      });
      const logger = createLogger(config);
      if (config.app.mode === 'dev' && !config.auth.master_key) {
        logger.warn('no master key configured: the API is open to anyone who can reach it (dev mode)');
      }
      const gateway = await createGateway({ config, logger });
      await gateway.app.listen({ host: config.server.host, port: config.server.port });
      gateway.markStarted();
      logger.info(
        {
          host: config.server.host,
          port: config.server.port,
          mode: config.app.mode,
          models: config.models.length,
        },
        'gantry listening',
      );
      let stopping = false;
      const stop = async (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting at once');
          process.exit(130);
        }
        stopping = true;
        logger.info({ signal }, 'shutting down');
        gateway.startDraining();
        const deadline = setTimeout(
          () => gateway.abortStreams(),
          config.shutdown.delay + config.shutdown.timeout,
        );
        await new Promise((resolve) => setTimeout(resolve, config.shutdown.delay));
        await gateway.close();
        clearTimeout(deadline);
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
}
