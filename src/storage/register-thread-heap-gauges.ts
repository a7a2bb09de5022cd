import { Gauge, type Registry } from 'prom-client';
import type { ThreadHeap } from './pglite-worker-client.js';

/**
 * How long a scrape waits for the database thread, which answers between two queries: a long one
 * (an index build, seconds) must not hold /metrics. Past it, the gauges keep their last values.
 */
const ANSWER_WITHIN_MS = 1_000;

const NAMES = {
  used: 'gantry_embedded_database_heap_size_used_bytes',
  total: 'gantry_embedded_database_heap_size_total_bytes',
} as const;

/**
 * The embedded database thread's V8 heap, beside the process's own `nodejs_heap_size_*_bytes`
 * (which cover the main thread only): used and committed bytes, read from the thread at each scrape.
 * Replaces gauges of an earlier database on the same registry.
 */
export function registerThreadHeapGauges(registry: Registry, read: () => Promise<ThreadHeap>): void {
  const answer = async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ANSWER_WITHIN_MS);
    });
    try {
      return await Promise.race([read().catch(() => undefined), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  for (const kind of ['used', 'total'] as const) {
    registry.removeSingleMetric(NAMES[kind]);
    new Gauge({
      name: NAMES[kind],
      help: `The embedded database thread's V8 heap, ${kind === 'used' ? 'in use' : 'committed'} (bytes).`,
      registers: [registry],
      async collect() {
        const heap = await answer();
        if (heap) this.set(heap[kind]);
      },
    });
  }
}
