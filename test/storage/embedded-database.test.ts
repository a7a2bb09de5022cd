import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
// The PGlite that Gantry shipped with first (a devDependency under another name), for the upgrade test.
import { PGlite as LegacyPGlite } from 'pglite-0-3';
import { vector as legacyVector } from 'pglite-0-3/vector';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyStore } from '../../src/keys/key-store.js';
import { migrate, readMigrations } from '../../src/storage/migrate.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { pgliteDialect } from '../../src/storage/pglite-dialect.js';
import type { EmbeddedDatabase } from '../../src/storage/pglite-worker-client.js';
import type { Database } from '../../src/storage/tables.js';
import { createUsageStore } from '../../src/usage/usage-store.js';

const logger = pino({ level: 'silent' });

/** The shape Gantry's Kysely dialect expects, over a PGlite 0.3 instance on this thread. */
function legacyEmbedded(database: LegacyPGlite): EmbeddedDatabase {
  return {
    async exec(text) {
      const last = (await database.exec(text)).at(-1);
      return { rows: last?.rows ?? [], affectedRows: last?.affectedRows };
    },
    async query(text, params) {
      const result = await database.query(text, params);
      return { rows: result.rows, affectedRows: result.affectedRows };
    },
    close: () => database.close(),
    get closed() {
      return database.closed;
    },
  };
}

async function sharedBuffersOf(db: Database): Promise<string> {
  const result = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(db);
  return result.rows[0]!.shared_buffers;
}

describe('the embedded database (PGlite)', () => {
  const dataDirs: string[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-embedded-'));
    dataDirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('runs with a 16MB page cache by default (PGlite alone: 128MB) and with database.shared_buffers when set', async () => {
    const dataDir = newDataDir();
    const byDefault = await openDatabase({ url: undefined, dataDir }, logger);
    try {
      expect(await sharedBuffersOf(byDefault.db)).toBe('16MB');
    } finally {
      await byDefault.close();
    }
    const configured = await openDatabase({ url: undefined, dataDir, sharedBuffers: '2MB' }, logger);
    try {
      expect(await sharedBuffersOf(configured.db)).toBe('2MB');
    } finally {
      await configured.close();
    }
  }, 120_000);

  it('creates a new data directory under a staging name and clears what a cut-off creation left', async () => {
    const dataDir = newDataDir();
    // What a start killed while creating the directory leaves: a half-made copy under the staging name.
    const leftover = join(dataDir, 'pglite.creating-99999');
    mkdirSync(leftover);
    writeFileSync(join(leftover, 'PG_VERSION'), '17\n');
    const handle = await openDatabase({ url: undefined, dataDir }, logger);
    try {
      expect((await sql<{ one: number }>`select 1 as one`.execute(handle.db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await handle.close();
    }
    expect(readdirSync(dataDir).sort()).toEqual(['pglite']);
    expect(readFileSync(join(dataDir, 'pglite', 'PG_VERSION'), 'utf8').trim()).toBe('17');
  }, 120_000);

  it('copies a new data directory from the template when there is one (the image ships one), without initdb', async () => {
    // A template as the image's build makes it: a data directory PGlite created, with a marker that
    // only a copy can carry (initdb would not write it).
    const templateHome = newDataDir();
    const made = await openDatabase({ url: undefined, dataDir: templateHome }, logger);
    await made.close();
    const template = join(templateHome, 'pglite');
    writeFileSync(join(template, 'copied-from-template'), 'yes');
    const dataDir = newDataDir();
    const handle = await openDatabase({ url: undefined, dataDir, template }, logger);
    try {
      await sql`create table only_in_the_copy (id int)`.execute(handle.db);
      expect((await sql<{ one: number }>`select 1 as one`.execute(handle.db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await handle.close();
    }
    expect(readFileSync(join(dataDir, 'pglite', 'copied-from-template'), 'utf8')).toBe('yes');
    expect(readdirSync(dataDir).sort()).toEqual(['pglite']);
    // The template itself is only read: what the copy wrote is not in it.
    const again = await openDatabase({ url: undefined, dataDir: templateHome }, logger);
    try {
      const tables = await sql<{ count: number }>`
        select count(*)::int as count from pg_tables where tablename = 'only_in_the_copy'`.execute(again.db);
      expect(tables.rows).toEqual([{ count: 0 }]);
    } finally {
      await again.close();
    }
    // A template that is not there is no template: the directory is created by initdb.
    const withoutTemplate = newDataDir();
    const created = await openDatabase(
      { url: undefined, dataDir: withoutTemplate, template: join(withoutTemplate, 'missing') },
      logger,
    );
    await created.close();
    expect(readdirSync(join(withoutTemplate, 'pglite'))).not.toContain('copied-from-template');
    expect(readFileSync(join(withoutTemplate, 'pglite', 'PG_VERSION'), 'utf8').trim()).toBe('17');
  }, 180_000);

  it('opens a data directory written by PGlite 0.3 (earlier Gantry) with its keys, usage and vectors', async () => {
    const dataDir = newDataDir();
    // As earlier Gantry wrote it: PGlite 0.3's defaults, the same directory layout, no checkpoint at
    // the end (the last writes are in the write-ahead log only).
    const legacy = await LegacyPGlite.create(join(dataDir, 'pglite'), {
      extensions: { vector: legacyVector },
    });
    const before: Database = new Kysely({ dialect: pgliteDialect(legacyEmbedded(legacy)) });
    // The schema of that time: every migration before the spend per key and day (0070).
    await migrate(
      before,
      logger,
      readMigrations().filter((migration) => migration.version < 70),
    );
    const { record } = await createKeyStore(before).create({ name: 'written by 0.3' });
    await sql`insert into usage_records (id, request_id, key_id, alias, latency_ms, status, cost_usd, created_at)
      values (${crypto.randomUUID()}::uuid, 'req_before_upgrade', ${record.id}, 'mock', 10, 200, 0.25, now())`.execute(
      before,
    );
    await sql`create extension if not exists vector`.execute(before);
    await sql`create table legacy_vectors (id int primary key, embedding vector(3))`.execute(before);
    await sql`insert into legacy_vectors values (1, '[1,0,0]'), (2, '[0,1,0]')`.execute(before);
    await before.destroy();

    const after = await openDatabase({ url: undefined, dataDir }, logger);
    try {
      // The new migration fills the spend per key and day from the records already there.
      expect(await migrate(after.db, logger)).toEqual([70]);
      expect(await createKeyStore(after.db).get(record.id)).toMatchObject({ name: 'written by 0.3' });
      expect(await createUsageStore(after.db).spentSince(record.id, new Date(0))).toBe(0.25);
      const nearest = await sql<{ id: number }>`
        select id from legacy_vectors order by embedding <-> '[0.1,0.9,0]' limit 1`.execute(after.db);
      expect(nearest.rows).toEqual([{ id: 2 }]);
    } finally {
      await after.close();
    }
  }, 120_000);
});
