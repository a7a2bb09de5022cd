import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { UsageStore } from '../../usage/usage-store.js';
import { validate } from '../validate.js';

const querySchema = z
  .object({
    group_by: z.enum(['key', 'model', 'day']).default('key'),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    key_id: z.string().optional(),
  })
  .strict();

/** GET /admin/usage?group_by=key|model|day[&from&to&key_id]: requests, tokens and cost per group. */
export function registerAdminUsage(
  app: FastifyInstance,
  deps: { usage: () => UsageStore; flush: () => Promise<void> },
) {
  app.get('/admin/usage', async (request) => {
    const query = validate(querySchema, request.query ?? {});
    // Include what this process has served but not yet written.
    await deps.flush();
    const data = await deps.usage().summarize({
      groupBy: query.group_by,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      keyId: query.key_id,
    });
    return { object: 'list', group_by: query.group_by, data };
  });
}
