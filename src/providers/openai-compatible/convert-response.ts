import { isRecord } from '../http/event-json.js';
import { badResponse, readErrorDetails, upstreamPayloadError } from '../http/upstream-error.js';
import type { ChatCompletion, EmbeddingResponse } from '../openai-types.js';

/** Checks a 2xx chat answer just enough to relay it: it must carry a `choices` array. */
export function expectChatCompletion(payload: unknown, deploymentId: string): ChatCompletion {
  if (isRecord(payload) && Array.isArray(payload.choices)) return payload as unknown as ChatCompletion;
  // A few servers answer 200 with an error envelope.
  if (readErrorDetails(payload)) throw upstreamPayloadError(deploymentId, payload);
  throw badResponse(deploymentId, 'sent a chat completion without a choices array');
}

/** Checks a 2xx embeddings answer just enough to relay it: it must carry a `data` array. */
export function expectEmbeddings(payload: unknown, deploymentId: string): EmbeddingResponse {
  if (isRecord(payload) && Array.isArray(payload.data)) return payload as unknown as EmbeddingResponse;
  if (readErrorDetails(payload)) throw upstreamPayloadError(deploymentId, payload);
  throw badResponse(deploymentId, 'sent an embeddings answer without a data array');
}
