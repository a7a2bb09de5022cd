import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Authenticator } from './authenticate.js';
import type { ReadinessCheck } from './readiness-check.js';
import type { RequestPolicy } from './request-policy.js';
import type { RuntimeHolder } from './runtime.js';

/** Everything the routes need, passed down explicitly (no globals). */
export interface ServerContext {
  readonly runtime: RuntimeHolder;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly authenticator: Authenticator;
  readonly policy: RequestPolicy;
  /** Aborted with a server_shutting_down GatewayError when the drain deadline passes. */
  readonly drainSignal: AbortSignal;
  /** Checks behind GET /ready, each reported with its status and latency. */
  readonly readinessChecks: readonly ReadinessCheck[];
  /** Whether initialisation (migrations, warm-up) is finished — GET /startup. */
  readonly isStarted: () => boolean;
  /** Whether the process is draining (readiness fails at once). */
  readonly isDraining: () => boolean;
  /** Extra route registrations (admin API, conversations, …) from other domains. */
  readonly plugins?: ReadonlyArray<(app: import('fastify').FastifyInstance) => void | Promise<void>>;
}
