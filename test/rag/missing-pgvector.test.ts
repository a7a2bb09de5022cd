import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startGantry } from '../helpers/gantry-process.js';
import { createTestDatabase } from '../storage/test-database.js';
import { ragConfig } from './rag-gantry.js';

/** A PostgreSQL server without pgvector: DATABASE_URL (.ci/run sets it to the machine's PostgreSQL 15). */
const SERVER = process.env.DATABASE_URL || undefined;

async function hasPgvector(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(`select 1 from pg_available_extensions where name = 'vector'`)).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe.runIf(SERVER)('RAG on a PostgreSQL server without pgvector', () => {
  it('`gantry worker` exits 78 with an error naming the extension and the setting', async (context) => {
    if (await hasPgvector(SERVER!)) {
      console.log('[rag tests] DATABASE_URL has pgvector: the missing-extension error cannot be shown there');
      context.skip();
    }
    const database = await createTestDatabase('postgres');
    try {
      const worker = await startGantry({
        args: ['worker'],
        configYaml: ragConfig(),
        env: { DATABASE_URL: database.url, GANTRY_MASTER_KEY: 'sk-master-rag-0123456789abcdef' },
        noWait: true,
      });
      expect(await worker.exited).toBe(78);
      expect(worker.output()).toMatch(
        /rag\.enabled \(RAG_ENABLED\): the PostgreSQL server has no pgvector extension/,
      );
    } finally {
      await database.drop();
    }
  });

  it('`gantry serve` with RAG enabled reports the same error and does not pass /startup', async () => {
    const database = await createTestDatabase('postgres');
    try {
      const gantry = await startGantry({
        configYaml: ragConfig(),
        env: { DATABASE_URL: database.url, GANTRY_MASTER_KEY: 'sk-master-rag-0123456789abcdef' },
        waitFor: 'health',
      });
      try {
        const deadline = Date.now() + 20_000;
        while (!gantry.output().includes('pgvector extension') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(gantry.output()).toMatch(/RAG_ENABLED.*no pgvector extension/);
        expect((await fetch(`${gantry.url}/startup`)).status).toBe(503);
      } finally {
        await gantry.stop('SIGKILL');
      }
    } finally {
      await database.drop();
    }
  });
});
