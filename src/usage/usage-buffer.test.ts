import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createUsageBuffer, type UsageBuffer, type UsageBufferOptions } from './usage-buffer.js';
import type { UsageRecord } from './usage-store.js';

const record = (requestId: string) => ({ requestId, keyId: 'k1', costUsd: 0.5 }) as UsageRecord;

/** A buffer whose timer never fires within a test: only explicit flushes write. */
const bufferWith = (write: UsageBufferOptions['write'], batchSize: number) =>
  createUsageBuffer({
    write,
    logger: pino({ level: 'silent' }),
    flushIntervalMs: 60_000,
    batchSize,
    capacity: 100,
  });

/** Adds one record per [key, cost]. */
const addCosts = (buffer: UsageBuffer, ...costs: Array<[string | null, number]>) => {
  for (const [keyId, costUsd] of costs) buffer.add({ requestId: 'r', keyId, costUsd } as UsageRecord);
};

describe('usage buffer', () => {
  it('retries a failed batch as it was, under its id, not with the records that arrived since', async () => {
    const calls: Array<{ batchId: string; requests: string[] }> = [];
    let failNext = true;
    const buffer = bufferWith(async (batchId, records) => {
      calls.push({ batchId, requests: records.map((each) => each.requestId) });
      if (failNext) {
        failNext = false;
        // As when the database stored the batch but its answer was lost.
        throw new Error('connection reset');
      }
    }, 2);
    buffer.add(record('a'));
    await buffer.flush();
    buffer.add(record('b'));
    buffer.add(record('c'));
    expect(buffer.pendingCost('k1')).toBeCloseTo(1.5);
    await buffer.flush();
    expect(calls.map((call) => call.requests)).toEqual([['a'], ['a'], ['b', 'c']]);
    expect(calls[1]!.batchId).toBe(calls[0]!.batchId);
    expect(calls[2]!.batchId).not.toBe(calls[0]!.batchId);
    expect(calls[2]!.batchId).toMatch(/^[0-9a-f-]{36}$/);
    expect(buffer.size()).toBe(0);
    expect(buffer.pendingCost('k1')).toBe(0);
    await buffer.close();
  });

  it('writes the records buffered when a flush began; those that arrive meanwhile wait for the next', async () => {
    const calls: string[][] = [];
    let arriving = 3;
    const buffer = bufferWith(async (_batchId, records) => {
      calls.push(records.map((each) => each.requestId));
      // Requests keep finishing while the database writes.
      if (arriving > 0) buffer.add(record(`late-${arriving--}`));
    }, 2);
    for (const id of ['a', 'b', 'c']) buffer.add(record(id));
    await buffer.flush();
    // Both batches of the three (two, then one), not the records added during them.
    expect(calls).toEqual([['a', 'b'], ['c']]);
    expect(buffer.size()).toBe(2);
    await buffer.flush();
    expect(calls.slice(2)).toEqual([['late-3', 'late-2']]);
    expect(buffer.size()).toBe(1);
    // close() empties the buffer, whatever arrived during earlier writes.
    await buffer.close();
    expect(calls.slice(3)).toEqual([['late-1']]);
    expect(buffer.size()).toBe(0);
  });

  it('flush() writes what is buffered at the call even while an earlier flush is under way', async () => {
    const calls: string[][] = [];
    let release: () => void = () => {};
    const buffer = bufferWith(async (_batchId, records) => {
      calls.push(records.map((each) => each.requestId));
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
    }, 10);
    buffer.add(record('a'));
    const first = buffer.flush();
    await new Promise((resolve) => setImmediate(resolve));
    buffer.add(record('b'));
    const second = buffer.flush();
    release();
    await Promise.all([first, second]);
    expect(calls).toEqual([['a'], ['b']]);
    expect(buffer.size()).toBe(0);
    await buffer.close();
  });

  it("keeps each key's unwritten cost until a write stores it, without the records dropped when full", async () => {
    let down = true;
    const buffer = createUsageBuffer({
      write: async () => {
        if (down) throw new Error('database down');
      },
      logger: pino({ level: 'silent' }),
      flushIntervalMs: 60_000,
      batchSize: 3,
      capacity: 5,
    });
    // The sixth is over capacity: dropped, so not pending either.
    addCosts(buffer, ['k1', 0.1], ['k2', 0.25], [null, 9], ['k1', 0.2], ['k2', 0.5], ['k1', 100]);
    expect(buffer.pendingCost('k1')).toBeCloseTo(0.3);
    expect(buffer.pendingCost('k2')).toBeCloseTo(0.75);
    expect(buffer.pendingCost('k3')).toBe(0);
    await buffer.flush(); // stores nothing
    expect(buffer.pendingCost('k1')).toBeCloseTo(0.3);
    down = false;
    await buffer.flush();
    expect(buffer.size()).toBe(0);
    expect(buffer.pendingCost('k1')).toBe(0);
    expect(buffer.pendingCost('k2')).toBe(0);
    await buffer.close();
  });

  it('takes off the cost of a stored batch only, when the next batch fails', async () => {
    let writes = 0;
    const buffer = bufferWith(async () => {
      writes += 1;
      if (writes > 1) throw new Error('database down again');
    }, 3);
    addCosts(buffer, ['k1', 0.1], ['k2', 0.25], ['k1', 0.2], ['k1', 0.4], ['k2', 0.5]);
    await buffer.flush(); // the first three are stored, the last two are not
    expect(buffer.size()).toBe(2);
    expect(buffer.pendingCost('k1')).toBeCloseTo(0.4);
    expect(buffer.pendingCost('k2')).toBeCloseTo(0.5);
    await buffer.close();
  });

  it('close() stops when the database stores nothing, and keeps the records counted as lost', async () => {
    let attempts = 0;
    const buffer = bufferWith(async () => {
      attempts++;
      throw new Error('database down');
    }, 10);
    buffer.add(record('a'));
    await buffer.close();
    expect(attempts).toBe(1);
    expect(buffer.size()).toBe(1);
  });
});
