import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';

const CHECK_TIMEOUT_MS = 2_000;

type CheckResult = { status: 'ok' | 'fail'; latency_ms: number; error?: string };

/**
 * Probes. Liveness never touches providers, the database or Redis: a provider outage must not
 * restart healthy pods; it fails only when the event loop itself stalls. Readiness reports each
 * check with its status and latency.
 */
export function registerProbes(
  app: FastifyInstance,
  context: ServerContext,
  eventLoop: { lagMs(): number } = { lagMs: () => 0 },
) {
  app.get('/health', async (request, reply) => {
    const lag = Math.round(eventLoop.lagMs() * 100) / 100;
    const limit = request.gantry.runtime.config.limits.liveness_lag;
    const ok = lag <= limit;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'stalled', event_loop_lag_ms: lag });
  });

  app.get('/startup', async (_request, reply) => {
    if (context.isStarted()) return { status: 'ok' };
    return reply.code(503).send({ status: 'starting' });
  });

  app.get('/ready', async (request, reply) => {
    const checks: Record<string, CheckResult> = {};
    const draining = context.isDraining();
    checks.draining = { status: draining ? 'fail' : 'ok', latency_ms: 0 };
    checks.startup = { status: context.isStarted() ? 'ok' : 'fail', latency_ms: 0 };
    checks.config = { status: 'ok', latency_ms: 0 };
    // A draining process is leaving either way; its stores are not worth a round trip.
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
        checks[`upstream:${alias.alias}`] = {
          status: ok ? 'ok' : 'fail',
          latency_ms: 0,
          ...(ok ? {} : { error: 'every deployment of this alias has an open circuit' }),
        };
      }
    }
    const ready = Object.values(checks).every((check) => check.status === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
}

function elapsed(started: number) {
  return Math.round((performance.now() - started) * 100) / 100;
}
