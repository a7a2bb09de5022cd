import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyMatchesHash, parseKey } from '../../src/keys/key-format.js';
import { createKeyStore } from '../../src/keys/key-store.js';
import { migrate, readMigrations } from '../../src/storage/migrate.js';
import { type DatabaseHandle, openDatabase } from '../../src/storage/open-database.js';
import { createUsageStore, type UsageRecord } from '../../src/usage/usage-store.js';
import { createTestDatabase, databaseVariants, type TestDatabase } from './test-database.js';

const logger = pino({ level: 'silent' });

function usageRecord(overrides: Partial<UsageRecord>): UsageRecord {
  return {
    id: crypto.randomUUID(),
    requestId: 'req_1',
    keyId: 'k1',
    alias: 'mock',
    deployment: 'mock/mock',
    upstreamModel: 'mock',
    promptTokens: 10,
    completionTokens: 5,
    cachedTokens: 0,
    costUsd: 0.001,
    latencyMs: 12.5,
    ttftMs: 3,
    status: 200,
    cacheHit: false,
    createdAt: new Date(),
    ...overrides,
  };
}

describe.each(databaseVariants())('storage on %s', (kind) => {
  let testDatabase: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    handle = await openDatabase({ url: testDatabase.url, dataDir: testDatabase.dataDir }, logger);
  }, 60_000);

  afterAll(async () => {
    await handle?.close();
    await testDatabase?.drop();
  });

  it('applies every migration once, then finds nothing to do', async () => {
    const versions = readMigrations().map((migration) => migration.version);
    expect(versions.length).toBeGreaterThan(0);
    expect(await migrate(handle.db, logger)).toEqual(versions);
    expect(await migrate(handle.db, logger)).toEqual([]);
    const rows = await handle.db.selectFrom('gantry_migrations').select('version').execute();
    expect(rows.map((row) => row.version)).toEqual(versions);
  });

  it('stores keys as hashes: the secret is nowhere in the table', async () => {
    const store = createKeyStore(handle.db);
    const { key, record } = await store.create({
      name: 'team-a',
      allowedModels: ['mock'],
      rpm: 10,
      tpm: 1000,
      budgetUsd: 5,
      budgetPeriod: 'monthly',
      metadata: { team: 'a' },
    });
    expect(parseKey(key)).toBe(record.id);
    expect(keyMatchesHash(key, record.secretHash)).toBe(true);
    const dump = await sql<{
      dump: string;
    }>`select row_to_json(api_keys)::text as dump from api_keys`.execute(handle.db);
    const secret = key.split('-').slice(2).join('-');
    for (const row of dump.rows) {
      expect(row.dump).not.toContain(key);
      expect(row.dump).not.toContain(secret);
    }
    const read = await store.get(record.id);
    expect(read).toMatchObject({
      name: 'team-a',
      allowedModels: ['mock'],
      rpm: 10,
      tpm: 1000,
      budgetUsd: 5,
      budgetPeriod: 'monthly',
      metadata: { team: 'a' },
      revokedAt: null,
    });
  });

  it('updates, rotates and revokes keys', async () => {
    const store = createKeyStore(handle.db);
    const { key, record } = await store.create({ name: 'rotating' });
    const updated = await store.update(record.id, { rpm: 5, allowedModels: null, name: 'renamed' });
    expect(updated).toMatchObject({ name: 'renamed', rpm: 5, allowedModels: null });
    const rotated = await store.rotate(record.id);
    expect(rotated?.key).not.toBe(key);
    expect(parseKey(rotated!.key)).toBe(record.id);
    expect(keyMatchesHash(key, rotated!.record.secretHash)).toBe(false);
    expect(keyMatchesHash(rotated!.key, rotated!.record.secretHash)).toBe(true);
    const revoked = await store.revoke(record.id);
    expect(revoked?.revokedAt).toBeInstanceOf(Date);
    expect((await store.list()).map((each) => each.id)).not.toContain(record.id);
    expect((await store.list({ includeRevoked: true })).map((each) => each.id)).toContain(record.id);
    expect(await store.rotate(record.id)).toBeUndefined();
    expect(await store.get('000000000000')).toBeUndefined();
  });

  it('records usage idempotently and summarises it by key, model and day', async () => {
    const store = createUsageStore(handle.db);
    const records = [
      usageRecord({ keyId: 'k1', alias: 'mock', costUsd: 0.25 }),
      usageRecord({ keyId: 'k1', alias: 'other', costUsd: 0.5 }),
      usageRecord({ keyId: 'k2', alias: 'mock', costUsd: 1, createdAt: new Date('2020-01-02T10:00:00Z') }),
    ];
    const batchId = crypto.randomUUID();
    await store.insert(batchId, records);
    await store.insert(batchId, records); // the same batch again: its answer was lost, say
    const byKey = await store.summarize({ groupBy: 'key' });
    expect(byKey).toEqual([
      { group: 'k1', requests: 2, prompt_tokens: 20, completion_tokens: 10, cost_usd: 0.75 },
      { group: 'k2', requests: 1, prompt_tokens: 10, completion_tokens: 5, cost_usd: 1 },
    ]);
    const byModel = await store.summarize({ groupBy: 'model' });
    expect(byModel.map((row) => [row.group, row.requests])).toEqual([
      ['mock', 2],
      ['other', 1],
    ]);
    const byDay = await store.summarize({ groupBy: 'day', keyId: 'k2' });
    expect(byDay).toEqual([
      { group: '2020-01-02', requests: 1, prompt_tokens: 10, completion_tokens: 5, cost_usd: 1 },
    ]);
    expect(await store.spentSince('k1', new Date(Date.now() - 60_000))).toBeCloseTo(0.75);
    expect(await store.spentSince('k2', new Date('2021-01-01'))).toBe(0);
  });

  it("keeps each key's spend per UTC day with its batch, once however often the batch is sent", async () => {
    const store = createUsageStore(handle.db);
    const today = new Date();
    const midnight = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
    const batch = crypto.randomUUID();
    const records = [
      usageRecord({ keyId: 'spend-k1', costUsd: 1, createdAt: new Date('2026-01-31T23:59:59Z') }),
      usageRecord({ keyId: 'spend-k1', costUsd: 2, createdAt: new Date('2026-02-01T00:00:01Z') }),
      usageRecord({ keyId: 'spend-k1', costUsd: 0.5, createdAt: today }),
      usageRecord({ keyId: 'spend-k1', costUsd: 0.125, createdAt: today }),
      usageRecord({ keyId: 'spend-k2', costUsd: 0.25, createdAt: today }),
      usageRecord({ keyId: null, costUsd: 9, createdAt: today }),
    ];
    await store.insert(batch, records);
    await store.insert(batch, records); // a retry of a batch that landed adds nothing
    await store.insert(crypto.randomUUID(), [usageRecord({ keyId: 'spend-k1', costUsd: 0.375 })]);
    // A batch of records without keys (the master key) touches no key's spend.
    await store.insert(crypto.randomUUID(), [usageRecord({ keyId: null, costUsd: 5 })]);
    const days = await sql<{ key_id: string; day: string; cost_usd: number }>`
      select key_id, to_char(day, 'YYYY-MM-DD') as day, cost_usd from usage_key_spend
       where key_id like 'spend-%' order by key_id, day`.execute(handle.db);
    expect(days.rows).toEqual([
      { key_id: 'spend-k1', day: '2026-01-31', cost_usd: 1 },
      { key_id: 'spend-k1', day: '2026-02-01', cost_usd: 2 },
      { key_id: 'spend-k1', day: midnight.toISOString().slice(0, 10), cost_usd: 1 },
      { key_id: 'spend-k2', day: midnight.toISOString().slice(0, 10), cost_usd: 0.25 },
    ]);
    // Budget periods: all time, a month, today.
    expect(await store.spentSince('spend-k1', new Date(0))).toBe(4);
    expect(await store.spentSince('spend-k1', new Date('2026-02-01T00:00:00Z'))).toBe(3);
    expect(await store.spentSince('spend-k1', midnight)).toBe(1);
    expect(await store.spentSince('spend-k2', midnight)).toBe(0.25);
    expect(await store.spentSince('spend-none', new Date(0))).toBe(0);
  });

  it('holds one transaction at a time without losing concurrent writes', async () => {
    const store = createUsageStore(handle.db);
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        store.insert(crypto.randomUUID(), [usageRecord({ keyId: `c${index}` })]),
      ),
    );
    const rows = await handle.db
      .selectFrom('usage_records')
      .select(sql<number>`count(*)::int`.as('count'))
      .where('key_id', 'like', 'c%')
      .executeTakeFirst();
    expect(rows?.count).toBe(20);
  });
});
