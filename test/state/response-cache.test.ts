import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey } from '../../src/cache/cache-key.js';
import { chunksToCompletion, completionToChunks } from '../../src/cache/completion-chunks.js';
import {
  createMemoryResponseCache,
  createRedisResponseCache,
  type ResponseCache,
} from '../../src/cache/response-cache.js';
import type { ChatCompletion } from '../../src/providers/openai-types.js';
import type { GantryProcess } from '../helpers/gantry-process.js';
import { startStateGantry } from './state-gantry.js';

const REDIS_URL = process.env.REDIS_URL || undefined;
const variants: Array<'memory' | 'redis'> = REDIS_URL ? ['memory', 'redis'] : ['memory'];
console.log(`[state tests] response cache variants: ${variants.join(', ')}`);

const completion: ChatCompletion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'mock',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hello there, friend.' }, finish_reason: 'stop' },
  ],
  usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
};

describe('cache keys and stream replay', () => {
  it('ignores key order and delivery fields, separates aliases and keys', () => {
    const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }], temperature: 0 };
    const reordered = { temperature: 0, messages: request.messages, model: 'm', stream: true };
    expect(cacheKey('a', request, 'k1')).toBe(cacheKey('a', reordered, 'k1'));
    expect(cacheKey('a', request, 'k1')).not.toBe(cacheKey('b', request, 'k1'));
    expect(cacheKey('a', request, 'k1')).not.toBe(cacheKey('a', request, 'k2'));
    expect(cacheKey('a', request, 'k1')).not.toBe(cacheKey('a', { ...request, temperature: 1 }, 'k1'));
  });

  it('replays a completion as chunks that assemble back into it', () => {
    const chunks = completionToChunks(completion, true);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.at(-1)?.usage).toEqual(completion.usage);
    expect(chunksToCompletion(chunks)).toEqual(completion);
    expect(completionToChunks(completion, false).some((chunk) => chunk.usage)).toBe(false);
  });
});

describe.each(variants)('response cache on %s', (kind) => {
  let cache: ResponseCache;
  let redis: Redis | undefined;
  const prefix = `gantry-test:${randomBytes(6).toString('hex')}:cache:`;

  beforeAll(() => {
    if (kind === 'redis') {
      const client = new Redis(REDIS_URL!);
      redis = client;
      cache = createRedisResponseCache(() => client, prefix);
    } else {
      cache = createMemoryResponseCache(10);
    }
  });

  afterAll(async () => {
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('stores, returns and expires entries', async () => {
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('a', completion, 200);
    expect(await cache.get('a')).toEqual(completion);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await cache.get('a')).toBeUndefined();
  });
});

describe('x-gantry-cache through the gateway', () => {
  let gantry: GantryProcess;
  beforeAll(async () => {
    gantry = await startStateGantry({ env: { GANTRY_MASTER_KEY: undefined } });
  }, 90_000);
  afterAll(async () => {
    await gantry?.stop();
  });

  const post = (body: Record<string, unknown>, cacheHeader?: string) =>
    fetch(`${gantry.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(cacheHeader ? { 'x-gantry-cache': cacheHeader } : {}),
      },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'cache me' }], ...body }),
    });

  it('misses, then hits for the same request; streams replay the cached answer', async () => {
    const first = await post({}, 'use');
    expect(first.headers.get('x-gantry-cache')).toBe('miss');
    const firstBody = (await first.json()) as ChatCompletion;
    const second = await post({}, 'use');
    expect(second.headers.get('x-gantry-cache')).toBe('hit');
    expect(await second.json()).toEqual(firstBody);
    const streamed = await post({ stream: true }, 'use');
    expect(streamed.headers.get('x-gantry-cache')).toBe('hit');
    const text = await streamed.text();
    const contents = text
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(contents).toBe(firstBody.choices[0]!.message.content);
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    const uncached = await post({});
    expect(uncached.headers.get('x-gantry-cache')).toBeNull();
    const bypass = await post({}, 'bypass');
    expect(bypass.headers.get('x-gantry-cache')).toBeNull();
  });

  it('caches a streamed answer for later requests', async () => {
    const body = { messages: [{ role: 'user', content: 'stream then cache' }], stream: true };
    const first = await post(body, 'use');
    expect(first.headers.get('x-gantry-cache')).toBe('miss');
    await first.text();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await post({ ...body, stream: false }, 'use');
    expect(second.headers.get('x-gantry-cache')).toBe('hit');
  });
});
