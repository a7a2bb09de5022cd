import { describe, expect, it } from 'vitest';
import { createConcurrencyGate } from './concurrency-gate.js';

describe('concurrency gate', () => {
  it('queues beyond the limit in FIFO order and refuses beyond the queue with 503', async () => {
    const gate = createConcurrencyGate({ limit: 1, maxQueue: 2, maxWaitMs: 5_000 });
    const release = (await gate.acquire()) as () => void;
    const order: number[] = [];
    const first = Promise.resolve(gate.acquire()).then((next) => {
      order.push(1);
      return next;
    });
    const second = Promise.resolve(gate.acquire()).then((next) => {
      order.push(2);
      return next;
    });
    expect(() => gate.acquire()).toThrow(expect.objectContaining({ code: 'server_overloaded', status: 503 }));
    expect(gate.queued).toBe(2);
    release();
    release(); // releasing twice must not free a second slot
    (await first)();
    (await second)();
    expect(order).toEqual([1, 2]);
    expect(gate.active).toBe(0);
  });

  it('refuses a wait longer than maxWaitMs with a Retry-After', async () => {
    const gate = createConcurrencyGate({ limit: 1, maxQueue: 1, maxWaitMs: 20 });
    gate.acquire();
    await expect(gate.acquire()).rejects.toMatchObject({ code: 'server_overloaded', retryAfterSeconds: 1 });
    expect(gate.queued).toBe(0);
  });

  it('drops a waiter whose client went away', async () => {
    const gate = createConcurrencyGate({ limit: 1, maxQueue: 1, maxWaitMs: 5_000 });
    gate.acquire();
    const client = new AbortController();
    const waiting = gate.acquire(client.signal);
    client.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(gate.queued).toBe(0);
  });
});
