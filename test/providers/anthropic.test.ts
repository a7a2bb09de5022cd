import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../src/config/load.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { toAnthropicRequest } from '../../src/providers/anthropic/convert-request.js';
import { toChatCompletion } from '../../src/providers/anthropic/convert-response.js';
import { createAnthropicProvider } from '../../src/providers/anthropic/index.js';
import type { Provider } from '../../src/providers/contract.js';
import type { ChatCompletionRequest } from '../../src/providers/openai-types.js';
import { collectStream } from './collect-stream.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { json, sse } from './fixture-harness.js';
import { callContext, TEXT_REQUEST, WEATHER_TOOL } from './harness.js';
import { readFixture } from './read-fixture.js';
import { testDeployment } from './test-deployment.js';

let upstream: FakeUpstream;
const providers: Provider[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterEach(() => upstream.clear());
afterAll(async () => {
  await upstream.close();
  await Promise.all(providers.map((provider) => provider.close()));
});

function provider(overrides: Partial<Deployment> = {}): Provider {
  const created = createAnthropicProvider(
    testDeployment({
      id: 'anthropic/sonnet',
      provider: 'anthropic',
      baseUrl: upstream.url,
      apiKey: 'sk-ant-test',
      ...overrides,
    }),
  );
  providers.push(created);
  return created;
}

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const CONVERSATION: ChatCompletionRequest = {
  model: 'claude-sonnet-4-5',
  messages: [
    { role: 'system', content: 'You are a weather assistant.' },
    { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Weather in Paris and Tokyo? Here are two photos.' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: 'image_url', image_url: { url: 'https://example.com/tokyo.jpg' } },
      ],
    },
    {
      role: 'assistant',
      content: 'Let me check.',
      tool_calls: [
        {
          id: 'toolu_1',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' },
        },
        {
          id: 'toolu_2',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Tokyo, Japan"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'toolu_1', content: '18°C, sunny' },
    { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '24°C, rain' }] },
    { role: 'user', content: 'Which is warmer?' },
  ],
  tools: [WEATHER_TOOL],
  tool_choice: { type: 'function', function: { name: 'get_weather' } },
  stop: '\n\nHuman:',
  max_completion_tokens: 512,
  temperature: 0.3,
  top_p: 0.9,
  user: 'user-42',
  seed: 7,
};

describe('anthropic request conversion (as received by the upstream)', () => {
  it('posts to /v1/messages with x-api-key and anthropic-version, and converts the conversation', async () => {
    upstream.reply(json('anthropic/message-text.json'));
    await provider().chat(CONVERSATION, callContext());
    const received = upstream.received.at(-1)!;
    expect(received.url).toBe('/v1/messages');
    expect(received.headers['x-api-key']).toBe('sk-ant-test');
    expect(received.headers['anthropic-version']).toBe('2023-06-01');
    expect(received.headers.authorization).toBeUndefined();
    expect(received.body).toEqual({
      model: 'claude-sonnet-4-5',
      system: 'You are a weather assistant.\n\nUse metric units.',
      max_tokens: 512,
      stop_sequences: ['\n\nHuman:'],
      temperature: 0.3,
      top_p: 0.9,
      metadata: { user_id: 'user-42' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in Paris and Tokyo? Here are two photos.' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/tokyo.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me check.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris, France' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { location: 'Tokyo, Japan' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C, sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: '24°C, rain' },
          ],
        },
        { role: 'user', content: 'Which is warmer?' },
      ],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather in a city',
          input_schema: WEATHER_TOOL.function.parameters,
        },
      ],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
  });

  it('sets stream: true for streams', async () => {
    upstream.reply(sse('anthropic/message-text.sse'));
    await collectStream(provider().chatStream(TEXT_REQUEST, callContext()));
    expect(upstream.received.at(-1)!.body).toMatchObject({ stream: true, max_tokens: 4096 });
  });

  it('accepts a base_url that already ends in /v1', async () => {
    upstream.reply(json('anthropic/message-text.json'));
    await provider({ baseUrl: `${upstream.url}/v1/` }).chat(TEXT_REQUEST, callContext());
    expect(upstream.received.at(-1)!.url).toBe('/v1/messages');
  });
});

describe('toAnthropicRequest', () => {
  const withTools = (extra: Partial<ChatCompletionRequest>) =>
    toAnthropicRequest({ ...TEXT_REQUEST, tools: [WEATHER_TOOL], ...extra }, false);

  it('maps tool_choice auto, required, none and parallel_tool_calls: false', () => {
    expect(withTools({ tool_choice: 'auto' }).tool_choice).toEqual({ type: 'auto' });
    expect(withTools({ tool_choice: 'required' }).tool_choice).toEqual({ type: 'any' });
    expect(withTools({ tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(withTools({}).tool_choice).toBeUndefined();
    expect(withTools({ parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
  });

  it('defaults max_tokens to 4096, takes max_tokens, and wraps a single stop string', () => {
    expect(toAnthropicRequest(TEXT_REQUEST, false).max_tokens).toBe(4096);
    expect(toAnthropicRequest({ ...TEXT_REQUEST, max_tokens: 100, stop: ['END'] }, false)).toMatchObject({
      max_tokens: 100,
      stop_sequences: ['END'],
    });
  });

  it('asks for JSON in the system prompt, with the schema for json_schema', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const body = toAnthropicRequest(
      { ...TEXT_REQUEST, response_format: { type: 'json_schema', json_schema: { name: 'city', schema } } },
      false,
    );
    expect(body.system).toContain(JSON.stringify(schema));
  });

  it('rejects what Anthropic cannot express, naming the parameter', () => {
    const failure = (request: ChatCompletionRequest) => {
      try {
        toAnthropicRequest(request, false);
      } catch (error) {
        expect(error).toBeInstanceOf(GatewayError);
        return error as GatewayError;
      }
      throw new Error('expected a GatewayError');
    };
    expect(failure({ ...TEXT_REQUEST, n: 2 })).toMatchObject({ code: 'unsupported_parameter', param: 'n' });
    expect(
      failure({
        ...TEXT_REQUEST,
        messages: [
          { role: 'user', content: [{ type: 'input_audio', input_audio: { data: '', format: 'wav' } }] },
        ],
      }),
    ).toMatchObject({ code: 'unsupported_parameter', param: 'messages[0].content[0].type' });
    expect(
      failure({
        ...TEXT_REQUEST,
        messages: [
          {
            role: 'assistant',
            tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
        ],
      }),
    ).toMatchObject({ code: 'invalid_request', param: 'messages[0].tool_calls[0].function.arguments' });
  });
});

describe('anthropic response conversion', () => {
  it('counts cache reads and writes into prompt_tokens and reports cached_tokens', () => {
    const payload = JSON.parse(readFixture('anthropic/message-text.json'));
    payload.usage = {
      input_tokens: 20,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 50,
      output_tokens: 9,
    };
    expect(toChatCompletion(payload, 'a').usage).toEqual({
      prompt_tokens: 1070,
      completion_tokens: 9,
      total_tokens: 1079,
      prompt_tokens_details: { cached_tokens: 1000 },
    });
  });

  it('maps max_tokens to length and gives null content for a tool-only answer', () => {
    const payload = JSON.parse(readFixture('anthropic/message-tool-use.json'));
    payload.content = payload.content.filter((block: { type: string }) => block.type === 'tool_use');
    payload.stop_reason = 'max_tokens';
    const choice = toChatCompletion(payload, 'a').choices[0]!;
    expect(choice.finish_reason).toBe('length');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(2);
  });

  it('maps an overloaded (529) answer to a retryable upstream_error', async () => {
    upstream.reply(json('anthropic/error-529.json', 529));
    const error = await provider()
      .chat(TEXT_REQUEST, callContext())
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'upstream_error', status: 502, retryable: true });
    expect((error as Error).message).toBe('upstream anthropic/sonnet returned 529: Overloaded');
  });

  it('streams without a usage chunk unless include_usage is asked for', async () => {
    upstream.reply(sse('anthropic/message-text.sse'));
    const stream = await collectStream(provider().chatStream(TEXT_REQUEST, callContext()));
    expect(stream.chunks.every((chunk) => chunk.choices.length === 1 && chunk.usage === undefined)).toBe(
      true,
    );
    expect(stream.chunks[0]!.id).toBe('msg_01HCDu5LRGeP2o7s2xGmxyFE');
    expect(stream.chunks[0]!.model).toBe('claude-sonnet-4-5-20250929');
  });

  it('numbers streamed tool calls from 0 even though Anthropic numbers the text block first', async () => {
    upstream.reply(sse('anthropic/message-tool-use.sse'));
    const stream = await collectStream(provider().chatStream(TEXT_REQUEST, callContext()));
    const indexes = stream.chunks
      .flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])
      .map((call) => call.index);
    expect([...new Set(indexes)]).toEqual([0, 1]);
    expect(stream.text).toBe("I'll check the weather in both cities.");
    expect(stream.toolCalls.map((call) => call.id)).toEqual([
      'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
      'toolu_01WkB7gqKx2ZpM3RvCn8sHyd',
    ]);
  });
});
