import { sql } from 'kysely';
import type { Database } from '../storage/tables.js';

export interface RollUpResult {
  readonly rolledUp: number;
  readonly deleted: number;
}

/**
 * Folds usage records older than `before` into daily totals and deletes them (and the ids of batches
 * written before then), in one transaction, so a crash leaves either both or neither. Running it
 * twice is harmless.
 */
export async function rollUpUsage(db: Database, before: Date): Promise<RollUpResult> {
  return db.transaction().execute(async (transaction) => {
    const rolled = await sql<{ count: string }>`
      with folded as (
        insert into usage_daily as daily
          (day, key_id, alias, requests, prompt_tokens, completion_tokens, cost_usd)
        select (created_at at time zone 'UTC')::date, coalesce(key_id, ''), alias, count(*),
               sum(prompt_tokens), sum(completion_tokens), sum(cost_usd)
          from usage_records
         where created_at < ${before}
         group by 1, 2, 3
        on conflict (day, key_id, alias) do update set
          requests = daily.requests + excluded.requests,
          prompt_tokens = daily.prompt_tokens + excluded.prompt_tokens,
          completion_tokens = daily.completion_tokens + excluded.completion_tokens,
          cost_usd = daily.cost_usd + excluded.cost_usd
        returning 1
      )
      select count(*)::text as count from folded`.execute(transaction);
    const deleted = await transaction
      .deleteFrom('usage_records')
      .where('created_at', '<', before)
      .executeTakeFirst();
    // Batch ids only guard against a retry within one process's life; older ones can go with them.
    await transaction.deleteFrom('usage_batches').where('written_at', '<', before).execute();
    return { rolledUp: Number(rolled.rows[0]?.count ?? 0), deleted: Number(deleted.numDeletedRows) };
  });
}
