import type { Deployment } from '../../config/load.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { Provider } from '../contract.js';
import { createUpstreamClient } from '../http/upstream-client.js';
import type { ChatCompletionRequest } from '../openai-types.js';
import { toAnthropicRequest } from './convert-request.js';
import { toChatCompletion } from './convert-response.js';
import { anthropicChunks } from './convert-stream.js';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const API_VERSION = '2023-06-01';

/**
 * The messages endpoint below a base URL. Anthropic's SDKs take the base without `/v1`
 * (ANTHROPIC_BASE_URL); a base that already ends in `/v1` is accepted too.
 */
function messagesUrl(baseUrl: string): URL {
  const base = baseUrl.replace(/\/+$/, '');
  return new URL(base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`);
}

/** The adapter for Anthropic's Messages API, converting to and from OpenAI shapes. */
export function createAnthropicProvider(deployment: Deployment): Provider {
  const client = createUpstreamClient(deployment);
  const url = messagesUrl(deployment.baseUrl ?? DEFAULT_BASE_URL);
  const headers: Record<string, string> = { 'anthropic-version': API_VERSION };
  if (deployment.apiKey !== undefined) headers['x-api-key'] = deployment.apiKey;

  return {
    id: deployment.id,

    async chat(request, context) {
      const payload = await client.postJson(
        { url, headers, body: toAnthropicRequest(request, false) },
        context,
      );
      return toChatCompletion(payload, deployment.id);
    },

    chatStream(request, context) {
      let pending: ChatCompletionRequest | undefined = request;
      const options = { model: request.model, includeUsage: request.stream_options?.include_usage === true };
      return anthropicChunks(
        () => {
          const body = toAnthropicRequest(pending as ChatCompletionRequest, true);
          // Sent once: an open stream does not keep its request (the whole prompt) alive.
          pending = undefined;
          return client.postEvents({ url, headers, body }, context);
        },
        options,
        deployment.id,
      );
    },

    async embed() {
      throw new GatewayError('unsupported_parameter', 'anthropic does not offer embeddings', {
        param: 'model',
      });
    },

    close: () => client.close(),
  };
}
