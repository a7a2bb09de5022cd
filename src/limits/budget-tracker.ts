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
 */
export function createBudgetTracker(options: BudgetTrackerOptions) {
  const refreshMs = options.refreshMs ?? 5_000;
  const totals = new Map<string, { since: number; spent: number; fetchedAt: number }>();

  async function storedSpend(record: KeyRecord, since: Date): Promise<number> {
    const cached = totals.get(record.id);
    if (cached && cached.since === since.getTime() && Date.now() - cached.fetchedAt < refreshMs) {
      return cached.spent;
    }
    try {
      const spent = await options.spentSince(record.id, since);
      totals.set(record.id, { since: since.getTime(), spent, fetchedAt: Date.now() });
      return spent;
    } catch (error) {
      options.logger.warn({ err: (error as Error).message, key_id: record.id }, 'budget spend unavailable');
      return cached?.since === since.getTime() ? cached.spent : 0;
    }
  }

  return {
    /**
     * A batch of usage reached the database: its cost is no longer pending, so a cached total read
     * before the write would now miss it (and one read during the write may count it twice).
     */
    written(records: readonly { readonly keyId: string | null }[]): void {
      for (const record of records) if (record.keyId !== null) totals.delete(record.keyId);
    },
    /** USD spent in the key's current period. */
    async spent(record: KeyRecord): Promise<number> {
      const since = periodStart(record.budgetPeriod ?? 'total');
      return (await storedSpend(record, since)) + options.pendingCost(record.id);
    },
  };
}

export type BudgetTracker = ReturnType<typeof createBudgetTracker>;
