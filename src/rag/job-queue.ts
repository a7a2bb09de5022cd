import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Tables } from '../storage/tables.js';
import type { RagDatabase, RagTables } from './rag-tables.js';

/** A job claimed by this worker; `leaseToken` fences every later write to it. */
export interface ClaimedJob {
  readonly id: string;
  readonly documentId: string;
  readonly contentHash: string;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly leaseToken: string;
}

export interface QueueSettings {
  readonly leaseMs: number;
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export type RagTransaction = Transaction<Tables & RagTables>;

/** Queues ingestion of a document, inside the caller's transaction (the document and its job commit together). */
export async function enqueueJob(
  transaction: RagTransaction,
  documentId: string,
  contentHash: string,
  maxAttempts: number,
): Promise<void> {
  await transaction
    .insertInto('rag_jobs')
    .values({
      document_id: documentId,
      content_hash: contentHash,
      status: 'queued',
      max_attempts: maxAttempts,
      run_at: sql<Date>`now()` as unknown as Date,
      lease_token: null,
      leased_until: null,
      last_error: null,
      created_at: sql<Date>`now()` as unknown as Date,
      updated_at: sql<Date>`now()` as unknown as Date,
    })
    .execute();
}

/**
 * A Postgres-backed job queue. Claiming uses `FOR UPDATE SKIP LOCKED`, so concurrent workers never
 * take the same row; a claim is a lease that expires unless renewed, so the jobs of a worker that
 * died (SIGKILL, OOM, lost node) return to the queue. Attempts are counted at claim time: a job
 * that kills its worker every time still ends up failed instead of looping forever.
 */
export function createJobQueue(db: RagDatabase, settings: QueueSettings) {
  const leaseInterval = sql`(${settings.leaseMs} * interval '1 millisecond')`;

  return {
    async claim(limit: number): Promise<ClaimedJob[]> {
      const token = randomUUID();
      const result = await sql<{
        id: string;
        document_id: string;
        content_hash: string;
        attempts: number;
        max_attempts: number;
      }>`
        with next as (
          select id from rag_jobs
          where (status = 'queued' and run_at <= now())
             or (status = 'running' and leased_until < now())
          order by run_at, id
          limit ${limit}
          for update skip locked
        )
        update rag_jobs as job
        set status = 'running', attempts = job.attempts + 1, lease_token = ${token},
            leased_until = now() + ${leaseInterval}, updated_at = now()
        from next
        where job.id = next.id
        returning job.id, job.document_id, job.content_hash, job.attempts, job.max_attempts`.execute(db);
      return result.rows.map((row) => ({
        id: String(row.id),
        documentId: row.document_id,
        contentHash: row.content_hash,
        attempts: Number(row.attempts),
        maxAttempts: Number(row.max_attempts),
        leaseToken: token,
      }));
    },

    /** Extends the lease; false when the job is no longer ours (expired and taken, or deleted). */
    async renew(job: ClaimedJob): Promise<boolean> {
      const result = await sql`
        update rag_jobs set leased_until = now() + ${leaseInterval}, updated_at = now()
        where id = ${job.id} and lease_token = ${job.leaseToken} and status = 'running'`.execute(db);
      return Number(result.numAffectedRows ?? 0) === 1;
    },

    /**
     * Locks the job row inside `transaction` if this worker still holds it. Completing a job is then
     * `holds` + the work's writes + `remove`, all in one transaction: a crash at any point leaves
     * either everything or nothing, and a worker whose lease was taken over writes nothing.
     */
    async holds(transaction: RagTransaction, job: ClaimedJob): Promise<boolean> {
      const row = await transaction
        .selectFrom('rag_jobs')
        .select('id')
        .where('id', '=', job.id)
        .where('lease_token', '=', job.leaseToken)
        .where('status', '=', 'running')
        .forUpdate()
        .executeTakeFirst();
      return row !== undefined;
    },

    async remove(transaction: RagTransaction, job: ClaimedJob): Promise<void> {
      await transaction.deleteFrom('rag_jobs').where('id', '=', job.id).execute();
    },

    /**
     * Records a failed attempt: back to the queue after an exponential backoff with jitter, or
     * failed for good once attempts are spent. Returns whether the failure was final.
     */
    async fail(job: ClaimedJob, message: string, options: { final?: boolean } = {}): Promise<boolean> {
      const final = options.final === true || job.attempts >= job.maxAttempts;
      const delayMs = final ? 0 : backoffMs(job.attempts, settings);
      const result = await sql`
        update rag_jobs
        set status = ${final ? 'failed' : 'queued'}, last_error = ${message.slice(0, 2000)},
            run_at = now() + (${delayMs} * interval '1 millisecond'),
            lease_token = null, leased_until = null, updated_at = now()
        where id = ${job.id} and lease_token = ${job.leaseToken}`.execute(db);
      return final && Number(result.numAffectedRows ?? 0) === 1;
    },

    /** Hands a job back untouched (graceful shutdown): the interrupted attempt does not count. */
    async release(job: ClaimedJob): Promise<void> {
      await sql`
        update rag_jobs
        set status = 'queued', attempts = greatest(attempts - 1, 0), run_at = now(),
            lease_token = null, leased_until = null, updated_at = now()
        where id = ${job.id} and lease_token = ${job.leaseToken}`.execute(db);
    },

    /** Jobs by state, for the queue-depth gauge and autoscaling. */
    async depth(): Promise<{ queued: number; running: number; failed: number }> {
      const rows = await db
        .selectFrom('rag_jobs')
        .select(['status', db.fn.countAll<string>().as('count')])
        .groupBy('status')
        .execute();
      const counts = { queued: 0, running: 0, failed: 0 };
      for (const row of rows) counts[row.status] = Number(row.count);
      return counts;
    },
  };
}

export type JobQueue = ReturnType<typeof createJobQueue>;

/** Half fixed, half random below an exponentially growing ceiling: retries of many jobs spread out. */
export function backoffMs(attempt: number, settings: Pick<QueueSettings, 'backoffBaseMs' | 'backoffMaxMs'>) {
  const ceiling = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
