import { constants } from 'node:os';
import type { Logger } from '../../telemetry/logger.js';

/** Longest wait for the log stream to flush before exiting anyway. */
const FLUSH_TIMEOUT_MS = 2_000;

/** Flushes the (asynchronous) log stream, then exits with `code`. */
export function exitAfterFlush(logger: Logger, code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, FLUSH_TIMEOUT_MS).unref();
  try {
    logger.flush(exit);
  } catch {
    exit();
  }
}

/**
 * SIGTERM/SIGINT: the first starts a graceful shutdown; a second one exits at once with 128+signal
 * (the operator, or the orchestrator's grace period, has run out of patience).
 */
export function onTerminationSignals(logger: Logger, onFirst: (signal: NodeJS.Signals) => void): void {
  let received = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (received) {
        logger.warn({ signal }, 'second signal: exiting at once');
        exitAfterFlush(logger, 128 + constants.signals[signal]);
        return;
      }
      received = true;
      onFirst(signal);
    });
  }
}
