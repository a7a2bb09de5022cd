import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../telemetry/logger.js';
import type { Gateway } from '../gateway.js';

/** After the deadline, how long aborted streams get to write their error event before sockets are cut. */
const ABORT_GRACE_MS = 2_000;
/** Connections that turn idle after a response started before draining are closed this often. */
const IDLE_SWEEP_MS = 100;

/**
 * Drains the gateway: readiness fails at once; the listener keeps accepting for `shutdown.delay`
 * (endpoint removal propagates to load balancers meanwhile); then it stops accepting, closes idle
 * keep-alive sockets and lets requests and streams finish for up to `shutdown.timeout`. At the
 * deadline every remaining stream ends with a server_shutting_down error event and its upstream
 * call is aborted. Resolves once every connection is closed.
 */
export async function drainGateway(gateway: Gateway, logger: Logger): Promise<{ forced: boolean }> {
  const { delay, timeout } = gateway.runtime.current.config.shutdown;
  gateway.startDraining();
  logger.info({ delay_ms: delay, timeout_ms: timeout }, 'draining: readiness fails from now on');
  if (delay > 0) await sleep(delay);

  const server = gateway.app.server;
  let closed = false;
  const closing = gateway.close().finally(() => {
    closed = true;
  });
  logger.info('stopped accepting connections; waiting for requests in flight');
  const sweep = setInterval(async () => {
    server.closeIdleConnections();
    // A client may hold a connection open without sending a request; Node counts it as neither idle
    // nor active, so once no request is in flight every remaining connection is closed.
    const inflight = (await gateway.metrics.inflight.get()).values[0]?.value ?? 0;
    if (inflight === 0) server.closeAllConnections();
  }, IDLE_SWEEP_MS);
  try {
    await Promise.race([closing, sleep(timeout, undefined, { ref: false })]);
    if (closed) return { forced: false };
    logger.warn({ timeout_ms: timeout }, 'shutdown timeout reached: ending the remaining streams');
    gateway.abortStreams();
    await Promise.race([closing, sleep(ABORT_GRACE_MS, undefined, { ref: false })]);
    if (!closed) {
      logger.warn('connections still open after the abort grace period: closing them');
      server.closeAllConnections();
    }
    await closing;
    return { forced: true };
  } finally {
    clearInterval(sweep);
  }
}
