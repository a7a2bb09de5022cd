import { type RawBuilder, sql } from 'kysely';
import type { Database } from '../storage/tables.js';

/** One served request, as recorded for accounting. */
export interface UsageRecord {
  readonly id: string;
  readonly requestId: string;
  readonly keyId: string | null;
  readonly alias: string;
  readonly deployment: string | null;
  readonly upstreamModel: string | null;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
  readonly costUsd: number;
  readonly latencyMs: number;
  readonly ttftMs: number | null;
  readonly status: number;
  readonly cacheHit: boolean;
  readonly createdAt: Date;
}

export type UsageGrouping = 'key' | 'model' | 'day';

export interface UsageSummaryRow {
  readonly group: string | null;
  readonly requests: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cost_usd: number;
}

const DAY_MS = 86_400_000;

/**
 * A batch's cost per key and UTC day (days since 1970-01-01), as three columns; records without a
 * key are no key's spend.
 */
function spendByKeyAndDay(records: readonly UsageRecord[]) {
  const byKey = new Map<string, Map<number, number>>();
  for (const record of records) {
    if (record.keyId === null) continue;
    const day = Math.floor(record.createdAt.getTime() / DAY_MS);
    let days = byKey.get(record.keyId);
    if (!days) {
      days = new Map();
      byKey.set(record.keyId, days);
    }
    days.set(day, (days.get(day) ?? 0) + record.costUsd);
  }
  const keys: string[] = [];
  const days: number[] = [];
  const costs: number[] = [];
  // In one order for every batch: replicas adding to the same keys' rows at once then take the row
  // locks in the same order, instead of each holding one the other waits for (a deadlock, which
  // PostgreSQL would break by failing one batch).
  for (const key of [...byKey.keys()].sort())
    for (const [day, cost] of [...byKey.get(key)!].sort((left, right) => left[0] - right[0])) {
      keys.push(key);
      days.push(day);
      costs.push(cost);
    }
  return { keys, days, costs };
}

/** SQL for usage records. */
export function createUsageStore(db: Database) {
  return {
    /**
     * Stores a batch once: `batchId` goes into usage_batches in the same statement as the rows, so
     * a batch sent again under its id (a retry after a lost answer) adds nothing. One array
     * parameter per column (unnest) instead of one parameter per value: a 500-row batch is 16
     * parameters, not 7,500, which halves the cost per row on the embedded database and spares the
     * query builder. The batch's spend per key and UTC day goes into usage_key_spend in the same
     * statement, under the same once-only condition (a batch without keyed records skips it).
     */
    async insert(batchId: string, records: readonly UsageRecord[]): Promise<void> {
      if (records.length === 0) return;
      const column = <T>(pick: (record: UsageRecord) => T): T[] => records.map(pick);
      const spend = spendByKeyAndDay(records);
      const addSpend =
        spend.keys.length === 0
          ? sql``
          : sql`, spend as (
              insert into usage_key_spend as spent (key_id, day, cost_usd)
              select key_id, date '1970-01-01' + day, cost_usd
                from unnest(${spend.keys}::text[], ${spend.days}::int[], ${spend.costs}::float8[])
                  as added(key_id, day, cost_usd)
               where exists (select 1 from batch)
              on conflict (key_id, day) do update set cost_usd = spent.cost_usd + excluded.cost_usd
            )`;
      await sql`
        with batch as (
          insert into usage_batches (id) values (${batchId}::uuid) on conflict do nothing returning id
        )${addSpend}
        insert into usage_records (id, request_id, key_id, alias, deployment, upstream_model,
          prompt_tokens, completion_tokens, cached_tokens, cost_usd, latency_ms, ttft_ms, status,
          cache_hit, created_at)
        select * from unnest(
          ${column((r) => r.id)}::uuid[], ${column((r) => r.requestId)}::text[],
          ${column((r) => r.keyId)}::text[], ${column((r) => r.alias)}::text[],
          ${column((r) => r.deployment)}::text[], ${column((r) => r.upstreamModel)}::text[],
          ${column((r) => r.promptTokens)}::int[], ${column((r) => r.completionTokens)}::int[],
          ${column((r) => r.cachedTokens)}::int[], ${column((r) => r.costUsd)}::float8[],
          ${column((r) => r.latencyMs)}::float8[], ${column((r) => r.ttftMs)}::float8[],
          ${column((r) => r.status)}::int[], ${column((r) => r.cacheHit)}::bool[],
          ${column((r) => r.createdAt)}::timestamptz[])
        where exists (select 1 from batch)`.execute(db);
    },
    /**
     * USD spent by a key since a moment, from its spend per UTC day (usage_key_spend): a few rows
     * per key, however many records, and still counted after `gantry maintenance` rolls the records
     * up. `since` is the start of a budget period, midnight UTC, so no day is split.
     */
    async spentSince(keyId: string, since: Date): Promise<number> {
      const result = await sql<{ spent: number }>`
        select coalesce(sum(cost_usd), 0)::float8 as spent
          from usage_key_spend
         where key_id = ${keyId} and day >= (${since}::timestamptz at time zone 'UTC')::date`.execute(db);
      return Number(result.rows[0]?.spent ?? 0);
    },
    /**
     * Requests, tokens and cost per group, from the records and from the daily totals of records
     * already rolled up (a rolled-up day counts in [from, to) when it starts there).
     */
    async summarize(options: {
      groupBy: UsageGrouping;
      from?: Date | undefined;
      to?: Date | undefined;
      keyId?: string | undefined;
    }): Promise<UsageSummaryRow[]> {
      const group =
        options.groupBy === 'key'
          ? sql`key_id`
          : options.groupBy === 'model'
            ? sql`alias`
            : sql`to_char(counted_at at time zone 'UTC', 'YYYY-MM-DD')`;
      const where = (at: RawBuilder<unknown>, key: RawBuilder<unknown>) => {
        const conditions = [sql`true`];
        if (options.from) conditions.push(sql`${at} >= ${options.from}`);
        if (options.to) conditions.push(sql`${at} < ${options.to}`);
        if (options.keyId) conditions.push(sql`${key} = ${options.keyId}`);
        return sql.join(conditions, sql` and `);
      };
      const dayStart = sql`(day::timestamp at time zone 'UTC')`;
      const result = await sql<{
        group: string | null;
        requests: number;
        prompt_tokens: number;
        completion_tokens: number;
        cost_usd: number;
      }>`
        with combined as (
          select key_id, alias, created_at as counted_at, 1::int8 as requests, prompt_tokens::int8 as prompt_tokens,
                 completion_tokens::int8 as completion_tokens, cost_usd
            from usage_records
           where ${where(sql`created_at`, sql`key_id`)}
          union all
          select nullif(key_id, ''), alias, ${dayStart}, requests, prompt_tokens, completion_tokens, cost_usd
            from usage_daily
           where ${where(dayStart, sql`key_id`)}
        )
        select ${group} as "group", sum(requests)::float8 as requests,
               sum(prompt_tokens)::float8 as prompt_tokens,
               sum(completion_tokens)::float8 as completion_tokens,
               coalesce(sum(cost_usd), 0)::float8 as cost_usd
          from combined
         group by 1
         order by 1`.execute(db);
      return result.rows.map((row) => ({
        group: row.group,
        requests: Number(row.requests),
        prompt_tokens: Number(row.prompt_tokens),
        completion_tokens: Number(row.completion_tokens),
        cost_usd: Number(row.cost_usd),
      }));
    },
  };
}

export type UsageStore = ReturnType<typeof createUsageStore>;
