import type { FastifyInstance } from 'fastify';
import { GatewayError, isGatewayError } from '../../errors/gateway-error.js';
import { newRouteInfo } from '../../routing/router.js';
import { assertAliasAllowed } from '../authenticate.js';
import { simpleChatRequestSchema } from '../schemas/simple-chat-request.js';
import type { ServerContext } from '../server-context.js';
import { settleAdmission } from '../settle-admission.js';
import { validate } from '../validate.js';
import { requestSignal, withSystemPrompt } from './chat-completions.js';

/** POST /chat — `{message, model?, max_tokens?}` → `{response, model, tokens_used}`; 502 on provider error. */
export function registerSimpleChat(app: FastifyInstance, context: ServerContext) {
  app.post('/chat', async (request, reply) => {
    const state = request.gantry;
    const body = validate(simpleChatRequestSchema, request.body);
    const { router, config } = state.runtime;
    const alias = router.resolveAlias(body.model ?? config.app.default_model);
    state.alias = alias.alias;
    assertAliasAllowed(state.principal, alias.alias);
    const chatRequest = withSystemPrompt(alias, {
      model: alias.alias,
      messages: [{ role: 'user', content: body.message }],
      ...(body.max_tokens ? { max_tokens: body.max_tokens } : {}),
    });
    const admission = await context.policy.admit({
      principal: state.principal,
      alias,
      requestId: request.id,
      estimatedTokens: Math.ceil(body.message.length / 4) + (body.max_tokens ?? 1024),
    });
    for (const [name, value] of Object.entries(admission.headers)) reply.header(name, value);
    state.route = newRouteInfo();
    const signal = requestSignal(reply, context.drainSignal);
    let usage: Awaited<ReturnType<typeof router.chat>>['usage'];
    try {
      const completion = await router.chat(alias.alias, chatRequest, {
        signal,
        requestId: request.id,
        traceparent: state.trace.traceparent,
        info: state.route,
      });
      usage = completion.usage;
      state.promptTokens = usage?.prompt_tokens;
      state.completionTokens = usage?.completion_tokens;
      return {
        response: completion.choices[0]?.message.content ?? '',
        model: alias.alias,
        tokens_used: usage?.total_tokens ?? 0,
      };
    } catch (error) {
      // The minimal contract promises 502 for any provider failure.
      if (
        isGatewayError(error) &&
        (error.code.startsWith('upstream_') || error.code.startsWith('timeout_'))
      ) {
        throw new GatewayError('upstream_error', error.message, { status: 502, cause: error });
      }
      throw error;
    } finally {
      settleAdmission(admission, request, usage, usage ? 200 : 502);
    }
  });
}
