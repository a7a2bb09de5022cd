import type { Deployment } from '../config/load.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from './openai-types.js';

/** What one upstream call needs besides the request itself. */
export interface CallContext {
  /** Aborted when the client goes away, the total timeout fires or the server drains. */
  readonly signal: AbortSignal;
  readonly requestId: string;
  /** W3C traceparent to propagate upstream. */
  readonly traceparent: string | undefined;
}

/**
 * The provider contract. A provider is a plain object built by a factory for one deployment.
 * Requests arrive in OpenAI shape with `model` already set to the upstream model name.
 *
 * Errors are GatewayErrors from the catalogue (upstream_*, timeout_*), with `retryable` set from
 * the upstream status: connection errors, 408, 409, 429 and 5xx are retryable.
 *
 * `chatStream` must not yield until the upstream has produced its first chunk, and must throw
 * (rather than yield) when the upstream reports an error inside its first chunk, so the router can
 * still retry or fall back before anything is sent to the client.
 */
export interface Provider {
  readonly id: string;
  chat(request: ChatCompletionRequest, context: CallContext): Promise<ChatCompletion>;
  chatStream(request: ChatCompletionRequest, context: CallContext): AsyncIterable<ChatCompletionChunk>;
  embed(request: EmbeddingRequest, context: CallContext): Promise<EmbeddingResponse>;
  /** Releases connection pools. */
  close(): Promise<void>;
}

export type ProviderFactory = (deployment: Deployment) => Provider;
