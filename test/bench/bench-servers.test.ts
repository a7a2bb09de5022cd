// The bench's own servers are instruments: if the fake upstream answered the wrong shape, or the
// floor relayed less than the whole answer, every number in docs/benchmarks.md would mean nothing.
// These run them as the bench does (real processes, real ports) and check what they answer.
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBareProxy, startUpstream } from '../../bench/targets.mjs';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;
type Proxy = Awaited<ReturnType<typeof startBareProxy>>;

async function rawText(
  origin: string,
  body: object,
): Promise<{ status: number; type: string; text: string }> {
  const response = await request(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.statusCode,
    type: String(response.headers['content-type']),
    text: await response.body.text(),
  };
}

async function openStreams(upstream: Upstream): Promise<number> {
  const shape = (await upstream.setStreamShape({})) as { openStreams: number };
  return shape.openStreams;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the fake upstream (bench/fake-upstream.mjs), through the official openai SDK', () => {
  let upstream: Upstream;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startUpstream({ cores: undefined });
    client = new OpenAI({ baseURL: `${upstream.origin}/v1`, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(async () => {
    await upstream?.stop();
  });

  it('answers a chat completion with a fixed small answer and its usage', async () => {
    const completion = await client.chat.completions.create({
      model: 'bench',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Hello from the bench upstream.');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({ prompt_tokens: 8, completion_tokens: 6, total_tokens: 14 });
  });

  it('streams the configured number of chunks, then a stop chunk, the usage chunk when asked, and [DONE]', async () => {
    expect(await upstream.setStreamShape({ chunks: 7, delayMs: 2 })).toMatchObject({ chunks: 7, delayMs: 2 });
    const stream = await client.chat.completions.create({
      model: 'bench',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const content = chunks.filter((chunk) => chunk.choices[0]?.delta.content);
    expect(content).toHaveLength(7);
    expect(content.map((chunk) => chunk.choices[0]?.delta.content).join('')).toBe('tok '.repeat(7));
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(200);

    // Without include_usage there is no usage chunk; the SDK ends cleanly on [DONE] either way.
    await upstream.setStreamShape({ chunks: 3, delayMs: 1 });
    const plain = await client.chat.completions.create({
      model: 'bench',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const plainChunks = [];
    for await (const chunk of plain) plainChunks.push(chunk);
    expect(plainChunks).toHaveLength(4);
    expect(plainChunks.some((chunk) => chunk.usage)).toBe(false);
  });

  it('lists its model and answers embeddings', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['bench']);
    const vector = Array.from({ length: 16 }, (_, index) => index / 16);
    // The SDK asks for base64 unless told otherwise, and decodes it; a float list when asked for one.
    const embedding = await client.embeddings.create({ model: 'bench', input: 'hi' });
    expect(embedding.data[0]?.embedding).toEqual(vector);
    const floats = await client.embeddings.create({ model: 'bench', input: 'hi', encoding_format: 'float' });
    expect(floats.data[0]?.embedding).toEqual(vector);
  });

  it('answers 404 in the error envelope for a path it does not serve', async () => {
    const response = await request(`${upstream.origin}/v1/nothing`, { method: 'POST', body: '{}' });
    expect(response.statusCode).toBe(404);
    expect(await response.body.json()).toEqual({ error: { message: 'not found' } });
  });
});

describe('the bare-proxy floor (bench/bare-proxy.mjs)', () => {
  let upstream: Upstream;
  let floor: Proxy;

  beforeAll(async () => {
    upstream = await startUpstream({ cores: undefined });
    floor = await startBareProxy({ upstream, cores: undefined });
  });
  afterAll(async () => {
    await floor?.stop();
    await upstream?.stop();
  });

  it('relays a JSON answer byte for byte, with its status and content type', async () => {
    const body = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };
    const direct = await rawText(upstream.origin, body);
    const relayed = await rawText(floor.origin, body);
    expect(relayed).toEqual(direct);
    expect(relayed.status).toBe(200);
  });

  it('relays a whole event stream byte for byte', async () => {
    await upstream.setStreamShape({ chunks: 20, delayMs: 1 });
    const body = { model: 'bench', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const direct = await rawText(upstream.origin, body);
    const relayed = await rawText(floor.origin, body);
    expect(relayed.type).toBe('text/event-stream');
    expect(relayed.text).toBe(direct.text);
    expect(relayed.text.match(/^data: \{/gm)).toHaveLength(21);
    expect(relayed.text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('relays GET /v1/models', async () => {
    const client = new OpenAI({ baseURL: `${floor.origin}/v1`, apiKey: 'test', maxRetries: 0 });
    expect((await client.models.list()).data.map((model) => model.id)).toEqual(['bench']);
  });

  it('cancels the upstream stream when its client goes away', async () => {
    await upstream.setStreamShape({ chunks: 10_000, delayMs: 5 });
    const controller = new AbortController();
    const response = await request(`${floor.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'bench', stream: true, messages: [] }),
      signal: controller.signal,
    });
    response.body.on('error', () => {});
    await until(async () => (await openStreams(upstream)) === 1, 'the upstream stream to open');
    controller.abort();
    await until(async () => (await openStreams(upstream)) === 0, 'the upstream stream to be cancelled');
  });
});

describe('the bare-proxy floor when its upstream dies mid-stream', () => {
  it('cuts the client stream instead of ending it cleanly', async () => {
    const upstream = await startUpstream({ cores: undefined });
    const floor = await startBareProxy({ upstream, cores: undefined });
    try {
      await upstream.setStreamShape({ chunks: 10_000, delayMs: 5 });
      const response = await request(`${floor.origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'bench', stream: true, messages: [] }),
      });
      expect(response.statusCode).toBe(200);
      let received = '';
      const ended = new Promise<'end' | 'error'>((resolve) => {
        response.body.on('data', (chunk: Buffer) => {
          received += chunk.toString('utf8');
        });
        response.body.once('end', () => resolve('end'));
        response.body.once('error', () => resolve('error'));
      });
      await until(async () => received.includes('tok'), 'the first relayed chunk');
      await upstream.stop();
      expect(await ended).toBe('error');
      expect(received).not.toContain('[DONE]');
    } finally {
      await floor.stop();
      await upstream.stop();
    }
  });
});
