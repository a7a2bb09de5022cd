import type { FastifyRequest } from 'fastify';
import type { Usage } from '../providers/openai-types.js';
import type { Admission } from './request-policy.js';

/** Settles a request's admission (rate-limit reconciliation, usage record) from its request state. */
export function settleAdmission(
  admission: Admission,
  request: FastifyRequest,
  usage: Usage | undefined,
  status: number,
): void {
  const state = request.gantry;
  admission.settle({
    usage,
    deployment: state.route?.deployment,
    upstreamModel: state.route?.upstreamModel,
    status,
    latencyMs: performance.now() - state.startedAt,
    ttftMs: state.ttftMs,
  });
}
