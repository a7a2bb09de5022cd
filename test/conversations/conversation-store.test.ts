import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationStore } from '../../src/conversations/conversation-store.js';
import { migrate } from '../../src/storage/migrate.js';
import { type DatabaseHandle, openDatabase } from '../../src/storage/open-database.js';
import { createTestDatabase, databaseVariants, type TestDatabase } from '../storage/test-database.js';

const logger = pino({ level: 'silent' });

describe.each(databaseVariants())('conversation store on %s', (kind) => {
  let testDatabase: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    handle = await openDatabase({ url: testDatabase.url, dataDir: testDatabase.dataDir }, logger);
    await migrate(handle.db, logger);
  }, 60_000);

  afterAll(async () => {
    await handle?.close();
    await testDatabase?.drop();
  });

  it('appends 60 concurrent batches as contiguous runs with no gap, duplicate or loss', async () => {
    const store = createConversationStore(handle.db);
    const { id } = await store.create('owner-a', {}, []);
    const batches = 60;
    const ends = await Promise.all(
      Array.from({ length: batches }, (_, batch) =>
        store.append('owner-a', id, [
          { role: 'user', content: `b${batch}-1` },
          { role: 'assistant', content: `b${batch}-2` },
          { role: 'user', content: `b${batch}-3` },
        ]),
      ),
    );
    expect(new Set(ends).size).toBe(batches);
    expect([...ends].sort((a, b) => a! - b!)).toEqual(Array.from({ length: batches }, (_, i) => 3 * (i + 1)));
    const page = await store.items('owner-a', id, { limit: 1000, after: undefined, order: 'asc' });
    expect(page!.items.map((item) => item.position)).toEqual(
      Array.from({ length: 3 * batches }, (_, i) => i + 1),
    );
    for (let index = 0; index < page!.items.length; index += 3) {
      const contents = page!.items.slice(index, index + 3).map((item) => item.message.content as string);
      const batch = contents[0]!.split('-')[0];
      expect(contents).toEqual([`${batch}-1`, `${batch}-2`, `${batch}-3`]);
    }
    expect((await store.get('owner-a', id))!.itemCount).toBe(3 * batches);
  }, 60_000);

  it('scopes every call to the owner and deletes items with their conversation', async () => {
    const store = createConversationStore(handle.db);
    const created = await store.create('owner-a', { team: 'x' }, [{ role: 'user', content: 'hi' }]);
    expect(await store.get('owner-b', created.id)).toBeUndefined();
    expect(await store.history('owner-b', created.id)).toBeUndefined();
    expect(
      await store.append('owner-b', created.id, [{ role: 'user', content: 'intruder' }]),
    ).toBeUndefined();
    expect(await store.delete('owner-b', created.id)).toBe(false);
    expect(await store.history('owner-a', created.id)).toEqual([{ role: 'user', content: 'hi' }]);
    expect(await store.delete('owner-a', created.id)).toBe(true);
    expect(await store.append('owner-a', created.id, [{ role: 'user', content: 'late' }])).toBeUndefined();
    const orphans = await handle.db
      .selectFrom('conversation_items')
      .select('position')
      .where('conversation_id', '=', created.id)
      .execute();
    expect(orphans).toEqual([]);
  });
});
