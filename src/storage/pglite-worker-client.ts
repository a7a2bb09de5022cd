import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { applyWasmTierUp, wasmTierUpFlags } from './wasm-tier-up-flags.js';

export type PgliteRequest =
  | { id: number; kind: 'exec'; sql: string }
  | { id: number; kind: 'query'; sql: string; params: unknown[] }
  | { id: number; kind: 'close' }
  | { id: number; kind: 'heap' };

/** What the thread is started with. */
export interface PgliteThreadData {
  readonly directory: string;
  /** Postgres `shared_buffers`, e.g. "16MB". */
  readonly sharedBuffers: string;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The database thread's V8 heap, in bytes (v8.getHeapStatistics() there). */
export interface ThreadHeap {
  readonly used: number;
  readonly total: number;
}

export type PgliteResponse =
  | { id: number; rows: unknown[]; affectedRows?: number | undefined }
  | { id: number; heap: ThreadHeap }
  | { id: number; error: Record<string, unknown> };

/** What the Kysely dialect needs of PGlite: one session, text and parameterised queries. */
export interface EmbeddedDatabase {
  exec(sql: string): Promise<{ rows: unknown[]; affectedRows?: number | undefined }>;
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[]; affectedRows?: number | undefined }>;
  close(): Promise<void>;
  readonly closed: boolean;
}

/** The embedded database as its own thread runs it: the database, and that thread's memory. */
export interface EmbeddedDatabaseThread extends EmbeddedDatabase {
  /**
   * The thread's V8 heap: an isolate of its own, which the process's `nodejs_heap_*` metrics do not
   * include. Answered between two queries, so it waits for the one running.
   */
  heap(): Promise<ThreadHeap>;
}

function toError(fields: Record<string, unknown>): Error {
  return Object.assign(new Error(String(fields.message)), fields);
}

/**
 * A compiled module next to this one (the thread's entry, the initdb process's). Run from source
 * (tsx, vitest), threads and child processes cannot load TypeScript, so the compiled copy under dist/
 * is used (npm test builds first).
 */
function compiledEntry(name: string): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL(`./${name}.js`, import.meta.url);
  return new URL(`../../dist/storage/${name}.js`, import.meta.url);
}

/** How the embedded database is opened, besides its directory. */
export interface EmbeddedDatabaseOptions {
  /** Postgres `shared_buffers`, e.g. "16MB". */
  readonly sharedBuffers: string;
  /** V8's optimizing tier for the database's WebAssembly (see wasm-tier-up-flags.ts). */
  readonly wasmTierUp: boolean;
  /**
   * A data directory as initdb makes it, copied for a new one instead of running initdb (the image
   * ships one); not used when it does not exist.
   */
  readonly template?: string | undefined;
}

/**
 * Creates a new data directory, under a staging name renamed into place once complete: a start cut
 * off while creating it (killed, out of memory) leaves no half-made directory that the next start
 * would take for a database. From the template when there is one (a copy, off the event loop: well
 * under a second and no memory to speak of), else in a child process (see pglite-initdb.ts for why not here) on V8's
 * baseline tier, which creates it in less time and half the memory (2.5 s and 620 MB against 4.3 s
 * and 1.1 GB, measured on Node 24).
 */
async function createDataDirectory(directory: string, template: string | undefined): Promise<void> {
  const parent = dirname(directory);
  const prefix = `${basename(directory)}.creating-`;
  for (const stale of readdirSync(parent).filter((name) => name.startsWith(prefix))) {
    rmSync(join(parent, stale), { recursive: true, force: true });
  }
  const staging = join(parent, `${prefix}${process.pid}`);
  if (template !== undefined && existsSync(join(template, 'PG_VERSION'))) {
    await cp(template, staging, { recursive: true });
    renameSync(staging, directory);
    return;
  }
  const child = fork(fileURLToPath(compiledEntry('pglite-initdb')), [staging], {
    execArgv: wasmTierUpFlags(false),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    const detail = stderr.trim().split('\n').at(-1) || `exit ${code ?? signal}`;
    throw new Error(`creating the data directory failed: ${detail}`);
  }
  // Replaces the empty directory the caller made (rename(2) may replace an empty directory).
  renameSync(staging, directory);
}

/** Starts the thread and resolves with it once PGlite has opened `directory`. */
async function startThread(workerData: PgliteThreadData): Promise<Worker> {
  const worker = new Worker(compiledEntry('pglite-thread'), { workerData });
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
  return worker;
}

/**
 * Starts PGlite on its own thread and resolves once it has opened `directory`, creating it first when
 * it holds no database. `options.sharedBuffers` is Postgres's page cache (`shared_buffers`), which
 * PGlite would otherwise size at 128 MB.
 */
export async function openEmbeddedDatabase(
  directory: string,
  options: EmbeddedDatabaseOptions,
): Promise<EmbeddedDatabaseThread> {
  const workerData: PgliteThreadData = { directory, sharedBuffers: options.sharedBuffers };
  if (!existsSync(join(directory, 'PG_VERSION'))) await createDataDirectory(directory, options.template);
  applyWasmTierUp(options.wasmTierUp);
  const worker = await startThread(workerData);
  const pending = new Map<
    number,
    { resolve: (value: PgliteResponse) => void; reject: (error: Error) => void }
  >();
  let nextId = 0;
  let closed = false;

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

  const rows = (response: PgliteResponse) => response as Extract<PgliteResponse, { rows: unknown[] }>;
  return {
    exec: async (sql) => rows(await send({ kind: 'exec', sql })),
    query: async (sql, params) => rows(await send({ kind: 'query', sql, params })),
    heap: async () => ((await send({ kind: 'heap' })) as Extract<PgliteResponse, { heap: ThreadHeap }>).heap,
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
