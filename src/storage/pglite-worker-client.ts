import { Worker } from 'node:worker_threads';

export type PgliteRequest =
  | { id: number; kind: 'exec'; sql: string }
  | { id: number; kind: 'query'; sql: string; params: unknown[] }
  | { id: number; kind: 'close' };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type PgliteResponse =
  | { id: number; rows: unknown[]; affectedRows?: number | undefined }
  | { id: number; error: Record<string, unknown> };

/** What the Kysely dialect needs of PGlite: one session, text and parameterised queries. */
export interface EmbeddedDatabase {
  exec(sql: string): Promise<{ rows: unknown[]; affectedRows?: number | undefined }>;
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[]; affectedRows?: number | undefined }>;
  close(): Promise<void>;
  readonly closed: boolean;
}

function toError(fields: Record<string, unknown>): Error {
  return Object.assign(new Error(String(fields.message)), fields);
}

/**
 * The thread's entry: the compiled module next to this one. Run from source (tsx, vitest), worker
 * threads cannot load TypeScript, so the compiled copy under dist/ is used (npm test builds first).
 */
function threadEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./pglite-thread.js', import.meta.url);
  return new URL('../../dist/storage/pglite-thread.js', import.meta.url);
}

/** Starts PGlite on its own thread and resolves once it has opened `directory`. */
export async function openEmbeddedDatabase(directory: string): Promise<EmbeddedDatabase> {
  const worker = new Worker(threadEntry(), { workerData: { directory } });
  const pending = new Map<
    number,
    { resolve: (value: PgliteResponse) => void; reject: (error: Error) => void }
  >();
  let nextId = 0;
  let closed = false;

  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`the embedded database thread exited with ${code}`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: { ready: boolean; error?: Record<string, unknown> }) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (message.ready) resolve();
      else {
        void worker.terminate();
        reject(toError(message.error ?? { message: 'unknown error' }));
      }
    });
  });
  worker.on('message', (response: PgliteResponse) => {
    const waiter = pending.get(response.id);
    if (!waiter) return;
    pending.delete(response.id);
    waiter.resolve(response);
  });
  worker.on('error', (error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });
  worker.on('exit', (code) => {
    closed = true;
    for (const waiter of pending.values())
      waiter.reject(new Error(`the embedded database thread exited with ${code}`));
    pending.clear();
  });
  // The thread keeps the process alive only while a query is in flight, never on its own.
  worker.unref();

  async function send(request: DistributiveOmit<PgliteRequest, 'id'>) {
    if (closed) throw new Error('the embedded database is closed');
    const id = ++nextId;
    const response = await new Promise<PgliteResponse>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    }).finally(() => {
      if (pending.size === 0) worker.unref();
    });
    if ('error' in response) throw toError(response.error);
    return response;
  }

  return {
    exec: (sql) => send({ kind: 'exec', sql }),
    query: (sql, params) => send({ kind: 'query', sql, params }),
    async close() {
      if (closed) return;
      await send({ kind: 'close' });
      closed = true;
      await worker.terminate();
    },
    get closed() {
      return closed;
    },
  };
}
