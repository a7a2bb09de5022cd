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

/** SQL for usage records. */
export function createUsageStore(db: Database) {
  return {
    /**
     * Stores a batch once: `batchId` goes into usage_batches in the same statement as the rows, so
     * a batch sent again under its id (a retry after a lost answer) adds nothing. One array
     * parameter per column (unnest) instead of one parameter per value: a 500-row batch is 16
     * parameters, not 7,500, which halves the cost per row on the embedded database and spares the
     * query builder.
     */
    async insert(batchId: string, records: readonly UsageRecord[]): Promise<void> {
      if (records.length === 0) return;
      const column = <T>(pick: (record: UsageRecord) => T): T[] => records.map(pick);
      await sql`
        with batch as (
          insert into usage_batches (id) values (${batchId}::uuid) on conflict do nothing returning id
        )
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
     * USD spent by a key since a moment: its records, and the daily totals `gantry maintenance` folded
     * them into once they passed the retention (a day counts when it starts at or after `since`;
     * budget periods start at midnight UTC, so a day is never split). Without the totals, a key's
     * `total` or `monthly` spend would fall back as its oldest records were rolled up, and the
     * budget would let it spend again.
     */
    async spentSince(keyId: string, since: Date): Promise<number> {
      const result = await sql<{ spent: number }>`
        select (
          coalesce((select sum(cost_usd) from usage_records
                     where key_id = ${keyId} and created_at >= ${since}), 0)
          + coalesce((select sum(cost_usd) from usage_daily
                       where key_id = ${keyId} and (day::timestamp at time zone 'UTC') >= ${since}), 0)
        )::float8 as spent`.execute(db);
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
