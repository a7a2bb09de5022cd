import type { FastifyInstance } from 'fastify';
import type { EmbeddingRequest } from '../../providers/openai-types.js';
import { newRouteInfo } from '../../routing/router.js';
import { assertAliasAllowed } from '../authenticate.js';
import { embeddingRequestSchema } from '../schemas/embedding-request.js';
import type { ServerContext } from '../server-context.js';
import { settleAdmission } from '../settle-admission.js';
import { validate } from '../validate.js';
import { requestSignal } from './chat-completions.js';

/** POST /v1/embeddings */
export function registerEmbeddings(app: FastifyInstance, context: ServerContext) {
  app.post('/v1/embeddings', async (request, reply) => {
    const state = request.gantry;
    const body = validate(embeddingRequestSchema, request.body) as EmbeddingRequest;
    const alias = state.runtime.router.resolveAlias(body.model);
    state.alias = alias.alias;
    assertAliasAllowed(state.principal, alias.alias);
    const tokens =
      typeof body.input === 'string' ? body.input.length / 4 : JSON.stringify(body.input).length / 4;
    const admission = await context.policy.admit({
      principal: state.principal,
      alias,
      requestId: request.id,
      estimatedTokens: Math.ceil(tokens),
    });
    for (const [name, value] of Object.entries(admission.headers)) reply.header(name, value);
    state.route = newRouteInfo();
    const signal = requestSignal(reply, context.drainSignal);
    let usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined;
    try {
      const result = await state.runtime.router.embed(alias.alias, body, {
        signal,
        requestId: request.id,
        traceparent: state.trace.traceparent,
        info: state.route,
      });
      usage = {
        prompt_tokens: result.usage.prompt_tokens,
        completion_tokens: 0,
        total_tokens: result.usage.total_tokens,
      };
      state.promptTokens = result.usage.prompt_tokens;
      state.completionTokens = 0;
      return result;
    } finally {
      settleAdmission(admission, request, usage, usage ? 200 : 502);
    }
  });
}
