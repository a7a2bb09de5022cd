import { describe, expect, it } from 'vitest';
import { randomHex } from './random-hex.js';

describe('randomHex', () => {
  it('draws distinct hex ids of the asked length, across pool refills', () => {
    const ids = new Set<string>();
    for (let index = 0; index < 5_000; index++) {
      const id = randomHex(16);
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(5_000);
    expect(randomHex(8)).toMatch(/^[0-9a-f]{16}$/);
  });
});
