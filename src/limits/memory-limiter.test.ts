import { describe, expect, it } from 'vitest';
import { createMemoryLimiter } from './memory-limiter.js';

const MINUTE = 60_000;

describe('memory limiter', () => {
  it('stays exact over a window far larger than its first ring, and settles charges made before it grew', async () => {
    let clock = 1_000_000;
    const limiter = createMemoryLimiter(() => clock);
    const requests = { key: 'rpm:hot', limit: 20_000, cost: 1, windowMs: MINUTE };
    const tokens = { key: 'tpm:hot', limit: 1_000_000, cost: 40, windowMs: MINUTE, adjustable: true };
    expect((await limiter.reserve([requests, tokens], 'first')).allowed).toBe(true);
    for (let index = 1; index < 20_000; index++) {
      clock += 1;
      const result = await limiter.reserve([requests, tokens], `r${index}`);
      expect(result.allowed).toBe(true);
    }
    const refused = await limiter.reserve([requests, tokens], 'one-too-many');
    expect(refused.allowed).toBe(false);
    expect(refused.states.map((state) => state.used)).toEqual([20_000, 800_000]);
    // The first reservation settles with its real count after the ring has grown many times.
    await limiter.adjust({ key: 'tpm:hot', cost: 10, windowMs: MINUTE }, 'first');
    await limiter.adjust({ key: 'tpm:hot', cost: 10, windowMs: MINUTE }, 'first'); // only once
    const later = await limiter.reserve([tokens], 'later');
    expect(later.states[0]!.used).toBe(800_000 - 30 + 40);
    // The oldest charges leave one by one: the first request's slot frees 60 s after it was made.
    clock = 1_000_000 + MINUTE;
    const next = await limiter.reserve([requests], 'next');
    expect(next.allowed).toBe(true);
    expect(next.states[0]!.used).toBe(20_000);
    expect(next.states[0]!.resetMs).toBe(1);
  });

  it('ignores settling a charge that has already left the window', async () => {
    let clock = 0;
    const limiter = createMemoryLimiter(() => clock);
    const tokens = { key: 'tpm:k', limit: 100, cost: 60, windowMs: 1_000, adjustable: true };
    expect((await limiter.reserve([tokens], 'old')).allowed).toBe(true);
    clock = 1_000;
    expect((await limiter.reserve([tokens], 'new')).states[0]!.used).toBe(60);
    await limiter.adjust({ key: 'tpm:k', cost: 5, windowMs: 1_000 }, 'old');
    const after = await limiter.reserve([{ ...tokens, cost: 40 }], 'after');
    expect(after.allowed).toBe(true);
    expect(after.states[0]!.used).toBe(100);
  });

  it('refuses with the time until enough of the oldest charges have left', async () => {
    let clock = 0;
    const limiter = createMemoryLimiter(() => clock);
    const spec = { key: 'tpm:w', limit: 100, cost: 30, windowMs: 1_000 };
    for (const at of [0, 100, 200]) {
      clock = at;
      expect((await limiter.reserve([spec], `at-${at}`)).allowed).toBe(true);
    }
    clock = 300;
    const refused = await limiter.reserve([{ ...spec, cost: 50 }], 'big');
    expect(refused.allowed).toBe(false);
    // 90 used: 50 more fit once the charges of 0 and 100 are gone, at 1,100.
    expect(refused.retryAfterMs).toBe(800);
  });
});
