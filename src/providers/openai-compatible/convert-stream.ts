import { eventJson, isRecord } from '../http/event-json.js';
import type { EventStream } from '../http/event-stream.js';
import { rememberRelayedJson } from '../http/relayed-json.js';
import { badResponse, upstreamPayloadError } from '../http/upstream-error.js';
import type { ChatCompletionChunk } from '../openai-types.js';

/**
 * Opens and relays an OpenAI-style event stream as chunks. Errors the upstream sends as
 * `event: error` or as an `{"error":…}` chunk throw; so does a stream that ends without
 * `data: [DONE]`, which would otherwise pass a truncated answer off as a complete one.
 */
export async function* chatChunks(
  open: () => Promise<EventStream>,
  deploymentId: string,
): AsyncGenerator<ChatCompletionChunk> {
  // Opened on the first next(), as a generator would: nothing is sent before the consumer pulls.
  const stream = await open();
  let relayed = 0;
  for await (const event of stream) {
    if (event.data === '[DONE]') {
      stream.complete();
      return;
    }
    const payload = eventJson(event, deploymentId);
    if (event.event === 'error' || (isRecord(payload) && payload.error && !Array.isArray(payload.choices))) {
      throw upstreamPayloadError(deploymentId, payload);
    }
    if (!isRecord(payload)) throw badResponse(deploymentId, 'sent a stream chunk that is not a JSON object');
    relayed++;
    rememberRelayedJson(payload, event.data);
    yield payload as unknown as ChatCompletionChunk;
  }
  throw badResponse(
    deploymentId,
    relayed > 0 ? 'stream ended without [DONE]' : 'stream ended before its first chunk, without [DONE]',
  );
}
