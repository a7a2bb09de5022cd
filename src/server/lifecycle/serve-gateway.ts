import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, LoadOptions } from '../../config/load.js';
import { watchConfigFile } from '../../config/watch.js';
import { createState, type StateServices } from '../../storage/create-state.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { BuildServerOptions } from '../build-server.js';
import { createGateway, type Gateway } from '../gateway.js';
import { createConfigReloader } from './config-reloader.js';
import { drainGateway } from './graceful-shutdown.js';
import { lowerBackgroundThreads } from './lower-background-threads.js';

const START_RETRY_MIN_MS = 1_000;
const START_RETRY_MAX_MS = 30_000;

export interface ServingGateway {
  readonly gateway: Gateway;
  /** Resolves once initialisation finished (state started, /startup answers 200). */
  readonly started: Promise<void>;
  /** Reloads the configuration (SIGHUP). */
  reload(): void;
  /** Drains and closes everything; resolves with the exit status. Idempotent. */
  shutdown(): Promise<number>;
}

/**
 * Runs one gateway process: state services, the HTTP listener, config watching and the drain.
 * The listener opens before initialisation finishes so that probes answer meanwhile: /health 200,
 * /startup and /ready 503 until the state services (migrations, connections) have started.
 */
export async function serveGateway(options: {
  config: Config;
  loadOptions: LoadOptions;
  logger: Logger;
  metrics: Metrics;
  collectMetrics?: BuildServerOptions['collectMetrics'];
}): Promise<ServingGateway> {
  const { config, logger, metrics } = options;
  const lowered = lowerBackgroundThreads(config.server.background_threads_nice);
  logger.debug(
    { threads: lowered, nice: config.server.background_threads_nice },
    'V8 background threads lowered',
  );
  const state = await createState(config, { logger, metrics });
  const gateway = await createGateway({
    config,
    logger,
    metrics,
    authenticator: state.authenticator,
    policy: state.policy,
    readinessChecks: state.readinessChecks,
    plugins: state.plugins,
    ...(options.collectMetrics ? { collectMetrics: options.collectMetrics } : {}),
  });
  await gateway.app.listen({
    host: config.server.host,
    port: config.server.port,
    backlog: config.server.listen_backlog,
  });
  logger.info(
    {
      host: config.server.host,
      port: config.server.port,
      mode: config.app.mode,
      models: config.models.length,
    },
    'gantry listening',
  );

  const reloader = createConfigReloader({
    loadOptions: options.loadOptions,
    current: () => gateway.runtime.current.config,
    apply: (next) => gateway.reload(next),
    logger,
    metrics,
  });
  const file = config.source.file;
  const watch = file
    ? watchConfigFile(file, {
        onChange: (text) => reloader.reload('file', text),
        onError: (error) => logger.warn({ err: error, file }, 'watching the configuration file failed'),
      })
    : undefined;

  const stopStarting = new AbortController();
  const started = startState(state, logger, stopStarting.signal).then(() => {
    gateway.markStarted();
    logger.info('startup complete');
  });
  started.catch(() => {}); // only rejects when shutdown interrupts it

  let shutdown: Promise<number> | undefined;
  return {
    gateway,
    started,
    reload: () => void reloader.reload('signal'),
    shutdown() {
      shutdown ??= (async () => {
        watch?.close();
        // No new start attempt after this; one under way (a database being created or connected to)
        // may finish while the gateway drains: requests served before it finished left usage records
        // that only the database can take.
        stopStarting.abort();
        const { delay, timeout } = gateway.runtime.current.config.shutdown;
        const [{ forced }, startSettled] = await Promise.all([
          drainGateway(gateway, logger),
          settlesWithin(started, delay + timeout),
        ]);
        if (!startSettled) {
          logger.warn(
            { timeout_ms: delay + timeout },
            'state services still starting at the shutdown deadline; stopping without them',
          );
        }
        try {
          await state.close();
        } catch (error) {
          logger.error({ err: error }, 'closing state services failed; pending writes may be lost');
        }
        logger.info({ forced }, 'stopped');
        return 0;
      })();
      return shutdown;
    },
  };
}

/** Whether `promise` settles (either way) within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      sleep(ms, false, { signal: timer.signal }),
    ]);
  } finally {
    timer.abort();
  }
}

/** Starts the state services, retrying with backoff: a database that is still coming up is not fatal. */
async function startState(state: StateServices, logger: Logger, signal: AbortSignal): Promise<void> {
  for (let delay = START_RETRY_MIN_MS; ; delay = Math.min(delay * 2, START_RETRY_MAX_MS)) {
    try {
      await state.start();
      return;
    } catch (error) {
      if (signal.aborted) throw error;
      logger.error({ err: error, retry_in_ms: delay }, 'starting state services failed; retrying');
    }
    await sleep(delay, undefined, { signal });
  }
}
