import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KeyRecord } from '../keys/key-store.js';
import { createBudgetTracker } from './budget-tracker.js';

const RECORD = { id: 'key1', budgetUsd: 1, budgetPeriod: 'total' } as KeyRecord;

describe('budget tracker', () => {
  it('counts a flushed batch once: stored total re-read after the write, nothing pending', async () => {
    let stored = 0;
    let pending = 0.4;
    const tracker = createBudgetTracker({
      spentSince: async () => stored,
      pendingCost: () => pending,
      logger: pino({ level: 'silent' }),
      refreshMs: 60_000,
    });
    expect(await tracker.spent(RECORD)).toBeCloseTo(0.4);
    // The usage buffer writes its batch: the database has it, the buffer no longer does.
    stored = 0.4;
    pending = 0;
    tracker.written([{ keyId: 'key1' }]);
    expect(await tracker.spent(RECORD)).toBeCloseTo(0.4);
  });

  it('reuses the cached total for keys the batch did not touch', async () => {
    let reads = 0;
    const tracker = createBudgetTracker({
      spentSince: async () => {
        reads++;
        return 0;
      },
      pendingCost: () => 0,
      logger: pino({ level: 'silent' }),
      refreshMs: 60_000,
    });
    await tracker.spent(RECORD);
    tracker.written([{ keyId: 'other' }, { keyId: null }]);
    await tracker.spent(RECORD);
    expect(reads).toBe(1);
  });
});
