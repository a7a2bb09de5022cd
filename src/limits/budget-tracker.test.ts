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

  it('sends one read for all the requests that find no fresh total, not one each', async () => {
    let reads = 0;
    let release: (spent: number) => void = () => {};
    const tracker = createBudgetTracker({
      spentSince: () => {
        reads++;
        return new Promise<number>((resolve) => (release = resolve));
      },
      pendingCost: () => 0.1,
      logger: pino({ level: 'silent' }),
      refreshMs: 60_000,
    });
    const waiting = Array.from({ length: 50 }, () => tracker.spent(RECORD));
    release(0.5);
    expect(await Promise.all(waiting)).toEqual(Array(50).fill(0.6));
    expect(reads).toBe(1);
    expect(await tracker.spent(RECORD)).toBeCloseTo(0.6);
    expect(reads).toBe(1);
  });

  it('does not keep a total read while a batch was being written, and reads again after it', async () => {
    const releases: Array<(spent: number) => void> = [];
    const tracker = createBudgetTracker({
      spentSince: () => new Promise<number>((resolve) => releases.push(resolve)),
      pendingCost: () => 0,
      logger: pino({ level: 'silent' }),
      refreshMs: 60_000,
    });
    const early = tracker.spent(RECORD);
    // The batch lands while that read is under way: requests from now on need a new read.
    tracker.written([{ keyId: 'key1' }]);
    const late = tracker.spent(RECORD);
    expect(releases).toHaveLength(2);
    releases[1]!(0.7); // the read after the write answers first,
    expect(await late).toBeCloseTo(0.7);
    releases[0]!(0.2); // then the one from before it, without the batch's rows
    expect(await early).toBeCloseTo(0.2);
    // Cached: the read that began after the write, not the one before it.
    expect(await tracker.spent(RECORD)).toBeCloseTo(0.7);
    expect(releases).toHaveLength(2);
  });
});
