import cluster from 'node:cluster';
import { EX_CONFIG } from '../config/config-error.js';
import type { Config, LoadOptions } from '../config/load.js';
import { availableCpus } from '../server/lifecycle/available-cpus.js';
import type { ClusterMessage } from '../server/lifecycle/cluster-messages.js';
import { isClusterMessage } from '../server/lifecycle/cluster-messages.js';
import { createWorkerMetricsCollector } from '../server/lifecycle/cluster-metrics.js';
import { runClusterPrimary } from '../server/lifecycle/cluster-primary.js';
import { exitAfterFlush, onTerminationSignals } from '../server/lifecycle/process-signals.js';
import { type ServingGateway, serveGateway } from '../server/lifecycle/serve-gateway.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { loadConfigOrExit } from './load-config-or-exit.js';

export interface ServeOptions {
  config?: string;
  host?: string;
  port?: string;
  workers?: number;
}

/** The `gantry serve` action: one process, or a node:cluster primary and its workers. */
export async function runServe(options: ServeOptions): Promise<void> {
  const loadOptions: LoadOptions = {
    env: process.env,
    file: options.config,
    overrides: {
      'server.host': options.host,
      'server.port': options.port === undefined ? undefined : Number(options.port),
      'server.workers': options.workers,
    },
  };
  const config = loadConfigOrExit(loadOptions);
  const logger = createLogger(config);
  if (cluster.isWorker) {
    await runWorker(config, loadOptions, logger.child({ worker: cluster.worker?.id }));
    return;
  }
  if (config.app.mode === 'dev' && !config.auth.master_key) {
    logger.warn('no master key configured: the API is open to anyone who can reach it (dev mode)');
  }
  const workers = config.server.workers === 0 ? availableCpus() : config.server.workers;
  if (workers > 1) runClusterPrimary({ config, logger, workers });
  else await runSingle(config, loadOptions, logger);
}

async function runSingle(config: Config, loadOptions: LoadOptions, logger: Logger) {
  // Handlers go in before the listener opens: an early SIGHUP must not kill the process.
  let serving: Promise<ServingGateway> | undefined;
  process.on('SIGHUP', () => void serving?.then((current) => current.reload()));
  onTerminationSignals(logger, (signal) => {
    logger.info({ signal }, 'shutting down');
    if (!serving) exitAfterFlush(logger, 0);
    void serving?.then(async (current) => exitAfterFlush(logger, await current.shutdown()));
  });
  serving = serveGateway({ config, loadOptions, logger, metrics: createMetrics() });
  await serving.catch((error: unknown) => failedToStart(logger, error));
}

/** Startup failures (state services that cannot be built, a port in use) are not worth retrying. */
function failedToStart(logger: Logger, error: unknown): never {
  logger.fatal({ err: error }, 'gantry could not start');
  exitAfterFlush(logger, EX_CONFIG);
  // exitAfterFlush exits shortly; nothing else may run meanwhile.
  return undefined as never;
}

async function runWorker(config: Config, loadOptions: LoadOptions, logger: Logger) {
  const metrics = createMetrics();
  let serving: Promise<ServingGateway> | undefined;
  const shutdown = () =>
    void serving?.then(async (current) => exitAfterFlush(logger, await current.shutdown()));
  // Signals reach a worker directly too (Ctrl-C hits the whole process group); the primary's
  // shutdown message is not counted as a signal, so the pair does not look like a second signal.
  onTerminationSignals(logger, (signal) => {
    logger.info({ signal }, 'shutting down');
    shutdown();
  });
  process.on('SIGHUP', () => void serving?.then((current) => current.reload()));
  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message)) return;
    if (message.type === 'gantry:shutdown') shutdown();
    else if (message.type === 'gantry:reload') void serving?.then((current) => current.reload());
  });
  serving = serveGateway({
    config,
    loadOptions,
    logger,
    metrics,
    collectMetrics: createWorkerMetricsCollector(metrics.registry),
  });
  const current = await serving.catch((error: unknown) => failedToStart(logger, error));
  if (!current) return;
  current.started.then(
    () => process.send?.({ type: 'gantry:started' } satisfies ClusterMessage),
    () => {}, // interrupted by shutdown
  );
}
