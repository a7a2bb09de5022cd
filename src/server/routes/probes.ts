import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Probes. Liveness never touches providers, the database or Redis: a provider outage must not
 * restart healthy pods. Readiness reports each check with its status and latency.
 */
export function registerProbes(app: FastifyInstance, context: ServerContext) {
  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/startup', async (_request, reply) => {
    if (context.isStarted()) return { status: 'ok' };
    return reply.code(503).send({ status: 'starting' });
  });

  app.get('/ready', async (request, reply) => {
    const checks: Record<string, { status: 'ok' | 'fail'; latency_ms: number; error?: string }> = {};
    const draining = context.isDraining();
    checks.draining = { status: draining ? 'fail' : 'ok', latency_ms: 0 };
    checks.startup = { status: context.isStarted() ? 'ok' : 'fail', latency_ms: 0 };
    checks.config = { status: 'ok', latency_ms: 0 };
    if (!draining) {
      await Promise.all(
        context.readinessChecks.map(async (readinessCheck) => {
          const started = performance.now();
          try {
            await readinessCheck.check(AbortSignal.timeout(CHECK_TIMEOUT_MS));
            checks[readinessCheck.name] = { status: 'ok', latency_ms: elapsed(started) };
          } catch (error) {
            checks[readinessCheck.name] = {
              status: 'fail',
              latency_ms: elapsed(started),
              error: (error as Error).message,
            };
          }
        }),
      );
    }
    const { config, router } = request.gantry.runtime;
    if (config.readiness.require_upstream) {
      for (const alias of router.aliases()) {
        const ok = router.isAliasAvailable(alias.alias);
        checks[`upstream:${alias.alias}`] = { status: ok ? 'ok' : 'fail', latency_ms: 0 };
      }
    }
    const ready = Object.values(checks).every((check) => check.status === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
}

function elapsed(started: number) {
  return Math.round((performance.now() - started) * 100) / 100;
}
