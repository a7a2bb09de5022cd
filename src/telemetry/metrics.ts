import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Every Gantry metric, on a registry of its own (no global state). Prefix `gantry_`. */
export function createMetrics(options: { collectProcessMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.collectProcessMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requestsTotal: new Counter({
      name: 'gantry_requests_total',
      help: 'Requests answered, by model alias, route and HTTP status.',
      labelNames: ['model', 'route', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'gantry_request_duration_seconds',
      help: 'Time from request received to response finished.',
      labelNames: ['model', 'route'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    ttft: new Histogram({
      name: 'gantry_ttft_seconds',
      help: 'Time from request received to the first token sent (streams) or the answer (non-stream).',
      labelNames: ['model'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    tokensTotal: new Counter({
      name: 'gantry_tokens_total',
      help: 'Tokens processed, by model alias and type (prompt, completion).',
      labelNames: ['model', 'type'] as const,
      registers,
    }),
    upstreamErrors: new Counter({
      name: 'gantry_upstream_errors_total',
      help: 'Failed upstream attempts, by deployment and error kind.',
      labelNames: ['deployment', 'kind'] as const,
      registers,
    }),
    retriesTotal: new Counter({
      name: 'gantry_retries_total',
      help: 'Upstream retries performed.',
      labelNames: ['deployment'] as const,
      registers,
    }),
    retriesDenied: new Counter({
      name: 'gantry_retries_denied_total',
      help: 'Retries not performed because the retry budget was spent.',
      registers,
    }),
    fallbacksTotal: new Counter({
      name: 'gantry_fallbacks_total',
      help: 'Requests that moved on to the next deployment of their alias.',
      labelNames: ['model'] as const,
      registers,
    }),
    inflight: new Gauge({
      name: 'gantry_inflight_requests',
      help: 'Requests being processed now.',
      registers,
    }),
    circuitState: new Gauge({
      name: 'gantry_circuit_state',
      help: 'Circuit breaker state per deployment: 0 closed, 1 open, 2 half-open.',
      labelNames: ['deployment'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'gantry_queue_depth',
      help: 'Requests waiting for a concurrency slot, per deployment ("_global" for max_inflight).',
      labelNames: ['deployment'] as const,
      registers,
    }),
    queueWait: new Histogram({
      name: 'gantry_queue_wait_seconds',
      help: 'Time requests waited for a concurrency slot.',
      labelNames: ['deployment'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    shedTotal: new Counter({
      name: 'gantry_shed_requests_total',
      help: 'Requests refused with 503 because of overload, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    configReloads: new Counter({
      name: 'gantry_config_reloads_total',
      help: 'Configuration reloads, by result (success, error).',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
