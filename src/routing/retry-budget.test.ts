import { describe, expect, it } from 'vitest';
import { createRetryBudget } from './retry-budget.js';

describe('retry budget', () => {
  it('allows ratio × requests plus the floor over the window, then refuses', () => {
    let now = 1_000_000;
    const budget = createRetryBudget({ ratio: 0.1, minPerSecond: 0.5, windowMs: 10_000, now: () => now });
    for (let index = 0; index < 100; index++) budget.recordRequest();
    // 100 × 0.1 + 0.5 × 10 s = 15 retries.
    const granted = Array.from({ length: 40 }, () => budget.tryAcquire()).filter(Boolean).length;
    expect(granted).toBe(15);
    now += 5_000;
    expect(budget.tryAcquire()).toBe(false);
    // Once the window has slid past, the old requests and retries no longer count.
    now += 10_000;
    expect(Array.from({ length: 10 }, () => budget.tryAcquire()).filter(Boolean).length).toBe(5);
  });

  it('refuses every retry with a zero ratio and floor', () => {
    const budget = createRetryBudget({ ratio: 0, minPerSecond: 0, windowMs: 1_000 });
    budget.recordRequest();
    expect(budget.tryAcquire()).toBe(false);
  });
});
