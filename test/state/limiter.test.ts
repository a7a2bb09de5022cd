import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Limiter } from '../../src/limits/limiter.js';
import { createMemoryLimiter } from '../../src/limits/memory-limiter.js';
import { createRedisLimiter } from '../../src/limits/redis-limiter.js';

const REDIS_URL = process.env.REDIS_URL || undefined;
const variants: Array<'memory' | 'redis'> = REDIS_URL ? ['memory', 'redis'] : ['memory'];
console.log(
  `[state tests] limiter variants: ${variants.join(', ')}${REDIS_URL ? '' : ' (set REDIS_URL to also run on Redis)'}`,
);

describe.each(variants)('limiter on %s', (kind) => {
  let limiter: Limiter;
  let redis: Redis | undefined;
  const prefix = `gantry-test:${randomBytes(6).toString('hex')}:`;

  beforeAll(async () => {
    if (kind === 'redis') {
      redis = new Redis(REDIS_URL!);
      limiter = createRedisLimiter(redis, prefix);
    } else {
      limiter = createMemoryLimiter();
    }
  });

  afterAll(async () => {
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('admits up to the limit and refuses the rest with a retry delay', async () => {
    const spec = { key: `rpm:${randomUUID()}`, limit: 3, cost: 1, windowMs: 60_000 };
    const results = [];
    for (let index = 0; index < 5; index += 1) results.push(await limiter.reserve([spec], randomUUID()));
    expect(results.map((result) => result.allowed)).toEqual([true, true, true, false, false]);
    expect(results[2]!.states[0]!.used).toBe(3);
    expect(results[3]!.retryAfterMs).toBeGreaterThan(50_000);
    // Redis counts a charge from the end of its 10 ms slot (a 6,000th of the window): never early.
    expect(results[3]!.retryAfterMs).toBeLessThanOrEqual(kind === 'redis' ? 60_010 : 60_000);
  });

  it('never overshoots under 200 concurrent reservations', async () => {
    const key = `tpm:${randomUUID()}`;
    const costs = Array.from({ length: 200 }, (_, index) => 20 + (index % 7) * 10);
    const results = await Promise.all(
      costs.map((cost) => limiter.reserve([{ key, limit: 1000, cost, windowMs: 60_000 }], randomUUID())),
    );
    const admitted = results.reduce((sum, result, index) => sum + (result.allowed ? costs[index]! : 0), 0);
    expect(admitted).toBeLessThanOrEqual(1000);
    expect(admitted).toBeGreaterThan(1000 - 80);
  });

  it('charges all limits or none', async () => {
    const requests = { key: `rpm:${randomUUID()}`, limit: 10, cost: 1, windowMs: 60_000 };
    const tokens = { key: `tpm:${randomUUID()}`, limit: 100, cost: 80, windowMs: 60_000 };
    expect((await limiter.reserve([requests, tokens], randomUUID())).allowed).toBe(true);
    const refused = await limiter.reserve([requests, tokens], randomUUID());
    expect(refused.allowed).toBe(false);
    // The refused request did not consume a request slot.
    const small = await limiter.reserve([requests, { ...tokens, cost: 10 }], randomUUID());
    expect(small.allowed).toBe(true);
    expect(small.states[0]!.used).toBe(2);
  });

  it('reconciles a reservation with the tokens really used', async () => {
    const key = `tpm:${randomUUID()}`;
    const id = randomUUID();
    expect(
      (await limiter.reserve([{ key, limit: 1000, cost: 900, windowMs: 60_000, adjustable: true }], id))
        .allowed,
    ).toBe(true);
    expect(
      (await limiter.reserve([{ key, limit: 1000, cost: 200, windowMs: 60_000 }], randomUUID())).allowed,
    ).toBe(false);
    await limiter.adjust({ key, cost: 100, windowMs: 60_000 }, id);
    const after = await limiter.reserve([{ key, limit: 1000, cost: 200, windowMs: 60_000 }], randomUUID());
    expect(after.allowed).toBe(true);
    expect(after.states[0]!.used).toBe(300);
  });

  it('frees capacity when charges leave the window', async () => {
    const spec = { key: `rpm:${randomUUID()}`, limit: 1, cost: 1, windowMs: 300 };
    expect((await limiter.reserve([spec], randomUUID())).allowed).toBe(true);
    expect((await limiter.reserve([spec], randomUUID())).allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await limiter.reserve([spec], randomUUID())).allowed).toBe(true);
  });

  it('refuses a single request larger than the limit', async () => {
    const result = await limiter.reserve(
      [{ key: `tpm:${randomUUID()}`, limit: 100, cost: 101, windowMs: 60_000 }],
      randomUUID(),
    );
    expect(result.allowed).toBe(false);
    expect(result.retryAfterMs).toBe(60_000);
  });
});

describe.runIf(REDIS_URL)('limiter on redis, a hot key', () => {
  let redis: Redis;
  const prefix = `gantry-test:${randomBytes(6).toString('hex')}:`;

  beforeAll(() => {
    redis = new Redis(REDIS_URL!);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('keeps a window of time slots, not a member per request, and every unit charged', async () => {
    const limiter = createRedisLimiter(redis, prefix);
    const requests = { key: `rpm:${randomUUID()}`, limit: 1_000_000, cost: 1, windowMs: 60_000 };
    const tokens = { key: `tpm:${randomUUID()}`, limit: 1_000_000, cost: 50, windowMs: 60_000 };
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < 2_000) {
        next += 1;
        const id = randomUUID();
        const result = await limiter.reserve([requests, { ...tokens, adjustable: true }], id);
        expect(result.allowed).toBe(true);
        await limiter.adjust({ key: tokens.key, cost: 20, windowMs: tokens.windowMs }, id);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    // At most one member per 10 ms slot that passed, and no reservation id left once adjusted.
    const slots = Math.ceil((Date.now() - started) / 10) + 1;
    for (const key of [requests.key, tokens.key]) {
      const members = await redis.zrange(`${prefix}{${key}}:z`, 0, -1);
      expect(members.length).toBeLessThan(2_000);
      expect(members.length).toBeLessThanOrEqual(slots);
      expect(members.every((member) => member.startsWith('@'))).toBe(true);
    }
    const after = await limiter.reserve([requests, tokens], randomUUID());
    expect(after.states.map((state) => state.used)).toEqual([2_001, 2_000 * 20 + 50]);
  });
});
