import type { Deployment } from '../../src/config/load.js';
import type { CallContext, Provider } from '../../src/providers/contract.js';
import type { ChatCompletionRequest, FunctionTool, Usage } from '../../src/providers/openai-types.js';
import type { Delivery, FakeUpstream, ReceivedRequest } from './fake-upstream.js';

export type Scenario =
  | 'text'
  | 'text-stream'
  | 'tool'
  | 'tool-stream'
  | 'json'
  | 'embeddings'
  | 'error-400'
  | 'error-401'
  | 'error-429'
  | 'error-500'
  | 'stream-error-first'
  | 'stream-cut'
  | 'stream-malformed';

/** What an adapter can do; contract cases that need a capability are only registered for adapters that have it. */
export interface Capabilities {
  /** Talks HTTP to an upstream: wire fixtures, timeouts, sockets, headers. */
  readonly upstream: boolean;
  readonly embeddings: boolean;
  /** Maps an upstream 401 to upstream_auth_error (502). */
  readonly authErrorMapping: boolean;
  /** Rejects with the signal's reason when called with an already aborted signal. */
  readonly checksAbortBeforeStart: boolean;
}

/** The answers the recorded fixtures (or the mock's determinism) promise. */
export interface Expected {
  readonly text: string;
  /** Exact usage of the text answer; undefined where only its invariants can be checked. */
  readonly usage: Usage | undefined;
  readonly toolCalls: ReadonlyArray<{ readonly name: string; readonly arguments: unknown }>;
  readonly retryAfterSeconds: number;
  /** Upstream error messages that must survive into the GatewayError message, by status. */
  readonly errorMessages: Readonly<Record<number, string>>;
  /** The `param` the upstream's 400 names, where its envelope has one. */
  readonly errorParam: string | null;
  /** SSE events the text stream needs before its first content chunk is relayed. */
  readonly firstContentEvents: number;
}

export interface Harness {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly expected: Expected;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The fake upstream; throws for adapters without one. */
  upstream(): FakeUpstream;
  /** A provider for a fresh test deployment (closed by stop). */
  provider(overrides?: Partial<Deployment>): Provider;
  /** Arranges the upstream's answer to the next call and returns the request to send. */
  prepare(scenario: Scenario, request: ChatCompletionRequest, delivery?: Delivery): ChatCompletionRequest;
  /** Adapter-specific check of what reached the upstream for the JSON-mode request. */
  checkJsonRequest(received: ReceivedRequest): void;
}

export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

export function callContext(signal: AbortSignal = new AbortController().signal): CallContext {
  return { signal, requestId: 'req_contract_1', traceparent: TRACEPARENT };
}

export const WEATHER_TOOL: FunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: {
        location: { type: 'string', description: 'City and country, e.g. Paris, France' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['location'],
    },
  },
};

export const TEXT_REQUEST: ChatCompletionRequest = {
  model: 'test-model',
  messages: [{ role: 'user', content: 'Say hello in French and Japanese, with an emoji.' }],
};

export const TOOL_REQUEST: ChatCompletionRequest = {
  model: 'test-model',
  messages: [{ role: 'user', content: "What's the weather in Paris and in Tokyo?" }],
  tools: [WEATHER_TOOL],
  tool_choice: 'auto',
};

export const JSON_REQUEST: ChatCompletionRequest = {
  model: 'test-model',
  messages: [
    { role: 'system', content: 'You answer in JSON.' },
    { role: 'user', content: 'Which city is the capital of France? Give city and country.' },
  ],
  response_format: { type: 'json_object' },
};
