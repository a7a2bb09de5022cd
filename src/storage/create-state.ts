import type { Config } from '../config/load.js';
import type { Authenticator } from '../server/authenticate.js';
import { createMasterKeyAuthenticator } from '../server/authenticate.js';
import type { ReadinessCheck } from '../server/readiness-check.js';
import { OPEN_POLICY, type RequestPolicy } from '../server/request-policy.js';
import type { ServerContext } from '../server/server-context.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';

/**
 * Stateful services (database, Redis, keys, limits, usage, cache, conversations) as seen by the
 * request path. `serve` calls createState once, runs `start()` (migrations, connections) before
 * marking startup complete, and `close()` after the server has drained.
 */
export interface StateServices {
  readonly authenticator: Authenticator;
  readonly policy: RequestPolicy;
  readonly readinessChecks: readonly ReadinessCheck[];
  readonly plugins: NonNullable<ServerContext['plugins']>;
  start(): Promise<void>;
  /** Flushes pending writes (usage buffer) and closes connections. */
  close(): Promise<void>;
}

// PLACEHOLDER — the state issue replaces this with the real database/Redis-backed services.
export async function createState(
  config: Config,
  _dependencies: { logger: Logger; metrics: Metrics },
): Promise<StateServices> {
  return {
    authenticator: createMasterKeyAuthenticator(config.auth.master_key),
    policy: OPEN_POLICY,
    readinessChecks: [],
    plugins: [],
    async start() {},
    async close() {},
  };
}
