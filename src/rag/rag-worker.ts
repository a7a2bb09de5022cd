import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Logger } from '../telemetry/logger.js';
import { type IngestDependencies, ingestDocument } from './ingest-document.js';
import type { ClaimedJob } from './job-queue.js';

export interface WorkerSettings {
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly leaseMs: number;
}

export interface RagWorker {
  /** Resolves once the loop has stopped and the jobs in hand are finished (or handed back). */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Jobs finished since start (for logs and tests). */
  readonly processed: () => number;
}

/**
 * The ingestion loop: claims up to `concurrency` jobs, ingests each with its lease renewed in the
 * background, and polls when the queue is empty. Stopping lets jobs in hand finish; the ones still
 * running at the deadline are aborted and, since nothing was committed, simply run again elsewhere.
 */
export function startRagWorker(
  dependencies: IngestDependencies,
  settings: WorkerSettings,
  logger: Logger,
): RagWorker {
  const { queue, metrics } = dependencies;
  const stopping = new AbortController();
  const abortJobs = new AbortController();
  const running = new Set<Promise<void>>();
  let processed = 0;

  async function run(job: ClaimedJob) {
    const started = performance.now();
    const lost = new AbortController();
    const signal = AbortSignal.any([lost.signal, abortJobs.signal]);
    const renewal = setInterval(
      () =>
        void queue.renew(job).then(
          (held) => {
            if (!held) lost.abort(new Error('lease lost'));
          },
          (error: unknown) => logger.warn({ err: error, job: job.id }, 'renewing a job lease failed'),
        ),
      Math.max(100, Math.floor(settings.leaseMs / 3)),
    );
    try {
      if (job.attempts > job.maxAttempts) {
        // Its previous workers died holding it, every time: do not let it take down another one.
        await queue.fail(job, `gave up after ${job.maxAttempts} attempts (workers stopped mid-job)`, {
          final: true,
        });
        await markDocumentFailed(dependencies, job, 'ingestion was interrupted too many times');
        metrics.jobFailures.inc({ final: 'true' });
        return;
      }
      const outcome = await ingestDocument(dependencies, job, signal);
      processed++;
      metrics.jobDuration.observe({ outcome }, (performance.now() - started) / 1000);
    } catch (error) {
      metrics.jobDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      if (abortJobs.signal.aborted) {
        logger.warn({ job: job.id }, 'job interrupted by shutdown; it returns to the queue');
        await queue.release(job).catch(() => {}); // else its lease expires and it returns anyway
        return;
      }
      const message = (error as Error).message ?? String(error);
      const final = await queue.fail(job, message).catch((failError: unknown) => {
        logger.error({ err: failError, job: job.id }, 'recording a job failure failed');
        return false;
      });
      metrics.jobFailures.inc({ final: String(final) });
      if (final) await markDocumentFailed(dependencies, job, message).catch(() => {});
      logger.warn({ err: message, job: job.id, attempt: job.attempts, final }, 'ingestion job failed');
    } finally {
      clearInterval(renewal);
    }
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      const free = settings.concurrency - running.size;
      let claimed: ClaimedJob[] = [];
      if (free > 0) {
        try {
          claimed = await queue.claim(free);
        } catch (error) {
          logger.warn({ err: error }, 'claiming ingestion jobs failed; retrying');
        }
      }
      for (const job of claimed) {
        const task = run(job).finally(() => running.delete(task));
        running.add(task);
      }
      if (claimed.length > 0) await yieldToEventLoop();
      if (claimed.length === 0 || running.size >= settings.concurrency) {
        // Wake up when a job finishes (a slot is free) or the poll interval passes.
        await Promise.race([
          sleep(settings.pollIntervalMs, undefined, { signal: stopping.signal }).catch(() => {}),
          ...(running.size >= settings.concurrency ? running : []),
        ]);
      }
    }
  })();

  return {
    processed: () => processed,
    async stop(options = {}) {
      stopping.abort();
      await loop;
      const deadline = options.timeoutMs ?? 30_000;
      const timer = setTimeout(() => abortJobs.abort(new Error('worker stopping')), deadline);
      await Promise.allSettled([...running]);
      clearTimeout(timer);
    },
  };
}

async function markDocumentFailed(dependencies: IngestDependencies, job: ClaimedJob, message: string) {
  await dependencies.db
    .updateTable('rag_documents')
    .set({ status: 'failed', error: message.slice(0, 2000), updated_at: sql<Date>`now()` as unknown as Date })
    .where('id', '=', job.documentId)
    .where('content_hash', '=', job.contentHash)
    .execute();
}
