import { expect } from 'vitest';
import { createOpenAICompatibleProvider } from '../../src/providers/openai-compatible/index.js';
import { fixtureHarness, json, sse, TEXT, WEATHER_CALLS } from './fixture-harness.js';
import type { Harness } from './harness.js';

export function openAICompatibleHarness(): Harness {
  return fixtureHarness({
    name: 'openai-compatible',
    provider: 'openai',
    create: createOpenAICompatibleProvider,
    baseUrl: (url) => `${url}/v1`,
    replies: {
      text: json('openai/chat-text.json'),
      'text-stream': sse('openai/chat-text.sse'),
      tool: json('openai/chat-tool-call.json'),
      'tool-stream': sse('openai/chat-tool-call.sse'),
      json: json('openai/chat-json.json'),
      embeddings: json('openai/embeddings.json'),
      'error-400': json('openai/error-400.json', 400),
      'error-401': json('openai/error-401.json', 401),
      'error-429': json('openai/error-429.json', 429, {
        'retry-after': '2',
        'x-ratelimit-remaining-requests': '0',
      }),
      'error-500': json('openai/error-500.json', 500),
      'stream-error-first': sse('openai/stream-error-first.sse'),
      'stream-cut': sse('openai/stream-cut.sse'),
      'stream-malformed': sse('openai/stream-malformed.sse'),
    },
    expected: {
      text: TEXT,
      usage: { prompt_tokens: 19, completion_tokens: 13, total_tokens: 32 },
      toolCalls: WEATHER_CALLS,
      retryAfterSeconds: 2,
      errorMessages: {
        400: "This model's maximum context length is 128000 tokens",
        401: 'Incorrect API key provided',
        429: 'Rate limit reached for gpt-4o-mini',
        500: 'The server had an error while processing your request',
      },
      errorParam: 'messages',
      firstContentEvents: 2,
    },
    checkJsonRequest(received) {
      expect(received.body.response_format).toEqual({ type: 'json_object' });
    },
  });
}
