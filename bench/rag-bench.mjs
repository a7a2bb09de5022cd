// RAG benchmark (`npm run bench:rag`): ingestion throughput (chunks/s through the real queue,
// worker, chunker, mock embeddings and vector store) and search latency p50/p99 at 100k chunks,
// on embedded PGlite and on PostgreSQL with pgvector (PGVECTOR_URL, else a pgvector/pgvector:pg17
// container when Docker works). Options: --backends=pglite,pgvector --pipeline=10000 --total=100000
// --queries=300. Writes bench/results/rag.json.
//
// The pipeline phase ingests `--pipeline` chunks document by document, as production does. The rest
// up to `--total` is bulk-loaded (same mock embeddings, index rebuilt once) so that search can be
// measured at 100k chunks without waiting for incremental HNSW inserts in WebAssembly for an hour.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../dist/config/load.js';
import { mockEmbedding } from '../dist/providers/mock/mock-text.js';
import { createCollectionStore } from '../dist/rag/collection-store.js';
import { createRag } from '../dist/rag/create-rag.js';
import { toVectorLiteral } from '../dist/rag/vector-store.js';
import { migrate } from '../dist/storage/migrate.js';
import { openDatabase } from '../dist/storage/open-database.js';
import { createMetrics } from '../dist/telemetry/metrics.js';

const argv = process.argv.slice(2);
const option = (name, fallback) =>
  argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const BACKENDS = option('backends', 'pglite,pgvector').split(',');
const PIPELINE_CHUNKS = Number(option('pipeline', '10000'));
const TOTAL_CHUNKS = Number(option('total', '100000'));
const QUERIES = Number(option('queries', '300'));
const CHUNK_TOKENS = 64;
const DIMENSIONS = 256;
const logger = pino({ level: 'silent' });

const WORDS = (
  'magma lava crater yeast dough oven hull keel mast nebula quasar orbit hive queen brood gambit rook ' +
  'moraine firn cadence kiln glaze packet router latency compost mulch aperture shutter strata quartz ' +
  'dosage vaccine ledger equity chord tempo loom warp servo lidar lure reel facade vault rennet curd ' +
  'aileron rudder kerning serif espresso roast canopy timber people often use simple methods when ' +
  'working carefully through problems each day while learning new skills over time because practice'
).split(' ');

function random(seed) {
  let state = seed || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}
const next = random(2024);
const word = () => WORDS[Math.floor(next() * WORDS.length)];
const sentence = () => `${Array.from({ length: 12 }, word).join(' ')}.`;
/** About `chunks` chunks of CHUNK_TOKENS tokens: paragraphs of ~50 tokens. */
const documentText = (index, chunks) =>
  `# Note ${index}\n\n${Array.from({ length: chunks }, () => `${sentence()} ${sentence()}`).join('\n\n')}\n`;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function startPgvector() {
  if (process.env.PGVECTOR_URL) return { url: process.env.PGVECTOR_URL, close: async () => {} };
  const password = randomBytes(8).toString('hex');
  const container = execFileSync(
    'docker',
    [
      'run',
      '-d',
      '--rm',
      '-e',
      `POSTGRES_PASSWORD=${password}`,
      '-p',
      '127.0.0.1::5432',
      'pgvector/pgvector:pg17',
    ],
    { encoding: 'utf8' },
  ).trim();
  const port = execFileSync('docker', ['port', container, '5432/tcp'], { encoding: 'utf8' })
    .trim()
    .split(':')
    .at(-1);
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  for (let ready = 0, tries = 0; ready < 2 && tries < 180; tries++) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('select 1');
      ready++;
    } catch {
      ready = 0;
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { url, close: async () => execFileSync('docker', ['rm', '-f', container], { stdio: 'ignore' }) };
}

async function benchBackend(kind) {
  const server = kind === 'pgvector' ? await startPgvector() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-rag-bench-'));
  const config = loadConfig({
    env: {},
    overrides: {
      'database.url': server?.url,
      'database.data_dir': dataDir,
      'rag.enabled': true,
      'rag.chunk_size': CHUNK_TOKENS,
      'rag.chunk_overlap': 8,
      'rag.dimensions': DIMENSIONS,
      'rag.worker.concurrency': 4,
      'rag.worker.poll_interval': 50,
    },
  });
  // DATABASE_WASM_TIER_UP=true measures the embedded database with V8's optimizing tier (docs/state.md).
  const handle = await openDatabase(
    { url: config.database.url, dataDir, wasmTierUp: config.database.wasm_tier_up },
    logger,
  );
  await migrate(handle.db, logger);
  const rag = createRag(config, { logger, metrics: createMetrics({ collectProcessMetrics: false }) });
  const store = createCollectionStore(handle.db, { maxAttempts: 5, pgvector: () => '0.8.0' });
  const { collection } = await store.create('bench', 'bench', {});

  // Phase 1: the real pipeline. Documents are queued first, then the worker drains the queue.
  const chunksPerDocument = 10;
  const documents = Math.ceil(PIPELINE_CHUNKS / chunksPerDocument);
  for (let start = 0; start < documents; start += 200) {
    const batch = Array.from({ length: Math.min(200, documents - start) }, (_, offset) => ({
      name: `note-${start + offset}.md`,
      type: 'text/markdown',
      content: documentText(start + offset, chunksPerDocument),
      metadata: {},
    }));
    await store.addDocuments('bench', collection.id, batch);
  }
  const started = performance.now();
  await rag.start(handle.db, { worker: true });
  for (;;) {
    const depth = await rag.queue().depth();
    if (depth.queued + depth.running === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const seconds = (performance.now() - started) / 1000;
  await rag.close();
  const count = async () =>
    Number((await sql`select count(*) as count from rag_chunks`.execute(handle.db)).rows[0].count);
  const ingested = await count();
  const throughput = ingested / seconds;
  console.log(
    `${kind}: ingested ${ingested} chunks (${documents} documents) in ${seconds.toFixed(1)} s = ${throughput.toFixed(0)} chunks/s`,
  );

  // Phase 2: bulk-load up to TOTAL_CHUNKS, then rebuild the HNSW index once.
  const loadStarted = performance.now();
  await sql`drop index if exists rag_chunks_embedding`.execute(handle.db);
  const { id: documentId } = (
    await store.addDocuments('bench', collection.id, [
      { name: 'bulk.md', type: 'text/plain', content: 'bulk', metadata: {} },
    ])
  )[0];
  await sql`delete from rag_jobs`.execute(handle.db);
  let ordinal = 0;
  for (let remaining = TOTAL_CHUNKS - ingested; remaining > 0; ) {
    const size = Math.min(500, remaining);
    const rows = Array.from({ length: size }, () => {
      const text = `${sentence()} ${sentence()} ${sentence()} ${sentence()}`;
      return {
        document_id: documentId,
        collection_id: collection.id,
        ordinal: ordinal++,
        content: text,
        start_offset: 0,
        end_offset: text.length,
        token_count: CHUNK_TOKENS,
        metadata: '{}',
        embedding: sql`${toVectorLiteral(mockEmbedding(text, DIMENSIONS))}::vector`,
      };
    });
    await handle.db.insertInto('rag_chunks').values(rows).execute();
    remaining -= size;
  }
  const indexStarted = performance.now();
  const createIndex =
    'create index rag_chunks_embedding on rag_chunks using hnsw (embedding vector_cosine_ops)';
  if (server) {
    // A connection of its own: the gateway's pool stops queries after 10 s, and this takes longer.
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query(createIndex);
    await client.end();
  } else {
    await sql.raw(createIndex).execute(handle.db);
  }
  const indexSeconds = (performance.now() - indexStarted) / 1000;
  const total = await count();
  console.log(
    `${kind}: bulk-loaded to ${total} chunks in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s (HNSW build ${indexSeconds.toFixed(1)} s)`,
  );

  // Phase 3: search latency (query embedding + top-5 HNSW search), sequential.
  const latencies = [];
  for (let index = 0; index < QUERIES + 20; index++) {
    const query = `${word()} ${word()} ${word()} ${word()}`;
    const queryStarted = performance.now();
    const vector = mockEmbedding(query, DIMENSIONS);
    const hits = await store.search('bench', collection.id, { vector, topK: 5 });
    if (hits.length !== 5) throw new Error(`search returned ${hits.length} hits`);
    if (index >= 20) latencies.push(performance.now() - queryStarted); // the first 20 warm up
  }
  latencies.sort((left, right) => left - right);
  const search = { p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99), queries: QUERIES };
  console.log(
    `${kind}: search at ${total} chunks: p50 ${search.p50_ms.toFixed(2)} ms, p99 ${search.p99_ms.toFixed(2)} ms`,
  );
  await handle.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  return {
    backend: kind,
    pipeline: { chunks: ingested, documents, seconds, chunks_per_second: throughput },
    total_chunks: total,
    hnsw_build_seconds: indexSeconds,
    search,
  };
}

const results = [];
for (const kind of BACKENDS) results.push(await benchBackend(kind));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/rag.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), chunk_tokens: CHUNK_TOKENS, dimensions: DIMENSIONS, results }, null, 2)}\n`,
);
