import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/load.js';
import { GatewayError } from '../errors/gateway-error.js';
import { createRouter, type Router } from '../routing/router.js';
import type { ReadinessCheck } from '../server/readiness-check.js';
import type { Database } from '../storage/tables.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { createChunker } from './chunk-text.js';
import { type CollectionStore, createCollectionStore } from './collection-store.js';
import { embedTexts } from './embed-texts.js';
import type { IngestDependencies } from './ingest-document.js';
import { createJobQueue, type JobQueue } from './job-queue.js';
import { registerRagChat } from './rag-chat.js';
import { createRagMetrics } from './rag-metrics.js';
import { registerRagRoutes } from './rag-routes.js';
import type { RagDatabase } from './rag-tables.js';
import { type RagWorker, startRagWorker } from './rag-worker.js';
import { ensureVectorStore, type VectorStoreInfo } from './vector-store.js';

export interface RagServices {
  /** Routes (/v1/collections…) and the chat preHandler. */
  readonly plugin: (app: FastifyInstance) => Promise<void>;
  readonly readinessCheck: ReadinessCheck;
  /** Prepares the vector store on a migrated database; starts the worker when asked. */
  start(db: Database, options: { worker: boolean }): Promise<void>;
  readonly queue: () => JobQueue;
  /** Stops the worker (jobs in hand finish or go back) and the embedding router. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Whether `serve` runs the ingestion worker itself: by default only on the embedded database. */
export function runsInProcessWorker(config: Config): boolean {
  const setting = config.rag.worker.in_process;
  return setting === 'auto' ? !config.database.url : setting;
}

/**
 * RAG as a set of services over the state database: collections API, search, chat augmentation,
 * the job queue and (optionally) the ingestion worker. Nothing touches the database until start().
 */
export function createRag(config: Config, options: { logger: Logger; metrics: Metrics }): RagServices {
  const { logger } = options;
  const settings = config.rag;
  let db: RagDatabase | undefined;
  let queue: JobQueue | undefined;
  let store: CollectionStore | undefined;
  let info: VectorStoreInfo | undefined;
  let worker: RagWorker | undefined;
  // Its own router: the worker embeds outside any request, with the configuration it started with.
  let router: Router | undefined;
  const metrics = createRagMetrics(options.metrics.registry, async () => queue?.depth());

  const notStarted = () =>
    new GatewayError('service_unavailable', 'The vector store is starting; retry shortly.', {
      retryAfterSeconds: 1,
    });
  const currentStore = () => {
    if (!store) throw notStarted();
    return store;
  };
  const embeddingModel = settings.embedding_model;

  return {
    async plugin(app) {
      await registerRagRoutes(app, { store: currentStore, embeddingModel, metrics });
      registerRagChat(app, { store: currentStore, embeddingModel, metrics });
    },
    readinessCheck: {
      name: 'vector_store',
      async check() {
        if (!db || !info) throw new Error('not started');
        await db.selectFrom('rag_chunks').select('id').limit(1).execute();
      },
    },
    queue() {
      if (!queue) throw notStarted();
      return queue;
    },
    async start(database, startOptions) {
      if (info) return;
      // The same connection pool, seen with the RAG tables.
      db = database as unknown as RagDatabase;
      router ??= createRouter(config, { metrics: options.metrics, logger });
      const embedder = router;
      info = await ensureVectorStore(db, {
        dimensions: settings.dimensions,
        logger,
        probe: async () => {
          const { vectors } = await embedTexts(embedder, embeddingModel, ['dimension probe'], {
            batchSize: 1,
            signal: AbortSignal.timeout(60_000),
          });
          return vectors[0]!.length;
        },
      });
      const current = info;
      queue = createJobQueue(db, {
        leaseMs: settings.worker.lease,
        maxAttempts: settings.worker.max_attempts,
        backoffBaseMs: settings.worker.backoff_base,
        backoffMaxMs: settings.worker.backoff_max,
      });
      store = createCollectionStore(db, {
        maxAttempts: settings.worker.max_attempts,
        pgvector: () => current.version,
      });
      if (!startOptions.worker) return;
      const dependencies: IngestDependencies = {
        db,
        queue,
        chunker: createChunker({ chunkSize: settings.chunk_size, chunkOverlap: settings.chunk_overlap }),
        router: embedder,
        embeddingModel,
        embeddingBatch: settings.embedding_batch,
        dimensions: current.dimensions,
        metrics,
      };
      worker = startRagWorker(
        dependencies,
        {
          concurrency: settings.worker.concurrency,
          pollIntervalMs: settings.worker.poll_interval,
          leaseMs: settings.worker.lease,
        },
        logger.child({ component: 'rag-worker' }),
      );
      logger.info({ concurrency: settings.worker.concurrency }, 'ingestion worker started');
    },
    async close(closeOptions = {}) {
      await worker?.stop(closeOptions);
      worker = undefined;
      await router?.close();
    },
  };
}
