import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../src/config/load.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { Provider } from '../../src/providers/contract.js';
import { createProvider } from '../../src/providers/create-provider.js';
import { createOpenAICompatibleProvider } from '../../src/providers/openai-compatible/index.js';
import type { ChatCompletionRequest } from '../../src/providers/openai-types.js';
import { collectFailure, collectStream } from './collect-stream.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { json, sse } from './fixture-harness.js';
import { callContext, TEXT_REQUEST } from './harness.js';
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
  const created = createOpenAICompatibleProvider(
    testDeployment({ id: 'openai/test', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-test', ...overrides }),
  );
  providers.push(created);
  return created;
}

const lastReceived = () => upstream.received.at(-1)!;

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected a rejection');
}

describe('openai-compatible request', () => {
  it('sends the request as it came, unknown fields included, to /chat/completions with a bearer key', async () => {
    const request: ChatCompletionRequest = {
      ...TEXT_REQUEST,
      model: 'gpt-4o-mini',
      temperature: 0.2,
      logit_bias: { '50256': -100 },
      reasoning_effort: 'low',
      vendor_extension: { nested: [1, 2, 3] },
    };
    upstream.reply(json('openai/chat-text.json'));
    await provider({ headers: { 'OpenAI-Organization': 'org-123' } }).chat(request, callContext());
    const received = lastReceived();
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/v1/chat/completions');
    expect(received.body).toEqual(request);
    expect(received.headers.authorization).toBe('Bearer sk-test');
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.headers['openai-organization']).toBe('org-123');
  });

  it('sends no authorization header when the deployment has no key (local servers)', async () => {
    upstream.reply(json('openai/chat-text.json'));
    await provider({ provider: 'ollama', apiKey: undefined }).chat(TEXT_REQUEST, callContext());
    expect(lastReceived().headers.authorization).toBeUndefined();
  });

  it('asks for a stream with stream: true and keeps stream_options', async () => {
    upstream.reply(sse('openai/chat-text.sse'));
    const request = { ...TEXT_REQUEST, stream_options: { include_usage: true } };
    await collectStream(provider().chatStream(request, callContext()));
    expect(lastReceived().body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(lastReceived().headers.accept).toBe('text/event-stream');
  });

  it('asks for a whole answer from chat() even when the request said stream: true', async () => {
    upstream.reply(json('openai/chat-text.json'));
    await provider().chat(
      { ...TEXT_REQUEST, stream: true, stream_options: { include_usage: true } },
      callContext(),
    );
    expect(lastReceived().body.stream).toBe(false);
    expect(lastReceived().body).not.toHaveProperty('stream_options');
  });

  it('posts embeddings to /embeddings as they came', async () => {
    upstream.reply(json('openai/embeddings.json'));
    const request = { model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' as const };
    const answer = await provider().embed(request, callContext());
    expect(lastReceived().url).toBe('/v1/embeddings');
    expect(lastReceived().body).toEqual(request);
    expect(answer.data).toHaveLength(2);
  });
});

describe('azure preset', () => {
  const azure = () =>
    provider({
      provider: 'azure',
      baseUrl: `${upstream.url}/`,
      model: 'gpt4o-prod',
      apiVersion: '2024-10-21',
    });

  it('addresses the deployment in the path, the version in the query, and sends api-key', async () => {
    upstream.reply(json('openai/chat-text.json'));
    await azure().chat(TEXT_REQUEST, callContext());
    const received = lastReceived();
    expect(received.url).toBe('/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21');
    expect(received.headers['api-key']).toBe('sk-test');
    expect(received.headers.authorization).toBeUndefined();
  });

  it('uses the same scheme for embeddings', async () => {
    upstream.reply(json('openai/embeddings.json'));
    await azure().embed({ model: 'gpt4o-prod', input: 'x' }, callContext());
    expect(lastReceived().url).toBe('/openai/deployments/gpt4o-prod/embeddings?api-version=2024-10-21');
  });
});

describe('gemini', () => {
  it('is served by the openai-compatible adapter through createProvider', async () => {
    const gemini = createProvider(
      testDeployment({
        id: 'gemini/flash',
        provider: 'gemini',
        model: 'gemini-2.5-flash',
        baseUrl: upstream.url,
        apiKey: 'AIza-test',
      }),
    );
    providers.push(gemini);
    upstream.reply(json('openai/chat-text.json'));
    await gemini.chat({ ...TEXT_REQUEST, model: 'gemini-2.5-flash' }, callContext());
    expect(lastReceived().url).toBe('/chat/completions');
    expect(lastReceived().headers.authorization).toBe('Bearer AIza-test');
  });
});

describe('openai-compatible answers', () => {
  it('rejects malformed JSON in a 200 answer as upstream_bad_response, retryable', async () => {
    upstream.reply({
      headers: { 'content-type': 'application/json' },
      body: '{"id":"chatcmpl-1","choices":[',
    });
    const error = await rejection(provider().chat(TEXT_REQUEST, callContext()));
    expect(error).toMatchObject({ code: 'upstream_bad_response', retryable: true });
  });

  it('rejects a 200 answer without choices', async () => {
    upstream.reply({ body: '{"id":"chatcmpl-1","object":"chat.completion"}' });
    expect(await rejection(provider().chat(TEXT_REQUEST, callContext()))).toMatchObject({
      code: 'upstream_bad_response',
    });
  });

  it('maps an error envelope sent with status 200', async () => {
    upstream.reply({ body: '{"error":{"message":"Provider returned error","code":429}}' });
    const error = await rejection(provider({ provider: 'openrouter' }).chat(TEXT_REQUEST, callContext()));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryable: true });
    expect(error.message).toContain('Provider returned error');
  });

  it("keeps a relayed 404's upstream code and status", async () => {
    upstream.reply({
      status: 404,
      body: '{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}',
    });
    const error = await rejection(provider().chat(TEXT_REQUEST, callContext()));
    expect(error).toMatchObject({ code: 'upstream_client_error', status: 404, retryable: false });
    expect(error.toEnvelope().error.code).toBe('model_not_found');
  });

  it('maps a JSON error answer to a stream request', async () => {
    upstream.reply({
      body: '{"error":{"message":"stream not supported for this model","type":"invalid_request_error"}}',
    });
    const { chunks, error } = await collectFailure(provider().chatStream(TEXT_REQUEST, callContext()));
    expect(chunks).toEqual([]);
    expect(error).toMatchObject({ code: 'upstream_client_error', status: 400 });
  });

  it('throws on an `event: error` after content was relayed', async () => {
    const text = readStreamPrefix();
    upstream.reply({
      headers: { 'content-type': 'text/event-stream' },
      body: `${text}event: error\ndata: {"error":{"message":"upstream overloaded","type":"server_error"}}\n\n`,
    });
    const { chunks, error } = await collectFailure(provider().chatStream(TEXT_REQUEST, callContext()));
    expect(chunks.length).toBe(2);
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect((error as Error).message).toContain('upstream overloaded');
  });
});

function readStreamPrefix(): string {
  const body = sse('openai/chat-text.sse').body!;
  const events = body.split('\n\n');
  return `${events.slice(0, 2).join('\n\n')}\n\n`;
}
