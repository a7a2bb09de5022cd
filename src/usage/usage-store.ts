import { sql } from 'kysely';
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
    /** USD spent by a key since a moment. */
    async spentSince(keyId: string, since: Date): Promise<number> {
      const row = await db
        .selectFrom('usage_records')
        .select(sql<number>`coalesce(sum(cost_usd), 0)::float8`.as('spent'))
        .where('key_id', '=', keyId)
        .where('created_at', '>=', since)
        .executeTakeFirst();
      return Number(row?.spent ?? 0);
    },
    async summarize(options: {
      groupBy: UsageGrouping;
      from?: Date | undefined;
      to?: Date | undefined;
      keyId?: string | undefined;
    }): Promise<UsageSummaryRow[]> {
      const group =
        options.groupBy === 'key'
          ? sql<string | null>`key_id`
          : options.groupBy === 'model'
            ? sql<string | null>`alias`
            : sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`;
      let query = db
        .selectFrom('usage_records')
        .select([
          group.as('group'),
          sql<number>`count(*)::int`.as('requests'),
          sql<number>`coalesce(sum(prompt_tokens), 0)::int8::float8`.as('prompt_tokens'),
          sql<number>`coalesce(sum(completion_tokens), 0)::int8::float8`.as('completion_tokens'),
          sql<number>`coalesce(sum(cost_usd), 0)::float8`.as('cost_usd'),
        ])
        .groupBy(sql`1`)
        .orderBy(sql`1`);
      if (options.from) query = query.where('created_at', '>=', options.from);
      if (options.to) query = query.where('created_at', '<', options.to);
      if (options.keyId) query = query.where('key_id', '=', options.keyId);
      return (await query.execute()).map((row) => ({
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
