import type { Config } from '../../config/load.js';
import { GatewayError, isGatewayError } from '../../errors/gateway-error.js';
import { type ConcurrencyGate, createConcurrencyGate } from '../../routing/concurrency-gate.js';
import type { Metrics } from '../../telemetry/metrics.js';

/** The queue-depth label of the process-wide gate, next to the per-deployment ones. */
export const GLOBAL_QUEUE = '_global';

type Limits = Config['limits'];

export interface AdmissionGate {
  /**
   * Admits one request: resolves with its release function, or rejects with 503 server_overloaded
   * (lag, full queue, queue timeout) or with the signal's reason when it aborts while queued.
   */
  admit(signal: AbortSignal): Promise<() => void>;
  /** True when no limit and no lag shedding is configured: every request is admitted at once. */
  readonly unlimited: boolean;
  /** Applies new limits (hot reload); requests admitted earlier release into the gate they came from. */
  configure(limits: Limits): void;
}

const NOTHING_TO_RELEASE = () => {};

/**
 * The global backpressure gate: `limits.max_inflight` slots, a bounded FIFO queue of
 * `limits.max_queue` with `limits.max_queue_wait`, and shedding while the event loop lags past
 * `limits.shed_on_lag`. Each refusal is counted in gantry_shed_requests_total{reason}.
 */
export function createAdmissionGate(options: {
  limits: Limits;
  metrics: Metrics;
  lagMs: () => number;
}): AdmissionGate {
  const { metrics } = options;
  let limits: Limits | undefined;
  let gate: ConcurrencyGate | undefined;

  function configure(next: Limits) {
    if (
      limits &&
      limits.max_inflight === next.max_inflight &&
      limits.max_queue === next.max_queue &&
      limits.max_queue_wait === next.max_queue_wait
    ) {
      limits = next;
      return;
    }
    limits = next;
    metrics.queueDepth.set({ deployment: GLOBAL_QUEUE }, 0);
    gate =
      next.max_inflight === 0
        ? undefined
        : createConcurrencyGate({
            limit: next.max_inflight,
            maxQueue: next.max_queue,
            maxWaitMs: next.max_queue_wait,
            onQueueChange: (depth) => metrics.queueDepth.set({ deployment: GLOBAL_QUEUE }, depth),
            onWaited: (seconds) => metrics.queueWait.observe({ deployment: GLOBAL_QUEUE }, seconds),
          });
  }
  configure(options.limits);

  return {
    configure,
    get unlimited() {
      return gate === undefined && limits!.shed_on_lag === 0;
    },
    async admit(signal) {
      const shedOnLag = limits!.shed_on_lag;
      if (shedOnLag > 0) {
        const lag = options.lagMs();
        if (lag > shedOnLag) {
          metrics.shedTotal.inc({ reason: 'event_loop_lag' });
          throw new GatewayError(
            'server_overloaded',
            `server overloaded: event-loop lag of ${Math.round(lag)} ms exceeds ${shedOnLag} ms`,
            { retryAfterSeconds: 1 },
          );
        }
      }
      const current = gate;
      if (!current) return NOTHING_TO_RELEASE;
      let pending: ReturnType<ConcurrencyGate['acquire']>;
      try {
        pending = current.acquire(signal);
      } catch (error) {
        metrics.shedTotal.inc({ reason: 'queue_full' });
        throw error;
      }
      try {
        return await pending;
      } catch (error) {
        if (isGatewayError(error) && error.code === 'server_overloaded') {
          metrics.shedTotal.inc({ reason: 'queue_timeout' });
        }
        throw error;
      }
    },
  };
}
