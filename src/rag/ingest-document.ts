import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Router } from '../routing/router.js';
import type { Chunker } from './chunk-text.js';
import { embedTexts } from './embed-texts.js';
import type { ClaimedJob, JobQueue } from './job-queue.js';
import type { RagMetrics } from './rag-metrics.js';
import type { RagDatabase } from './rag-tables.js';
import { toVectorLiteral } from './vector-store.js';

export interface IngestDependencies {
  readonly db: RagDatabase;
  readonly queue: JobQueue;
  readonly chunker: Chunker;
  readonly router: Pick<Router, 'embed'>;
  readonly embeddingModel: string;
  readonly embeddingBatch: number;
  readonly dimensions: number;
  readonly metrics: RagMetrics;
}

/** Rows per INSERT: keeps the statement's parameter count far below PostgreSQL's 65,535. */
const INSERT_BATCH = 500;

/**
 * Ingests the document of one claimed job: chunk, embed, then in ONE transaction replace the
 * document's chunks, mark it ready and delete the job — only while this worker still holds the job.
 * Returns 'done', or 'lost' when the lease was taken over or the document changed or went away.
 */
export async function ingestDocument(
  dependencies: IngestDependencies,
  job: ClaimedJob,
  signal: AbortSignal,
): Promise<'done' | 'lost'> {
  const { db, queue } = dependencies;
  const document = await db
    .selectFrom('rag_documents')
    .select(['id', 'collection_id', 'content', 'content_type', 'content_hash', 'metadata'])
    .where('id', '=', job.documentId)
    .executeTakeFirst();
  if (!document || document.content_hash !== job.contentHash) {
    // Deleted (the job went with it) or replaced by newer content (which has a job of its own).
    await db.transaction().execute(async (transaction) => {
      if (await queue.holds(transaction, job)) await queue.remove(transaction, job);
    });
    return 'lost';
  }
  await db
    .updateTable('rag_documents')
    .set({ status: 'processing', updated_at: sql<Date>`now()` as unknown as Date })
    .where('id', '=', document.id)
    .where('status', '=', 'queued')
    .execute();
  // The embedded database and the mock embedder answer without real I/O: without these yields a
  // busy worker would starve the process's HTTP server (probes, metrics, the gateway itself).
  await yieldToEventLoop();
  const chunks = await dependencies.chunker(document.content, document.content_type);
  await yieldToEventLoop();
  const { vectors, tokens } = await embedTexts(
    dependencies.router,
    dependencies.embeddingModel,
    chunks.map((chunk) => chunk.text),
    { batchSize: dependencies.embeddingBatch, signal, requestId: `rag_job_${job.id}_${job.attempts}` },
  );
  dependencies.metrics.embeddingTokens.inc({ model: dependencies.embeddingModel, purpose: 'ingest' }, tokens);
  for (const vector of vectors) {
    if (vector.length !== dependencies.dimensions) {
      throw new Error(
        `embedding model ${dependencies.embeddingModel} returned ${vector.length} dimensions; ` +
          `the vector store holds ${dependencies.dimensions} (rag.dimensions)`,
      );
    }
  }
  signal.throwIfAborted();
  await yieldToEventLoop();
  const metadata = JSON.stringify(document.metadata ?? {});
  const outcome = await db.transaction().execute(async (transaction) => {
    if (!(await queue.holds(transaction, job))) return 'lost' as const;
    await transaction.deleteFrom('rag_chunks').where('document_id', '=', document.id).execute();
    for (let start = 0; start < chunks.length; start += INSERT_BATCH) {
      const rows = chunks.slice(start, start + INSERT_BATCH).map((chunk, offset) => ({
        document_id: document.id,
        collection_id: document.collection_id,
        ordinal: start + offset,
        content: chunk.text,
        start_offset: chunk.start,
        end_offset: chunk.end,
        token_count: chunk.tokens,
        metadata,
        embedding: sql<string>`${toVectorLiteral(vectors[start + offset]!)}::vector`,
      }));
      await transaction.insertInto('rag_chunks').values(rows).execute();
    }
    const updated = await transaction
      .updateTable('rag_documents')
      .set({
        status: 'ready',
        error: null,
        chunk_count: chunks.length,
        token_count: chunks.reduce((sum, chunk) => sum + chunk.tokens, 0),
        updated_at: sql<Date>`now()` as unknown as Date,
      })
      .where('id', '=', document.id)
      .where('content_hash', '=', job.contentHash)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new Error('document changed during ingestion');
    await queue.remove(transaction, job);
    return 'done' as const;
  });
  if (outcome === 'done') dependencies.metrics.chunksIngested.inc(chunks.length);
  return outcome;
}
