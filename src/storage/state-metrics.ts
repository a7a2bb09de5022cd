import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of the state services, on the gateway's registry (reused if already registered). */
export function createStateMetrics(registry: Registry) {
  const registers = [registry];
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  return {
    usageBufferSize:
      existing<Gauge>('gantry_usage_buffer_size') ??
      new Gauge({
        name: 'gantry_usage_buffer_size',
        help: 'Usage records waiting to be written to the database.',
        registers,
      }),
    usageDropped:
      existing<Counter>('gantry_usage_dropped_total') ??
      new Counter({
        name: 'gantry_usage_dropped_total',
        help: 'Usage records dropped because the buffer was full (database unreachable too long).',
        registers,
      }),
    rateLimited:
      existing<Counter<'limit'>>('gantry_rate_limited_total') ??
      new Counter({
        name: 'gantry_rate_limited_total',
        help: 'Requests refused by per-key rate limits, by limit (requests, tokens).',
        labelNames: ['limit'] as const,
        registers,
      }),
    budgetExceeded:
      existing<Counter>('gantry_budget_exceeded_total') ??
      new Counter({
        name: 'gantry_budget_exceeded_total',
        help: 'Requests refused because the key spent its budget.',
        registers,
      }),
    storeErrors:
      existing<Counter>('gantry_rate_limit_store_errors_total') ??
      new Counter({
        name: 'gantry_rate_limit_store_errors_total',
        help: 'Rate limit checks that failed because the store (Redis) was unreachable.',
        registers,
      }),
    cacheRequests:
      existing<Counter<'result'>>('gantry_cache_requests_total') ??
      new Counter({
        name: 'gantry_cache_requests_total',
        help: 'Response cache lookups, by result (hit, miss, error).',
        labelNames: ['result'] as const,
        registers,
      }),
  };
}

export type StateMetrics = ReturnType<typeof createStateMetrics>;
