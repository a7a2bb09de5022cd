import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/load.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { ProviderFactory } from '../providers/contract.js';
import { createRouter } from '../routing/router.js';
import type { Logger } from '../telemetry/logger.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { type Authenticator, createMasterKeyAuthenticator } from './authenticate.js';
import { type BuildServerOptions, buildServer } from './build-server.js';
import { createAdmissionGate } from './lifecycle/admission-gate.js';
import { createEventLoopMonitor } from './lifecycle/event-loop-monitor.js';
import type { ReadinessCheck } from './readiness-check.js';
import { OPEN_POLICY, type RequestPolicy } from './request-policy.js';
import { createRuntimeHolder, type Runtime } from './runtime.js';
import type { ServerContext } from './server-context.js';

export interface GatewayOptions extends Omit<BuildServerOptions, 'admission' | 'eventLoop'> {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly providerFactory?: ProviderFactory;
  readonly authenticator?: Authenticator;
  readonly policy?: RequestPolicy;
  readonly readinessChecks?: readonly ReadinessCheck[];
  readonly plugins?: ServerContext['plugins'];
}

/** The composition root: config → metrics, router, server. Returns handles for lifecycle control. */
export async function createGateway(options: GatewayOptions) {
  const { config, logger } = options;
  const metrics = options.metrics ?? createMetrics();
  const buildRuntime = (next: Config): Runtime => ({
    config: next,
    router: createRouter(next, { metrics, logger, providerFactory: options.providerFactory }),
  });
  const runtime = createRuntimeHolder(buildRuntime(config));
  const drainController = new AbortController();
  let started = false;
  let draining = false;
  const context: ServerContext = {
    runtime,
    logger,
    metrics,
    authenticator: options.authenticator ?? createMasterKeyAuthenticator(config.auth.master_key),
    policy: options.policy ?? OPEN_POLICY,
    drainSignal: drainController.signal,
    readinessChecks: options.readinessChecks ?? [],
    isStarted: () => started,
    isDraining: () => draining,
    plugins: options.plugins,
  };
  const eventLoop = createEventLoopMonitor();
  const admission = createAdmissionGate({ limits: config.limits, metrics, lagMs: eventLoop.lagMs });
  const app: FastifyInstance = await buildServer(context, { ...options, admission, eventLoop });

  return {
    app,
    metrics,
    runtime,
    context,
    eventLoop,
    /** Builds a runtime from a new config and swaps it in; the old router closes once drained. */
    reload(next: Config) {
      const previous = runtime.swap(buildRuntime(next));
      admission.configure(next.limits);
      // Requests in flight hold the previous runtime; give them the longest total timeout to finish.
      const longest = Math.max(
        ...previous.config.models.flatMap((m) => m.deployments.map((d) => d.timeouts.total)),
      );
      setTimeout(() => void previous.router.close(), Math.min(longest, 600_000)).unref();
    },
    markStarted() {
      started = true;
    },
    /** Readiness fails from now on; new responses carry Connection: close. */
    startDraining() {
      draining = true;
    },
    /** Ends every stream still open with a server_shutting_down error event and aborts its upstream. */
    abortStreams() {
      drainController.abort(
        new GatewayError('server_shutting_down', 'The server is shutting down; retry the request.'),
      );
    },
    /** Stops accepting, waits for every connection to end, then closes upstream clients. */
    async close() {
      eventLoop.stop();
      await app.close();
      await runtime.current.router.close();
    },
  };
}

export type Gateway = Awaited<ReturnType<typeof createGateway>>;
