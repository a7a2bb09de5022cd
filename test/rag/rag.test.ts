import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GantryProcess } from '../helpers/gantry-process.js';
import { corpusQueries, generateCorpus } from './corpus.js';
import { type PgvectorServer, ragVariants, startPgvector } from './pgvector-server.js';
import { api, type Backend, MASTER_KEY, startRagProcess, upload, waitForIngestion } from './rag-gantry.js';

const CORPUS_SIZE = 500;
const QUERY_COUNT = 25;

describe.each(ragVariants())('RAG on %s', (kind) => {
  let server: PgvectorServer | undefined;
  let backend: Backend;
  let gantry: GantryProcess;
  let worker: GantryProcess | undefined;
  const corpus = generateCorpus(CORPUS_SIZE);

  beforeAll(async () => {
    server = kind === 'pgvector' ? await startPgvector() : undefined;
    backend = { kind, databaseUrl: server?.url, dataDir: mkdtempSync(join(tmpdir(), 'gantry-rag-')) };
    gantry = await startRagProcess(backend, 'serve');
    // On PostgreSQL the gateway does not ingest (rag.worker.in_process: auto): a worker process does.
    if (kind === 'pgvector') worker = await startRagProcess(backend, 'worker');
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await gantry?.stop();
    await server?.close();
    if (backend) rmSync(backend.dataDir, { recursive: true, force: true });
  });

  it(`ingests ${CORPUS_SIZE} Markdown documents and finds the expected one in the top 5 for ${QUERY_COUNT} queries`, async () => {
    const created = await api(gantry, 'POST', '/v1/collections', { name: 'corpus' });
    expect(created.status).toBe(201);
    const results = await upload(
      gantry,
      'corpus',
      corpus.map(({ name, content, topic }) => ({ name, content, metadata: { topic } })),
    );
    expect(results.filter((result) => !result.deduplicated)).toHaveLength(CORPUS_SIZE);
    const counts = await waitForIngestion(gantry, 'corpus');
    expect(counts).toMatchObject({ total: CORPUS_SIZE, ready: CORPUS_SIZE, failed: 0 });

    let hits = 0;
    const misses: string[] = [];
    for (const { query, expected } of corpusQueries(corpus, QUERY_COUNT)) {
      const response = await api(gantry, 'POST', '/v1/collections/corpus/search', { query, top_k: 5 });
      expect(response.status).toBe(200);
      const names = response.body.data.map((hit: { document_name: string }) => hit.document_name);
      if (names.includes(expected)) hits++;
      else misses.push(`${query} -> expected ${expected}, got ${names.join(', ')}`);
    }
    const recall = hits / QUERY_COUNT;
    console.log(`[rag tests] ${kind}: recall@5 = ${recall.toFixed(3)} (${hits}/${QUERY_COUNT} queries)`);
    expect(misses).toEqual([]);
  }, 300_000);

  it('re-ingesting the same content adds nothing (content hash)', async () => {
    const again = await upload(
      gantry,
      'corpus',
      corpus.slice(0, 20).map(({ name, content }) => ({ name, content })),
    );
    expect(again.every((result) => result.deduplicated)).toBe(true);
    const counts = await waitForIngestion(gantry, 'corpus');
    expect(counts.total).toBe(CORPUS_SIZE);
  });

  it('answers with scores and source spans into the stored text, and filters by metadata', async () => {
    const document = corpus[7]!;
    const response = await api(gantry, 'POST', '/v1/collections/corpus/search', {
      query: document.uniqueWords.join(' '),
      top_k: 3,
      filter: { metadata: { topic: document.topic } },
    });
    expect(response.status).toBe(200);
    const [best, ...rest] = response.body.data;
    expect(best.document_name).toBe(document.name);
    expect(best.score).toBeGreaterThan(0);
    for (const hit of rest) expect(hit.score).toBeLessThanOrEqual(best.score);
    for (const hit of response.body.data) expect(hit.metadata.topic).toBe(document.topic);
    const stored = await api(
      gantry,
      'GET',
      `/v1/collections/corpus/documents/${best.document_id}?include=content`,
    );
    expect(stored.body.content.slice(best.start_offset, best.end_offset)).toBe(best.text);
    expect(stored.body.chunk_count).toBeGreaterThan(1);
  });

  it('scopes collections to the calling key', async () => {
    const keys = await Promise.all(
      ['rag-a', 'rag-b'].map(
        async (name) => (await api(gantry, 'POST', '/admin/keys', { name })).body.key as string,
      ),
    );
    const [keyA, keyB] = keys as [string, string];
    const created = await api(gantry, 'POST', '/v1/collections', { name: 'private' }, keyA);
    expect(created.status).toBe(201);
    await upload(
      gantry,
      'private',
      [{ name: 'secret.md', content: '# Secret\n\nThe vault code is quillopine.' }],
      keyA,
    );
    expect((await api(gantry, 'GET', `/v1/collections/${created.body.id}`, undefined, keyB)).status).toBe(
      404,
    );
    expect(
      (await api(gantry, 'POST', '/v1/collections/private/search', { query: 'vault' }, keyB)).status,
    ).toBe(404);
    const listB = await api(gantry, 'GET', '/v1/collections', undefined, keyB);
    expect(listB.body.data).toEqual([]);
    // The same name is a different collection for another key.
    expect((await api(gantry, 'POST', '/v1/collections', { name: 'private' }, keyB)).body.id).not.toBe(
      created.body.id,
    );
    expect((await api(gantry, 'DELETE', '/v1/collections/private', undefined, keyB)).status).toBe(200);
    expect((await api(gantry, 'GET', '/v1/collections/private', undefined, keyA)).status).toBe(200);
  });

  it('injects retrieved chunks into chat and returns the sources used (openai SDK, stream and not)', async () => {
    await api(gantry, 'POST', '/v1/collections', { name: 'handbook' });
    await upload(gantry, 'handbook', [
      {
        name: 'leave.md',
        content: '# Leave\n\nEmployees get thirty vacation days; carry over ends in March.',
      },
      { name: 'laptops.md', content: '# Laptops\n\nLaptops are replaced every three years by the IT desk.' },
    ]);
    await waitForIngestion(gantry, 'handbook');
    const client = new OpenAI({ baseURL: `${gantry.url}/v1`, apiKey: MASTER_KEY });
    const completion = (await client.chat.completions.create({
      model: 'handbook-chat',
      messages: [{ role: 'user', content: 'How many vacation days do employees get?' }],
    })) as OpenAI.ChatCompletion & {
      gantry_sources?: Array<{ index: number; document_name: string; text: string }>;
    };
    expect(completion.gantry_sources?.[0]).toMatchObject({ index: 1, document_name: 'leave.md' });
    // The mock's prompt token count shows the sources went upstream.
    const plain = await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: 'How many vacation days do employees get?' }],
    });
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens + 10);
    expect((plain as { gantry_sources?: unknown }).gantry_sources).toBeUndefined();

    const stream = await client.chat.completions.create({
      model: 'mock',
      stream: true,
      messages: [{ role: 'user', content: 'When are laptops replaced?' }],
      // Per-request extension: any alias, any collection of the caller.
      ...({ gantry_rag: { collection: 'handbook', top_k: 1 } } as object),
    });
    const chunks: Array<OpenAI.ChatCompletionChunk & { gantry_sources?: Array<{ document_name: string }> }> =
      [];
    for await (const chunk of stream) chunks.push(chunk);
    const trailer = chunks.at(-1)!;
    expect(trailer.choices).toEqual([]);
    expect(trailer.gantry_sources?.map((source) => source.document_name)).toEqual(['laptops.md']);
    expect(chunks.slice(0, -1).some((chunk) => chunk.choices[0]?.delta?.content)).toBe(true);
  });

  it('answers 404 for unknown collections and 415 for unsupported document types', async () => {
    expect((await api(gantry, 'GET', '/v1/collections/col_nothing')).status).toBe(404);
    const pdf = await api(gantry, 'POST', '/v1/collections/corpus/documents', {
      content: '%PDF-1.7',
      content_type: 'application/pdf',
    });
    expect(pdf.status).toBe(415);
    const html = await fetch(`${gantry.url}/v1/collections/corpus/documents?name=page.html`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'text/html' },
      body: '<html><body><h1>Kilns</h1><p>Glaze fires at cone six.</p><script>alert(1)</script></body></html>',
    });
    expect(html.status).toBe(202);
    const document = (await html.json()) as { id: string; content_type: string };
    expect(document.content_type).toBe('text/html');
    const stored = await api(
      gantry,
      'GET',
      `/v1/collections/corpus/documents/${document.id}?include=content`,
    );
    expect(stored.body.content).toContain('Glaze fires at cone six.');
    expect(stored.body.content).not.toContain('<');
    expect(stored.body.content).not.toContain('alert');
  });
});
