import { randomUUID } from 'node:crypto';
import type { Counter, Gauge } from 'prom-client';
import type { Logger } from '../telemetry/logger.js';
import type { UsageRecord } from './usage-store.js';

export interface UsageBufferOptions {
  /** Stores a batch once per `batchId`: a batch is retried under the id it was first sent with. */
  readonly write: (batchId: string, records: readonly UsageRecord[]) => Promise<void>;
  readonly logger: Logger;
  readonly flushIntervalMs: number;
  readonly batchSize: number;
  /** Records held at most; beyond it new records are dropped and counted. */
  readonly capacity: number;
  readonly sizeGauge?: Gauge;
  /** Called with each batch once it is stored (budgets drop their cached totals for its keys). */
  readonly onWritten?: (records: readonly UsageRecord[]) => void;
  readonly droppedCounter?: Counter;
}

/**
 * Usage writes off the hot path: `add` only appends to memory; a timer writes batches. When the
 * database fails, records stay in the buffer (bounded) and are written once it answers again.
 * A batch that failed is sent again as it was, under the same id and with the same records (not
 * with records that arrived since), so a write that landed but whose answer was lost is not
 * stored twice.
 */
export function createUsageBuffer(options: UsageBufferOptions) {
  const { logger } = options;
  let records: UsageRecord[] = [];
  /** The batch being written, or to be retried: the first records of `records`, under `id`. */
  let batch: { id: string; records: readonly UsageRecord[] } | undefined;
  let flushing: Promise<void> | undefined;
  let failing = false;
  let droppedSinceLog = 0;
  /**
   * Cost of the buffered records per key, kept as they come and go: budgets ask for it on every
   * request of a key with a budget, and summing the buffer each time cost time in proportion to the
   * buffer (a second's worth of records, or up to `capacity` while the database is down).
   */
  const pendingByKey = new Map<string, { records: number; costUsd: number }>();

  function forget(written: readonly UsageRecord[]) {
    for (const record of written) {
      if (record.keyId === null) continue;
      const pending = pendingByKey.get(record.keyId);
      if (!pending) continue;
      pending.records -= 1;
      pending.costUsd -= record.costUsd;
      // The last one gone: no rounding left behind from the subtractions.
      if (pending.records <= 0) pendingByKey.delete(record.keyId);
    }
  }

  /**
   * Writes the records buffered when it began, in batches, and no more: records that arrive while a
   * batch is being written wait for the next flush. Chasing them kept the database busy with a
   * string of one- and two-row statements after every full batch (at 500 requests a second, 3 to 45
   * of them a second, each costing the embedded database's thread a whole statement, about 1 ms).
   */
  async function writeAll(): Promise<void> {
    let due = records.length;
    while (due > 0 && records.length > 0) {
      batch ??= { id: randomUUID(), records: records.slice(0, Math.min(options.batchSize, due)) };
      try {
        await options.write(batch.id, batch.records);
      } catch (error) {
        if (!failing) {
          failing = true;
          logger.warn(
            { err: (error as Error).message, buffered: records.length },
            'usage records cannot be written; buffering until the database answers',
          );
        }
        return;
      }
      const written = batch.records;
      batch = undefined;
      due -= written.length;
      records = records.slice(written.length);
      forget(written);
      options.sizeGauge?.set(records.length);
      options.onWritten?.(written);
      if (failing) {
        failing = false;
        logger.info({ buffered: records.length }, 'usage writes resumed');
      }
    }
  }

  function flushOnce(): Promise<void> {
    flushing ??= writeAll().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  /** Writes what is buffered now, even when a flush that began earlier is still under way. */
  async function flush(): Promise<void> {
    await flushing;
    await flushOnce();
  }

  const timer = setInterval(() => {
    if (droppedSinceLog > 0) {
      logger.error({ dropped: droppedSinceLog }, 'usage buffer full: records dropped');
      droppedSinceLog = 0;
    }
    void flushOnce();
  }, options.flushIntervalMs);
  timer.unref();

  return {
    add(record: UsageRecord) {
      if (records.length >= options.capacity) {
        droppedSinceLog += 1;
        options.droppedCounter?.inc();
        return;
      }
      records.push(record);
      if (record.keyId !== null) {
        const pending = pendingByKey.get(record.keyId);
        if (pending) {
          pending.records += 1;
          pending.costUsd += record.costUsd;
        } else pendingByKey.set(record.keyId, { records: 1, costUsd: record.costUsd });
      }
      options.sizeGauge?.set(records.length);
    },
    /** Sum of costs not yet written for a key (budgets count them too). */
    pendingCost(keyId: string): number {
      return Math.max(0, pendingByKey.get(keyId)?.costUsd ?? 0);
    },
    size: () => records.length,
    flush,
    /** Stops the timer and makes a last attempt to write what is buffered. */
    async close() {
      clearInterval(timer);
      // Until empty, or until a flush stores nothing (the database is down).
      for (let left = Number.POSITIVE_INFINITY; records.length > 0 && records.length < left; ) {
        left = records.length;
        await flush();
      }
      if (records.length > 0) {
        logger.error({ lost: records.length }, 'usage records not written at shutdown');
      }
    },
  };
}

export type UsageBuffer = ReturnType<typeof createUsageBuffer>;
