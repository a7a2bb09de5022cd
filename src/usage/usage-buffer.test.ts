import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createUsageBuffer } from './usage-buffer.js';
import type { UsageRecord } from './usage-store.js';

const record = (requestId: string) => ({ requestId, keyId: 'k1', costUsd: 0.5 }) as UsageRecord;

describe('usage buffer', () => {
  it('retries a failed batch as it was, under its id, not with the records that arrived since', async () => {
    const calls: Array<{ batchId: string; requests: string[] }> = [];
    let failNext = true;
    const buffer = createUsageBuffer({
      write: async (batchId, records) => {
        calls.push({ batchId, requests: records.map((each) => each.requestId) });
        if (failNext) {
          failNext = false;
          // As when the database stored the batch but its answer was lost.
          throw new Error('connection reset');
        }
      },
      logger: pino({ level: 'silent' }),
      flushIntervalMs: 60_000,
      batchSize: 2,
      capacity: 100,
    });
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
});
