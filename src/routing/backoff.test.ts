import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('draws from [0, min(max, base × 2^(retry-1))) (full jitter)', () => {
    expect(backoffDelay(1, 100, 2_000, undefined, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 2_000, undefined, () => 0.999)).toBe(399);
    expect(backoffDelay(10, 100, 2_000, undefined, () => 0.999)).toBe(1_998);
    expect(backoffDelay(3, 100, 2_000, undefined, () => 0)).toBe(0);
  });

  it('lets a longer Retry-After win, and ignores a shorter one', () => {
    expect(backoffDelay(1, 100, 2_000, 1.5, () => 0.5)).toBe(1_500);
    expect(backoffDelay(5, 100, 2_000, 0.01, () => 0.5)).toBe(800);
    expect(backoffDelay(1, 100, 2_000, Number.NaN, () => 0.5)).toBe(50);
  });
});
