import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The server variants run only when DATABASE_URL is set (`.ci/run` sets it); `npm test` needs no server. */
export const SERVER_DATABASE_URL = process.env.DATABASE_URL || undefined;

export interface TestDatabase {
  /** DATABASE_URL for this run's own database (undefined: embedded PGlite in dataDir). */
  readonly url: string | undefined;
  readonly dataDir: string;
  drop(): Promise<void>;
}

/** A fresh, empty database: its own PostgreSQL database per run, or a PGlite data dir. */
export async function createTestDatabase(kind: 'pglite' | 'postgres'): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-state-'));
  if (kind === 'pglite') {
    return { url: undefined, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `gantry_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(SERVER_DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir,
    async drop() {
      const client = new pg.Client({ connectionString: SERVER_DATABASE_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Variants to run, printed so a reader of the test output knows which ones ran. */
export function databaseVariants(): Array<'pglite' | 'postgres'> {
  const variants: Array<'pglite' | 'postgres'> = SERVER_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
  console.log(
    `[state tests] database variants: ${variants.join(', ')}${SERVER_DATABASE_URL ? '' : ' (set DATABASE_URL to also run on PostgreSQL)'}`,
  );
  return variants;
}
