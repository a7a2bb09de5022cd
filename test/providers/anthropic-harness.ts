import { expect } from 'vitest';
import { createAnthropicProvider } from '../../src/providers/anthropic/index.js';
import { fixtureHarness, json, sse, TEXT, WEATHER_CALLS } from './fixture-harness.js';
import type { Harness } from './harness.js';

export function anthropicHarness(): Harness {
  return fixtureHarness({
    name: 'anthropic',
    provider: 'anthropic',
    create: createAnthropicProvider,
    baseUrl: (url) => url,
    replies: {
      text: json('anthropic/message-text.json'),
      'text-stream': sse('anthropic/message-text.sse'),
      tool: json('anthropic/message-tool-use.json'),
      'tool-stream': sse('anthropic/message-tool-use.sse'),
      json: json('anthropic/message-json.json'),
      'error-400': json('anthropic/error-400.json', 400),
      'error-401': json('anthropic/error-401.json', 401),
      'error-429': json('anthropic/error-429.json', 429, {
        'retry-after': '2',
        'anthropic-ratelimit-requests-remaining': '0',
      }),
      'error-500': json('anthropic/error-500.json', 500),
      'stream-error-first': sse('anthropic/stream-error-first.sse'),
      'stream-cut': sse('anthropic/stream-cut.sse'),
      'stream-malformed': sse('anthropic/stream-malformed.sse'),
    },
    expected: {
      text: TEXT,
      usage: { prompt_tokens: 21, completion_tokens: 17, total_tokens: 38 },
      toolCalls: WEATHER_CALLS,
      retryAfterSeconds: 2,
      errorMessages: {
        400: 'text content blocks must be non-empty',
        401: 'invalid x-api-key',
        429: 'This request would exceed the rate limit',
        500: 'Internal server error',
      },
      errorParam: null,
      // message_start, content_block_start, ping, then the first text_delta
      firstContentEvents: 4,
    },
    checkJsonRequest(received) {
      // Anthropic has no JSON mode: the adapter asks for JSON in the system prompt.
      expect(received.body.response_format).toBeUndefined();
      expect(received.body.system).toContain('You answer in JSON.');
      expect(received.body.system).toContain('valid JSON object');
    },
  });
}
