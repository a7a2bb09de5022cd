import type { Deployment } from '../../config/load.js';
import type { Provider } from '../contract.js';
import { createUpstreamClient } from '../http/upstream-client.js';
import { authHeaders, endpointUrl } from '../presets.js';
import { expectChatCompletion, expectEmbeddings } from './convert-response.js';
import { chatChunks } from './convert-stream.js';

/**
 * The adapter for every upstream that speaks OpenAI's API (OpenAI, Azure, vLLM, Ollama, Gemini, …;
 * see presets.ts). Requests go out as they came in, unknown fields included.
 */
export function createOpenAICompatibleProvider(deployment: Deployment): Provider {
  const client = createUpstreamClient(deployment);
  const chatUrl = endpointUrl(deployment, 'chat/completions');
  const embeddingsUrl = endpointUrl(deployment, 'embeddings');
  const headers = authHeaders(deployment);

  return {
    id: deployment.id,

    async chat(request, context) {
      // A whole answer is wanted here even if the client's request said stream: true.
      const body = request.stream ? { ...request, stream: false, stream_options: undefined } : request;
      const payload = await client.postJson({ url: chatUrl, headers, body }, context);
      return expectChatCompletion(payload, deployment.id);
    },

    chatStream(request, context) {
      let body: object | undefined = { ...request, stream: true };
      // No generator of its own around chatChunks: every layer costs promises on every chunk.
      return chatChunks(() => {
        const call = { url: chatUrl, headers, body };
        // Sent once: an open stream does not keep its request (the whole prompt) alive.
        body = undefined;
        return client.postEvents(call, context);
      }, deployment.id);
    },

    async embed(request, context) {
      const payload = await client.postJson({ url: embeddingsUrl, headers, body: request }, context);
      return expectEmbeddings(payload, deployment.id);
    },

    close: () => client.close(),
  };
}
