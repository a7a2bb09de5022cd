import type { RouteInfo } from '../routing/router.js';
import type { TraceContext } from '../telemetry/trace-context.js';
import type { Principal } from './authenticate.js';
import type { Runtime } from './runtime.js';

/** Per-request facts gathered along the way, read by the access log and metrics. */
export interface RequestState {
  readonly runtime: Runtime;
  readonly trace: TraceContext;
  readonly startedAt: number;
  principal: Principal | undefined;
  alias: string | undefined;
  route: RouteInfo | undefined;
  stream: boolean;
  ttftMs: number | undefined;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** Error code when the request ended with an error, including mid-stream. */
  errorCode: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    gantry: RequestState;
  }
}
