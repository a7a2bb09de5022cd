import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../../config/load.js';
import type { Logger } from '../../telemetry/logger.js';
import { type ClusterMessage, isClusterMessage } from './cluster-messages.js';
import { serveClusterMetrics } from './cluster-metrics.js';
import { exitAfterFlush, onTerminationSignals } from './process-signals.js';

/** A worker that dies sooner than this after its start counts as crash-looping. */
const STABLE_AFTER_MS = 10_000;
const RESTART_DELAY_MAX_MS = 30_000;
/** Past delay + timeout, how long the primary waits for workers before killing them. */
const SHUTDOWN_SLACK_MS = 10_000;

/**
 * The node:cluster primary: serves no requests itself. It forks one worker first and the rest once
 * that one has started (so migrations run once, not racing), restarts crashed workers with backoff,
 * answers workers' /metrics aggregation requests, forwards SIGHUP as a reload, and on SIGTERM/SIGINT
 * drains every worker and exits 0 when all of them exited cleanly.
 */
export function runClusterPrimary(options: { config: Config; logger: Logger; workers: number }): void {
  const { config, logger, workers } = options;
  const startedAt = new Map<number, number>();
  let restartDelay = 0;
  let allForked = false;
  let shuttingDown = false;
  let failedExits = 0;

  const send = (worker: Worker, message: ClusterMessage) => {
    if (worker.isConnected()) worker.send(message);
  };
  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
  };

  serveClusterMetrics(logger);
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isClusterMessage(message) || message.type !== 'gantry:started') return;
    logger.info({ worker: worker.id, worker_pid: worker.process.pid }, 'worker started');
    if (!allForked && !shuttingDown) {
      allForked = true;
      for (let index = 1; index < workers; index++) fork();
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (shuttingDown) {
      if (code !== 0) failedExits++;
      logger.info({ worker: worker.id, worker_pid: worker.process.pid, code, signal }, 'worker stopped');
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.info({ failed_workers: failedExits }, 'all workers stopped');
        exitAfterFlush(logger, failedExits === 0 ? 0 : 1);
      }
      return;
    }
    restartDelay =
      lived < STABLE_AFTER_MS ? Math.min(Math.max(restartDelay * 2, 500), RESTART_DELAY_MAX_MS) : 0;
    logger.error(
      { worker: worker.id, worker_pid: worker.process.pid, code, signal, restart_in_ms: restartDelay },
      'worker exited unexpectedly; restarting it',
    );
    setTimeout(() => {
      if (!shuttingDown) fork();
    }, restartDelay);
  });

  process.on('SIGHUP', () => {
    logger.info('SIGHUP: asking every worker to reload the configuration');
    for (const worker of Object.values(cluster.workers ?? {}))
      if (worker) send(worker, { type: 'gantry:reload' });
  });

  onTerminationSignals(logger, (signal) => {
    shuttingDown = true;
    logger.info(
      { signal, workers: Object.keys(cluster.workers ?? {}).length },
      'shutting down: draining every worker',
    );
    const running = Object.values(cluster.workers ?? {});
    if (running.length === 0) exitAfterFlush(logger, 0);
    for (const worker of running) if (worker) send(worker, { type: 'gantry:shutdown' });
    const limit = config.shutdown.delay + config.shutdown.timeout + SHUTDOWN_SLACK_MS;
    setTimeout(() => {
      logger.error({ limit_ms: limit }, 'workers did not stop in time: killing them');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      exitAfterFlush(logger, 1);
    }, limit).unref();
  });

  logger.info({ workers, pid: process.pid }, 'cluster primary starting workers');
  fork();
}
