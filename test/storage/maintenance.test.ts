import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/storage/migrate.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { createUsageStore, type UsageRecord } from '../../src/usage/usage-store.js';
import { createTestDatabase, databaseVariants, type TestDatabase } from './test-database.js';

const logger = pino({ level: 'silent' });
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const DAY = 86_400_000;

function record(daysAgo: number, keyId: string | null, costUsd: number): UsageRecord {
  return {
    id: crypto.randomUUID(),
    requestId: `req_${daysAgo}_${Math.random()}`,
    keyId,
    alias: 'mock',
    deployment: 'mock/mock',
    upstreamModel: 'mock',
    promptTokens: 10,
    completionTokens: 5,
    cachedTokens: 0,
    costUsd,
    latencyMs: 1,
    ttftMs: 1,
    status: 200,
    cacheHit: false,
    createdAt: new Date(Date.now() - daysAgo * DAY - 3_600_000),
  };
}

describe.each(databaseVariants())('gantry maintenance on %s', (kind) => {
  let testDatabase: TestDatabase;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    const handle = await openDatabase({ url: testDatabase.url, dataDir: testDatabase.dataDir }, logger);
    await migrate(handle.db, logger);
    await createUsageStore(handle.db).insert(crypto.randomUUID(), [
      record(40, 'k1', 0.5),
      record(40, 'k1', 0.25),
      record(40, null, 1),
      record(35, 'k2', 2),
      record(1, 'k1', 4),
    ]);
    // A batch id from before the retention window: maintenance deletes it with the old records.
    await sql`insert into usage_batches (id, written_at)
      values (${crypto.randomUUID()}::uuid, now() - interval '40 days')`.execute(handle.db);
    await handle.close();
  }, 60_000);
  afterAll(async () => {
    await testDatabase?.drop();
  });

  function runMaintenance() {
    return spawnSync(process.execPath, [CLI, 'maintenance', '--retention', '30d'], {
      env: {
        PATH: process.env.PATH,
        DATA_DIR: testDatabase.dataDir,
        ...(testDatabase.url ? { DATABASE_URL: testDatabase.url } : {}),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  it('rolls old usage up into daily totals, deletes it, keeps recent records, and is idempotent', async () => {
    const first = runMaintenance();
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ rolled_up_groups: 3, deleted_records: 4 });
    const second = runMaintenance();
    expect(JSON.parse(second.stdout)).toMatchObject({ rolled_up_groups: 0, deleted_records: 0 });

    const handle = await openDatabase({ url: testDatabase.url, dataDir: testDatabase.dataDir }, logger);
    try {
      const daily = await handle.db
        .selectFrom('usage_daily' as never)
        .select(['key_id', 'requests', 'cost_usd'] as never[])
        .orderBy('key_id' as never)
        .execute();
      // bigint comes back as a string from pg and as a number from PGlite.
      const rows = daily as Array<{ key_id: string; requests: string | number; cost_usd: number }>;
      expect(rows.map((row) => ({ ...row, requests: Number(row.requests) }))).toEqual([
        { key_id: '', requests: 1, cost_usd: 1 },
        { key_id: 'k1', requests: 2, cost_usd: 0.75 },
        { key_id: 'k2', requests: 1, cost_usd: 2 },
      ]);
      const remaining = await handle.db.selectFrom('usage_records').select('cost_usd').execute();
      expect(remaining.map((row) => row.cost_usd)).toEqual([4]);
      const batches = await handle.db.selectFrom('usage_batches').select('written_at').execute();
      expect(batches).toHaveLength(1); // the recent batch's id stays
      expect(batches[0]!.written_at.getTime()).toBeGreaterThan(Date.now() - DAY);
    } finally {
      await handle.close();
    }
  });

  it('counts rolled-up days in budgets and reports, as the records they replaced were counted', async () => {
    // Runs after the roll-up above: k1 has 0.75 in a daily total (40 days ago) and 4 in a record.
    const handle = await openDatabase({ url: testDatabase.url, dataDir: testDatabase.dataDir }, logger);
    try {
      const usage = createUsageStore(handle.db);
      // A `total` budget starts at the epoch; before, the rolled-up 0.75 dropped out of it.
      expect(await usage.spentSince('k1', new Date(0))).toBeCloseTo(4.75, 10);
      expect(await usage.spentSince('k2', new Date(0))).toBeCloseTo(2, 10);
      // A period that starts after the rolled-up days counts only the recent record.
      const tenDaysAgo = new Date(
        Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 10 * DAY,
      );
      expect(await usage.spentSince('k1', tenDaysAgo)).toBeCloseTo(4, 10);
      expect(await usage.spentSince('k2', tenDaysAgo)).toBe(0);

      const byKey = await usage.summarize({ groupBy: 'key' });
      expect(byKey).toEqual([
        { group: 'k1', requests: 3, prompt_tokens: 30, completion_tokens: 15, cost_usd: 4.75 },
        { group: 'k2', requests: 1, prompt_tokens: 10, completion_tokens: 5, cost_usd: 2 },
        { group: null, requests: 1, prompt_tokens: 10, completion_tokens: 5, cost_usd: 1 },
      ]);
      const byDay = await usage.summarize({ groupBy: 'day', keyId: 'k1' });
      expect(byDay.map((row) => row.requests)).toEqual([2, 1]);
      expect(byDay[0]!.group).toBe(record(40, 'k1', 0).createdAt.toISOString().slice(0, 10));
      const recent = await usage.summarize({ groupBy: 'model', from: tenDaysAgo });
      expect(recent).toEqual([
        { group: 'mock', requests: 1, prompt_tokens: 10, completion_tokens: 5, cost_usd: 4 },
      ]);
    } finally {
      await handle.close();
    }
  });
});
