import type { BudgetPeriod, KeyRecord } from '../keys/key-store.js';
import type { Logger } from '../telemetry/logger.js';

export interface BudgetTrackerOptions {
  /** USD recorded in the database for a key since a moment. */
  readonly spentSince: (keyId: string, since: Date) => Promise<number>;
  /** USD settled in this process but not yet written. */
  readonly pendingCost: (keyId: string) => number;
  readonly logger: Logger;
  /** How long a database total is reused before it is read again. */
  readonly refreshMs?: number;
}

/** Start of the current budget period, in UTC. */
export function periodStart(period: BudgetPeriod, now = new Date()): Date {
  if (period === 'total') return new Date(0);
  if (period === 'daily')
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/**
 * Spend per key from the usage table (cached briefly) plus this process's unwritten spend. If the
 * database is unreachable the last total is used, so an outage does not stop every budgeted key.
 *
 * Requests of one key that find no fresh total share one read: each written batch drops the key's
 * total, and at a few thousand requests a second every request arriving before the new total came
 * back sent its own query (tens per batch, each a round trip to the database's thread). A read that
 * was under way when a batch was written is not cached: it may predate the batch's rows, which are
 * no longer pending either.
 */
export function createBudgetTracker(options: BudgetTrackerOptions) {
  const refreshMs = options.refreshMs ?? 5_000;
  const totals = new Map<string, { since: number; spent: number; fetchedAt: number }>();
  const reading = new Map<string, { since: number; generation: number; spent: Promise<number> }>();
  /** Per key, how many times a written batch has made its total stale. */
  const generations = new Map<string, number>();

  async function read(keyId: string, since: Date, generation: number): Promise<number> {
    try {
      const spent = await options.spentSince(keyId, since);
      if ((generations.get(keyId) ?? 0) === generation)
        totals.set(keyId, { since: since.getTime(), spent, fetchedAt: Date.now() });
      return spent;
    } catch (error) {
      options.logger.warn({ err: (error as Error).message, key_id: keyId }, 'budget spend unavailable');
      const cached = totals.get(keyId);
      return cached?.since === since.getTime() ? cached.spent : 0;
    }
  }

  function storedSpend(record: KeyRecord, since: Date): Promise<number> | number {
    const cached = totals.get(record.id);
    if (cached && cached.since === since.getTime() && Date.now() - cached.fetchedAt < refreshMs) {
      return cached.spent;
    }
    const generation = generations.get(record.id) ?? 0;
    const current = reading.get(record.id);
    if (current && current.since === since.getTime() && current.generation === generation)
      return current.spent;
    const spent = read(record.id, since, generation).finally(() => {
      if (reading.get(record.id)?.spent === spent) reading.delete(record.id);
    });
    reading.set(record.id, { since: since.getTime(), generation, spent });
    return spent;
  }

  return {
    /**
     * A batch of usage reached the database: its cost is no longer pending, so a cached total read
     * before the write would now miss it (and one read during the write may count it twice).
     */
    written(records: readonly { readonly keyId: string | null }[]): void {
      const keys = new Set<string>();
      for (const record of records) if (record.keyId !== null) keys.add(record.keyId);
      for (const keyId of keys) {
        if (!totals.has(keyId) && !reading.has(keyId)) continue;
        totals.delete(keyId);
        generations.set(keyId, (generations.get(keyId) ?? 0) + 1);
      }
    },
    /** USD spent in the key's current period. */
    async spent(record: KeyRecord): Promise<number> {
      const since = periodStart(record.budgetPeriod ?? 'total');
      return (await storedSpend(record, since)) + options.pendingCost(record.id);
    },
  };
}

export type BudgetTracker = ReturnType<typeof createBudgetTracker>;
