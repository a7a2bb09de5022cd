import cluster, { type Worker } from 'node:cluster';
import { EX_CONFIG } from '../../config/config-error.js';
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
  // Our own record: cluster.workers may still list a worker whose IPC channel has not closed yet.
  const live = new Map<number, Worker>();
  let restartDelay = 0;
  let allForked = false;
  let shuttingDown = false;
  let failedExits = 0;
  let exitCode: number | undefined;

  const send = (worker: Worker, message: ClusterMessage) => {
    if (worker.isConnected()) worker.send(message);
  };
  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    live.set(worker.id, worker);
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
    live.delete(worker.id);
    if (shuttingDown) {
      if (code !== 0) failedExits++;
      logger.info({ worker: worker.id, worker_pid: worker.process.pid, code, signal }, 'worker stopped');
      if (live.size === 0) {
        logger.info({ failed_workers: failedExits }, 'all workers stopped');
        exitAfterFlush(logger, exitCode ?? (failedExits === 0 ? 0 : 1));
      }
      return;
    }
    if (code === EX_CONFIG) {
      // The worker could not start at all (see its log): every replacement would fail the same way.
      shuttingDown = true;
      logger.fatal({ worker: worker.id, code }, 'a worker could not start; stopping the cluster');
      exitCode = EX_CONFIG;
      if (live.size === 0) exitAfterFlush(logger, EX_CONFIG);
      for (const other of live.values()) send(other, { type: 'gantry:shutdown' });
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
    for (const worker of live.values()) send(worker, { type: 'gantry:reload' });
  });

  onTerminationSignals(logger, (signal) => {
    shuttingDown = true;
    logger.info({ signal, workers: live.size }, 'shutting down: draining every worker');
    if (live.size === 0) exitAfterFlush(logger, 0);
    for (const worker of live.values()) send(worker, { type: 'gantry:shutdown' });
    const limit = config.shutdown.delay + config.shutdown.timeout + SHUTDOWN_SLACK_MS;
    setTimeout(() => {
      logger.error({ limit_ms: limit }, 'workers did not stop in time: killing them');
      for (const worker of live.values()) worker.process.kill('SIGKILL');
      exitAfterFlush(logger, 1);
    }, limit).unref();
  });

  logger.info({ workers, pid: process.pid }, 'cluster primary starting workers');
  fork();
}
