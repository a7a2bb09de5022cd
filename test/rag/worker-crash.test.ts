import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunker } from '../../src/rag/chunk-text.js';
import { openDatabase } from '../../src/storage/open-database.js';
import type { GantryProcess } from '../helpers/gantry-process.js';
import { generateCorpus } from './corpus.js';
import { type PgvectorServer, ragVariants, startPgvector } from './pgvector-server.js';
import { api, type Backend, metricValue, ragConfig, startRagProcess, upload } from './rag-gantry.js';

const DOCUMENTS = 300;

/** sha256 of a document's chunks in order: their text and spans. */
function digest(chunks: ReadonlyArray<{ text: string; start: number; end: number }>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(`${chunk.start}:${chunk.end}:${chunk.text}\u0000`);
  return hash.digest('hex');
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(ragVariants())('ingestion worker killed mid-ingestion on %s', (kind) => {
  let server: PgvectorServer | undefined;
  let backend: Backend;
  const processes: GantryProcess[] = [];

  beforeAll(async () => {
    server = kind === 'pgvector' ? await startPgvector() : undefined;
    backend = { kind, databaseUrl: server?.url, dataDir: mkdtempSync(join(tmpdir(), 'gantry-rag-crash-')) };
  }, 120_000);

  afterAll(async () => {
    for (const process of processes) await process.stop('SIGKILL');
    await server?.close();
    if (backend) rmSync(backend.dataDir, { recursive: true, force: true });
  });

  it('loses and duplicates nothing after a SIGKILL and a restart (counts and chunk hashes)', async () => {
    const corpus = generateCorpus(DOCUMENTS, 7);
    // Queue through the gateway with no worker anywhere, then let `gantry worker` processes drain it.
    const gantry = await startRagProcess(backend, 'serve', {}, ragConfig({ inProcessWorker: false }));
    processes.push(gantry);
    await api(gantry, 'POST', '/v1/collections', { name: 'crash' });
    await upload(
      gantry,
      'crash',
      corpus.map(({ name, content }) => ({ name, content })),
    );
    // The embedded database is one process's at a time.
    expect(await gantry.stop()).toBe(0);

    const chunker = createChunker({ chunkSize: 96, chunkOverlap: 16 });
    const expected = new Map<string, string>();
    let expectedChunks = 0;
    for (const document of corpus) {
      const chunks = await chunker(document.content, 'text/markdown');
      expected.set(document.name, digest(chunks));
      expectedChunks += chunks.length;
    }

    const first = await startRagProcess(backend, 'worker');
    processes.push(first);
    await waitFor(
      async () => (await metricValue(first.url, 'gantry_rag_chunks_ingested_total')) >= expectedChunks * 0.1,
      120_000,
      'the first worker to get going',
    );
    const atKill = await metricValue(first.url, 'gantry_rag_chunks_ingested_total');
    first.child.kill('SIGKILL');
    console.log(`[rag tests] ${kind}: worker killed after ${atKill} of ${expectedChunks} chunks`);
    expect(await first.exited).toBe('SIGKILL');

    const second = await startRagProcess(backend, 'worker');
    processes.push(second);
    const inQueue = async () =>
      (await metricValue(second.url, 'gantry_rag_queue_depth', '{state="queued"}')) +
      (await metricValue(second.url, 'gantry_rag_queue_depth', '{state="running"}'));
    // The killed worker's leases (2 s) expire and its jobs run again.
    await waitFor(async () => (await inQueue()) === 0, 240_000, 'the queue to drain');
    const resumed = (await metricValue(second.url, 'gantry_rag_chunks_ingested_total')) || 0;
    console.log(`[rag tests] ${kind}: the restarted worker stored ${resumed} chunks`);
    if (resumed === 0) console.log(second.output().slice(-3000));
    expect(resumed).toBeGreaterThan(0);
    expect(resumed).toBeLessThan(expectedChunks);
    expect(await second.stop()).toBe(0);

    const handle = await openDatabase(
      { url: backend.databaseUrl, dataDir: backend.dataDir },
      pino({ level: 'silent' }),
    );
    try {
      const documents = await sql<{ name: string; status: string; chunk_count: number }>`
        select name, status, chunk_count from rag_documents`.execute(handle.db);
      expect(documents.rows).toHaveLength(DOCUMENTS);
      expect(documents.rows.filter((row) => row.status !== 'ready')).toEqual([]);
      const jobs = await sql<{ count: string }>`select count(*) as count from rag_jobs`.execute(handle.db);
      expect(Number(jobs.rows[0]!.count)).toBe(0);
      const chunks = await sql<{ name: string; content: string; start_offset: number; end_offset: number }>`
        select d.name, c.content, c.start_offset, c.end_offset
        from rag_chunks c join rag_documents d on d.id = c.document_id
        order by d.name, c.ordinal`.execute(handle.db);
      expect(chunks.rows).toHaveLength(expectedChunks);
      const byDocument = new Map<string, Array<{ text: string; start: number; end: number }>>();
      for (const row of chunks.rows) {
        const list = byDocument.get(row.name) ?? [];
        list.push({ text: row.content, start: Number(row.start_offset), end: Number(row.end_offset) });
        byDocument.set(row.name, list);
      }
      const mismatched = [...expected].filter(([name, hash]) => digest(byDocument.get(name) ?? []) !== hash);
      expect(mismatched).toEqual([]);
      for (const row of documents.rows)
        expect(Number(row.chunk_count)).toBe(byDocument.get(row.name)?.length);
    } finally {
      await handle.close();
    }
  }, 600_000);
});
