import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** RAG metrics on the process's registry. The queue depth is read from the database at scrape time. */
export function createRagMetrics(
  registry: Registry,
  depth: () => Promise<{ queued: number; running: number; failed: number } | undefined>,
) {
  const registers = [registry];
  return {
    queueDepth: new Gauge({
      name: 'gantry_rag_queue_depth',
      help: 'Ingestion jobs in the queue, by state (queued, running, failed).',
      labelNames: ['state'] as const,
      registers,
      // Every process reads the same table: a cluster primary must not add the workers' values up.
      aggregator: 'max',
      async collect() {
        // A busy database (the embedded one serves queries one at a time) must not stall the scrape:
        // past a second the previous reading is reported and the query finishes in the background.
        const reading = depth()
          .then((counts) => {
            if (counts) for (const [state, value] of Object.entries(counts)) this.set({ state }, value);
          })
          .catch(() => {});
        await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      },
    }),
    jobDuration: new Histogram({
      name: 'gantry_rag_job_duration_seconds',
      help: 'Time to ingest one document (chunk, embed, store), by outcome.',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    jobFailures: new Counter({
      name: 'gantry_rag_job_failures_total',
      help: 'Failed ingestion attempts; final="true" when the job gave up.',
      labelNames: ['final'] as const,
      registers,
    }),
    embeddingTokens: new Counter({
      name: 'gantry_rag_embedding_tokens_total',
      help: 'Tokens sent for embedding, by embedding alias and purpose (ingest, query).',
      labelNames: ['model', 'purpose'] as const,
      registers,
    }),
    chunksIngested: new Counter({
      name: 'gantry_rag_chunks_ingested_total',
      help: 'Chunks stored in the vector store.',
      registers,
    }),
  };
}

export type RagMetrics = ReturnType<typeof createRagMetrics>;
