import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** GET /metrics in Prometheus text format. `collect` lets a cluster primary aggregate its workers. */
export function registerMetrics(
  app: FastifyInstance,
  collect: () => Promise<{ body: string; contentType: string }>,
) {
  app.get('/metrics', async (_request, reply) => {
    const { body, contentType } = await collect();
    return reply.type(contentType).send(body);
  });
}

export function collectFrom(registry: Registry) {
  return async () => ({ body: await registry.metrics(), contentType: registry.contentType });
}
