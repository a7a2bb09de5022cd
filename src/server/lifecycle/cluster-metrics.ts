import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../../telemetry/logger.js';
import { type ClusterMessage, isClusterMessage } from './cluster-messages.js';

const SCRAPE_TIMEOUT_MS = 10_000;

type Collected = { body: string; contentType: string };

/**
 * Worker side of /metrics under node:cluster. Any worker may receive the scrape (connections are
 * balanced), so it asks the primary, which gathers every worker's registry over IPC and sums them
 * (prom-client's AggregatorRegistry). This worker answers the primary's gather request like the
 * others: its event loop is free while it awaits.
 */
export function createWorkerMetricsCollector(registry: Registry): () => Promise<Collected> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs the listener that answers the primary's gather requests.
  new AggregatorRegistry();
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: Collected) => void; reject: (error: Error) => void }>();
  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message) || message.type !== 'gantry:metrics-response') return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(message.error));
    else waiter.resolve({ body: message.body ?? '', contentType: message.contentType ?? 'text/plain' });
  });
  return () =>
    new Promise<Collected>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer the metrics request'));
      }, SCRAPE_TIMEOUT_MS);
      pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ type: 'gantry:metrics-request', id } satisfies ClusterMessage);
    });
}

/** Primary side: answers workers' metrics requests with the sum over every worker. */
export function serveClusterMetrics(logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isClusterMessage(message) || message.type !== 'gantry:metrics-request') return;
    const reply = (answer: ClusterMessage) => {
      if (worker.isConnected()) worker.send(answer);
    };
    aggregator.clusterMetrics().then(
      (body) =>
        reply({ type: 'gantry:metrics-response', id: message.id, body, contentType: aggregator.contentType }),
      (error: Error) => {
        logger.warn({ err: error }, 'aggregating worker metrics failed');
        reply({ type: 'gantry:metrics-response', id: message.id, error: error.message });
      },
    );
  });
}
